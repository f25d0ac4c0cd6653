/**
 * OpStreamDecoder: the op-stream decoder in pure TypeScript, for the browser
 * viewer (the Node client uses the native TileDecoder). Same format, same
 * checks: every rect, palette index and copy source is validated before use,
 * inflated output is capped by what the ops could legally need, and after an
 * error the decoder refuses everything until a keyframe resets its stream.
 *
 * Pixels are written as RGBA (canvas ImageData order) or BGRA, alpha 255.
 * Inflate is pako (zlib ported to JS): a persistent raw-inflate context fed
 * one UPDATE at a time, each ending in a sync flush (docs/protocol.md).
 *
 * JPEG ops are not decoded here: apply() checks them and returns their rects
 * and data as `images`, for the caller to decode with the platform's own image
 * decoder (createImageBitmap in a browser) and write with writeImage(). That is
 * safe to do after the other ops because an update's pixel ops cover disjoint
 * rects and every COPY comes first (checked).
 *
 * With a content cache budget (setCacheBudget, from the host's HELLO) it keeps
 * the viewer's content cache (contentCache.ts): PALETTE/PALETTE_DIFF/TRUECOLOR/PREDICTED ops big
 * enough enter it, CACHE_REF ops draw from it; a reference to an entry it
 * does not hold, or of another size, is ERR_PROTOCOL. The cache empties on
 * every keyframe and after any error, as in the native decoder.
 */
import { Inflate, Z_SYNC_FLUSH } from 'pako';
import { ErrorCodes, TilecastError } from '../errors';
import { ContentCache } from './contentCache';
import { OpCounts, emptyOpCounts } from './opCounts';

export type PixelOrder = 'rgba' | 'bgra';

export interface PendingImage {
  x: number;
  y: number;
  w: number;
  h: number;
  /** A baseline JPEG of exactly w x h (a view into the UPDATE's image section). */
  jpeg: Uint8Array;
}

export interface DecodedUpdate {
  ops: OpCounts;
  /** JPEG ops still to be decoded and written (writeImage), in order. */
  images: PendingImage[];
  /** Bounding box of every pixel the update wrote, or null for an empty update. */
  dirty: { x: number; y: number; w: number; h: number } | null;
}

const OP_HEADER = 9;
/**
 * By op code; PALETTE_DIFF (6) is a palette op with difference-coded colours and PREDICTED (7) a
 * truecolour op with predicted pixels: counted as those.
 */
// Counted as the stats count them: PALETTE_DIFF as palette, PREDICTED as truecolor, a CACHE_RUN's tiles as cacheRef.
const OP_NAMES = ['solid', 'palette', 'truecolor', 'copy', 'jpeg', 'cacheRef', 'palette', 'truecolor', 'cacheRef'] as const;

/** LOCO-I's median edge detector (native/codec/predictor.h). */
function medianEdge(a: number, b: number, c: number): number {
  const lo = a < b ? a : b, hi = a < b ? b : a;
  return c >= hi ? lo : c <= lo ? hi : (a + b - c) & 255;
}

/**
 * Draws a PREDICTED op from `w * h * 3` residual bytes at d[pos] into rect (x, y, w, h) of `px`:
 * each pixel's (b-g, g, r-g) is the residual plus its prediction from left, above and above-left
 * within the rect (native/codec/predictor.h); `pixel` packs a colour for the framebuffer's order.
 */
function unpredict(d: Uint8Array, pos: number, w: number, h: number, px: Uint32Array, width: number, x: number, y: number,
  pixel: (b: number, g: number, r: number) => number): void {
  let up = new Uint8Array(w * 3), cur = new Uint8Array(w * 3);
  for (let row = 0; row < h; row++, pos += w * 3) {
    for (let col = 0, k = 0, o = (y + row) * width + x; col < w; col++, o++) {
      for (let c = 0; c < 3; c++, k++) {
        const p = row === 0 ? (col === 0 ? 0 : cur[k - 3]!) : col === 0 ? up[k]! : medianEdge(cur[k - 3]!, up[k]!, up[k - 3]!);
        cur[k] = (d[pos + k]! + p) & 255;
      }
      const g = cur[k - 2]!;
      px[o] = pixel((cur[k - 3]! + g) & 255, g, (cur[k - 1]! + g) & 255);
    }
    [up, cur] = [cur, up];
  }
}

/** Size of pako's output chunks: inflating stops within one chunk past the limit. */
export const INFLATE_CHUNK_BYTES = 256 * 1024;

/** Most ops one update may declare (as the native decoder: 4 per 16x16 block + 64). */
export function maxOps(width: number, height: number): number {
  return Math.ceil(width / 16) * Math.ceil(height / 16) * 4 + 64;
}

/**
 * The most inflated bytes `opCount` ops may legally use: per op a header, the
 * largest body prefix (a 256-colour palette) and a length, plus 3 bytes per
 * pixel over the largest area an update may cover (4 screens). Output beyond
 * this is more data than the ops use, so inflating stops there.
 */
export function maxInflatedBytes(width: number, height: number, opCount: number): number {
  return opCount * (OP_HEADER + 1 + 256 * 3 + 4) + width * height * 4 * 3;
}

/** Thrown from pako's onData to stop inflating (pako has no other way to stop a push). */
const OVER_LIMIT: unique symbol = Symbol('inflate limit');

function fail(code: (typeof ErrorCodes)[keyof typeof ErrorCodes], message: string): never {
  throw new TilecastError(code, message);
}

export class OpStreamDecoder {
  private inflater: Inflate | null = null;
  private desynced = true; // nothing to decode against until the first keyframe
  private inflated = 0;
  /** The viewer's content cache (empty, budget 0, until setCacheBudget()). */
  readonly cache = new ContentCache();

  constructor(private readonly order: PixelOrder = 'rgba') {}

  /** After keepCache(): the next keyframe keeps the cache. */
  private keepAtKeyframe = false;

  /** Bytes of content cache the host agreed to (0: none, CACHE_REF is then an error); empties it. */
  setCacheBudget(bytes: number): void {
    this.cache.setBudget(bytes);
    this.keepAtKeyframe = false;
  }

  /**
   * The host's CACHE_KEEP (a resumed connection): the cache kept from the
   * previous connection keeps what it names (ContentCache.keep) and the next
   * keyframe does not empty it. Throws ERR_PROTOCOL (the cache is then empty).
   */
  keepCache(budget: number, nextId: number, ranges: Uint32Array): void {
    this.keepAtKeyframe = false;
    this.cache.keep(budget, nextId, ranges);
    this.keepAtKeyframe = true;
  }

  /** Bytes the last apply() inflated (it stops just past maxInflatedBytes()). */
  get inflatedBytes(): number {
    return this.inflated;
  }

  /**
   * Applies one UPDATE's op stream to `fb` (width*height*4 bytes). Throws
   * ERR_STREAM_DESYNC before a keyframe after an error, ERR_CORRUPT_STREAM for
   * bad deflate data, ERR_PROTOCOL / ERR_TOO_LARGE / ERR_TRUNCATED for bad ops.
   */
  apply(fb: Uint8Array | Uint8ClampedArray, width: number, height: number, stream: Uint8Array, opCount: number, keyframe: boolean, images: Uint8Array = new Uint8Array(0)): DecodedUpdate {
    if (fb.length !== width * height * 4) fail(ErrorCodes.INVALID_ARG, `framebuffer must be ${width * height * 4} bytes`);
    if (fb.byteOffset % 4 !== 0) fail(ErrorCodes.INVALID_ARG, 'framebuffer must start at a 4-byte aligned offset');
    this.inflated = 0;
    if (keyframe) {
      this.inflater = new Inflate({ raw: true, chunkSize: INFLATE_CHUNK_BYTES });
      this.desynced = false;
      if (!this.keepAtKeyframe) this.cache.clear(); // the first keyframe after a CACHE_KEEP keeps it
      this.keepAtKeyframe = false;
    } else if (this.desynced || !this.inflater) {
      fail(ErrorCodes.STREAM_DESYNC, 'decoder lost its stream state; waiting for a keyframe');
    }
    try {
      if (opCount > maxOps(width, height)) fail(ErrorCodes.TOO_LARGE, `update declares ${opCount} ops, limit ${maxOps(width, height)}`);
      const data = this.inflate(stream, opCount, width, height);
      const result = this.applyOps(fb, width, height, data, opCount, images);
      // Unreachable (ops cannot use more than the limit, so applyOps finds bytes left over); kept as the guarantee.
      if (data.length > maxInflatedBytes(width, height, opCount)) fail(ErrorCodes.PROTOCOL, 'update holds more data than its ops use');
      return result;
    } catch (err) {
      this.desynced = true;
      this.keepAtKeyframe = false;
      this.cache.clear(); // may hold part of the update: empty, it can only miss, never draw stale content
      throw err;
    }
  }

  /**
   * Inflates one update's stream. Stops as soon as the output passes what the
   * ops could need and returns what it has: applyOps() then finds either the
   * bad op the native decoder would stop at, or bytes left over (ERR_PROTOCOL),
   * as the native decoder, which reads only what the ops ask for, does.
   */
  private inflate(stream: Uint8Array, opCount: number, width: number, height: number): Uint8Array {
    const limit = maxInflatedBytes(width, height, opCount);
    const chunks: Uint8Array[] = [];
    let total = 0;
    const inflater = this.inflater!;
    inflater.onData = (chunk: Uint8Array) => {
      chunks.push(chunk);
      total += chunk.length;
      this.inflated = total;
      if (total > limit) throw OVER_LIMIT;
    };
    let overLimit = false;
    try {
      inflater.push(stream, Z_SYNC_FLUSH);
    } catch (err) {
      if (err !== OVER_LIMIT) throw err;
      overLimit = true; // the inflater is abandoned: the caller marks the stream desynced
    }
    if (!overLimit) {
      if (inflater.err) fail(ErrorCodes.CORRUPT_STREAM, `inflate failed: ${inflater.msg || inflater.err}`);
      // A final block (BFINAL=1) ends the deflate stream, which lives as long as the
      // session: pako would take it as success and ignore every later push.
      if (inflater.ended) fail(ErrorCodes.CORRUPT_STREAM, 'deflate stream ended (final block) mid-session');
    }
    if (chunks.length === 1) return chunks[0]!;
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  private applyOps(fb: Uint8Array | Uint8ClampedArray, width: number, height: number, d: Uint8Array, opCount: number, imageSection: Uint8Array): DecodedUpdate {
    // Whole pixels at a time: one 32-bit store per pixel (little-endian, as every
    // browser platform is). `pixel(b, g, r)` packs a wire colour for this order.
    const px = new Uint32Array(fb.buffer, fb.byteOffset, width * height);
    const pixel = this.order === 'rgba'
      ? (b: number, g: number, r: number) => (0xff000000 | (b << 16) | (g << 8) | r) >>> 0
      : (b: number, g: number, r: number) => (0xff000000 | (r << 16) | (g << 8) | b) >>> 0;
    const ops = emptyOpCounts();
    const images: PendingImage[] = [];
    let imagesUsed = 0;
    let pixelsSeen = false; // every COPY must come before the first pixel op
    let pos = 0;
    const need = (n: number, what: string) => {
      if (pos + n > d.length) fail(ErrorCodes.TRUNCATED, `op stream ended inside ${what}`);
    };
    const u16 = (at: number) => d[at]! | (d[at + 1]! << 8);
    let area = 0;
    const maxArea = width * height * 4;
    let x0 = width, y0 = height, x1 = 0, y1 = 0;
    const palette = new Uint32Array(256);
    for (let i = 0; i < opCount; i++) {
      need(OP_HEADER, `op ${i} header`);
      const code = d[pos]!, x = u16(pos + 1), y = u16(pos + 3), w = u16(pos + 5), h = u16(pos + 7);
      pos += OP_HEADER;
      if (code >= OP_NAMES.length) fail(ErrorCodes.PROTOCOL, `op ${i}: unknown op code ${code}`);
      if (w === 0 || h === 0 || x >= width || y >= height || w > width - x || h > height - y) {
        fail(ErrorCodes.PROTOCOL, `op ${i}: rect ${w}x${h}+${x}+${y} is outside the framebuffer`);
      }
      area += w * h;
      if (area > maxArea) fail(ErrorCodes.TOO_LARGE, `op ${i}: update covers more area than allowed`);
      switch (code) {
        case 0: { // SOLID
          need(3, 'a solid colour');
          const c = pixel(d[pos]!, d[pos + 1]!, d[pos + 2]!);
          pos += 3;
          for (let row = y; row < y + h; row++) px.fill(c, row * width + x, row * width + x + w);
          break;
        }
        case 1: // PALETTE
        case 6: { // PALETTE_DIFF: colours as (b-g, g, r-g), each byte minus the previous colour's (mod 256)
          need(1, 'a palette size');
          const n = d[pos]! + 1;
          pos += 1;
          if (n < 2) fail(ErrorCodes.PROTOCOL, 'palette op with fewer than 2 colours');
          need(n * 3, 'a palette');
          if (code === 1) {
            for (let k = 0; k < n; k++, pos += 3) palette[k] = pixel(d[pos]!, d[pos + 1]!, d[pos + 2]!);
          } else {
            for (let k = 0, tb = 0, tg = 0, tr = 0; k < n; k++, pos += 3) {
              tb = (tb + d[pos]!) & 255;
              tg = (tg + d[pos + 1]!) & 255;
              tr = (tr + d[pos + 2]!) & 255;
              palette[k] = pixel((tb + tg) & 255, tg, (tr + tg) & 255);
            }
          }
          const bits = n <= 2 ? 1 : n <= 4 ? 2 : n <= 16 ? 4 : 8;
          const perByte = 8 / bits, mask = (1 << bits) - 1, rowBytes = Math.ceil((w * bits) / 8);
          // Row by row, as the native decoder reads them: a bad index is reported before missing later rows.
          for (let row = 0; row < h; row++) {
            need(rowBytes * (row + 1), 'palette indices');
            let o = (y + row) * width + x;
            let b = pos + row * rowBytes;
            for (let c = 0; c < w; b++) {
              const byte = d[b]!;
              for (let k = 0, shift = 8 - bits; k < perByte && c < w; k++, c++, shift -= bits) {
                const index = (byte >> shift) & mask;
                if (index >= n) fail(ErrorCodes.PROTOCOL, 'palette index beyond the palette');
                px[o++] = palette[index]!;
              }
            }
          }
          pos += rowBytes * h;
          break;
        }
        case 2: { // TRUECOLOR
          need(w * h * 3, 'truecolour pixels');
          for (let row = 0; row < h; row++) {
            for (let o = (y + row) * width + x, end = o + w; o < end; o++, pos += 3) px[o] = pixel(d[pos]!, d[pos + 1]!, d[pos + 2]!);
          }
          break;
        }
        case 7: { // PREDICTED: truecolour as prediction residuals (PREDICTED capability)
          need(w * h * 3, 'predicted pixels');
          unpredict(d, pos, w, h, px, width, x, y, pixel);
          pos += w * h * 3;
          break;
        }
        case 3: { // COPY
          if (pixelsSeen) fail(ErrorCodes.PROTOCOL, `op ${i}: COPY after a pixel op`);
          need(4, 'a copy source');
          const sx = u16(pos), sy = u16(pos + 2);
          pos += 4;
          if (sx >= width || sy >= height || w > width - sx || h > height - sy) fail(ErrorCodes.PROTOCOL, 'copy source is outside the framebuffer');
          // Walk rows away from the overlap; copyWithin is memmove within a row.
          const copyRow = (row: number) => px.copyWithin((y + row) * width + x, (sy + row) * width + sx, (sy + row) * width + sx + w);
          if (sy < y) for (let row = h - 1; row >= 0; row--) copyRow(row);
          else for (let row = 0; row < h; row++) copyRow(row);
          break;
        }
        case 4: { // JPEG: its data is the next `length` bytes of the image section
          need(4, 'a JPEG length');
          const length = (u16(pos) | (u16(pos + 2) << 16)) >>> 0;
          pos += 4;
          if (length > imageSection.length - imagesUsed) fail(ErrorCodes.PROTOCOL, `op ${i}: JPEG wants ${length} bytes, the image section has ${imageSection.length - imagesUsed} left`);
          const jpeg = imageSection.subarray(imagesUsed, imagesUsed + length);
          imagesUsed += length;
          if (length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) fail(ErrorCodes.PROTOCOL, `op ${i}: not a JPEG image`);
          images.push({ x, y, w, h, jpeg });
          break;
        }
        case 5: { // CACHE_REF: draw a content cache entry of exactly w x h
          need(4, 'a cache id');
          const id = (u16(pos) | (u16(pos + 2) << 16)) >>> 0;
          pos += 4;
          if (this.cache.budget === 0) fail(ErrorCodes.PROTOCOL, `op ${i}: CACHE_REF without a content cache (none was negotiated)`);
          const e = this.cache.use(id);
          if (!e) fail(ErrorCodes.PROTOCOL, `op ${i}: CACHE_REF to cache entry ${id}, which the cache does not hold (next id ${this.cache.nextEntryId})`);
          if (e.w !== w || e.h !== h) fail(ErrorCodes.PROTOCOL, `op ${i}: CACHE_REF to cache entry ${id} of ${e.w}x${e.h} for a ${w}x${h} rect`);
          for (let row = 0; row < h; row++) px.set(e.pixels.subarray(row * w, (row + 1) * w), (y + row) * width + x);
          break;
        }
        case 8: { // CACHE_RUN: entries first .. first+count-1 side by side, each h high, widths summing to w
          need(6, 'a cache run');
          const first = (u16(pos) | (u16(pos + 2) << 16)) >>> 0, count = u16(pos + 4);
          pos += 6;
          if (this.cache.budget === 0) fail(ErrorCodes.PROTOCOL, `op ${i}: CACHE_RUN without a content cache (none was negotiated)`);
          if (count === 0) fail(ErrorCodes.PROTOCOL, `op ${i}: CACHE_RUN of 0 entries`);
          let at = x;
          for (let k = 0; k < count; k++) {
            const id = (first + k) >>> 0;
            const e = this.cache.use(id);
            if (!e) fail(ErrorCodes.PROTOCOL, `op ${i}: CACHE_RUN entry ${id}, which the cache does not hold (next id ${this.cache.nextEntryId})`);
            if (e.h !== h || e.w > x + w - at) fail(ErrorCodes.PROTOCOL, `op ${i}: CACHE_RUN entry ${id} of ${e.w}x${e.h} does not fit the ${w}x${h} rect at x ${at}`);
            for (let row = 0; row < h; row++) px.set(e.pixels.subarray(row * e.w, (row + 1) * e.w), (y + row) * width + at);
            at += e.w;
          }
          if (at !== x + w) fail(ErrorCodes.PROTOCOL, `op ${i}: CACHE_RUN of ${count} entries covers ${at - x} of its ${w} columns`);
          ops.cacheRef += count - 1; // + 1 below: every tile counts
          break;
        }
      }
      // The insertion rule of contentCache.ts, applied as the host's mirror does.
      if ((code === 1 || code === 2 || code === 6 || code === 7) && ContentCache.eligible(w, h)) this.cache.insert(px, width, x, y, w, h);
      if (code !== 3) pixelsSeen = true;
      ops[OP_NAMES[code]!]++;
      x0 = Math.min(x0, x);
      y0 = Math.min(y0, y);
      x1 = Math.max(x1, x + w);
      y1 = Math.max(y1, y + h);
    }
    if (pos !== d.length) fail(ErrorCodes.PROTOCOL, `${d.length - pos} bytes left over after ${opCount} ops`);
    if (imagesUsed !== imageSection.length) fail(ErrorCodes.PROTOCOL, `image section has ${imageSection.length - imagesUsed} bytes no op uses`);
    return { ops, images, dirty: x1 > x0 ? { x: x0, y: y0, w: x1 - x0, h: y1 - y0 } : null };
  }
}

/**
 * Writes a decoded image (RGBA rows, `image.width` = w) into the framebuffer
 * at its op's rect, in the decoder's pixel order, alpha 255.
 */
export function writeImage(fb: Uint8Array | Uint8ClampedArray, width: number, op: PendingImage, rgba: Uint8Array | Uint8ClampedArray, order: PixelOrder = 'rgba'): void {
  if (rgba.length < op.w * op.h * 4) fail(ErrorCodes.PROTOCOL, `decoded image is smaller than its ${op.w}x${op.h} rect`);
  if (order === 'rgba') {
    // Same layout: a row copy each, then alpha forced opaque (JPEG has none; be sure).
    for (let row = 0; row < op.h; row++) fb.set(rgba.subarray(row * op.w * 4, (row + 1) * op.w * 4), ((op.y + row) * width + op.x) * 4);
    for (let row = 0; row < op.h; row++) {
      for (let o = ((op.y + row) * width + op.x) * 4 + 3, end = o + op.w * 4; o < end; o += 4) fb[o] = 255;
    }
    return;
  }
  for (let row = 0; row < op.h; row++) {
    let o = ((op.y + row) * width + op.x) * 4;
    let i = row * op.w * 4;
    for (let c = 0; c < op.w; c++, o += 4, i += 4) {
      fb[o] = rgba[i + 2]!;
      fb[o + 1] = rgba[i + 1]!;
      fb[o + 2] = rgba[i]!;
      fb[o + 3] = 255;
    }
  }
}
