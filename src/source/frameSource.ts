import type { Frame } from '../frame';

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
  /** The next frame, or null once the source has ended. */
  nextFrame(): Promise<Frame | null>;
  close(): void;
}
