/**
 * PcmFramer: a capture process's byte stream (s16le interleaved, arbitrary
 * chunks) → whole 20 ms frames, each stamped with when its first sample was
 * captured. Pure: the caller passes each chunk's arrival time.
 *
 * The stamp comes from the sample count, not from arrival times, which jitter
 * with scheduling (a loaded host delivers 10 ms chunks in bursts): the stream
 * origin is the earliest `arrival - samples so far` seen, which is when the
 * samples would have arrived with no delay at all. It may creep later by
 * CLOCK_DRIFT_PER_MS (the sound card's clock and the system's differ
 * slightly) and is re-anchored after a gap of more than REANCHOR_MS (the
 * source was suspended or the capture stalled: no samples, time went on).
 */
export interface CapturedFrame {
  pcm: Int16Array;
  captureTime: number;
}

/** How far the origin may move later per ms of wall time (1 ms/s: far above real clock drift). */
export const CLOCK_DRIFT_PER_MS = 0.001;
/** Samples that arrive this much later than the origin says start a new timeline, ms. */
export const REANCHOR_MS = 500;

export class PcmFramer {
  private readonly frameBytes: number;
  private readonly bytesPerSample: number;
  private pending = new Uint8Array(0);
  /** Samples (per channel) received so far, and of those already framed. */
  private received = 0;
  private framed = 0;
  private origin: number | null = null;
  private lastArrival = 0;

  constructor(
    private readonly sampleRate: number,
    private readonly channels: number,
    private readonly samplesPerFrame: number,
  ) {
    this.bytesPerSample = channels * 2;
    this.frameBytes = samplesPerFrame * this.bytesPerSample;
  }

  push(chunk: Uint8Array, arrivedAt: number): CapturedFrame[] {
    const all = new Uint8Array(this.pending.length + chunk.length);
    all.set(this.pending);
    all.set(chunk, this.pending.length);
    this.received += Math.floor(chunk.length / this.bytesPerSample); // s16 chunks come whole in practice; a split sample lands in the next count
    const estimate = arrivedAt - (this.received * 1000) / this.sampleRate;
    if (this.origin === null || estimate - this.origin > REANCHOR_MS) this.origin = estimate;
    else this.origin = Math.min(this.origin + (arrivedAt - this.lastArrival) * CLOCK_DRIFT_PER_MS, estimate);
    this.lastArrival = arrivedAt;
    const out: CapturedFrame[] = [];
    let at = 0;
    while (all.length - at >= this.frameBytes) {
      const pcm = new Int16Array(this.samplesPerFrame * this.channels);
      new Uint8Array(pcm.buffer).set(all.subarray(at, at + this.frameBytes));
      out.push({ pcm, captureTime: this.origin + (this.framed * 1000) / this.sampleRate });
      this.framed += this.samplesPerFrame;
      at += this.frameBytes;
    }
    this.pending = all.slice(at);
    return out;
  }
}
