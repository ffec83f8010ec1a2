// Where a webhook may be sent. A webhook URL comes from a client, and the API POSTs to it
// from inside the cluster, so without a policy any caller could make the API reach the
// cloud metadata service, the Kubernetes API, a sidecar on loopback or any private address
// (SSRF). This module is pure: it judges a URL, and the addresses its host resolved to,
// against the policy; src/jobs/webhook.ts resolves, asks, and connects only to a vetted
// address, and the API asks at submit so a bad URL is a 400 instead of a silent failure.
//
// Refused unless the allowlist names them: any scheme but https (http only with allowHttp),
// credentials in the URL, cluster-internal names (single-label hosts, localhost, *.svc,
// *.local incl. cluster.local, *.internal, *.home.arpa), and every address that is not
// public unicast: loopback, unspecified, link-local (incl. 169.254.169.254 and
// fd00:ec2::254), private (RFC 1918, fc00::/7), shared (CGNAT 100.64/10), multicast,
// benchmarking, documentation and reserved ranges; IPv6 forms that embed an IPv4 address
// (mapped, compatible, NAT64, 6to4) are judged by that IPv4 address.
//
// Odd IPv4 notations (0x7f000001, 2130706433, 0177.0.0.1, 127.1, percent-encoding) need no
// code here: the WHATWG URL parser normalises them to dotted quads before we look.
import { isIP } from 'node:net';

export interface EgressSettings {
  /** Allow http:// targets as well as https://; default false. */
  allowHttp: boolean;
  /**
   * Targets allowed even when internal, for receivers inside the network: host names
   * (exact, case-insensitive; `*.example.com` for any name under it), IP addresses and
   * CIDRs (`10.1.0.0/16`, `fd00::/8`). Default none.
   */
  allowedHosts: readonly string[];
}

/** The default: https to public addresses only. */
export const STRICT_EGRESS: EgressSettings = { allowHttp: false, allowedHosts: [] };

export type RefusalReason =
  | 'invalid_url'
  | 'scheme'
  | 'http'
  | 'credentials'
  | 'internal_name'
  | 'no_address'
  | 'unspecified'
  | 'loopback'
  | 'link_local'
  | 'private'
  | 'shared_address'
  | 'multicast'
  | 'benchmarking'
  | 'reserved';

export type EgressVerdict = { allowed: true } | { allowed: false; reason: RefusalReason; message: string; address?: string };

interface Cidr {
  bytes: Uint8Array;
  /** Prefix length in bits. */
  prefix: number;
}

type Range = Cidr & { reason: RefusalReason | 'embedded_v4' | 'sixto4' };

/** Why each non-public IPv4 range is refused; first match wins. */
const IPV4_RANGES: readonly Range[] = (
  [
    ['0.0.0.0/8', 'unspecified'], // "this network"; 0.0.0.0 reaches the local host on Linux
    ['10.0.0.0/8', 'private'],
    ['100.64.0.0/10', 'shared_address'], // carrier-grade NAT, also used by some cluster networks
    ['127.0.0.0/8', 'loopback'],
    ['169.254.0.0/16', 'link_local'], // incl. the cloud metadata service 169.254.169.254
    ['172.16.0.0/12', 'private'],
    ['192.0.0.0/24', 'reserved'], // IETF protocol assignments
    ['192.0.2.0/24', 'reserved'], // documentation
    ['192.88.99.0/24', 'reserved'], // 6to4 relay anycast
    ['192.168.0.0/16', 'private'],
    ['198.18.0.0/15', 'benchmarking'],
    ['198.51.100.0/24', 'reserved'], // documentation
    ['203.0.113.0/24', 'reserved'], // documentation
    ['224.0.0.0/4', 'multicast'],
    ['240.0.0.0/4', 'reserved'], // incl. the broadcast address 255.255.255.255
  ] as const
).map(([cidr, reason]) => ({ ...parseCidr(cidr), reason }));

/** IPv6 ranges; first match wins. `embedded_v4` and `sixto4` mean: judge the IPv4 address inside. */
const IPV6_RANGES: readonly Range[] = (
  [
    ['::/128', 'unspecified'],
    ['::1/128', 'loopback'],
    ['::ffff:0:0/96', 'embedded_v4'], // IPv4-mapped
    ['::ffff:0:0:0/96', 'embedded_v4'], // IPv4-translated (SIIT)
    ['::/96', 'embedded_v4'], // IPv4-compatible (deprecated)
    ['64:ff9b::/96', 'embedded_v4'], // NAT64 well-known prefix
    ['64:ff9b:1::/48', 'private'], // local-use NAT64
    ['100::/64', 'reserved'], // discard-only
    ['2001::/32', 'reserved'], // Teredo: embeds an obfuscated IPv4 address that we do not try to judge
    ['2001:db8::/32', 'reserved'], // documentation
    ['2002::/16', 'sixto4'], // 6to4: the IPv4 address is in bits 16-47
    ['fc00::/7', 'private'], // unique local, incl. the AWS metadata address fd00:ec2::254
    ['fe80::/10', 'link_local'],
    ['fec0::/10', 'private'], // site-local (deprecated)
    ['ff00::/8', 'multicast'],
  ] as const
).map(([cidr, reason]) => ({ ...parseCidr(cidr), reason }));

/** Global unicast: an IPv6 address outside it is not reachable on the internet. */
const IPV6_GLOBAL = parseCidr('2000::/3');

/** Name suffixes that only mean something inside a cluster or a private network. */
const INTERNAL_SUFFIXES = ['.svc', '.local', '.localhost', '.internal', '.home.arpa', '.localdomain'] as const;

const REASON_TEXT: Record<RefusalReason, string> = {
  invalid_url: 'is not a valid URL',
  scheme: 'must use https',
  http: 'must use https (this pipeline does not allow http)',
  credentials: 'must not carry a user name or password',
  internal_name: 'names a cluster-internal or local host',
  no_address: 'resolves to no address',
  unspecified: 'is an unspecified address',
  loopback: 'is a loopback address',
  link_local: 'is a link-local address, where the cloud metadata service lives',
  private: 'is a private address',
  shared_address: 'is a shared (carrier-grade NAT) address',
  multicast: 'is a multicast address',
  benchmarking: 'is a benchmarking address',
  reserved: 'is a reserved or documentation address',
};

/** 4 or 16 bytes of an IP address (IPv6 zone ids dropped), or undefined when `text` is not one. */
export function ipBytes(text: string): Uint8Array | undefined {
  const address = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const bare = address.split('%')[0] ?? '';
  const family = isIP(bare);
  if (family === 4) return Uint8Array.from(bare.split('.').map(Number));
  if (family === 6) return ipv6Bytes(bare);
  return undefined;
}

function ipv6Bytes(address: string): Uint8Array {
  let text = address.toLowerCase();
  // A dotted IPv4 tail (::ffff:127.0.0.1) becomes two hex groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a = 0, b = 0, c = 0, d = 0] = tail.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = rest ? rest.split(':') : [];
  const groups = rest === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    const value = parseInt(group, 16);
    bytes[i * 2] = value >> 8;
    bytes[i * 2 + 1] = value & 0xff;
  });
  return bytes;
}

/** Parses `address/prefix`; a bare address is a single-address range. Throws on anything else. */
export function parseCidr(text: string): Cidr {
  const [address = '', prefixText, extra] = text.trim().split('/');
  const bytes = ipBytes(address);
  if (!bytes || extra !== undefined) throw new Error(`"${text}" is not an IP address or CIDR`);
  const bits = bytes.length * 8;
  const prefix = prefixText === undefined ? bits : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= bits)) throw new Error(`"${text}" has a prefix outside 0-${bits}`);
  return { bytes, prefix };
}

function inCidr(bytes: Uint8Array, cidr: Cidr): boolean {
  if (bytes.length !== cidr.bytes.length) return false;
  for (let bit = 0; bit < cidr.prefix; bit += 8) {
    const mask = cidr.prefix - bit >= 8 ? 0xff : (0xff << (8 - (cidr.prefix - bit))) & 0xff;
    if (((bytes[bit / 8] ?? 0) & mask) !== ((cidr.bytes[bit / 8] ?? 0) & mask)) return false;
  }
  return true;
}

function dotted(bytes: Uint8Array): string {
  return [...bytes].join('.');
}

/** Why an address is not public unicast, with the IPv4 address it embeds when that decided; undefined = public. */
export function classifyAddress(bytes: Uint8Array): { reason: RefusalReason; embedded?: string } | undefined {
  if (bytes.length === 4) {
    const range = IPV4_RANGES.find((r) => inCidr(bytes, r));
    return range ? { reason: range.reason as RefusalReason } : undefined;
  }
  const range = IPV6_RANGES.find((r) => inCidr(bytes, r));
  if (range?.reason === 'embedded_v4' || range?.reason === 'sixto4') {
    const v4 = range.reason === 'sixto4' ? bytes.subarray(2, 6) : bytes.subarray(12, 16);
    const inner = classifyAddress(v4);
    return inner ? { reason: inner.reason, embedded: dotted(v4) } : undefined;
  }
  if (range) return { reason: range.reason };
  return inCidr(bytes, IPV6_GLOBAL) ? undefined : { reason: 'reserved' };
}

/** The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4), for matching IPv4 allowlist entries. */
function embeddedV4(bytes: Uint8Array): Uint8Array | undefined {
  if (bytes.length !== 16) return undefined;
  const range = IPV6_RANGES.find((r) => inCidr(bytes, r));
  if (range?.reason === 'embedded_v4') return bytes.subarray(12, 16);
  if (range?.reason === 'sixto4') return bytes.subarray(2, 6);
  return undefined;
}

function normaliseName(host: string): string {
  return host.toLowerCase().replace(/\.$/, '');
}

function isInternalName(name: string): boolean {
  if (!name.includes('.')) return true; // single label: resolved through the pod's search domains
  return name === 'localhost' || INTERNAL_SUFFIXES.some((suffix) => name.endsWith(suffix));
}

function refuse(reason: RefusalReason, subject: string, address?: string, embedded?: string): EgressVerdict {
  const inside = embedded ? ` (it embeds ${embedded})` : '';
  return { allowed: false, reason, message: `The webhook ${subject} ${REASON_TEXT[reason]}${inside}.`, ...(address ? { address } : {}) };
}

/** The settings, parsed once. Throws (with the entry) when an allowlist entry is neither a host name nor an address or CIDR. */
export class EgressPolicy {
  readonly allowHttp: boolean;
  private readonly names = new Set<string>();
  /** `*.example.com` entries, stored as `.example.com`. */
  private readonly suffixes: string[] = [];
  private readonly ranges: Cidr[] = [];

  constructor(settings: EgressSettings = STRICT_EGRESS) {
    this.allowHttp = settings.allowHttp;
    for (const raw of settings.allowedHosts) {
      const entry = raw.trim();
      if (!entry) continue;
      if (entry.includes('/') || ipBytes(entry)) this.ranges.push(parseCidr(entry));
      else if (/^\*\.[a-z0-9.-]+$/i.test(entry)) this.suffixes.push(normaliseName(entry.slice(1)));
      else if (/^[a-z0-9.-]+$/i.test(entry)) this.names.add(normaliseName(entry));
      else throw new Error(`"${entry}" is not a host name, *.domain, IP address or CIDR`);
    }
  }

  private nameListed(name: string): boolean {
    return this.names.has(name) || this.suffixes.some((suffix) => name.endsWith(suffix));
  }

  private addressListed(bytes: Uint8Array): boolean {
    const inner = embeddedV4(bytes);
    return this.ranges.some((range) => inCidr(bytes, range) || (inner !== undefined && inCidr(inner, range)));
  }

  private judgeAddress(text: string): EgressVerdict {
    const bytes = ipBytes(text);
    if (!bytes) return refuse('no_address', `address ${text}`, text);
    if (this.addressListed(bytes)) return { allowed: true };
    const why = classifyAddress(bytes);
    return why ? refuse(why.reason, `address ${text}`, text, why.embedded) : { allowed: true };
  }

  /**
   * Judges a target. Without `addresses` (at submit, before any DNS) it checks the
   * scheme, credentials, the host name and a literal address; with them (at delivery,
   * after resolving the host) every address must pass too, so a name that resolves to
   * an internal address is refused. A host name on the allowlist skips the name and
   * address checks; an address inside an allowed CIDR passes.
   */
  judge(url: string | URL, addresses?: readonly string[]): EgressVerdict {
    let parsed: URL;
    try {
      parsed = typeof url === 'string' ? new URL(url) : url;
    } catch {
      return refuse('invalid_url', 'URL');
    }
    if (parsed.protocol === 'http:') {
      if (!this.allowHttp) return refuse('http', 'URL');
    } else if (parsed.protocol !== 'https:') return refuse('scheme', 'URL');
    if (parsed.username || parsed.password) return refuse('credentials', 'URL');
    const host = parsed.hostname;
    if (ipBytes(host)) return this.judgeAddress(host.replace(/^\[|\]$/g, ''));
    const name = normaliseName(host);
    if (this.nameListed(name)) return { allowed: true };
    if (isInternalName(name)) return refuse('internal_name', `host ${name}`);
    if (addresses === undefined) return { allowed: true };
    if (addresses.length === 0) return refuse('no_address', `host ${name}`);
    for (const address of addresses) {
      const verdict = this.judgeAddress(address);
      if (!verdict.allowed) return { ...verdict, message: `${verdict.message.slice(0, -1)} (resolved from ${name}).` };
    }
    return { allowed: true };
  }
}
