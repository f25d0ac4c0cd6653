/**
 * ContentCache: the viewer's side of the content cache in pure TypeScript
 * (the browser decoder's; the native decoder has native/codec/content_cache.h,
 * which states the rule both sides and the host's mirror apply):
 *   - a PALETTE, PALETTE_DIFF, TRUECOLOR or PREDICTED op of at least CACHE_MIN_AREA pixels inserts its
 *     rect's pixels (as drawn) with the next id (0, 1, 2, ... u32, wrapping);
 *   - a CACHE_REF op makes its entry the most recently used;
 *   - an entry costs w*h*4 bytes; an insert first evicts least recently used
 *     entries until it fits the budget; one larger than the budget is not
 *     inserted and takes no id;
 *   - it empties on every keyframe and after any decode error, except the
 *     first keyframe after a resume (keep(): the host's CACHE_KEEP).
 * A Map keeps the LRU order (insertion order; a use re-inserts at the end).
 * Pure: browser-safe.
 */
import { ErrorCodes, TilecastError } from '../errors';

/** Smallest op area (pixels) that enters the cache (kCacheMinArea). */
export const CACHE_MIN_AREA = 1024;
/** Largest budget a decoder accepts (kCacheMaxBudget): memory stays bounded whatever the host says. */
export const CACHE_MAX_BUDGET = 1024 * 1024 * 1024;

export interface CacheEntry {
  readonly w: number;
  readonly h: number;
  /** w*h 32-bit pixels in the decoder's order. */
  readonly pixels: Uint32Array;
}

export class ContentCache {
  private readonly entries = new Map<number, CacheEntry>();
  private used = 0;
  private nextId = 0;
  private budgetBytes = 0;

  get budget(): number {
    return this.budgetBytes;
  }
  get usedBytes(): number {
    return this.used;
  }
  get size(): number {
    return this.entries.size;
  }
  /** The id the next insert gets. */
  get nextEntryId(): number {
    return this.nextId;
  }

  static eligible(w: number, h: number): boolean {
    return w * h >= CACHE_MIN_AREA;
  }

  /** New budget in bytes (0: none), capped at CACHE_MAX_BUDGET; empties the cache. */
  setBudget(bytes: number): void {
    this.budgetBytes = Math.min(Math.max(0, Math.floor(bytes)), CACHE_MAX_BUDGET);
    this.clear();
  }

  clear(): void {
    this.entries.clear();
    this.used = 0;
    this.nextId = 0;
  }

  /** Inserts a copy of rect (x, y, w, h) of `px` (a framebuffer `width` pixels wide). */
  insert(px: Uint32Array, width: number, x: number, y: number, w: number, h: number): void {
    const cost = w * h * 4;
    if (cost === 0 || cost > this.budgetBytes) return;
    while (this.used + cost > this.budgetBytes) this.evict(this.entries.keys().next().value!);
    const pixels = new Uint32Array(w * h);
    for (let row = 0; row < h; row++) pixels.set(px.subarray((y + row) * width + x, (y + row) * width + x + w), row * w);
    const id = this.nextId;
    this.nextId = (this.nextId + 1) >>> 0;
    // An id still held (only after 2^32 inserts on one connection) names the new entry now.
    if (this.entries.has(id)) this.evict(id);
    this.entries.set(id, { w, h, pixels });
    this.used += cost;
  }

  /**
   * The host's CACHE_KEEP after a reconnect: the budget becomes `budget`, the
   * cache keeps exactly the entries `ranges` names ((first, count) pairs,
   * ascending, each non-empty and below `nextId`), ordered by id (the lowest
   * least recently used), and the next insert gets `nextId`. Throws
   * ERR_PROTOCOL, leaving the cache empty, if a range breaks those rules,
   * names an entry not held, or the kept entries exceed the budget.
   */
  keep(budget: number, nextId: number, ranges: Uint32Array): void {
    this.budgetBytes = Math.min(Math.max(0, Math.floor(budget)), CACHE_MAX_BUDGET);
    const bad = (why: string): never => {
      this.clear();
      throw new TilecastError(ErrorCodes.PROTOCOL, `CACHE_KEEP ${why}`);
    };
    // The ranges are checked whole first, and their total against what is held: a hostile list costs one pass.
    let total = 0, end = 0;
    for (let i = 0; i + 1 < ranges.length; i += 2) {
      const first = ranges[i]!, count = ranges[i + 1]!;
      if (count === 0) bad(`range ${i / 2} is empty`);
      if (i > 0 && first < end) bad(`range ${i / 2} does not ascend`);
      if (first + count > nextId) bad(`range ${i / 2} reaches the next id ${nextId}`);
      total += count;
      if (total > this.entries.size) bad(`names more entries than this cache holds (${this.entries.size})`);
      end = first + count;
    }
    const kept: Array<[number, CacheEntry]> = [];
    let used = 0;
    for (let i = 0; i + 1 < ranges.length; i += 2) {
      for (let id = ranges[i]!; id < ranges[i]! + ranges[i + 1]!; id++) {
        const e = this.entries.get(id);
        if (!e) bad(`names cache entry ${id}, which this cache does not hold`);
        kept.push([id, e!]);
        used += e!.w * e!.h * 4;
      }
    }
    if (used > this.budgetBytes) bad(`keeps ${used} bytes, over the cache size ${this.budgetBytes}`);
    this.entries.clear();
    for (const [id, e] of kept) this.entries.set(id, e); // ascending ids: the lowest least recently used
    this.used = used;
    this.nextId = nextId >>> 0;
  }

  /** The entry with this id, made most recently used; undefined if absent. */
  use(id: number): CacheEntry | undefined {
    const e = this.entries.get(id);
    if (!e) return undefined;
    this.entries.delete(id);
    this.entries.set(id, e);
    return e;
  }

  private evict(id: number): void {
    const e = this.entries.get(id)!;
    this.entries.delete(id);
    this.used -= e.w * e.h * 4;
  }
}
