/**
 * TileEncoder: one per viewer connection. Codes dirty rects as SOLID / PALETTE /
 * TRUECOLOR tiles (plus COPY ops) through the connection's persistent deflate
 * stream, and photographic tiles the caller lets go lossy as JPEG images, on
 * native threads. Updates must be sent in the order they were encoded.
 *
 * With `trackSent`, it is backed by the native ViewerEncoder
 * (native/codec/viewer_encoder.h), which remembers what its viewer was sent (a
 * copy of the source pixels, and which tiles the viewer shows lossy: the one
 * owner of that state, see lossyTiles()). The rects given to encode() are then
 * just where to look: it finds scrolled/moved content there (COPY ops), sends
 * only what still differs from what the viewer has, and re-sends `refine`
 * rects exactly. That is what a live session uses (host/viewerEncoder.ts).
 */
import * as os from 'node:os';
import { ErrorCodes, TilecastError, checkInt, fromNative, invalidArg } from '../errors';
import { CopyRect, Frame, Rect, arrayToRects, copiesToArray, rectsToArray, validateFrame } from '../frame';
import { native, NativeViewerEncodeOptions, NativeTileEncoder, NativeViewerEncoder, ParkedCache } from '../native/binding';
import { DEFAULT_TILE_SIZE, MAX_TILE_SIZE, MIN_TILE_SIZE } from '../tileGrid';
import type { OpCounts } from './opCounts';
import { ScreenStore } from './screenStore';

export interface TileEncoderOptions {
  /** Tile edge used to split rects for per-tile codec choice (default 64). */
  tileSize?: number;
  /**
   * zlib level 1..9 (default 6: text and UI compress far better than at 1, still fast on palette
   * data). Updates of at most 16 KiB of ops use 9 (a keystroke); larger keyframes at most 5 (a
   * whole screen: ~2 % more bytes, 25-30 % less time, so the first picture arrives sooner).
   */
  deflateLevel?: number;
  /** Native threads per encode, including the calling worker (default: cores, at most 4). */
  threads?: number;
  /** Remember what was sent, so moves, residuals and refinement can be computed (see above). */
  trackSent?: boolean;
  /** trackSent only: share screen copies with the other viewers of this capture (see screenStore.ts). */
  screenStore?: ScreenStore;
}

export interface LossyOptions {
  /**
   * One flag per tile (row-major over the frame's tile grid): nonzero = the tile
   * may go lossy if its content looks photographic. The scheduler sets it from
   * change history (tiles changing at video rate).
   */
  mask: Uint8Array;
  /** JPEG quality 1..100 (default 80). */
  quality?: number;
  /** Chroma subsampling (default '420'; '444' keeps coloured detail at more bytes). */
  subsampling?: '420' | '444';
  /** Optimal Huffman tables: 15-35% fewer JPEG bytes for about twice the encode time (default false). */
  optimizeHuffman?: boolean;
}

export interface EncodeOptions {
  /** Copy ops, applied by the viewer before the pixel rects, in order (not with trackSent). */
  copies?: readonly CopyRect[];
  /** Restart the deflate stream (new viewer, resize, recovery). */
  keyframe?: boolean;
  lossy?: LossyOptions;
  /** trackSent only: look for moved content in the rects. */
  detectMoves?: boolean;
  /** trackSent only: rects to re-send exactly (lossy tiles that have settled). */
  refine?: readonly Rect[];
  /**
   * trackSent with a screenStore: the capture's id of this screen, and whether
   * `rects` is all that changed since the last encode (nothing held back), so
   * the viewer has all of this screen afterwards and can share its copy.
   */
  generation?: number;
  complete?: boolean;
  /** trackSent only: code palettes as PALETTE_DIFF (the viewer announced COMPACT_UPDATE). */
  paletteDiff?: boolean;
  /**
   * trackSent only: code photographic truecolour tiles as PREDICTED ops, sent as
   * literal-only deflate blocks (the viewer announced PREDICTED).
   */
  predicted?: boolean;
  /** trackSent only: rows of content cache hits with consecutive ids as one CACHE_RUN op (the viewer announced CACHE_RUN). */
  cacheRuns?: boolean;
}

export interface EncodedRects {
  /** Raw-deflate op stream for an UPDATE message. */
  stream: Uint8Array;
  /** The UPDATE's image section (JPEG data); empty when nothing went lossy. */
  images: Uint8Array;
  opCount: number;
  keyframe: boolean;
  /** What the update holds: copies, the rects sent as pixels, and those of them sent as JPEG. */
  copies: CopyRect[];
  rects: Rect[];
  lossyRects: Rect[];
  /** trackSent only: how many tiles the viewer shows lossy after this update (which: lossyTiles()). */
  lossyTileCount?: number;
  stats: { ops: OpCounts; pixels: OpCounts; rawBytes: number };
}

export class TileEncoder {
  readonly tileSize: number;
  readonly deflateLevel: number;
  readonly threads: number;
  readonly trackSent: boolean;
  private readonly impl: NativeTileEncoder | null = null;
  private readonly viewer: NativeViewerEncoder | null = null;

  constructor(options: TileEncoderOptions = {}) {
    if (typeof options !== 'object' || options === null) throw invalidArg('options', 'an object', options);
    this.tileSize = checkInt('tileSize', options.tileSize ?? DEFAULT_TILE_SIZE, MIN_TILE_SIZE, MAX_TILE_SIZE);
    this.deflateLevel = checkInt('deflateLevel', options.deflateLevel ?? 6, 1, 9);
    this.threads = checkInt('threads', options.threads ?? Math.min(4, os.availableParallelism()), 1, 64);
    this.trackSent = options.trackSent ?? false;
    if (typeof this.trackSent !== 'boolean') throw invalidArg('trackSent', 'a boolean', options.trackSent);
    if (options.screenStore !== undefined && !(options.screenStore instanceof ScreenStore)) throw invalidArg('screenStore', 'a ScreenStore', options.screenStore);
    if (this.trackSent) this.viewer = new (native().NativeViewerEncoder)(this.tileSize, this.deflateLevel, this.threads, options.screenStore?.native);
    else this.impl = new (native().NativeTileEncoder)(this.tileSize, this.deflateLevel, this.threads);
  }

  /** trackSent only: indices (row-major over the tile grid) of the tiles the viewer shows lossy. */
  lossyTiles(): Uint32Array {
    return this.viewer ? this.viewer.lossyTiles() : new Uint32Array(0);
  }

  /**
   * Bytes of native memory held for the viewer (trackSent): the sent-frame copy (unless shared)
   * and its share of the content cache mirror's pixels (held once for every viewer with the same
   * contents; recounted when its mirror changes). Not the coding buffers: those are the process's,
   * leased per encode (codingBufferStats()).
   */
  get memoryBytes(): number {
    return this.viewer ? this.viewer.memoryBytes() : 0;
  }

  /**
   * trackSent only: the content cache agreed with the viewer, bytes (0: none).
   * Call before the first encode(): the mirror starts empty, as the viewer's cache.
   */
  setCacheBudget(bytes: number): void {
    if (!this.viewer) throw new TilecastError(ErrorCodes.INVALID_ARG, 'a content cache needs an encoder that tracks what was sent (trackSent)');
    try {
      this.viewer.setCacheBudget(checkInt('bytes', bytes, 0, 0xffffffff));
    } catch (err) {
      throw fromNative(err);
    }
  }

  /**
   * trackSent only: the viewer's connection ended; its content cache mirror,
   * to park for a resume (null: none, or not to be trusted after a failed
   * encode). This encoder's mirror is then empty. Not while an encode() runs.
   */
  takeCache(): ParkedCache | null {
    try {
      return this.viewer?.takeCache() ?? null;
    } catch (err) {
      throw fromNative(err);
    }
  }

  /**
   * trackSent only, after setCacheBudget() and before the first encode(): the
   * viewer came back with a cache that has seen `viewerNextId` inserts of
   * `parked`; the mirror keeps what both sides surely hold, and the first
   * keyframe keeps it. Returns what to send as CACHE_KEEP, or null (then
   * nothing is resumed). `parked` is used up either way.
   */
  resumeCache(parked: ParkedCache, viewerNextId: number): { nextId: number; ranges: Uint32Array } | null {
    if (!this.viewer) throw new TilecastError(ErrorCodes.INVALID_ARG, 'a content cache needs an encoder that tracks what was sent (trackSent)');
    try {
      return this.viewer.resumeCache(parked, checkInt('viewerNextId', viewerNextId, 0, 0xffffffff));
    } catch (err) {
      throw fromNative(err);
    }
  }

  /** trackSent only: frees the sent-frame copy, the cache mirror and the coding buffers now (the viewer left); a later encode() is a keyframe. */
  release(): void {
    try {
      this.viewer?.release();
    } catch (err) {
      throw fromNative(err);
    }
  }

  /** Encodes `rects` of `frame`. The frame's pixels must not change until the promise settles. */
  async encode(frame: Frame, rects: readonly Rect[], options: EncodeOptions = {}): Promise<EncodedRects> {
    const a = this.args(frame, rects, options);
    try {
      if (this.viewer) return this.wrap(await this.viewer.encode(a.data, a.width, a.height, a.stride, a.rects, a.keyframe, a.options));
      return this.wrap(await this.impl!.encode(a.data, a.width, a.height, a.stride, a.rects, a.copies, a.keyframe, a.options));
    } catch (err) {
      throw fromNative(err);
    }
  }

  /** Same as encode() but blocks the JS thread. For benchmarks and tests only. */
  encodeSync(frame: Frame, rects: readonly Rect[], options: EncodeOptions = {}): EncodedRects {
    const a = this.args(frame, rects, options);
    try {
      if (this.viewer) return this.wrap(this.viewer.encodeSync(a.data, a.width, a.height, a.stride, a.rects, a.keyframe, a.options));
      return this.wrap(this.impl!.encodeSync(a.data, a.width, a.height, a.stride, a.rects, a.copies, a.keyframe, a.options));
    } catch (err) {
      throw fromNative(err);
    }
  }

  private args(frame: Frame, rects: readonly Rect[], options: EncodeOptions) {
    const f = validateFrame(frame);
    if (typeof options !== 'object' || options === null) throw invalidArg('options', 'an object', options);
    const keyframe = options.keyframe ?? false;
    if (typeof keyframe !== 'boolean') throw invalidArg('keyframe', 'a boolean', keyframe);
    const native: NativeViewerEncodeOptions = {};
    if (options.lossy) {
      const l = options.lossy;
      if (!(l.mask instanceof Uint8Array)) throw invalidArg('lossy.mask', 'a Uint8Array', l.mask);
      native.lossyMask = l.mask;
      native.quality = checkInt('lossy.quality', l.quality ?? 80, 1, 100);
      const sub = l.subsampling ?? '420';
      if (sub !== '420' && sub !== '444') throw invalidArg('lossy.subsampling', "'420' or '444'", sub);
      native.subsampling444 = sub === '444';
      if (l.optimizeHuffman !== undefined && typeof l.optimizeHuffman !== 'boolean') throw invalidArg('lossy.optimizeHuffman', 'a boolean', l.optimizeHuffman);
      native.optimizeHuffman = l.optimizeHuffman ?? false;
    }
    if ((options.detectMoves !== undefined || options.refine?.length) && !this.trackSent) {
      throw new TilecastError(ErrorCodes.INVALID_ARG, 'detectMoves and refine need an encoder that tracks what was sent (trackSent)');
    }
    if (options.copies?.length && this.trackSent) {
      throw new TilecastError(ErrorCodes.INVALID_ARG, 'copies are found by the encoder itself when it tracks what was sent');
    }
    if (options.detectMoves !== undefined) {
      if (typeof options.detectMoves !== 'boolean') throw invalidArg('detectMoves', 'a boolean', options.detectMoves);
      native.detectMoves = options.detectMoves;
    }
    if (options.refine?.length) native.refine = rectsToArray(options.refine, f.width, f.height, 'refine');
    if (options.generation !== undefined) native.generation = checkInt('generation', options.generation, 0, Number.MAX_SAFE_INTEGER);
    // Op codings a viewer announces (COMPACT_UPDATE, PREDICTED, CACHE_RUN): only for encoders that track what was sent.
    for (const name of ['paletteDiff', 'predicted', 'cacheRuns'] as const) {
      const on = options[name];
      if (on === undefined) continue;
      if (typeof on !== 'boolean') throw invalidArg(name, 'a boolean', on);
      if (on && !this.trackSent) throw new TilecastError(ErrorCodes.INVALID_ARG, `${name} needs an encoder that tracks what was sent (trackSent)`);
      native[name] = on;
    }
    if (options.complete !== undefined) {
      if (typeof options.complete !== 'boolean') throw invalidArg('complete', 'a boolean', options.complete);
      native.complete = options.complete;
    }
    return {
      data: f.data, width: f.width, height: f.height, stride: f.stride,
      rects: rectsToArray(rects, f.width, f.height),
      copies: copiesToArray(options.copies ?? [], f.width, f.height),
      keyframe, options: native,
    };
  }

  private wrap(r: Awaited<ReturnType<NativeTileEncoder['encode']>> & { lossyTileCount?: number }): EncodedRects {
    const copies: CopyRect[] = [];
    for (let i = 0; i + 5 < r.copies.length; i += 6) {
      copies.push({ x: r.copies[i]!, y: r.copies[i + 1]!, w: r.copies[i + 2]!, h: r.copies[i + 3]!, srcX: r.copies[i + 4]!, srcY: r.copies[i + 5]! });
    }
    return {
      stream: r.stream, images: r.images, opCount: r.opCount, keyframe: r.keyframe, copies,
      rects: arrayToRects(r.rects), lossyRects: arrayToRects(r.lossyRects), lossyTileCount: r.lossyTileCount, stats: r.stats,
    };
  }
}
