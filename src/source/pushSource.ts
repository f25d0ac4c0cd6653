/**
 * PushSource: frames handed in by the embedding app (its own capture, a
 * renderer, a test). nextFrame() returns the most recently pushed frame; the
 * capture loop's change detection finds what differs. A pushed frame's buffer
 * belongs to tilecast until the next push: push a new buffer, don't mutate.
 */
import { ErrorCodes, TilecastError } from '../errors';
import { Frame, validateFrame } from '../frame';
import type { FrameSource } from './frameSource';

export class PushSource implements FrameSource {
  private latest: Frame | null = null;
  private waiters: Array<(f: Frame | null) => void> = [];
  private closed = false;

  get width(): number {
    return this.latest?.width ?? 0;
  }
  get height(): number {
    return this.latest?.height ?? 0;
  }

  push(frame: Frame): void {
    if (this.closed) throw new TilecastError(ErrorCodes.INVALID_ARG, 'push() after close()');
    this.latest = { ...validateFrame(frame), timestamp: frame.timestamp ?? performance.timeOrigin + performance.now() };
    for (const w of this.waiters.splice(0)) w(this.latest);
  }

  /** The latest frame; waits for the first push. */
  nextFrame(): Promise<Frame | null> {
    if (this.closed) return Promise.resolve(null);
    if (this.latest) return Promise.resolve(this.latest);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w(null);
  }
}
