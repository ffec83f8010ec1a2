// Per-connection authorisation: CBS put-token stores a verified token per audience;
// link attaches and management operations ask whether a token grants a right on a path.
import type { Connection } from 'rhea';
import { audiencePath, hasRight, pathCovers, type Right, type VerifiedToken } from '../sas.ts';

const tokensByConnection = new WeakMap<Connection, Map<string, VerifiedToken>>();

export function rememberToken(connection: Connection, audience: string, token: VerifiedToken): void {
  let tokens = tokensByConnection.get(connection);
  if (tokens === undefined) {
    tokens = new Map();
    tokensByConnection.set(connection, tokens);
  }
  tokens.set(audiencePath(audience), token);
}

/** True once the connection has put a valid token on $cbs (it may have expired since). */
export function hasToken(connection: Connection): boolean {
  return (tokensByConnection.get(connection)?.size ?? 0) > 0;
}

export interface AuthDecision {
  allowed: boolean;
  reason: string;
}

/** Azure's rule: a token for the entity (or a parent path) with the needed claim, not expired. */
export function authorize(connection: Connection, entityPath: string, needed: readonly Right[], nowMs: number): AuthDecision {
  const tokens = tokensByConnection.get(connection);
  let covering: VerifiedToken | undefined;
  for (const [path, token] of tokens ?? []) {
    if (!pathCovers(path, entityPath) || token.expiresAt <= nowMs) continue;
    covering = token;
    if (needed.some((right) => hasRight(token.rights, right))) return { allowed: true, reason: 'ok' };
  }
  if (covering === undefined) {
    return { allowed: false, reason: `Unauthorized access to '${entityPath}': no valid token was put on $cbs for this entity.` };
  }
  return {
    allowed: false,
    reason: `Unauthorized access. '${needed.join("' or '")}' claim(s) are required to perform this operation on '${entityPath}'; key '${covering.keyName}' has ${covering.rights.join(', ') || 'no rights'}.`,
  };
}
