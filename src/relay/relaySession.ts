/**
 * One viewer paired with one host through a relay: forwards the tilecast
 * stream both ways as whole WebSocket messages, without decoding them.
 *
 * Memory is bounded per session, whatever either side does:
 *  - each side's messages are capped by its socket's maxPayload (set by the
 *    relay: small for the viewer, an update's worth for the host);
 *  - backpressure: once the receiving socket holds more than `highWaterBytes`
 *    unsent, the sending socket is paused (its TCP window closes, so a host's
 *    own flow control sees the slow viewer as it would directly) until the
 *    receiver drains below `lowWaterBytes`;
 *  - before the host's data connection arrives, the viewer's messages (its
 *    HELLO) wait in a queue capped at `maxPendingBytes`.
 * Acks travel untouched, so the host's flow control measures the whole path.
 *
 * The session only peeks at each message's first byte (the message type): to
 * see viewer input for the idle timeout, to count updates and to see when
 * sound and the microphone were used (for the audit). The relay may inject a
 * BYE of its own (timeouts, an admin's kick) before closing.
 *
 * Audio policy (the grant's `audio` / `microphone`, both off unless granted):
 * the viewer's HELLO loses the AUDIO / MICROPHONE capability bits it may not
 * have (the one place the session rewrites a message: four bytes at a fixed
 * offset), so the host never grants them; AUDIO from a viewer without the
 * microphone ends the session, AUDIO from the host to a viewer without sound
 * is dropped (a host that ignores the HELLO sends nothing the user may not hear).
 */
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { Capability, MessageType, Reason, ReasonCode, reasonName } from '../protocol/constants';
import { encodeMessage } from '../protocol/messages';

export interface RelaySessionLimits {
  /** Pause the sender once the receiver holds this many bytes unsent. */
  highWaterBytes: number;
  /** ...and resume it once the receiver is down to this. */
  lowWaterBytes: number;
  /** Viewer bytes held while waiting for the host's data connection. */
  maxPendingBytes: number;
  /** How often a paused sender checks whether the receiver drained, ms. */
  drainPollMs: number;
}

export interface RelaySessionInfo {
  id: string;
  user: string;
  hostId: string;
  remoteAddress: string;
  viewOnly: boolean;
  /** The user may hear the PC's sound. */
  audio: boolean;
  /** The user may send the microphone to the PC. */
  microphone: boolean;
  /** When the viewer was accepted (epoch ms). */
  startedAt: number;
  /** What the authorising app attached to the grant (e.g. a licence lease). */
  tag?: unknown;
}

export interface RelaySessionStats extends RelaySessionInfo {
  /** The host's data connection arrived. */
  paired: boolean;
  bytesToViewer: number;
  bytesToHost: number;
  updatesToViewer: number;
  /** WebSocket ping round trip relay ↔ viewer, ms (null before the first pong). */
  rttMs: number | null;
  /** Last POINTER/KEY from the viewer (epoch ms), or null. */
  lastInputAt: number | null;
  /** The PC's sound forwarded to the viewer (null: none). */
  audioUse: MediaUse | null;
  /** The viewer's microphone forwarded to the PC (null: none). */
  microphoneUse: MediaUse | null;
  /** AUDIO from the host dropped because the user may not hear sound. */
  audioRefused: number;
}

/** When a kind of audio went through the session: its first and last frame (epoch ms) and how many. */
export interface MediaUse {
  firstAt: number;
  lastAt: number;
  frames: number;
}

/** Byte offset of the capability bits in a HELLO: type u8, magic u32, minVersion u16, maxVersion u16 (docs/protocol.md). */
const HELLO_CAPABILITIES_OFFSET = 9;

export interface RelaySessionEnd extends RelaySessionStats {
  endedAt: number;
  durationMs: number;
  reason: string;
}

export interface RelaySessionEvents {
  end: [RelaySessionEnd];
}

const closeCodeFor = (reason: ReasonCode) => (reason === Reason.NORMAL ? 1000 : 4000 + reason);
/** Close codes a peer may send (RFC 6455 §7.4) are passed on to the other side as they are. */
const passable = (code: number) => (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);

export class RelaySession extends EventEmitter<RelaySessionEvents> {
  private host: WebSocket | null = null;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private ended = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private pingSentAt = 0;
  private readonly stats: RelaySessionStats;

  constructor(
    info: RelaySessionInfo,
    private readonly viewer: WebSocket,
    private readonly limits: RelaySessionLimits,
  ) {
    super();
    this.stats = { ...info, paired: false, bytesToViewer: 0, bytesToHost: 0, updatesToViewer: 0, rttMs: null, lastInputAt: null, audioUse: null, microphoneUse: null, audioRefused: 0 };
    viewer.on('message', (data, isBinary) => this.fromViewer(data as Buffer, isBinary));
    viewer.on('close', (code, reason) => this.end(`viewer closed (${code}${reason.length ? ` ${reason.toString().slice(0, 100)}` : ''})`, { host: [passable(code) ? code : 1001, 'viewer left'] }));
    viewer.on('error', (err) => this.end(`viewer socket error: ${err.message}`, { host: [1001, 'viewer left'] }));
    viewer.on('pong', () => {
      if (this.pingSentAt) this.stats.rttMs = Date.now() - this.pingSentAt;
    });
  }

  get id(): string {
    return this.stats.id;
  }

  get paired(): boolean {
    return this.host !== null;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  snapshot(): RelaySessionStats {
    return { ...this.stats };
  }

  /** The host's data connection for this session: flush what the viewer said so far, then forward both ways. */
  pair(host: WebSocket): void {
    if (this.ended || this.host) return void host.close(1008, 'session not waiting');
    this.host = host;
    this.stats.paired = true;
    host.on('message', (data, isBinary) => this.fromHost(data as Buffer, isBinary));
    host.on('close', (code, reason) => this.end(`host closed (${code}${reason.length ? ` ${reason.toString().slice(0, 100)}` : ''})`, { viewer: [passable(code) ? code : 1001, reason.toString().slice(0, 100) || 'host left'] }));
    host.on('error', (err) => this.end(`host socket error: ${err.message}`, { viewer: [1001, 'host left'] }));
    for (const m of this.pending) this.forward(m, host, this.viewer, 'bytesToHost');
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Pings both sides; a side that did not answer the previous ping is gone. Called by the relay's timer. */
  heartbeat(): void {
    if (this.ended) return;
    for (const ws of [this.viewer, this.host]) {
      if (!ws) continue;
      const w = ws as WebSocket & { relayAlive?: boolean };
      if (w.relayAlive === false) return this.end('no answer to pings', {});
      w.relayAlive = false;
      ws.once('pong', () => (w.relayAlive = true));
      ws.ping();
    }
    this.pingSentAt = Date.now();
  }

  /**
   * Ends the session. `bye`: a BYE the relay sends the viewer first (its reason
   * and text, for the viewer's screen); otherwise the close codes given per side.
   */
  end(reason: string, how: { bye?: { reason: ReasonCode; message: string }; viewer?: [number, string]; host?: [number, string] }): void {
    if (this.ended) return;
    this.ended = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const v = this.viewer;
    if (how.bye && v.readyState === v.OPEN) {
      v.send(encodeMessage({ type: 'bye', reason: how.bye.reason, message: how.bye.message }));
      v.close(closeCodeFor(how.bye.reason), reasonName(how.bye.reason)); // ASCII and short; the text went in the BYE
    } else {
      closeSocket(v, how.viewer ?? [1001, 'relay session ended']);
    }
    if (this.host) closeSocket(this.host, how.host ?? [1001, 'relay session ended']);
    // A peer that ignores the closing handshake is cut off.
    const cut = setTimeout(() => {
      v.terminate();
      this.host?.terminate();
    }, 2000);
    cut.unref();
    this.pending = [];
    const endedAt = Date.now();
    this.emit('end', { ...this.stats, endedAt, durationMs: endedAt - this.stats.startedAt, reason });
  }

  /** Runs `fn` after `ms` unless the session ended; the session owns the timer. */
  after(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.ended) fn();
    }, ms);
    t.unref();
    this.timers.add(t);
  }

  private fromViewer(data: Buffer, isBinary: boolean): void {
    if (this.ended) return;
    if (!isBinary) return this.end('viewer sent a text message', { bye: { reason: Reason.PROTOCOL_ERROR, message: 'text messages are not part of the protocol' } });
    const type = data[0];
    if (type === MessageType.POINTER || type === MessageType.KEY) this.stats.lastInputAt = Date.now();
    else if (type === MessageType.HELLO) data = this.withPermittedCapabilities(data);
    else if (type === MessageType.AUDIO) {
      if (!this.stats.microphone) return this.end('microphone not permitted for this user', { bye: { reason: Reason.PROTOCOL_ERROR, message: 'the microphone is not permitted for this user' } });
      this.stats.microphoneUse = used(this.stats.microphoneUse);
    }
    if (this.host) return this.forward(data, this.host, this.viewer, 'bytesToHost');
    this.pendingBytes += data.length;
    if (this.pendingBytes > this.limits.maxPendingBytes) {
      return this.end('viewer sent too much before the PC answered', { bye: { reason: Reason.TOO_LARGE, message: 'too much data before the PC answered' } });
    }
    this.pending.push(data);
  }

  private fromHost(data: Buffer, isBinary: boolean): void {
    if (this.ended) return;
    if (!isBinary) return this.end('host sent a text message', { bye: { reason: Reason.PROTOCOL_ERROR, message: 'the PC sent a malformed message' } });
    if (data[0] === MessageType.UPDATE || data[0] === MessageType.UPDATE_COMPACT) this.stats.updatesToViewer++;
    else if (data[0] === MessageType.AUDIO) {
      if (!this.stats.audio) return void this.stats.audioRefused++;
      this.stats.audioUse = used(this.stats.audioUse);
    }
    this.forward(data, this.viewer, this.host!, 'bytesToViewer');
  }

  /** The viewer's HELLO without the audio capabilities this user lacks (a HELLO too short is the host's to refuse). */
  private withPermittedCapabilities(hello: Buffer): Buffer {
    const strip = (this.stats.audio ? 0 : Capability.AUDIO) | (this.stats.microphone ? 0 : Capability.MICROPHONE);
    if (!strip || hello.length < HELLO_CAPABILITIES_OFFSET + 4) return hello;
    const out = Buffer.from(hello);
    out.writeUInt32LE((out.readUInt32LE(HELLO_CAPABILITIES_OFFSET) & ~strip) >>> 0, HELLO_CAPABILITIES_OFFSET);
    return out;
  }

  /** Sends `data` on `to`; pauses `from` while `to` holds more than the high-water mark. */
  private forward(data: Buffer, to: WebSocket, from: WebSocket, counter: 'bytesToViewer' | 'bytesToHost'): void {
    if (to.readyState !== to.OPEN) return;
    to.send(data, { binary: true });
    this.stats[counter] += data.length;
    if (to.bufferedAmount <= this.limits.highWaterBytes || from.isPaused) return;
    from.pause();
    const poll = () => {
      if (this.ended || to.readyState !== to.OPEN) return;
      if (to.bufferedAmount > this.limits.lowWaterBytes) return this.after(this.limits.drainPollMs, poll);
      from.resume();
    };
    this.after(this.limits.drainPollMs, poll);
  }
}

function used(u: MediaUse | null): MediaUse {
  const now = Date.now();
  return u ? { firstAt: u.firstAt, lastAt: now, frames: u.frames + 1 } : { firstAt: now, lastAt: now, frames: 1 };
}

function closeSocket(ws: WebSocket, [code, reason]: [number, string]): void {
  if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) {
    try {
      ws.close(code, reason);
    } catch {
      ws.terminate();
    }
  }
}
