// PKI of the local control plane, made with the openssl CLI (node:crypto can make
// keys but not X.509 certificates). Two CAs, as the Kubernetes docs ask: the
// cluster CA signs the serving and client certs; a separate front-proxy CA signs
// the client cert the aggregator uses to reach prometheus-adapter, so a
// front-proxy cert can never pass as an ordinary client.
// Keys are ECDSA P-256: an order of magnitude faster to make than RSA on a busy
// 2-core machine, and accepted by every component (also as service-account key: ES256).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Pki {
  dir: string;
  caCert: string;
  caKey: string;
  apiserverCert: string;
  apiserverKey: string;
  frontProxyCaCert: string;
  frontProxyClientCert: string;
  frontProxyClientKey: string;
  saPublicKey: string;
  saPrivateKey: string;
  /** client cert + key per identity */
  clients: Record<ClientName, { cert: string; key: string }>;
}

export type ClientName = 'admin' | 'kube-controller-manager' | 'kube-scheduler' | 'kwok' | 'ocr-operator';

/** Subjects of the client certs. Each identity is one RBAC already knows (bootstrap roles) or a system:masters member. */
export const CLIENT_SUBJECTS: Record<ClientName, string> = {
  admin: '/O=system:masters/CN=kubernetes-admin',
  'kube-controller-manager': '/CN=system:kube-controller-manager',
  'kube-scheduler': '/CN=system:kube-scheduler',
  // kwok writes the status of every node and pod and renews node leases; no bootstrap role
  // covers that outside the Node authorizer's one-node-per-identity rule, so it is a master.
  kwok: '/O=system:masters/CN=kwok-controller',
  // The operator's own identity (operator.kubeconfig), so audit lines and the apiserver's
  // per-user accounting tell its requests from everyone else's (npm run bench:operator).
  // A master: the chart's ClusterRole is not installed on the local control plane.
  'ocr-operator': '/O=system:masters/CN=ocr-operator',
};

/** DNS and IP names the apiserver's serving cert must carry: loopback plus the in-cluster names of the `kubernetes` Service. */
export function apiserverSans(serviceIp: string): string[] {
  return [
    'DNS:localhost',
    'DNS:kubernetes',
    'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc',
    'DNS:kubernetes.default.svc.cluster.local',
    'IP:127.0.0.1',
    `IP:${serviceIp}`,
  ];
}

function openssl(args: string[]): void {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || String(error)} (is the openssl CLI installed? apt-get install -y openssl)`);
  }
}

const KEY_ARGS = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function selfSignedCa(dir: string, name: string, subject: string): void {
  openssl([
    'req',
    '-x509',
    ...KEY_ARGS,
    '-keyout',
    join(dir, `${name}.key`),
    '-out',
    join(dir, `${name}.crt`),
    '-days',
    '3650',
    '-subj',
    subject,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
  ]);
}

function signed(dir: string, name: string, ca: string, subject: string, extensions: string[]): void {
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, `${extensions.join('\n')}\n`);
  openssl(['req', '-new', ...KEY_ARGS, '-keyout', join(dir, `${name}.key`), '-out', csr, '-subj', subject]);
  openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    join(dir, `${ca}.crt`),
    '-CAkey',
    join(dir, `${ca}.key`),
    '-set_serial',
    `0x${randomBytes(8).toString('hex')}`,
    '-days',
    '3650',
    '-out',
    join(dir, `${name}.crt`),
    '-extfile',
    ext,
  ]);
  rmSync(csr);
  rmSync(ext);
}

const CLIENT_EXT = ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=clientAuth'];

export function pkiPaths(dir: string): Pki {
  const clients = Object.fromEntries(
    (Object.keys(CLIENT_SUBJECTS) as ClientName[]).map((name) => [name, { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) }]),
  ) as Pki['clients'];
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    apiserverCert: join(dir, 'apiserver.crt'),
    apiserverKey: join(dir, 'apiserver.key'),
    frontProxyCaCert: join(dir, 'front-proxy-ca.crt'),
    frontProxyClientCert: join(dir, 'front-proxy-client.crt'),
    frontProxyClientKey: join(dir, 'front-proxy-client.key'),
    saPublicKey: join(dir, 'sa.pub'),
    saPrivateKey: join(dir, 'sa.key'),
    clients,
  };
}

/** Generates the whole PKI into `dir` (replacing what is there). Takes well under a second. */
export function generatePki(dir: string, serviceIp: string): Pki {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  selfSignedCa(dir, 'ca', '/CN=ocr-platform-local-ca');
  selfSignedCa(dir, 'front-proxy-ca', '/CN=ocr-platform-front-proxy-ca');
  signed(dir, 'apiserver', 'ca', '/CN=kube-apiserver', [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    `subjectAltName=${apiserverSans(serviceIp).join(',')}`,
  ]);
  for (const [name, subject] of Object.entries(CLIENT_SUBJECTS)) signed(dir, name, 'ca', subject, CLIENT_EXT);
  signed(dir, 'front-proxy-client', 'front-proxy-ca', '/CN=front-proxy-client', CLIENT_EXT);
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', join(dir, 'sa.key')]);
  openssl(['ec', '-in', join(dir, 'sa.key'), '-pubout', '-out', join(dir, 'sa.pub')]);
  const pki = pkiPaths(dir);
  if (!existsSync(pki.saPublicKey)) throw new Error(`PKI generation left no ${pki.saPublicKey}`);
  return pki;
}

/** A kubeconfig with the CA and client cert embedded, so it stays valid when copied elsewhere. */
export function kubeconfigYaml(server: string, caCert: string, clientCert: string, clientKey: string, user: string): string {
  const b64 = (file: string): string => readFileSync(file).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: local',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(caCert)}`,
    'users:',
    `- name: ${user}`,
    '  user:',
    `    client-certificate-data: ${b64(clientCert)}`,
    `    client-key-data: ${b64(clientKey)}`,
    'contexts:',
    '- name: local',
    '  context:',
    '    cluster: local',
    `    user: ${user}`,
    'current-context: local',
    '',
  ].join('\n');
}
