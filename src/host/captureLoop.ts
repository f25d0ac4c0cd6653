/**
 * CaptureLoop: pulls frames from a FrameSource at up to `fps`, runs the shared
 * change detector, and hands each changed frame (as a snapshot) with its dirty
 * rects to the listener. Unchanged frames cost one detection pass and nothing
 * else; a frame whose source hints say nothing changed (e.g. XDamage reported
 * no damage, only the cursor moved) costs not even that. Hinted frames are
 * still diffed in full: the hints decide when to look, our diff what changed.
 * Capture errors are reported and retried with backoff; a change of screen
 * size is picked up by starting a new detector (the first detection then
 * reports the whole screen).
 *
 * The loop also says what the source is doing ('state' events, on change):
 * 'live' while frames come, 'unavailable' while capture throws or no frame has
 * come for stallTimeoutMs (a watchdog while the loop waits on the source), and
 * 'ended' once the source ended.
 *
 * Early capture: a source that itself waits for a change (FrameSource
 * waitsForChange: the native capture thread answers on damage) is asked again
 * at once, without waiting for the next tick, while the host says its viewers'
 * links are idle (options.linkIdle: little in flight), so a change on a quiet
 * screen is grabbed and sent when it happens. While the links are busy the
 * loop keeps the fixed rate and damage coalesces. linkBecameIdle() cuts a wait
 * for the tick short. Early captures draw on a BurstAllowance refilled at fps,
 * so steady change still runs at about fps.
 */
import { EventEmitter } from 'node:events';
import { ChangeDetector } from '../detect/changeDetector';
import { DEFAULT_TILE_SIZE } from '../tileGrid';
import type { Frame, Rect } from '../frame';
import type { ScreenStateName } from '../protocol/constants';
import type { FrameSource } from '../source/frameSource';
import { ScreenSnapshot, SnapshotPool } from './screenSnapshot';
import { BurstAllowance, EARLY_BURST } from './burstAllowance';

export interface CaptureLoopOptions {
  /**
   * Capture rate cap, frames per second. Default: DEFAULT_FPS_ON_CHANGE for a source that
   * waits for change (a grab there costs only what changed, and nothing while nothing does),
   * else DEFAULT_FPS. What viewers are sent is paced by their own maxFps either way.
   */
  fps?: number;
  tileSize?: number;
  /**
   * The source counts as unavailable once the loop has waited this long for a
   * frame, ms (default 10 000; 0: no watchdog). Sources that legitimately block
   * longer without a frame need more (X11Source returns at least every
   * verifyIntervalMs, 2 s by default).
   */
  stallTimeoutMs?: number;
  /**
   * Whether every viewer's link is idle now (little in flight: FlowController.uncongested): then a
   * source that waits for change is asked for its next frame at once rather
   * than at the next tick (see the class comment). Default: never.
   */
  linkIdle?: () => boolean;
}

export const DEFAULT_STALL_TIMEOUT_MS = 10_000;
export const DEFAULT_FPS = 30;
/**
 * While viewers' links are busy (a log scrolling, a video playing) capture waits for its tick:
 * at 60 a small change beside the busy region (a keystroke's echo) is grabbed within 17 ms, not
 * 33, and goes ahead of the busy region's slot (ViewerEncoder). Glass-to-glass over LTE with an
 * xterm scrolling: p50 -7 ms for the Node viewer, -6 ms for the browser's (bench/results/latency-capture-fps.md).
 */
export const DEFAULT_FPS_ON_CHANGE = 60;
/**
 * Early captures in a row after a quiet spell: twice the updates' EARLY_BURST, because a busy
 * region that the viewers' encoders hold until its burst ends (ViewerEncoder.settleUntil) keeps the
 * links idle, so each line of a log's burst is grabbed early too, and a keystroke's echo beside it
 * must still find one left.
 */
export const CAPTURE_EARLY_BURST = 2 * EARLY_BURST;

export interface ScreenStateEvent {
  state: ScreenStateName;
  /** Why, for people and logs ('' when live). */
  reason: string;
}

/** Events: 'frame' (snapshot, rects), 'cursor' (CursorUpdate), 'state' (ScreenStateEvent, on change), 'error' (err), 'end'. */
export class CaptureLoop extends EventEmitter {
  private readonly intervalMs: number;
  private readonly tileSize: number;
  private readonly pool = new SnapshotPool();
  private detector: ChangeDetector | null = null;
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private latest: ScreenSnapshot | null = null;
  private readonly stallTimeoutMs: number;
  private readonly linkIdle: () => boolean;
  private readonly early: BurstAllowance;
  private waitingForTick = false;
  private state: ScreenStateEvent = { state: 'live', reason: '' };
  framesCaptured = 0;
  framesChanged = 0;
  /** Frames asked for before their tick because the links were idle (captured on the change itself). */
  framesEarly = 0;

  constructor(
    private readonly source: FrameSource,
    options: CaptureLoopOptions = {},
  ) {
    super();
    const fps = options.fps ?? (source.waitsForChange ? DEFAULT_FPS_ON_CHANGE : DEFAULT_FPS);
    this.intervalMs = 1000 / fps;
    this.tileSize = options.tileSize ?? DEFAULT_TILE_SIZE;
    this.stallTimeoutMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
    const linkIdle = options.linkIdle;
    this.linkIdle = linkIdle && source.waitsForChange ? linkIdle : () => false;
    this.early = new BurstAllowance(fps, CAPTURE_EARLY_BURST, performance.now());
  }

  /** An early capture may start now: the links are idle and the burst allowance has a token. */
  private mayCaptureEarly(): boolean {
    return this.linkIdle() && this.early.available(performance.now());
  }

  /**
   * The host's links went idle (an ack emptied what was in flight): a loop
   * waiting for its tick asks the source now, when early capture applies.
   */
  linkBecameIdle(): void {
    if (this.waitingForTick && this.running && this.mayCaptureEarly()) this.wake?.();
  }

  /** What the source is doing now. */
  get screenState(): ScreenStateEvent {
    return this.state;
  }

  private setState(state: ScreenStateName, reason: string): void {
    if (state === this.state.state) return;
    this.state = { state, reason };
    this.emit('state', this.state);
  }

  /** source.nextFrame(), with the watchdog: no frame within stallTimeoutMs makes the screen unavailable. */
  private async nextFrame(): Promise<Frame | null> {
    if (this.stallTimeoutMs <= 0) return this.source.nextFrame();
    const watchdog = setTimeout(() => this.setState('unavailable', `no frame from the screen source for ${this.stallTimeoutMs / 1000} s`), this.stallTimeoutMs);
    watchdog.unref();
    try {
      return await this.source.nextFrame();
    } finally {
      clearTimeout(watchdog);
    }
  }

  /** The most recent changed screen (for viewers that join later), or null. */
  get current(): ScreenSnapshot | null {
    return this.latest;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    // A loop that was told to stop but is still inside a capture just carries on.
    this.loop ??= this.run().finally(() => (this.loop = null));
  }

  stop(): void {
    this.running = false;
    this.wake?.();
  }

  /** Resolves true when wake() cut the sleep short. */
  private sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const t = setTimeout(() => ((this.wake = null), resolve(false)), ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = null;
        resolve(true);
      };
    });
  }

  private async run(): Promise<void> {
    let failures = 0;
    let due = performance.now();
    let askedEarly = false;
    while (this.running) {
      try {
        const frame = await this.nextFrame();
        if (frame && askedEarly) this.framesEarly++;
        askedEarly = false;
        if (!frame) {
          this.running = false;
          this.setState('ended', 'the screen source ended');
          this.emit('end');
          break;
        }
        this.setState('live', '');
        this.framesCaptured++;
        this.early.spend(performance.now());
        if (frame.cursor) this.emit('cursor', frame.cursor);
        const sameSize = this.detector?.width === frame.width && this.detector.height === frame.height;
        if (!sameSize) this.detector = new ChangeDetector({ width: frame.width, height: frame.height, tileSize: this.tileSize });
        const hintedUnchanged = sameSize && frame.damage !== undefined && frame.damage.length === 0;
        const rects: Rect[] = hintedUnchanged ? [] : await this.detector!.detect(frame);
        if (rects.length > 0) {
          this.framesChanged++;
          const snapshot = this.pool.capture(frame);
          this.latest?.release();
          this.latest = snapshot;
          this.emit('frame', snapshot, rects);
        }
        failures = 0;
      } catch (err) {
        failures++;
        this.setState('unavailable', `capture failed: ${(err as Error)?.message ?? String(err)}`);
        this.emit('error', err);
        await this.sleep(Math.min(5000, 100 * 2 ** Math.min(failures, 6)));
        due = performance.now();
        continue;
      }
      // Fixed-rate: each capture is due one interval after the last one was due, so timer lateness
      // does not add up into a slower rate; one that fell more than an interval behind starts afresh.
      due += this.intervalMs;
      let now = performance.now();
      if (due < now - this.intervalMs) due = now;
      let early = due > now;
      if (early && !this.mayCaptureEarly()) {
        this.waitingForTick = true;
        early = await this.sleep(due - now); // true: the links went idle before the tick
        this.waitingForTick = false;
        now = performance.now();
      }
      if (early && this.running) {
        // Early (idle links): the source answers on the next change; the tick restarts from here.
        askedEarly = true;
        due = now;
      }
    }
  }
}
