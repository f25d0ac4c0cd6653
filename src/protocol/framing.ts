/**
 * Length-prefixed framing for byte-stream transports (TCP, a relay's pipe).
 * WebSocket already frames messages and does not use this. A frame is a u32 LE
 * payload length followed by one encoded message. FrameParser is a small state
 * machine: it never buffers more than one maximum-size message, and memory
 * follows the bytes that arrived, not the length a peer declares (a 4-byte
 * header alone allocates nothing; the buffer at most doubles as data comes).
 */
import { ErrorCodes, TilecastError, checkInt } from '../errors';
import { Limits } from './constants';

export function encodeFrame(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + message.length);
  new DataView(out.buffer).setUint32(0, message.length, true);
  out.set(message, 4);
  return out;
}

export class FrameParser {
  private readonly maxMessageBytes: number;
  private header = new Uint8Array(4);
  private headerFill = 0;
  /** Declared length of the frame in progress; 0 while reading a header. */
  private bodyLength = 0;
  /** What arrived of it so far (capacity <= bodyLength, grown as bytes come). */
  private body = new Uint8Array(0);
  private bodyFill = 0;

  constructor(options: { maxMessageBytes?: number } = {}) {
    this.maxMessageBytes = checkInt('maxMessageBytes', options.maxMessageBytes ?? Limits.MAX_MESSAGE_BYTES, 1, Limits.MAX_MESSAGE_BYTES);
  }

  /** Feeds bytes; returns the messages completed by them (copies, safe to keep). */
  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.bodyLength === 0) {
        const take = Math.min(4 - this.headerFill, chunk.length - at);
        this.header.set(chunk.subarray(at, at + take), this.headerFill);
        this.headerFill += take;
        at += take;
        if (this.headerFill < 4) break;
        const length = new DataView(this.header.buffer).getUint32(0, true);
        if (length === 0) throw new TilecastError(ErrorCodes.PROTOCOL, 'zero-length frame');
        if (length > this.maxMessageBytes) {
          throw new TilecastError(ErrorCodes.TOO_LARGE, `frame of ${length} bytes exceeds ${this.maxMessageBytes}`);
        }
        this.bodyLength = length;
        this.body = new Uint8Array(0);
        this.bodyFill = 0;
        this.headerFill = 0;
        continue;
      }
      const take = Math.min(this.bodyLength - this.bodyFill, chunk.length - at);
      this.reserve(this.bodyFill + take);
      this.body.set(chunk.subarray(at, at + take), this.bodyFill);
      this.bodyFill += take;
      at += take;
      if (this.bodyFill === this.bodyLength) {
        out.push(this.body);
        this.body = new Uint8Array(0);
        this.bodyLength = 0;
        this.bodyFill = 0;
      }
    }
    return out;
  }

  /** True when no partial frame is buffered. */
  get idle(): boolean {
    return this.bodyLength === 0 && this.headerFill === 0;
  }

  /** Room for `need` body bytes: at least double the buffer (amortised copies), never past the declared length. */
  private reserve(need: number): void {
    if (need <= this.body.length) return;
    const next = new Uint8Array(Math.min(this.bodyLength, Math.max(need, this.body.length * 2)));
    next.set(this.body.subarray(0, this.bodyFill));
    this.body = next;
  }
}
