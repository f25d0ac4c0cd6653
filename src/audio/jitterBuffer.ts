/**
 * JitterBuffer: the adaptive playout policy for received sound, in frames.
 * Pure (no DOM, no Node): the browser's AudioWorklet runs it on the audio
 * clock, and bench/audio.js runs the very same code on arrival times to
 * measure mouth-to-ear latency and concealment.
 *
 * The player calls pull() once per 20 ms frame of its output clock:
 *  - the next frame by seq is there: play it;
 *  - it is missing but later ones are there: conceal it (lost), go on;
 *  - nothing is buffered: an underrun: play silence without advancing. The
 *    first underrun of a run of them raises the target by one frame (jitter:
 *    the adaptive increase); the rest of the run does not (an outage of the
 *    link is not jitter, and must not leave a long delay behind it).
 * Delay comes back down when it is not needed: right after an underrun run
 * the backlog that arrives at once (what the outage held up) is cut to the
 * target, oldest first; when the buffer has held more than the target for
 * DRAIN_AFTER pulls in a row, one frame is skipped; and every CALM_PULLS
 * pulls without an underrun the target shrinks by one frame, never below
 * minFrames.
 * A frame older than what is playing (late, duplicate) is dropped on push().
 */
export interface JitterBufferOptions {
  /** Playout starts once this many frames are buffered, and the target never goes below it (default 2 = 40 ms). */
  minFrames?: number;
  /** Most frames held; beyond it the oldest are dropped (default 25 = 500 ms). */
  maxFrames?: number;
}

export const JITTER_DEFAULTS = { minFrames: 2, maxFrames: 25 } as const;
/** Pulls over target in a row before a frame is skipped (0.5 s). */
export const DRAIN_AFTER = 25;
/** Pulls without an underrun before the target shrinks by a frame (3 s). */
export const CALM_PULLS = 150;

export interface JitterStats {
  played: number;
  /** Frames missing when due while later ones had arrived. */
  lost: number;
  /** Pulls with nothing buffered (silence inserted, delay grew by a frame). */
  underruns: number;
  /** Frames that came after their turn (dropped). */
  late: number;
  /** Frames skipped to bring the delay down. */
  skipped: number;
  targetFrames: number;
  bufferedFrames: number;
}

export type Pulled<T> = { kind: 'frame'; frame: T; seq: number } | { kind: 'lost'; seq: number } | { kind: 'underrun' } | { kind: 'waiting' };

export class JitterBuffer<T> {
  readonly minFrames: number;
  readonly maxFrames: number;
  private readonly frames = new Map<number, T>();
  private next: number | null = null; // seq to play next (null: not started)
  private highest: number | null = null;
  private started = false;
  private target: number;
  private overFor = 0;
  private calmFor = 0;
  private underrunRun = 0;
  private readonly counts = { played: 0, lost: 0, underruns: 0, late: 0, skipped: 0 };

  constructor(options: JitterBufferOptions = {}) {
    this.minFrames = Math.max(1, Math.floor(options.minFrames ?? JITTER_DEFAULTS.minFrames));
    this.maxFrames = Math.max(this.minFrames + 1, Math.floor(options.maxFrames ?? JITTER_DEFAULTS.maxFrames));
    this.target = this.minFrames;
  }

  /** Frames buffered from the one due next up to the highest arrived (holes included). */
  get depth(): number {
    if (this.highest === null || this.next === null) return 0;
    return ((this.highest - this.next) | 0) + 1;
  }

  push(seq: number, frame: T): void {
    if (this.next !== null && ((seq - this.next) | 0) < 0) {
      this.counts.late++;
      return;
    }
    if (this.next === null) this.next = seq;
    if (this.frames.has(seq)) return;
    this.frames.set(seq, frame);
    if (this.highest === null || ((seq - this.highest) | 0) > 0) this.highest = seq;
    while (this.depth > this.maxFrames) this.skipOne();
  }

  pull(): Pulled<T> {
    if (!this.started) {
      if (this.depth < this.target) return { kind: 'waiting' };
      this.started = true;
    }
    if (this.next === null || this.frames.size === 0) {
      this.counts.underruns++;
      this.calmFor = 0;
      if (this.underrunRun++ === 0) this.target = Math.min(this.maxFrames - 1, this.target + 1);
      return { kind: 'underrun' };
    }
    if (this.underrunRun > 0) {
      // Frames again after an underrun run: a backlog beyond the target is stale, cut it.
      this.underrunRun = 0;
      while (this.depth > this.target) this.skipOne();
    }
    // Bring the delay down when the buffer keeps more than the target.
    if (this.depth > this.target + 1) {
      if (++this.overFor >= DRAIN_AFTER) {
        this.skipOne();
        this.overFor = 0;
      }
    } else this.overFor = 0;
    if (++this.calmFor >= CALM_PULLS) {
      this.calmFor = 0;
      this.target = Math.max(this.minFrames, this.target - 1);
    }
    const seq = this.next!;
    this.next = (seq + 1) >>> 0;
    const frame = this.frames.get(seq);
    if (frame === undefined) {
      this.counts.lost++;
      return { kind: 'lost', seq };
    }
    this.frames.delete(seq);
    this.counts.played++;
    return { kind: 'frame', frame, seq };
  }

  /** A new stream (reconnect): forget everything but the target. */
  reset(): void {
    this.frames.clear();
    this.next = this.highest = null;
    this.started = false;
  }

  stats(): JitterStats {
    return { ...this.counts, targetFrames: this.target, bufferedFrames: this.frames.size };
  }

  private skipOne(): void {
    const seq = this.next!;
    this.next = (seq + 1) >>> 0;
    if (this.frames.delete(seq)) this.counts.skipped++;
  }
}
