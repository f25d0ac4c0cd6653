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

  /** A CACHE_KEEP was applied on this connection: the RESIZE and keyframe that follow keep the cache. */
  private cacheKept = false;

  /**
   * The content cache the host agreed to (its HELLO), bytes; 0: none. Set
   * before the first RESIZE, which empties the cache to this size (unless a
   * CACHE_KEEP came first).
   */
  setCacheBudget(bytes: number): void {
    this.cacheBytes = bytes;
  }

  /**
   * A new connection resuming the previous one's content cache: takes over
   * its native decoder (framebuffer and cache; the RESIZE and keyframe that
   * follow replace the pixels). Before this decoder handled anything.
   */
  /** No handle() is running. */
  get idle(): boolean {
    return !this.busy;
  }

  adopt(previous: ScreenDecoder): void {
    if (this.decoder || previous.busy) throw new TilecastError(ErrorCodes.BUSY, 'adopt() before anything else, from an idle decoder');
    this.decoder = previous.decoder;
    previous.decoder = null;
  }

  /** The next id of the content cache this decoder holds, if it holds any entries (what CACHE_RESUME says); null: nothing to resume. */
  get cacheNextId(): number | null {
    const c = this.decoder?.cache;
    return c && c.entries > 0 ? c.nextId : null;
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
          // A new screen starts with an empty cache (a keyframe follows), unless the host just resumed it.
          if (!this.cacheKept) this.decoder.setCacheBudget(this.cacheBytes);
          this.cacheKept = false; // only the RESIZE right after CACHE_KEEP
          return { message };
        case 'cacheKeep':
          if (!this.decoder) throw new TilecastError(ErrorCodes.PROTOCOL, 'CACHE_KEEP, but this viewer kept no cache');
          this.decoder.keepCache(this.cacheBytes, message.nextId, message.ranges);
          this.cacheKept = true;
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
