/**
 * Reference-counted copies of the screen. The capture loop copies a changed
 * frame into a snapshot (one memcpy) so that viewers can encode from it at their
 * own pace while the source moves on; a snapshot's buffer returns to the pool
 * when its last user releases it. The pool keeps at most `keep` idle buffers,
 * and gives back those beyond `minIdle` that no capture needed for `idleMs`:
 * a burst of slow viewers holding many snapshots at once would otherwise leave
 * its high-water mark (8 MiB a 1080p buffer) held for the life of the host.
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

export interface SnapshotPoolOptions {
  /** Most idle buffers kept (default 4). */
  keep?: number;
  /** Idle buffers never given back, so a change after a still screen needs no fresh allocation (default 2). */
  minIdle?: number;
  /** An idle buffer beyond minIdle that no capture took for this long is dropped, ms (default 10 s). */
  idleMs?: number;
  /** Clock, ms (tests). */
  now?: () => number;
}

export class SnapshotPool {
  /** Idle buffers, the most recently returned last (capture takes from the end, so the first ones are the longest unused). */
  private readonly idle: { buf: Buffer; since: number }[] = [];
  private generation = 0;
  private readonly keep: number;
  private readonly minIdle: number;
  private readonly idleMs: number;
  private readonly now: () => number;
  /** Idle buffers given back because no capture needed them for idleMs. */
  trimmed = 0;

  constructor(options: SnapshotPoolOptions = {}) {
    this.keep = options.keep ?? 4;
    this.minIdle = Math.min(options.minIdle ?? 2, this.keep);
    this.idleMs = options.idleMs ?? 10_000;
    this.now = options.now ?? (() => performance.now());
  }

  /** Idle buffers held now. */
  get idleCount(): number {
    return this.idle.length;
  }

  /** Copies `frame` (any stride) into a packed snapshot holding one reference. */
  capture(frame: Frame): ScreenSnapshot {
    const bytes = frame.width * frame.height * 4;
    let buf = this.idle.pop()?.buf;
    while (buf && buf.length !== bytes) buf = this.idle.pop()?.buf;
    this.trim();
    buf ??= Buffer.allocUnsafe(bytes);
    const src = Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength);
    if (frame.stride === frame.width * 4) src.copy(buf, 0, 0, bytes);
    else for (let y = 0; y < frame.height; y++) src.copy(buf, y * frame.width * 4, y * frame.stride, y * frame.stride + frame.width * 4);
    return new ScreenSnapshot({ data: buf, width: frame.width, height: frame.height, stride: frame.width * 4, timestamp: frame.timestamp }, this, ++this.generation);
  }

  recycle(buf: Buffer): void {
    if (this.idle.length < this.keep) this.idle.push({ buf, since: this.now() });
  }

  /** Drops the longest-unused idle buffers beyond minIdle that no capture took for idleMs (they go with the next GC). */
  private trim(): void {
    const cutoff = this.now() - this.idleMs;
    while (this.idle.length > this.minIdle && (this.idle[0]?.since ?? Infinity) < cutoff) {
      this.idle.shift();
      this.trimmed++;
    }
  }
}
