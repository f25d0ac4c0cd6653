/**
 * BusyTiles: the change history of each tile of one viewer's screen — the
 * times of its last three changes. A tile that changed three times within a
 * second is busy (changing at video rate, Guacamole's >= 3 fps rule): the
 * quality ladder slows busy tiles first, the lossy policy lets busy
 * photographic tiles go JPEG and times their refinement from the history.
 */
export class BusyTiles {
  /** Times of the last three changes of each tile (ms), oldest first per tile. */
  private readonly history: Float64Array;

  constructor(readonly tileCount: number, private readonly windowMs = 1000) {
    this.history = new Float64Array(tileCount * 3).fill(-Infinity);
  }

  /** Records that tile `i` changed at `now`. */
  record(i: number, now: number): void {
    const h = this.history;
    const at = i * 3;
    h[at] = h[at + 1]!;
    h[at + 1] = h[at + 2]!;
    h[at + 2] = now;
  }

  /** Changed at least three times within the window? */
  isBusy(i: number, now: number): boolean {
    return now - this.history[i * 3]! <= this.windowMs;
  }

  /** When tile `i` last changed (-Infinity: never). */
  lastChange(i: number): number {
    return this.history[i * 3 + 2]!;
  }

  /** Mean interval of its last three changes (Infinity with fewer than three). */
  changeInterval(i: number): number {
    return (this.history[i * 3 + 2]! - this.history[i * 3]!) / 2;
  }
}
