/**
 * ChangeDetector: which parts of a frame changed since the last one, as
 * tile-aligned rects. The scan runs in native code off the JS thread.
 */
import { checkInt, fromNative, invalidArg } from '../errors';
import { Frame, Rect, arrayToRects, validateFrame } from '../frame';
import { native, NativeChangeDetector } from '../native/binding';
import { Limits } from '../protocol/constants';
import { DEFAULT_TILE_SIZE, MAX_TILE_SIZE, MIN_TILE_SIZE } from '../tileGrid';


export interface ChangeDetectorOptions {
  width: number;
  height: number;
  /** Tile edge in pixels, 16..256 (default 64). */
  tileSize?: number;
}

export class ChangeDetector {
  readonly width: number;
  readonly height: number;
  readonly tileSize: number;
  private readonly impl: NativeChangeDetector;

  constructor(options: ChangeDetectorOptions) {
    if (typeof options !== 'object' || options === null) throw invalidArg('options', 'an object', options);
    this.width = checkInt('width', options.width, 1, Limits.MAX_DIMENSION);
    this.height = checkInt('height', options.height, 1, Limits.MAX_DIMENSION);
    this.tileSize = checkInt('tileSize', options.tileSize ?? DEFAULT_TILE_SIZE, MIN_TILE_SIZE, MAX_TILE_SIZE);
    this.impl = new (native().NativeChangeDetector)(this.width, this.height, this.tileSize);
  }

  /**
   * Compares `frame` with the previous one and returns the dirty tiles merged into
   * rects (the first call returns the whole frame). The frame's pixels must not
   * change until the promise settles.
   */
  async detect(frame: Frame): Promise<Rect[]> {
    this.checkSize(validateFrame(frame));
    try {
      return arrayToRects(await this.impl.detect(frame.data, frame.stride));
    } catch (err) {
      throw fromNative(err);
    }
  }

  /** Same as detect() but blocks the JS thread. For benchmarks and tests only. */
  detectSync(frame: Frame): Rect[] {
    this.checkSize(validateFrame(frame));
    try {
      return arrayToRects(this.impl.detectSync(frame.data, frame.stride));
    } catch (err) {
      throw fromNative(err);
    }
  }

  /** Forgets the previous frame: the next detect() reports everything. */
  reset(): void {
    this.impl.reset();
  }

  private checkSize(frame: Frame): void {
    if (frame.width !== this.width || frame.height !== this.height) {
      throw invalidArg('frame', `${this.width}x${this.height} (the detector's size)`, `${frame.width}x${frame.height}`);
    }
  }
}
