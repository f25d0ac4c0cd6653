/**
 * TileEncoder: one per viewer connection. Codes dirty rects as SOLID / PALETTE /
 * TRUECOLOR tiles (plus COPY ops) through the connection's persistent deflate
 * stream, on native threads. Updates must be sent in the order they were encoded.
 */
import * as os from 'node:os';
import { checkInt, fromNative, invalidArg } from '../errors';
import { CopyRect, Frame, Rect, copiesToArray, rectsToArray, validateFrame } from '../frame';
import { native, NativeTileEncoder, OpCounts } from '../native/binding';
import { DEFAULT_TILE_SIZE, MAX_TILE_SIZE, MIN_TILE_SIZE } from '../detect/changeDetector';

export interface TileEncoderOptions {
  /** Tile edge used to split rects for per-tile codec choice (default 64). */
  tileSize?: number;
  /** zlib level 1..9 (default 6: text and UI compress far better than at 1, still fast on palette data). */
  deflateLevel?: number;
  /** Native threads per encode, including the calling worker (default: cores, at most 4). */
  threads?: number;
}

export interface EncodeOptions {
  /** Copy ops, applied by the viewer before the pixel rects, in order. */
  copies?: readonly CopyRect[];
  /** Restart the deflate stream (new viewer, resize, recovery). */
  keyframe?: boolean;
}

export interface EncodedRects {
  /** Raw-deflate op stream for an UPDATE message. */
  stream: Uint8Array;
  opCount: number;
  keyframe: boolean;
  stats: { ops: OpCounts; pixels: OpCounts; rawBytes: number };
}

export class TileEncoder {
  readonly tileSize: number;
  readonly deflateLevel: number;
  readonly threads: number;
  private readonly impl: NativeTileEncoder;

  constructor(options: TileEncoderOptions = {}) {
    if (typeof options !== 'object' || options === null) throw invalidArg('options', 'an object', options);
    this.tileSize = checkInt('tileSize', options.tileSize ?? DEFAULT_TILE_SIZE, MIN_TILE_SIZE, MAX_TILE_SIZE);
    this.deflateLevel = checkInt('deflateLevel', options.deflateLevel ?? 6, 1, 9);
    this.threads = checkInt('threads', options.threads ?? Math.min(4, os.availableParallelism()), 1, 64);
    this.impl = new (native().NativeTileEncoder)(this.tileSize, this.deflateLevel, this.threads);
  }

  /** Encodes `rects` of `frame`. The frame's pixels must not change until the promise settles. */
  async encode(frame: Frame, rects: readonly Rect[], options: EncodeOptions = {}): Promise<EncodedRects> {
    const args = this.args(frame, rects, options);
    try {
      return this.wrap(await this.impl.encode(...args), args[6]);
    } catch (err) {
      throw fromNative(err);
    }
  }

  /** Same as encode() but blocks the JS thread. For benchmarks and tests only. */
  encodeSync(frame: Frame, rects: readonly Rect[], options: EncodeOptions = {}): EncodedRects {
    const args = this.args(frame, rects, options);
    try {
      return this.wrap(this.impl.encodeSync(...args), args[6]);
    } catch (err) {
      throw fromNative(err);
    }
  }

  private args(frame: Frame, rects: readonly Rect[], options: EncodeOptions) {
    const f = validateFrame(frame);
    if (typeof options !== 'object' || options === null) throw invalidArg('options', 'an object', options);
    const keyframe = options.keyframe ?? false;
    if (typeof keyframe !== 'boolean') throw invalidArg('keyframe', 'a boolean', keyframe);
    return [
      f.data,
      f.width,
      f.height,
      f.stride,
      rectsToArray(rects, f.width, f.height),
      copiesToArray(options.copies ?? [], f.width, f.height),
      keyframe,
    ] as const;
  }

  private wrap(r: { stream: Buffer; opCount: number; stats: EncodedRects['stats'] }, keyframe: boolean): EncodedRects {
    return { stream: r.stream, opCount: r.opCount, keyframe, stats: r.stats };
  }
}
