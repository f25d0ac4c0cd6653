/**
 * TileDecoder: the Node-side decoder. Owns a packed BGRA framebuffer and the
 * inflate state of one connection, and applies UPDATE op streams to it in native
 * code off the JS thread. Any decode error leaves it waiting for a keyframe.
 */
import { checkInt, fromNative, invalidArg } from '../errors';
import { native, NativeCacheInfo, NativeTileDecoder } from '../native/binding';
import type { OpCounts } from './opCounts';
import { Limits } from '../protocol/constants';
import type { UpdateMessage } from '../protocol/messages';

export class TileDecoder {
  private impl: NativeTileDecoder;
  private fb: Buffer;
  private w: number;
  private h: number;

  constructor(options: { width: number; height: number }) {
    if (typeof options !== 'object' || options === null) throw invalidArg('options', 'an object', options);
    this.impl = new (native().NativeTileDecoder)();
    this.w = checkInt('width', options.width, 1, Limits.MAX_DIMENSION);
    this.h = checkInt('height', options.height, 1, Limits.MAX_DIMENSION);
    this.fb = this.newFramebuffer();
  }

  get width(): number {
    return this.w;
  }
  get height(): number {
    return this.h;
  }
  /** Packed BGRA (stride width*4, alpha 255). Replaced (not resized) by resize(). */
  get framebuffer(): Buffer {
    return this.fb;
  }

  /** New screen size: a fresh black framebuffer. The host follows with a keyframe. */
  resize(width: number, height: number): void {
    this.w = checkInt('width', width, 1, Limits.MAX_DIMENSION);
    this.h = checkInt('height', height, 1, Limits.MAX_DIMENSION);
    this.fb = this.newFramebuffer();
  }

  /** The content cache the host agreed to, bytes (0: none); empties it. Not while an apply() runs. */
  setCacheBudget(bytes: number): void {
    try {
      this.impl.setCacheBudget(checkInt('bytes', bytes, 0, 0xffffffff));
    } catch (err) {
      throw fromNative(err);
    }
  }

  /**
   * The host's CACHE_KEEP after a reconnect: the cache kept from the previous
   * connection keeps exactly the entries `ranges` ((first, count) pairs)
   * names, the budget becomes `budget` bytes, the next entry gets `nextId`,
   * and the next keyframe does not empty it. Throws ERR_PROTOCOL (the cache is
   * then empty) if it names an entry not held or breaks the rules.
   */
  keepCache(budget: number, nextId: number, ranges: Uint32Array): void {
    try {
      this.impl.keepCache(checkInt('budget', budget, 0, 0xffffffff), checkInt('nextId', nextId, 0, 0xffffffff), ranges);
    } catch (err) {
      throw fromNative(err);
    }
  }

  /** The content cache now: budget and bytes, entries held, the id the next entry gets. */
  get cache(): NativeCacheInfo {
    return this.impl.cacheInfo();
  }

  /** Applies an update; resolves with per-op counts. Do not read the framebuffer meanwhile. */
  async apply(update: Pick<UpdateMessage, 'stream' | 'opCount' | 'keyframe' | 'images'>): Promise<{ ops: OpCounts }> {
    try {
      return await this.impl.apply(this.fb, this.w, this.h, update.stream, update.opCount, update.keyframe, update.images);
    } catch (err) {
      throw fromNative(err);
    }
  }

  /** Same as apply() but blocks the JS thread. For tests only. */
  applySync(update: Pick<UpdateMessage, 'stream' | 'opCount' | 'keyframe' | 'images'>): { ops: OpCounts } {
    try {
      return this.impl.applySync(this.fb, this.w, this.h, update.stream, update.opCount, update.keyframe, update.images);
    } catch (err) {
      throw fromNative(err);
    }
  }

  private newFramebuffer(): Buffer {
    const fb = Buffer.allocUnsafe(this.w * this.h * 4);
    native().clearFramebuffer(fb, this.w, this.h);
    return fb;
  }
}
