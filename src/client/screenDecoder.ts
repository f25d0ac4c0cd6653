/**
 * ScreenDecoder: protocol messages in, framebuffer and acks out, for one
 * connection on the viewer side (Node). It validates the order of messages
 * (no update before the screen size is known), applies updates in native code,
 * tracks the cursor, and returns the ACK to send for each applied update.
 *
 * A decode error is thrown as a TilecastError; the decoder then waits for a
 * keyframe, so the caller either sends REFRESH_REQUEST or closes the connection.
 * Not re-entrant: await each handle() before the next.
 */
import { TileDecoder } from '../codec/tileDecoder';
import { ErrorCodes, TilecastError } from '../errors';
import { AckMessage, CursorShapeMessage, Message, decodeMessage } from '../protocol/messages';
import { CompactUpdateState } from '../protocol/compactUpdate';
import type { OpCounts } from '../codec/opCounts';

export interface CursorState {
  x: number;
  y: number;
  visible: boolean;
  shape: CursorShapeMessage | null;
}

export interface HandledMessage {
  message: Message;
  /** For an applied update: the ack to send back. */
  ack?: AckMessage;
  ops?: OpCounts;
}

export class ScreenDecoder {
  private decoder: TileDecoder | null = null;
  private cacheBytes = 0;
  private busy = false;
  private readonly compactUpdates = new CompactUpdateState();
  /** Id of the last update applied. */
  lastFrameId: number | null = null;
  readonly cursor: CursorState = { x: 0, y: 0, visible: false, shape: null };
  /** Viewer clock for acks (ms); injectable for tests. */
  constructor(private readonly now: () => number = () => performance.timeOrigin + performance.now()) {}

  /**
   * The content cache the host agreed to (its HELLO), bytes; 0: none. Set
   * before the first RESIZE; the decoder made for each screen size gets it.
   */
  setCacheBudget(bytes: number): void {
    this.cacheBytes = bytes;
    this.decoder?.setCacheBudget(bytes);
  }

  /** The native decoder (null until the first RESIZE): tests read its cache. */
  get tileDecoder(): TileDecoder | null {
    return this.decoder;
  }

  get width(): number {
    return this.decoder?.width ?? 0;
  }
  get height(): number {
    return this.decoder?.height ?? 0;
  }
  /** Packed BGRA, alpha 255; null until the first RESIZE. */
  get framebuffer(): Buffer | null {
    return this.decoder?.framebuffer ?? null;
  }

  /**
   * Decodes and applies one wire message of a connection whose viewer
   * announced COMPACT_UPDATE (UPDATE_COMPACT is accepted along with UPDATE).
   */
  async handleBytes(bytes: Uint8Array): Promise<HandledMessage> {
    const receivedAt = this.now();
    return this.handle(decodeMessage(bytes, this.compactUpdates), receivedAt);
  }

  async handle(message: Message, receivedAt = this.now()): Promise<HandledMessage> {
    if (this.busy) throw new TilecastError(ErrorCodes.BUSY, 'handle() called before the previous call finished');
    this.busy = true;
    try {
      switch (message.type) {
        case 'resize':
          if (this.decoder) this.decoder.resize(message.width, message.height);
          else this.decoder = new TileDecoder({ width: message.width, height: message.height });
          this.decoder.setCacheBudget(this.cacheBytes); // a new screen starts with an empty cache (a keyframe follows)
          return { message };
        case 'update': {
          if (!this.decoder) throw new TilecastError(ErrorCodes.PROTOCOL, 'UPDATE before RESIZE: screen size unknown');
          const { ops } = await this.decoder.apply(message);
          this.lastFrameId = message.frameId;
          return { message, ops, ack: { type: 'ack', frameId: message.frameId, receivedAt, displayedAt: this.now() } };
        }
        case 'cursorShape':
          this.cursor.shape = { ...message, pixels: message.pixels.slice() };
          return { message };
        case 'cursorPosition':
          this.cursor.x = message.x;
          this.cursor.y = message.y;
          this.cursor.visible = message.visible;
          return { message };
        default:
          return { message };
      }
    } finally {
      this.busy = false;
    }
  }
}
