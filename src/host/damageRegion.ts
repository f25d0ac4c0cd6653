/**
 * DamageRegion: the tiles a viewer has not been sent yet. Dirty rects from the
 * shared detector are OR-ed into a tile bitmap while the link is busy; take()
 * returns them merged into rects and clears the bitmap ("latest frame wins":
 * the update then carries the current pixels of everything that changed).
 * Works on tile flags only, never on pixels.
 */
import type { Rect } from '../frame';
import { TileGrid } from '../tileGrid';

export class DamageRegion {
  readonly grid: TileGrid;
  private readonly flags: Uint8Array;
  private count = 0;

  constructor(width: number, height: number, tileSize: number) {
    this.grid = new TileGrid(width, height, tileSize);
    this.flags = new Uint8Array(this.grid.count);
  }

  get width(): number {
    return this.grid.width;
  }
  get height(): number {
    return this.grid.height;
  }

  get empty(): boolean {
    return this.count === 0;
  }

  /** Tiles damaged now. */
  get damagedTiles(): number {
    return this.count;
  }

  get tileCount(): number {
    return this.flags.length;
  }

  /** Index of every damaged tile (row-major), for per-tile policies. */
  forEachTile(fn: (index: number) => void): void {
    for (let i = 0; i < this.flags.length; i++) if (this.flags[i]) fn(i);
  }

  addAll(): void {
    this.flags.fill(1);
    this.count = this.flags.length;
  }

  /** Marks the tiles the rects touch; calls `onTile` for each tile index they cover. */
  add(rects: readonly Rect[], onTile?: (index: number) => void): void {
    for (const r of rects) {
      this.grid.forEachTileIn(r, (i) => {
        onTile?.(i);
        if (!this.flags[i]) {
          this.flags[i] = 1;
          this.count++;
        }
      });
    }
  }

  /**
   * The damaged tiles as rects (horizontal runs joined vertically), removed from
   * the region. With `select`, only tiles it accepts are taken; the rest stay.
   */
  take(select?: (index: number) => boolean): Rect[] {
    if (select) {
      const kept = new Uint8Array(this.flags.length);
      for (let i = 0; i < this.flags.length; i++) if (this.flags[i] && !select(i)) kept[i] = 1;
      for (let i = 0; i < this.flags.length; i++) if (kept[i]) this.flags[i] = 0;
      const taken = this.take();
      this.flags.set(kept);
      this.count = kept.reduce((n, v) => n + v, 0);
      return taken;
    }
    const out = this.grid.rectsOf(this.flags);
    this.flags.fill(0);
    this.count = 0;
    return out;
  }
}
