// The few pieces of the protobuf wire format that rewriting an ONNX model needs: reading a
// message's fields (keeping each field's raw bytes, so anything not rewritten is copied as it
// was) and writing the field kinds a graph node has (strings, varints, floats, sub-messages).
// No schema and no dependency: an ONNX file is a ModelProto, and the rewrite touches only its
// graph's nodes (see fuse.ts).

/** Wire types of the protobuf encoding. */
export const VARINT = 0;
export const FIXED64 = 1;
export const BYTES = 2;
export const FIXED32 = 5;

/** One field of a message: its number, wire type, payload range and (for varints) value. */
export interface Field {
  no: number;
  wire: number;
  /** The varint's value (wire type 0); 0 for the others. */
  value: number;
  /** Payload (bytes, fixed32 or fixed64 contents) within the buffer. */
  start: number;
  end: number;
  /** The whole field, key included, within the buffer: copy these bytes to keep it unchanged. */
  rawStart: number;
}

export class ProtobufError extends Error {
  override name = 'ProtobufError';
}

function readVarint(buf: Uint8Array, at: number): { value: number; next: number } {
  let value = 0;
  let scale = 1;
  let p = at;
  for (;;) {
    if (p >= buf.length) throw new ProtobufError(`varint runs past the end of the data at byte ${at}`);
    const byte = buf[p++]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return { value, next: p };
    scale *= 128;
    if (scale > 2 ** 63) throw new ProtobufError(`varint longer than 10 bytes at byte ${at}`);
  }
}

const PAYLOAD_BYTES: Record<number, number> = { [FIXED64]: 8, [FIXED32]: 4 };

/** The fields of the message in `buf[start, end)`, in order. */
export function readFields(buf: Uint8Array, start = 0, end = buf.length): Field[] {
  const out: Field[] = [];
  let p = start;
  while (p < end) {
    const rawStart = p;
    const key = readVarint(buf, p);
    p = key.next;
    const no = Math.floor(key.value / 8);
    const wire = key.value % 8;
    if (wire === VARINT) {
      const v = readVarint(buf, p);
      out.push({ no, wire, value: v.value, start: p, end: v.next, rawStart });
      p = v.next;
      continue;
    }
    let length: number;
    if (wire === BYTES) {
      const len = readVarint(buf, p);
      p = len.next;
      length = len.value;
    } else if (PAYLOAD_BYTES[wire] !== undefined) {
      length = PAYLOAD_BYTES[wire];
    } else {
      throw new ProtobufError(`unsupported wire type ${wire} at byte ${rawStart}`);
    }
    if (p + length > end) throw new ProtobufError(`field ${no} at byte ${rawStart} runs past the end of its message`);
    out.push({ no, wire, value: 0, start: p, end: p + length, rawStart });
    p += length;
  }
  return out;
}

/** The varints of a packed repeated field's payload. */
export function packedVarints(buf: Uint8Array, field: Field): number[] {
  const out: number[] = [];
  for (let p = field.start; p < field.end;) {
    const v = readVarint(buf, p);
    out.push(v.value);
    p = v.next;
  }
  return out;
}

/** The field's payload as UTF-8 text (a string field). */
export function fieldText(buf: Uint8Array, field: Field): string {
  return Buffer.from(buf.buffer, buf.byteOffset + field.start, field.end - field.start).toString('utf8');
}

/** The whole field, key included, as a view of the buffer. */
export function rawField(buf: Uint8Array, field: Field): Uint8Array {
  return buf.subarray(field.rawStart, field.end);
}

function varint(value: number): number[] {
  const bytes: number[] = [];
  let v = value;
  while (v >= 0x80) {
    bytes.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return bytes;
}

/** A length-delimited field (string, bytes or sub-message). */
export function bytesField(no: number, payload: Uint8Array): Uint8Array {
  return Buffer.concat([Uint8Array.from([...varint(no * 8 + BYTES), ...varint(payload.length)]), payload]);
}

export function textField(no: number, text: string): Uint8Array {
  return bytesField(no, Buffer.from(text, 'utf8'));
}

export function varintField(no: number, value: number): Uint8Array {
  return Uint8Array.from([...varint(no * 8 + VARINT), ...varint(value)]);
}

export function floatField(no: number, value: number): Uint8Array {
  const payload = new Uint8Array(4);
  new DataView(payload.buffer).setFloat32(0, value, true);
  return Uint8Array.from([...varint(no * 8 + FIXED32), ...payload]);
}
