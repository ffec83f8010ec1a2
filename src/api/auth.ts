// API keys from a file mounted from a Secret: one key per line, or `name:key` (the
// rules are on parseKeyLine below and in docs/api.md). Only SHA-256 digests stay in
// memory, and a presented key is compared against every stored digest with
// timingSafeEqual (no early exit), so neither the key nor which entry matched leaks
// through response timing.
import { createHash, timingSafeEqual } from 'node:crypto';
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

function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
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
