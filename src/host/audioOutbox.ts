/**
 * AudioOutbox: the audio frames waiting to go to one viewer, and the drop
 * policy. Audio is small and latency-bound: a frame that would reach the
 * viewer later than its jitter buffer can use is worth nothing, so frames
 * older than `jitterBudgetMs` (from capture) are dropped rather than sent
 * late, and the queue holds at most `maxFrames` (the oldest goes first).
 * Pure: the session passes the clock and whether its socket can take bytes.
 *
 * A stalled link (a probe PING unanswered for `stallMs`) drops frames rather
 * than queueing them into TCP, where an outage would hold them and deliver
 * seconds of stale sound at once. The PONG comes back over the uplink, so an
 * uplink gap looks like a stall too: `stallMs` is longer than the jitter
 * budget (on ATT-LTE-driving, uplink gaps of 300–800 ms while the downlink
 * delivered dropped good sound with a 200 ms threshold); frames held by a
 * real outage for up to that long are cut by the viewer's jitter buffer.
 */
import { checkInt } from '../errors';

export interface QueuedAudio {
  seq: number;
  /** Host clock, ms: when the frame's first sample was captured. */
  captureTime: number;
  /** The encoded AUDIO message (shared by every viewer: do not modify). */
  bytes: Uint8Array;
  /** The PC plays something (louder than AUDIBLE_PEAK): see SOUND_INFLIGHT_MAX_BYTES. Default true. */
  audible?: boolean;
}

export interface AudioOutboxOptions {
  /** Frames older than this when they could go are dropped, ms (default 200). */
  jitterBudgetMs?: number;
  /** Most frames waiting (default 10 = 200 ms of 20 ms frames). */
  maxFrames?: number;
  /** A probe PING unanswered this long means a stalled link, ms (default 1000). */
  stallMs?: number;
}

export const AUDIO_OUTBOX_DEFAULTS = { jitterBudgetMs: 200, maxFrames: 10, stallMs: 1000 } as const;
/** How often a PING probes the link while sound flows, ms (~1 kbit/s each way). */
export const PROBE_INTERVAL_MS = 100;

export interface AudioOutboxStats {
  framesSent: number;
  bytesSent: number;
  /** Dropped because they were older than the jitter budget. */
  droppedStale: number;
  /** Dropped because the queue was full. */
  droppedFull: number;
  /** Dropped because the link was stalled (a PING unanswered for longer than the budget). */
  droppedStalled: number;
}

export class AudioOutbox {
  readonly jitterBudgetMs: number;
  readonly maxFrames: number;
  readonly stallMs: number;
  private queue: QueuedAudio[] = [];
  private readonly counts: AudioOutboxStats = { framesSent: 0, bytesSent: 0, droppedStale: 0, droppedFull: 0, droppedStalled: 0 };
  private readonly probes = new Map<number, number>(); // ping id -> sent at, oldest first
  private lastProbeAt = -Infinity;

  constructor(options: AudioOutboxOptions = {}) {
    this.jitterBudgetMs = checkInt('jitterBudgetMs', options.jitterBudgetMs ?? AUDIO_OUTBOX_DEFAULTS.jitterBudgetMs, 20, 5000);
    this.maxFrames = checkInt('maxFrames', options.maxFrames ?? AUDIO_OUTBOX_DEFAULTS.maxFrames, 1, 250);
    this.stallMs = checkInt('stallMs', options.stallMs ?? AUDIO_OUTBOX_DEFAULTS.stallMs, 20, 60_000);
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Whether a PING sent stallMs ago is still unanswered: the link holds everything back. */
  stalled(now: number): boolean {
    const oldest = this.probes.values().next();
    return !oldest.done && now - oldest.value > this.stallMs;
  }

  /** Whether a probe PING is due now; if so the caller sends PING `id` and tells probeSent(). */
  probeDue(now: number): boolean {
    return now - this.lastProbeAt >= PROBE_INTERVAL_MS;
  }

  probeSent(id: number, now: number): void {
    this.lastProbeAt = now;
    this.probes.set(id, now);
    if (this.probes.size > 100) this.probes.delete(this.probes.keys().next().value!);
  }

  /** A PONG: that PING and every older one got through. */
  pong(id: number): void {
    if (!this.probes.has(id)) return;
    for (const k of this.probes.keys()) {
      this.probes.delete(k);
      if (k === id) break;
    }
  }

  push(frame: QueuedAudio, now: number): void {
    if (this.stalled(now)) {
      this.counts.droppedStalled++;
      return;
    }
    if (now - frame.captureTime > this.jitterBudgetMs) {
      this.counts.droppedStale++;
      return;
    }
    this.queue.push(frame);
    if (this.queue.length > this.maxFrames) {
      this.queue.shift();
      this.counts.droppedFull++;
    }
  }

  /**
   * The frames to write now, oldest first (none when `writable` is false:
   * they wait). Either way frames that aged past the budget are dropped first.
   */
  take(now: number, writable: boolean): QueuedAudio[] {
    let stale = 0;
    while (stale < this.queue.length && now - this.queue[stale]!.captureTime > this.jitterBudgetMs) stale++;
    if (stale) {
      this.queue.splice(0, stale);
      this.counts.droppedStale += stale;
    }
    if (!writable || this.queue.length === 0) return [];
    const out = this.queue;
    this.queue = [];
    for (const f of out) {
      this.counts.framesSent++;
      this.counts.bytesSent += f.bytes.length;
    }
    return out;
  }

  /** Forget what waits (the viewer stopped listening). */
  clear(): void {
    this.queue = [];
    this.probes.clear();
  }

  stats(): AudioOutboxStats {
    return { ...this.counts };
  }
}
