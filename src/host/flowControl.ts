/**
 * FlowController: how much one viewer may have in flight.
 *
 * From acks it keeps a min-filtered RTT and a max-filtered delivery rate (as
 * BBR does: bytes delivered between an update's send and its ack, over the
 * time that took). The in-flight bound is about one RTT of data at that rate
 * (times a small gain), and never fewer than one update, so the send queue
 * holds no more than the link can drain in one round trip. Pure bookkeeping: no
 * timers, no I/O; the caller passes the clock.
 */

export interface FlowControlOptions {
  /** Lower bound of the byte budget (default 64 KiB). */
  minInflightBytes?: number;
  /** Most updates in flight at once (default 32; the byte budget is the real bound, this one only caps
   *  bookkeeping, and small updates such as keystrokes must not queue behind it during an ack stall). */
  maxInflightUpdates?: number;
  /** Budget = gain x rate x minRtt (default 1.5). */
  gain?: number;
  /** Window of the min-RTT filter, ms (default 10 s). */
  rttWindowMs?: number;
  /** Window of the max delivery-rate filter, ms (default 2 s: short, so a fading link shrinks the budget fast). */
  rateWindowMs?: number;
}

interface Sent {
  frameId: number;
  bytes: number;
  sentAt: number;
  deliveredAtSend: number;
  deliveredTimeAtSend: number;
}

export interface FlowStats {
  minRttMs: number | null;
  srttMs: number | null;
  deliveryRateBps: number | null;
  inflightBytes: number;
  inflightUpdates: number;
  budgetBytes: number;
  acked: number;
}

/** A windowed extremum filter over (time, value) samples. */
class WindowedFilter {
  private samples: Array<{ t: number; v: number }> = [];
  constructor(
    private readonly windowMs: number,
    private readonly better: (a: number, b: number) => boolean,
  ) {}
  add(t: number, v: number): void {
    // Drop samples the new one dominates, then expired ones.
    while (this.samples.length && !this.better(this.samples[this.samples.length - 1]!.v, v)) this.samples.pop();
    this.samples.push({ t, v });
    while (this.samples[0]!.t < t - this.windowMs) this.samples.shift();
  }
  get(): number | null {
    return this.samples.length ? this.samples[0]!.v : null;
  }
}

export class FlowController {
  private readonly minBytes: number;
  private readonly maxUpdates: number;
  private readonly gain: number;
  private readonly inflight: Sent[] = [];
  private inflightBytes = 0;
  private delivered = 0;
  private deliveredTime = 0;
  private readonly minRtt: WindowedFilter;
  private readonly maxRate: WindowedFilter;
  private srtt: number | null = null;
  private acked = 0;

  constructor(options: FlowControlOptions = {}) {
    this.minBytes = options.minInflightBytes ?? 64 * 1024;
    this.maxUpdates = options.maxInflightUpdates ?? 32;
    this.gain = options.gain ?? 1.5;
    this.minRtt = new WindowedFilter(options.rttWindowMs ?? 10_000, (a, b) => a < b);
    this.maxRate = new WindowedFilter(options.rateWindowMs ?? 2_000, (a, b) => a > b);
  }

  budgetBytes(): number {
    const rtt = this.minRtt.get();
    const rate = this.maxRate.get();
    if (rtt === null || rate === null) return this.minBytes;
    return Math.max(this.minBytes, (this.gain * rate * rtt) / 1000);
  }

  /** May another update go out now? Always true with nothing in flight. */
  canSend(): boolean {
    if (this.inflight.length === 0) return true;
    return this.inflight.length < this.maxUpdates && this.inflightBytes < this.budgetBytes();
  }

  onSend(frameId: number, bytes: number, now: number): void {
    if (this.inflight.length === 0) this.deliveredTime = now; // idle restart: don't count idle time as slow delivery
    this.inflight.push({ frameId, bytes, sentAt: now, deliveredAtSend: this.delivered, deliveredTimeAtSend: this.deliveredTime });
    this.inflightBytes += bytes;
  }

  /**
   * An ack for `frameId` arrived at `now`. `viewerHoldMs` is the time the viewer
   * spent between receiving and displaying it (not part of the network RTT).
   * Acks are cumulative: older updates still in flight count as delivered.
   * Returns the acked update's send time, or null for an unknown id.
   */
  onAck(frameId: number, now: number, viewerHoldMs = 0): number | null {
    const at = this.inflight.findIndex((s) => s.frameId === frameId);
    if (at < 0) return null;
    const done = this.inflight.splice(0, at + 1);
    const last = done[done.length - 1]!;
    for (const s of done) {
      this.inflightBytes -= s.bytes;
      this.delivered += s.bytes;
    }
    this.deliveredTime = now;
    this.acked += done.length;
    const rtt = Math.max(0.1, now - last.sentAt - Math.max(0, viewerHoldMs));
    this.minRtt.add(now, rtt);
    this.srtt = this.srtt === null ? rtt : 0.875 * this.srtt + 0.125 * rtt;
    const interval = now - last.deliveredTimeAtSend;
    if (interval > 0) this.maxRate.add(now, ((this.delivered - last.deliveredAtSend) * 1000) / interval);
    return last.sentAt;
  }

  /** Forget everything in flight (after a reconnect). */
  reset(): void {
    this.inflight.length = 0;
    this.inflightBytes = 0;
  }

  stats(): FlowStats {
    return {
      minRttMs: this.minRtt.get(),
      srttMs: this.srtt,
      deliveryRateBps: this.maxRate.get(),
      inflightBytes: this.inflightBytes,
      inflightUpdates: this.inflight.length,
      budgetBytes: this.budgetBytes(),
      acked: this.acked,
    };
  }
}
