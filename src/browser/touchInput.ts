/**
 * Touch for the browser viewer: DOM touch events through the GestureRecognizer,
 * then each gesture turned into remote pointer input or a local zoom/pan.
 *
 * Two modes:
 *  - touchscreen: the remote pointer goes where the finger is. Tap = left
 *    click there, long press and two-finger tap = right click, one-finger drag
 *    = left drag (a pan while zoomed in), double tap = zoom to 1:1 there (a
 *    double click while zoomed in). Taps on the black border are ignored.
 *  - trackpad: the finger moves the remote pointer relatively (CSS pixels of
 *    finger = CSS pixels of picture); taps click where the pointer is; a tap
 *    then a drag right after it drags with the left button; the view follows
 *    the pointer when it nears an edge.
 * Both: two fingers scroll (no button is ever pressed for it), pinch zooms
 * (and pans with the midpoint).
 */
import { Gesture, GestureRecognizer, TouchPoint } from './gestures';
import type { ViewTransform } from './viewTransform';

export type InputMode = 'touch' | 'trackpad';

/** Protocol button bits. */
const LEFT = 1, RIGHT = 4;

export interface TouchTarget {
  /** The view, or null before the first RESIZE. */
  view(): ViewTransform | null;
  /** The view changed: place the canvas. */
  viewChanged(): void;
  /** The container's top-left corner in client pixels. */
  origin(): { x: number; y: number };
  /** The remote pointer: where it is now, and moving/pressing it. */
  pointerAt(): { x: number; y: number };
  pointer(x: number, y: number, buttons: number, wheelX?: number, wheelY?: number): void;
}

export class TouchInput {
  mode: InputMode = 'touch';
  private readonly gestures = new GestureRecognizer();
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** What the running one-finger drag does. */
  private drag: 'pan' | 'press' | 'move' | null = null;
  private lastTapAt = -Infinity;
  /** Trackpad: the pointer with its fractions (finger moves smaller than a remote pixel add up). */
  private pad = { x: 0, y: 0 };

  constructor(private readonly target: TouchTarget) {}

  /** A DOM touch event (touchstart/move/end/cancel on the viewer). */
  handle(e: TouchEvent): void {
    e.preventDefault();
    const o = this.target.origin();
    const touches: TouchPoint[] = Array.from(e.touches, (t) => ({ id: t.identifier, x: t.clientX - o.x, y: t.clientY - o.y }));
    // When the touch happened (not when a busy page got to it: a double tap stays a double tap), on the
    // clock of performance.now() and the long-press timer; anything implausible falls back to now.
    const t = performance.now();
    const now = e.timeStamp > t - 5000 && e.timeStamp <= t ? e.timeStamp : t;
    const out = e.type === 'touchstart' ? this.gestures.start(touches, now)
      : e.type === 'touchmove' ? this.gestures.move(touches, now)
        : this.gestures.end(touches, now, e.type === 'touchcancel');
    this.apply(out);
    this.armTimer();
  }

  dispose(): void {
    if (this.timer !== null) clearTimeout(this.timer);
  }

  /** The long-press deadline: a finger held still must right-click without any new event. */
  private armTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const at = this.gestures.deadline();
    if (at === null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.apply(this.gestures.tick(performance.now()));
      this.armTimer(); // a timer that fired early waits again
    }, Math.max(0, at - performance.now()));
  }

  /** Each gesture as remote input or a view change; public for the pure part of the tests. */
  apply(gestures: readonly Gesture[]): void {
    for (const g of gestures) this.one(g);
  }

  private one(g: Gesture): void {
    const view = this.target.view();
    if (!view) return;
    const trackpad = this.mode === 'trackpad';
    switch (g.type) {
      case 'tap':
      case 'doubleTap':
        if (!trackpad && g.type === 'doubleTap' && !view.isZoomed()) return this.zoomIn(view, g.x, g.y);
        this.lastTapAt = performance.now();
        return this.click(trackpad ? this.target.pointerAt() : view.toRemote(g.x, g.y), LEFT);
      case 'longPress':
      case 'twoTap':
        return this.click(trackpad ? this.target.pointerAt() : view.toRemote(g.x, g.y), RIGHT);
      case 'dragStart': {
        if (trackpad) {
          this.pad = { ...this.target.pointerAt() };
          // Tap, then drag straight after it: drag with the button held (as laptop touchpads do).
          this.drag = performance.now() - this.lastTapAt < 400 ? 'press' : 'move';
          if (this.drag === 'press') this.press(this.target.pointerAt(), LEFT);
          return;
        }
        const at = view.toRemote(g.x, g.y);
        this.drag = view.isZoomed() || !at ? 'pan' : 'press';
        if (at && this.drag === 'press') this.press(at, LEFT);
        return;
      }
      case 'dragMove': {
        if (this.drag === 'pan') {
          view.panBy(g.dx, g.dy);
          return this.target.viewChanged();
        }
        const buttons = this.drag === 'press' ? LEFT : 0;
        if (!trackpad) {
          const at = view.toRemoteClamped(g.x, g.y);
          return this.target.pointer(at.x, at.y, buttons);
        }
        const s = view.placement().scale;
        this.pad = clampTo(view, this.pad.x + g.dx / s, this.pad.y + g.dy / s);
        const x = Math.round(this.pad.x), y = Math.round(this.pad.y);
        this.target.pointer(x, y, buttons);
        view.reveal(x, y);
        return this.target.viewChanged();
      }
      case 'dragEnd': {
        if (this.drag === 'press') {
          const p = this.target.pointerAt();
          this.target.pointer(p.x, p.y, 0);
        }
        this.drag = null;
        return;
      }
      case 'scroll': {
        // Fingers moving up scroll the content down: the wheel goes the other way, in CSS pixels.
        const p = trackpad ? this.target.pointerAt() : view.toRemoteClamped(g.x, g.y);
        return this.target.pointer(p.x, p.y, 0, -g.dx, -g.dy);
      }
      case 'pinch':
        view.zoomAt(g.scale, g.x, g.y);
        view.panBy(g.dx, g.dy);
        return this.target.viewChanged();
      case 'end':
        view.settle();
        return this.target.viewChanged();
    }
  }

  /** Double tap at fit: to 1:1 (device-pixel-exact) centred on the tapped point, or to twice the fit scale if 1:1 is hardly bigger. */
  private zoomIn(view: ViewTransform, x: number, y: number): void {
    const at = view.toRemote(x, y);
    if (!at) return;
    const one = view.oneToOneScale(), fit = view.fitScale();
    view.zoomTo(one >= fit * 1.25 ? one : fit * 2, at.x, at.y, x, y);
    this.target.viewChanged();
  }

  private press(at: { x: number; y: number }, button: number): void {
    this.target.pointer(at.x, at.y, 0); // move first, so the press lands where it should
    this.target.pointer(at.x, at.y, button);
  }

  private click(at: { x: number; y: number } | null, button: number): void {
    if (!at) return; // on the border around the screen: nothing
    this.press(at, button);
    this.target.pointer(at.x, at.y, 0);
  }
}

function clampTo(view: ViewTransform, x: number, y: number): { x: number; y: number } {
  const p = view.placement();
  return { x: Math.max(0, Math.min(p.width / p.scale - 1, x)), y: Math.max(0, Math.min(p.height / p.scale - 1, y)) };
}
