/**
 * ViewerClient: the Node client stream. Connects to a host over ws/wss, decodes
 * updates into a framebuffer (native, off the JS thread), acks each one after
 * it is applied, and reconnects with backoff when the link drops; a new
 * connection always starts with a full refresh, so the framebuffer resyncs
 * exactly.
 *
 * The protocol side of each connection (HELLO, order, ping/RTT, watchdog,
 * error reasons, backoff) is the shared ViewerLink (src/protocol/viewerLink.ts),
 * the same code the browser viewer runs; this class adds the socket and the
 * native decoder.
 *
 * Events (one argument each, typed by ViewerClientEvents): 'open', 'hello',
 * 'resize', 'update', 'cursor', 'screenState', 'audio', 'audioPcm',
 * 'hostClose', 'reconnect', 'close', 'error'. As for any EventEmitter, an
 * 'error' with no listener throws: add one (errors such as a refused
 * connection are routine on 4G; the client reconnects by itself). Also an
 * async iterator over updates, ready() to await the connection, and an
 * AbortSignal for both.
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { ErrorCodes, TilecastError, abortedError, checkInt, invalidArg } from '../errors';
import { jpegUnavailableReason } from '../native/binding';
import { CACHE_MAX_BUDGET } from '../codec/contentCache';
import { Capability, DEFAULT_CACHE_BYTES, agreedCacheBytes, cacheBytesOf, cacheCapability, Limits, MAX_QUALITY_LIMIT, Reason, ScreenStateName, reasonName } from '../protocol/constants';
import { AudioMessage, CloseMessage, HelloMessage, KeyMessage, Message, PointerMessage, encodeMessage } from '../protocol/messages';
import { AudioReceiver, PcmFrame } from '../audio/audioReceiver';
import { OpusEncoder } from '../audio/opus';
import { HostMessage, LinkFailure, ReconnectBackoff, ViewerLink, isFinalClose, toTilecastError } from '../protocol/viewerLink';
import type { OpCounts } from '../codec/opCounts';
import { CursorState, ScreenDecoder } from './screenDecoder';

export interface ViewerClientOptions {
  /** Extra HTTP headers for the upgrade request (e.g. Authorization). */
  headers?: Record<string, string>;
  /** Reconnect after a drop (default true), with exponential backoff. */
  reconnect?: boolean;
  /** Reconnect backoff, ms (defaults 500 and 8000, jittered; see ReconnectBackoff). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** TLS: trusted CA (PEM) and whether to verify the host (default true). */
  ca?: string | Buffer;
  rejectUnauthorized?: boolean;
  /** Local address to connect from (multi-homed machines; tests use 127.0.0.2 as a second source IP). */
  localAddress?: string;
  /** Drop the connection when nothing arrives for this long, ms (default 30 s; 0: never). */
  timeoutMs?: number;
  /** Own PING (for rttMs) every this many ms (default 2000; 0: none). */
  pingIntervalMs?: number;
  /** Send no input: the HELLO leaves out the INPUT capability and sendPointer/sendKey send nothing (default false). */
  viewOnly?: boolean;
  /** Closes the client (as close() does) when it fires; already aborted: never connects. */
  signal?: AbortSignal;
  /**
   * Ask for the PC's sound (AUDIO capability; default false): 'audio' events
   * carry its Opus frames; with `{ pcm: true }` 'audioPcm' events carry them
   * decoded (lost frames concealed).
   */
  audio?: boolean | { pcm?: boolean };
  /** Offer a microphone (MICROPHONE capability; default false): see sendMicrophone(). */
  microphone?: boolean;
  /**
   * Content cache to offer the host, bytes (CACHE capability; default 64 MiB,
   * rounded down to a power of two MiB; 0: none). The host may take less.
   */
  contentCacheBytes?: number;
  /**
   * Keep the content cache across reconnects and resume it with the host
   * (CACHE_RESUME; default true): the first screen after a drop is then
   * drawn mostly from what the viewer already holds.
   */
  resumeCache?: boolean;
}

/** How long a wait may take and what may cancel it. */
export interface WaitOptions {
  /** Rejects with ERR_TIMEOUT after this many ms (default 30 000). */
  timeoutMs?: number;
  /** Rejects with ERR_ABORTED when it fires. */
  signal?: AbortSignal;
}

/** A sound frame as it arrived (Opus), with the viewer's receive time. */
export interface ViewerAudioFrame extends AudioMessage {
  receivedAt: number;
}
/** A sound frame decoded (or concealed), with the viewer's receive time. */
export interface ViewerPcmFrame extends PcmFrame {
  receivedAt: number;
}

/** The microphone's encoding: mono speech at 48 kHz, 24 kbit/s (Opus VOIP, FEC and DTX on). */
export const MICROPHONE_FORMAT = { sampleRate: 48_000, channels: 1, bitrate: 24_000 } as const;

export interface ViewerUpdate {
  frameId: number;
  captureTime: number;
  keyframe: boolean;
  bytes: number;
  ops: OpCounts;
  receivedAt: number;
  displayedAt: number;
}

export interface ScreenStateInfo {
  state: ScreenStateName;
  /** The host's short explanation ('' when live). */
  reason: string;
}

/** ViewerClient's events: each listener gets one object. */
export interface ViewerClientEvents {
  /** The socket is open and the viewer's HELLO is sent. */
  open: [{ connection: number }];
  /** The host's HELLO, with the negotiated version. */
  hello: [HelloMessage & { version: number }];
  resize: [{ width: number; height: number }];
  update: [ViewerUpdate];
  cursor: [CursorState];
  /**
   * What the host's screen source is doing, when it changes: 'unavailable'
   * (capture failing or hanging; the host retries), 'live' again, or 'ended'.
   * A connection starts live; a host tells a viewer that joins while it is not.
   */
  screenState: [ScreenStateInfo];
  /** One frame of the PC's sound (Opus), when the viewer asked for audio and the host granted it. */
  audio: [ViewerAudioFrame];
  /** The same decoded to PCM (with `audio: { pcm: true }`); concealed frames fill gaps. */
  audioPcm: [ViewerPcmFrame];
  /** The host's ERROR or BYE (type, reason, message). */
  hostClose: [CloseMessage];
  reconnect: [{ attempt: number }];
  close: [{ code: number; reason: string; willReconnect: boolean }];
  error: [Error];
}

const now = () => performance.timeOrigin + performance.now();

export class ViewerClient extends EventEmitter<ViewerClientEvents> {
  private ws: WebSocket | null = null;
  private link: ViewerLink | null = null;
  /** QUALITY_LIMIT asked for by limitQuality (0: none), kept across reconnections. */
  private qualityLimit = 0;
  private decoder = new ScreenDecoder();
  private chain: Promise<void> = Promise.resolve();
  private closedByUser = false;
  private readonly backoff: ReconnectBackoff;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private readonly capabilities: number;
  private screen: ScreenStateInfo = { state: 'live', reason: '' };
  private readonly waiting: Array<(u: ViewerUpdate | null) => void> = [];
  private readonly backlog: ViewerUpdate[] = [];
  private hello: (HelloMessage & { version: number }) | null = null;
  /** The CACHE_TICKET of the last connection (null: none, or used): shown once by the next connection to resume the content cache. */
  private cacheTicket: Uint8Array | null = null;
  private receiver: AudioReceiver | null = null;
  private micEncoder: OpusEncoder | null = null;
  private micSeq = 0;
  /** Sound frames received (all connections) and frames concealed by the PCM decoder. */
  audioFrames = 0;
  updates = 0;
  bytesReceived = 0;
  connections = 0;

  constructor(
    readonly url: string,
    private readonly options: ViewerClientOptions = {},
  ) {
    super();
    if (typeof url !== 'string' || !/^wss?:\/\//.test(url)) throw invalidArg('url', 'a ws:// or wss:// URL', url);
    this.backoff = new ReconnectBackoff({ minBackoffMs: options.minBackoffMs, maxBackoffMs: options.maxBackoffMs });
    this.capabilities = Capability.COPY_RECT | Capability.CURSOR | Capability.SCREEN_STATE | Capability.COMPACT_UPDATE | Capability.PREDICTED
      | (jpegUnavailableReason() === null ? Capability.JPEG : 0) | (options.viewOnly ? 0 : Capability.INPUT)
      | (options.audio ? Capability.AUDIO : 0) | (options.microphone && !options.viewOnly ? Capability.MICROPHONE : 0)
      | cacheCapability(checkInt('contentCacheBytes', options.contentCacheBytes ?? DEFAULT_CACHE_BYTES, 0, CACHE_MAX_BUDGET));
    if (options.resumeCache !== undefined && typeof options.resumeCache !== 'boolean') throw invalidArg('resumeCache', 'a boolean', options.resumeCache);
    if (this.capabilities & Capability.CACHE) this.capabilities |= Capability.CACHE_RUN | (options.resumeCache !== false ? Capability.CACHE_RESUME : 0);
    const { signal } = options;
    if (signal?.aborted) {
      this.closedByUser = true;
      return;
    }
    signal?.addEventListener('abort', () => this.close(), { once: true });
    this.open();
  }

  get framebuffer(): Buffer | null {
    return this.decoder.framebuffer;
  }
  get width(): number {
    return this.decoder.width;
  }
  get height(): number {
    return this.decoder.height;
  }
  get lastFrameId(): number | null {
    return this.decoder.lastFrameId;
  }
  get cursor(): CursorState {
    return this.decoder.cursor;
  }
  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN && this.link?.ready === true;
  }
  /** Negotiated protocol version of the current connection. */
  get version(): number | null {
    return this.link?.ready ? this.link.version : null;
  }
  /** What the host last said about its screen source on the current connection (live until told otherwise). */
  get screenState(): ScreenStateInfo {
    return { ...this.screen };
  }

  /** Round-trip time from the last answered PING of the current connection, ms. */
  get rttMs(): number | null {
    return this.link?.rttMs ?? null;
  }

  /** Whether input may be sent now: connected, not viewOnly, and the host's HELLO accepted this viewer's input. */
  get inputAllowed(): boolean {
    return this.connected && this.link!.inputAllowed;
  }

  /** Sends a pointer event; false (nothing sent) when input is not allowed now (see inputAllowed). */
  sendPointer(p: Omit<PointerMessage, 'type'>): boolean {
    return this.sendInput({ type: 'pointer', ...p });
  }
  /** Sends a key event; false (nothing sent) when input is not allowed now (see inputAllowed). */
  sendKey(k: Omit<KeyMessage, 'type'>): boolean {
    return this.sendInput({ type: 'key', ...k });
  }
  private sendInput(msg: PointerMessage | KeyMessage): boolean {
    if (!this.inputAllowed) return false;
    this.send(msg);
    return true;
  }
  /** Whether the host sends its sound on this connection (both HELLOs said AUDIO). */
  get audioOn(): boolean {
    return this.connected && this.link!.audioAllowed;
  }
  /** Whether the host takes this viewer's microphone now (both HELLOs said MICROPHONE). */
  get microphoneAllowed(): boolean {
    return this.connected && this.link!.microphoneAllowed;
  }
  /** Sound frames concealed so far (lost or dropped on the way), with `audio: { pcm: true }`. */
  get audioConcealed(): number {
    return this.receiver?.concealed ?? 0;
  }

  /**
   * Sends one microphone frame already encoded (Opus, 20 ms). False (nothing
   * sent) when the host does not take the microphone now.
   */
  sendMicrophone(frame: Omit<AudioMessage, 'type' | 'codec'>): boolean {
    if (!this.microphoneAllowed) return false;
    this.send({ type: 'audio', codec: 'opus', ...frame });
    return true;
  }

  /**
   * Encodes 20 ms of mono s16 PCM at 48 kHz (960 samples) as the microphone
   * does (MICROPHONE_FORMAT) and sends it; frames count up across connections.
   */
  sendMicrophonePcm(pcm: Int16Array, captureTime = now()): boolean {
    this.micEncoder ??= new OpusEncoder({ ...MICROPHONE_FORMAT, voice: true });
    const payload = this.micEncoder.encode(pcm);
    const seq = this.micSeq;
    this.micSeq = (this.micSeq + 1) >>> 0;
    return this.sendMicrophone({ sampleRate: MICROPHONE_FORMAT.sampleRate, channels: MICROPHONE_FORMAT.channels, seq, captureTime, payload });
  }

  requestRefresh(): void {
    this.send({ type: 'refreshRequest' });
  }

  /**
   * "Data saver": asks the host to keep its quality ladder at `minLevel`
   * (0..3) or above, on this connection and every later one; 0 lifts it.
   * Returns whether the current host honours it (false while not connected,
   * or with a host that does not announce QUALITY_LIMIT).
   */
  limitQuality(minLevel: number): boolean {
    this.qualityLimit = checkInt('minLevel', minLevel, 0, MAX_QUALITY_LIMIT);
    return this.link ? this.link.limitQuality(this.qualityLimit) : false;
  }

  close(): void {
    this.closedByUser = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.stopTicker();
    const code = this.link?.close() ?? 1000;
    this.ws?.close(code);
    this.flushWaiters();
    this.receiver?.close();
    this.micEncoder?.close();
    this.micEncoder = null;
  }

  /**
   * Resolves with the host's HELLO once connected (at once if connected now).
   * Rejects with the first 'error' while waiting (ERR_UNAUTHORIZED when the
   * credentials are refused, a socket error such as ECONNREFUSED), ERR_TIMEOUT,
   * ERR_ABORTED, or when the client closes for good; the client itself keeps
   * reconnecting after a transient error unless closed.
   */
  ready(options: WaitOptions = {}): Promise<HelloMessage & { version: number }> {
    if (this.connected && this.hello) return Promise.resolve(this.hello);
    return this.wait<HelloMessage & { version: number }>('connect', options, (settle) => {
      const onHello = (h: HelloMessage & { version: number }) => settle(null, h);
      const onError = (err: Error) => settle(err);
      const onClose = (c: { code: number; reason: string; willReconnect: boolean }) => {
        if (!c.willReconnect) settle(new TilecastError(ErrorCodes.UNAVAILABLE, `connection closed (${c.code}${c.reason ? ` ${c.reason}` : ''}) before the host's HELLO`));
      };
      this.on('hello', onHello).on('error', onError).on('close', onClose);
      if (this.closedByUser && !this.ws) settle(new TilecastError(ErrorCodes.UNAVAILABLE, 'the viewer is closed'));
      return () => this.off('hello', onHello).off('error', onError).off('close', onClose);
    });
  }

  /** Resolves with the first update for which `predicate` holds (e.g. a frame id); a number is the timeout in ms. */
  waitFor(predicate: (u: ViewerUpdate) => boolean, options: WaitOptions | number = {}): Promise<ViewerUpdate> {
    return this.wait<ViewerUpdate>('waitFor', typeof options === 'number' ? { timeoutMs: options } : options, (settle) => {
      const onUpdate = (u: ViewerUpdate) => {
        if (predicate(u)) settle(null, u);
      };
      this.on('update', onUpdate);
      return () => this.off('update', onUpdate);
    });
  }

  /** One wait: `listen` hooks events and returns its unhook; timeout and abort settle it too. */
  private wait<T>(what: string, options: WaitOptions, listen: (settle: (err: Error | null, value?: T) => void) => () => void): Promise<T> {
    const { timeoutMs = 30_000, signal } = options;
    if (signal?.aborted) return Promise.reject(abortedError(signal, what));
    return new Promise<T>((resolve, reject) => {
      let done = false;
      let unhook = () => {};
      const onAbort = () => settle(abortedError(signal!, what));
      const timer = setTimeout(() => settle(new TilecastError(ErrorCodes.TIMEOUT, `${what} timed out after ${timeoutMs} ms`)), timeoutMs);
      function settle(err: Error | null, value?: T): void {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        unhook();
        if (err) reject(err);
        else resolve(value as T);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      unhook = listen(settle);
      if (done) unhook();
    });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ViewerUpdate> {
    while (!this.closedByUser) {
      const next = this.backlog.shift() ?? (await new Promise<ViewerUpdate | null>((r) => this.waiting.push(r)));
      if (next === null) return;
      yield next;
    }
  }

  private flushWaiters(): void {
    for (const w of this.waiting.splice(0)) w(null);
  }

  private send(msg: Message): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(encodeMessage(msg));
  }

  private open(): void {
    // The previous connection's ticket, used once, if its cache holds anything (and its decoder is
    // idle: a connection dropped by us may leave an update still decoding; then no resume).
    const nextId = this.decoder.idle ? this.decoder.cacheNextId : null;
    // Kept through attempts that never reach the host (refused, the gateway restarting); spent at its HELLO.
    const resume = this.cacheTicket && nextId !== null && (this.capabilities & Capability.CACHE_RESUME) ? { ticket: this.cacheTicket, nextId } : null;
    const ws = new WebSocket(this.url, {
      headers: this.options.headers,
      perMessageDeflate: false,
      maxPayload: Limits.MAX_MESSAGE_BYTES,
      ca: this.options.ca,
      rejectUnauthorized: this.options.rejectUnauthorized ?? true,
      localAddress: this.options.localAddress,
    });
    const link = new ViewerLink({
      send: (msg) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(encodeMessage(msg));
      },
      capabilities: this.capabilities,
      software: 'tilecast-node-viewer',
      now,
      pingIntervalMs: this.options.pingIntervalMs,
      timeoutMs: this.options.timeoutMs,
      backoff: this.backoff,
      resume,
    });
    if (this.qualityLimit) link.limitQuality(this.qualityLimit); // sent after the host's HELLO
    this.ws = ws;
    this.link = link;
    const previous = this.decoder;
    this.decoder = new ScreenDecoder();
    if (resume) this.decoder.adopt(previous); // its cache, for the host's CACHE_KEEP
    this.chain = Promise.resolve();
    this.screen = { state: 'live', reason: '' };
    this.receiver?.reset(); // a new connection's sound starts a new stream: nothing to conceal across the gap
    ws.binaryType = 'nodebuffer';
    ws.on('open', () => {
      this.connections++;
      link.open();
      this.stopTicker();
      this.ticker = setInterval(() => {
        const failure = link.tick();
        if (failure) this.drop(ws, failure);
      }, link.tickIntervalMs);
      this.emit('open', { connection: this.connections });
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (this.ws !== ws) return;
      const receivedAt = now();
      this.bytesReceived += data.length;
      let msg: HostMessage | null;
      try {
        msg = link.receiveBytes(isBinary ? data : data.toString('utf8'), receivedAt);
      } catch (err) {
        return this.drop(ws, link.fail(err));
      }
      // Sound does not wait behind pixels being decoded: it is handled as it arrives.
      if (msg?.type === 'audio') return this.onAudio(ws, link, msg, receivedAt);
      // Pixels are applied strictly in order: the decoder's stream is sequential.
      if (msg) this.chain = this.chain.then(() => this.onHostMessage(ws, link, msg, data.length, receivedAt)).catch((err) => this.drop(ws, link.fail(err)));
    });
    let refused = false;
    ws.on('unexpected-response', (req, res) => {
      refused = true;
      const refusedCredentials = res.statusCode === 401 || res.statusCode === 403;
      if (refusedCredentials) this.closedByUser = true; // retrying will not help
      this.report(refusedCredentials
        ? new TilecastError(ErrorCodes.UNAUTHORIZED, `host refused the credentials (HTTP ${res.statusCode}): wrong password or token, or not allowed`)
        : new TilecastError(ErrorCodes.PROTOCOL, `host refused the connection: HTTP ${res.statusCode}`));
      req.destroy();
    });
    ws.on('error', (err) => {
      if (!refused) this.report(err);
    });
    ws.on('close', (code, reason) => {
      // Messages that came before the close are handled first: a BYE queued behind an update
      // still being decoded must reach 'hostClose' (and a final one must stop the reconnects).
      void this.chain.then(() => {
        link.closed();
        this.ended(ws, code, reason.toString());
      });
    });
  }

  /** The connection is over (closed, or dropped by us): tell listeners and reconnect unless told not to. */
  private ended(ws: WebSocket, code: number, reason: string): void {
    if (this.ws !== ws) return;
    this.ws = null;
    this.stopTicker();
    const willReconnect = !this.closedByUser && (this.options.reconnect ?? true);
    this.emit('close', { code, reason, willReconnect });
    if (!willReconnect) return this.flushWaiters();
    const delay = this.backoff.next();
    this.reconnectTimer = setTimeout(() => {
      this.emit('reconnect', { attempt: this.backoff.attempts });
      this.open();
    }, delay);
  }

  /** EventEmitter's convention: with no 'error' listener, emit throws (ERR_UNHANDLED_ERROR wraps non-Errors). */
  private report(err: Error): void {
    this.emit('error', err);
  }

  private stopTicker(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
  }

  /**
   * The link failed (its ERROR is already sent): report it, close the socket
   * with 4000 + reason and start over without waiting for the closing
   * handshake (a silent host would never finish it), as the browser viewer does.
   */
  private drop(ws: WebSocket, failure: LinkFailure): void {
    if (this.ws !== ws) return;
    this.report(failure.error);
    const what = reasonName(failure.reason);
    if (ws.readyState === WebSocket.OPEN) ws.close(failure.closeCode, what);
    setTimeout(() => ws.terminate(), 2000).unref();
    this.ended(ws, failure.closeCode, what);
  }

  private onAudio(ws: WebSocket, link: ViewerLink, msg: AudioMessage, receivedAt: number): void {
    this.audioFrames++;
    this.emit('audio', { ...msg, receivedAt });
    const wantPcm = typeof this.options.audio === 'object' && this.options.audio.pcm === true;
    if (!wantPcm) return;
    this.receiver ??= new AudioReceiver();
    let frames: PcmFrame[];
    try {
      frames = this.receiver.receive(msg);
    } catch (err) {
      // Opus that does not decode is a broken host, like an UPDATE that does not: the connection ends with DECODE_FAILED.
      return this.drop(ws, link.fail(err));
    }
    for (const f of frames) this.emit('audioPcm', { ...f, receivedAt });
  }

  private async onHostMessage(ws: WebSocket, link: ViewerLink, msg: HostMessage, bytes: number, receivedAt: number): Promise<void> {
    if (this.ws !== ws || link.state === 'closed') return;
    switch (msg.type) {
      case 'cacheTicket':
        // Taken in stream order, after the keyframe it follows: it names the cache this decoder has now.
        this.cacheTicket = msg.ticket.slice();
        return;
      case 'cacheKeep':
        await this.decoder.handle(msg, receivedAt);
        return;
      case 'hello':
        this.cacheTicket = null; // shown to this host once (it is single-use there); the next comes after the keyframe
        this.hello = { ...msg, version: link.version! };
        this.decoder.setCacheBudget(agreedCacheBytes(cacheBytesOf(this.capabilities), msg.capabilities)); // before RESIZE and any UPDATE
        this.emit('hello', this.hello);
        return;
      case 'error':
      case 'bye':
        if (isFinalClose(msg)) this.closedByUser = true; // not allowed: retrying will not help
        this.emit('hostClose', msg);
        if (msg.reason === Reason.UNAUTHORIZED) {
          this.report(new TilecastError(ErrorCodes.UNAUTHORIZED, `host refused the credentials${msg.message ? `: ${msg.message}` : ''}`));
        }
        return;
      case 'update': {
        let handled;
        // A keyframe starts a new run of the cache (the host sends its ticket after it); a failure empties the cache.
        if (msg.keyframe) this.cacheTicket = null;
        try {
          handled = await this.decoder.handle(msg, receivedAt);
        } catch (err) {
          this.cacheTicket = null;
          if (this.ws !== ws) return;
          // The one rule (ViewerLink.updateFailed): ask for a keyframe, or drop the connection if that was one.
          const failure = link.updateFailed(err, msg);
          if (failure) this.drop(ws, failure);
          else this.report(toTilecastError(err));
          return;
        }
        if (this.ws !== ws) return;
        const ack = handled.ack!;
        link.ack(ack.frameId, ack.receivedAt, ack.displayedAt);
        this.updates++;
        const update: ViewerUpdate = { frameId: msg.frameId, captureTime: msg.captureTime, keyframe: msg.keyframe, bytes, ops: handled.ops!, receivedAt, displayedAt: ack.displayedAt };
        this.emit('update', update);
        const waiter = this.waiting.shift();
        if (waiter) waiter(update);
        else {
          this.backlog.push(update);
          if (this.backlog.length > 64) this.backlog.shift(); // latest wins for slow iterators
        }
        return;
      }
      case 'resize':
        await this.decoder.handle(msg, receivedAt);
        this.emit('resize', { width: msg.width, height: msg.height });
        return;
      case 'cursorShape':
      case 'cursorPosition':
        await this.decoder.handle(msg, receivedAt);
        this.emit('cursor', this.decoder.cursor);
        return;
      case 'screenState':
        this.screen = { state: msg.state, reason: msg.reason };
        this.emit('screenState', this.screenState);
        return;
      case 'audio': // handled as it arrives (onAudio)
        return;
    }
  }
}

export function connectViewer(url: string, options: ViewerClientOptions = {}): ViewerClient {
  return new ViewerClient(url, options);
}
