/**
 * AWS's binary event-stream framing (`application/vnd.amazon.eventstream`), used by Bedrock's
 * ConverseStream and InvokeModelWithResponseStream. One message:
 *
 *   total length (u32 BE) | headers length (u32 BE) | prelude CRC32 (of the 8 bytes before)
 *   headers                | payload                 | message CRC32 (of everything before)
 *
 * A header is: name length (u8), name (UTF-8), value type (u8), value. Both CRCs are checked:
 * a corrupt frame is an error of the stream, never silently skipped bytes.
 */

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3), as the event-stream framing uses. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export type EventStreamHeaderValue = string | number | boolean | bigint | Uint8Array | Date;

export interface EventStreamMessage {
  headers: Record<string, EventStreamHeaderValue>;
  payload: Uint8Array;
}

export class EventStreamFramingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EventStreamFramingError';
  }
}

const PRELUDE = 12;
const MAX_MESSAGE = 16 * 1024 * 1024;

function readHeaders(b: Uint8Array, start: number, end: number): EventStreamMessage['headers'] {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const headers: EventStreamMessage['headers'] = {};
  const text = new TextDecoder();
  let i = start;
  const need = (n: number) => {
    if (i + n > end) throw new EventStreamFramingError('event-stream header runs past its block');
  };
  while (i < end) {
    need(1);
    const nameLen = b[i++]!;
    need(nameLen + 1);
    const name = text.decode(b.subarray(i, i + nameLen));
    i += nameLen;
    const type = b[i++]!;
    switch (type) {
      case 0:
        headers[name] = true;
        break;
      case 1:
        headers[name] = false;
        break;
      case 2:
        need(1);
        headers[name] = view.getInt8(i);
        i += 1;
        break;
      case 3:
        need(2);
        headers[name] = view.getInt16(i);
        i += 2;
        break;
      case 4:
        need(4);
        headers[name] = view.getInt32(i);
        i += 4;
        break;
      case 5:
        need(8);
        headers[name] = view.getBigInt64(i);
        i += 8;
        break;
      case 6:
      case 7: {
        need(2);
        const len = view.getUint16(i);
        i += 2;
        need(len);
        const v = b.subarray(i, i + len);
        headers[name] = type === 7 ? text.decode(v) : v.slice();
        i += len;
        break;
      }
      case 8:
        need(8);
        headers[name] = new Date(Number(view.getBigInt64(i)));
        i += 8;
        break;
      case 9:
        need(16);
        headers[name] = b.slice(i, i + 16);
        i += 16;
        break;
      default:
        throw new EventStreamFramingError(`unknown event-stream header type ${type}`);
    }
  }
  return headers;
}

/** Incremental decoder: push bytes as they arrive, get whole, CRC-checked messages. */
export class EventStreamDecoder {
  private buf = new Uint8Array(0);

  push(bytes: Uint8Array): EventStreamMessage[] {
    const joined = new Uint8Array(this.buf.length + bytes.length);
    joined.set(this.buf, 0);
    joined.set(bytes, this.buf.length);
    this.buf = joined;
    const out: EventStreamMessage[] = [];
    let off = 0;
    while (this.buf.length - off >= PRELUDE) {
      const view = new DataView(this.buf.buffer, this.buf.byteOffset + off);
      const total = view.getUint32(0);
      const headersLen = view.getUint32(4);
      if (crc32(this.buf, off, off + 8) !== view.getUint32(8))
        throw new EventStreamFramingError('event-stream prelude CRC mismatch');
      if (total < PRELUDE + 4 + headersLen || total > MAX_MESSAGE)
        throw new EventStreamFramingError(`event-stream message length ${total} is invalid`);
      if (this.buf.length - off < total) break;
      if (crc32(this.buf, off, off + total - 4) !== view.getUint32(total - 4))
        throw new EventStreamFramingError('event-stream message CRC mismatch');
      const headers = readHeaders(this.buf, off + PRELUDE, off + PRELUDE + headersLen);
      const payload = this.buf.slice(off + PRELUDE + headersLen, off + total - 4);
      out.push({ headers, payload });
      off += total;
    }
    this.buf = this.buf.slice(off);
    return out;
  }

  /** Bytes of an unfinished message are pending (the stream was cut mid-frame). */
  get hasPartial(): boolean {
    return this.buf.length > 0;
  }
}

/** Encodes one message with string headers (what Bedrock sends; also used by the simulator). */
export function encodeEventStreamMessage(
  headers: Record<string, string>,
  payload: Uint8Array,
): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  let headersLen = 0;
  for (const [name, value] of Object.entries(headers)) {
    const n = enc.encode(name);
    const v = enc.encode(value);
    const h = new Uint8Array(1 + n.length + 1 + 2 + v.length);
    h[0] = n.length;
    h.set(n, 1);
    h[1 + n.length] = 7;
    new DataView(h.buffer).setUint16(2 + n.length, v.length);
    h.set(v, 4 + n.length);
    parts.push(h);
    headersLen += h.length;
  }
  const total = PRELUDE + headersLen + payload.length + 4;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, total);
  view.setUint32(4, headersLen);
  view.setUint32(8, crc32(out, 0, 8));
  let off = PRELUDE;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  out.set(payload, off);
  view.setUint32(total - 4, crc32(out, 0, total - 4));
  return out;
}
