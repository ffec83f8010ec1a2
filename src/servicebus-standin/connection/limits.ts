// Limits that hold before a peer has authenticated, so one connection cannot make the
// stand-in buffer without bound:
// - FrameSizeGuard reads the frame sizes of the raw byte stream and cuts a connection
//   that declares a frame larger than the max-frame-size we announce (rhea itself would
//   wait for any declared size, up to 4 GiB, before it parses a frame).
// - limitDeliveries refuses a multi-frame transfer as soon as its bytes pass the message
//   size limit, instead of after rhea has assembled the whole message.
// - The CBS deadline (in amqp-server.ts) closes connections that put no token on $cbs.
import type { Connection } from 'rhea';

/** Announced as max-frame-size in our open performative, in bytes. Default 256 KiB. */
export const DEFAULT_MAX_FRAME_SIZE = 256 * 1024;
/** AMQP 1.0's MIN-MAX-FRAME-SIZE: no peer may announce less, in bytes. */
export const MIN_MAX_FRAME_SIZE = 512;
/** Time a connection has to put its first valid CBS token, in ms. Default 60 s. */
export const DEFAULT_AUTH_TIMEOUT_MS = 60_000;
/** Frames every protocol header (`AMQP` + id + version) starts with. */
const HEADER_MAGIC = 0x414d5150;
const HEADER_BYTES = 8;
/** A frame's own header (size, data offset, type, channel), in bytes. */
const FRAME_HEADER_BYTES = 8;

/**
 * Follows frame boundaries in the byte stream a peer sends (protocol headers and frames of
 * the SASL and AMQP layers) and reports the first frame whose declared size is out of range.
 * It keeps at most 3 bytes between chunks, never a frame.
 */
export class FrameSizeGuard {
  readonly maxFrameSize: number;
  /** Bytes of the current header or frame still to pass. */
  private remaining = 0;
  /** The start of a size field (or header) cut by a chunk boundary, at most 3 bytes. */
  private partial = Buffer.alloc(0);

  constructor(maxFrameSize: number) {
    this.maxFrameSize = maxFrameSize;
  }

  /** Feeds the next chunk; returns why the stream is refused, or undefined while it is fine. */
  push(chunk: Buffer): string | undefined {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.remaining > 0) {
        const step = Math.min(this.remaining, chunk.length - offset);
        this.remaining -= step;
        offset += step;
        continue;
      }
      const take = Math.min(4 - this.partial.length, chunk.length - offset);
      this.partial = Buffer.concat([this.partial, chunk.subarray(offset, offset + take)]);
      offset += take;
      if (this.partial.length < 4) return undefined;
      const size = this.partial.readUInt32BE(0);
      this.partial = Buffer.alloc(0);
      if (size === HEADER_MAGIC) {
        // A protocol header: after SASL the client sends the AMQP header. No frame this
        // size is allowed, so the magic cannot be mistaken for a frame size.
        this.remaining = HEADER_BYTES - 4;
        continue;
      }
      if (size < FRAME_HEADER_BYTES || size > this.maxFrameSize) {
        return `a frame of ${size} bytes is outside 8..${this.maxFrameSize} bytes (the announced max-frame-size)`;
      }
      this.remaining = size - 4;
    }
    return undefined;
  }
}

/** The parts of rhea 3.0.x a transfer frame passes through (private API, pinned by package-lock). */
interface TransferFrame {
  channel: number;
  performative: { handle: number; more?: boolean };
  payload?: Buffer;
}
interface IncompleteDelivery {
  frames: Buffer[];
  reject(error: { condition: string; description: string }): void;
}
interface RheaLink {
  _incomplete?: IncompleteDelivery | undefined;
  credit: number;
  delivery_count: number;
  is_remote_open(): boolean;
}
interface RheaSession {
  incoming: { next_transfer_id: number };
  remote: { handles: Record<number, RheaLink | undefined> };
}
interface RheaConnection {
  on_transfer(frame: TransferFrame): void;
  remote_channel_map: Record<number, RheaSession | undefined>;
}

export interface DeliveryLimits {
  /** Largest message (or batch) in bytes, as announced in max-message-size. */
  maxMessageSize: number;
  /** Bytes of unfinished deliveries one connection may hold across all its links. */
  maxPendingBytes: number;
  /** Told about each refused delivery (for a log line). */
  onRefused(reason: string): void;
}

/**
 * Makes rhea refuse a transfer while its frames arrive: once the frames of an unfinished
 * delivery on a link pass `maxMessageSize` (or the connection's unfinished deliveries pass
 * `maxPendingBytes`), the delivery is rejected with `amqp:link:message-size-exceeded` (or
 * `amqp:resource-limit-exceeded`), the bytes held so far are dropped, and the rest of its
 * frames are counted for flow control but not kept. The SDK raises the rejection as
 * ServiceBusError MessageSizeExceeded, and the link stays usable for the next message.
 * A message that completes within its frames is left to the link's own size check.
 */
export function limitDeliveries(connection: Connection, limits: DeliveryLimits): void {
  const rhea = connection as unknown as RheaConnection;
  const deliver = rhea.on_transfer.bind(rhea);
  /** Bytes held per link for its unfinished delivery. */
  const pending = new Map<RheaLink, number>();
  /** Links whose unfinished delivery was refused: its remaining frames are dropped. */
  const dropping = new Set<RheaLink>();

  const pendingTotal = (): number => {
    let total = 0;
    for (const [link, bytes] of pending) {
      if (link.is_remote_open()) total += bytes;
      else pending.delete(link); // detached mid-delivery: rhea dropped it too
    }
    return total;
  };

  rhea.on_transfer = (frame: TransferFrame): void => {
    const session = rhea.remote_channel_map[frame.channel];
    const link = session?.remote.handles[frame.performative.handle];
    if (session === undefined || link === undefined) {
      deliver(frame); // rhea raises its own protocol error
      return;
    }
    if (dropping.has(link)) {
      // What rhea's Incoming.on_transfer does for a frame, minus keeping the bytes and
      // dispatching the message: the transfer id advances (session flow), and the last
      // frame ends the delivery, which uses up one credit.
      session.incoming.next_transfer_id++;
      if (frame.performative.more !== true) {
        dropping.delete(link);
        link._incomplete = undefined;
        if (link.credit > 0) link.credit--;
        link.delivery_count++;
      }
      return;
    }
    const before = link._incomplete === undefined ? 0 : (pending.get(link) ?? 0);
    deliver(frame);
    const delivery = link._incomplete;
    if (delivery === undefined) {
      pending.delete(link);
      return;
    }
    const bytes = before + (frame.payload?.length ?? 0);
    pending.set(link, bytes);
    let refusal: { condition: string; description: string } | undefined;
    if (bytes > limits.maxMessageSize) {
      refusal = {
        condition: 'amqp:link:message-size-exceeded',
        description: `The message passed the maximum of ${limits.maxMessageSize} bytes after ${bytes} bytes of its frames.`,
      };
    } else if (pendingTotal() > limits.maxPendingBytes) {
      refusal = {
        condition: 'amqp:resource-limit-exceeded',
        description: `The connection's unfinished messages passed ${limits.maxPendingBytes} bytes.`,
      };
    }
    if (refusal === undefined) return;
    pending.delete(link);
    delivery.frames = [];
    delivery.reject(refusal);
    dropping.add(link);
    limits.onRefused(refusal.description);
  };
}
