/**
 * Minimal PNG writer for viewer snapshots (RGB, 8 bit, filter "none" + zlib).
 * Snapshots are taken on request, not per frame, so the per-pixel conversion
 * loop here is off the hot path.
 */
import * as zlib from 'node:zlib';
import { checkInt } from '../errors';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(parts: Buffer[]): number {
  let c = 0xffffffff;
  for (const p of parts) for (let i = 0; i < p.length; i++) c = CRC_TABLE[(c ^ p[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const t = Buffer.from(type, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32([t, data]));
  return Buffer.concat([len, t, data, crc]);
}

/** Encodes packed BGRA pixels (stride width*4) as a PNG file. */
export function encodePng(bgra: Uint8Array, width: number, height: number): Buffer {
  checkInt('width', width, 1, 65535);
  checkInt('height', height, 1, 65535);
  checkInt('bgra.length', bgra.length, width * height * 4, width * height * 4);
  const raw = Buffer.alloc((width * 3 + 1) * height);
  let o = 0;
  for (let y = 0; y < height; y++) {
    raw[o++] = 0; // filter: none
    let i = y * width * 4;
    for (let x = 0; x < width; x++, i += 4) {
      raw[o++] = bgra[i + 2]!;
      raw[o++] = bgra[i + 1]!;
      raw[o++] = bgra[i]!;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw, { level: 6 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
