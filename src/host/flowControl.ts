/**
 * FlowController: how much one viewer may have in flight.
 *
 * From acks it keeps a min-filtered RTT and a max-filtered delivery rate (as
 * BBR does: bytes delivered between an update's send and its ack, over the
 * time that took). The in-flight bound is about one RTT of data at that rate
 * (times a small gain), and never fewer than one update, so the send queue
 * holds no more than the link can drain in one round trip. Pure bookkeeping: no
 * timers, no I/O; the caller passes the clock and the socket's buffered bytes.
 *
 * Acks are the viewer's word, and a viewer can lie (ack updates it never read).
 * So the send queue is also bounded by what the host can see itself: the bytes
 * still buffered in its own socket (canSend(bufferedBytes)). And an ack is only
 * credited when it is possible: for an update in flight, with a viewer hold
 * time shorter than the time since the update was sent.
 *
 * Stalls (an LTE outage: the link delivers a packet a second, or nothing):
 * when the oldest update in flight is still unacked well past when it was due
 * (the min RTT plus its own transfer time at the delivery rate), the link's
 * queue is growing, and acks that still trickle in for small updates do not
 * hide it. Then only about STALL_QUEUE_MS of what the link delivered in the
 * last second may stay in flight (at least STALL_MIN_INFLIGHT_BYTES), so the
 * queue stays what the trickle drains at once, and the newest small change is
 * what the viewer gets next, not seconds of stale background changes. The rate
 * given to the encoder falls to that last second's too, so big damage goes in
 * small bands. Acks may be what stalled (an uplink gap while the downlink
 * still trickles, or a viewer holding its ack: a hidden page, a slow decode):
 * so one update may still go as a probe while less than STALL_PROBE_MAX_BYTES
 * is in flight (or only the one update a viewer may be holding), within the
 * usual budget, and the newest state keeps moving. The first probe of a stall
 * goes STALL_FIRST_PROBE_MS after the last send, each next one twice as long
 * after the one before, up to STALL_PROBE_MS: an uplink gap of under a second
 * (ATT-LTE-driving has one of 770 ms while its downlink delivers as usual)
 * then holds the screen for 100-300 ms, not 500. A long outage is many stalls
 * (each ends when a trickle of acks empties what is in flight); one that starts
 * within STALL_SAME_OUTAGE_MS of the last goes on at the pace the last one
 * reached, so the outage gets a probe every STALL_PROBE_MS, its queue bounded by
 * STALL_PROBE_MAX_BYTES, as before.
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
  /**
   * Bytes the socket may hold unsent before no further update is queued: the
   * flow budget, but at least minBufferedBytes (default 1 MiB) and at most
   * maxBufferedBytes (default 16 MiB). Bounds host memory per viewer whatever
   * its acks say.
   */
  minBufferedBytes?: number;
  maxBufferedBytes?: number;
  /**
   * Slack for viewer clocks, ms (default 25): an ack whose viewer hold time
   * (displayedAt - receivedAt) exceeds the time since the update was sent by
   * more than this is impossible, and is not credited.
   */
  ackToleranceMs?: number;
}

/** The oldest update in flight unacked this long past due (min RTT + its transfer time) means a stall, ms. */
export const STALL_GRACE_MS = 200;
/** During a stall, in flight: about this long at the last second's delivery rate... */
export const STALL_QUEUE_MS = 300;
/** ...but at least this many bytes (a small update or two, about one LTE packet). */
export const STALL_MIN_INFLIGHT_BYTES = 1200;
/** During a stall, the first probe may go this long after the last send whatever the acks say, each next probe twice as long after the one before (see the class comment)... */
export const STALL_FIRST_PROBE_MS = 100;
/** ...up to this, ms... */
export const STALL_PROBE_MS = 500;
/** ...while less than this is in flight (more in a single update: the one a viewer may be holding). */
export const STALL_PROBE_MAX_BYTES = 8 * 1024;
/** A stall starting within this long of the last one is the same outage: its probes keep that one's pace, ms. */
export const STALL_SAME_OUTAGE_MS = 2000;
/** In flight under this share of the budget counts as uncongested (see uncongested()). */
export const UNCONGESTED_SHARE = 0.25;
/** The window of the delivery rate reported during a stall, ms. */
const STALL_RATE_WINDOW_MS = 1000;
/**
 * With a queue bound (sound on), the rate that bounds it is the max of the
 * delivery samples of only this long, ms: the 2 s max filter keeps an LTE
 * cell's rate for 2 s after it fell (5.8 → 1.5 Mbit/s), and the queue it then
 * allows takes 3–4 times as long to drain as asked, which the sound behind it
 * arrives too late to play.
 */
export const QUEUE_RATE_WINDOW_MS = 250;

export const SEND_BUFFER_DEFAULTS = { minBufferedBytes: 1024 * 1024, maxBufferedBytes: 16 * 1024 * 1024, ackToleranceMs: 25 } as const;

/** The most bytes a socket may hold unsent before the next update waits: the budget, clamped to [min, max]. */
export function sendBufferLimit(budgetBytes: number, minBytes: number = SEND_BUFFER_DEFAULTS.minBufferedBytes,
  maxBytes: number = SEND_BUFFER_DEFAULTS.maxBufferedBytes): number {
  return Math.min(maxBytes, Math.max(minBytes, budgetBytes));
}

interface Sent {
  frameId: number;
  bytes: number;
  sentAt: number;
  deliveredAtSend: number;
  deliveredTimeAtSend: number;
  /** Bytes sent outside updates (audio) since the previous update: delivered before this one. */
  sideBytesBefore: number;
}

export interface FlowStats {
  minRttMs: number | null;
  srttMs: number | null;
  deliveryRateBps: number | null;
  inflightBytes: number;
  inflightUpdates: number;
  budgetBytes: number;
  /** Bytes the socket may hold unsent before updates wait (sendBufferLimit of the budget). */
  bufferLimitBytes: number;
  acked: number;
  /** Acks not credited: for no update in flight, or impossible (hold time beyond the time since sending). */
  rejectedAcks: number;
  /** Bytes sent outside updates (audio), counted in the delivery rate. */
  sideBytes: number;
  /** Stalls seen (no ack well past due), and whether one is on now (as of the last canSend/rateBps call). */
  stalls: number;
  stalled: boolean;
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
  /** The best sample in the window; with `now`, of those not older than the window at `now` (expired ones go). */
  get(now?: number): number | null {
    if (now !== undefined) while (this.samples.length && this.samples[0]!.t < now - this.windowMs) this.samples.shift();
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
  private readonly queueRate = new WindowedFilter(QUEUE_RATE_WINDOW_MS, (a, b) => a > b);
  private lastRate: number | null = null;
  private srtt: number | null = null;
  private acked = 0;
  private rejectedAcks = 0;
  private readonly minBuffered: number;
  private readonly maxBuffered: number;
  private readonly ackTolerance: number;
  private sideBytes = 0;
  private sideBytesTotal = 0;
  /** Recent acks (time, bytes delivered), for the delivery rate during a stall. */
  private readonly recentAcks: Array<{ t: number; bytes: number }> = [];
  private stallCount = 0;
  private lastSendAt = -Infinity;
  private inStall = false;
  /** Probes sent in this outage (sends while stalled with more in flight than the stall bound). */
  private stallProbes = 0;
  /** When stalled() last found a stall. */
  private lastStalledAt = -Infinity;
  private inflightCap: number | null = null;

  constructor(options: FlowControlOptions = {}) {
    this.minBytes = options.minInflightBytes ?? 64 * 1024;
    this.maxUpdates = options.maxInflightUpdates ?? 32;
    this.gain = options.gain ?? 1.5;
    this.minRtt = new WindowedFilter(options.rttWindowMs ?? 10_000, (a, b) => a < b);
    this.maxRate = new WindowedFilter(options.rateWindowMs ?? 2_000, (a, b) => a > b);
    this.minBuffered = options.minBufferedBytes ?? SEND_BUFFER_DEFAULTS.minBufferedBytes;
    this.maxBuffered = Math.max(this.minBuffered, options.maxBufferedBytes ?? SEND_BUFFER_DEFAULTS.maxBufferedBytes);
    this.ackTolerance = options.ackToleranceMs ?? SEND_BUFFER_DEFAULTS.ackToleranceMs;
  }

  /** Unsent bytes the socket may hold before the next update waits. */
  bufferLimit(): number {
    return sendBufferLimit(this.budgetBytes(), this.minBuffered, this.maxBuffered);
  }

  /** Whether the socket holds more unsent bytes than bufferLimit() (then nothing more is queued, acks or not). */
  bufferFull(bufferedBytes: number): boolean {
    return bufferedBytes > this.bufferLimit();
  }

  /**
   * `maxQueueMs`: also keep what is in flight beyond one RTT's worth under
   * this many ms at the delivery rate (sound is on: audio written now waits
   * behind everything in flight, so pixels keep the queue short for it). That
   * rate is the last QUEUE_RATE_WINDOW_MS's (the latest sample when none is
   * that recent), so the queue follows a falling link within a few acks.
   */
  budgetBytes(maxQueueMs?: number, now?: number): number {
    return Math.min(this.uncappedBudget(maxQueueMs, now), this.inflightCap ?? Infinity);
  }

  /** budgetBytes() without the in-flight cap. */
  private uncappedBudget(maxQueueMs?: number, now?: number): number {
    const rtt = this.minRtt.get();
    const rate = this.maxRate.get();
    if (rtt === null || rate === null) return this.minBytes;
    const budget = Math.max(this.minBytes, (this.gain * rate * rtt) / 1000);
    if (maxQueueMs === undefined) return budget;
    const recent = Math.min(rate, (now === undefined ? null : this.queueRate.get(now)) ?? this.lastRate ?? rate);
    return Math.min(budget, Math.max(16 * 1024, (recent * (rtt + maxQueueMs)) / 1000));
  }

  /**
   * From now on, no update is queued while `bytes` or more are in flight,
   * whatever the rate, in a stall too (null: no cap): the session's cap while
   * sound plays (SOUND_INFLIGHT_MAX_BYTES). Nothing in flight still means one
   * update may go, however big; a stall's probe past the one update a viewer
   * may be holding still goes; uncongested() does not count it (a keystroke
   * is captured at once as before).
   */
  setInflightCap(bytes: number | null): void {
    this.inflightCap = bytes !== null && Number.isFinite(bytes) && bytes > 0 ? bytes : null;
  }

  /**
   * May another update go out now? `bufferedBytes`: what the socket still holds
   * unsent (ws.bufferedAmount); `maxQueueMs`: see budgetBytes(). False while
   * the socket is over bufferLimit(); else always true with nothing in flight.
   */
  canSend(bufferedBytes = 0, maxQueueMs?: number, now?: number): boolean {
    if (this.bufferFull(bufferedBytes)) return false;
    if (this.inflight.length === 0) return true;
    if (now !== undefined && this.stalled(now)) return this.inflightBytes < this.stallBound(now) || this.nextProbeAt(now, maxQueueMs) === now;
    return this.inflight.length < this.maxUpdates && this.inflightBytes < this.budgetBytes(maxQueueMs, now);
  }

  /** During a stall, what may be in flight without a probe: STALL_QUEUE_MS at the last second's delivery rate, at least STALL_MIN_INFLIGHT_BYTES. */
  private stallBound(now: number): number {
    return Math.min(this.inflightCap ?? Infinity, Math.max(STALL_MIN_INFLIGHT_BYTES, (this.recentRate(now) * STALL_QUEUE_MS) / 1000));
  }

  /**
   * Has the link stalled at `now`? True when the oldest update in flight is
   * unacked STALL_GRACE_MS past when it was due: its send time plus the min
   * RTT plus its own transfer time at the delivery rate. (Not the smoothed
   * RTT: queueing in the outage inflates it.) False before there is an estimate.
   */
  stalled(now: number): boolean {
    const rate = this.maxRate.get();
    const rtt = this.minRtt.get();
    const first = this.inflight[0];
    let stalled = false;
    if (first && rate !== null && rate > 0 && rtt !== null) {
      stalled = now > first.sentAt + rtt + (first.bytes * 1000) / rate + STALL_GRACE_MS;
    }
    if (stalled && !this.inStall) {
      this.stallCount++;
      if (now - this.lastStalledAt > STALL_SAME_OUTAGE_MS) this.stallProbes = 0;
    }
    if (stalled) this.lastStalledAt = Math.max(this.lastStalledAt, now);
    this.inStall = stalled;
    return stalled;
  }

  /**
   * During a stall, when the next update may go whatever the acks say (`now`
   * if it may go now); null when not stalled or the budget is full anyway.
   */
  nextProbeAt(now: number, maxQueueMs?: number): number | null {
    if (!this.stalled(now) || this.inflight.length >= this.maxUpdates || this.inflightBytes >= this.uncappedBudget(maxQueueMs, now)) return null;
    if (this.inflight.length > 1 && this.inflightBytes >= STALL_PROBE_MAX_BYTES) return null; // a trickle: keep its queue short
    return Math.max(now, this.lastSendAt + Math.min(STALL_PROBE_MS, STALL_FIRST_PROBE_MS * 2 ** this.stallProbes));
  }

  /**
   * The delivery rate to pace and split updates by at `now`, bytes/s: the
   * max-filtered estimate, or during a stall what was delivered over the last
   * second (at least 1, so a stall never reads as "no estimate").
   */
  rateBps(now: number): number | null {
    const rate = this.maxRate.get();
    if (rate === null || !this.stalled(now)) return rate;
    return Math.max(1, Math.min(rate, this.recentRate(now)));
  }

  /** Bytes/s acked over the last STALL_RATE_WINDOW_MS. */
  private recentRate(now: number): number {
    while (this.recentAcks.length && this.recentAcks[0]!.t < now - STALL_RATE_WINDOW_MS) this.recentAcks.shift();
    return this.recentAcks.reduce((n, a) => n + a.bytes, 0) * (1000 / STALL_RATE_WINDOW_MS);
  }

  /** Nothing in flight. */
  get idle(): boolean {
    return this.inflight.length === 0;
  }

  /**
   * Little enough in flight at `now` that a change may be captured and sent
   * at once rather than at its next fps slot: nothing, or under
   * UNCONGESTED_SHARE of the budget without a stall. (A keystroke while a
   * small background change is in flight over LTE then does not wait for
   * the tick; video fills the budget and keeps the fixed rate.)
   */
  uncongested(now: number): boolean {
    if (this.inflight.length === 0) return true;
    return this.inflightBytes < this.uncappedBudget() * UNCONGESTED_SHARE && !this.stalled(now);
  }

  onSend(frameId: number, bytes: number, now: number): void {
    if (this.inflight.length === 0) {
      this.deliveredTime = now; // idle restart: don't count idle time as slow delivery
      this.sideBytes = 0; // ...nor what went meanwhile outside updates (it was delivered during the idle time)
    }
    if (this.inStall && this.inflightBytes >= this.stallBound(now)) this.stallProbes++;
    this.lastSendAt = now;
    this.inflight.push({ frameId, bytes, sentAt: now, deliveredAtSend: this.delivered, deliveredTimeAtSend: this.deliveredTime, sideBytesBefore: this.sideBytes });
    this.inflightBytes += bytes;
    this.sideBytes = 0;
  }

  /**
   * Bytes sent outside updates (audio frames, which are never acked). TCP
   * delivers them before the next update, so they count as delivered when that
   * update is acked: the delivery rate is the link's, not the pixels' share of
   * it. They are not in flight for the budget (audio is not held back by it).
   */
  onSideBytes(bytes: number): void {
    this.sideBytes += bytes;
    this.sideBytesTotal += bytes;
  }

  /**
   * An ack for `frameId` arrived at `now`. `viewerHoldMs` is the time the viewer
   * spent between receiving and displaying it (not part of the network RTT).
   * Acks are cumulative: older updates still in flight count as delivered.
   * Returns the acked update's send time, or null for an ack that is not
   * credited: an id not in flight (never sent, or acked already), or a hold
   * time longer than the time since sending (a negative RTT: impossible).
   */
  onAck(frameId: number, now: number, viewerHoldMs = 0): number | null {
    const at = this.inflight.findIndex((s) => s.frameId === frameId);
    if (at < 0 || now - this.inflight[at]!.sentAt - viewerHoldMs < -this.ackTolerance) {
      this.rejectedAcks++;
      return null;
    }
    const done = this.inflight.splice(0, at + 1);
    const last = done[done.length - 1]!;
    const deliveredBefore = this.delivered;
    for (const s of done) {
      this.inflightBytes -= s.bytes;
      this.delivered += s.bytes + s.sideBytesBefore;
    }
    this.deliveredTime = now;
    this.recentAcks.push({ t: now, bytes: this.delivered - deliveredBefore });
    while (this.recentAcks[0]!.t < now - STALL_RATE_WINDOW_MS) this.recentAcks.shift();
    this.acked += done.length;
    const rtt = Math.max(0.1, now - last.sentAt - Math.max(0, viewerHoldMs));
    this.minRtt.add(now, rtt);
    this.srtt = this.srtt === null ? rtt : 0.875 * this.srtt + 0.125 * rtt;
    const interval = now - last.deliveredTimeAtSend;
    if (interval > 0) {
      const sample = ((this.delivered - last.deliveredAtSend) * 1000) / interval;
      this.maxRate.add(now, sample);
      this.queueRate.add(now, sample);
      this.lastRate = sample;
    }
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
      bufferLimitBytes: this.bufferLimit(),
      acked: this.acked,
      rejectedAcks: this.rejectedAcks,
      sideBytes: this.sideBytesTotal,
      stalls: this.stallCount,
      stalled: this.inStall,
    };
  }
}
