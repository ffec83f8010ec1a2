// Where the API server is and how to authenticate to it, for client.ts: a kubeconfig file
// (current context: server, CA data or file, client certificate and key as data or file,
// bearer token or tokenFile, basic auth, insecure-skip-tls-verify, tls-server-name) or, in a
// pod, the service account (KUBERNETES_SERVICE_HOST/PORT, its CA and token). Tokens from a
// file are re-read at most every TOKEN_REREAD_MS: projected service account tokens rotate.
//
// A kubeconfig user that needs an exec plugin (kubelogin, aws, gke-gcloud-auth-plugin) or an
// auth-provider is refused with a KubeconfigError that says so: the operator runs in a pod
// with its service account, and locally against clusters with certificates or tokens
// (`npm start`, the tests). Give it a kubeconfig with a token (e.g. `kubectl create token`).
import { existsSync, readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';

export interface ClusterAccess {
  /** https://host:port (no trailing slash). */
  server: string;
  tls: { ca?: Buffer; cert?: Buffer; key?: Buffer; insecureSkipVerify: boolean; servername?: string };
  /** The bearer token now, if the user has one (re-read from its file when it may have rotated). */
  token: () => string | undefined;
  basic?: { username: string; password: string };
  /** Where the configuration came from, for the start-up log line. */
  source: string;
}

/** A kubeconfig or in-cluster setting that cannot be used; the message says what and why. */
export class KubeconfigError extends Error {
  override name = 'KubeconfigError';
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** How long a token read from a file is used before the file is read again, in ms (client-go: 1 min). */
export const TOKEN_REREAD_MS = 60_000;

/** A token file read now and again every TOKEN_REREAD_MS; a failed re-read keeps the last token (the next call tries again). */
export function tokenFromFile(path: string, now: () => number = () => performance.now()): () => string {
  let token = readFileSync(path, 'utf8').trim();
  let readAt = now();
  return () => {
    if (now() - readAt >= TOKEN_REREAD_MS) {
      try {
        token = readFileSync(path, 'utf8').trim();
      } catch {
        // keep the last token; a rotated file that is briefly missing is not an outage
      }
      readAt = now();
    }
    return token;
  };
}

type Env = Record<string, string | undefined>;

/** The pod's service account: KUBERNETES_SERVICE_HOST/PORT, ca.crt and the (rotating) token. */
export function inClusterAccess(env: Env, dir: string = SERVICE_ACCOUNT_DIR): ClusterAccess {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) throw new KubeconfigError('In-cluster configuration needs KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT, which are not set');
  const scheme = port === '80' || port === '8080' || port === '8001' ? 'http' : 'https';
  return {
    server: `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`,
    tls: { ca: readFileSync(join(dir, 'ca.crt')), insecureSkipVerify: false },
    token: tokenFromFile(join(dir, 'token')),
    source: 'in-cluster service account',
  };
}

interface Named<T> {
  name: string;
  [key: string]: unknown;
  cluster?: T;
  user?: T;
  context?: T;
}
interface RawKubeconfig {
  'current-context'?: string;
  clusters?: Named<Record<string, unknown>>[];
  users?: Named<Record<string, unknown>>[];
  contexts?: Named<Record<string, unknown>>[];
}

/** A string field of a kubeconfig entry, or undefined. */
const str = (o: Record<string, unknown> | undefined, key: string): string | undefined => (typeof o?.[key] === 'string' ? o[key] : undefined);

/** `<key>-data` (base64) or `<key>` (a file, relative to the kubeconfig's directory). */
function dataOrFile(o: Record<string, unknown> | undefined, key: string, dir: string): Buffer | undefined {
  const data = str(o, `${key}-data`);
  if (data) return Buffer.from(data, 'base64');
  const file = str(o, key);
  return file ? readFileSync(isAbsolute(file) ? file : join(dir, file)) : undefined;
}

function find(list: Named<Record<string, unknown>>[] | undefined, name: string | undefined, what: string, path: string): Named<Record<string, unknown>> {
  const found = list?.find((e) => e.name === name);
  if (!found) throw new KubeconfigError(`${path}: ${what} "${name ?? ''}" is not defined`);
  return found;
}

function userAuth(
  user: Record<string, unknown> | undefined,
  name: string,
  dir: string,
  path: string,
): Pick<ClusterAccess, 'token' | 'basic'> & Partial<ClusterAccess['tls']> {
  if (user?.exec || user?.['auth-provider'])
    throw new KubeconfigError(
      `${path}: user "${name}" needs ${user.exec ? 'an exec plugin' : 'an auth-provider'}, which the operator does not run; ` +
        'use a kubeconfig with a token, a token file or a client certificate (e.g. from `kubectl create token`), or run in a pod with a service account',
    );
  const token = str(user, 'token');
  const tokenFile = str(user, 'tokenFile');
  const username = str(user, 'username');
  const cert = dataOrFile(user, 'client-certificate', dir);
  const key = dataOrFile(user, 'client-key', dir);
  return {
    token: token ? () => token : tokenFile ? tokenFromFile(isAbsolute(tokenFile) ? tokenFile : join(dir, tokenFile)) : () => undefined,
    ...(username ? { basic: { username, password: str(user, 'password') ?? '' } } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
  };
}

/** TLS settings of a kubeconfig cluster, with the user's client certificate and key. */
function tlsOf(cluster: Record<string, unknown> | undefined, dir: string, auth: { cert?: Buffer | undefined; key?: Buffer | undefined }): ClusterAccess['tls'] {
  const servername = str(cluster, 'tls-server-name');
  const ca = dataOrFile(cluster, 'certificate-authority', dir);
  return {
    ...(ca ? { ca } : {}),
    ...(auth.cert ? { cert: auth.cert } : {}),
    ...(auth.key ? { key: auth.key } : {}),
    ...(servername ? { servername } : {}),
    insecureSkipVerify: cluster?.['insecure-skip-tls-verify'] === true,
  };
}

/**
 * The current context of one or more kubeconfig files (KUBECONFIG's list form, merged as
 * kubectl does: the first file that names an entry or the current context wins).
 */
export function kubeconfigAccess(paths: string[], context?: string): ClusterAccess {
  const docs = paths.filter((p) => existsSync(p)).map((p) => ({ path: p, doc: (parse(readFileSync(p, 'utf8')) ?? {}) as RawKubeconfig }));
  if (docs.length === 0) throw new KubeconfigError(`No kubeconfig file at ${paths.join(', ')}`);
  const path = docs.map((d) => d.path).join(delimiter);
  const all = <K extends 'clusters' | 'users' | 'contexts'>(k: K) => docs.flatMap((d) => (d.doc[k] ?? []).map((e) => ({ ...e, dir: dirname(d.path) })));
  const current = context ?? docs.map((d) => d.doc['current-context']).find(Boolean);
  if (!current) throw new KubeconfigError(`${path}: no current-context`);
  const ctx = find(all('contexts'), current, 'context', path).context;
  const clusterEntry = find(all('clusters'), str(ctx, 'cluster'), 'cluster', path);
  const userEntry = ctx?.user === undefined ? undefined : find(all('users'), str(ctx, 'user'), 'user', path);
  const cluster = clusterEntry.cluster;
  const server = str(cluster, 'server');
  if (!server) throw new KubeconfigError(`${path}: cluster "${clusterEntry.name}" has no server`);
  const clusterDir = clusterEntry.dir as string;
  const auth = userAuth(userEntry?.user, userEntry?.name ?? '', (userEntry?.dir as string | undefined) ?? clusterDir, path);
  return {
    server: server.replace(/\/+$/, ''),
    tls: tlsOf(cluster, clusterDir, auth),
    token: auth.token,
    ...(auth.basic ? { basic: auth.basic } : {}),
    source: `${path} (context ${current})`,
  };
}

/**
 * The operator's cluster access, as client-go decides it: the given kubeconfig (the
 * --kubeconfig flag or KUBECONFIG, a list separated by ':'), else ~/.kube/config, else the
 * pod's service account; none of them is a KubeconfigError.
 */
export function loadClusterAccess(
  kubeconfig: string | undefined,
  env: Env,
  home: string = homedir(),
  serviceAccountDir: string = SERVICE_ACCOUNT_DIR,
): ClusterAccess {
  if (kubeconfig) return kubeconfigAccess(kubeconfig.split(delimiter).filter(Boolean));
  const fallback = join(home, '.kube', 'config');
  if (existsSync(fallback)) return kubeconfigAccess([fallback]);
  if (existsSync(join(serviceAccountDir, 'token'))) return inClusterAccess(env, serviceAccountDir);
  throw new KubeconfigError(`No kubeconfig: pass --kubeconfig or set KUBECONFIG, put one at ${fallback}, or run in a pod with a service account token`);
}
