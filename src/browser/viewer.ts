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
 * matters; the decode Worker queues them itself and is handed all that came
 * while it applied the last)
 * and, while the page is visible, painted as soon as each is decoded
 * (paintOnDecode): the canvas then reaches the next composited frame without
 * first waiting for an animation frame callback, and the ack (sent after the
 * paint) leaves up to a frame sooner, which the host's flow control and early
 * capture feel as a shorter round trip; when newer updates are already waiting
 * (a burst after an outage) it paints once, after the newest, and a small late
 * update that came alone waits up to 4 ms for them (TRICKLE_MS). A hidden page paints on animation
 * frames, which it does not get: acks leave only after the paint, so a tab
 * that cannot paint holds its acks and the host's flow control stops sending. Nothing of the remote screen is
 * stored by the page: no storage APIs, no clipboard.
 *
 * Lossy (JPEG) ops are decoded by the browser's own image decoder
 * (createImageBitmap), which is asynchronous: RESIZE and UPDATE messages go
 * through an in-order inbox that waits for an update's images before the next
 * one touches the framebuffer (its COPY ops read what the images wrote).
 *
 * No Node APIs: bundled by scripts/build-viewer.js into dist/browser/.
 */
import { ArrivalLateness } from './arrivalLateness';
import { LocalFrames, MAX_COALESCE_BYTES, ScreenFrames, updateBytes, waitForNewer, WorkerFrames } from './screenFrames';
import { Capability, DEFAULT_CACHE_BYTES, Reason, agreedCacheBytes, cacheCapability, reasonName } from '../protocol/constants';
import { CacheKeepMessage, CacheTicketMessage, CursorShapeMessage, KeyMessage, Message, PointerMessage, ResizeMessage, UpdateMessage, encodeMessage } from '../protocol/messages';
import { LinkFailure, ReconnectBackoff, ViewerLink, isFinalClose } from '../protocol/viewerLink';
import { ViewerInput } from './viewerInput';
import type { InputMode } from './touchInput';
import { Lang, pickLang, text } from './i18n';
import { InputHold } from './inputHold';
import { MODIFIER_KEYS } from './textInput';
import { StickyModifier, Toolbar, ToolbarAudioActions } from './toolbar';
import { ScreenWakeLock } from './wakeLock';
import { Modifier } from '../protocol/constants';
import { ViewerOverlay } from './viewerOverlay';
import { ViewerAudio, ViewerAudioOptions } from './audio/viewerAudio';
import { ViewTransform } from './viewTransform';
import type { ScreenState, ViewerState, ViewerStatsSnapshot } from './viewerTypes';

export type { ScreenState, ViewerState, ViewerStatsSnapshot } from './viewerTypes';

export interface ViewerOptions {
  /** ws:// or wss:// URL of the host. */
  url: string;
  /** Send no input (default false): no input handlers, and the HELLO leaves out the INPUT capability. */
  viewOnly?: boolean;
  /** Content cache offered to the host, bytes (default 64 MiB; 0: none): window switches re-send far less. */
  contentCacheBytes?: number;
  /** Keep the content cache across reconnects and resume it with the host (default true): the first screen after a drop comes mostly from it. */
  resumeCache?: boolean;
  /** Reconnect backoff, ms (defaults 500 and 8000, jittered; see ReconnectBackoff). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Drop the connection when nothing arrives for this long, ms (default 30 s; 0: never). */
  timeoutMs?: number;
  /** Own PING (for the RTT shown) every this many ms (default 2000; 0: none). */
  pingIntervalMs?: number;
  /** Show the stats overlay (default true). */
  stats?: boolean;
  /** UI language (default: from navigator.languages, Japanese unless English comes first). */
  lang?: Lang;
  /** Show the toolbar (keyboard, modifiers, special keys, zoom, input mode; default true unless view-only). */
  toolbar?: boolean;
  /** Decode in a Worker (default true; falls back to the main thread when Workers cannot start). */
  worker?: boolean;
  /**
   * With the Worker, let it draw too (default true where the browser has OffscreenCanvas): the page's
   * canvas is handed to it, and each paint reaches the compositor without a hop to the main thread
   * or a wait for the page's next frame. false: the Worker sends pixels back and the page draws.
   */
  drawInWorker?: boolean;
  /**
   * Paint each update as soon as it is decoded while the page is visible
   * (default true); false: paint on the next animation frame (the earlier
   * behaviour, kept for comparison in benchmarks).
   */
  paintOnDecode?: boolean;
  /**
   * Small decoded updates wait at most this long, ms, for newer ones already received behind them
   * (a burst after a link outage), which are then painted with them at once (default 33: two frames
   * at 60 Hz; 0: each update is painted on its own). A small late update decoded alone waits up to
   * 4 ms of it for the rest of its burst (TRICKLE_MS).
   */
  coalesceMs?: number;
  /** Two-way audio when the host offers it (default off): see ViewerAudioOptions (src/browser/audio/). */
  audio?: boolean | ViewerAudioOptions;
}

/** This module's own URL (scripts/build-viewer.js puts it in the bundle): the decode Worker runs the same file. */
declare const __tilecastModuleUrl: string | undefined;

/** Decoded updates wait at most this long for the newer ones behind them before being painted (two frames at 60 Hz; ViewerOptions.coalesceMs). */
const DEFAULT_COALESCE_MS = 33;
/** An update at most this much later than the quickest lately (ArrivalLateness) is likely alone: the Worker draws it as soon as it is applied. */
const ON_TIME_MS = 10;
/**
 * A small late update decoded alone waits at most this long (counted from when the oldest update
 * held was decoded; never more than coalesceMs) for the rest of its burst. The updates a link held
 * come out together, but Chromium hands them to the page over 1.3-6.4 ms, 11 times in 12 under 4
 * (bench/results/latency-trickle.md); a stale one drawn alone takes the compositor's frame, and the
 * newest waits for the next (up to 17 ms).
 */
const TRICKLE_MS = 4;

/** The ladder level "data saver" asks for: busy regions at most 5 updates/s, JPEG quality 55. */
const DATA_SAVER_LEVEL = 2;

const STICKY_BITS: Record<StickyModifier, number> = { ctrl: Modifier.CONTROL, alt: Modifier.ALT, win: Modifier.META, shift: Modifier.SHIFT };

const now = () => performance.timeOrigin + performance.now();

export class TilecastViewer {
  /** Where the remote screen is drawn (a new one if the decode Worker that drew it stops). */
  canvas: HTMLCanvasElement;
  private readonly cursorCanvas: HTMLCanvasElement;
  private readonly overlay: ViewerOverlay;
  private readonly input: ViewerInput | null;
  /** The host's sound and the microphone (null: audio not asked for). */
  readonly audio: ViewerAudio | null;
  private readonly toolbar: Toolbar | null = null;
  readonly lang: Lang;
  private readonly held = new InputHold();
  private readonly wakeLock = new ScreenWakeLock();
  private statsTimer: number;
  /** Data saver: the QUALITY_LIMIT level asked of every host this viewer connects to (0: none). */
  private qualityLimit = 0;
  /** Zoom and pan: where the remote screen sits in the container. */
  readonly view = new ViewTransform(devicePixelRatio);
  private frames: ScreenFrames;
  private ws: WebSocket | null = null;
  private link: ViewerLink | null = null;
  private inbox: Array<ResizeMessage | UpdateMessage | CacheKeepMessage | CacheTicketMessage> = [];
  /** A CACHE_KEEP was applied on this connection: its RESIZE keeps the cache. */
  private cacheKeptNow = false;
  /** The CACHE_TICKET of the last connection (null: none, or used): shown once by the next one. */
  private cacheTicket: Uint8Array | null = null;
  private inboxBusy = false;
  /** The sizes of the updates handed to a pipelined decoder and not yet applied, oldest first. */
  private applying: number[] = [];
  private readonly lateness = new ArrivalLateness();
  /** When each update waiting in the inbox arrived (epoch ms): its lateness is judged by that, not by its wait here. */
  private readonly arrivedAt = new WeakMap<UpdateMessage, number>();
  private generation = 0; // bumped per connection: late image decodes of an old one are dropped
  /** The remote screen's size (null before the first RESIZE). */
  private size: { width: number; height: number } | null = null;
  private cacheBytes = 0; // the content cache agreed at the last HELLO
  private cursor: { shape: CursorShapeMessage | null; x: number; y: number; visible: boolean } = { shape: null, x: 0, y: 0, visible: false };
  private pendingAcks: Array<{ link: ViewerLink; frameId: number; receivedAt: number; lossy: boolean }> = [];
  /** When the oldest update not yet painted was decoded (performance.now()). */
  private unpaintedSince = 0;
  private rafPending = false;
  private trickleTimer: number | null = null;
  private pointerInside = false;
  private state: ViewerState = 'connecting';
  private readonly backoff: ReconnectBackoff;
  private reconnectTimer: number | null = null;
  /** A BYE/ERROR said retrying cannot help: its message, shown when the socket closes. */
  private finalMessage: string | null = null;
  private ticker: number | null = null;
  private readonly resizeObserver: ResizeObserver;
  /** The last second: bytes received, updates painted and how many of them carried JPEG. */
  private readonly window1s: Array<{ t: number; bytes: number; painted: number; lossy: number }> = [];
  readonly stats: ViewerStatsSnapshot = {
    state: 'connecting', screenState: 'live', width: 0, height: 0, updates: 0, painted: 0, paints: 0, bytes: 0, rttMs: null, kbps: 0, fps: 0,
    lastError: null, connections: 0, decodeMs: 0, decodedPixels: 0, codec: 'idle', decoder: 'main', drawnIn: 'main',
  };

  constructor(
    private readonly container: HTMLElement,
    private readonly options: ViewerOptions,
  ) {
    if (!/^wss?:\/\//.test(options.url)) throw new Error(`tilecast viewer: url must be ws:// or wss://, got ${options.url}`);
    if (options.coalesceMs !== undefined && !(options.coalesceMs >= 0)) throw new Error(`tilecast viewer: coalesceMs must be a number >= 0, got ${options.coalesceMs}`);
    this.backoff = new ReconnectBackoff({ minBackoffMs: options.minBackoffMs, maxBackoffMs: options.maxBackoffMs });
    container.classList.add('tilecast-viewer');
    // The canvas and overlays are positioned inside the container.
    if (getComputedStyle(container).position === 'static') container.style.position = 'relative';
    Object.assign(container.style, { overflow: 'hidden', background: '#000' });
    this.canvas = screenCanvas();
    this.cursorCanvas = document.createElement('canvas');
    this.cursorCanvas.className = 'tilecast-cursor';
    Object.assign(this.cursorCanvas.style, { position: 'absolute', pointerEvents: 'none', display: 'none' });
    container.append(this.canvas, this.cursorCanvas);
    this.frames = this.makeFrames(options.worker !== false);
    this.lang = options.lang ?? pickLang(navigator.languages?.length ? navigator.languages : [navigator.language]);
    this.overlay = new ViewerOverlay(container, options.stats !== false, this.lang, () => this.canvas);
    this.input = options.viewOnly ? null : new ViewerInput(container, {
      view: () => (this.size ? this.view : null),
      viewChanged: () => this.place(),
      typed: (x, y) => {
        // Zoomed in: keep where the typing goes (the last click) in sight, above a soft keyboard.
        if (!this.view.isZoomed()) return;
        this.view.reveal(x, y);
        this.place();
      },
      // Only once the host's HELLO accepted this viewer's input (it may have made it view-only);
      // while disconnected, keys are held for a moment and the rest is counted (InputHold).
      send: (msg: PointerMessage | KeyMessage) => {
        if (this.link?.inputAllowed && this.ws?.readyState === WebSocket.OPEN) return this.send(msg);
        if (this.state === 'connected') return; // connected but view-only: nothing to hold
        if (this.held.hold(msg, performance.now())) this.overlay.noteInput(this.t('inputHeld'));
      },
      stickyReleased: () => this.toolbar?.stickyReleased(),
    });
    const withToolbar = this.input !== null && options.toolbar !== false;
    // Audio's controls are in the toolbar when there is one (else ViewerAudio's own buttons).
    const audioOptions = options.audio === true ? {} : options.audio || null;
    this.audio = audioOptions
      ? new ViewerAudio(container, { lang: this.lang, controls: !withToolbar, ...audioOptions, onChange: (s) => { this.toolbar?.audioState(s); audioOptions.onChange?.(s); } })
      : null;
    if (withToolbar) this.toolbar = this.makeToolbar(this.input!);
    // A mouse shows the remote cursor as its own; a finger does not (the drawn one stays).
    container.addEventListener('pointerenter', (e) => e.pointerType !== 'touch' && ((this.pointerInside = true), this.placeCursor()));
    container.addEventListener('pointerleave', (e) => e.pointerType !== 'touch' && ((this.pointerInside = false), this.placeCursor()));
    this.resizeObserver = new ResizeObserver(() => this.layout());
    this.resizeObserver.observe(container);
    // A soft keyboard covers the bottom of the page without resizing it (iOS; Android with some browsers).
    window.visualViewport?.addEventListener('resize', this.onVisualViewport);
    document.addEventListener('visibilitychange', this.onVisibility);
    // The overlay's stats every second, and only then (an idle screen shows 0 fps, not the last busy second's).
    this.statsTimer = window.setInterval(() => this.updateStats(true), 1000);
    this.connect();
  }

  /** The decode Worker if it can start here, else the main thread. */
  private makeFrames(worker: boolean): ScreenFrames {
    const url = typeof __tilecastModuleUrl === 'string' ? __tilecastModuleUrl : null;
    let frames: ScreenFrames | null = null;
    if (worker && url && typeof Worker === 'function') {
      try {
        const workerFrames = new WorkerFrames(url, this.canvas, this.options.drawInWorker !== false, (why) => this.workerBroken(why));
        // A large update the Worker held for the late part of a frame interval (FramePacer) is drawn: ack what waited for it.
        workerFrames.onDrawn = () => {
          if (workerFrames === this.frames) this.acked(this.takeAcks());
        };
        frames = workerFrames;
      } catch {
        // No module Workers here (or not allowed): the main thread decodes.
      }
    }
    frames ??= new LocalFrames(this.canvas);
    this.stats.decoder = frames.where;
    this.stats.drawnIn = frames.drawnIn;
    return frames;
  }

  /**
   * The Worker stopped (could not load, crashed): decode on the main thread; the failed updates ask
   * for a keyframe. A canvas the Worker drew on is its for good: a new one takes its place.
   */
  private workerBroken(why: string): void {
    console.warn(`tilecast viewer: ${why}; decoding on the main thread`);
    if (this.frames.drawnIn === 'worker') {
      const fresh = screenCanvas();
      fresh.style.cssText = this.canvas.style.cssText;
      this.canvas.replaceWith(fresh);
      this.canvas = fresh;
    }
    this.frames = new LocalFrames(this.canvas);
    this.stats.decoder = this.stats.drawnIn = 'main';
    if (this.size) this.frames.resize(this.size.width, this.size.height, this.cacheBytes);
    this.schedulePaint();
  }

  /** The remote screen's pixels as drawn on the canvas (RGBA): for tests and diagnostics. */
  readCanvas(): Promise<ImageData> {
    return this.frames.readCanvas();
  }

  private t(key: Parameters<typeof text>[1], vars?: Record<string, string | number>): string {
    return text(this.lang, key, vars);
  }

  private makeToolbar(input: ViewerInput): Toolbar {
    const toolbar = new Toolbar(this.container, this.lang, {
      toggleKeyboard: () => {
        if (document.activeElement === input.text.sink) input.blur();
        else input.focus();
        return document.activeElement === input.text.sink;
      },
      key: (code, key) => input.text.press(code, key),
      sticky: (mod, on) => input.text.setSticky(STICKY_BITS[mod], on),
      ctrlAltDel: () => input.text.chord([MODIFIER_KEYS[0], MODIFIER_KEYS[1], { code: 'Delete', key: 'Delete' }]),
      toggleInputMode: () => (input.mode = input.mode === 'touch' ? 'trackpad' : 'touch'),
      toggleZoom: () => {
        if (this.view.zoom() === 1) this.view.fit();
        else {
          const p = this.view.placement(), cx = this.container.clientWidth / 2, cy = this.container.clientHeight / 2;
          this.view.zoomTo(this.view.oneToOneScale(), (cx - p.left) / p.scale, (cy - p.top) / p.scale, cx, cy);
        }
        this.place();
        return this.view.zoom() === 1;
      },
      toggleDataSaver: () => {
        this.limitQuality(this.qualityLimit ? 0 : DATA_SAVER_LEVEL);
        return this.qualityLimit > 0;
      },
      disconnect: () => this.close(this.t('disconnectedByUser')),
      ...(this.audio ? { audio: this.audioActions(this.audio) } : {}),
    });
    if (this.audio) toolbar.audioState(this.audio.state());
    input.text.sink.addEventListener('focus', () => toolbar.keyboardShown(true));
    input.text.sink.addEventListener('blur', () => toolbar.keyboardShown(false));
    return toolbar;
  }

  private audioActions(audio: ViewerAudio): ToolbarAudioActions {
    return {
      toggleMute: () => {
        const s = audio.state();
        if (!s.running) void audio.start(); // the tap itself: the browser's autoplay rule
        else audio.setMuted(!s.muted);
      },
      setVolume: (v) => audio.setVolume(v),
      toggleMicrophone: () => void audio.setMicrophone(!audio.state().microphoneOn),
    };
  }

  /** Disconnects for good (`why`: shown to the user). */
  close(why = ''): void {
    this.setState('closed', why);
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.clearTrickleTimer();
    this.stopTicker();
    const code = this.link?.close() ?? 1000;
    this.ws?.close(code, 'viewer closed');
    this.ws = null;
    this.input?.dispose();
    this.audio?.close();
    this.frames.dispose();
    clearInterval(this.statsTimer);
    this.wakeLock.dispose();
    this.resizeObserver.disconnect();
    window.visualViewport?.removeEventListener('resize', this.onVisualViewport);
    document.removeEventListener('visibilitychange', this.onVisibility);
  }

  focus(): void {
    this.input?.focus();
  }

  /** Touch input: 'touch' (tap where you tap) or 'trackpad' (the finger moves the pointer). */
  get inputMode(): InputMode {
    return this.input?.mode ?? 'touch';
  }

  set inputMode(mode: InputMode) {
    if (this.input) this.input.mode = mode;
  }

  /**
   * "Data saver": asks the host to keep its quality ladder at `minLevel` (0..3)
   * or above (busy regions less often and coarser; text stays exact), now and
   * after reconnecting; 0 lifts it. Says so on screen when the host cannot.
   */
  limitQuality(minLevel: number): void {
    this.qualityLimit = minLevel;
    const honoured = this.link?.limitQuality(minLevel) ?? false;
    if (!honoured && minLevel > 0 && this.state === 'connected') this.overlay.showError(this.t('dataSaverUnsupported'));
  }

  /** Zoom back to fit-to-screen. */
  resetZoom(): void {
    this.view.fit();
    this.place();
  }

  private setState(state: ViewerState, detail = ''): void {
    this.state = this.stats.state = state;
    this.overlay.setState(state, detail, this.size !== null);
    this.wakeLock.set(state === 'connected'); // the screen stays on while connected, not while retrying
    // The microphone goes to a connection only once its HELLO grants it again.
    if (state !== 'connected') this.audio?.disconnected();
  }

  private setScreenState(state: ScreenState, reason: string): void {
    this.stats.screenState = state;
    this.overlay.setScreenState(state, reason);
  }

  /** `message` for stats.lastError (logs, embedders), `shown` for the user (default: the same). */
  private showError(message: string, shown = message): void {
    this.stats.lastError = message;
    this.overlay.showError(shown);
  }

  /** Connected again: what was typed meanwhile goes now (if recent), and the user hears about anything dropped. */
  private releaseHeldInput(): void {
    const { send, dropped } = this.held.release(performance.now());
    if (this.link?.inputAllowed) for (const m of send) this.send(m);
    if (dropped) this.overlay.showError(this.t('inputDropped', { n: dropped }));
  }

  private connect(): void {
    if (this.state === 'closed') return;
    const attempts = this.backoff.attempts;
    this.setState(attempts === 0 ? 'connecting' : 'reconnecting', attempts ? this.t('attempt', { n: attempts + 1 }) : '');
    const ws = new WebSocket(this.options.url);
    ws.binaryType = 'arraybuffer';
    const cacheCapabilities = cacheCapability(this.options.contentCacheBytes ?? DEFAULT_CACHE_BYTES);
    const resumable = (cacheCapabilities & Capability.CACHE) !== 0 && this.options.resumeCache !== false;
    // The previous connection's ticket, used once, if the cache holds anything.
    const nextId = this.frames.cacheNextId;
    // Kept through attempts that never reach the host (no network yet); spent at its HELLO.
    const resume = resumable && this.cacheTicket && nextId !== null ? { ticket: this.cacheTicket, nextId } : null;
    this.cacheKeptNow = false;
    const link = new ViewerLink({
      send: (msg) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(encodeMessage(msg));
      },
      capabilities: Capability.COPY_RECT | Capability.CURSOR | Capability.JPEG | Capability.SCREEN_STATE | Capability.COMPACT_UPDATE | Capability.PREDICTED | (this.options.viewOnly ? 0 : Capability.INPUT)
        | cacheCapabilities | (cacheCapabilities & Capability.CACHE ? Capability.CACHE_RUN : 0) | (resumable ? Capability.CACHE_RESUME : 0)
        | (this.audio?.capabilities(this.options.viewOnly === true) ?? 0),
      software: 'tilecast-browser-viewer',
      now,
      pingIntervalMs: this.options.pingIntervalMs,
      timeoutMs: this.options.timeoutMs,
      backoff: this.backoff,
      resume,
    });
    if (this.qualityLimit) link.limitQuality(this.qualityLimit); // sent after the host's HELLO
    this.ws = ws;
    this.link = link;
    this.generation++;
    this.inbox = [];
    this.inboxBusy = false;
    this.applying = [];
    this.lateness.reset();
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
    this.setState('reconnecting', `${why}; ${this.t('retryingIn', { s: (delay / 1000).toFixed(1) })}`);
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
    this.showError(`${this.t('protocolError')}: ${what}: ${failure.message}`);
    this.ws = null;
    this.stopTicker();
    this.generation++; // what is still queued or decoding for this connection is dropped
    this.inbox = [];
    this.inboxBusy = false;
    this.applying = [];
    // Updates decoded and held for a newer one (a burst) will not get it: show them.
    if (this.pendingAcks.length) this.schedulePaint();
    ws.close(failure.closeCode, what);
    if (this.state !== 'closed') this.scheduleReconnect(what);
  }

  private onMessage(ws: WebSocket, link: ViewerLink, data: unknown): void {
    const bytes = data instanceof ArrayBuffer ? data.byteLength : 0;
    this.stats.bytes += bytes;
    this.window1s.push({ t: performance.now(), bytes, painted: 0, lossy: 0 });
    let msg;
    try {
      msg = link.receiveBytes(data instanceof ArrayBuffer ? data : String(data));
    } catch (err) {
      return this.drop(ws, link.fail(err));
    } finally {
      this.stats.rttMs = link.rttMs;
    }
    if (!msg) return;
    if (msg.type !== 'audio') this.audio?.notePixelBytes(bytes);
    switch (msg.type) {
      case 'hello':
        this.cacheTicket = null; // shown to this host once (it is single-use there); the next comes after the keyframe
        // The content cache both use; the decoder takes it with the RESIZE that follows.
        this.cacheBytes = agreedCacheBytes(this.options.contentCacheBytes ?? DEFAULT_CACHE_BYTES, msg.capabilities);
        this.setState('connected');
        this.overlay.clearError();
        this.releaseHeldInput();
        this.setScreenState('live', ''); // a new connection starts live; the host says so if it is not
        this.audio?.connected(link.audioAllowed, link.microphoneAllowed ? (f) => this.send({ type: 'audio', codec: 'opus', ...f }) : null);
        return;
      case 'audio':
        return this.audio?.receive(msg);
      case 'screenState':
        return this.setScreenState(msg.state, msg.reason);
      case 'cacheTicket':
      case 'cacheKeep':
      case 'resize':
      case 'update':
        if (msg.type === 'update') this.arrivedAt.set(msg, now());
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
        if (msg.type === 'error' || msg.reason !== Reason.NORMAL) this.showError(`host: ${msg.message}`, `${this.t('hostSays')}${msg.message}`);
        // Not allowed (a revoked PC, a PC not this user's): say so and stop, rather than retry for ever.
        if (isFinalClose(msg)) this.finalMessage = msg.message;
        return;
    }
  }

  /** An update could not be applied: the link asks for a keyframe, or ends the connection if that was one. */
  private updateFailed(err: unknown, msg: UpdateMessage, link: ViewerLink, ws: WebSocket | null): void {
    // Updates decoded before it and held back for it are painted (and acked) now.
    if (this.pendingAcks.length) this.schedulePaint();
    const failure = link.updateFailed(err, msg);
    if (failure) {
      if (ws) this.drop(ws, failure);
      return;
    }
    if (link.state !== 'closed') this.showError(`decode failed: ${(err as Error)?.message ?? err}; refreshing`, this.t('decodeFailed'));
  }

  private resize(width: number, height: number): void {
    this.size = { width, height };
    this.frames.resize(width, height, this.cacheBytes, this.cacheKeptNow);
    this.cacheKeptNow = false; // only the RESIZE right after CACHE_KEEP
    this.stats.width = width;
    this.stats.height = height;
    this.view.setScreen(width, height);
    this.layout();
    this.schedulePaint();
  }

  /**
   * Applies RESIZE/UPDATE in arrival order. On the page an update with images holds the queue until
   * they are written; with the Worker, anything but an update waits for those it was handed.
   */
  private drainInbox(): void {
    // A pipelined decoder (the Worker; its own queue keeps the order) is handed every update waiting
    // at once, when it has applied the last it was handed: the updates that came meanwhile (a burst)
    // are then queued there together, and it draws the newest as soon as it has applied it.
    // Anything else waits until the updates before it are applied.
    const idle = this.applying.length === 0;
    const burst = idle && this.frames.pipelined && this.inbox.filter((m) => m.type === 'update').length > 1;
    while (!this.inboxBusy && this.inbox.length) {
      const pipelined = this.inbox[0]!.type === 'update' && this.frames.pipelined;
      if (pipelined ? !idle : this.applying.length > 0) return;
      const msg = this.inbox.shift()!;
      if (msg.type === 'resize') {
        this.resize(msg.width, msg.height);
        continue;
      }
      if (msg.type === 'cacheTicket') {
        // In stream order, after the keyframe it follows has been applied: it names the cache the decoder has now.
        this.cacheTicket = msg.ticket.slice();
        continue;
      }
      const pending = msg.type === 'cacheKeep' ? this.keepCache(msg) : this.update(msg, burst);
      if (pending && pipelined) {
        const generation = this.generation;
        void pending.then(() => {
          if (generation === this.generation) this.drainInbox(); // a message held for it may go now
        });
      } else if (pending) {
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

  /** The host resumed the content cache: the decoder keeps what it names (a failure ends the connection; the next starts afresh). */
  private keepCache(msg: CacheKeepMessage): Promise<void> {
    const link = this.link!, ws = this.ws, generation = this.generation;
    return this.frames.keepCache(this.cacheBytes, msg.nextId, msg.ranges).then(() => {
      if (generation === this.generation) this.cacheKeptNow = true;
    }, (err) => {
      if (generation === this.generation && ws) this.drop(ws, link.fail(err));
    });
  }

  /**
   * Applies one update where the decoder runs (updates apply in order: a pipelined decoder queues
   * it, else the inbox waits for it). While the page is visible, a Worker that draws draws it as
   * soon as it has applied it when it is the newest of a burst, or on time. One that comes late and
   * alone is painted when the page hears it was applied, and if it is small, up to TRICKLE_MS later
   * unless newer ones come: it was held in the link, and a burst trickles in over a few ms; drawn at
   * once it would take the compositor's frame, and the newest would wait for the next (measured: up
   * to 17 ms later after LTE outages). A large late one (video behind its own bytes) does not wait.
   */
  private update(msg: UpdateMessage, burst = false): Promise<void> | void {
    const receivedAt = now();
    const link = this.link!, ws = this.ws, generation = this.generation, frames = this.frames;
    if (!this.size) return this.updateFailed(new Error('no framebuffer'), msg, link, ws); // the link checks RESIZE came first
    const t0 = performance.now();
    if (msg.keyframe) this.cacheTicket = null; // a new run of the cache: its ticket follows the keyframe
    const onTime = this.lateness.note(msg.captureTime, this.arrivedAt.get(msg) ?? receivedAt) <= ON_TIME_MS;
    const drawWithinMs = (burst || onTime) && this.paintsOnDecode() ? (this.options.coalesceMs ?? DEFAULT_COALESCE_MS) : undefined;
    // Only where bursts are told (a pipelined decoder is handed them together) and for small updates.
    const bytes = updateBytes(msg);
    const lateAlone = frames.pipelined && !onTime && !burst && bytes <= MAX_COALESCE_BYTES;
    if (frames.pipelined) this.applying.push(bytes);
    const settled = () => {
      if (generation === this.generation && frames.pipelined) this.applying.shift();
    };
    return frames.apply(msg, drawWithinMs).then(
      (r) => {
        settled();
        if (generation !== this.generation || frames !== this.frames) return; // a dropped connection, or a Worker given up
        this.completeUpdate(r.dirty, link, msg.frameId, receivedAt, t0, r.lossy, r.drawn, lateAlone);
      },
      (err) => {
        settled();
        // The stream state is gone: keep the old picture; the link asks for a full refresh.
        this.cacheTicket = null; // the decoder emptied its cache
        if (generation === this.generation) this.updateFailed(err, msg, link, ws);
      },
    );
  }

  /** Updates are painted as soon as they are decoded (else on animation frames, which a hidden page does not get). */
  private paintsOnDecode(): boolean {
    return this.options.paintOnDecode !== false && document.visibilityState === 'visible';
  }

  /**
   * The update's pixels are ready: count them; the next paint draws and acks it. `drawn`: the Worker
   * was asked to draw it, and did (true: ack it and those held before it now) or left it for a
   * newer update already queued there, or holds a large one for the late part of the frame interval
   * (false: acked when that is drawn, with its 'drawn' for a held one). `lateAlone`: it came late and not with others, so
   * the rest of its burst may be a moment behind (TRICKLE_MS).
   */
  private completeUpdate(dirty: { x: number; y: number; w: number; h: number } | null, link: ViewerLink, frameId: number, receivedAt: number, t0: number, lossy: boolean, drawn?: boolean, lateAlone = false): void {
    if (dirty) this.stats.decodedPixels += dirty.w * dirty.h;
    this.stats.decodeMs += performance.now() - t0;
    this.stats.updates++;
    if (!this.pendingAcks.length) this.unpaintedSince = performance.now();
    this.pendingAcks.push({ link, frameId, receivedAt, lossy });
    if (drawn === true) return this.acked(this.takeAcks());
    if (drawn === false) return;
    // Visible: on the canvas now (composited with the next frame either way, but without waiting for the
    // frame's callbacks, and acked at once). Hidden: animation frames do not come, so neither do acks.
    if (this.paintsOnDecode()) {
      if (this.newerUpdateWaiting()) return;
      if (lateAlone) return this.paintAfterTrickle();
      this.paint();
    } else this.schedulePaint();
  }

  /**
   * Paints what is held once TRICKLE_MS have passed since the oldest of it was decoded, unless newer
   * updates came meanwhile (then the newest paints, or is drawn by the Worker, and acks these too).
   */
  private paintAfterTrickle(): void {
    const wait = Math.min(TRICKLE_MS, this.options.coalesceMs ?? DEFAULT_COALESCE_MS) - (performance.now() - this.unpaintedSince); // coalesceMs 0: none
    if (wait <= 0) return this.paint();
    if (this.trickleTimer !== null) return; // already waiting, from the oldest held update
    this.trickleTimer = window.setTimeout(() => {
      this.trickleTimer = null;
      if (!this.pendingAcks.length) return;
      if (!this.paintsOnDecode()) return this.schedulePaint(); // hidden meanwhile: as completeUpdate does
      if (this.newerUpdateWaiting()) return;
      this.paint();
    }, wait);
  }

  /** What it waited for is being painted: a later late update starts a wait of its own. */
  private clearTrickleTimer(): void {
    if (this.trickleTimer !== null) clearTimeout(this.trickleTimer);
    this.trickleTimer = null;
  }

  /**
   * Newer small updates are already here, in the inbox or with the decoder (a burst after a link
   * outage brings several at once): this one is not painted on its own, the newest state is, a quick
   * decode later. Painting each would show states the user no longer needs for a frame each and put
   * the newest a paint and a frame further back. When not: waitForNewer.
   */
  private newerUpdateWaiting(): boolean {
    let waiting = this.applying.length, bytes = this.applying.reduce((n, b) => n + b, 0);
    for (const m of this.inbox) {
      if (m.type !== 'update') continue;
      waiting++;
      bytes += updateBytes(m);
    }
    return waitForNewer(waiting, bytes, performance.now() - this.unpaintedSince, this.options.coalesceMs ?? DEFAULT_COALESCE_MS);
  }

  private schedulePaint(): void {
    if (this.rafPending) return;
    this.rafPending = true;
    requestAnimationFrame(() => this.paint());
  }

  private paint(): void {
    this.rafPending = false;
    // Updates still with a Worker that draws: a 'paint' would be queued behind them there, and the
    // acks of those held now would leave after theirs (the host counts acks in order). Each of them,
    // once applied, draws or paints these too (or schedules a paint, or fails and does).
    if (this.frames.drawnIn === 'worker' && this.applying.length) return;
    const acks = this.takeAcks();
    // Acked once drawn: at once on the page, or when the Worker says so.
    this.frames.paint(() => this.acked(acks));
  }

  /** The updates decoded and not yet painted: the paint about to be made draws them all. */
  private takeAcks(): typeof this.pendingAcks {
    this.clearTrickleTimer();
    const acks = this.pendingAcks;
    this.pendingAcks = [];
    if (acks.length) this.stats.paints++;
    return acks;
  }

  /** These updates are on the canvas: each is acked. */
  private acked(acks: typeof this.pendingAcks): void {
    const displayedAt = now();
    // Acks go through the connection's link (an ack of an old connection is dropped); the first resets the backoff.
    for (const a of acks) a.link.ack(a.frameId, a.receivedAt, displayedAt);
    this.stats.painted += acks.length;
    if (acks.length) this.window1s.push({ t: performance.now(), bytes: 0, painted: acks.length, lossy: acks.filter((a) => a.lossy).length });
    this.updateStats(false);
  }

  /**
   * `stats` now; the overlay too when `render`. Not at each paint: a change to the page's text makes
   * Chromium's compositor wait for the page's own frame before it shows the canvas's, which cost
   * glass-to-glass latency 2-3 ms at the median with a log scrolling (bench/results/latency-overlay.md).
   */
  private updateStats(render: boolean): void {
    const t = performance.now();
    while (this.window1s.length && this.window1s[0]!.t < t - 1000) this.window1s.shift();
    this.stats.kbps = (this.window1s.reduce((n, s) => n + s.bytes, 0) * 8) / 1000;
    this.stats.fps = this.window1s.reduce((n, s) => n + s.painted, 0);
    this.stats.codec = this.stats.fps === 0 ? 'idle' : this.window1s.some((s) => s.lossy > 0) ? 'jpeg' : 'lossless';
    if (render) this.overlay.setStats(this.stats);
  }

  private readonly onVisualViewport = () => this.layout();
  /** Shown again: what was decoded while hidden is painted and acked now, not at the next animation frame (the host holds more updates while acks are this late). */
  private readonly onVisibility = () => {
    if (this.pendingAcks.length && this.paintsOnDecode()) this.paint();
  };

  /** The container's size (and how much of it a soft keyboard leaves visible) into the view, then place the canvas. */
  private layout(): void {
    const cw = this.container.clientWidth, ch = this.container.clientHeight;
    const vv = window.visualViewport;
    const visible = vv ? vv.offsetTop + vv.height - this.container.getBoundingClientRect().top : ch;
    this.view.setContainer(cw, ch, visible, devicePixelRatio);
    this.place();
  }

  /** Puts the canvas where the view says; crisp (no smoothing) wherever a remote pixel covers at least a device pixel. */
  private place(): void {
    if (!this.size) return;
    const p = this.view.placement();
    Object.assign(this.canvas.style, {
      width: `${p.width}px`, height: `${p.height}px`, left: `${p.left}px`, top: `${p.top}px`,
      imageRendering: p.scale * devicePixelRatio >= 1 ? 'pixelated' : 'auto',
    });
    this.canvas.dataset.zoom = this.view.zoom().toFixed(3);
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
    if (!s || !this.size || !this.cursor.visible || this.pointerInside) {
      this.cursorCanvas.style.display = 'none';
      return;
    }
    const p = this.view.placement();
    Object.assign(this.cursorCanvas.style, {
      display: 'block',
      width: `${s.width * p.scale}px`, height: `${s.height * p.scale}px`,
      left: `${p.left + (this.cursor.x - s.hotX) * p.scale}px`,
      top: `${p.top + (this.cursor.y - s.hotY) * p.scale}px`,
    });
  }
}

/** The canvas the remote screen is drawn on, placed by the view. */
function screenCanvas(): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.className = 'tilecast-screen';
  Object.assign(canvas.style, { position: 'absolute', left: '0', top: '0' });
  canvas.width = canvas.height = 1;
  return canvas;
}

/** Mounts a viewer in `container` and connects. */
export function mountViewer(container: HTMLElement, options: ViewerOptions): TilecastViewer {
  return new TilecastViewer(container, options);
}
