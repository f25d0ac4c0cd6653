/**
 * The tile grid: every per-tile concept (damage, change history, lossy state,
 * masks handed to the native encoder) indexes tiles the same way — row-major,
 * tile (tx, ty) covering x in [tx*T, tx*T+T) and y in [ty*T, ty*T+T), the last
 * column and row clipped to the screen.
 */
import type { Rect } from './frame';

export const DEFAULT_TILE_SIZE = 64;
export const MIN_TILE_SIZE = 16;
export const MAX_TILE_SIZE = 256;

export class TileGrid {
  readonly tilesX: number;
  readonly tilesY: number;

  constructor(
    readonly width: number,
    readonly height: number,
    readonly tileSize: number,
  ) {
    this.tilesX = Math.ceil(width / tileSize);
    this.tilesY = Math.ceil(height / tileSize);
  }

  get count(): number {
    return this.tilesX * this.tilesY;
  }

  /** Calls `fn` with the index of every tile `r` touches (clipped to the grid), row by row. */
  forEachTileIn(r: Rect, fn: (index: number) => void): void {
    const ts = this.tileSize;
    const x1 = Math.min(this.tilesX, Math.ceil((r.x + r.w) / ts));
    const y1 = Math.min(this.tilesY, Math.ceil((r.y + r.h) / ts));
    for (let ty = Math.floor(r.y / ts); ty < y1; ty++) {
      for (let tx = Math.floor(r.x / ts); tx < x1; tx++) fn(ty * this.tilesX + tx);
    }
  }

  /** The screen area of tile `i`. */
  tileRect(i: number): Rect {
    const ts = this.tileSize;
    const x = (i % this.tilesX) * ts, y = Math.floor(i / this.tilesX) * ts;
    return { x, y, w: Math.min(ts, this.width - x), h: Math.min(ts, this.height - y) };
  }

  /** Horizontal runs of flagged tiles, runs of equal extent in consecutive rows joined, as screen rects. */
  rectsOf(flags: Uint8Array): Rect[] {
    const ts = this.tileSize;
    const out: Rect[] = [];
    let open: Array<{ x0: number; x1: number; y0: number }> = [];
    const close = (o: { x0: number; x1: number; y0: number }, yEnd: number) =>
      out.push({ x: o.x0 * ts, y: o.y0 * ts, w: Math.min(this.width, o.x1 * ts) - o.x0 * ts, h: Math.min(this.height, yEnd * ts) - o.y0 * ts });
    for (let ty = 0; ty < this.tilesY; ty++) {
      const next: typeof open = [];
      let tx = 0;
      while (tx < this.tilesX) {
        if (!flags[ty * this.tilesX + tx]) {
          tx++;
          continue;
        }
        let end = tx;
        while (end < this.tilesX && flags[ty * this.tilesX + end]) end++;
        const match = open.findIndex((o) => o.x0 === tx && o.x1 === end);
        if (match >= 0) next.push(open.splice(match, 1)[0]!);
        else next.push({ x0: tx, x1: end, y0: ty });
        tx = end;
      }
      for (const o of open) close(o, ty);
      open = next;
    }
    for (const o of open) close(o, this.tilesY);
    return out;
  }
}
