/**
 * LossyPolicy: which tiles of one viewer's screen may go lossy, at what JPEG
 * quality, and when lossy tiles are refined back to exact.
 *
 * - Classification has two halves. Change history (here): a tile changing at
 *   video rate — four changes within a second (BUSY_CHANGES) — may
 *   go lossy. Content (native, LooksPhotographic): only if it is photographic
 *   (many colours in gentle gradients); text and UI stay exact even when busy.
 * - Quality follows the quality ladder: the busier the link, the lower; from
 *   level 1 on, JPEGs also get optimal Huffman tables (fewer bytes, more CPU).
 * - Refinement: a tile the viewer shows lossy is re-sent exactly once it has
 *   been still for `refineDelayMs` (50 ms, as TigerVNC) and for 1.5 times its
 *   recent change interval (so a 15 fps clip is not refined between frames),
 *   at most `budget` tiles per update, oldest-still first. The screen at rest
 *   is therefore byte-identical to the host's.
 *
 * Which tiles the viewer shows lossy is not kept here: the native encoder,
 * which knows what it sent, owns that and is asked (TileEncoder.lossyTiles()).
 * Pure bookkeeping over tile indices and times: deterministic for given inputs.
 */
import type { Rect } from '../frame';
import { TileGrid } from '../tileGrid';
import { BusyTiles, largeBusyRegions } from './busyTiles';

export interface LossyPolicyOptions {
  /** Still time before a lossy tile is refined, ms (default 50). */
  refineDelayMs?: number;
  /** JPEG quality per quality-ladder level (default [80, 70, 55, 40]). */
  qualities?: readonly number[];
  /** Chroma subsampling of lossy tiles (default '420'). */
  subsampling?: '420' | '444';
}

export const DEFAULT_QUALITIES = [80, 70, 55, 40] as const;

export class LossyPolicy {
  readonly busy: BusyTiles;
  readonly grid: TileGrid;
  readonly refineDelayMs: number;
  readonly subsampling: '420' | '444';
  private readonly qualities: readonly number[];

  constructor(width: number, height: number, tileSize: number, options: LossyPolicyOptions = {}) {
    this.grid = new TileGrid(width, height, tileSize);
    this.busy = new BusyTiles(this.grid.count);
    this.refineDelayMs = options.refineDelayMs ?? 50;
    this.qualities = options.qualities ?? DEFAULT_QUALITIES;
    this.subsampling = options.subsampling ?? '420';
  }

  /** Tile `i` changed at `now` (ms). */
  record(i: number, now: number): void {
    this.busy.record(i, now);
  }

  /** Every tile the rects touch changed at `now`. */
  recordRects(rects: readonly Rect[], now: number): void {
    for (const r of rects) this.grid.forEachTileIn(r, (i) => this.record(i, now));
  }

  /** Flags of the tiles that may go lossy in an update made at `now`. */
  mask(now: number): Uint8Array {
    const m = new Uint8Array(this.grid.count);
    for (let i = 0; i < m.length; i++) if (this.busy.isBusy(i, now)) m[i] = 1;
    return m;
  }

  /** Flags of the busy tiles the quality ladder may slow at `now`: those in busy regions of MIN_SLOWED_REGION_TILES or more. */
  slowable(now: number): Uint8Array {
    return largeBusyRegions(this.busy, this.grid.tilesX, now);
  }

  quality(ladderLevel: number): number {
    return this.qualities[Math.min(Math.max(0, ladderLevel), this.qualities.length - 1)]!;
  }

  /** Optimal Huffman tables once the link is the bottleneck (ladder level > 0): bytes before encode speed. */
  optimizeHuffman(ladderLevel: number): boolean {
    return ladderLevel > 0;
  }

  /** When lossy tile `i` may be refined. */
  private refineAt(i: number): number {
    const interval = this.busy.changeInterval(i);
    return this.busy.lastChange(i) + Math.max(this.refineDelayMs, Number.isFinite(interval) ? 1.5 * interval : 0);
  }

  /** Of the `lossyTiles` (indices), those due for refinement at `now`: at most `budget`, oldest-still first, as tile rects. */
  refineDue(now: number, budget: number, lossyTiles: ArrayLike<number>): Rect[] {
    if (lossyTiles.length === 0 || budget <= 0) return [];
    const due: Array<{ i: number; at: number }> = [];
    for (let k = 0; k < lossyTiles.length; k++) {
      const i = lossyTiles[k]!;
      const at = this.refineAt(i);
      if (at <= now) due.push({ i, at });
    }
    due.sort((a, b) => a.at - b.at || a.i - b.i);
    return due.slice(0, budget).map(({ i }) => this.grid.tileRect(i));
  }

  /** The earliest time one of the `lossyTiles` becomes due (null: there are none). */
  nextRefineAt(lossyTiles: ArrayLike<number>): number | null {
    let next: number | null = null;
    for (let k = 0; k < lossyTiles.length; k++) next = Math.min(next ?? Infinity, this.refineAt(lossyTiles[k]!));
    return next;
  }
}

/**
 * Tiles to refine per update: about `windowMs` (default 100 ms) of the link's
 * delivery rate at an estimated 1.5 bytes per pixel for exact photographic
 * tiles, 4 .. 128 tiles; 32 when there is no estimate yet.
 */
export function refineBudget(deliveryRateBps: number | null, tileSize: number, windowMs = 100): number {
  if (deliveryRateBps === null || !(deliveryRateBps > 0)) return 32;
  return Math.max(4, Math.min(128, Math.floor((deliveryRateBps * windowMs) / 1000 / (tileSize * tileSize * 1.5))));
}
