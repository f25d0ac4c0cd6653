/**
 * RecentChanges: where the screen changed in the last few captures, as one
 * bounding box per captured frame. The capture loop hands these to a source
 * that can hold busy damage (FrameSource.holdsBusyDamage): a change inside them
 * (the next step of a video, a scrolling log) waits for the capture tick, a
 * change anywhere else (a key's echo while a video plays) is captured at once.
 * Only the last windowMs count, so a region that changes now and then (the
 * text caret while typing) is not busy when it changes next.
 */
import type { Rect } from '../frame';
import { MAX_BUSY_RECTS } from '../source/frameSource';

export class RecentChanges {
  private boxes: Array<{ at: number; box: Rect }> = [];

  constructor(private readonly windowMs: number) {}

  /** The frame captured at `now` changed `rects` (none: nothing to note). */
  note(now: number, rects: readonly Rect[]): void {
    if (rects.length === 0) return;
    this.forget(now);
    this.boxes.push({ at: now, box: boundingBox(rects) });
  }

  /** The busy regions at `now`: distinct boxes, merged into one when there are more than MAX_BUSY_RECTS. */
  busy(now: number): Rect[] {
    this.forget(now);
    const distinct: Rect[] = [];
    for (const { box } of this.boxes) {
      if (!distinct.some((b) => b.x === box.x && b.y === box.y && b.w === box.w && b.h === box.h)) distinct.push(box);
    }
    return distinct.length > MAX_BUSY_RECTS ? [boundingBox(distinct)] : distinct;
  }

  private forget(now: number): void {
    while (this.boxes.length && this.boxes[0]!.at < now - this.windowMs) this.boxes.shift();
  }
}

function boundingBox(rects: readonly Rect[]): Rect {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const r of rects) {
    x0 = Math.min(x0, r.x);
    y0 = Math.min(y0, r.y);
    x1 = Math.max(x1, r.x + r.w);
    y1 = Math.max(y1, r.y + r.h);
  }
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}
