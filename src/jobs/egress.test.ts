import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EgressPolicy, parseCidr, STRICT_EGRESS, type RefusalReason } from './egress.ts';

const strict = new EgressPolicy(STRICT_EGRESS);
const withHttp = new EgressPolicy({ allowHttp: true, allowedHosts: [] });

function reasonOf(policy: EgressPolicy, url: string, addresses?: readonly string[]): RefusalReason | 'allowed' {
  const verdict = policy.judge(url, addresses);
  return verdict.allowed ? 'allowed' : verdict.reason;
}

void describe('egress policy: literal addresses and odd notations (http allowed, so only the address decides)', () => {
  const rows: [url: string, expected: RefusalReason | 'allowed'][] = [
    // IPv4 loopback in every notation the WHATWG parser folds to 127.0.0.1
    ['http://127.0.0.1:8080/', 'loopback'],
    ['http://127.255.255.254/', 'loopback'],
    ['http://0x7f000001/', 'loopback'],
    ['http://2130706433/', 'loopback'],
    ['http://0177.0.0.1/', 'loopback'],
    ['http://127.1/', 'loopback'],
    ['http://0x7f.0.0.1/', 'loopback'],
    ['http://%31%32%37.0.0.1/', 'loopback'],
    ['http://0/', 'unspecified'],
    ['http://0.0.0.0/', 'unspecified'],
    // link-local and the cloud metadata service
    ['http://169.254.169.254/latest/meta-data/', 'link_local'],
    ['http://0xa9fea9fe/', 'link_local'],
    ['http://[fd00:ec2::254]/', 'private'],
    ['http://[fe80::1]/', 'link_local'],
    ['http://[febf::1]/', 'link_local'],
    // private, shared, multicast, reserved
    ['http://10.0.0.1/', 'private'],
    ['http://172.16.0.1/', 'private'],
    ['http://172.31.255.255/', 'private'],
    ['http://192.168.1.1/', 'private'],
    ['http://100.64.0.1/', 'shared_address'],
    ['http://100.127.255.255/', 'shared_address'],
    ['http://198.18.0.1/', 'benchmarking'],
    ['http://198.19.255.255/', 'benchmarking'],
    ['http://224.0.0.1/', 'multicast'],
    ['http://239.255.255.250/', 'multicast'],
    ['http://240.0.0.1/', 'reserved'],
    ['http://255.255.255.255/', 'reserved'],
    ['http://192.0.2.1/', 'reserved'],
    ['http://[fc00::1]/', 'private'],
    ['http://[ff02::1]/', 'multicast'],
    ['http://[2001:db8::1]/', 'reserved'],
    ['http://[::]/', 'unspecified'],
    ['http://[::1]:9090/', 'loopback'],
    ['http://[0:0:0:0:0:0:0:1]/', 'loopback'],
    // IPv6 forms that embed an IPv4 address are judged by it
    ['http://[::ffff:127.0.0.1]/', 'loopback'],
    ['http://[::ffff:7f00:1]/', 'loopback'],
    ['http://[::ffff:169.254.169.254]/', 'link_local'],
    ['http://[::ffff:10.1.2.3]/', 'private'],
    ['http://[::127.0.0.1]/', 'loopback'],
    ['http://[::ffff:0:10.0.0.1]/', 'private'],
    ['http://[64:ff9b::127.0.0.1]/', 'loopback'],
    ['http://[64:ff9b::a9fe:a9fe]/', 'link_local'],
    ['http://[64:ff9b:1::1]/', 'private'],
    ['http://[2002:7f00:1::]/', 'loopback'],
    ['http://[2002:a9fe:a9fe::1]/', 'link_local'],
    ['http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', 'reserved'],
    // public addresses pass, also inside an embedding form
    ['http://93.184.216.34/', 'allowed'],
    ['http://8.8.8.8:53/', 'allowed'],
    ['http://100.128.0.1/', 'allowed'],
    ['http://172.32.0.1/', 'allowed'],
    ['http://[2606:4700::1111]/', 'allowed'],
    ['http://[::ffff:93.184.216.34]/', 'allowed'],
    ['http://[64:ff9b::5db8:d822]/', 'allowed'],
    ['http://[2002:5db8:d822::1]/', 'allowed'],
  ];
  for (const [url, expected] of rows) {
    void it(`${url} -> ${expected}`, () => assert.equal(reasonOf(withHttp, url), expected));
  }

  void it('names the refused address and what it embeds', () => {
    const verdict = withHttp.judge('http://[::ffff:127.0.0.1]/');
    assert.equal(verdict.allowed, false);
    if (!verdict.allowed) {
      assert.equal(verdict.address, '::ffff:7f00:1');
      assert.match(verdict.message, /loopback.*embeds 127\.0\.0\.1/);
    }
  });
});

void describe('egress policy: names, schemes and credentials', () => {
  const rows: [url: string, expected: RefusalReason | 'allowed'][] = [
    ['http://kubernetes.default.svc/api', 'http'], // the scheme is judged first
    ['https://kubernetes.default.svc/api', 'internal_name'],
    ['https://kubernetes.default.svc.cluster.local/api', 'internal_name'],
    ['https://hooks.team.svc.cluster.local./x', 'internal_name'],
    ['https://anything.cluster.local/', 'internal_name'],
    ['https://localhost/', 'internal_name'],
    ['https://LOCALHOST./', 'internal_name'],
    ['https://app.localhost/', 'internal_name'],
    ['https://metadata.google.internal/computeMetadata/v1/', 'internal_name'],
    ['https://metadata/', 'internal_name'],
    ['https://kubernetes/', 'internal_name'],
    ['https://router.home.arpa/', 'internal_name'],
    ['https://example.com/hook', 'allowed'],
    ['https://example.com./hook', 'allowed'],
    ['https://example.com:8443/hook?x=1', 'allowed'],
    ['http://example.com/hook', 'http'],
    ['ftp://example.com/hook', 'scheme'],
    ['file:///etc/passwd', 'scheme'],
    ['gopher://example.com/', 'scheme'],
    ['https://user:pass@example.com/hook', 'credentials'],
    ['https://user@example.com/hook', 'credentials'],
    ['https://:pass@example.com/hook', 'credentials'],
    ['not a url', 'invalid_url'],
    ['https://[::1/', 'invalid_url'],
    ['https://93.184.216.34/', 'allowed'],
    ['https://127.0.0.1/', 'loopback'],
  ];
  for (const [url, expected] of rows) {
    void it(`${url} -> ${expected} (https only)`, () => assert.equal(reasonOf(strict, url), expected));
  }

  void it('allows http only when the pipeline does', () => {
    assert.equal(reasonOf(strict, 'http://example.com/'), 'http');
    assert.equal(reasonOf(withHttp, 'http://example.com/'), 'allowed');
  });

  void it('defaults to https to public addresses only', () => {
    assert.equal(reasonOf(new EgressPolicy(), 'http://example.com/'), 'http');
    assert.equal(reasonOf(new EgressPolicy(), 'https://10.0.0.1/'), 'private');
  });
});

void describe('egress policy: resolved addresses (at delivery)', () => {
  void it('allows a name whose every address is public', () => {
    assert.equal(reasonOf(strict, 'https://example.com/', ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946']), 'allowed');
  });

  const rows: [name: string, addresses: string[], expected: RefusalReason][] = [
    ['a name resolving to loopback (DNS rebinding)', ['127.0.0.1'], 'loopback'],
    ['a name with one internal address among public ones', ['93.184.216.34', '10.0.0.7'], 'private'],
    ['a name resolving to the metadata service', ['169.254.169.254'], 'link_local'],
    ['a name resolving to a mapped loopback', ['::ffff:127.0.0.1'], 'loopback'],
    ['a name resolving to an IPv6 zone-scoped link-local', ['fe80::1%eth0'], 'link_local'],
    ['a name resolving to nothing', [], 'no_address'],
    ['a name resolving to garbage', ['not-an-ip'], 'no_address'],
  ];
  for (const [name, addresses, expected] of rows) {
    void it(`refuses ${name}`, () => assert.equal(reasonOf(strict, 'https://hooks.example.com/', addresses), expected));
  }

  void it('says which name the refused address came from', () => {
    const verdict = strict.judge('https://rebind.example.com/', ['127.0.0.1']);
    assert.equal(verdict.allowed, false);
    if (!verdict.allowed) assert.match(verdict.message, /127\.0\.0\.1 is a loopback address \(resolved from rebind\.example\.com\)\.$/);
  });
});

void describe('egress policy: the allowlist for internal receivers', () => {
  const policy = new EgressPolicy({
    allowHttp: true,
    allowedHosts: ['127.0.0.1', 'hooks.team.svc.cluster.local', '*.corp.internal', '10.20.0.0/16', 'fd12::/16', ' ', 'Receiver.'],
  });

  const rows: [url: string, addresses: string[] | undefined, expected: RefusalReason | 'allowed'][] = [
    ['http://127.0.0.1:8080/hook', undefined, 'allowed'],
    ['http://[::ffff:127.0.0.1]:8080/hook', undefined, 'allowed'],
    ['http://127.0.0.2/', undefined, 'loopback'],
    ['http://hooks.team.svc.cluster.local/x', undefined, 'allowed'],
    ['http://hooks.team.svc.cluster.local/x', ['10.96.0.12'], 'allowed'],
    ['http://other.team.svc.cluster.local/x', undefined, 'internal_name'],
    ['https://a.corp.internal/', ['192.168.0.5'], 'allowed'],
    ['https://corp.internal/', undefined, 'internal_name'],
    ['http://receiver/', undefined, 'allowed'],
    ['http://10.20.3.4/', undefined, 'allowed'],
    ['http://10.21.3.4/', undefined, 'private'],
    ['https://partner.example.com/', ['10.20.9.9'], 'allowed'],
    ['https://partner.example.com/', ['10.20.9.9', '10.30.0.1'], 'private'],
    ['http://[fd12::5]/', undefined, 'allowed'],
    ['http://[fd13::5]/', undefined, 'private'],
    ['http://169.254.169.254/', undefined, 'link_local'],
  ];
  for (const [url, addresses, expected] of rows) {
    void it(`${url}${addresses ? ` at ${addresses.join(',')}` : ''} -> ${expected}`, () => assert.equal(reasonOf(policy, url, addresses), expected));
  }

  void it('does not lift the https rule or the credentials rule', () => {
    const httpsOnly = new EgressPolicy({ allowHttp: false, allowedHosts: ['127.0.0.1'] });
    assert.equal(reasonOf(httpsOnly, 'http://127.0.0.1/'), 'http');
    assert.equal(reasonOf(httpsOnly, 'https://127.0.0.1/'), 'allowed');
    assert.equal(reasonOf(httpsOnly, 'https://u:p@127.0.0.1/'), 'credentials');
  });

  const invalid = ['10.0.0.0/33', '::/129', '10.0.0.0/8/1', '10.0.0.0/x', 'https://example.com', 'a b', '1.2.3.4/'];
  for (const entry of invalid) {
    void it(`refuses the allowlist entry "${entry}"`, () => assert.throws(() => new EgressPolicy({ allowHttp: false, allowedHosts: [entry] })));
  }

  void it('parses CIDRs of both families and single addresses', () => {
    assert.deepEqual(parseCidr('10.0.0.0/8'), { bytes: Uint8Array.from([10, 0, 0, 0]), prefix: 8 });
    assert.equal(parseCidr('::1').prefix, 128);
    assert.equal(parseCidr('[::1]/64').prefix, 64);
  });
});
