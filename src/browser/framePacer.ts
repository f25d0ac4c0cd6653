/**
 * When the decode Worker draws a large update: late in the compositor's frame interval.
 *
 * Why (bench/results/latency-pacing.md): Chromium shows a canvas drawn from a Worker at once
 * only if the canvas has not been drawn in the current or the previous frame interval; after a
 * draw, the next one waits for the compositor's next frame (0-16.7 ms at 60 Hz). While a region
 * keeps changing (a log scrolling, a video), its draws kept the canvas in that state two thirds of
 * the time, and a small change beside it (a key's echo) waited for the frame. Drawn just before a
 * frame begins, a large update still makes that frame, and the interval after it starts clear
 * sooner, so a small change that comes then is shown at once. A small update is never held.
 *
 * The frame clock is learned from the Worker's requestAnimationFrame: two frames in a row, once a
 * second while large updates come (asking every frame would keep the compositor waiting on the
 * Worker). Without it (no rAF in this browser's Workers, or no frame yet) nothing waits.
 */

/** A draw of more pixels than this is held for the late part of the frame interval (a key's echo or a caret is far smaller; a scrolling band or a video frame far larger). */
export const LATE_DRAW_PIXELS = 256 * 256;
/** Held draws are made this long before the next frame begins: time for the draw to reach the compositor. */
export const LATE_MARGIN_MS = 4;
/** The frame clock is measured again after this long (displays drift; a window can move to another display). */
const RESAMPLE_MS = 1000;

type RequestFrame = (callback: (frameTime: number) => void) => unknown;

export class FramePacer {
  /** A frame's start time (the rAF timestamp), and the frame interval (60 Hz until measured). */
  private frameAt = Number.NaN;
  private intervalMs = 1000 / 60;
  private sampledAt = Number.NEGATIVE_INFINITY;
  private sampling = false;

  constructor(private readonly requestFrame: RequestFrame | null, private readonly now: () => number = () => performance.now()) {}

  /** How long to hold a draw of `pixels` pixels asked for now (0: draw now). */
  holdMs(pixels: number): number {
    if (pixels <= LATE_DRAW_PIXELS) return 0;
    const now = this.now();
    if (now - this.sampledAt >= RESAMPLE_MS) this.sample();
    if (Number.isNaN(this.frameAt)) return 0;
    const phase = (((now - this.frameAt) % this.intervalMs) + this.intervalMs) % this.intervalMs;
    const late = this.intervalMs - LATE_MARGIN_MS;
    // Already late in this interval (or a display so fast there is no early part): draw now.
    return phase < late ? late - phase : 0;
  }

  /** The frame interval as last measured (ms). */
  get frameIntervalMs(): number {
    return this.intervalMs;
  }

  private sample(): void {
    if (!this.requestFrame || this.sampling) return;
    this.sampling = true;
    this.sampledAt = this.now();
    this.requestFrame((first) => {
      this.requestFrame!((second) => {
        this.sampling = false;
        const d = second - first;
        // A busy Worker can miss a frame: the gap is then a whole number of intervals.
        const frames = Math.max(1, Math.round(d / this.intervalMs));
        if (d > 0 && d / frames >= 4 && d / frames <= 50) this.intervalMs = d / frames;
        this.frameAt = second;
      });
    });
  }
}
