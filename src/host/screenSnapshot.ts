/**
 * Reference-counted copies of the screen. The capture loop copies a changed
 * frame into a snapshot (one memcpy) so that viewers can encode from it at their
 * own pace while the source moves on; a snapshot's buffer returns to the pool
 * when its last user releases it. The pool keeps at most `keep` idle buffers.
 * Each snapshot has a generation, unique within its pool: the native encoders
 * of viewers that have all of it share one copy of it by that id (ScreenStore).
 */
import type { Frame } from '../frame';

export class ScreenSnapshot {
  private refs = 1;
  constructor(
    readonly frame: Frame,
    private readonly pool: SnapshotPool,
    readonly generation: number,
  ) {}
  retain(): this {
    this.refs++;
    return this;
  }
  release(): void {
    if (--this.refs === 0) this.pool.recycle(this.frame.data as Buffer);
  }
}

export class SnapshotPool {
  private readonly idle: Buffer[] = [];
  private generation = 0;
  constructor(private readonly keep = 4) {}

  /** Copies `frame` (any stride) into a packed snapshot holding one reference. */
  capture(frame: Frame): ScreenSnapshot {
    const bytes = frame.width * frame.height * 4;
    let buf = this.idle.pop();
    while (buf && buf.length !== bytes) buf = this.idle.pop();
    buf ??= Buffer.allocUnsafe(bytes);
    const src = Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength);
    if (frame.stride === frame.width * 4) src.copy(buf, 0, 0, bytes);
    else for (let y = 0; y < frame.height; y++) src.copy(buf, y * frame.width * 4, y * frame.stride, y * frame.stride + frame.width * 4);
    return new ScreenSnapshot({ data: buf, width: frame.width, height: frame.height, stride: frame.width * 4, timestamp: frame.timestamp }, this, ++this.generation);
  }

  recycle(buf: Buffer): void {
    if (this.idle.length < this.keep) this.idle.push(buf);
  }
}
