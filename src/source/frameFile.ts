/**
 * .tcf.gz frame files: a single BGRA frame, gzip-compressed, used for the embedded
 * demo scenes and test fixtures. Layout before gzip: "TCF1", u32 width, u32 height
 * (little-endian), then width*height*4 bytes of packed BGRA.
 */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { ErrorCodes, TilecastError } from '../errors';
import { Frame, validateFrame } from '../frame';
import { Limits } from '../protocol/constants';

const MAGIC = 'TCF1';

export function readFrameFile(file: string): Frame {
  const raw = zlib.gunzipSync(fs.readFileSync(file), { maxOutputLength: 12 + Limits.MAX_DIMENSION * Limits.MAX_DIMENSION * 4 });
  if (raw.length < 12 || raw.toString('latin1', 0, 4) !== MAGIC) {
    throw new TilecastError(ErrorCodes.PROTOCOL, `${file}: not a tilecast frame file`);
  }
  const width = raw.readUInt32LE(4);
  const height = raw.readUInt32LE(8);
  if (width < 1 || height < 1 || width > Limits.MAX_DIMENSION || height > Limits.MAX_DIMENSION || raw.length !== 12 + width * height * 4) {
    throw new TilecastError(ErrorCodes.PROTOCOL, `${file}: bad frame size ${width}x${height} for ${raw.length} bytes`);
  }
  return { data: raw.subarray(12), width, height, stride: width * 4 };
}

export function writeFrameFile(file: string, frame: Frame): void {
  const f = validateFrame(frame);
  const out = Buffer.alloc(12 + f.width * f.height * 4);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(f.width, 4);
  out.writeUInt32LE(f.height, 8);
  for (let y = 0; y < f.height; y++) {
    out.set(f.data.subarray(y * f.stride, y * f.stride + f.width * 4), 12 + y * f.width * 4);
  }
  fs.writeFileSync(file, zlib.gzipSync(out, { level: 9 }));
}
