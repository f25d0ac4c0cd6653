/**
 * NativeCaptureSource: a FrameSource over the native capture thread, whatever
 * the platform backend behind it (X11Source, WindowsSource).
 *
 * nextFrame() resolves when something changed: damaged pixels (grabbed at that
 * moment, so the frame is the current screen), a cursor move or shape, a resize,
 * or the periodic verification grab. The frame's buffer is the native screen
 * mirror: it is rewritten during the next nextFrame() call, as the FrameSource
 * contract allows.
 */
import { CursorUpdate, Frame, Rect, arrayToRects } from '../frame';
import type { NativeCapture, NativeCaptureFeatures, NativeCaptureOpened } from '../native/binding';
import type { FrameSource } from './frameSource';
import { checkInt } from '../errors';

const now = () => performance.timeOrigin + performance.now();

/** The capture thread's timing, the same on every platform. */
export interface CaptureTimingOptions {
  /** How often the pointer position is polled while waiting for changes, ms (default 33). */
  pointerPollMs?: number;
  /** A full verification grab at least this often while capturing, ms (default 2000). */
  verifyIntervalMs?: number;
}

export abstract class NativeCaptureSource implements FrameSource {
  private closed = false;
  /** The capture thread answers only once something changed (or for the periodic verification grab). */
  readonly waitsForChange = true;
  private lastRects: Rect[] = [];
  private size: { width: number; height: number };
  /** Grabs made and the time the capture thread spent in them. */
  readonly grabStats = { grabs: 0, grabMs: 0, lastGrabMs: 0 };
  /** What the backend offers (shared memory, damage hints, cursor, resize events). */
  readonly features: NativeCaptureFeatures;
  /** The backend in use: 'x11', 'dxgi' or 'gdi'. */
  readonly backend: string;
  /** Why the preferred backend was not used (Windows: why DXGI fell back to GDI); undefined when none fell back. */
  readonly fallbackReason: string | undefined;

  protected constructor(private readonly capture: NativeCapture, opened: NativeCaptureOpened) {
    this.size = { width: opened.width, height: opened.height };
    this.features = opened.features;
    this.backend = opened.backend;
    this.fallbackReason = opened.fallbackReason;
  }

  /** The validated timing options, in the order the native captures take them. */
  protected static timing(options: CaptureTimingOptions): [pollMs: number, verifyMs: number] {
    return [
      checkInt('pointerPollMs', options.pointerPollMs ?? 33, 1, 10_000),
      checkInt('verifyIntervalMs', options.verifyIntervalMs ?? 2000, 100, 3_600_000),
    ];
  }

  /** Starts `capture` on its thread; closes it when opening fails. */
  protected static async start(capture: NativeCapture): Promise<NativeCaptureOpened> {
    try {
      return await capture.start();
    } catch (err) {
      capture.close();
      throw err;
    }
  }

  get width(): number {
    return this.size.width;
  }
  get height(): number {
    return this.size.height;
  }

  async nextFrame(): Promise<Frame | null> {
    if (this.closed) return null;
    const f = await this.capture.next();
    if (!f) return null;
    this.size = { width: f.width, height: f.height };
    const damage = arrayToRects(f.damage);
    this.lastRects = damage;
    if (damage.length > 0) {
      this.grabStats.grabs++;
      this.grabStats.grabMs += f.grabMs;
      this.grabStats.lastGrabMs = f.grabMs;
    }
    const cursor: CursorUpdate = { x: f.cursor.x, y: f.cursor.y, visible: f.cursor.visible };
    if (f.cursor.shape) cursor.shape = f.cursor.shape;
    return { data: f.data, width: f.width, height: f.height, stride: f.stride, timestamp: now() - f.ageMs, damage, cursor };
  }

  /** The rects the last frame grabbed (for tests and stats). */
  get lastGrabbed(): readonly Rect[] {
    return this.lastRects;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.capture.close();
  }
}
