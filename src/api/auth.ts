// API keys from a file mounted from a Secret: one key per line, or `name:key` (the
// rules are on parseKeyLine below and in docs/api.md). A key's name owns the jobs it
// creates; a name ending in `.admin` sees every job (Principal, below). Only SHA-256 digests stay in
// memory, and a presented key is compared against every stored digest with
// timingSafeEqual (no early exit), so neither the key nor which entry matched leaks
// through response timing.
import { createHash, hash, timingSafeEqual } from 'node:crypto';
import { ApiError } from './errors.ts';

export interface ApiKeyEntry {
  /** A name safe to log and to use as a rate-limit key; never the key itself. */
  name: string;
  digest: Buffer;
}

export class ApiKeys {
  private readonly entries: readonly ApiKeyEntry[];

  constructor(entries: readonly ApiKeyEntry[]) {
    this.entries = entries;
  }

  get size(): number {
    return this.entries.length;
  }

  /** Parses the key file (see parseKeyLine). Blank lines, `#` comments and empty keys are skipped. */
  static parse(text: string): ApiKeys {
    const entries: ApiKeyEntry[] = [];
    const lines = text.split(/\r?\n/);
    lines.forEach((raw, index) => {
      const parsed = parseKeyLine(raw, index + 1);
      if (parsed !== undefined) entries.push({ name: parsed.name, digest: digest(parsed.key) });
    });
    return new ApiKeys(entries);
  }

  /**
   * Secret material derived from every key (their SHA-256 digests, sorted, with names): the job
   * token key is derived from it when no JOB_TOKEN_SECRET or WEBHOOK_SECRET is set (jobs/token.ts).
   */
  material(): Buffer {
    const parts = this.entries.map((e) => `${e.name}:${e.digest.toString('hex')}`).sort();
    return createHash('sha256').update(parts.join('\n')).digest();
  }

  /** The name of the matching key, or undefined. Runs in time independent of which key matched. */
  match(presented: string): string | undefined {
    const candidate = digest(presented);
    let found: string | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(candidate, entry.digest) && found === undefined) found = entry.name;
    }
    return found;
  }
}

/**
 * A key name: 1 to 63 letters, digits, `.`, `_` or `-`, starting with a letter or digit.
 * Names appear in logs and rate-limit buckets, so they are plain.
 */
const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/**
 * One line of the key file. Surrounding whitespace is ignored; a blank line or one that
 * starts with `#` holds no key.
 * - `name:key` when the text before the first `:` is a key name (KEY_NAME): the key is
 *   everything after that `:`, so it may contain further `:` (`ci:abc:def` is key `abc:def`).
 * - Otherwise the whole line is the key, named `key-<line number>`: `a+b:c` and `:abc`
 *   are keys as written.
 * So any printable key can be written: a key whose text before its first `:` looks like a
 * name (or that starts with `#`) is written with a name in front (`ci:http://x`).
 * Existing `name:key` files read as before.
 */
export function parseKeyLine(raw: string, lineNumber: number): { name: string; key: string } | undefined {
  const line = raw.trim();
  if (line === '' || line.startsWith('#')) return undefined;
  const colon = line.indexOf(':');
  const name = colon < 0 ? '' : line.slice(0, colon).trim();
  if (KEY_NAME.test(name)) {
    const key = line.slice(colon + 1).trim();
    return key === '' ? undefined : { name, key };
  }
  return { name: `key-${lineNumber}`, key: line };
}

/**
 * Who a request acts for: the owner recorded on the jobs it creates, and whether it may
 * read every job of the pipeline. Jobs answer only to their owner and to admins.
 */
export interface Principal {
  /** The key's name (what jobs record as their owner), or ANONYMOUS_OWNER with authentication off. */
  name: string;
  /** Sees every job of the pipeline, including records older than owners. */
  admin: boolean;
}

/** The suffix that marks a key name as admin: `ops.admin:<key>`. */
export const ADMIN_SUFFIX = '.admin';

/**
 * The owner of every job when authentication is off (API_AUTH=disabled). It cannot be a key
 * name (names start with a letter or digit), so turning authentication on later hands these
 * jobs to no key: only admin keys see them.
 */
export const ANONYMOUS_OWNER = '~anonymous';

/**
 * True for a key name that marks an admin key: it ends in `.admin` after at least one
 * character (`ops.admin`, `team.ci.admin`). Every key saw every job before owners existed,
 * so reading an existing file this way takes no access away from a key that had it.
 */
export function isAdminKeyName(name: string): boolean {
  return name.length > ADMIN_SUFFIX.length && name.endsWith(ADMIN_SUFFIX);
}

/**
 * The principal of an authenticated request from its caller (`request.caller`: the key name,
 * or `ip:<address>` with authentication off; key names cannot hold `:`). With authentication
 * off everything belongs to one anonymous owner, who sees every job. A request that was never
 * authenticated has no principal: that is a bug, refused rather than guessed.
 */
export function principalOf(caller: string | undefined): Principal {
  if (caller === undefined) throw new Error('the request was not authenticated: its route needs auth: true');
  if (caller.startsWith('ip:')) return { name: ANONYMOUS_OWNER, admin: true };
  return { name: caller, admin: isAdminKeyName(caller) };
}

/**
 * Whether a job answers to this principal: to its owner and to admins. A record without an owner
 * (written before owners existed) answers to admins only. Others are told the job does not exist.
 */
export function canAccess(principal: Principal, owner: string | undefined): boolean {
  return principal.admin || (owner !== undefined && owner === principal.name);
}

/** SHA-256 of the key's UTF-8 bytes; the one-shot hash, about half the CPU of a Hash object on every authenticated request. */
function digest(key: string): Buffer {
  return hash('sha256', key, 'buffer');
}

/** The key a request presents: `x-api-key`, or `Authorization: Bearer <key>`. */
export function presentedKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const header = headers['x-api-key'];
  if (typeof header === 'string' && header.trim() !== '') return header.trim();
  const authorization = headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match?.[1]) return match[1];
  }
  return undefined;
}

/** Resolves the caller's key name, or throws the catalogue error for a missing or wrong key. */
export function authenticate(keys: ApiKeys, headers: Record<string, string | string[] | undefined>): string {
  const key = presentedKey(headers);
  if (key === undefined) throw new ApiError('API_KEY_MISSING');
  const name = keys.match(key);
  if (name === undefined) throw new ApiError('API_KEY_INVALID');
  return name;
}
