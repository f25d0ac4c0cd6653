/**
 * dialRelay: a host behind a closed network reaches its viewers through a
 * relay (gateway) it dials out to; nothing on the host listens on a port.
 *
 * It keeps one control WebSocket to the relay open (reconnecting with the
 * same jittered backoff as viewers, src/protocol/viewerLink.ts) and, for each
 * `open` the relay sends, dials a data WebSocket for that session and hands it
 * to the host (Host.attachViewer), which serves it like any viewer: HELLO,
 * flow control, acks, all end to end through the relay.
 *
 * The host proves who it is with its id and secret in request headers (never
 * the URL); it checks who the relay is by TLS (wss:// with the gateway's
 * certificate as `ca` when it is self-signed). A relay that refuses the
 * credentials (HTTP 401: a revoked PC) is retried at the longest backoff.
 */
import { EventEmitter } from 'node:events';
import { WebSocket } from 'ws';
import { invalidArg } from '../errors';
import { Limits } from '../protocol/constants';
import { ReconnectBackoff } from '../protocol/viewerLink';
import type { Host } from '../host/host';
import { HOST_ID_PATTERN, MAX_CONTROL_MESSAGE_BYTES, OpenMessage, RelayHeaders, RelayPaths, parseRelayToHost } from './relayProtocol';

export interface DialRelayOptions {
  /** The relay's base URL, wss://gateway.example:8443 (ws:// only for tests and loopback). */
  url: string;
  hostId: string;
  secret: string;
  /** Trusted CA certificate(s) for the relay, PEM (a self-signed gateway's own certificate). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Reconnect backoff, ms (defaults as viewers: 500 → 8000). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** After refused credentials, wait this long before trying again, ms (default 60 000). */
  refusedBackoffMs?: number;
  /** The control connection is considered dead after this long without a ping from the relay, ms (default 45 000). */
  silenceTimeoutMs?: number;
  /** Data connections being opened at once (default 32); more `open`s wait for the relay's timeout. */
  maxPendingOpens?: number;
  /** Reported to the relay for its admin page. */
  software?: string;
}

export type RelayLinkState = 'connecting' | 'online' | 'offline' | 'closed';

export interface RelayLinkEvents {
  /** The control connection is up. */
  online: [];
  /** It dropped; `retryInMs` until the next attempt. */
  offline: [{ reason: string; retryInMs: number }];
  /** The relay asked for a session and its data connection is open. */
  session: [{ session: string; user: string | null; remoteAddress: string }];
  error: [Error];
}

export class RelayLink extends EventEmitter<RelayLinkEvents> {
  state: RelayLinkState = 'connecting';
  private control: WebSocket | null = null;
  private readonly backoff: ReconnectBackoff;
  private retryTimer: NodeJS.Timeout | null = null;
  private silenceTimer: NodeJS.Timeout | null = null;
  private readonly data = new Map<string, WebSocket>();
  private pendingOpens = 0;
  private refused = false;
  private readonly base: URL;

  constructor(
    private readonly host: Host,
    private readonly options: DialRelayOptions,
  ) {
    super();
    if (typeof options?.url !== 'string') throw invalidArg('url', 'a ws:// or wss:// URL', options?.url);
    this.base = new URL(options.url);
    if (this.base.protocol !== 'wss:' && this.base.protocol !== 'ws:') throw invalidArg('url', 'a ws:// or wss:// URL', options.url);
    if (typeof options.hostId !== 'string' || !HOST_ID_PATTERN.test(options.hostId)) throw invalidArg('hostId', 'letters, digits, ".", "_", "-" (1-64)', options.hostId);
    if (typeof options.secret !== 'string' || !/^[A-Za-z0-9._~+/=-]{16,512}$/.test(options.secret)) throw invalidArg('secret', 'the secret the gateway issued (16-512 characters)', '(hidden)');
    this.backoff = new ReconnectBackoff({ minBackoffMs: options.minBackoffMs, maxBackoffMs: options.maxBackoffMs });
    this.connect();
  }

  /** Sessions whose data connection is open. */
  get sessions(): number {
    return this.data.size;
  }

  /** Stops dialling; open sessions end. */
  close(): void {
    this.state = 'closed';
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.silenceTimer) clearTimeout(this.silenceTimer);
    this.control?.close(1000, 'host stopping');
    for (const ws of this.data.values()) ws.close(1001, 'host stopping');
  }

  private url(path: string): string {
    return new URL(path, this.base).toString();
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { [RelayHeaders.HOST_ID]: this.options.hostId, authorization: `Bearer ${this.options.secret}`, ...extra };
  }

  private connect(): void {
    if (this.state === 'closed') return;
    this.state = 'connecting';
    this.refused = false;
    const ws = new WebSocket(this.url(RelayPaths.HOST), {
      headers: this.headers(), ca: this.options.ca, perMessageDeflate: false, maxPayload: MAX_CONTROL_MESSAGE_BYTES, handshakeTimeout: 15_000,
    });
    this.control = ws;
    ws.on('unexpected-response', (_req, res) => {
      this.refused = res.statusCode === 401 || res.statusCode === 403;
      this.report(new Error(`relay refused the control connection: HTTP ${res.statusCode}${this.refused ? ' (credentials refused: is this PC registered and not revoked?)' : ''}`));
      ws.terminate();
    });
    ws.on('open', () => {
      this.state = 'online';
      this.backoff.reset();
      this.armSilence();
      const { width, height } = this.host.screenSize;
      const size = Number.isInteger(width) && width >= 1 && width <= 16384 && Number.isInteger(height) && height >= 1 && height <= 16384 ? { width, height } : {};
      ws.send(JSON.stringify({ type: 'status', software: this.options.software ?? 'tilecast-host', viewers: this.host.viewers().length, ...size }));
      this.emit('online');
    });
    ws.on('ping', () => this.armSilence());
    ws.on('message', (data, isBinary) => {
      this.armSilence();
      try {
        if (isBinary) throw new Error('binary control message');
        const m = parseRelayToHost(data as Buffer);
        if (m.type === 'open') this.openSession(m);
        else this.data.get(m.session)?.close(1000, 'relay closed the session');
      } catch (err) {
        this.report(new Error(`bad control message from the relay: ${(err as Error).message}`));
        ws.terminate();
      }
    });
    ws.on('error', (err) => {
      if (!this.refused) this.report(err);
    });
    ws.on('close', (code, reason) => {
      if (this.control !== ws) return;
      this.control = null;
      if (this.silenceTimer) clearTimeout(this.silenceTimer);
      if (this.state === 'closed') return;
      this.state = 'offline';
      const retryInMs = this.refused ? (this.options.refusedBackoffMs ?? 60_000) : this.backoff.next();
      this.emit('offline', { reason: this.refused ? 'credentials refused' : `closed (${code}${reason.length ? ` ${reason}` : ''})`, retryInMs });
      this.retryTimer = setTimeout(() => this.connect(), retryInMs);
    });
  }

  /** Nothing from the relay (it pings every 15 s by default) for this long: the path is dead, dial again. */
  private armSilence(): void {
    if (this.silenceTimer) clearTimeout(this.silenceTimer);
    this.silenceTimer = setTimeout(() => this.control?.terminate(), this.options.silenceTimeoutMs ?? 45_000);
    this.silenceTimer.unref();
  }

  /** Errors go to 'error' listeners if there are any; a host must not crash its process over one. */
  private report(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else process.emitWarning(`tilecast relay link: ${err.message}`);
  }

  private openSession(m: OpenMessage): void {
    if (this.data.has(m.session) || this.pendingOpens >= (this.options.maxPendingOpens ?? 32)) return;
    this.pendingOpens++;
    const ws = new WebSocket(this.url(RelayPaths.HOST_DATA), {
      headers: this.headers({ [RelayHeaders.SESSION]: m.session }), ca: this.options.ca, perMessageDeflate: false,
      maxPayload: Limits.MAX_VIEWER_MESSAGE_BYTES, handshakeTimeout: 10_000,
    });
    let opened = false;
    const settle = () => {
      if (!opened) this.pendingOpens--;
      opened = true;
    };
    ws.on('unexpected-response', (_req, res) => {
      settle();
      this.report(new Error(`relay refused the data connection for a session: HTTP ${res.statusCode}`));
      ws.terminate();
    });
    ws.on('open', () => {
      settle();
      this.data.set(m.session, ws);
      // The relay can make a viewer view-only, never lift the host's own view-only setting.
      this.host.attachViewer(ws, { user: m.user, remoteAddress: m.remoteAddress, ...(m.viewOnly ? { viewOnly: true } : {}) });
      this.emit('session', { session: m.session, user: m.user, remoteAddress: m.remoteAddress });
    });
    ws.on('error', () => settle());
    ws.on('close', () => {
      settle();
      if (this.data.get(m.session) === ws) this.data.delete(m.session);
    });
  }
}

/** Dials `url` and serves the relay's viewers from `host` until close(). */
export function dialRelay(host: Host, options: DialRelayOptions): RelayLink {
  return new RelayLink(host, options);
}
