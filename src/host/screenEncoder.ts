/**
 * ScreenEncoder: frames in, protocol messages out, for one viewer.
 *
 * It owns the change detector and the tile encoder of a connection, numbers
 * updates, stamps them with the frame's capture time and decides when an update
 * must be a keyframe (first frame, resize, or a viewer's refresh request). An
 * unchanged frame produces no message at all.
 *
 * Not re-entrant: await each encodeFrame() before the next (the encoder's
 * deflate stream is sequential).
 */
import { ChangeDetector, DEFAULT_TILE_SIZE } from '../detect/changeDetector';
import { TileEncoder, TileEncoderOptions } from '../codec/tileEncoder';
import { ErrorCodes, TilecastError } from '../errors';
import { Frame, Rect, validateFrame } from '../frame';
import { encodeMessage, ResizeMessage, UpdateMessage } from '../protocol/messages';
import type { OpCounts } from '../native/binding';

export interface EncodedFrame {
  /** Messages to send, in order (a RESIZE before a keyframe when the size changed). */
  messages: Uint8Array[];
  /** The update's id, or null when nothing changed. */
  frameId: number | null;
  keyframe: boolean;
  rects: Rect[];
  bytes: number;
  stats: { ops: OpCounts; pixels: OpCounts; rawBytes: number } | null;
}

export class ScreenEncoder {
  private readonly options: TileEncoderOptions;
  private detector: ChangeDetector | null = null;
  private encoder: TileEncoder;
  private nextFrameId = 1;
  private keyframePending = true;
  private busy = false;

  constructor(options: TileEncoderOptions = {}) {
    this.options = options;
    this.encoder = new TileEncoder(options);
  }

  /** The next encodeFrame() sends the whole screen with a fresh deflate stream. */
  requestKeyframe(): void {
    this.keyframePending = true;
  }

  async encodeFrame(frame: Frame): Promise<EncodedFrame> {
    validateFrame(frame);
    if (this.busy) throw new TilecastError(ErrorCodes.BUSY, 'encodeFrame() called before the previous call finished');
    this.busy = true;
    try {
      const messages: Uint8Array[] = [];
      if (!this.detector || this.detector.width !== frame.width || this.detector.height !== frame.height) {
        this.detector = new ChangeDetector({ width: frame.width, height: frame.height, tileSize: this.options.tileSize ?? DEFAULT_TILE_SIZE });
        const resize: ResizeMessage = { type: 'resize', width: frame.width, height: frame.height };
        messages.push(encodeMessage(resize));
        this.keyframePending = true;
      }
      // Always run detection so the detector's reference follows the screen.
      const dirty = await this.detector.detect(frame);
      const keyframe = this.keyframePending;
      const rects = keyframe ? [{ x: 0, y: 0, w: frame.width, h: frame.height }] : dirty;
      if (rects.length === 0) return { messages, frameId: null, keyframe: false, rects, bytes: sum(messages), stats: null };
      const encoded = await this.encoder.encode(frame, rects, { keyframe });
      this.keyframePending = false;
      const frameId = this.nextFrameId;
      this.nextFrameId = (this.nextFrameId + 1) >>> 0;
      const update: UpdateMessage = {
        type: 'update',
        frameId,
        captureTime: frame.timestamp ?? performance.timeOrigin + performance.now(),
        keyframe,
        opCount: encoded.opCount,
        stream: encoded.stream,
      };
      messages.push(encodeMessage(update));
      return { messages, frameId, keyframe, rects, bytes: sum(messages), stats: encoded.stats };
    } catch (err) {
      // The deflate stream may be half-written: only a keyframe is safe now.
      this.keyframePending = true;
      throw err;
    } finally {
      this.busy = false;
    }
  }
}

function sum(messages: Uint8Array[]): number {
  return messages.reduce((n, m) => n + m.length, 0);
}
