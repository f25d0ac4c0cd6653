/**
 * DamageRegion: the tiles a viewer has not been sent yet. Dirty rects from the
 * shared detector are OR-ed into a tile bitmap while the link is busy; take()
 * returns them merged into rects and clears the bitmap ("latest frame wins":
 * the update then carries the current pixels of everything that changed).
 * Works on tile flags only, never on pixels.
 */
import type { Rect } from '../frame';

export class DamageRegion {
  private readonly tilesX: number;
  private readonly tilesY: number;
  private readonly flags: Uint8Array;
  private count = 0;

  constructor(
    readonly width: number,
    readonly height: number,
    readonly tileSize: number,
  ) {
    this.tilesX = Math.ceil(width / tileSize);
    this.tilesY = Math.ceil(height / tileSize);
    this.flags = new Uint8Array(this.tilesX * this.tilesY);
  }

  get empty(): boolean {
    return this.count === 0;
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
    const ts = this.tileSize;
    for (const r of rects) {
      const x1 = Math.min(this.tilesX, Math.ceil((r.x + r.w) / ts));
      const y1 = Math.min(this.tilesY, Math.ceil((r.y + r.h) / ts));
      for (let ty = Math.floor(r.y / ts); ty < y1; ty++) {
        for (let tx = Math.floor(r.x / ts); tx < x1; tx++) {
          const i = ty * this.tilesX + tx;
          onTile?.(i);
          if (!this.flags[i]) {
            this.flags[i] = 1;
            this.count++;
          }
        }
      }
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
    const ts = this.tileSize;
    const out: Rect[] = [];
    let open: Array<{ x0: number; x1: number; y0: number }> = [];
    const close = (o: { x0: number; x1: number; y0: number }, yEnd: number) =>
      out.push({ x: o.x0 * ts, y: o.y0 * ts, w: Math.min(this.width, o.x1 * ts) - o.x0 * ts, h: Math.min(this.height, yEnd * ts) - o.y0 * ts });
    for (let ty = 0; ty < this.tilesY; ty++) {
      const next: typeof open = [];
      let tx = 0;
      while (tx < this.tilesX) {
        if (!this.flags[ty * this.tilesX + tx]) {
          tx++;
          continue;
        }
        let end = tx;
        while (end < this.tilesX && this.flags[ty * this.tilesX + end]) end++;
        const match = open.findIndex((o) => o.x0 === tx && o.x1 === end);
        if (match >= 0) next.push(open.splice(match, 1)[0]!);
        else next.push({ x0: tx, x1: end, y0: ty });
        tx = end;
      }
      for (const o of open) close(o, ty);
      open = next;
    }
    for (const o of open) close(o, this.tilesY);
    this.flags.fill(0);
    this.count = 0;
    return out;
  }
}
