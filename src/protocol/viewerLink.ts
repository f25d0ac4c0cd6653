/**
 * The viewer side of one connection, as protocol logic only: shared by the
 * Node ViewerClient and the browser TilecastViewer so both behave the same.
 * Pure TypeScript: no Node APIs, no DOM, no sockets, no pixels, no timers.
 *
 * The embedder owns the transport and the screen. It gives a ViewerLink a
 * `send(msg)` callback and a clock, calls open() when its socket opens,
 * feeds it every message from the host (receiveBytes/receive), calls tick()
 * from a timer every `tickIntervalMs`, and closes its socket when a call
 * returns a LinkFailure. The link:
 *
 *  - sends the viewer's HELLO (capabilities and software from the embedder)
 *    and negotiates the version from the host's HELLO;
 *  - enforces the order: before the host's HELLO only ERROR/BYE are allowed,
 *    a second HELLO, an UPDATE before RESIZE or a viewer-only message is a
 *    protocol error;
 *  - answers the host's pings, sends its own every `pingIntervalMs` and
 *    measures the RTT from the pongs;
 *  - runs the silence watchdog (nothing heard for `timeoutMs` → dead);
 *  - maps errors to the reason of the ERROR it sends before closing
 *    (ERROR_REASONS, one table);
 *  - sends acks, which reset the reconnect backoff: a connection that got an
 *    update on screen is a working one.
 *
 * It returns the messages that are for the embedder (HELLO, RESIZE, UPDATE,
 * CURSOR_*, SCREEN_STATE, AUDIO when both HELLOs said AUDIO, the host's ERROR/BYE) and swallows the rest.
 *
 * ReconnectBackoff is the one reconnect policy (exponential, capped, jittered).
 */
import { ErrorCode, ErrorCodes, TilecastError, checkInt, invalidArg } from '../errors';
import { Capability, MAX_QUALITY_LIMIT, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION, Reason, ReasonCode } from './constants';
import {
  AudioMessage, CacheKeepMessage, CacheTicketMessage, CloseMessage, CursorPositionMessage, CursorShapeMessage, HelloMessage, Message, ResizeMessage, ScreenStateMessage, UpdateMessage, decodeMessage,
} from './messages';
import { negotiateVersion } from './version';
import { CompactUpdateState } from './compactUpdate';

/** Link defaults: ping every 2 s (RTT for the link-quality display), dead after 30 s of silence. */
export const VIEWER_LINK_DEFAULTS = { pingIntervalMs: 2000, timeoutMs: 30_000 } as const;

/**
 * Reconnect defaults, for 4G: the first retry after 250–500 ms (a cell
 * handover is usually over by then), doubling up to a cap of 8 s (4–8 s with
 * jitter), so a long outage costs at most ~8 s of extra wait once it ends.
 */
export const BACKOFF_DEFAULTS = { minBackoffMs: 500, maxBackoffMs: 8000 } as const;

/** The one table: error code → reason carried by the ERROR the viewer sends before closing. */
export const ERROR_REASONS: Readonly<Record<ErrorCode, ReasonCode>> = {
  [ErrorCodes.PROTOCOL]: Reason.PROTOCOL_ERROR,
  [ErrorCodes.TRUNCATED]: Reason.PROTOCOL_ERROR,
  [ErrorCodes.UNKNOWN_MESSAGE]: Reason.PROTOCOL_ERROR,
  [ErrorCodes.TOO_LARGE]: Reason.TOO_LARGE,
  [ErrorCodes.CORRUPT_STREAM]: Reason.DECODE_FAILED,
  [ErrorCodes.STREAM_DESYNC]: Reason.DECODE_FAILED,
  [ErrorCodes.UNSUPPORTED_VERSION]: Reason.UNSUPPORTED_VERSION,
  [ErrorCodes.TIMEOUT]: Reason.TIMEOUT,
  [ErrorCodes.UNAUTHORIZED]: Reason.UNAUTHORIZED,
  [ErrorCodes.ABORTED]: Reason.NORMAL,
  [ErrorCodes.INVALID_ARG]: Reason.INTERNAL,
  [ErrorCodes.BUSY]: Reason.INTERNAL,
  [ErrorCodes.UNAVAILABLE]: Reason.INTERNAL,
  [ErrorCodes.NATIVE_LOAD]: Reason.INTERNAL,
  [ErrorCodes.INTERNAL]: Reason.INTERNAL,
};

/**
 * Reasons in a host's (or gateway's) BYE/ERROR after which reconnecting
 * cannot help — not allowed, a revoked PC, no common version: a viewer stops
 * and shows the message instead of retrying for ever. Anything else (PC
 * offline, capacity, shutdown, timeouts) is retried with the backoff.
 */
export const FINAL_REASONS: ReadonlySet<number> = new Set<number>([Reason.UNAUTHORIZED, Reason.UNSUPPORTED_VERSION]);

export function isFinalClose(msg: CloseMessage): boolean {
  return FINAL_REASONS.has(msg.reason);
}

/** Longest message text put in an ERROR (the wire allows 1024 bytes; keep it short). */
const MAX_ERROR_TEXT = 200;

/** Any thrown value as a TilecastError (non-tilecast errors become ERR_INTERNAL). */
export function toTilecastError(err: unknown): TilecastError {
  if (err instanceof TilecastError) return err;
  const message = typeof (err as Error)?.message === 'string' ? (err as Error).message : String(err);
  return new TilecastError(ErrorCodes.INTERNAL, message, { cause: err });
}

/** The reason and message of the ERROR a viewer sends for `err`. */
export function reasonForError(err: unknown): { reason: ReasonCode; message: string } {
  const e = toTilecastError(err);
  return { reason: ERROR_REASONS[e.code] ?? Reason.INTERNAL, message: e.message.slice(0, MAX_ERROR_TEXT) };
}

/**
 * WebSocket close code for a viewer-side failure: 4000 + reason (browsers only
 * let pages use 1000 and 3000–4999), e.g. 4001 protocol error, 4006 timeout.
 */
export function closeCodeForReason(reason: ReasonCode): number {
  return reason === Reason.NORMAL ? 1000 : 4000 + reason;
}

/** Why a connection ended on the viewer's side; the embedder closes its socket with `closeCode`. */
export interface LinkFailure {
  error: TilecastError;
  reason: ReasonCode;
  /** The text sent in the ERROR (also fine to show to a user). */
  message: string;
  closeCode: number;
}

export interface BackoffOptions {
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Random source in [0, 1) for the jitter (tests inject a fixed one). */
  random?: () => number;
}

/**
 * Exponential reconnect backoff with jitter: the n-th retry since the last
 * working connection (n = 0, 1, ...) waits
 *   min(maxBackoffMs, minBackoffMs * 2^n) * (0.5 + 0.5 * random())
 * rounded to whole ms ("equal jitter": never above the cap, never below half
 * of it, and viewers dropped together do not return together).
 */
export class ReconnectBackoff {
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
  private readonly random: () => number;
  /** Retries since the last working connection. */
  attempts = 0;

  constructor(options: BackoffOptions = {}) {
    const min = options.minBackoffMs ?? Math.min(BACKOFF_DEFAULTS.minBackoffMs, options.maxBackoffMs ?? Infinity);
    if (typeof min !== 'number' || !Number.isFinite(min) || min < 0) throw invalidArg('minBackoffMs', 'a finite number >= 0', min);
    const max = options.maxBackoffMs ?? Math.max(BACKOFF_DEFAULTS.maxBackoffMs, min);
    if (typeof max !== 'number' || !Number.isFinite(max) || max < min) throw invalidArg('maxBackoffMs', `a finite number >= minBackoffMs (${min})`, max);
    this.minBackoffMs = min;
    this.maxBackoffMs = max;
    this.random = options.random ?? Math.random;
  }

  /** The delay before the next attempt, ms; counts the attempt. */
  next(): number {
    const base = Math.min(this.maxBackoffMs, this.minBackoffMs * 2 ** Math.min(this.attempts, 30));
    this.attempts++;
    return Math.round(base * (0.5 + 0.5 * this.random()));
  }

  /** A connection worked: the next drop starts again from minBackoffMs. */
  reset(): void {
    this.attempts = 0;
  }
}

/** Messages a ViewerLink hands to its embedder. */
export type HostMessage = HelloMessage | ResizeMessage | UpdateMessage | CursorShapeMessage | CursorPositionMessage | ScreenStateMessage | AudioMessage
  | CacheTicketMessage | CacheKeepMessage | CloseMessage;

export interface ViewerLinkOptions {
  /** Sends one message on the connection (the embedder encodes and writes it). */
  send: (msg: Message) => void;
  /** Capability bits announced in the viewer's HELLO (constants.Capability). */
  capabilities: number;
  /** The viewer's software name, for the host's logs (1..256 bytes). */
  software: string;
  /** Clock, ms (default performance.timeOrigin + performance.now()). */
  now?: () => number;
  /** Own PING every this many ms once connected (default 2000; 0: none). */
  pingIntervalMs?: number;
  /** Dead when nothing was heard for this long, ms (default 30 000; 0: no watchdog). */
  timeoutMs?: number;
  /** Reset when an update of this connection is acked. */
  backoff?: ReconnectBackoff;
  /**
   * Resume the content cache kept from the previous connection (with
   * CACHE_RESUME in `capabilities`): the ticket that connection got and the
   * cache's next id now. The HELLO then says RESUMING and CACHE_RESUME follows it.
   */
  resume?: { ticket: Uint8Array; nextId: number } | null;
}

/** 'idle' before open(), 'hello' until the host's HELLO, 'ready' after it, 'closed' after a failure or close. */
export type ViewerLinkState = 'idle' | 'hello' | 'ready' | 'closed';

const defaultNow = () => performance.timeOrigin + performance.now();
const MAX_PENDING_PINGS = 16;

export class ViewerLink {
  readonly pingIntervalMs: number;
  readonly timeoutMs: number;
  /** How often the embedder should call tick(), ms. */
  readonly tickIntervalMs: number;
  state: ViewerLinkState = 'idle';
  /** Negotiated protocol version (after the host's HELLO). */
  version: number | null = null;
  hostHello: HelloMessage | null = null;
  /** Round-trip time from the last answered PING, ms. */
  rttMs: number | null = null;
  /** When the host was last heard from (clock ms). */
  lastHeard = 0;
  /** Updates handed to the embedder, and acks sent, on this connection. */
  updates = 0;
  acks = 0;
  /** The host's ERROR/BYE, if it sent one. */
  hostClose: CloseMessage | null = null;
  private readonly send: (msg: Message) => void;
  private readonly now: () => number;
  private pingId = 0;
  private lastPingAt = 0;
  private readonly pendingPings = new Map<number, number>();
  private sawResize = false;
  /** UPDATE_COMPACT headers are deltas from the connection's previous update (used when we announced COMPACT_UPDATE). */
  private readonly compactUpdates = new CompactUpdateState();
  private awaitingKeyframe = false;
  private sawCacheKeep = false;

  constructor(private readonly options: ViewerLinkOptions) {
    if (typeof options?.send !== 'function') throw invalidArg('send', 'a function', options?.send);
    this.send = options.send;
    this.now = options.now ?? defaultNow;
    this.pingIntervalMs = nonNegative('pingIntervalMs', options.pingIntervalMs ?? VIEWER_LINK_DEFAULTS.pingIntervalMs);
    this.timeoutMs = nonNegative('timeoutMs', options.timeoutMs ?? VIEWER_LINK_DEFAULTS.timeoutMs);
    const periods = [this.pingIntervalMs / 2, this.timeoutMs / 4].filter((p) => p > 0);
    this.tickIntervalMs = Math.max(10, Math.min(1000, ...periods));
  }

  /** The quality limit asked for (QUALITY_LIMIT), sent after the host's HELLO when the host accepts it. */
  private qualityLimit = 0;

  /** True once the host's HELLO arrived and the link has not failed or closed. */
  get ready(): boolean {
    return this.state === 'ready';
  }

  /**
   * May the viewer send POINTER/KEY now? Only when it announced INPUT and the
   * host's HELLO did too (a host leaves INPUT out for a view-only viewer and
   * drops, then cuts off, input it did not ask for).
   */
  get inputAllowed(): boolean {
    return this.state === 'ready' && (this.options.capabilities & Capability.INPUT) !== 0 && ((this.hostHello?.capabilities ?? 0) & Capability.INPUT) !== 0;
  }

  /** Whether the host accepts QUALITY_LIMIT (its HELLO says so). */
  get qualityLimitAllowed(): boolean {
    return this.state === 'ready' && ((this.hostHello?.capabilities ?? 0) & Capability.QUALITY_LIMIT) !== 0;
  }

  /**
   * "Data saver": asks the host to keep the quality ladder at `minLevel`
   * (0..MAX_QUALITY_LIMIT) or above; 0 lifts it. Sent now if the host accepts
   * it, else (not connected yet) after its HELLO. Returns whether this host
   * honours it (false: a host without QUALITY_LIMIT, or not known yet).
   */
  limitQuality(minLevel: number): boolean {
    this.qualityLimit = checkInt('minLevel', minLevel, 0, MAX_QUALITY_LIMIT);
    if (!this.qualityLimitAllowed) return false;
    this.send({ type: 'qualityLimit', minLevel: this.qualityLimit });
    return true;
  }

  /** May the viewer send its microphone (AUDIO) now? Both HELLOs must say MICROPHONE (as inputAllowed for INPUT). */
  get microphoneAllowed(): boolean {
    return this.state === 'ready' && (this.options.capabilities & Capability.MICROPHONE) !== 0 && ((this.hostHello?.capabilities ?? 0) & Capability.MICROPHONE) !== 0;
  }

  /** Will the host send its sound? Both HELLOs said AUDIO. */
  get audioAllowed(): boolean {
    return this.state === 'ready' && (this.options.capabilities & Capability.AUDIO) !== 0 && ((this.hostHello?.capabilities ?? 0) & Capability.AUDIO) !== 0;
  }

  /** The socket is open: sends the viewer's HELLO and starts the watchdog clock. */
  open(now = this.now()): void {
    if (this.state !== 'idle') return;
    this.state = 'hello';
    this.lastHeard = now;
    const resume = this.resuming ? this.options.resume! : null;
    this.send({ type: 'hello', minVersion: MIN_PROTOCOL_VERSION, maxVersion: PROTOCOL_VERSION, capabilities: this.options.capabilities | (resume ? Capability.RESUMING : 0), software: this.options.software });
    // Right behind the HELLO, not after the host's: the host holds the first keyframe until it has this.
    if (resume) this.send({ type: 'cacheResume', ticket: resume.ticket, nextId: resume.nextId });
  }

  /** This connection offers to resume a content cache (CACHE_RESUME announced, a ticket given). */
  get resuming(): boolean {
    return (this.options.capabilities & Capability.CACHE_RESUME) !== 0 && !!this.options.resume;
  }

  /**
   * One WebSocket message from the host: decodes it and hands it to receive().
   * A text frame (a string) is a protocol error. Throws a TilecastError for any
   * violation; pass it to fail().
   */
  receiveBytes(data: Uint8Array | ArrayBuffer | string, now = this.now()): HostMessage | null {
    if (this.state === 'closed') return null;
    this.lastHeard = now;
    if (typeof data === 'string') throw new TilecastError(ErrorCodes.PROTOCOL, 'text frames are not part of the protocol');
    const compact = (this.options.capabilities & Capability.COMPACT_UPDATE) !== 0 ? this.compactUpdates : undefined;
    return this.receive(decodeMessage(data instanceof Uint8Array ? data : new Uint8Array(data), compact), now);
  }

  /**
   * One decoded message from the host. Returns it when it is for the embedder,
   * null when the link handled it (PING, PONG) or is closed. Throws a
   * TilecastError when the host broke the protocol; pass it to fail().
   */
  receive(msg: Message, now = this.now()): HostMessage | null {
    if (this.state === 'closed') return null;
    this.lastHeard = now;
    if (msg.type === 'error' || msg.type === 'bye') {
      this.hostClose = msg;
      return msg;
    }
    if (this.state !== 'ready') {
      if (msg.type !== 'hello') throw new TilecastError(ErrorCodes.PROTOCOL, `expected HELLO from the host, got ${msg.type}`);
      this.version = negotiateVersion(msg);
      this.hostHello = msg;
      this.state = 'ready';
      this.ping(now); // a first RTT right away
      if (this.qualityLimit > 0 && this.qualityLimitAllowed) this.send({ type: 'qualityLimit', minLevel: this.qualityLimit });
      return msg;
    }
    switch (msg.type) {
      case 'hello':
        throw new TilecastError(ErrorCodes.PROTOCOL, 'second HELLO from the host');
      case 'ping':
        this.send({ type: 'pong', id: msg.id, time: msg.time });
        return null;
      case 'pong': {
        const sentAt = this.pendingPings.get(msg.id);
        if (sentAt === undefined) return null; // not ours, or too old: ignore
        this.rttMs = Math.max(0, now - sentAt);
        for (const id of this.pendingPings.keys()) {
          this.pendingPings.delete(id);
          if (id === msg.id) break;
        }
        return null;
      }
      case 'resize':
        this.sawResize = true;
        return msg;
      case 'update':
        if (!this.sawResize) throw new TilecastError(ErrorCodes.PROTOCOL, 'UPDATE before RESIZE: screen size unknown');
        if (msg.keyframe) this.awaitingKeyframe = false;
        this.updates++;
        return msg;
      case 'cursorShape':
      case 'cursorPosition':
      case 'screenState': // for the embedder to show (hosts send it only to viewers with the SCREEN_STATE capability)
        return msg;
      case 'cacheTicket':
        if (!(this.options.capabilities & Capability.CACHE_RESUME) || !((this.hostHello?.capabilities ?? 0) & Capability.CACHE_RESUME)) {
          throw new TilecastError(ErrorCodes.PROTOCOL, 'CACHE_TICKET without CACHE_RESUME in both HELLOs');
        }
        return msg;
      case 'cacheKeep':
        // Once, before RESIZE, and only when this connection offered a resume.
        if (!this.resuming || this.sawResize || this.sawCacheKeep) throw new TilecastError(ErrorCodes.PROTOCOL, 'CACHE_KEEP only once, before RESIZE, to a viewer that sent CACHE_RESUME');
        this.sawCacheKeep = true;
        return msg;
      case 'audio':
        // Sound only where both HELLOs agreed: an AUDIO the viewer did not ask for is a broken host.
        if (!this.audioAllowed) throw new TilecastError(ErrorCodes.PROTOCOL, 'AUDIO from a host that did not announce the AUDIO capability to a viewer that asked for it');
        return msg;
      default:
        throw new TilecastError(ErrorCodes.PROTOCOL, `${msg.type} is not sent by hosts`);
    }
  }

  /**
   * Drives the timers: sends a PING when one is due and checks the watchdog.
   * Returns a LinkFailure (ERROR TIMEOUT already sent) when the host has been
   * silent for timeoutMs; the embedder then drops the socket.
   */
  tick(now = this.now()): LinkFailure | null {
    if (this.state !== 'hello' && this.state !== 'ready') return null;
    if (this.timeoutMs > 0 && now - this.lastHeard >= this.timeoutMs) {
      return this.fail(new TilecastError(ErrorCodes.TIMEOUT, `nothing heard from the host for ${Math.round(now - this.lastHeard)} ms`));
    }
    if (this.state === 'ready' && this.pingIntervalMs > 0 && now - this.lastPingAt >= this.pingIntervalMs) this.ping(now);
    return null;
  }

  /** Acks an update that is on screen; the first ack of a connection resets the reconnect backoff. */
  ack(frameId: number, receivedAt: number, displayedAt: number): void {
    if (this.state !== 'ready') return;
    this.send({ type: 'ack', frameId, receivedAt, displayedAt });
    this.acks++;
    this.options.backoff?.reset();
  }

  /**
   * An update the host sent could not be applied (its op stream or images did
   * not decode). The one rule: a failed keyframe ends the connection (a fresh
   * one starts with a keyframe anyway); otherwise the link asks for a keyframe
   * (REFRESH_REQUEST, once) and the failures of the updates that follow until
   * that keyframe arrives are expected and ignored.
   */
  updateFailed(err: unknown, update: Pick<UpdateMessage, 'keyframe'>): LinkFailure | null {
    if (this.state !== 'ready') return null;
    if (update.keyframe) return this.fail(err);
    if (!this.awaitingKeyframe) {
      this.awaitingKeyframe = true;
      this.send({ type: 'refreshRequest' });
    }
    return null;
  }

  /** Ends the connection because of `err`: sends ERROR with the mapped reason. Idempotent. */
  fail(err: unknown): LinkFailure {
    const error = toTilecastError(err);
    const { reason, message } = reasonForError(error);
    const failure: LinkFailure = { error, reason, message, closeCode: closeCodeForReason(reason) };
    if (this.state === 'closed') return failure;
    if (this.state !== 'idle') this.send({ type: 'error', reason, message });
    this.state = 'closed';
    return failure;
  }

  /** The viewer leaves: sends BYE NORMAL. Returns the close code to use (1000). */
  close(message = 'viewer closed'): number {
    if (this.state === 'hello' || this.state === 'ready') this.send({ type: 'bye', reason: Reason.NORMAL, message });
    this.state = 'closed';
    return 1000;
  }

  /** The socket closed under the link (network drop, host close). */
  closed(): void {
    this.state = 'closed';
  }

  private ping(now: number): void {
    const id = this.pingId;
    this.pingId = (this.pingId + 1) >>> 0;
    this.pendingPings.set(id, now);
    if (this.pendingPings.size > MAX_PENDING_PINGS) this.pendingPings.delete(this.pendingPings.keys().next().value!);
    this.lastPingAt = now;
    this.send({ type: 'ping', id, time: now });
  }
}

function nonNegative(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw invalidArg(name, 'a finite number >= 0', v);
  return v;
}
