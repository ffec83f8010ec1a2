import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ANONYMOUS_OWNER, ApiKeys, authenticate, canAccess, isAdminKeyName, parseKeyLine, presentedKey, principalOf, type Principal } from './auth.ts';
import { ApiError } from './errors.ts';
import { loadApiKeys } from './config.ts';

/** Every printable ASCII character, space to tilde, trimmed of the space (ends are trimmed). */
const PRINTABLE = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)).join('');

const keys = ApiKeys.parse('# team keys\nfinance:s3cret-finance\n\n  plain-key-without-name  \nbad:\n');

void describe('API keys', () => {
  void it('reads named and unnamed keys and skips comments, blanks and empty keys', () => {
    assert.equal(keys.size, 2);
    assert.equal(keys.match('s3cret-finance'), 'finance');
    assert.equal(keys.match('plain-key-without-name'), 'key-4');
  });

  void it('matches no key for a wrong or partial key', () => {
    assert.equal(keys.match('s3cret'), undefined);
    assert.equal(keys.match('finance:s3cret-finance'), undefined);
  });

  // Keys may hold any printable character; `name:` in front is read as a name only when it is one.
  const lineCases: { name: string; line: string; expected: { name: string; key: string } | undefined }[] = [
    { name: 'a plain key is named after its line', line: 'plain-key', expected: { name: 'key-7', key: 'plain-key' } },
    { name: 'name:key names the key', line: 'finance:s3cret', expected: { name: 'finance', key: 's3cret' } },
    { name: 'whitespace around name and key is ignored', line: '  finance  :  s3cret  ', expected: { name: 'finance', key: 's3cret' } },
    { name: 'the generated Secret line default:<base64url> reads as before', line: 'default:3q8V-_x', expected: { name: 'default', key: '3q8V-_x' } },
    { name: 'only the first colon separates: the key keeps the rest', line: 'ci:abc:def', expected: { name: 'ci', key: 'abc:def' } },
    { name: 'a named URL-like key', line: 'hook:http://x/y?z=1', expected: { name: 'hook', key: 'http://x/y?z=1' } },
    { name: 'a named key that starts with #', line: 'ops:#not-a-comment', expected: { name: 'ops', key: '#not-a-comment' } },
    { name: 'names may hold . _ -', line: 'team.ocr_v2-prod:k', expected: { name: 'team.ocr_v2-prod', key: 'k' } },
    { name: 'text before the colon that is no name keeps the line whole', line: 'a+b/c=:d!e', expected: { name: 'key-7', key: 'a+b/c=:d!e' } },
    { name: 'a name with a space is no name', line: 'my team:k', expected: { name: 'key-7', key: 'my team:k' } },
    { name: 'a leading colon keeps the line whole', line: ':abc', expected: { name: 'key-7', key: ':abc' } },
    { name: 'a name may not start with punctuation', line: '-x:k', expected: { name: 'key-7', key: '-x:k' } },
    { name: 'a name of 64 characters is too long', line: `${'n'.repeat(64)}:k`, expected: { name: 'key-7', key: `${'n'.repeat(64)}:k` } },
    { name: 'a name of 63 characters is fine', line: `${'n'.repeat(63)}:k`, expected: { name: 'n'.repeat(63), key: 'k' } },
    { name: 'every printable ASCII character in a named key', line: `all:${PRINTABLE}`, expected: { name: 'all', key: PRINTABLE } },
    { name: 'a name with an empty key is no key', line: 'bad:', expected: undefined },
    { name: 'a comment is no key', line: '# finance:s3cret', expected: undefined },
    { name: 'a blank line is no key', line: '   ', expected: undefined },
  ];
  for (const c of lineCases) {
    void it(`key file line: ${c.name}`, () => assert.deepEqual(parseKeyLine(c.line, 7), c.expected));
  }

  void it('matches keys that contain colons, named or not', () => {
    const file = ApiKeys.parse('ci:abc:def\nx+y:z\n');
    assert.equal(file.match('abc:def'), 'ci');
    assert.equal(file.match('x+y:z'), 'key-2');
    assert.equal(file.match('def'), undefined);
    assert.equal(file.match('z'), undefined);
  });

  const headerCases: { name: string; headers: Record<string, string>; key: string | undefined }[] = [
    { name: 'x-api-key is read', headers: { 'x-api-key': 'abc' }, key: 'abc' },
    { name: 'a Bearer token is read', headers: { authorization: 'Bearer abc' }, key: 'abc' },
    { name: 'bearer is case-insensitive', headers: { authorization: 'bearer abc' }, key: 'abc' },
    { name: 'Basic auth is not a key', headers: { authorization: 'Basic YWJjOmRlZg==' }, key: undefined },
    { name: 'no header is no key', headers: {}, key: undefined },
  ];
  for (const c of headerCases) {
    void it(c.name, () => assert.equal(presentedKey(c.headers), c.key));
  }

  void it('answers API_KEY_MISSING without a key and API_KEY_INVALID with a wrong one', () => {
    assert.throws(
      () => authenticate(keys, {}),
      (e: unknown) => e instanceof ApiError && e.code === 'API_KEY_MISSING',
    );
    assert.throws(
      () => authenticate(keys, { 'x-api-key': 'nope' }),
      (e: unknown) => e instanceof ApiError && e.code === 'API_KEY_INVALID',
    );
    assert.equal(authenticate(keys, { authorization: 'Bearer s3cret-finance' }), 'finance');
  });
});

void describe('deciding whether auth is on', () => {
  void it('refuses to start without a key file unless auth is disabled explicitly', () => {
    assert.throws(() => loadApiKeys({}), /API_KEYS_FILE is not set.*API_AUTH=disabled/);
    assert.equal(loadApiKeys({ API_AUTH: 'disabled' }), undefined);
  });

  void it('refuses a key file that cannot be read or holds no keys', () => {
    assert.throws(
      () =>
        loadApiKeys({ API_KEYS_FILE: '/nowhere' }, () => {
          throw new Error('ENOENT');
        }),
      /cannot be read/,
    );
    assert.throws(() => loadApiKeys({ API_KEYS_FILE: '/keys' }, () => '# nothing\n'), /holds no keys/);
  });

  void it('uses the key file even when API_AUTH=disabled is also set', () => {
    assert.equal(loadApiKeys({ API_KEYS_FILE: '/keys', API_AUTH: 'disabled' }, () => 'k1\n')?.size, 1);
  });
});

void describe('who a request acts for', () => {
  const adminNames: { name: string; admin: boolean }[] = [
    { name: 'ops.admin', admin: true },
    { name: 'team.ci.admin', admin: true },
    { name: 'admin', admin: false },
    { name: 'ops-admin', admin: false },
    { name: 'ops.admin.readonly', admin: false },
    { name: 'ops.ADMIN', admin: false },
    { name: 'key-3', admin: false },
  ];
  for (const c of adminNames) {
    void it(`a key named ${c.name} is ${c.admin ? '' : 'not '}an admin key`, () => assert.equal(isAdminKeyName(c.name), c.admin));
  }

  void it('reads the admin marker from a key file line without changing the line rules', () => {
    const file = ApiKeys.parse('ops.admin:k-admin\nfinance:k-finance\n');
    assert.deepEqual(principalOf(file.match('k-admin')), { name: 'ops.admin', admin: true });
    assert.deepEqual(principalOf(file.match('k-finance')), { name: 'finance', admin: false });
  });

  void it('makes every request one anonymous owner, who sees every job, when auth is off', () => {
    assert.deepEqual(principalOf('ip:10.0.0.7'), { name: ANONYMOUS_OWNER, admin: true });
    assert.deepEqual(principalOf('ip:10.0.0.8'), principalOf('ip:10.0.0.7'));
  });

  void it('gives the anonymous owner a name no key can have', () => {
    assert.equal(parseKeyLine(`${ANONYMOUS_OWNER}:k`, 1)?.name, 'key-1');
  });

  void it('refuses a request that was never authenticated instead of guessing', () => {
    assert.throws(() => principalOf(undefined), /not authenticated/);
  });

  const finance: Principal = { name: 'finance', admin: false };
  const admin: Principal = { name: 'ops.admin', admin: true };
  const anonymous: Principal = principalOf('ip:127.0.0.1');
  const access: { name: string; principal: Principal; owner: string | undefined; allowed: boolean }[] = [
    { name: 'the owner sees its job', principal: finance, owner: 'finance', allowed: true },
    { name: 'another key does not see the job', principal: finance, owner: 'marketing', allowed: false },
    { name: 'a key does not see a job older than owners', principal: finance, owner: undefined, allowed: false },
    { name: 'an admin key sees any key’s job', principal: admin, owner: 'finance', allowed: true },
    { name: 'an admin key sees a job older than owners', principal: admin, owner: undefined, allowed: true },
    { name: 'a key whose name is a prefix of the owner does not see the job', principal: finance, owner: 'finance2', allowed: false },
    { name: 'with auth off the anonymous owner sees a key’s job', principal: anonymous, owner: 'finance', allowed: true },
    { name: 'a key does not see a job made while auth was off', principal: finance, owner: ANONYMOUS_OWNER, allowed: false },
  ];
  for (const c of access) {
    void it(c.name, () => assert.equal(canAccess(c.principal, c.owner), c.allowed));
  }
});
