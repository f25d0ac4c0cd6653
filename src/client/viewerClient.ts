/**
 * ViewerClient: the Node client stream. Connects to a host over ws/wss, decodes
 * updates into a framebuffer (native, off the JS thread), acks each one after
 * it is applied, answers pings, and reconnects with backoff when the link
 * drops; a new connection always starts with a full refresh, so the
 * framebuffer resyncs exactly.
 *
 * Events: 'open', 'hello' (HelloMessage), 'resize' ({width, height}),
 * 'update' (ViewerUpdate), 'cursor' (CursorState), 'hostClose' (the host's
 * ERROR/BYE message), 'reconnect' ({attempt}), 'close' ({code, reason,
 * willReconnect}), 'error' (Error). Also an async iterator over updates.
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { ErrorCodes, TilecastError, invalidArg } from '../errors';
import { jpegUnavailableReason } from '../native/binding';
import { Capability, Limits, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION, Reason } from '../protocol/constants';
import { HelloMessage, KeyMessage, Message, PointerMessage, decodeMessage, encodeMessage } from '../protocol/messages';
import { negotiateVersion } from '../protocol/version';
import type { OpCounts } from '../codec/opCounts';
import { ScreenDecoder } from './screenDecoder';

export interface ViewerClientOptions {
  /** Extra HTTP headers for the upgrade request (e.g. Authorization). */
  headers?: Record<string, string>;
  /** Reconnect after a drop (default true), with exponential backoff. */
  reconnect?: boolean;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** TLS: trusted CA (PEM) and whether to verify the host (default true). */
  ca?: string | Buffer;
  rejectUnauthorized?: boolean;
  /** Close the link when nothing arrives for this long, ms (default 30 s). */
  timeoutMs?: number;
}

export interface ViewerUpdate {
  frameId: number;
  captureTime: number;
  keyframe: boolean;
  bytes: number;
  ops: OpCounts;
  receivedAt: number;
  displayedAt: number;
}

const now = () => performance.timeOrigin + performance.now();

export class ViewerClient extends EventEmitter {
  private ws: WebSocket | null = null;
  private decoder = new ScreenDecoder();
  private chain: Promise<void> = Promise.resolve();
  private closedByUser = false;
  private attempts = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private lastHeard = 0;
  private readonly waiting: Array<(u: ViewerUpdate | null) => void> = [];
  private readonly backlog: ViewerUpdate[] = [];
  /** Negotiated protocol version of the current connection. */
  version: number | null = null;
  updates = 0;
  bytesReceived = 0;
  connections = 0;

  constructor(
    readonly url: string,
    private readonly options: ViewerClientOptions = {},
  ) {
    super();
    if (typeof url !== 'string' || !/^wss?:\/\//.test(url)) throw invalidArg('url', 'a ws:// or wss:// URL', url);
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
  get cursor() {
    return this.decoder.cursor;
  }
  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN && this.version !== null;
  }

  sendPointer(p: Omit<PointerMessage, 'type'>): void {
    this.send({ type: 'pointer', ...p });
  }
  sendKey(k: Omit<KeyMessage, 'type'>): void {
    this.send({ type: 'key', ...k });
  }
  requestRefresh(): void {
    this.send({ type: 'refreshRequest' });
  }

  close(): void {
    this.closedByUser = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.send({ type: 'bye', reason: Reason.NORMAL, message: 'viewer closed' });
    this.ws?.close(1000);
    this.stopWatchdog();
    this.flushWaiters();
  }

  /** Resolves with the first update for which `predicate` holds (e.g. a frame id). */
  waitFor(predicate: (u: ViewerUpdate) => boolean, timeoutMs = 30_000): Promise<ViewerUpdate> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('update', onUpdate);
        reject(new TilecastError(ErrorCodes.INTERNAL, `waitFor timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const onUpdate = (u: ViewerUpdate) => {
        if (!predicate(u)) return;
        clearTimeout(timer);
        this.off('update', onUpdate);
        resolve(u);
      };
      this.on('update', onUpdate);
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
    const ws = new WebSocket(this.url, {
      headers: this.options.headers,
      perMessageDeflate: false,
      maxPayload: Limits.MAX_MESSAGE_BYTES,
      ca: this.options.ca,
      rejectUnauthorized: this.options.rejectUnauthorized ?? true,
    });
    this.ws = ws;
    this.version = null;
    this.decoder = new ScreenDecoder();
    this.chain = Promise.resolve();
    ws.binaryType = 'nodebuffer';
    ws.on('open', () => {
      this.connections++;
      this.lastHeard = now();
      this.startWatchdog();
      this.send({ type: 'hello', minVersion: MIN_PROTOCOL_VERSION, maxVersion: PROTOCOL_VERSION, capabilities: Capability.COPY_RECT | Capability.CURSOR | (jpegUnavailableReason() === null ? Capability.JPEG : 0), software: 'tilecast-node-viewer' });
      this.emit('open');
    });
    ws.on('message', (data: Buffer) => {
      this.lastHeard = now();
      const receivedAt = now();
      this.bytesReceived += data.length;
      // Messages are handled strictly in order: the decoder's stream is sequential.
      this.chain = this.chain.then(() => this.onMessage(ws, data, receivedAt)).catch((err) => this.fail(ws, err));
    });
    let refused = false;
    ws.on('unexpected-response', (req, res) => {
      refused = true;
      if (res.statusCode === 401 || res.statusCode === 403) this.closedByUser = true; // retrying will not help
      this.report(new TilecastError(ErrorCodes.PROTOCOL, `host refused the connection: HTTP ${res.statusCode}`));
      req.destroy();
    });
    ws.on('error', (err) => {
      if (!refused) this.report(err);
    });
    ws.on('close', (code, reason) => {
      if (this.ws !== ws) return;
      this.stopWatchdog();
      const willReconnect = !this.closedByUser && (this.options.reconnect ?? true);
      this.emit('close', { code, reason: reason.toString(), willReconnect });
      if (!willReconnect) return this.flushWaiters();
      const min = this.options.minBackoffMs ?? 250;
      const delay = Math.min(this.options.maxBackoffMs ?? 5000, min * 2 ** Math.min(this.attempts++, 10));
      this.reconnectTimer = setTimeout(() => {
        this.emit('reconnect', { attempt: this.attempts });
        this.open();
      }, delay * (0.5 + Math.random() / 2));
    });
  }

  /** Errors go to 'error' listeners if any: a viewer must not crash its process over a bad link. */
  private report(err: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  private startWatchdog(): void {
    const timeout = this.options.timeoutMs ?? 30_000;
    this.watchdog = setInterval(() => {
      if (now() - this.lastHeard > timeout) this.ws?.terminate();
    }, Math.min(1000, timeout / 2));
  }

  private stopWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
  }

  /** A protocol or decode error: tell the host why and drop this connection (we reconnect fresh). */
  private fail(ws: WebSocket, err: unknown): void {
    const e = err instanceof TilecastError ? err : new TilecastError(ErrorCodes.INTERNAL, String((err as Error)?.message ?? err));
    this.report(e);
    if (ws.readyState === WebSocket.OPEN) {
      const reason = e.code === ErrorCodes.PROTOCOL || e.code === ErrorCodes.TRUNCATED || e.code === ErrorCodes.UNKNOWN_MESSAGE ? Reason.PROTOCOL_ERROR : Reason.DECODE_FAILED;
      ws.send(encodeMessage({ type: 'error', reason, message: e.message.slice(0, 200) }));
      ws.close(1008, e.code);
    }
  }

  private async onMessage(ws: WebSocket, data: Buffer, receivedAt: number): Promise<void> {
    if (this.ws !== ws) return;
    const msg = decodeMessage(data);
    if (this.version === null && msg.type !== 'hello' && msg.type !== 'error' && msg.type !== 'bye') {
      throw new TilecastError(ErrorCodes.PROTOCOL, `expected HELLO from the host, got ${msg.type}`);
    }
    switch (msg.type) {
      case 'hello':
        this.version = negotiateVersion(msg);
        this.attempts = 0;
        this.emit('hello', msg as HelloMessage);
        return;
      case 'ping':
        this.send({ type: 'pong', id: msg.id, time: msg.time });
        return;
      case 'pong':
        return;
      case 'error':
      case 'bye':
        this.emit('hostClose', msg);
        return;
      case 'update': {
        const handled = await this.decoder.handle(msg, receivedAt);
        if (this.ws !== ws) return;
        const ack = handled.ack!;
        this.send(ack);
        this.updates++;
        const update: ViewerUpdate = { frameId: msg.frameId, captureTime: msg.captureTime, keyframe: msg.keyframe, bytes: data.length, ops: handled.ops!, receivedAt, displayedAt: ack.displayedAt };
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
      default:
        throw new TilecastError(ErrorCodes.PROTOCOL, `${msg.type} is not sent by hosts`);
    }
  }
}

export function connectViewer(url: string, options: ViewerClientOptions = {}): ViewerClient {
  return new ViewerClient(url, options);
}
