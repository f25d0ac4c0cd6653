/**
 * Little-endian byte writer and bounds-checked reader over Uint8Array/DataView.
 * The reader throws ERR_TRUNCATED instead of reading past the end, so message
 * decoders can be written as straight-line code.
 */
import { ErrorCodes, TilecastError } from '../errors';

const utf8Encoder = new TextEncoder();
// ignoreBOM: a leading U+FEFF is part of the string (the default would drop it, so text would not round-trip).
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initialSize = 64) {
    this.buf = new Uint8Array(initialSize);
    this.view = new DataView(this.buf.buffer);
  }

  private reserve(n: number): number {
    const at = this.pos;
    if (at + n > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, at + n));
      next.set(this.buf.subarray(0, at));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    this.pos += n;
    return at;
  }

  u8(v: number): this {
    this.view.setUint8(this.reserve(1), v);
    return this;
  }
  u16(v: number): this {
    this.view.setUint16(this.reserve(2), v, true);
    return this;
  }
  i16(v: number): this {
    this.view.setInt16(this.reserve(2), v, true);
    return this;
  }
  u32(v: number): this {
    this.view.setUint32(this.reserve(4), v, true);
    return this;
  }
  f64(v: number): this {
    this.view.setFloat64(this.reserve(8), v, true);
    return this;
  }
  bytes(b: Uint8Array): this {
    const at = this.reserve(b.length); // first: reserve() may replace this.buf
    this.buf.set(b, at);
    return this;
  }
  /** UTF-8 string with a u8 (lenBytes=1) or u16 (lenBytes=2) length prefix. */
  string(s: string, lenBytes: 1 | 2, maxBytes: number, field: string): this {
    // Every UTF-16 code unit takes at least one UTF-8 byte: refuse a long string before encoding it.
    if (s.length > maxBytes) throw new TilecastError(ErrorCodes.TOO_LARGE, `${field} is over ${maxBytes} bytes`);
    const b = utf8Encoder.encode(s);
    if (b.length > maxBytes) throw new TilecastError(ErrorCodes.TOO_LARGE, `${field} is ${b.length} bytes, limit ${maxBytes}`);
    if (lenBytes === 1) this.u8(b.length);
    else this.u16(b.length);
    return this.bytes(b);
  }
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

export class ByteReader {
  private readonly view: DataView;
  private pos = 0;

  constructor(
    private readonly buf: Uint8Array,
    private readonly context: string,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private take(n: number, field: string): number {
    if (n > this.buf.length - this.pos) {
      throw new TilecastError(
        ErrorCodes.TRUNCATED,
        `${this.context}: ${field} needs ${n} bytes at offset ${this.pos}, only ${this.buf.length - this.pos} left`,
      );
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(field: string): number {
    return this.view.getUint8(this.take(1, field));
  }
  u16(field: string): number {
    return this.view.getUint16(this.take(2, field), true);
  }
  i16(field: string): number {
    return this.view.getInt16(this.take(2, field), true);
  }
  u32(field: string): number {
    return this.view.getUint32(this.take(4, field), true);
  }
  f64(field: string): number {
    return this.view.getFloat64(this.take(8, field), true);
  }
  /** A view (not a copy) of the next n bytes. */
  bytes(n: number, field: string): Uint8Array {
    const at = this.take(n, field);
    return this.buf.subarray(at, at + n);
  }
  string(lenBytes: 1 | 2, maxBytes: number, field: string): string {
    const n = lenBytes === 1 ? this.u8(`${field} length`) : this.u16(`${field} length`);
    if (n > maxBytes) throw new TilecastError(ErrorCodes.TOO_LARGE, `${this.context}: ${field} is ${n} bytes, limit ${maxBytes}`);
    const b = this.bytes(n, field);
    try {
      return utf8Decoder.decode(b);
    } catch {
      throw new TilecastError(ErrorCodes.PROTOCOL, `${this.context}: ${field} is not valid UTF-8`);
    }
  }
  /** Every message must be consumed exactly: trailing bytes mean a framing bug or an attack. */
  end(): void {
    if (this.pos !== this.buf.length) {
      throw new TilecastError(ErrorCodes.PROTOCOL, `${this.context}: ${this.buf.length - this.pos} unexpected trailing bytes`);
    }
  }
}
