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
 *   - it empties on every keyframe and after any decode error.
 * A Map keeps the LRU order (insertion order; a use re-inserts at the end).
 * Pure: browser-safe.
 */

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
