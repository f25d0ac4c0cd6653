/**
 * The browser viewer: connects to a tilecast host over ws/wss, decodes updates
 * into an RGBA framebuffer (OpStreamDecoder), paints only the dirty region on
 * the next animation frame, acks each update once it is on screen, draws the
 * cursor locally, scales to fit with crisp pixels, reconnects with backoff and
 * shows connection state, stats and link quality.
 *
 * The protocol side of each connection (HELLO, order, ping/RTT, watchdog,
 * error reasons, backoff) is the shared ViewerLink (src/protocol/viewerLink.ts),
 * the same code the Node ViewerClient runs.
 *
 * Render queue with backpressure: updates are decoded as they arrive (order
 * matters) but painted once per animation frame; acks leave only after the
 * paint, so a tab that cannot paint (hidden, overloaded) holds its acks and
 * the host's flow control stops sending. Nothing of the remote screen is
 * stored by the page: no storage APIs, no clipboard.
 *
 * Lossy (JPEG) ops are decoded by the browser's own image decoder
 * (createImageBitmap), which is asynchronous: RESIZE and UPDATE messages go
 * through an in-order inbox that waits for an update's images before the next
 * one touches the framebuffer (its COPY ops read what the images wrote).
 *
 * No Node APIs: bundled by scripts/build-viewer.js into dist/browser/.
 */
import { OpStreamDecoder, PendingImage } from '../codec/opStreamDecoder';
import { ImageOpDecoder } from './imageOps';
import { Capability, Reason, reasonName } from '../protocol/constants';
import { CursorShapeMessage, KeyMessage, Message, PointerMessage, ResizeMessage, UpdateMessage, encodeMessage } from '../protocol/messages';
import { LinkFailure, ReconnectBackoff, ViewerLink, isFinalClose } from '../protocol/viewerLink';
import { ViewerInput } from './viewerInput';
import { ViewerOverlay } from './viewerOverlay';
import { ViewerAudio, ViewerAudioOptions } from './audio/viewerAudio';
import type { ScreenState, ViewerState, ViewerStatsSnapshot } from './viewerTypes';

export type { ScreenState, ViewerState, ViewerStatsSnapshot } from './viewerTypes';

export interface ViewerOptions {
  /** ws:// or wss:// URL of the host. */
  url: string;
  /** Send no input (default false): no input handlers, and the HELLO leaves out the INPUT capability. */
  viewOnly?: boolean;
  /** Reconnect backoff, ms (defaults 500 and 8000, jittered; see ReconnectBackoff). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Drop the connection when nothing arrives for this long, ms (default 30 s; 0: never). */
  timeoutMs?: number;
  /** Own PING (for the RTT shown) every this many ms (default 2000; 0: none). */
  pingIntervalMs?: number;
  /** Show the stats overlay (default true). */
  stats?: boolean;
  /** Two-way audio when the host offers it (default off): see ViewerAudioOptions (src/browser/audio/). */
  audio?: boolean | ViewerAudioOptions;
}

const now = () => performance.timeOrigin + performance.now();

export class TilecastViewer {
  readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly cursorCanvas: HTMLCanvasElement;
  private readonly overlay: ViewerOverlay;
  private readonly input: ViewerInput | null;
  /** The host's sound and the microphone (null: audio not asked for). */
  readonly audio: ViewerAudio | null;
  private readonly decoder = new OpStreamDecoder('rgba');
  private ws: WebSocket | null = null;
  private link: ViewerLink | null = null;
  private inbox: Array<ResizeMessage | UpdateMessage> = [];
  private inboxBusy = false;
  private generation = 0; // bumped per connection: late image decodes of an old one are dropped
  private readonly imageOps = new ImageOpDecoder();
  private image: ImageData | null = null;
  private cursor: { shape: CursorShapeMessage | null; x: number; y: number; visible: boolean } = { shape: null, x: 0, y: 0, visible: false };
  private dirty: { x0: number; y0: number; x1: number; y1: number } | null = null;
  private pendingAcks: Array<{ link: ViewerLink; frameId: number; receivedAt: number }> = [];
  private rafPending = false;
  private pointerInside = false;
  private state: ViewerState = 'connecting';
  private readonly backoff: ReconnectBackoff;
  private reconnectTimer: number | null = null;
  /** A BYE/ERROR said retrying cannot help: its message, shown when the socket closes. */
  private finalMessage: string | null = null;
  private ticker: number | null = null;
  private readonly resizeObserver: ResizeObserver;
  private readonly window1s: Array<{ t: number; bytes: number; painted: number }> = [];
  readonly stats: ViewerStatsSnapshot = {
    state: 'connecting', screenState: 'live', width: 0, height: 0, updates: 0, painted: 0, bytes: 0, rttMs: null, kbps: 0, fps: 0,
    lastError: null, connections: 0, decodeMs: 0, decodedPixels: 0,
  };

  constructor(
    private readonly container: HTMLElement,
    private readonly options: ViewerOptions,
  ) {
    if (!/^wss?:\/\//.test(options.url)) throw new Error(`tilecast viewer: url must be ws:// or wss://, got ${options.url}`);
    this.backoff = new ReconnectBackoff({ minBackoffMs: options.minBackoffMs, maxBackoffMs: options.maxBackoffMs });
    container.classList.add('tilecast-viewer');
    // The canvas and overlays are positioned inside the container.
    if (getComputedStyle(container).position === 'static') container.style.position = 'relative';
    Object.assign(container.style, { overflow: 'hidden', background: '#000' });
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'tilecast-screen';
    Object.assign(this.canvas.style, { position: 'absolute', left: '0', top: '0' });
    this.canvas.width = this.canvas.height = 1;
    this.ctx = this.canvas.getContext('2d', { alpha: false })!;
    this.cursorCanvas = document.createElement('canvas');
    this.cursorCanvas.className = 'tilecast-cursor';
    Object.assign(this.cursorCanvas.style, { position: 'absolute', pointerEvents: 'none', display: 'none' });
    container.append(this.canvas, this.cursorCanvas);
    this.overlay = new ViewerOverlay(container, options.stats !== false);
    this.input = options.viewOnly ? null : new ViewerInput(container, {
      screenSize: () => (this.image ? { width: this.image.width, height: this.image.height } : null),
      // Only once the host's HELLO accepted this viewer's input (it may have made it view-only).
      send: (msg: PointerMessage | KeyMessage) => {
        if (this.link?.inputAllowed) this.send(msg);
      },
    });
    container.addEventListener('pointerenter', () => ((this.pointerInside = true), this.placeCursor()));
    container.addEventListener('pointerleave', () => ((this.pointerInside = false), this.placeCursor()));
    this.resizeObserver = new ResizeObserver(() => this.layout());
    this.resizeObserver.observe(container);
    this.audio = options.audio ? new ViewerAudio(container, options.audio === true ? {} : options.audio) : null;
    this.connect();
  }

  /** Disconnects for good (`why`: shown to the user). */
  close(why = ''): void {
    this.setState('closed', why);
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.stopTicker();
    const code = this.link?.close() ?? 1000;
    this.ws?.close(code, 'viewer closed');
    this.ws = null;
    this.input?.dispose();
    this.audio?.close();
    this.resizeObserver.disconnect();
  }

  focus(): void {
    this.input?.focus();
  }

  private setState(state: ViewerState, detail = ''): void {
    this.state = this.stats.state = state;
    this.overlay.setState(state, detail);
  }

  private setScreenState(state: ScreenState, reason: string): void {
    this.stats.screenState = state;
    this.overlay.setScreenState(state, reason);
  }

  private showError(message: string): void {
    this.stats.lastError = message;
    this.overlay.showError(message);
  }

  private connect(): void {
    if (this.state === 'closed') return;
    const attempts = this.backoff.attempts;
    this.setState(attempts === 0 ? 'connecting' : 'reconnecting', attempts ? `attempt ${attempts + 1}` : '');
    const ws = new WebSocket(this.options.url);
    ws.binaryType = 'arraybuffer';
    const link = new ViewerLink({
      send: (msg) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(encodeMessage(msg));
      },
      capabilities: Capability.COPY_RECT | Capability.CURSOR | Capability.JPEG | Capability.SCREEN_STATE | (this.options.viewOnly ? 0 : Capability.INPUT)
        | (this.audio?.capabilities(this.options.viewOnly === true) ?? 0),
      software: 'tilecast-browser-viewer',
      now,
      pingIntervalMs: this.options.pingIntervalMs,
      timeoutMs: this.options.timeoutMs,
      backoff: this.backoff,
    });
    this.ws = ws;
    this.link = link;
    this.generation++;
    this.inbox = [];
    this.inboxBusy = false;
    ws.onopen = () => {
      this.stats.connections++;
      link.open();
      this.stopTicker();
      this.ticker = window.setInterval(() => {
        const failure = link.tick();
        if (failure) this.drop(ws, failure);
      }, link.tickIntervalMs);
    };
    ws.onmessage = (ev) => {
      if (this.ws === ws) this.onMessage(ws, link, ev.data);
    };
    ws.onclose = (ev) => {
      link.closed();
      if (this.ws !== ws) return;
      this.ws = null;
      this.stopTicker();
      if (this.state === 'closed') return;
      if (this.finalMessage !== null) return this.close(this.finalMessage);
      this.scheduleReconnect(ev.reason || `connection closed (${ev.code})`);
    };
  }

  private stopTicker(): void {
    if (this.ticker !== null) clearInterval(this.ticker);
    this.ticker = null;
  }

  private scheduleReconnect(why: string): void {
    const delay = this.backoff.next();
    this.setState('reconnecting', `${why}; retrying in ${(delay / 1000).toFixed(1)} s`);
    this.reconnectTimer = window.setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }

  private send(msg: Message): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(encodeMessage(msg));
  }

  /**
   * The link failed (its ERROR is already sent): say why on screen, close the
   * socket and start over without waiting for the closing handshake (a silent
   * host would never finish it).
   */
  private drop(ws: WebSocket, failure: LinkFailure): void {
    if (this.ws !== ws) return;
    const what = reasonName(failure.reason).toLowerCase().replace(/_/g, ' ');
    this.showError(`${what}: ${failure.message}`);
    this.ws = null;
    this.stopTicker();
    this.generation++; // what is still queued or decoding for this connection is dropped
    this.inbox = [];
    this.inboxBusy = false;
    ws.close(failure.closeCode, what);
    if (this.state !== 'closed') this.scheduleReconnect(what);
  }

  private onMessage(ws: WebSocket, link: ViewerLink, data: unknown): void {
    const bytes = data instanceof ArrayBuffer ? data.byteLength : 0;
    this.stats.bytes += bytes;
    this.window1s.push({ t: performance.now(), bytes, painted: 0 });
    let msg;
    try {
      msg = link.receiveBytes(data instanceof ArrayBuffer ? data : String(data));
    } catch (err) {
      return this.drop(ws, link.fail(err));
    } finally {
      this.stats.rttMs = link.rttMs;
    }
    if (!msg) return;
    switch (msg.type) {
      case 'hello':
        this.setState('connected');
        this.overlay.clearError();
        this.setScreenState('live', ''); // a new connection starts live; the host says so if it is not
        this.audio?.connected(link.audioAllowed, link.microphoneAllowed ? (f) => this.send({ type: 'audio', codec: 'opus', ...f }) : null);
        return;
      case 'audio':
        return this.audio?.receive(msg);
      case 'screenState':
        return this.setScreenState(msg.state, msg.reason);
      case 'resize':
      case 'update':
        this.inbox.push(msg);
        return this.drainInbox();
      case 'cursorShape':
        this.cursor.shape = msg;
        return this.drawCursorShape();
      case 'cursorPosition':
        Object.assign(this.cursor, { x: msg.x, y: msg.y, visible: msg.visible });
        return this.placeCursor();
      case 'error':
      case 'bye':
        if (msg.type === 'error' || msg.reason !== Reason.NORMAL) this.showError(`host: ${msg.message}`);
        // Not allowed (a revoked PC, a PC not this user's): say so and stop, rather than retry for ever.
        if (isFinalClose(msg)) this.finalMessage = msg.message;
        return;
    }
  }

  /** An update could not be applied: the link asks for a keyframe, or ends the connection if that was one. */
  private updateFailed(err: unknown, msg: UpdateMessage, link: ViewerLink, ws: WebSocket | null): void {
    const failure = link.updateFailed(err, msg);
    if (failure) {
      if (ws) this.drop(ws, failure);
      return;
    }
    if (link.state !== 'closed') this.showError(`decode failed: ${(err as Error)?.message ?? err}; refreshing`);
  }

  private resize(width: number, height: number): void {
    this.image = new ImageData(width, height);
    const px = new Uint32Array(this.image.data.buffer);
    px.fill(0xff000000); // opaque black until the keyframe paints
    this.canvas.width = width;
    this.canvas.height = height;
    this.stats.width = width;
    this.stats.height = height;
    this.dirty = { x0: 0, y0: 0, x1: width, y1: height };
    this.layout();
    this.schedulePaint();
  }

  /** Applies RESIZE/UPDATE in arrival order; an update with images holds the queue until they are written. */
  private drainInbox(): void {
    while (!this.inboxBusy && this.inbox.length) {
      const msg = this.inbox.shift()!;
      if (msg.type === 'resize') {
        this.resize(msg.width, msg.height);
        continue;
      }
      const pending = this.update(msg);
      if (pending) {
        this.inboxBusy = true;
        const generation = this.generation;
        void pending.then(() => {
          if (generation !== this.generation) return;
          this.inboxBusy = false;
          this.drainInbox();
        });
      }
    }
  }

  private update(msg: UpdateMessage): Promise<void> | void {
    const { frameId, stream, opCount, keyframe } = msg;
    const receivedAt = now();
    const link = this.link!, ws = this.ws;
    if (!this.image) return this.updateFailed(new Error('no framebuffer'), msg, link, ws); // the link checks RESIZE came first
    const t0 = performance.now();
    try {
      const r = this.decoder.apply(this.image.data, this.image.width, this.image.height, stream, opCount, keyframe, msg.images);
      if (r.images.length) return this.finishImages(msg, r.images, r.dirty, receivedAt, t0);
      this.completeUpdate(r.dirty, link, frameId, receivedAt, t0);
    } catch (err) {
      // The stream state is gone: keep the old picture; the link asks for a full refresh.
      this.updateFailed(err, msg, link, ws);
    }
  }

  /** The update's pixels are in the framebuffer: mark them for the next paint, which acks it. */
  private completeUpdate(dirty: { x: number; y: number; w: number; h: number } | null, link: ViewerLink, frameId: number, receivedAt: number, t0: number): void {
    if (dirty) {
      const d = this.dirty;
      this.dirty = d
        ? { x0: Math.min(d.x0, dirty.x), y0: Math.min(d.y0, dirty.y), x1: Math.max(d.x1, dirty.x + dirty.w), y1: Math.max(d.y1, dirty.y + dirty.h) }
        : { x0: dirty.x, y0: dirty.y, x1: dirty.x + dirty.w, y1: dirty.y + dirty.h };
      this.stats.decodedPixels += dirty.w * dirty.h;
    }
    this.stats.decodeMs += performance.now() - t0;
    this.stats.updates++;
    this.pendingAcks.push({ link, frameId, receivedAt });
    this.schedulePaint();
  }

  /** Decodes an update's JPEG ops with the browser's decoder, writes them, then finishes the update. */
  private async finishImages(msg: UpdateMessage, images: PendingImage[], dirty: { x: number; y: number; w: number; h: number } | null, receivedAt: number, t0: number): Promise<void> {
    const generation = this.generation;
    const link = this.link!, ws = this.ws;
    try {
      const image = this.image!;
      await this.imageOps.decodeInto(images, image.data, image.width);
      if (generation !== this.generation || this.image !== image) return;
    } catch (err) {
      if (generation !== this.generation) return;
      this.updateFailed(err, msg, link, ws);
      return;
    }
    this.completeUpdate(dirty, link, msg.frameId, receivedAt, t0);
  }

  private schedulePaint(): void {
    if (this.rafPending) return;
    this.rafPending = true;
    requestAnimationFrame(() => this.paint());
  }

  private paint(): void {
    this.rafPending = false;
    if (this.image && this.dirty) {
      const d = this.dirty;
      this.ctx.putImageData(this.image, 0, 0, d.x0, d.y0, d.x1 - d.x0, d.y1 - d.y0);
      this.dirty = null;
    }
    const displayedAt = now();
    // Acks go through the connection's link (an ack of an old connection is dropped); the first resets the backoff.
    for (const a of this.pendingAcks) a.link.ack(a.frameId, a.receivedAt, displayedAt);
    this.stats.painted += this.pendingAcks.length;
    if (this.pendingAcks.length) this.window1s.push({ t: performance.now(), bytes: 0, painted: this.pendingAcks.length });
    this.pendingAcks = [];
    this.updateStats();
  }

  private updateStats(): void {
    const t = performance.now();
    while (this.window1s.length && this.window1s[0]!.t < t - 1000) this.window1s.shift();
    this.stats.kbps = (this.window1s.reduce((n, s) => n + s.bytes, 0) * 8) / 1000;
    this.stats.fps = this.window1s.reduce((n, s) => n + s.painted, 0);
    this.overlay.setStats(this.stats);
  }

  /** Fits the screen into the container, keeping its aspect; crisp when scaled up. */
  private layout(): void {
    if (!this.image) return;
    const cw = this.container.clientWidth, ch = this.container.clientHeight;
    const scale = Math.min(cw / this.image.width, ch / this.image.height) || 1;
    const w = this.image.width * scale, h = this.image.height * scale;
    Object.assign(this.canvas.style, {
      width: `${w}px`, height: `${h}px`, left: `${(cw - w) / 2}px`, top: `${(ch - h) / 2}px`,
      // Device pixels per remote pixel >= 1: keep pixel edges (text stays sharp).
      imageRendering: scale * devicePixelRatio >= 1 ? 'pixelated' : 'auto',
    });
    this.drawCursorShape();
  }

  private drawCursorShape(): void {
    const s = this.cursor.shape;
    if (!s) return;
    this.cursorCanvas.width = s.width;
    this.cursorCanvas.height = s.height;
    const img = new ImageData(s.width, s.height);
    for (let i = 0; i < s.pixels.length; i += 4) {
      img.data[i] = s.pixels[i + 2]!;
      img.data[i + 1] = s.pixels[i + 1]!;
      img.data[i + 2] = s.pixels[i]!;
      img.data[i + 3] = s.pixels[i + 3]!;
    }
    this.cursorCanvas.getContext('2d')!.putImageData(img, 0, 0);
    // Under the local pointer the browser draws the remote shape itself (no
    // round trip of lag); the drawn cursor shows moves made on the host.
    this.container.style.cursor = `url(${this.cursorCanvas.toDataURL()}) ${s.hotX} ${s.hotY}, default`;
    this.placeCursor();
  }

  private placeCursor(): void {
    const s = this.cursor.shape;
    if (!s || !this.image || !this.cursor.visible || this.pointerInside) {
      this.cursorCanvas.style.display = 'none';
      return;
    }
    const scale = parseFloat(this.canvas.style.width) / this.image.width || 1;
    Object.assign(this.cursorCanvas.style, {
      display: 'block',
      width: `${s.width * scale}px`, height: `${s.height * scale}px`,
      left: `${parseFloat(this.canvas.style.left) + (this.cursor.x - s.hotX) * scale}px`,
      top: `${parseFloat(this.canvas.style.top) + (this.cursor.y - s.hotY) * scale}px`,
    });
  }
}

/** Mounts a viewer in `container` and connects. */
export function mountViewer(container: HTMLElement, options: ViewerOptions): TilecastViewer {
  return new TilecastViewer(container, options);
}
