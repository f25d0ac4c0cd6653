/**
 * Relay: the middle of a gateway for closed networks. Office PCs (hosts) dial
 * out to it and keep a control connection; viewers connect to it; for each
 * viewer it asks the viewer's PC for a data connection and pairs the two
 * (relaySession.ts), forwarding the tilecast stream without decoding pixels.
 * Nothing on a host listens on a port.
 *
 * The embedding app owns the HTTP(S) server and the decisions: who a host is
 * (`authenticateHost`), and whether a viewer request may reach a PC and on
 * what terms (`authorizeViewer`: user, PC, view-only, time limits, or a
 * refusal with a reason the viewer can show). Authentication happens before
 * any upgrade, so no pixel and no host reaches an unauthenticated peer.
 *
 * The relay carries the host's defences (src/net/connectionGuard.ts, docs/
 * security.md): per-address and unauthenticated caps, a deadline for request
 * headers, a cool-down for addresses whose credentials keep being refused,
 * bounded messages and buffers per session, pings on every socket.
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import type * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { checkInt, invalidArg } from '../errors';
import { Limits, Reason, ReasonCode, reasonName } from '../protocol/constants';
import { encodeMessage } from '../protocol/messages';
import { ConnectionGate, ConnectionGuard, ConnectionStats, GuardedConnection } from '../net/connectionGuard';
import { clientAddress, trustedProxySet } from '../net/clientAddress';
import { refuseRateLimited, refuseUpgrade } from '../net/refuseUpgrade';
import {
  HOST_ID_PATTERN, MAX_CONTROL_MESSAGE_BYTES, RelayHeaders, RelayPaths, RelayToHost, SESSION_ID_PATTERN, bearerSecret, parseHostToRelay,
} from './relayProtocol';
import { RelaySession, RelaySessionEnd, RelaySessionInfo, RelaySessionStats } from './relaySession';

export interface HostCredentials {
  hostId: string;
  secret: string;
  remoteAddress: string;
}

export interface ViewerRequest {
  /** The upgrade request (cookies, headers). */
  request: http.IncomingMessage;
  remoteAddress: string;
  /** The PC asked for (`?host=` of the viewer URL), or null when absent or malformed. */
  hostId: string | null;
  /** Whether that PC's control connection is up now. */
  hostOnline: boolean;
}

/** The viewer may reach `hostId` as `user`. */
export interface ViewerGrant {
  user: string;
  hostId: string;
  viewOnly?: boolean;
  /** May hear the PC's sound (default false: the relay strips AUDIO from the viewer's HELLO and drops the host's AUDIO). */
  audio?: boolean;
  /** May send the microphone to the PC (default false: MICROPHONE stripped; the viewer's AUDIO ends the session). */
  microphone?: boolean;
  /** End the session after this long, ms (0 or absent: no limit). */
  maxSessionMs?: number;
  /** End the session after this long without viewer input (pointer or key), ms (0 or absent: none). */
  idleTimeoutMs?: number;
  /** Handed back in sessionStart/sessionEnd (e.g. a licence lease to free). */
  tag?: unknown;
}

/**
 * false: HTTP 401 before any upgrade;
 * { bye }: the upgrade is accepted, the viewer gets a BYE with this reason and
 * text (for its screen: PC offline, licence cap, not your PC) and is closed.
 */
export type ViewerVerdict = ViewerGrant | false | { bye: { reason: ReasonCode; message: string } };

export interface RelayOptions {
  authenticateHost: (creds: HostCredentials) => boolean | Promise<boolean>;
  authorizeViewer: (req: ViewerRequest) => ViewerVerdict | Promise<ViewerVerdict>;
  /**
   * Sockets per address not yet authenticated (default 256). Once a PC's
   * credentials are accepted or a viewer is authorised and paired, its socket
   * no longer counts: a city's office PCs dial out from one NAT address, and
   * staff share carrier NAT addresses; maxHosts and maxSessions bound those.
   */
  maxConnectionsPerIp?: number;
  /** Sockets not yet authenticated and paired, all addresses (default 1024). */
  maxUnauthenticated?: number;
  /** Request headers must arrive within this, ms (default 5000). */
  headersTimeoutMs?: number;
  /** Refused credentials per address before a cool-down (default 10 within 10 min → 15 min). */
  authFailureLimit?: number;
  authFailureWindowMs?: number;
  authCooldownMs?: number;
  /** Hosts connected at once (default 10 000). */
  maxHosts?: number;
  /** Sessions at once, paired or waiting (default 10 000; a licence cap is the app's). */
  maxSessions?: number;
  /** A host must open the data connection within this after being asked, ms (default 10 000). */
  openTimeoutMs?: number;
  /** Every socket is pinged this often and dropped if the previous ping went unanswered, ms (default 15 000). */
  pingIntervalMs?: number;
  /** Largest message a host may send through (default 32 MiB: a full-screen update with margin). */
  maxHostMessageBytes?: number;
  /** Per session: pause the sender once the receiver holds this many bytes unsent (default 256 KiB). */
  highWaterBytes?: number;
  /**
   * Reverse proxies in front of the relay (exact IP addresses): when the TCP
   * peer is one of them, the client's address is taken from X-Forwarded-For
   * (src/net/clientAddress.ts) for authorisation cool-downs, hooks and audit.
   * The per-address socket caps still see the proxy. Default: none.
   */
  trustedProxies?: readonly string[];
}

export interface RelayHostInfo {
  hostId: string;
  remoteAddress: string;
  since: number;
  software: string | null;
  width: number | null;
  height: number | null;
  /** Sessions of this host now (paired or waiting). */
  sessions: number;
}

export interface RelayAuditEvent {
  type: 'refused';
  reason: string;
  remoteAddress: string;
  at: number;
  hostId?: string;
  user?: string;
  /** Refusals counted but not audited since the previous one (connection-limit refusals are rate limited). */
  suppressed?: number;
}

export interface RelayEvents {
  sessionStart: [RelaySessionInfo];
  sessionEnd: [RelaySessionEnd];
  hostOnline: [{ hostId: string; remoteAddress: string; at: number }];
  hostOffline: [{ hostId: string; reason: string; at: number }];
  audit: [RelayAuditEvent];
  error: [Error];
}

interface HostLink {
  hostId: string;
  ws: WebSocket;
  remoteAddress: string;
  since: number;
  software: string | null;
  width: number | null;
  height: number | null;
  alive: boolean;
}

const TEXT = {
  offline: 'PC がオフラインです / The PC is offline',
  noAnswer: 'PC が応答しません / The PC did not answer',
  capacity: 'ゲートウェイが混み合っています / The gateway is full',
  idle: '無操作のため切断しました / Disconnected after inactivity',
  maxSession: '接続時間の上限に達しました / Session time limit reached',
  revoked: 'この PC は登録を取り消されました / This PC was revoked',
  shutdown: 'ゲートウェイを停止します / The gateway is shutting down',
};

export class Relay extends EventEmitter<RelayEvents> {
  private readonly guard: ConnectionGuard;
  private readonly gates = new Map<http.Server, ConnectionGate>();
  private readonly headersTimeoutMs: number;
  private readonly maxHosts: number;
  private readonly maxSessions: number;
  private readonly openTimeoutMs: number;
  private readonly highWaterBytes: number;
  private readonly trustedProxies: ReadonlySet<string>;
  private readonly viewerWss: WebSocketServer;
  private readonly hostWss: WebSocketServer;
  private readonly dataWss: WebSocketServer;
  private readonly hostLinks = new Map<string, HostLink>();
  private readonly live = new Map<string, RelaySession>();
  private readonly pinger: NodeJS.Timeout;
  private closing = false;

  constructor(private readonly options: RelayOptions) {
    super();
    if (typeof options?.authenticateHost !== 'function') throw invalidArg('authenticateHost', 'a function', options?.authenticateHost);
    if (typeof options.authorizeViewer !== 'function') throw invalidArg('authorizeViewer', 'a function', options.authorizeViewer);
    this.guard = new ConnectionGuard({
      maxConnectionsPerIp: checkInt('maxConnectionsPerIp', options.maxConnectionsPerIp ?? 256, 1, 100_000),
      perIpUnauthenticatedOnly: true,
      maxUnauthenticated: checkInt('maxUnauthenticated', options.maxUnauthenticated ?? 1024, 1, 100_000),
      authFailureLimit: checkInt('authFailureLimit', options.authFailureLimit ?? 10, 1, 10_000),
      authFailureWindowMs: checkInt('authFailureWindowMs', options.authFailureWindowMs ?? 600_000, 1000, 86_400_000),
      authCooldownMs: checkInt('authCooldownMs', options.authCooldownMs ?? 900_000, 100, 86_400_000),
    });
    this.headersTimeoutMs = checkInt('headersTimeoutMs', options.headersTimeoutMs ?? 5000, 100, 120_000);
    this.maxHosts = checkInt('maxHosts', options.maxHosts ?? 10_000, 1, 1_000_000);
    this.maxSessions = checkInt('maxSessions', options.maxSessions ?? 10_000, 1, 1_000_000);
    this.openTimeoutMs = checkInt('openTimeoutMs', options.openTimeoutMs ?? 10_000, 100, 600_000);
    this.highWaterBytes = checkInt('highWaterBytes', options.highWaterBytes ?? 256 * 1024, 1024, 64 * 1024 * 1024);
    const maxHostMessageBytes = checkInt('maxHostMessageBytes', options.maxHostMessageBytes ?? 32 * 1024 * 1024, 1024, Limits.MAX_MESSAGE_BYTES);
    const proxies = trustedProxySet(options.trustedProxies ?? []);
    if (!proxies) throw invalidArg('trustedProxies', 'an array of IP addresses', options.trustedProxies);
    this.trustedProxies = proxies;
    const pingIntervalMs = checkInt('pingIntervalMs', options.pingIntervalMs ?? 15_000, 100, 600_000);
    const ws = { noServer: true, perMessageDeflate: false } as const;
    this.viewerWss = new WebSocketServer({ ...ws, maxPayload: Limits.MAX_VIEWER_MESSAGE_BYTES });
    this.hostWss = new WebSocketServer({ ...ws, maxPayload: MAX_CONTROL_MESSAGE_BYTES });
    this.dataWss = new WebSocketServer({ ...ws, maxPayload: maxHostMessageBytes });
    this.pinger = setInterval(() => this.heartbeat(), pingIntervalMs);
    this.pinger.unref();
  }

  /**
   * Guards `server`'s sockets (connection caps, headers deadline) and takes its
   * upgrades on the relay's paths; other upgrade paths get 404. The app keeps
   * serving its own HTTP requests on the same server.
   */
  attach(server: http.Server): this {
    if (this.gates.has(server)) return this;
    const gate = new ConnectionGate(server, this.guard, this.headersTimeoutMs, (reason, remoteAddress, suppressed) =>
      this.emit('audit', { type: 'refused', reason, remoteAddress, at: Date.now(), ...(suppressed ? { suppressed } : {}) }));
    this.gates.set(server, gate);
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => socket.destroy());
      const conn = gate.headersArrived(socket);
      if (!conn) return void socket.destroy();
      this.handleUpgrade(req, socket, head, conn).catch((err) => {
        this.reportError(err);
        socket.destroy();
      });
    });
    return this;
  }

  /** Connection counts and refusals by reason. */
  connectionStats(): ConnectionStats {
    return this.guard.stats();
  }

  hosts(): RelayHostInfo[] {
    const perHost = new Map<string, number>();
    for (const s of this.live.values()) {
      const h = s.snapshot().hostId;
      perHost.set(h, (perHost.get(h) ?? 0) + 1);
    }
    return [...this.hostLinks.values()].map((l) => ({
      hostId: l.hostId, remoteAddress: l.remoteAddress, since: l.since, software: l.software, width: l.width, height: l.height, sessions: perHost.get(l.hostId) ?? 0,
    }));
  }

  isOnline(hostId: string): boolean {
    return this.hostLinks.has(hostId);
  }

  sessions(): RelaySessionStats[] {
    return [...this.live.values()].map((s) => s.snapshot());
  }

  /** Ends a session (an admin's kick): the viewer gets a BYE with `reason` and `message`. */
  endSession(id: string, bye: { reason: ReasonCode; message: string }): boolean {
    const s = this.live.get(id);
    if (!s) return false;
    s.end(`ended by the gateway: ${bye.message}`, { bye });
    return true;
  }

  /** Drops a host's control connection and every session of it (the PC was revoked). */
  disconnectHost(hostId: string, reason = TEXT.revoked): void {
    const link = this.hostLinks.get(hostId);
    if (link) {
      this.hostLinks.delete(hostId);
      link.ws.close(4000 + Reason.UNAUTHORIZED, 'revoked');
      this.emit('hostOffline', { hostId, reason: 'disconnected by the gateway', at: Date.now() });
    }
    for (const s of this.live.values()) if (s.snapshot().hostId === hostId) s.end(`host disconnected: ${reason}`, { bye: { reason: Reason.UNAUTHORIZED, message: reason } });
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.pinger);
    for (const s of this.live.values()) s.end('relay shutting down', { bye: { reason: Reason.SERVER_SHUTDOWN, message: TEXT.shutdown } });
    for (const l of this.hostLinks.values()) l.ws.close(1001, 'relay shutting down');
    this.hostLinks.clear();
    for (const g of this.gates.values()) g.destroyAll();
  }

  /** The client's address: the TCP peer's, or X-Forwarded-For's when the peer is a trusted proxy. */
  clientAddress(req: http.IncomingMessage): string {
    return clientAddress(req, this.trustedProxies);
  }

  private async handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, conn: GuardedConnection): Promise<void> {
    const remoteAddress = this.clientAddress(req);
    const path = (req.url ?? '').split('?')[0];
    if (this.closing) return this.refuse(socket, 503, 'relay shutting down', remoteAddress);
    const blockedMs = this.guard.authBlockedFor(remoteAddress);
    if (blockedMs > 0) {
      refuseRateLimited(socket, blockedMs);
      return this.audit({ reason: 'authorisation rate limit', remoteAddress });
    }
    if (path === RelayPaths.VIEWER) return this.onViewer(req, socket, head, conn, remoteAddress);
    if (path === RelayPaths.HOST) return this.onHostControl(req, socket, head, conn, remoteAddress);
    if (path === RelayPaths.HOST_DATA) return this.onHostData(req, socket, head, conn, remoteAddress);
    return this.refuse(socket, 404, 'no such path', remoteAddress);
  }

  /** The host's id and secret from the headers, checked by the app; null after a refusal was sent. */
  private async hostCredentials(req: http.IncomingMessage, socket: Duplex, remoteAddress: string): Promise<HostCredentials | null> {
    const hostId = req.headers[RelayHeaders.HOST_ID];
    const secret = bearerSecret(req.headers.authorization);
    if (typeof hostId !== 'string' || !HOST_ID_PATTERN.test(hostId) || !secret) {
      this.guard.authRefused(remoteAddress);
      this.refuse(socket, 401, 'host credentials missing or malformed', remoteAddress);
      return null;
    }
    const creds = { hostId, secret, remoteAddress };
    let ok: boolean;
    try {
      ok = (await this.options.authenticateHost(creds)) === true;
    } catch (err) {
      this.reportError(err);
      this.refuse(socket, 503, 'host authentication failed', remoteAddress, { hostId });
      return null;
    }
    if (!ok) {
      this.guard.authRefused(remoteAddress);
      this.refuse(socket, 401, 'host credentials refused', remoteAddress, { hostId });
      return null;
    }
    return creds;
  }

  private async onHostControl(req: http.IncomingMessage, socket: Duplex, head: Buffer, conn: GuardedConnection, remoteAddress: string): Promise<void> {
    const creds = await this.hostCredentials(req, socket, remoteAddress);
    if (!creds) return;
    const { hostId } = creds;
    if (!this.hostLinks.has(hostId) && this.hostLinks.size >= this.maxHosts) return this.refuse(socket, 503, 'host limit reached', remoteAddress, { hostId });
    this.hostWss.handleUpgrade(req, socket, head, (ws) => {
      this.guard.authenticated(conn);
      // The same PC again (it reconnected after a network drop; the old socket may be half dead): the newer wins.
      const old = this.hostLinks.get(hostId);
      if (old) old.ws.close(4000 + Reason.NORMAL, 'replaced by a newer connection of the same host');
      const link: HostLink = { hostId, ws, remoteAddress, since: Date.now(), software: null, width: null, height: null, alive: true };
      this.hostLinks.set(hostId, link);
      ws.on('pong', () => (link.alive = true));
      ws.on('message', (data, isBinary) => {
        try {
          if (isBinary) throw new Error('binary control message');
          const m = parseHostToRelay(data as Buffer);
          link.software = m.software;
          link.width = m.width ?? null;
          link.height = m.height ?? null;
        } catch (err) {
          ws.close(4000 + Reason.PROTOCOL_ERROR, 'bad control message');
          this.audit({ reason: `bad control message: ${(err as Error).message}`, remoteAddress, hostId });
        }
      });
      ws.on('error', () => ws.terminate());
      ws.on('close', () => {
        if (this.hostLinks.get(hostId) !== link) return; // replaced or revoked
        this.hostLinks.delete(hostId);
        this.emit('hostOffline', { hostId, reason: 'control connection closed', at: Date.now() });
        // Sessions still waiting for this host's data connection will not get one.
        for (const s of this.live.values()) {
          if (!s.paired && s.snapshot().hostId === hostId) s.end('host went offline before answering', { bye: { reason: Reason.HOST_UNAVAILABLE, message: TEXT.offline } });
        }
      });
      this.emit('hostOnline', { hostId, remoteAddress, at: Date.now() });
    });
  }

  private async onHostData(req: http.IncomingMessage, socket: Duplex, head: Buffer, conn: GuardedConnection, remoteAddress: string): Promise<void> {
    const creds = await this.hostCredentials(req, socket, remoteAddress);
    if (!creds) return;
    const sessionId = req.headers[RelayHeaders.SESSION];
    const session = typeof sessionId === 'string' && SESSION_ID_PATTERN.test(sessionId) ? this.live.get(sessionId) : undefined;
    // Only the host the session was opened for may answer it, once.
    if (!session || session.paired || session.isEnded || session.snapshot().hostId !== creds.hostId) {
      return this.refuse(socket, 404, 'no such session waiting for this host', remoteAddress, { hostId: creds.hostId });
    }
    this.dataWss.handleUpgrade(req, socket, head, (ws) => {
      this.guard.authenticated(conn);
      session.pair(ws);
    });
  }

  private async onViewer(req: http.IncomingMessage, socket: Duplex, head: Buffer, conn: GuardedConnection, remoteAddress: string): Promise<void> {
    const asked = new URL(req.url ?? '/', 'http://relay').searchParams.get('host');
    const hostId = asked !== null && HOST_ID_PATTERN.test(asked) ? asked : null;
    let verdict: ViewerVerdict;
    try {
      verdict = await this.options.authorizeViewer({ request: req, remoteAddress, hostId, hostOnline: hostId !== null && this.hostLinks.has(hostId) });
    } catch (err) {
      this.reportError(err);
      return this.refuse(socket, 503, 'authorisation failed', remoteAddress);
    }
    if (verdict === false) {
      // No strike against the address: an expired cookie is common and many staff share a carrier's NAT
      // address; a session token cannot be guessed, and password guessing is the login form's to limit.
      return this.refuse(socket, 401, 'viewer not authorised', remoteAddress, hostId ? { hostId } : {});
    }
    if ('bye' in verdict) {
      const bye = verdict.bye; // the app decided, and audits it with the user it knows
      return this.viewerWss.handleUpgrade(req, socket, head, (ws) => byeAndClose(ws, bye.reason, bye.message));
    }
    const grant = verdict;
    const info: RelaySessionInfo = {
      id: randomBytes(16).toString('base64url'), user: grant.user, hostId: grant.hostId, remoteAddress, viewOnly: grant.viewOnly === true,
      audio: grant.audio === true, microphone: grant.microphone === true, startedAt: Date.now(),
      ...(grant.tag === undefined ? {} : { tag: grant.tag }),
    };
    // From here every grant ends in exactly one sessionEnd, so the app can free what it took (a licence).
    const link = this.hostLinks.get(grant.hostId);
    const refusal = !link ? { reason: Reason.HOST_UNAVAILABLE, message: TEXT.offline } : this.live.size >= this.maxSessions ? { reason: Reason.CAPACITY, message: TEXT.capacity } : null;
    if (refusal || socket.destroyed) {
      const endedAt = Date.now();
      this.emit('sessionEnd', { ...info, paired: false, bytesToViewer: 0, bytesToHost: 0, updatesToViewer: 0, rttMs: null, lastInputAt: null, audioUse: null, microphoneUse: null, audioRefused: 0, endedAt, durationMs: 0, reason: refusal?.message ?? 'viewer gone before the upgrade' });
      if (refusal && !socket.destroyed) this.viewerWss.handleUpgrade(req, socket, head, (ws) => byeAndClose(ws, refusal.reason, refusal.message));
      return;
    }
    this.viewerWss.handleUpgrade(req, socket, head, (ws) => {
      this.guard.authenticated(conn);
      const session = new RelaySession(info, ws, { highWaterBytes: this.highWaterBytes, lowWaterBytes: this.highWaterBytes >> 1, maxPendingBytes: 64 * 1024, drainPollMs: 5 });
      this.live.set(info.id, session);
      session.once('end', (end) => {
        this.live.delete(info.id);
        if (!end.paired) this.sendControl(grant.hostId, { type: 'close', session: info.id, reason: end.reason.slice(0, 200) });
        this.emit('sessionEnd', end);
      });
      session.after(this.openTimeoutMs, () => {
        if (!session.paired) session.end('the host did not open the data connection in time', { bye: { reason: Reason.HOST_UNAVAILABLE, message: TEXT.noAnswer } });
      });
      if (grant.maxSessionMs) session.after(grant.maxSessionMs, () => session.end('session time limit', { bye: { reason: Reason.TIMEOUT, message: TEXT.maxSession } }));
      if (grant.idleTimeoutMs) this.watchIdle(session, grant.idleTimeoutMs);
      this.emit('sessionStart', info);
      this.sendControl(grant.hostId, { type: 'open', session: info.id, user: grant.user, viewOnly: info.viewOnly, remoteAddress });
    });
  }

  /** Ends the session once the viewer has sent no input for `ms`. */
  private watchIdle(session: RelaySession, ms: number): void {
    const check = () => {
      const s = session.snapshot();
      const idleFor = Date.now() - (s.lastInputAt ?? s.startedAt);
      if (idleFor >= ms) return session.end('idle timeout', { bye: { reason: Reason.TIMEOUT, message: TEXT.idle } });
      session.after(ms - idleFor, check);
    };
    session.after(ms, check);
  }

  private sendControl(hostId: string, msg: RelayToHost): void {
    const link = this.hostLinks.get(hostId);
    if (link && link.ws.readyState === WebSocket.OPEN) link.ws.send(JSON.stringify(msg));
  }

  private heartbeat(): void {
    for (const link of this.hostLinks.values()) {
      if (!link.alive) {
        link.ws.terminate(); // 'close' takes it off the list
        continue;
      }
      link.alive = false;
      link.ws.ping();
    }
    for (const s of this.live.values()) s.heartbeat();
  }

  private refuse(socket: Duplex, status: number, reason: string, remoteAddress: string, extra: { hostId?: string } = {}): void {
    refuseUpgrade(socket, status);
    this.audit({ reason, remoteAddress, ...extra });
  }

  private audit(e: Omit<RelayAuditEvent, 'type' | 'at'>): void {
    this.emit('audit', { type: 'refused', at: Date.now(), ...e });
  }

  private reportError(err: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', err instanceof Error ? err : new Error(String(err)));
    else process.emitWarning(`tilecast relay: ${(err as Error)?.message ?? String(err)}`);
  }
}

function byeAndClose(ws: WebSocket, reason: ReasonCode, message: string): void {
  ws.send(encodeMessage({ type: 'bye', reason, message }));
  ws.close(4000 + reason, reasonName(reason)); // the close reason is ASCII and short; the text went in the BYE
  setTimeout(() => ws.terminate(), 2000).unref();
}
