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
 *
 * Timed playout (push() given each frame's capture and arrival time, pull()
 * the time now, on the receiver's clock; the sender's clock may be offset by
 * any constant): the buffer keeps a playout delay instead of a depth. The
 * delay is the window's fastest transit (arrival − capture over the last
 * JITTER_WINDOW frames) plus the JITTER_QUANTILE of the others' excess over
 * it, plus a frame. Frames held more than OUTAGE_MS beyond the fastest were
 * in an outage, not jitter, and do not count: buffering for them would delay
 * all sound by an outage to save sound that is concealed anyway. (The
 * underrun rule above, on ATT-LTE-driving, whose outages deliver a trickle
 * once a second, added a frame per second of outage and kept 140–480 ms of
 * delay; every underrun also left its length behind as delay until drained.)
 * A frame due more than LATE_CUT_MS ago (after an underrun, an outage's
 * backlog) is skipped with everything else that late; one late by more
 * than a frame for DRAIN_AFTER pulls loses a frame; a frame not yet due
 * (the delay grew) waits, the player holding silence.
 *
 * Under pixel load (setPixelLoad(true): the pixel stream keeps the link's
 * queue filled, see src/audio/pixelLoad.ts) on a link that has shown jitter
 * (an excess over JITTERY_EXCESS_MS in the transit window, seen within the
 * last JITTERY_FOR_MS; a new stream counts as jittery for its first
 * JITTERY_FOR_MS), the jitter allowance is at least LOADED_JITTER_MS: a
 * drop of the link's rate then
 * strands sound behind the queued pixels for longer than any jitter the
 * window saw before it. (On the LTE trace, no quantile or window of past
 * transits foresaw those drops: replayed arrivals still concealed 1.2–1.7 %
 * under load; this allowance, 0.3–0.9 %.) On a calm link (a LAN, fibre) pixel
 * load changes nothing after the stream's first minute.
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

/** Timed playout: LATE_CUT_MS and the window, see above. */
export const JITTER_WINDOW = 500;
export const JITTER_QUANTILE = 0.95;
export const OUTAGE_MS = 200;
export const LATE_CUT_MS = 60;
/** Jitter allowance while pixels load a jittery link, ms (see above). */
export const LOADED_JITTER_MS = 140;
/** An excess over the fastest transit beyond this (and not an outage's) makes the link jittery... */
export const JITTERY_EXCESS_MS = 60;
/** ...for this long, on the receiver's clock, ms. */
export const JITTERY_FOR_MS = 60_000;
/** Duration of one frame, ms (the tilecast senders' Opus frames). */
export const FRAME_MS = 20;
/** Pushes between recomputing the delay (100 ms: the sort costs). */
const RETARGET_EVERY = 5;

export interface FrameTimes {
  /** When the frame's first sample was captured, sender's clock, ms. */
  captureTime: number;
  /** When it arrived, the receiver's clock (the one pull() is given), ms. */
  arrivedAt: number;
}

/**
 * 'hold': silence while the next frame is not yet due (timed playout: the
 * delay grew); the player plays silence for the slot as for an underrun.
 */
export type Pulled<T> = { kind: 'frame'; frame: T; seq: number } | { kind: 'lost'; seq: number } | { kind: 'underrun' } | { kind: 'hold' } | { kind: 'waiting' };

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
  private readonly captured = new Map<number, number>(); // seq -> capture time (timed playout)
  private readonly transits: number[] = []; // ring of the last JITTER_WINDOW
  private transitNext = 0;
  private fastest = 0;
  private jitterMs = 0;
  private pixelLoad = false;
  private jitterySince = -Infinity; // receiver's clock: the last excess over JITTERY_EXCESS_MS (or the stream's first frame)
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

  /** The playout delay kept (timed playout), on the receiver's clock minus the sender's, ms; null until timed. */
  get delayMs(): number | null {
    return this.transits.length ? this.fastest + this.jitterMs + FRAME_MS : null;
  }

  /** `times`: the frame's capture and arrival (timed playout; then pull() needs the time). */
  push(seq: number, frame: T, times?: FrameTimes): void {
    if (times) this.measure(times.arrivedAt - times.captureTime, times.arrivedAt);
    if (this.next !== null && ((seq - this.next) | 0) < 0) {
      this.counts.late++;
      return;
    }
    if (this.next === null) this.next = seq;
    if (this.frames.has(seq)) return;
    this.frames.set(seq, frame);
    if (times) this.captured.set(seq, times.captureTime);
    if (this.highest === null || ((seq - this.highest) | 0) > 0) this.highest = seq;
    // Past the buffer's reach: move the start in one step (a hostile jump of 2^31 must not mean 2^31 skips).
    if (this.depth > this.maxFrames) this.skipTo((this.highest - this.maxFrames + 1) >>> 0);
  }

  /** The slot now: `now` (receiver's clock, ms) is needed for timed playout, else ignored. */
  pull(now?: number): Pulled<T> {
    if (now !== undefined && this.transits.length) return this.pullTimed(now);
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
    return this.take();
  }

  private pullTimed(now: number): Pulled<T> {
    const delay = this.delayMs!;
    // How late the frame `seq` is for its slot (negative: early); a missing one is placed by its neighbours.
    const lateness = (seq: number): number | null => {
      const c = this.captured.get(seq);
      if (c !== undefined) return now - c - delay;
      for (let k = 1; k <= this.depth; k++) {
        const later = this.captured.get((seq + k) >>> 0);
        if (later !== undefined) return now - (later - k * FRAME_MS) - delay;
      }
      return null;
    };
    if (this.next === null || this.frames.size === 0) {
      if (this.started) this.counts.underruns++;
      return this.started ? { kind: 'underrun' } : { kind: 'waiting' };
    }
    let late = lateness(this.next)!;
    if (!this.started) {
      if (late < -FRAME_MS / 2) return { kind: 'waiting' };
      this.started = true;
    }
    if (late > LATE_CUT_MS) {
      // An underrun or an outage left these behind their slots: skip to the first one on time
      // (an outage's stale trickle goes entirely: a lone frame from long ago is noise, not sound).
      while (late > FRAME_MS / 2 && this.frames.size > 0) {
        this.skipOne();
        late = lateness(this.next!) ?? 0;
      }
      this.overFor = 0;
      if (this.frames.size === 0) {
        this.counts.underruns++;
        return { kind: 'underrun' };
      }
    } else if (late > FRAME_MS) {
      if (++this.overFor >= DRAIN_AFTER) {
        this.skipOne();
        this.overFor = 0;
      }
    } else this.overFor = 0;
    if (late < -FRAME_MS) return { kind: 'hold' };
    return this.take();
  }

  /** Plays (or conceals) frame `next` and moves on. */
  private take(): Pulled<T> {
    const seq = this.next!;
    this.next = (seq + 1) >>> 0;
    this.captured.delete(seq);
    const frame = this.frames.get(seq);
    if (frame === undefined) {
      this.counts.lost++;
      return { kind: 'lost', seq };
    }
    this.frames.delete(seq);
    this.counts.played++;
    return { kind: 'frame', frame, seq };
  }

  /**
   * Whether the pixel stream keeps the link's queue filled (PixelLoadMeter):
   * then a jittery link gets at least LOADED_JITTER_MS of allowance, from the
   * next time the delay is recomputed (within RETARGET_EVERY frames pushed).
   */
  setPixelLoad(loaded: boolean): void {
    this.pixelLoad = loaded;
  }

  /** One more transit (arrival − capture) at `arrivedAt`: the delay from the window's fastest and its jitter. */
  private measure(transitMs: number, arrivedAt: number): void {
    if (!Number.isFinite(transitMs)) return;
    this.transits[this.transitNext] = transitMs;
    this.transitNext = (this.transitNext + 1) % JITTER_WINDOW;
    if (this.transits.length > 10 && this.transitNext % RETARGET_EVERY !== 0) return;
    const fastest = Math.min(...this.transits);
    const excess = this.transits.map((x) => x - fastest).filter((j) => j <= OUTAGE_MS).sort((a, b) => a - b);
    this.fastest = fastest;
    // A new stream counts as jittery (mobile links are what this is for) until JITTERY_FOR_MS of calm show otherwise.
    if (Number.isFinite(arrivedAt) && (this.jitterySince === -Infinity || (excess[excess.length - 1] ?? 0) > JITTERY_EXCESS_MS)) this.jitterySince = arrivedAt;
    const loaded = this.pixelLoad && arrivedAt - this.jitterySince < JITTERY_FOR_MS ? LOADED_JITTER_MS : 0;
    const cap = (this.maxFrames - 2) * FRAME_MS;
    const quantile = excess[Math.min(excess.length - 1, Math.floor(JITTER_QUANTILE * excess.length))] ?? 0;
    this.jitterMs = Math.max((this.minFrames - 1) * FRAME_MS, Math.min(cap, Math.max(quantile, loaded)));
    this.target = Math.ceil(this.jitterMs / FRAME_MS) + 1;
  }

  /** A new stream (reconnect): forget the frames and the transits (the new path may be slower: frames timed by the old one's fastest would all be "late"). */
  reset(): void {
    this.transits.length = 0;
    this.transitNext = 0;
    this.jitterySince = -Infinity;
    this.captured.clear();
    this.frames.clear();
    this.next = this.highest = null;
    this.started = false;
  }

  stats(): JitterStats {
    return { ...this.counts, targetFrames: this.target, bufferedFrames: this.frames.size };
  }

  /** Skips every frame before `seq`, which becomes the next one due. */
  private skipTo(seq: number): void {
    for (const s of [...this.frames.keys()]) {
      if (((s - seq) | 0) >= 0) continue;
      this.frames.delete(s);
      this.counts.skipped++;
    }
    for (const s of [...this.captured.keys()]) if (((s - seq) | 0) < 0) this.captured.delete(s);
    this.next = seq;
  }

  private skipOne(): void {
    const seq = this.next!;
    this.next = (seq + 1) >>> 0;
    this.captured.delete(seq);
    if (this.frames.delete(seq)) this.counts.skipped++;
  }
}
