/**
 * X11Source: captures a real X display (a desktop session or Xvfb).
 *
 * All X work runs on a native capture thread (MIT-SHM grabs, or XGetImage on a
 * remote display; XDamage change hints; XFixes cursor; RandR resizes). The X
 * libraries are loaded at run time, so the build needs no X headers and a
 * machine without them fails here with ERR_UNAVAILABLE instead of at install.
 *
 * nextFrame() resolves when something changed: damaged pixels (grabbed at that
 * moment, so the frame is the current screen), a cursor move or shape, a resize,
 * or the periodic verification grab. The frame's buffer is the native screen
 * mirror: it is rewritten during the next nextFrame() call, as the FrameSource
 * contract allows.
 */
import { ErrorCodes, TilecastError, checkInt, invalidArg } from '../errors';
import { CursorUpdate, Frame, Rect, arrayToRects } from '../frame';
import { NativeX11Capture, NativeX11Features, native } from '../native/binding';
import type { FrameSource } from './frameSource';

export interface X11SourceOptions {
  /** X display name (default: $DISPLAY). */
  display?: string;
  /** How often the pointer position is polled while waiting for changes, ms (default 33). */
  pointerPollMs?: number;
  /** A full verification grab at least this often while capturing, ms (default 2000). */
  verifyIntervalMs?: number;
}

const now = () => performance.timeOrigin + performance.now();

export class X11Source implements FrameSource {
  private closed = false;
  private lastRects: Rect[] = [];
  /** Grabs made and the time the capture thread spent in them. */
  readonly grabStats = { grabs: 0, grabMs: 0, lastGrabMs: 0 };

  private constructor(
    private readonly capture: NativeX11Capture,
    readonly display: string,
    private size: { width: number; height: number },
    /** What the X server offers: MIT-SHM, XDamage, XFixes cursor, RandR events. */
    readonly features: NativeX11Features,
  ) {}

  /** Connects to the display. Rejects with ERR_UNAVAILABLE when it is not reachable. */
  static async open(options: X11SourceOptions = {}): Promise<X11Source> {
    if (typeof options !== 'object' || options === null) throw invalidArg('options', 'an object', options);
    const display = options.display ?? process.env.DISPLAY ?? '';
    if (typeof display !== 'string') throw invalidArg('display', 'a string such as ":0"', display);
    if (display === '') throw new TilecastError(ErrorCodes.UNAVAILABLE, 'no X display: pass { display } or set $DISPLAY');
    const pollMs = checkInt('pointerPollMs', options.pointerPollMs ?? 33, 1, 10_000);
    const verifyMs = checkInt('verifyIntervalMs', options.verifyIntervalMs ?? 2000, 100, 3_600_000);
    const capture = new (native().NativeX11Capture)(display, pollMs, verifyMs);
    try {
      const opened = await capture.start();
      return new X11Source(capture, display, { width: opened.width, height: opened.height }, opened.features);
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
