/**
 * One state machine that turns raw touches into named gestures (after noVNC's
 * GestureHandler). Pure: no DOM, no timers; the caller passes touches with the
 * time and calls `tick(now)` at `deadline()` (for the long press). Coordinates
 * are whatever the caller uses (the viewer passes client CSS pixels).
 *
 * Nothing is emitted for the first finger until the gesture is known: a tap
 * on release, a drag once it moved past the slop, a long press once it was
 * held still, or a two-finger gesture when a second finger lands. So a
 * two-finger scroll never starts with a click where the first finger landed.
 *
 * Gestures:
 *   tap / doubleTap      one finger down and up, short and still (doubleTap:
 *                        a second tap soon after and near the first)
 *   longPress            one finger held still for LONG_PRESS_MS (emitted while
 *                        still held; the rest of that touch emits nothing)
 *   drag start/move/end  one finger moved past the slop
 *   twoTap               two fingers down and up, short and still
 *   scroll               two fingers moving together (midpoint delta per move)
 *   pinch                two fingers moving apart/together (scale factor and
 *                        midpoint delta per move, around the midpoint)
 * A third finger, or fingers added after a gesture started, end the gesture
 * (everything until all fingers are up is ignored).
 */

export interface TouchPoint {
  id: number;
  x: number;
  y: number;
}

export type Gesture =
  | { type: 'tap' | 'doubleTap' | 'longPress' | 'twoTap'; x: number; y: number }
  | { type: 'dragStart'; x: number; y: number }
  | { type: 'dragMove' | 'dragEnd'; x: number; y: number; dx: number; dy: number }
  | { type: 'scroll'; x: number; y: number; dx: number; dy: number }
  | { type: 'pinch'; x: number; y: number; dx: number; dy: number; scale: number }
  | { type: 'end' };

/** Tuning, in the caller's units (CSS pixels) and ms. */
export const GESTURE = {
  /** A finger moving less than this is still a tap. */
  SLOP_PX: 10,
  LONG_PRESS_MS: 500,
  /** A tap longer than this is not a tap (but it may still become a long press). */
  TAP_MS: 350,
  /** A second tap this soon and this near the first is a double tap. */
  DOUBLE_TAP_MS: 300,
  DOUBLE_TAP_PX: 30,
  /** Two fingers: a change of their distance by this much (px) before the midpoint moved SLOP_PX is a pinch. */
  PINCH_PX: 16,
} as const;

type State =
  | { kind: 'idle' }
  | { kind: 'one'; id: number; x0: number; y0: number; t0: number }
  | { kind: 'drag'; id: number; x: number; y: number }
  | { kind: 'two'; ids: [number, number]; t0: number; mid0: [number, number]; dist0: number; moved: boolean }
  | { kind: 'scroll' | 'pinch'; ids: [number, number]; mid: [number, number]; dist: number }
  | { kind: 'ignore' }; // a finished or broken gesture: wait until every finger is up

const hypot = (a: TouchPoint, b: TouchPoint) => Math.hypot(a.x - b.x, a.y - b.y);
const midpoint = (a: TouchPoint, b: TouchPoint): [number, number] => [(a.x + b.x) / 2, (a.y + b.y) / 2];

export class GestureRecognizer {
  private state: State = { kind: 'idle' };
  private lastTap: { x: number; y: number; t: number } | null = null;

  /** When `tick` must be called next (a pending long press), or null. */
  deadline(): number | null {
    return this.state.kind === 'one' ? this.state.t0 + GESTURE.LONG_PRESS_MS : null;
  }

  /** The time passed: a finger held still long enough is a long press. */
  tick(now: number): Gesture[] {
    const s = this.state;
    if (s.kind !== 'one' || now < s.t0 + GESTURE.LONG_PRESS_MS) return [];
    this.state = { kind: 'ignore' };
    this.lastTap = null;
    return [{ type: 'longPress', x: s.x0, y: s.y0 }];
  }

  /** touchstart: `touches` are every finger now down (TouchEvent.touches). */
  start(touches: readonly TouchPoint[], now: number): Gesture[] {
    const out = this.tick(now);
    const s = this.state;
    if (s.kind === 'idle' && touches.length === 1) {
      const p = touches[0]!;
      this.state = { kind: 'one', id: p.id, x0: p.x, y0: p.y, t0: now };
    } else if ((s.kind === 'idle' || s.kind === 'one') && touches.length === 2) {
      // The first finger has not become a drag or a long press: this is a two-finger gesture.
      const first = s.kind === 'one' ? s.id : touches[0]!.id;
      const a = touches.find((p) => p.id === first) ?? touches[0]!, b = touches.find((p) => p !== a)!;
      const mid = midpoint(a, b);
      this.state = { kind: 'two', ids: [a.id, b.id], t0: now, mid0: mid, dist0: hypot(a, b), moved: false };
    } else {
      // A third finger, or a finger added to a drag/scroll/pinch: that gesture ends here.
      out.push(...this.finish());
      this.state = { kind: 'ignore' };
    }
    return out;
  }

  /** touchmove. */
  move(touches: readonly TouchPoint[], now: number): Gesture[] {
    const out = this.tick(now);
    const s = this.state;
    if (s.kind === 'one' || s.kind === 'drag') {
      const p = touches.find((q) => q.id === s.id);
      if (!p) return out;
      if (s.kind === 'one') {
        if (Math.hypot(p.x - s.x0, p.y - s.y0) < GESTURE.SLOP_PX) return out;
        this.lastTap = null;
        this.state = { kind: 'drag', id: s.id, x: s.x0, y: s.y0 };
        out.push({ type: 'dragStart', x: s.x0, y: s.y0 });
      }
      const d = this.state as Extract<State, { kind: 'drag' }>;
      out.push({ type: 'dragMove', x: p.x, y: p.y, dx: p.x - d.x, dy: p.y - d.y });
      d.x = p.x;
      d.y = p.y;
      return out;
    }
    if (s.kind === 'two' || s.kind === 'scroll' || s.kind === 'pinch') {
      const a = touches.find((p) => p.id === s.ids[0]), b = touches.find((p) => p.id === s.ids[1]);
      if (!a || !b) return out;
      const mid = midpoint(a, b), dist = hypot(a, b);
      if (s.kind === 'two') {
        const spread = Math.abs(dist - s.dist0), travel = Math.hypot(mid[0] - s.mid0[0], mid[1] - s.mid0[1]);
        if (spread >= GESTURE.PINCH_PX && spread >= travel) this.state = { kind: 'pinch', ids: s.ids, mid: s.mid0, dist: s.dist0 };
        else if (travel >= GESTURE.SLOP_PX) this.state = { kind: 'scroll', ids: s.ids, mid: s.mid0, dist: s.dist0 };
        else {
          s.moved ||= spread >= GESTURE.SLOP_PX;
          return out;
        }
      }
      const g = this.state as Extract<State, { kind: 'scroll' | 'pinch' }>;
      const dx = mid[0] - g.mid[0], dy = mid[1] - g.mid[1];
      if (g.kind === 'scroll') out.push({ type: 'scroll', x: mid[0], y: mid[1], dx, dy });
      else out.push({ type: 'pinch', x: mid[0], y: mid[1], dx, dy, scale: g.dist > 0 ? dist / g.dist : 1 });
      g.mid = mid;
      g.dist = dist;
    }
    return out;
  }

  /** touchend/touchcancel: `touches` are the fingers still down. */
  end(touches: readonly TouchPoint[], now: number, cancelled = false): Gesture[] {
    const out = this.tick(now);
    const s = this.state;
    if (s.kind === 'one' && touches.length === 0) {
      this.state = { kind: 'idle' };
      if (cancelled || now - s.t0 > GESTURE.TAP_MS) return out;
      const last = this.lastTap;
      if (last && now - last.t <= GESTURE.DOUBLE_TAP_MS && Math.hypot(s.x0 - last.x, s.y0 - last.y) <= GESTURE.DOUBLE_TAP_PX) {
        this.lastTap = null;
        out.push({ type: 'doubleTap', x: s.x0, y: s.y0 });
      } else {
        this.lastTap = { x: s.x0, y: s.y0, t: now };
        out.push({ type: 'tap', x: s.x0, y: s.y0 });
      }
      return out;
    }
    if (s.kind === 'two' && touches.length <= 1) {
      // Lifting a finger of a still two-finger touch: a two-finger tap (once, whichever lifts first).
      this.state = touches.length === 0 ? { kind: 'idle' } : { kind: 'ignore' };
      if (!cancelled && !s.moved && now - s.t0 <= GESTURE.TAP_MS) out.push({ type: 'twoTap', x: s.mid0[0], y: s.mid0[1] });
      this.lastTap = null;
      return out;
    }
    if (s.kind === 'drag' || s.kind === 'scroll' || s.kind === 'pinch') {
      out.push(...this.finish());
      this.state = touches.length === 0 ? { kind: 'idle' } : { kind: 'ignore' };
      return out;
    }
    if (touches.length === 0) this.state = { kind: 'idle' };
    return out;
  }

  /** Ends a running drag/scroll/pinch (its closing gesture), leaving the state to the caller. */
  private finish(): Gesture[] {
    const s = this.state;
    if (s.kind === 'drag') return [{ type: 'dragEnd', x: s.x, y: s.y, dx: 0, dy: 0 }];
    if (s.kind === 'scroll' || s.kind === 'pinch') return [{ type: 'end' }];
    return [];
  }
}
