// Shared Access Signature tokens, as the SDK builds them (core-amqp tokenProvider):
//   SharedAccessSignature sr=<urlenc(audience)>&sig=<urlenc(b64 HMAC-SHA256(key, urlenc(audience)+"\n"+se))>&se=<unix s>&skn=<key name>
// The stand-in verifies the signature against its configured keys and the rights of
// the key (Manage implies Send and Listen, as in Azure).
import { createHmac, timingSafeEqual } from 'node:crypto';

export type Right = 'Manage' | 'Send' | 'Listen';
export const RIGHTS: readonly Right[] = ['Manage', 'Send', 'Listen'];

export interface KeyRule {
  key: string;
  rights: readonly Right[];
}

export type KeyRules = Readonly<Record<string, KeyRule>>;

export interface VerifiedToken {
  keyName: string;
  /** Decoded `sr`: the resource the token was signed for. */
  resource: string;
  expiresAt: number;
  rights: readonly Right[];
}

export class SasError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SasError';
  }
}

export function signSas(resource: string, keyName: string, key: string, expiresAtSeconds: number): string {
  const encoded = encodeURIComponent(resource);
  const sig = createHmac('sha256', key).update(`${encoded}\n${expiresAtSeconds}`).digest('base64');
  return `SharedAccessSignature sr=${encoded}&sig=${encodeURIComponent(sig)}&se=${expiresAtSeconds}&skn=${encodeURIComponent(keyName)}`;
}

/** Parses and verifies a token; throws SasError with a reason a person can act on. */
export function verifySas(token: string, keys: KeyRules, nowMs: number): VerifiedToken {
  const prefix = 'SharedAccessSignature ';
  if (!token.startsWith(prefix)) throw new SasError('The token is not a SharedAccessSignature.');
  // Keep the raw (still URL-encoded) values: the signature covers the encoded resource.
  const raw = new Map<string, string>();
  for (const part of token.slice(prefix.length).split('&')) {
    const eq = part.indexOf('=');
    if (eq > 0) raw.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const sr = raw.get('sr');
  const sig = raw.get('sig');
  const se = raw.get('se');
  const skn = raw.get('skn');
  if (sr === undefined || sig === undefined || se === undefined || skn === undefined) {
    throw new SasError('The SharedAccessSignature must carry sr, sig, se and skn.');
  }
  const keyName = decodeURIComponent(skn);
  const rule = keys[keyName];
  if (rule === undefined) throw new SasError(`Unknown SharedAccessKeyName '${keyName}'.`);
  const expiresAtSeconds = Number(se);
  if (!Number.isFinite(expiresAtSeconds)) throw new SasError('The SharedAccessSignature expiry (se) is not a number.');
  if (expiresAtSeconds * 1000 <= nowMs) throw new SasError('The SharedAccessSignature has expired.');
  const expected = createHmac('sha256', rule.key).update(`${sr}\n${se}`).digest();
  const given = Buffer.from(decodeURIComponent(sig), 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new SasError(`The token has an invalid signature for key '${keyName}'.`);
  }
  return { keyName, resource: decodeURIComponent(sr), expiresAt: expiresAtSeconds * 1000, rights: rule.rights };
}

export function hasRight(rights: readonly Right[], needed: Right): boolean {
  return rights.includes(needed) || rights.includes('Manage');
}

/**
 * The entity path an audience names: `sb://host:port/q/$management` -> `q/$management`.
 * Host and scheme are ignored because clients reach the stand-in by many names.
 */
export function audiencePath(audience: string): string {
  const withoutScheme = audience.replace(/^[a-z]+:\/\//i, '');
  const slash = withoutScheme.indexOf('/');
  const path = slash < 0 ? '' : withoutScheme.slice(slash + 1);
  return path.replace(/\?.*$/, '').replace(/\/+$/, '').toLowerCase();
}

/** True when a token for `grantedPath` covers `entityPath` (namespace tokens cover everything). */
export function pathCovers(grantedPath: string, entityPath: string): boolean {
  const granted = grantedPath.toLowerCase();
  const entity = entityPath.toLowerCase();
  return granted === '' || entity === granted || entity.startsWith(`${granted}/`);
}
