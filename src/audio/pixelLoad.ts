/**
 * PixelLoadMeter: does the pixel stream keep the link busy? Seen from the
 * viewer, from the bytes it receives besides sound. Pure (no DOM, no Node):
 * the browser viewer feeds it on its main thread, bench/audio.js on recorded
 * arrivals.
 *
 * Why the jitter buffer wants to know: sound and pixels share the link's one
 * queue (on LTE, the cell's queue for this phone). While pixels keep that
 * queue filled (a video or a scroll on the office PC), a drop of the cell's
 * rate strands the sound behind the pixels already queued, for as long as
 * they take to drain at the new rate: 0.3–0.6 s on ATT-LTE-driving, which no
 * jitter seen before the drop predicts. While the pixels are idle nothing is
 * queued ahead of sound, and the same drop costs it little.
 *
 * Loaded: PIXEL_LOAD_ON_S whole seconds in a row each brought at least
 * PIXEL_LOAD_BYTES_PER_S (so a page turned once does not count); it stays so
 * until PIXEL_LOAD_OFF_S whole seconds in a row brought less (so a video that
 * pauses between scenes does not move the sound's delay back and forth:
 * every rise of the delay costs silence, every fall skips sound). A second in
 * which nothing arrived, neither pixels nor sound (heard()), is an outage of
 * the link, not a quiet screen: it adds to neither run, and a busy run must
 * be seen again in a row after it (busy, outage, busy is not loaded).
 */

/** A second with at least this many pixel bytes (200 kbit/s) is a busy one. */
export const PIXEL_LOAD_BYTES_PER_S = 25_000;
/** Busy seconds in a row that make the stream loaded... */
export const PIXEL_LOAD_ON_S = 2;
/** ...and quiet seconds in a row that end it. */
export const PIXEL_LOAD_OFF_S = 10;

export class PixelLoadMeter {
  private second: number | null = null; // the whole second (of `now`) being counted
  private bytes = 0;
  private heardIn = false; // sound arrived in `second`
  private busyRun = 0;
  private quietRun = 0;
  private on = false;

  /** `bytes` of pixels (anything but sound) received at `now`, ms (any monotonic clock, the same for every call). */
  add(bytes: number, now: number): void {
    this.roll(now);
    if (Number.isFinite(bytes) && bytes > 0) this.bytes += bytes;
  }

  /** Sound arrived at `now`: the link delivers, so a second without pixels is a quiet one. */
  heard(now: number): void {
    this.roll(now);
    this.heardIn = true;
  }

  /** Whether the pixel stream is loaded at `now`. */
  loaded(now: number): boolean {
    this.roll(now);
    return this.on;
  }

  /** Closes the seconds that ended before `now`. */
  private roll(now: number): void {
    if (!Number.isFinite(now)) return;
    const s = Math.floor(now / 1000);
    if (this.second === null) {
      this.second = s;
      return;
    }
    if (s <= this.second) return; // a time before the second being counted (callers' clocks may interleave) counts in it
    // Close the second being counted; the ones after it up to `now` had no call: nothing arrived (an outage).
    if (this.bytes >= PIXEL_LOAD_BYTES_PER_S) {
      this.busyRun++;
      this.quietRun = 0;
    } else if (this.bytes > 0 || this.heardIn) {
      this.quietRun++;
      this.busyRun = 0;
    }
    if (this.busyRun >= PIXEL_LOAD_ON_S) this.on = true;
    if (this.quietRun >= PIXEL_LOAD_OFF_S) this.on = false;
    if (s > this.second + 1) this.busyRun = 0; // seconds in a row means seen in a row: an outage breaks a busy run
    this.second = s;
    this.bytes = 0;
    this.heardIn = false;
  }
}
