// The HTTP ATOM management endpoint `ServiceBusAdministrationClient` talks to:
// GET/PUT/DELETE /<queue>?api-version=2021-05 and GET /$Resources/Queues. The XML has
// the exact shape the SDK's parser needs (see research/servicebus-protocol.md §6): an
// <id> URL the queue name is read from, every mandatory QueueDescription element, and
// CountDetails with exactly one xmlns prefix.
//
// Authorisation: the Authorization header's SAS must verify against a configured key
// with the Manage right, and the resource it was signed for (`sr`) must cover the
// requested path, as Service Bus checks it: the namespace root covers everything, a
// queue's URI covers that queue (and paths below it). Scheme, host, port and query are
// ignored and case does not matter, because SDK 7.9.x signs the https:// URL (query
// included) that the emulator policy later rewrites, and clients reach the stand-in by
// many host names.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { StandinContext } from './context.ts';
import { QUEUE_STATUSES, StoreError, type Queue, type QueueSettings, type QueueStatus } from './queue-store.ts';
import type { MessageContent } from './amqp-message.ts';
import { audiencePath, hasRight, pathCovers, SasError, verifySas } from './sas.ts';

const ATOM_CONTENT_TYPE = 'application/atom+xml;type=entry;charset=utf-8';
const MAX_BODY_BYTES = 64 * 1024;
const DEFAULT_PAGE_SIZE = 100;
/** TimeSpan.MaxValue, what Azure reports for "never". */
const NEVER = 'P10675199DT2H48M5.4775807S';

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function escapeXml(value: string): string {
  return value.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

/** ISO 8601 duration for a number of milliseconds, e.g. 60000 -> PT1M, 1500 -> PT1.5S. */
export function msToDuration(ms: number): string {
  const days = Math.floor(ms / 86_400_000);
  let rest = ms - days * 86_400_000;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = rest / 1000;
  let time = '';
  if (hours) time += `${hours}H`;
  if (minutes) time += `${minutes}M`;
  if (seconds) time += `${seconds}S`;
  if (!time && !days) time = '0S';
  return `P${days ? `${days}D` : ''}${time ? `T${time}` : ''}`;
}

/** Parses the ISO 8601 durations the SDK sends (PnDTnHnMn.nS); undefined when malformed. */
export function durationToMs(text: string): number | undefined {
  const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text.trim());
  if (match === null || text.trim() === 'P' || text.trim().endsWith('T')) return undefined;
  const [, d = '0', h = '0', m = '0', s = '0'] = match;
  return ((Number(d) * 24 + Number(h)) * 60 + Number(m)) * 60_000 + Math.round(Number(s) * 1000);
}

export function queueEntryXml(queue: Queue<MessageContent>, baseUrl: string): string {
  const s = queue.settings;
  const counts = queue.runtimeCounts();
  const id = `${baseUrl}/${encodeURI(queue.name)}?api-version=2021-05`;
  return `<entry xmlns="http://www.w3.org/2005/Atom">
<id>${escapeXml(id)}</id>
<title type="text">${escapeXml(queue.name)}</title>
<published>${iso(queue.createdAt)}</published>
<updated>${iso(queue.updatedAt)}</updated>
<author><name>servicebus-standin</name></author>
<link rel="self" href="${escapeXml(id)}"/>
<content type="application/xml">
<QueueDescription xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
<LockDuration>${msToDuration(s.lockDurationMs)}</LockDuration>
<MaxSizeInBytes>1073741824</MaxSizeInBytes>
<MaxSizeInMegabytes>1024</MaxSizeInMegabytes>
<RequiresDuplicateDetection>false</RequiresDuplicateDetection>
<RequiresSession>false</RequiresSession>
<DefaultMessageTimeToLive>${s.defaultTtlMs === undefined ? NEVER : msToDuration(s.defaultTtlMs)}</DefaultMessageTimeToLive>
<DeadLetteringOnMessageExpiration>${s.deadLetterOnExpiration}</DeadLetteringOnMessageExpiration>
<DuplicateDetectionHistoryTimeWindow>PT10M</DuplicateDetectionHistoryTimeWindow>
<MaxDeliveryCount>${s.maxDeliveryCount}</MaxDeliveryCount>
<EnableBatchedOperations>true</EnableBatchedOperations>
<SizeInBytes>${counts.sizeInBytes}</SizeInBytes>
<MessageCount>${counts.totalMessageCount}</MessageCount>
<IsAnonymousAccessible>false</IsAnonymousAccessible>
<Status>${s.status}</Status>
<CreatedAt>${iso(queue.createdAt)}</CreatedAt>
<UpdatedAt>${iso(queue.updatedAt)}</UpdatedAt>
<AccessedAt>${iso(queue.accessedAt)}</AccessedAt>
<SupportOrdering>true</SupportOrdering>
<CountDetails xmlns:d2p1="http://schemas.microsoft.com/netservices/2011/06/servicebus">
<d2p1:ActiveMessageCount>${counts.activeMessageCount}</d2p1:ActiveMessageCount>
<d2p1:DeadLetterMessageCount>${counts.deadLetterMessageCount}</d2p1:DeadLetterMessageCount>
<d2p1:ScheduledMessageCount>${counts.scheduledMessageCount}</d2p1:ScheduledMessageCount>
<d2p1:TransferMessageCount>0</d2p1:TransferMessageCount>
<d2p1:TransferDeadLetterMessageCount>0</d2p1:TransferDeadLetterMessageCount>
</CountDetails>
<AutoDeleteOnIdle>${NEVER}</AutoDeleteOnIdle>
<EnablePartitioning>false</EnablePartitioning>
<EntityAvailabilityStatus>Available</EntityAvailabilityStatus>
<EnableExpress>false</EnableExpress>
</QueueDescription>
</content>
</entry>`;
}

function feedXml(entries: string[], selfUrl: string, nextUrl: string | undefined, now: number): string {
  const next = nextUrl === undefined ? '' : `<link rel="next" href="${escapeXml(nextUrl)}"/>`;
  return `<feed xmlns="http://www.w3.org/2005/Atom"><title type="text">Queues</title><id>${escapeXml(selfUrl)}</id><updated>${iso(now)}</updated><link rel="self" href="${escapeXml(selfUrl)}"/>${next}${entries.join('')}</feed>`;
}

function errorXml(code: number, detail: string): string {
  return `<Error><Code>${code}</Code><Detail>${escapeXml(detail)}</Detail></Error>`;
}

function element(xml: string, name: string): string | undefined {
  const match = new RegExp(`<(?:\\w+:)?${name}>([^<]*)</(?:\\w+:)?${name}>`).exec(xml);
  return match?.[1]?.trim();
}

/** The settings a QueueDescription asks for; unsupported features are refused clearly. */
export function parseQueueDescription(xml: string): Partial<QueueSettings> {
  const settings: Partial<QueueSettings> = {};
  const lock = element(xml, 'LockDuration');
  if (lock !== undefined) {
    const ms = durationToMs(lock);
    if (ms === undefined) throw new StoreError('amqp:invalid-field', `LockDuration '${lock}' is not an ISO 8601 duration such as PT30S.`);
    settings.lockDurationMs = ms;
  }
  const maxDelivery = element(xml, 'MaxDeliveryCount');
  if (maxDelivery !== undefined) settings.maxDeliveryCount = Number(maxDelivery);
  const status = element(xml, 'Status');
  if (status !== undefined) {
    if (!QUEUE_STATUSES.includes(status as QueueStatus))
      throw new StoreError('amqp:invalid-field', `Status '${status}' must be one of ${QUEUE_STATUSES.join(', ')}.`);
    settings.status = status as QueueStatus;
  }
  const ttl = element(xml, 'DefaultMessageTimeToLive');
  if (ttl !== undefined && ttl !== NEVER) settings.defaultTtlMs = durationToMs(ttl);
  const dlqOnExpiry = element(xml, 'DeadLetteringOnMessageExpiration');
  if (dlqOnExpiry !== undefined) settings.deadLetterOnExpiration = dlqOnExpiry === 'true';
  for (const unsupported of ['RequiresSession', 'EnablePartitioning', 'RequiresDuplicateDetection']) {
    if (element(xml, unsupported) === 'true') throw new StoreError('amqp:not-implemented', `The stand-in does not support ${unsupported}=true.`);
  }
  if (element(xml, 'ForwardTo') || element(xml, 'ForwardDeadLetteredMessagesTo')) {
    throw new StoreError('amqp:not-implemented', 'The stand-in does not support auto-forwarding (ForwardTo).');
  }
  return settings;
}

export interface AtomServer {
  port: number;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new StoreError('amqp:invalid-field', `Request body larger than ${MAX_BODY_BYTES} bytes.`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: string, contentType = 'application/xml; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function statusForCondition(condition: string): number {
  if (condition === 'com.microsoft:entity-already-exists') return 409;
  if (condition === 'amqp:not-found') return 404;
  return 400;
}

function decodedPath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path; // not percent-encoded after all; compare as written
  }
}

/** Why the Authorization header does not allow a request on `path` (decoded, no leading /), or undefined when it does. */
export function refuseRequest(ctx: Pick<StandinContext, 'keys' | 'store'>, authorization: string, path: string): string | undefined {
  try {
    const token = verifySas(authorization, ctx.keys, ctx.store.clock());
    if (!hasRight(token.rights, 'Manage')) {
      return `Manage claim is required for this operation; key '${token.keyName}' has ${token.rights.join(', ')}.`;
    }
    if (!pathCovers(decodedPath(audiencePath(token.resource)), path)) {
      return `InvalidAudience: the token was signed for '${token.resource}', which does not cover '/${path}'.`;
    }
    return undefined;
  } catch (error) {
    if (!(error instanceof SasError)) throw error;
    return `InvalidSignature: ${error.message}`;
  }
}

async function handle(ctx: StandinContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const host = req.headers.host ?? '127.0.0.1';
  const url = new URL(req.url ?? '/', `http://${host}`);
  const baseUrl = `http://${host}`;
  const name = decodeURIComponent(url.pathname.replace(/^\/+/, ''));

  const refusal = refuseRequest(ctx, String(req.headers.authorization ?? ''), name);
  if (refusal !== undefined) {
    send(res, 401, errorXml(401, refusal));
    return;
  }

  if (name.toLowerCase() === '$resources/queues' && req.method === 'GET') {
    const skip = Number(url.searchParams.get('$skip') ?? 0);
    const top = Number(url.searchParams.get('$top') ?? DEFAULT_PAGE_SIZE);
    const all = ctx.store.listQueues();
    const page = all.slice(skip, skip + top);
    const next = skip + top < all.length ? `${baseUrl}/$Resources/Queues?%24skip=${skip + top}&%24top=${top}&api-version=2021-05` : undefined;
    send(
      res,
      200,
      feedXml(
        page.map((q) => queueEntryXml(q, baseUrl)),
        url.toString(),
        next,
        ctx.store.clock(),
      ),
      'application/atom+xml;type=feed;charset=utf-8',
    );
    return;
  }
  if (name === '' || name.startsWith('$')) {
    send(res, 404, errorXml(404, `The stand-in serves only queues: GET/PUT/DELETE /<queue> and GET /$Resources/Queues (got ${req.method} /${name}).`));
    return;
  }

  const queue = ctx.store.getQueue(name);
  switch (req.method) {
    case 'GET':
      if (queue === undefined) send(res, 404, errorXml(404, `The messaging entity '${name}' could not be found.`));
      else send(res, 200, queueEntryXml(queue, baseUrl), ATOM_CONTENT_TYPE);
      return;
    case 'PUT': {
      const settings = parseQueueDescription(await readBody(req));
      const isUpdate = req.headers['if-match'] === '*';
      if (isUpdate) {
        const updated = ctx.store.updateQueue(name, settings);
        ctx.pumpAll();
        send(res, 200, queueEntryXml(updated, baseUrl), ATOM_CONTENT_TYPE);
        return;
      }
      const created = ctx.store.createQueue(name, settings);
      ctx.logger.info({ queue: created.name }, 'Created queue through the admin API');
      send(res, 201, queueEntryXml(created, baseUrl), ATOM_CONTENT_TYPE);
      return;
    }
    case 'DELETE':
      if (!ctx.store.deleteQueue(name)) send(res, 404, errorXml(404, `The messaging entity '${name}' could not be found.`));
      else send(res, 200, '');
      return;
    default:
      send(res, 405, errorXml(405, `Method ${req.method} is not supported; use GET, PUT or DELETE.`));
  }
}

export async function startAtomServer(ctx: StandinContext, host: string, port: number): Promise<AtomServer> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    handle(ctx, req, res).catch((error: unknown) => {
      if (error instanceof StoreError) {
        send(res, statusForCondition(error.condition), errorXml(statusForCondition(error.condition), error.message));
        return;
      }
      ctx.logger.error({ err: error }, 'Failed to serve ATOM request');
      if (!res.headersSent) send(res, 500, errorXml(500, 'Internal error in the stand-in.'));
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
