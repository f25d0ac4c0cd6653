/**
 * ViewerSession: the host side of one viewer connection.
 *
 * Shared capture hands every session the latest screen snapshot and the rects
 * that changed. The session ORs them into its own damage region and sends an
 * update only when its flow controller allows (latest frame wins: while the link
 * is busy damage accumulates, and the next update carries the current pixels of
 * all of it). Each session has its own encoder (deflate stream) and pacing, so a
 * slow or dead viewer never holds up capture or other viewers.
 */
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { TileEncoder, TileEncoderOptions } from '../codec/tileEncoder';
import { DEFAULT_TILE_SIZE } from '../detect/changeDetector';
import { ErrorCodes, TilecastError } from '../errors';
import type { CursorShape, CursorUpdate, Rect } from '../frame';
import { Capability, PROTOCOL_VERSION, MIN_PROTOCOL_VERSION, Reason, ReasonCode } from '../protocol/constants';
import { Message, decodeMessage, encodeMessage, KeyMessage, PointerMessage } from '../protocol/messages';
import { negotiateVersion } from '../protocol/version';
import { DamageRegion } from './damageRegion';
import { FlowController, FlowControlOptions, FlowStats } from './flowControl';
import { QualityLadder, chooseTiles } from './qualityLadder';
import { LossyPolicy, LossyPolicyOptions, refineBudget } from './lossyPolicy';
import { jpegUnavailableReason } from '../native/binding';
import type { ScreenSnapshot } from './screenSnapshot';

export interface ViewerSessionOptions extends TileEncoderOptions {
  /** Highest update rate, per second (default 30). */
  maxFps?: number;
  /** Ping interval and silence timeout, ms (defaults 5 s and 30 s). */
  pingIntervalMs?: number;
  timeoutMs?: number;
  /** The viewer must send HELLO within this time, ms (default 10 s). */
  helloTimeoutMs?: number;
  flow?: FlowControlOptions;
  /** Lower the update rate of busy regions under load (default true). */
  adaptiveQuality?: boolean;
  /**
   * Lossy coding of photographic tiles changing at video rate, refined to exact
   * once still (default true: on for viewers that decode JPEG; options tune it).
   */
  lossy?: boolean | LossyPolicyOptions;
  /** Send scrolled/moved content as COPY ops (default true, for viewers that support COPY). */
  detectMoves?: boolean;
}

export interface AckSample {
  frameId: number;
  /** Capture time of the screen the update's pixels come from. */
  captureTime: number;
  /**
   * Capture time of the oldest change this update carries. Updates coalesce
   * damage while the link is busy, so displayedAt - oldestChangeTime is the
   * worst change-to-display latency the update delivered.
   */
  oldestChangeTime: number;
  sentAt: number;
  ackedAt: number;
  /** Viewer clock. */
  receivedAt: number;
  displayedAt: number;
  bytes: number;
}

export interface ViewerStats {
  id: number;
  user: string | null;
  remoteAddress: string;
  connectedAt: number;
  updatesSent: number;
  bytesSent: number;
  keyframes: number;
  /** Updates that carried JPEG (lossy) tiles, and those that carried COPY ops. */
  lossyUpdates: number;
  copyUpdates: number;
  flow: FlowStats;
  /** Quality ladder level (0 = full rate), the busy-region update interval and JPEG quality it imposes. */
  quality: { level: number; busyIntervalMs: number; jpegQuality: number | null; lossyTiles: number };
}

const now = () => performance.timeOrigin + performance.now();

let jpegChecked: boolean | undefined;
/** Whether libturbojpeg loaded (once per process; without it every viewer gets lossless only). */
function jpegAvailable(): boolean {
  jpegChecked ??= jpegUnavailableReason() === null;
  return jpegChecked;
}

/**
 * Events: 'ack' (AckSample; for updates that carried screen changes: updates
 * that only refine lossy tiles to exact are acked to flow control silently),
 * 'input' (PointerMessage | KeyMessage), 'close' ({ code, reason }).
 */
export class ViewerSession extends EventEmitter {
  readonly flow: FlowController;
  readonly ladder = new QualityLadder();
  readonly connectedAt = now();
  private readonly encoder: TileEncoder;
  private readonly tileSize: number;
  private readonly minIntervalMs: number;
  private state: 'hello' | 'streaming' | 'closed' = 'hello';
  private snapshot: ScreenSnapshot | null = null;
  private damage: DamageRegion | null = null;
  private policy: LossyPolicy | null = null;
  private lastFullSendAt = 0; // last update that included busy tiles
  private lastCalmOnlyAt = -Infinity; // last update that held busy tiles back
  private pendingSince: number | null = null; // capture time of the oldest damage not yet sent
  private keyframePending = true;
  private resizePending = true;
  private encoding = false;
  private lastUpdateAt = 0;
  private pumpTimer: NodeJS.Timeout | null = null;
  private nextFrameId = 1;
  private readonly sent = new Map<number, { captureTime: number; oldestChangeTime: number; bytes: number; changes: boolean }>();
  private lastHeard = now();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly helloTimer: NodeJS.Timeout;
  private pingId = 0;
  private viewerCapabilities = 0;
  private cursorShape: CursorShape | null = null;
  private cursorPosition: { x: number; y: number; visible: boolean } | null = null;
  private cursorShapePending = false;
  private cursorPositionPending = false;
  updatesSent = 0;
  bytesSent = 0;
  keyframes = 0;
  lossyUpdates = 0;
  copyUpdates = 0;

  constructor(
    readonly id: number,
    private readonly ws: WebSocket,
    readonly user: string | null,
    readonly remoteAddress: string,
    private readonly options: ViewerSessionOptions = {},
  ) {
    super();
    this.encoder = new TileEncoder({ ...options, trackSent: true });
    this.tileSize = options.tileSize ?? DEFAULT_TILE_SIZE;
    this.minIntervalMs = 1000 / (options.maxFps ?? 30);
    this.flow = new FlowController(options.flow);
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onMessage(data, isBinary));
    ws.on('close', (code: number, reason: Buffer) => this.onClosed(code, reason.toString()));
    ws.on('error', () => this.onClosed(1006, 'socket error'));
    const pingEvery = options.pingIntervalMs ?? 5000;
    const timeout = options.timeoutMs ?? 30_000;
    this.heartbeat = setInterval(() => {
      if (now() - this.lastHeard > timeout) return this.close(Reason.TIMEOUT, `no message for ${timeout} ms`);
      this.sendMessage({ type: 'ping', id: this.pingId++ >>> 0, time: now() });
    }, pingEvery);
    this.helloTimer = setTimeout(() => {
      if (this.state === 'hello') this.close(Reason.TIMEOUT, 'no HELLO from the viewer');
    }, options.helloTimeoutMs ?? 10_000);
  }

  get streaming(): boolean {
    return this.state === 'streaming';
  }

  /** JPEG for busy photographic tiles: the viewer decodes it, the host has the codec, and it is not turned off. */
  private get lossyEnabled(): boolean {
    return this.options.lossy !== false && (this.viewerCapabilities & Capability.JPEG) !== 0 && jpegAvailable();
  }

  private get movesEnabled(): boolean {
    return this.options.detectMoves !== false && (this.viewerCapabilities & Capability.COPY_RECT) !== 0;
  }

  /** Called by the capture loop for every changed frame. Takes its own reference. */
  offer(snapshot: ScreenSnapshot, rects: readonly Rect[]): void {
    if (this.state === 'closed') return;
    const f = snapshot.frame;
    if (!this.damage || this.damage.width !== f.width || this.damage.height !== f.height) {
      this.damage = new DamageRegion(f.width, f.height, this.tileSize);
      this.policy = new LossyPolicy(f.width, f.height, this.tileSize, typeof this.options.lossy === 'object' ? this.options.lossy : {});
      this.resizePending = true;
      this.keyframePending = true;
    }
    const t = performance.now();
    this.damage.add(rects, (i) => this.policy!.record(i, t));
    const captured = f.timestamp ?? now();
    this.pendingSince = Math.min(this.pendingSince ?? captured, captured);
    this.snapshot?.release();
    this.snapshot = snapshot.retain();
    this.pump();
  }

  /**
   * Called by the capture loop when the pointer moved or the cursor changed
   * shape. Cursor messages are tiny and go at once (latest wins), outside the
   * update flow control: a pointer that lags behind the hand feels broken.
   */
  offerCursor(cursor: CursorUpdate): void {
    if (this.state === 'closed') return;
    if (cursor.shape) {
      this.cursorShape = cursor.shape;
      this.cursorShapePending = true;
    }
    const p = this.cursorPosition;
    if (!p || p.x !== cursor.x || p.y !== cursor.y || p.visible !== cursor.visible) {
      this.cursorPosition = { x: cursor.x, y: cursor.y, visible: cursor.visible };
      this.cursorPositionPending = true;
    }
    this.sendCursor();
  }

  private sendCursor(): void {
    if (this.state !== 'streaming' || !(this.viewerCapabilities & Capability.CURSOR)) return;
    if (this.cursorShapePending && this.cursorShape) {
      const c = this.cursorShape;
      this.sendMessage({ type: 'cursorShape', width: c.width, height: c.height, hotX: c.hotX, hotY: c.hotY, pixels: c.pixels });
    }
    if (this.cursorPositionPending && this.cursorPosition) {
      const p = this.cursorPosition;
      this.sendMessage({ type: 'cursorPosition', x: Math.max(0, Math.min(0xffff, p.x)), y: Math.max(0, Math.min(0xffff, p.y)), visible: p.visible });
    }
    this.cursorShapePending = this.cursorPositionPending = false;
  }

  /** The next update resends the whole screen with a fresh deflate stream. */
  requestKeyframe(): void {
    this.keyframePending = true;
    this.pump();
  }

  stats(): ViewerStats {
    return {
      id: this.id,
      user: this.user,
      remoteAddress: this.remoteAddress,
      connectedAt: this.connectedAt,
      updatesSent: this.updatesSent,
      bytesSent: this.bytesSent,
      keyframes: this.keyframes,
      lossyUpdates: this.lossyUpdates,
      copyUpdates: this.copyUpdates,
      flow: this.flow.stats(),
      quality: {
        level: this.ladder.level,
        busyIntervalMs: this.ladder.busyIntervalMs,
        jpegQuality: this.lossyEnabled ? this.policy?.quality(this.ladder.level) ?? null : null,
        lossyTiles: this.policy?.lossyTiles ?? 0,
      },
    };
  }

  /** Cuts the connection without a closing handshake (tests: a network cut). */
  terminate(): void {
    this.ws.terminate();
  }

  close(reason: ReasonCode, message: string, asError = false): void {
    if (this.state === 'closed') return;
    this.sendMessage({ type: asError ? 'error' : 'bye', reason, message: message.slice(0, 200) });
    this.ws.close(asError ? 1008 : 1000, message.slice(0, 100));
    // A peer that does not finish the closing handshake is cut off.
    setTimeout(() => this.ws.terminate(), 2000).unref();
    this.onClosed(asError ? 1008 : 1000, message);
  }

  private onClosed(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearInterval(this.heartbeat);
    clearTimeout(this.helloTimer);
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    this.snapshot?.release();
    this.snapshot = null;
    this.emit('close', { code, reason });
  }

  private sendMessage(msg: Message): number {
    if (this.ws.readyState !== this.ws.OPEN) return 0;
    const bytes = encodeMessage(msg);
    this.ws.send(bytes);
    this.bytesSent += bytes.length;
    return bytes.length;
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.state === 'closed') return;
    this.lastHeard = now();
    let msg: Message;
    try {
      if (!isBinary) throw new TilecastError(ErrorCodes.PROTOCOL, 'text frames are not part of the protocol');
      msg = decodeMessage(data);
    } catch (err) {
      const e = err as TilecastError;
      return this.close(e.code === ErrorCodes.TOO_LARGE ? Reason.TOO_LARGE : Reason.PROTOCOL_ERROR, e.message, true);
    }
    if (this.state === 'hello' && msg.type !== 'hello') return this.close(Reason.PROTOCOL_ERROR, `expected HELLO, got ${msg.type}`, true);
    switch (msg.type) {
      case 'hello':
        if (this.state !== 'hello') return this.close(Reason.PROTOCOL_ERROR, 'second HELLO', true);
        try {
          negotiateVersion(msg);
        } catch (err) {
          return this.close(Reason.UNSUPPORTED_VERSION, (err as Error).message, true);
        }
        this.state = 'streaming';
        this.viewerCapabilities = msg.capabilities;
        clearTimeout(this.helloTimer);
        this.sendMessage({
          type: 'hello',
          minVersion: MIN_PROTOCOL_VERSION,
          maxVersion: PROTOCOL_VERSION,
          capabilities: Capability.COPY_RECT | Capability.CURSOR | Capability.JPEG,
          software: 'tilecast-host',
        });
        this.cursorShapePending = this.cursorPositionPending = true; // what the cursor looks like now
        this.sendCursor();
        this.pump();
        return;
      case 'ack': {
        const at = now();
        const sentAt = this.flow.onAck(msg.frameId, at, msg.displayedAt - msg.receivedAt);
        const info = this.sent.get(msg.frameId);
        for (const id of this.sent.keys()) {
          if (id <= msg.frameId || id > this.nextFrameId) this.sent.delete(id);
          else break;
        }
        if (sentAt !== null && info?.changes) {
          const sample: AckSample = { frameId: msg.frameId, captureTime: info.captureTime, oldestChangeTime: info.oldestChangeTime, sentAt, ackedAt: at, receivedAt: msg.receivedAt, displayedAt: msg.displayedAt, bytes: info.bytes };
          this.emit('ack', sample);
        }
        this.pump();
        return;
      }
      case 'refreshRequest':
        return this.requestKeyframe();
      case 'ping':
        this.sendMessage({ type: 'pong', id: msg.id, time: msg.time });
        return;
      case 'pong':
        return;
      case 'pointer':
      case 'key':
        this.emit('input', msg as PointerMessage | KeyMessage);
        return;
      case 'bye':
      case 'error':
        this.ws.close(1000);
        return this.onClosed(1000, `viewer said ${msg.type}: ${msg.message}`);
      default:
        return this.close(Reason.PROTOCOL_ERROR, `${msg.type} is not sent by viewers`, true);
    }
  }

  /** Sends an update if there is something to send and the link can take it. */
  private pump(): void {
    if (this.state !== 'streaming' || this.encoding || !this.snapshot || !this.damage) return;
    const t = performance.now();
    if (this.damage.empty && !this.keyframePending) {
      // Nothing new: refine lossy tiles that have settled, or come back when one will have.
      const due = this.lossyEnabled ? this.policy!.nextRefineAt() : null;
      if (due === null) return;
      if (due > t) return this.pumpLater(due - t);
    }
    if (!this.flow.canSend()) return; // an ack will call pump() again
    const wait = this.lastUpdateAt + this.minIntervalMs - t;
    if (wait > 0) return this.pumpLater(wait);
    // Under load, calm tiles (text, UI) go first and busy (video-rate) tiles wait
    // for their slower slot while calm content is active. With no calm content
    // competing, busy tiles go now: holding them back would leave the link idle.
    let select: ((tile: number) => boolean) | undefined;
    const level = this.ladder.update(this.flow.stats().deliveryRateBps, t);
    if (level > 0 && !this.keyframePending && this.options.adaptiveQuality !== false) {
      const busy = this.policy!.busy;
      const calm = (tile: number) => !busy.isBusy(tile, t);
      let anyCalm = false;
      let anyBusy = false;
      this.damage.forEachTile((tile) => (calm(tile) ? (anyCalm = true) : (anyBusy = true)));
      const busySlotInMs = this.lastFullSendAt + this.ladder.busyIntervalMs - t;
      const choice = chooseTiles({ level, busySlotInMs, anyCalm, anyBusy, calmActiveMs: t - this.lastCalmOnlyAt, busyIntervalMs: this.ladder.busyIntervalMs });
      if (choice === 'wait') return this.pumpLater(busySlotInMs);
      if (choice === 'calm') {
        select = calm;
        this.lastCalmOnlyAt = t;
        this.pumpLater(busySlotInMs); // come back for the busy tiles when their slot opens
      }
    }
    void this.sendUpdate(select);
  }

  private pumpLater(ms: number): void {
    if (!this.pumpTimer) this.pumpTimer = setTimeout(() => ((this.pumpTimer = null), this.pump()), ms);
  }

  private async sendUpdate(select?: (tile: number) => boolean): Promise<void> {
    const snapshot = this.snapshot!.retain();
    const frame = snapshot.frame;
    const keyframe = this.keyframePending;
    const rects = this.damage!.take(keyframe ? undefined : select);
    if (!select) this.lastFullSendAt = performance.now();
    const oldestChangeTime = this.pendingSince ?? frame.timestamp ?? now();
    // Damage left behind (busy tiles waiting for their slot) keeps its age, conservatively.
    if (this.damage!.empty) this.pendingSince = null;
    this.keyframePending = false;
    this.encoding = true;
    this.lastUpdateAt = performance.now();
    try {
      if (this.resizePending) {
        this.sendMessage({ type: 'resize', width: frame.width, height: frame.height });
        this.resizePending = false;
      }
      const t = performance.now();
      const policy = this.policy!;
      const lossy = this.lossyEnabled
        ? { mask: policy.mask(t), quality: policy.quality(this.ladder.level), subsampling: policy.subsampling, optimizeHuffman: policy.optimizeHuffman(this.ladder.level) }
        : undefined;
      const refine = this.lossyEnabled && !keyframe ? policy.refineDue(t, refineBudget(this.flow.stats().deliveryRateBps, this.tileSize)) : [];
      const encoded = await this.encoder.encode(frame, rects, { keyframe, lossy, refine, detectMoves: this.movesEnabled });
      policy.onEncoded(encoded.lossyTiles);
      if (this.state !== 'streaming') return;
      const frameId = this.nextFrameId;
      this.nextFrameId = (this.nextFrameId + 1) >>> 0 || 1;
      const captureTime = frame.timestamp ?? now();
      const bytes = this.sendMessage({ type: 'update', frameId, captureTime, keyframe: encoded.keyframe, opCount: encoded.opCount, stream: encoded.stream, images: encoded.images });
      this.sent.set(frameId, { captureTime, oldestChangeTime: Math.min(oldestChangeTime, captureTime), bytes, changes: keyframe || rects.length > 0 });
      this.flow.onSend(frameId, bytes, now());
      this.ladder.onSend(bytes, performance.now());
      this.updatesSent++;
      if (encoded.lossyRects.length) this.lossyUpdates++;
      if (encoded.copies.length) this.copyUpdates++;
      if (encoded.keyframe) this.keyframes++;
    } catch (err) {
      // The deflate stream state is unknown after a failure: resend everything.
      this.keyframePending = true;
      this.emit('error', err);
    } finally {
      snapshot.release();
      this.encoding = false;
      this.pump();
    }
  }
}
