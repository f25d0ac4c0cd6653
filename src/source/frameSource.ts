import type { Frame, Rect } from '../frame';

/** What a waiting nextFrame() may keep back: damage wholly inside `busy`, for up to `holdMs`. */
export interface FrameHold {
  /** At most MAX_BUSY_RECTS rects. */
  busy: readonly Rect[];
  /** 0 to 1000 ms. */
  holdMs: number;
}

/** The most busy rects a FrameHold may name (the native capture thread's limit). */
export const MAX_BUSY_RECTS = 16;

/**
 * Where frames come from: a capture backend, a recording, an embedding app or a
 * synthetic scene. Frames are BGRA8; a source may reuse a frame's buffer after the
 * next nextFrame() call, so consumers finish with a frame before asking again.
 */
export interface FrameSource {
  readonly width: number;
  readonly height: number;
  /**
   * nextFrame() itself waits until something changed (a capture thread that
   * answers on damage), so asking again at once costs nothing while the screen
   * is still: the capture loop then captures early when the link is idle.
   * Sources that return a frame whenever asked leave it unset.
   */
  readonly waitsForChange?: boolean;
  /**
   * nextFrame(hold) keeps damage that lies wholly inside hold.busy back for up to
   * hold.holdMs (busy content, a video or a scrolling log, still coalesces at the
   * capture rate) and answers any other change at once, with what it held.
   */
  readonly holdsBusyDamage?: boolean;
  /** The next frame, or null once the source has ended. */
  nextFrame(hold?: FrameHold): Promise<Frame | null>;
  close(): void;
}
