/**
 * The host's defences against an unauthenticated internet (docs/security.md,
 * "Connection limits"), in two parts:
 *
 * ConnectionGuard: pure bookkeeping — no sockets, no timers; the clock is
 * injected (test/unit/net/connectionGuard.test.ts). It decides:
 *
 *  - admit(): a new TCP connection, against the per-address cap (every socket
 *    of that address, upgraded or not; with `perIpUnauthenticatedOnly`, only
 *    those not yet authenticated) and the global cap on unauthenticated
 *    sockets (connected but not yet past authorisation + HELLO).
 *  - authenticated() / release(): a connection's HELLO was accepted / it closed.
 *  - authAllowed() / authRefused(): refused authorisations per address; after
 *    `authFailureLimit` within `authFailureWindowMs` the address is in
 *    cool-down for `authCooldownMs` and the hook is not called.
 *  - refused(): counts every refusal by reason and rate-limits their audit
 *    events (a token bucket), so a flood cannot flood the audit log.
 *
 * Addresses are keyed by `addressKey`: IPv4-mapped IPv6 as IPv4, other IPv6
 * by their /64 (one machine gets a whole /64, and would otherwise have 2^64
 * "addresses").
 *
 * ConnectionGate: the guard applied to a server's sockets — admits or destroys
 * each TCP connection as it arrives and runs its request-headers deadline
 * (test/security/).
 */
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { normalizeAddress } from './clientAddress';
import type { Duplex } from 'node:stream';

export type RefusalReason =
  | 'per-address connection limit'
  | 'unauthenticated connection limit'
  | 'authorisation rate limit'
  | 'headers timeout';

export interface ConnectionLimits {
  maxConnectionsPerIp: number;
  /**
   * The per-address cap counts only sockets not yet authenticated (the relay:
   * a city's office PCs dial out from one address, and authenticated sockets
   * are bounded by the relay's host and session caps instead). Default false:
   * every open socket of the address counts (a host).
   */
  perIpUnauthenticatedOnly?: boolean;
  maxUnauthenticated: number;
  authFailureLimit: number;
  authFailureWindowMs: number;
  authCooldownMs: number;
}

export interface GuardedConnection {
  readonly key: string;
  authenticated: boolean;
  released: boolean;
}

export interface ConnectionStats {
  /** Open sockets, and those of them not yet past authorisation + HELLO. */
  open: number;
  unauthenticated: number;
  /** Refusals since the host started, by reason. */
  refused: Partial<Record<RefusalReason, number>>;
}

/** Audit events for refusals: a burst of this many, then this many per second. */
export const AUDIT_BURST = 20;
export const AUDIT_PER_SECOND = 2;
/** Addresses remembered for the auth limit; beyond, expired entries go first, then the oldest. */
const MAX_TRACKED_ADDRESSES = 10_000;

interface AuthRecord {
  failures: number;
  windowStart: number;
  blockedUntil: number;
}

export class ConnectionGuard {
  private readonly perAddress = new Map<string, number>();
  private readonly auth = new Map<string, AuthRecord>();
  private open = 0;
  private unauthenticated = 0;
  private readonly refusals: Partial<Record<RefusalReason, number>> = {};
  private tokens = AUDIT_BURST;
  private tokensAt: number;
  private suppressed = 0;

  constructor(
    private readonly limits: ConnectionLimits,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.tokensAt = clock();
  }

  /** A socket connected from `address`: its handle, or why it must be closed at once. */
  admit(address: string): GuardedConnection | RefusalReason {
    const key = addressKey(address);
    const n = this.perAddress.get(key) ?? 0;
    if (n >= this.limits.maxConnectionsPerIp) return 'per-address connection limit';
    if (this.unauthenticated >= this.limits.maxUnauthenticated) return 'unauthenticated connection limit';
    this.perAddress.set(key, n + 1);
    this.open++;
    this.unauthenticated++;
    return { key, authenticated: false, released: false };
  }

  /** The connection's HELLO was accepted: it no longer counts as unauthenticated. */
  authenticated(c: GuardedConnection): void {
    if (c.released || c.authenticated) return;
    c.authenticated = true;
    this.unauthenticated--;
    if (this.limits.perIpUnauthenticatedOnly) this.leaveAddress(c);
  }

  /** The connection closed (idempotent). */
  release(c: GuardedConnection): void {
    if (c.released) return;
    c.released = true;
    this.open--;
    if (!c.authenticated) this.unauthenticated--;
    if (!(c.authenticated && this.limits.perIpUnauthenticatedOnly)) this.leaveAddress(c);
  }

  private leaveAddress(c: GuardedConnection): void {
    const n = (this.perAddress.get(c.key) ?? 1) - 1;
    if (n > 0) this.perAddress.set(c.key, n);
    else this.perAddress.delete(c.key);
  }

  /** 0, or how much longer `address` is in its cool-down after too many refused authorisations, ms. */
  authBlockedFor(address: string): number {
    const r = this.auth.get(addressKey(address));
    return r ? Math.max(0, r.blockedUntil - this.clock()) : 0;
  }

  /** The authorisation hook refused `address`. */
  authRefused(address: string): void {
    const key = addressKey(address);
    const now = this.clock();
    let r = this.auth.get(key);
    if (!r || now - r.windowStart >= this.limits.authFailureWindowMs) {
      if (r) this.auth.delete(key); // re-insert: the map's order is last-window order
      r = { failures: 0, windowStart: now, blockedUntil: r?.blockedUntil ?? 0 };
      this.auth.set(key, r);
      this.prune(now);
    }
    if (++r.failures >= this.limits.authFailureLimit) {
      r.blockedUntil = now + this.limits.authCooldownMs;
      r.failures = 0;
      r.windowStart = now;
    }
  }

  /**
   * Counts a refusal. Returns whether to emit its audit event now and how many
   * refusals went unaudited since the last one that was (rate limit).
   */
  refused(reason: RefusalReason): { audit: boolean; suppressed: number } {
    this.refusals[reason] = (this.refusals[reason] ?? 0) + 1;
    const now = this.clock();
    this.tokens = Math.min(AUDIT_BURST, this.tokens + ((now - this.tokensAt) / 1000) * AUDIT_PER_SECOND);
    this.tokensAt = now;
    if (this.tokens < 1) {
      this.suppressed++;
      return { audit: false, suppressed: 0 };
    }
    this.tokens -= 1;
    const suppressed = this.suppressed;
    this.suppressed = 0;
    return { audit: true, suppressed };
  }

  stats(): ConnectionStats {
    return { open: this.open, unauthenticated: this.unauthenticated, refused: { ...this.refusals } };
  }

  /** Addresses tracked for the auth limit (tests). */
  get trackedAddresses(): number {
    return this.auth.size;
  }

  private prune(now: number): void {
    if (this.auth.size <= MAX_TRACKED_ADDRESSES) return;
    for (const [k, r] of this.auth) {
      if (now - r.windowStart >= this.limits.authFailureWindowMs && r.blockedUntil <= now) this.auth.delete(k);
    }
    for (const k of this.auth.keys()) {
      if (this.auth.size <= MAX_TRACKED_ADDRESSES) break;
      this.auth.delete(k);
    }
  }
}

/** The per-address key: IPv4 as is (also when IPv4-mapped), IPv6 by its /64 prefix. */
export function addressKey(address: string): string {
  const a = normalizeAddress(address);
  if (!a.includes(':')) return a;
  const groups = expandIPv6(a);
  if (!groups) return a;
  return `${groups.slice(0, 4).join(':')}::/64`;
}

function expandIPv6(a: string): string[] | null {
  let text = a;
  // A trailing dotted quad (::1.2.3.4 forms) becomes two groups.
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [b0, b1, b2, b3] = quad.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, quad.index) + `${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  if (fill < 0) return null;
  const groups = [...head, ...Array<string>(fill).fill('0'), ...tail];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return null;
  return groups.map((g) => parseInt(g, 16).toString(16));
}

/**
 * The guard on a server's sockets. Every TCP connection (before TLS and HTTP)
 * is admitted or destroyed at once — nothing has been read, so there is no
 * HTTP status to give — and must then deliver its request headers within
 * `headersTimeoutMs`. Plain requests are tracked here (the deadline stops when
 * a request's headers are in and restarts when its response is done, for the
 * next keep-alive request); the owner calls headersArrived() on an upgrade.
 */
export class ConnectionGate {
  /** Open connections by "address|port", which a TLS socket and the TCP socket under it share. */
  private readonly open = new Map<string, { socket: Socket; conn: GuardedConnection; timer: NodeJS.Timeout | null }>();

  constructor(
    server: HttpServer | HttpsServer,
    readonly guard: ConnectionGuard,
    private readonly headersTimeoutMs: number,
    /** A refusal to audit (already rate limited); `suppressed`: refusals left unaudited before it. */
    private readonly onRefused: (reason: RefusalReason, remoteAddress: string, suppressed: number) => void,
  ) {
    server.on('connection', (socket: Socket) => this.onConnection(socket));
    // Before the app's own handler, whoever registered it first.
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
      this.headersArrived(req.socket);
      res.once('finish', () => this.awaitHeaders(req.socket));
    });
  }

  /** The request headers are in: stops the deadline. The connection's guard handle, or null if it is not open. */
  headersArrived(socket: Socket | Duplex): GuardedConnection | null {
    const c = this.lookup(socket);
    if (c?.timer) clearTimeout(c.timer);
    if (c) c.timer = null;
    return c?.conn ?? null;
  }

  /** Starts the deadline for the connection's next request headers. */
  awaitHeaders(socket: Socket | Duplex): void {
    const c = this.lookup(socket);
    if (!c || c.socket.destroyed) return;
    if (c.timer) clearTimeout(c.timer);
    c.timer = setTimeout(() => {
      c.timer = null;
      c.socket.destroy();
      this.refused('headers timeout', c.socket.remoteAddress ?? 'unknown');
    }, this.headersTimeoutMs);
  }

  /** Counts a refusal, and audits it unless the audit rate limit says not now. */
  refused(reason: RefusalReason, remoteAddress: string): void {
    const { audit, suppressed } = this.guard.refused(reason);
    if (audit) this.onRefused(reason, remoteAddress, suppressed);
  }

  /** Destroys every open connection (host shutdown). */
  destroyAll(): void {
    for (const c of this.open.values()) c.socket.destroy();
  }

  private onConnection(socket: Socket): void {
    const remoteAddress = socket.remoteAddress;
    if (!remoteAddress) return void socket.destroy(); // already gone
    const conn = this.guard.admit(remoteAddress);
    if (typeof conn === 'string') {
      socket.destroy();
      return this.refused(conn, remoteAddress);
    }
    const key = `${remoteAddress}|${socket.remotePort}`;
    this.open.set(key, { socket, conn, timer: null });
    socket.once('close', () => {
      const c = this.open.get(key);
      if (c?.socket === socket) {
        if (c.timer) clearTimeout(c.timer);
        this.open.delete(key);
      }
      this.guard.release(conn);
    });
    this.awaitHeaders(socket);
  }

  private lookup(socket: Socket | Duplex) {
    const s = socket as Socket;
    return this.open.get(`${s.remoteAddress}|${s.remotePort}`);
  }
}
