// Converting between AMQP messages on the wire and the store's MessageInput, and
// building the deliveries the SDK reads (serviceBusMessage.js fromRheaMessage).
//
// The body (data, amqp-value or amqp-sequence sections) is kept as the exact bytes the
// sender encoded, so any body type round-trips unchanged. Header, properties,
// application properties and annotations are decoded because the broker edits them.
import rhea from 'rhea';
import type { MessageInput, StoredMessage, MessageState } from './queue-store.ts';

const { message: amqp } = rhea;
/** rhea's typings omit the Reader and Writer it exports. */
const types = rhea.types as typeof rhea.types & {
  Reader: new (buffer: Buffer) => { read(): unknown; remaining(): number; position: number };
  Writer: new () => { write(value: unknown): void; toBuffer(): Buffer };
};

/** Message format of the SDK's batch envelope (serviceBusMessageBatch.js). */
export const BATCH_FORMAT = 0x80013700;

const SECTION = {
  header: 0x70,
  deliveryAnnotations: 0x71,
  messageAnnotations: 0x72,
  properties: 0x73,
  applicationProperties: 0x74,
  data: 0x75,
  sequence: 0x76,
  value: 0x77,
  footer: 0x78,
} as const;

const SYMBOLIC_SECTIONS: Record<string, number> = {
  'amqp:header:list': SECTION.header,
  'amqp:delivery-annotations:map': SECTION.deliveryAnnotations,
  'amqp:message-annotations:map': SECTION.messageAnnotations,
  'amqp:properties:list': SECTION.properties,
  'amqp:application-properties:map': SECTION.applicationProperties,
  'amqp:data:binary': SECTION.data,
  'amqp:amqp-sequence:list': SECTION.sequence,
  'amqp:value:*': SECTION.value,
  'amqp:footer:map': SECTION.footer,
};

/** What the store keeps per message besides what it edits itself. */
export interface MessageContent {
  header: { durable?: boolean; priority?: number; ttl?: number };
  properties: Record<string, unknown>;
  /** The encoded body and footer sections, exactly as sent. */
  bodySections: Buffer;
}

/** Annotations the broker owns: stripped on input, set fresh on every delivery. */
const BROKER_ANNOTATIONS = [
  'x-opt-sequence-number',
  'x-opt-enqueued-time',
  'x-opt-locked-until',
  'x-opt-message-state',
  'x-opt-deadletter-source',
  'x-opt-enqueue-sequence-number',
  'x-opt-lock-token',
];

function sectionCode(descriptor: unknown): number | undefined {
  if (typeof descriptor === 'number') return descriptor;
  if (typeof descriptor === 'string') return SYMBOLIC_SECTIONS[descriptor];
  return undefined;
}

/** The raw bytes of the body and footer sections of an encoded message. */
export function bodySectionBytes(encoded: Buffer): Buffer {
  const reader = new types.Reader(encoded);
  const parts: Buffer[] = [];
  while (reader.remaining()) {
    const start = reader.position;
    const section = reader.read() as { descriptor?: { value: unknown } };
    const end = reader.position;
    const code = sectionCode(section.descriptor?.value);
    if (code !== undefined && code >= SECTION.data) parts.push(encoded.subarray(start, end));
  }
  return Buffer.concat(parts);
}

export class InvalidMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidMessageError';
  }
}

/** rhea's decoded message: header and properties fields flattened onto one object. */
interface DecodedMessage {
  [field: string]: unknown;
  message_annotations?: Record<string, unknown>;
  application_properties?: Record<string, unknown>;
}

/** Section builders rhea exports but does not type. */
const sectionBuilders = amqp as unknown as {
  header(fields: object): { described(): unknown };
  properties(fields: object): { described(): unknown };
};

/** Decodes one encoded AMQP message into what the store accepts. */
export function parseMessage(encoded: Buffer): MessageInput<MessageContent> {
  let decoded: DecodedMessage;
  let bodySections: Buffer;
  try {
    decoded = amqp.decode(encoded);
    bodySections = bodySectionBytes(encoded);
  } catch (error) {
    throw new InvalidMessageError(`The message could not be decoded as AMQP 1.0: ${(error as Error).message}`);
  }
  const annotations: Record<string, unknown> = { ...(decoded.message_annotations ?? {}) };
  const scheduled = annotations['x-opt-scheduled-enqueue-time'];
  for (const name of BROKER_ANNOTATIONS) delete annotations[name];
  const properties: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(decoded)) {
    if (PROPERTY_FIELDS.has(key) && value !== undefined && value !== null) properties[key] = value;
  }
  const messageId = properties.message_id;
  const ttl = typeof decoded.ttl === 'number' && decoded.ttl > 0 ? decoded.ttl : undefined;
  return {
    messageId: messageId === undefined ? undefined : messageIdToString(messageId),
    timeToLiveMs: ttl,
    scheduledEnqueueTime: scheduled instanceof Date ? scheduled.getTime() : typeof scheduled === 'number' ? scheduled : undefined,
    applicationProperties: { ...(decoded.application_properties ?? {}) },
    annotations,
    sizeInBytes: encoded.length,
    content: {
      header: pickHeader(decoded),
      properties,
      bodySections,
    },
  };
}

/** rhea flattens the header and properties sections onto the message object. */
const PROPERTY_FIELDS = new Set([
  'message_id',
  'user_id',
  'to',
  'subject',
  'reply_to',
  'correlation_id',
  'content_type',
  'content_encoding',
  'absolute_expiry_time',
  'creation_time',
  'group_id',
  'group_sequence',
  'reply_to_group_id',
]);

function pickHeader(decoded: DecodedMessage): MessageContent['header'] {
  const header: MessageContent['header'] = {};
  if (typeof decoded.durable === 'boolean') header.durable = decoded.durable;
  if (typeof decoded.priority === 'number') header.priority = decoded.priority;
  if (typeof decoded.ttl === 'number') header.ttl = decoded.ttl;
  return header;
}

function messageIdToString(id: unknown): string {
  if (Buffer.isBuffer(id)) return id.length === 16 ? rhea.uuid_to_string(id) : id.toString('hex');
  return String(id);
}

/**
 * Splits a transfer into messages: format 0 is one message, the batch format is an
 * envelope whose data sections each hold a complete encoded message.
 */
export function parseTransfer(payload: Buffer, format: number): MessageInput<MessageContent>[] {
  if (format === 0) return [parseMessage(payload)];
  if (format !== BATCH_FORMAT) throw new InvalidMessageError(`Unsupported message format 0x${format.toString(16)}; expected 0 or 0x80013700 (batch).`);
  const envelope = amqp.decode(payload) as { body?: { typecode?: number; content?: unknown; multiple?: boolean } };
  const body = envelope.body;
  if (body?.typecode !== SECTION.data) throw new InvalidMessageError('A batch envelope must carry its messages in data sections.');
  const entries = body.multiple ? (body.content as Buffer[]) : [body.content as Buffer];
  return entries.map((entry) => parseMessage(Buffer.from(entry)));
}

const STATE_CODES: Record<MessageState, number> = { active: 0, deferred: 1, scheduled: 2 };

/** Builds the encoded message the SDK receives, with the broker's annotations. */
export function encodeDelivery(message: StoredMessage<MessageContent>): Buffer {
  const { header, properties, bodySections } = message.content;
  const annotations: Record<string, unknown> = {
    ...message.annotations,
    'x-opt-sequence-number': types.wrap_long(message.sequenceNumber),
    'x-opt-enqueued-time': new Date(message.enqueuedAt),
    'x-opt-message-state': types.wrap_int(STATE_CODES[message.state]),
  };
  if (message.lockedUntil !== undefined) annotations['x-opt-locked-until'] = new Date(message.lockedUntil);
  if (message.deadLetterSource !== undefined) annotations['x-opt-deadletter-source'] = message.deadLetterSource;
  if (message.state === 'scheduled') annotations['x-opt-scheduled-enqueue-time'] = new Date(message.visibleAt);
  const sections = [
    sectionBuilders.header({ ...header, delivery_count: message.deliveryCount }).described(),
    types.described_nc(types.wrap_ulong(SECTION.messageAnnotations), types.wrap_symbolic_map(annotations)),
    sectionBuilders.properties({ ...properties, message_id: properties.message_id ?? message.messageId }).described(),
    types.described_nc(types.wrap_ulong(SECTION.applicationProperties), types.wrap_map(message.applicationProperties)),
  ];
  const writer = new types.Writer();
  for (const section of sections) writer.write(section);
  return Buffer.concat([writer.toBuffer(), bodySections]);
}

/**
 * Lock tokens travel as delivery tags in .NET Guid byte order (the SDK swaps bytes 0-3,
 * 4-5 and 6-7 back before formatting). Management payloads use plain RFC 4122 order.
 */
export function lockTokenToDeliveryTag(lockToken: string): Buffer {
  const b = Buffer.from(rhea.string_to_uuid(lockToken));
  return Buffer.from([b[3]!, b[2]!, b[1]!, b[0]!, b[5]!, b[4]!, b[7]!, b[6]!, ...b.subarray(8)]);
}

export function lockTokenToUuid(lockToken: string): Buffer {
  return Buffer.from(rhea.string_to_uuid(lockToken));
}

export function uuidToLockToken(value: unknown): string {
  if (Buffer.isBuffer(value) && value.length === 16) return rhea.uuid_to_string(value).toLowerCase();
  if (typeof value === 'string') return value.toLowerCase();
  throw new InvalidMessageError('A lock token must be a uuid.');
}

/** Longs arrive as numbers or as 8-byte big-endian buffers (the SDK sends Long.toBytesBE()). */
export function longToNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (Buffer.isBuffer(value) && value.length === 8) return Number(value.readBigInt64BE(0));
  if (typeof value === 'bigint') return Number(value);
  throw new InvalidMessageError(`Expected a long (sequence number), got ${typeof value}.`);
}
