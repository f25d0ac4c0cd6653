/**
 * createHost: serves a FrameSource to viewers over WebSocket (ws, or wss with a
 * caller-supplied certificate). Capture and change detection run once and are
 * shared; each viewer gets its own session (encoder state, damage, pacing).
 *
 * The authorisation hook runs on the HTTP upgrade, before the WebSocket exists,
 * so no pixel reaches an unauthorised peer. permessage-deflate is off (pixels
 * are already compressed) and message size is capped. Before that, every TCP
 * connection passes the ConnectionGuard (connectionGuard.ts, docs/security.md):
 * per-address and unauthenticated caps, a deadline for the request headers,
 * and a cool-down for addresses whose authorisations keep being refused.
 *
 * Other ways in: `noServer` leaves the listening to an embedding app, which
 * passes upgrades to handleUpgrade() (its server, its limits); attachViewer()
 * takes a WebSocket that is already open and authorised, e.g. one the host
 * dialled to a gateway (src/relay/dialRelay.ts), so nothing listens at all.
 */
import { EventEmitter } from 'node:events';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket } from 'ws';
import { ErrorCodes, TilecastError, checkInt, invalidArg } from '../errors';
import { Limits, Reason } from '../protocol/constants';
import type { KeyMessage, PointerMessage } from '../protocol/messages';
import type { CursorUpdate } from '../frame';
import type { FrameSource } from '../source/frameSource';
import { ScreenStore } from '../codec/screenStore';
import { trimCodingBuffers } from '../native/binding';
import { CaptureLoop } from './captureLoop';
import { ConnectionGate, ConnectionGuard, ConnectionStats, GuardedConnection } from '../net/connectionGuard';
import { refuseRateLimited, refuseUpgrade } from '../net/refuseUpgrade';
import { AckSample, ViewerSession, ViewerSessionOptions, ViewerStats } from './viewerSession';
import { AudioAuditEvent, HostAudio, HostAudioOptions, HostAudioStats } from './hostAudio';
import { CacheParking, CacheParkingOptions } from './cacheParking';

import type { ScreenStateEvent } from './captureLoop';

/** Largest message a viewer may send (a KEY or HELLO is a few hundred bytes). */
export const MAX_VIEWER_MESSAGE_BYTES = Limits.MAX_VIEWER_MESSAGE_BYTES;

export interface AuthorizeRequest {
  /** The HTTP upgrade request: headers (Authorization, cookies), URL (tokens). */
  request: http.IncomingMessage;
  remoteAddress: string;
}
/** Accepts the viewer, naming the user for audit; viewOnly overrides HostOptions.viewOnly for it. */
export interface AuthorizeVerdict {
  user?: string;
  viewOnly?: boolean;
}
/** Return false to refuse, true to accept, or { user, viewOnly } to accept, name the user for audit and make the viewer view-only (or not). */
export type AuthorizeHook = (req: AuthorizeRequest) => boolean | AuthorizeVerdict | Promise<boolean | AuthorizeVerdict>;

export interface HostOptions extends ViewerSessionOptions {
  source: FrameSource;
  /**
   * No server of its own (default false): an embedding app passes its
   * upgrades to handleUpgrade(), or viewers arrive through attachViewer()
   * (a host that dials out to a gateway). port, host, tls, httpHandler and
   * the connection limits below are then the app's business.
   */
  noServer?: boolean;
  /** Listen port (default 0: any free port) and address (default 127.0.0.1). */
  port?: number;
  host?: string;
  /** Serve wss:// with this certificate and key (PEM). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  authorize?: AuthorizeHook;
  /**
   * Concurrent streaming viewers (default 8). A viewer takes a place only when
   * its HELLO is accepted: upgrades while the host is full get HTTP 503, a HELLO
   * that finds it full gets BYE CAPACITY. Sockets that never send HELLO hold no
   * place (they count against `maxUnauthenticated` until `helloTimeoutMs`).
   */
  maxViewers?: number;
  /**
   * A new connection must deliver complete HTTP request headers within this
   * many ms (default 5000, 100–120000), and a keep-alive connection its next
   * request's headers within this of the previous response; otherwise it is
   * destroyed (audit 'refused', reason 'headers timeout'). Covers sockets that
   * send nothing, slowloris, and the TLS handshake on wss.
   */
  headersTimeoutMs?: number;
  /**
   * Open sockets per remote address, in any state (pre-upgrade, waiting for
   * HELLO, streaming, plain HTTP) (default 16, 1–100000). IPv6 addresses are
   * counted by /64. A socket over the cap is destroyed at accept.
   */
  maxConnectionsPerIp?: number;
  /**
   * Sockets connected but not yet past authorisation + HELLO, across all
   * addresses (default 64, 1–100000). A socket over the cap is destroyed at accept.
   */
  maxUnauthenticated?: number;
  /**
   * Password guessing: after `authFailureLimit` refusals by the authorisation
   * hook from one address (default 10, 1–10000) within `authFailureWindowMs`
   * (default 600000 = 10 min, 1000–86400000), that address's upgrades get
   * HTTP 429 without calling the hook for `authCooldownMs` (default 900000 =
   * 15 min, 100–86400000). Addresses behind one NAT share the cool-down.
   */
  authFailureLimit?: number;
  authFailureWindowMs?: number;
  authCooldownMs?: number;
  /** Capture rate cap, frames per second (default 60 for X11 and Windows capture, whose grabs cost only what changed; 30 for other sources; CaptureLoopOptions.fps). */
  fps?: number;
  /** Viewers are told the screen is unavailable once no frame has come for this long, ms (default 10 000; 0: never). */
  stallTimeoutMs?: number;
  /** Extra HTTP handler for non-WebSocket requests (e.g. serving a viewer page). */
  httpHandler?: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  /**
   * Two-way audio (default: off). The PC's sound goes to viewers that ask
   * (`sound`, default true once audio is given); their microphone becomes a
   * source apps on the PC can pick only with `microphone: true`. Needs a
   * PulseAudio or PipeWire session and Opus (opusscript); without them the
   * host streams pixels alone and says why (Host.audioUnavailableReason).
   */
  audio?: HostAudioOptions;
  /**
   * Resuming content caches (default on): a viewer whose connection drops
   * keeps its cache, this host parks its mirror (at most `maxParked`, default
   * 4, for `keepMs`, default 120 s), and the viewer's next connection draws
   * its first screen from it. false: no resume (every connection starts with
   * an empty cache).
   */
  cacheResume?: CacheParkingOptions | false;
}

export interface AuditEvent {
  /** audioStart/Stop: a viewer listened to the PC's sound; microphoneStart/Stop: its microphone was heard on the PC. */
  type: 'connect' | 'disconnect' | 'refused' | AudioAuditEvent['type'];
  viewerId?: number;
  user: string | null;
  remoteAddress: string;
  at: number;
  durationMs?: number;
  bytesSent?: number;
  reason?: string;
  /**
   * 'refused' events for connection limits and timeouts are rate limited: how
   * many such refusals were counted but not audited since the previous one
   * (Host.connectionStats() has every count).
   */
  suppressed?: number;
}

export interface InputEvent {
  viewerId: number;
  user: string | null;
  message: PointerMessage | KeyMessage;
}

/** An ack for an update that carried screen changes, with its latency figures. */
export interface AckEvent extends AckSample {
  viewerId: number;
}

export interface ViewerLeftEvent {
  viewerId: number;
  user: string | null;
  reason: string;
}

/** The Host's events, one object argument each. */
export interface HostEvents {
  /** A viewer's WebSocket opened (before its HELLO; it streams, and counts against maxViewers, after). */
  viewer: [ViewerSession];
  /** Pointer and key events from viewers. */
  input: [InputEvent];
  ack: [AckEvent];
  /** connect / disconnect / refused, for usage reports. */
  audit: [AuditEvent];
  viewerLeft: [ViewerLeftEvent];
  error: [Error];
}

/** Who a viewer attached with attachViewer() is: the gateway authenticated it. */
export interface AttachedViewer {
  user?: string | null;
  remoteAddress?: string;
  viewOnly?: boolean;
}

export class Host extends EventEmitter<HostEvents> {
  private readonly server: http.Server | https.Server | null;
  private readonly wss: WebSocketServer;
  private readonly capture: CaptureLoop;
  /** Screens shared by the viewers that have all of them (one copy, not one per viewer). */
  readonly screens = new ScreenStore();
  private readonly sessions = new Map<number, ViewerSession>();
  private nextViewerId = 1;
  private cursor: CursorUpdate | null = null;
  private readonly maxViewers: number;
  private readonly guard: ConnectionGuard;
  private readonly gate: ConnectionGate | null;
  private readonly audio: HostAudio | null;
  /** Content cache mirrors of viewers that left, for their reconnect (null: resume is off). */
  readonly cacheParking: CacheParking | null;

  constructor(private readonly options: HostOptions) {
    super();
    if (typeof options !== 'object' || options === null) throw invalidArg('options', 'an object', options);
    if (!options.source || typeof options.source.nextFrame !== 'function') throw invalidArg('source', 'a FrameSource', options.source);
    this.maxViewers = checkInt('maxViewers', options.maxViewers ?? 8, 1, 10_000);
    if (options.fps !== undefined) checkInt('fps', options.fps, 1, 240);
    checkInt('helloTimeoutMs', options.helloTimeoutMs ?? 3000, 100, 120_000);
    const resume = options.cacheResume ?? {};
    if (resume !== false && (typeof resume !== 'object' || resume === null)) throw invalidArg('cacheResume', 'false or { keepMs?, maxParked? }', resume);
    this.cacheParking = resume === false ? null : new CacheParking({
      keepMs: checkInt('cacheResume.keepMs', resume.keepMs ?? 120_000, 0, 3_600_000),
      maxParked: checkInt('cacheResume.maxParked', resume.maxParked ?? 4, 0, 1000),
    });
    const headersTimeoutMs = checkInt('headersTimeoutMs', options.headersTimeoutMs ?? 5000, 100, 120_000);
    const guard = new ConnectionGuard({
      maxConnectionsPerIp: checkInt('maxConnectionsPerIp', options.maxConnectionsPerIp ?? 16, 1, 100_000),
      maxUnauthenticated: checkInt('maxUnauthenticated', options.maxUnauthenticated ?? 64, 1, 100_000),
      authFailureLimit: checkInt('authFailureLimit', options.authFailureLimit ?? 10, 1, 10_000),
      authFailureWindowMs: checkInt('authFailureWindowMs', options.authFailureWindowMs ?? 600_000, 1000, 86_400_000),
      authCooldownMs: checkInt('authCooldownMs', options.authCooldownMs ?? 900_000, 100, 86_400_000),
    });
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
      if (options.httpHandler) return options.httpHandler(req, res);
      res.writeHead(404, { 'content-type': 'text/plain' }).end('tilecast host: connect with a WebSocket\n');
    };
    if (options.noServer) {
      this.server = null;
      this.gate = null;
    } else {
      this.server = options.tls ? https.createServer({ cert: options.tls.cert, key: options.tls.key }, handler) : http.createServer(handler);
      this.gate = new ConnectionGate(this.server, guard, headersTimeoutMs, (reason, remoteAddress, suppressed) =>
        this.emit('audit', { type: 'refused', user: null, remoteAddress, at: Date.now(), reason, ...(suppressed ? { suppressed } : {}) } satisfies AuditEvent));
      this.server.on('upgrade', (req, socket, head) => {
        const conn = this.gate!.headersArrived(socket);
        if (!conn) return void socket.destroy(); // closed meanwhile
        void this.onUpgrade(req, socket, head, conn);
      });
    }
    this.guard = guard;
    // Viewers send only small messages (input, acks, HELLO): a tight cap keeps
    // one authorised but hostile viewer from making the host buffer megabytes.
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: MAX_VIEWER_MESSAGE_BYTES });
    this.capture = new CaptureLoop(options.source, {
      fps: options.fps, tileSize: options.tileSize, stallTimeoutMs: options.stallTimeoutMs,
      // Capture on damage, not on the tick, while no viewer has anything on its way.
      linkIdle: () => this.linksIdle(),
    });
    this.capture.on('frame', (snapshot, rects) => {
      for (const s of this.sessions.values()) s.offer(snapshot, rects);
    });
    this.capture.on('cursor', (cursor: CursorUpdate) => {
      // Keep the full cursor state so viewers that join later get the shape too.
      this.cursor = { ...cursor, shape: cursor.shape ?? this.cursor?.shape };
      for (const s of this.sessions.values()) s.offerCursor(cursor);
    });
    this.capture.on('error', (err) => this.reportError(err));
    this.capture.on('state', (state: ScreenStateEvent) => {
      for (const s of this.sessions.values()) s.offerScreenState(state);
    });
    this.audio = options.audio ? new HostAudio(options.audio) : null;
    this.audio?.on('audit', (e) => this.emit('audit', e));
    this.audio?.on('error', (err) => this.reportError(err));
  }

  /** Null when audio was asked for and can run (or was not asked for); else why viewers get none. */
  get audioUnavailableReason(): string | null {
    return this.audio?.unavailableReason ?? null;
  }

  /** Null when viewers' microphones can reach the PC (or were not asked for); else why not (Windows: no virtual audio cable). */
  get microphoneUnavailableReason(): string | null {
    return this.audio?.microphoneUnavailableReason ?? null;
  }

  /** The host's audio (null: off). */
  audioStats(): HostAudioStats | null {
    return this.audio?.stats() ?? null;
  }

  /**
   * Creates the virtual microphone source now rather than on the first
   * viewer's frame (so apps on the PC can be pointed at it beforehand).
   * Resolves with its name (Linux: the Pulse source; Windows: the virtual
   * cable input the voice plays into), null when the microphone is off or failed.
   */
  async prepareMicrophone(): Promise<string | null> {
    if (!this.audio?.offer?.microphone) return null;
    return this.audio.prepareMicrophone();
  }

  listen(): Promise<this> {
    const server = this.server;
    if (!server) return Promise.resolve(this); // noServer: the embedding app listens
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve(this);
      });
    });
  }

  get port(): number {
    if (!this.server) throw new TilecastError(ErrorCodes.INVALID_ARG, 'a noServer host has no port of its own');
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    const host = this.options.host && this.options.host !== '0.0.0.0' ? this.options.host : '127.0.0.1';
    return `${this.options.tls ? 'wss' : 'ws'}://${host.includes(':') ? `[${host}]` : host}:${this.port}/`;
  }

  /** The screen's size as the source reports it now. */
  get screenSize(): { width: number; height: number } {
    return { width: this.options.source.width, height: this.options.source.height };
  }

  viewers(): ViewerStats[] {
    return [...this.sessions.values()].map((s) => s.stats());
  }

  session(id: number): ViewerSession | undefined {
    return this.sessions.get(id);
  }

  /** framesEarly: frames captured on the change itself, not at the tick, because no viewer had anything in flight. */
  get captureStats(): { framesCaptured: number; framesChanged: number; framesEarly: number } {
    return { framesCaptured: this.capture.framesCaptured, framesChanged: this.capture.framesChanged, framesEarly: this.capture.framesEarly };
  }

  /** Open sockets, unauthenticated ones, and refusals by reason (every one, unlike the rate-limited audit). */
  connectionStats(): ConnectionStats {
    return this.guard.stats();
  }

  /** No streaming viewer has an update being encoded or in flight. */
  private linksIdle(): boolean {
    for (const s of this.sessions.values()) if (!s.linkIdle) return false;
    return true;
  }

  private get streamingViewers(): number {
    let n = 0;
    for (const s of this.sessions.values()) if (s.streaming) n++;
    return n;
  }

  private refuse(socket: Duplex, status: number, remoteAddress: string, user: string | null, reason: string): void {
    refuseUpgrade(socket, status);
    this.emit('audit', { type: 'refused', user, remoteAddress, at: Date.now(), reason } satisfies AuditEvent);
  }

  /**
   * An upgrade from an embedding app's server (noServer): authorised with the
   * hook and served like one to the host's own port. The app's server answers
   * for connection limits and timeouts; the refused-authorisation cool-down
   * per address still applies.
   */
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    void this.onUpgrade(req, socket, head, null);
  }

  /**
   * A viewer on a WebSocket that is already open and authorised (a gateway
   * paired it, src/relay/dialRelay.ts): it streams after its HELLO, like any
   * other, and counts against maxViewers.
   */
  attachViewer(ws: WebSocket, who: AttachedViewer = {}): ViewerSession {
    return this.addViewer(ws, who.user ?? null, who.remoteAddress ?? 'relay', null, who.viewOnly);
  }

  private async onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, conn: GuardedConnection | null): Promise<void> {
    const remoteAddress = req.socket.remoteAddress ?? 'unknown';
    socket.on('error', () => socket.destroy());
    // Password guessing: an address in cool-down is not heard (the hook is not called).
    const blockedMs = this.guard.authBlockedFor(remoteAddress);
    if (blockedMs > 0) {
      refuseRateLimited(socket, blockedMs);
      if (this.gate) return this.gate.refused('authorisation rate limit', remoteAddress);
      return void this.emit('audit', { type: 'refused', user: null, remoteAddress, at: Date.now(), reason: 'authorisation rate limit' } satisfies AuditEvent);
    }
    if (this.streamingViewers >= this.maxViewers) return this.refuse(socket, 503, remoteAddress, null, 'viewer limit reached');
    let user: string | null = null;
    let viewOnly: boolean | undefined;
    if (this.options.authorize) {
      let verdict: boolean | AuthorizeVerdict;
      try {
        verdict = await this.options.authorize({ request: req, remoteAddress });
      } catch (err) {
        // A failing hook (its backend is down) is the host's problem: 401, but no strike against the address.
        this.reportError(err);
        return this.refuse(socket, 401, remoteAddress, null, 'authorisation failed');
      }
      if (!verdict) {
        this.guard.authRefused(remoteAddress);
        return this.refuse(socket, 401, remoteAddress, null, 'authorisation refused');
      }
      if (typeof verdict === 'object') ({ user = null, viewOnly } = verdict);
      if (this.streamingViewers >= this.maxViewers) return this.refuse(socket, 503, remoteAddress, user, 'viewer limit reached');
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.addViewer(ws, user, remoteAddress, conn, viewOnly));
  }

  private addViewer(ws: WebSocket, user: string | null, remoteAddress: string, conn: GuardedConnection | null, viewOnly?: boolean): ViewerSession {
    const id = this.nextViewerId++;
    const session = new ViewerSession(id, ws, user, remoteAddress, {
      ...this.options, screenStore: this.screens, audioOffer: this.audio?.offer, cacheParking: this.cacheParking ?? undefined, ...(viewOnly === undefined ? {} : { viewOnly }),
    });
    this.sessions.set(id, session);
    // The viewer takes a place only now; until then it is one of the unauthenticated sockets.
    session.on('hello', () => {
      if (this.streamingViewers >= this.maxViewers) {
        this.emit('audit', { type: 'refused', viewerId: id, user, remoteAddress, at: Date.now(), reason: 'viewer limit reached' } satisfies AuditEvent);
        return session.close(Reason.CAPACITY, 'viewer limit reached');
      }
      if (conn) this.guard.authenticated(conn);
    });
    this.emit('audit', { type: 'connect', viewerId: id, user, remoteAddress, at: Date.now() } satisfies AuditEvent);
    session.on('input', (message) => {
      for (const s of this.sessions.values()) s.encoder.noteInput();
      this.emit('input', { viewerId: id, user, message });
    });
    session.on('streaming', ({ sound }) => {
      if (sound) this.audio?.addHearer(session);
    });
    session.on('microphone', (msg) => this.audio?.microphone(session, msg));
    session.on('ack', (sample) => this.emit('ack', { viewerId: id, ...sample }));
    session.on('linkIdle', () => {
      if (this.linksIdle()) this.capture.linkBecameIdle();
    });
    session.on('error', (err) => this.reportError(err));
    session.once('close', ({ reason }) => {
      this.sessions.delete(id);
      this.emit('viewerLeft', { viewerId: id, user, reason });
      this.emit('audit', {
        type: 'disconnect', viewerId: id, user, remoteAddress, at: Date.now(),
        durationMs: performance.timeOrigin + performance.now() - session.connectedAt, bytesSent: session.bytesSent, reason,
      } satisfies AuditEvent);
      if (this.sessions.size === 0) {
        this.capture.stop();
        // No one left to encode for: the coding buffers the process keeps between encodes (megabytes
        // a set) go back to the system; the next viewer's first keyframe makes them again.
        trimCodingBuffers();
      }
    });
    // A new viewer starts from the current screen; capture runs only while someone watches.
    if (this.capture.current) session.offer(this.capture.current, [{ x: 0, y: 0, w: this.capture.current.frame.width, h: this.capture.current.frame.height }]);
    if (this.cursor) session.offerCursor(this.cursor);
    if (this.capture.screenState.state !== 'live') session.offerScreenState(this.capture.screenState);
    this.capture.start();
    this.emit('viewer', session);
    return session;
  }

  /** Errors go to 'error' listeners if there are any; a host must not crash its process over one. */
  private reportError(err: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', err instanceof Error ? err : new Error(String(err)));
    else process.emitWarning(`tilecast host: ${(err as Error)?.message ?? String(err)}`);
  }

  /** Drops every viewer connection abruptly (tests: simulate a network cut). */
  dropViewers(): void {
    for (const s of this.sessions.values()) s.terminate();
  }

  async close(): Promise<void> {
    this.capture.stop();
    for (const s of this.sessions.values()) s.close(Reason.SERVER_SHUTDOWN, 'host shutting down');
    await this.audio?.close();
    this.cacheParking?.clear();
    for (const c of this.wss.clients) c.terminate();
    const server = this.server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // server.close() waits for every socket: idle, half-sent and upgrading ones go now.
    this.gate!.destroyAll();
    server.closeAllConnections?.();
    await closed;
  }
}

export async function createHost(options: HostOptions): Promise<Host> {
  return new Host(options).listen();
}
