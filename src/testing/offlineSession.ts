/**
 * OfflineSession: one viewer's session without a network or real time — the
 * same ViewerEncoder a live session uses, on a clock the caller moves, its
 * messages decoded at once by a ScreenDecoder (the Node viewer's decoder).
 * The link takes everything (no flow control, no quality ladder): what is
 * measured is what the encoder decides and sends. Used by the session
 * benchmark and by tests that replay frames at given times.
 *
 *   const s = new OfflineSession({ capabilities: Capability.JPEG | Capability.COPY_RECT });
 *   for (const [i, frame] of frames.entries()) await s.advance(i * 1000 / fps, frame, rects, (i + 1) * 1000 / fps);
 */
import { ScreenDecoder } from '../client/screenDecoder';
import { ErrorCodes, TilecastError } from '../errors';
import type { Frame, Rect } from '../frame';
import { Capability, DEFAULT_CACHE_BYTES, cacheCapability } from '../protocol/constants';
import { SentUpdate, ViewerEncoder, ViewerEncoderOptions } from '../host/viewerEncoder';

export interface OfflineSessionOptions extends Omit<ViewerEncoderOptions, 'clock'> {
  /** What the viewer announces in its HELLO (default COPY_RECT | CURSOR | JPEG | COMPACT_UPDATE | PREDICTED | CACHE_RUN as the tilecast viewers, and CACHE of DEFAULT_CACHE_BYTES). */
  capabilities?: number;
}

export interface OfflineStep {
  /** Updates sent during this advance, in order. */
  updates: SentUpdate[];
  /** Bytes of every message sent (RESIZE included). */
  bytes: number;
}

/** Encoder steps within one advance() before it is taken for a loop (a bug, never a real session). */
const MAX_STEPS = 10_000;

export class OfflineSession {
  readonly encoder: ViewerEncoder;
  readonly decoder = new ScreenDecoder(() => this.now);
  /** The session's clock, ms. */
  now = 0;

  constructor(options: OfflineSessionOptions = {}) {
    this.encoder = new ViewerEncoder({ ...options, clock: () => this.now });
    this.encoder.start(options.capabilities ?? Capability.COPY_RECT | Capability.CURSOR | Capability.JPEG | Capability.COMPACT_UPDATE | Capability.PREDICTED | Capability.CACHE_RUN | cacheCapability(DEFAULT_CACHE_BYTES));
    this.decoder.setCacheBudget(this.encoder.cacheBytes); // what the host's HELLO would say
  }

  /**
   * Moves the clock to `t`, offers `frame` (changed in `rects`; null: the
   * screen did not change), and runs every encoder step due before `until`
   * (the next frame's time), moving the clock as the encoder asks.
   */
  async advance(t: number, frame: Frame | null, rects: readonly Rect[], until: number): Promise<OfflineStep> {
    this.now = Math.max(this.now, t);
    if (frame) this.encoder.offer(frame, rects);
    const out: OfflineStep = { updates: [], bytes: 0 };
    for (let n = 0; ; n++) {
      if (n === MAX_STEPS) throw new TilecastError(ErrorCodes.INTERNAL, `the encoder asked for more than ${MAX_STEPS} steps before ${until} ms`);
      const step = await this.encoder.step({ canSend: true, deliveryRateBps: null });
      for (const bytes of step.messages) {
        out.bytes += bytes.length;
        await this.decoder.handleBytes(bytes);
      }
      if (step.update) out.updates.push(step.update);
      if (step.nextAt === null || step.nextAt >= until) return out;
      this.now = Math.max(this.now, step.nextAt);
    }
  }

  close(): void {
    this.encoder.close();
  }
}
