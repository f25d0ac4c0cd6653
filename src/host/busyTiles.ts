/**
 * BusyTiles: the change history of each tile of one viewer's screen — the
 * times of its last BUSY_CHANGES changes. A tile that changed that often
 * within a second is busy (changing at video rate): the quality ladder slows
 * busy tiles first, the lossy policy lets busy photographic tiles go JPEG and
 * times their refinement from the history.
 */
export class BusyTiles {
  /** Times of the last BUSY_CHANGES changes of each tile (ms), oldest first per tile. */
  private readonly history: Float64Array;

  constructor(readonly tileCount: number, private readonly windowMs = 1000) {
    this.history = new Float64Array(tileCount * BUSY_CHANGES).fill(-Infinity);
  }

  /** Records that tile `i` changed at `now`. */
  record(i: number, now: number): void {
    const h = this.history;
    const at = i * BUSY_CHANGES;
    h.copyWithin(at, at + 1, at + BUSY_CHANGES);
    h[at + BUSY_CHANGES - 1] = now;
  }

  /** Changed at least BUSY_CHANGES times within the window? */
  isBusy(i: number, now: number): boolean {
    return now - this.history[i * BUSY_CHANGES]! <= this.windowMs;
  }

  /** When tile `i` last changed (-Infinity: never). */
  lastChange(i: number): number {
    return this.history[i * BUSY_CHANGES + BUSY_CHANGES - 1]!;
  }

  /**
   * Whether two successive changes of tile `i` among its last BUSY_CHANGES came within `ms`: it
   * changes in bursts (a log printing several lines at once), not at a steady frame rate.
   */
  changesInBursts(i: number, ms: number): boolean {
    const h = this.history;
    const at = i * BUSY_CHANGES;
    for (let k = at + 1; k < at + BUSY_CHANGES; k++) if (h[k]! - h[k - 1]! < ms) return true;
    return false;
  }

  /** Mean interval of its last BUSY_CHANGES changes (Infinity with fewer). */
  changeInterval(i: number): number {
    const at = i * BUSY_CHANGES;
    return (this.history[at + BUSY_CHANGES - 1]! - this.history[at]!) / (BUSY_CHANGES - 1);
  }
}

/**
 * Changes within a second that make a tile busy: four, one more than
 * Guacamole's >= 3 fps rule. Raising a window repaints its tiles in two or
 * three frames (the raise, then the application's own repaint), and a window
 * raised a moment before makes three changes in a second; under the rule of
 * three such a raise went out as JPEG and was refined a few frames later
 * (bench/results/session.md, window-switch: 7 frames not exact, none with
 * four). A video is busy one frame later (the fourth instead of the third).
 */
export const BUSY_CHANGES = 4;

/**
 * The smallest busy region, in tiles, that the quality ladder slows down. A
 * busy region smaller than this (the tile a user is typing in, a blinking
 * caret, a clock, a spinner) costs few bytes at full rate, and delaying it is
 * what a user feels as lag; video and animations are larger.
 */
export const MIN_SLOWED_REGION_TILES = 4;

/**
 * Flags of the tiles busy at `now` that belong to a busy region (busy tiles
 * joined through their 8 neighbours) of at least `minTiles` tiles, on a grid
 * `tilesX` tiles wide.
 */
export function largeBusyRegions(busy: BusyTiles, tilesX: number, now: number, minTiles = MIN_SLOWED_REGION_TILES): Uint8Array {
  const count = busy.tileCount;
  const out = new Uint8Array(count);
  const seen = new Uint8Array(count);
  const region: number[] = [];
  for (let start = 0; start < count; start++) {
    if (seen[start] || !busy.isBusy(start, now)) continue;
    // Flood the region from `start`; `region` doubles as the work list.
    region.length = 0;
    region.push(start);
    seen[start] = 1;
    for (let k = 0; k < region.length; k++) {
      const i = region[k]!;
      const x = i % tilesX;
      for (let dy = -tilesX; dy <= tilesX; dy += tilesX) {
        for (let dx = x > 0 ? -1 : 0; dx <= (x < tilesX - 1 ? 1 : 0); dx++) {
          const j = i + dy + dx;
          if (j < 0 || j >= count || seen[j] || !busy.isBusy(j, now)) continue;
          seen[j] = 1;
          region.push(j);
        }
      }
    }
    if (region.length >= minTiles) for (const i of region) out[i] = 1;
  }
  return out;
}
