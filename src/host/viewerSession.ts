/**
 * ViewerSession: the host side of one viewer connection — the socket, the
 * HELLO handshake, heartbeat, cursor messages, acks and flow control. What to
 * send and when is its ViewerEncoder's (socket-free, see viewerEncoder.ts):
 * the session offers it every changed screen and runs it whenever something
 * changed (a frame, an ack, a refresh request) or when it asked to be run.
 * Each session has its own encoder and pacing, so a slow or dead viewer never
 * holds up capture or other viewers.
 *
 * What a session queues is bounded by its socket, not only by acks (a viewer
 * can ack what it never read): while ws.bufferedAmount is over the flow
 * controller's bufferLimit() no update, cursor message or PONG is queued, and
 * the session polls the socket every DRAIN_POLL_MS until it is under the limit
 * again, then resumes (latest cursor and screen state win meanwhile).
 */
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { ErrorCodes, TilecastError } from '../errors';
import type { CursorShape, CursorUpdate, Rect } from '../frame';
import { Capability, Limits, PROTOCOL_VERSION, MIN_PROTOCOL_VERSION, Reason, ReasonCode } from '../protocol/constants';
import { AudioMessage, Message, decodeMessage, encodeMessage, KeyMessage, PointerMessage } from '../protocol/messages';
import { negotiateVersion } from '../protocol/version';
import { AudioOutbox, AudioOutboxStats, QueuedAudio } from './audioOutbox';
import type { CacheParking } from './cacheParking';
import { FlowController, FlowControlOptions, FlowStats } from './flowControl';
import type { ScreenStateEvent } from './captureLoop';
import type { ScreenSnapshot } from './screenSnapshot';
import { ViewerEncoder, ViewerEncoderOptions, ViewerQuality } from './viewerEncoder';

export interface ViewerSessionOptions extends Omit<ViewerEncoderOptions, 'clock'> {
  /** Ping interval and silence timeout, ms (defaults 5 s and 30 s). */
  pingIntervalMs?: number;
  timeoutMs?: number;
  /**
   * The viewer must send HELLO within this time after its WebSocket opened, ms
   * (default 3 s; a viewer sends it at once). Until then the socket is
   * unauthenticated and holds no viewer place (see HostOptions.maxViewers).
   */
  helloTimeoutMs?: number;
  flow?: FlowControlOptions;
  /**
   * View-only: the viewer's POINTER/KEY are dropped, whatever it announces
   * (default false; a viewer that does not announce INPUT is view-only anyway).
   * Host-wide as HostOptions.viewOnly, per viewer from the authorise hook.
   */
  viewOnly?: boolean;
  /** Input messages dropped from a view-only viewer before it is cut off with PROTOCOL_ERROR (default 64). */
  viewOnlyInputLimit?: number;
  /**
   * What this host offers of audio (the Host sets it from HostOptions.audio
   * when audio can run): granted in the HELLO to viewers that ask for it.
   */
  audioOffer?: SessionAudioOffer;
  /**
   * Where content cache mirrors wait for their viewer to reconnect (the Host
   * has one). Without it viewers get no CACHE_TICKET and never resume.
   */
  cacheParking?: CacheParking;
}

/** Audio a session may grant: the PC's sound, the viewer's microphone, and the sound's jitter budget. */
export interface SessionAudioOffer {
  sound: boolean;
  microphone: boolean;
  /** Sound frames older than this (from capture) are dropped, not sent late, ms (default 200). */
  jitterBudgetMs?: number;
}

/**
 * With sound on, pixel updates are queued only while the socket holds at most
 * this many unsent bytes, so an audio frame written next finds the socket's
 * own buffer nearly empty instead of waiting behind megabytes of pixels.
 */
export const AUDIO_PIXEL_WATERMARK = 32 * 1024;

/**
 * With sound on, pixels in flight are also kept under one RTT plus this many
 * ms at the delivery rate (FlowController.budgetBytes), so sound written now
 * waits behind at most that much pixel data in the network's queues. When an
 * LTE cell's capacity falls, what is in flight drains at the new rate, so this
 * decides how late the sound behind it comes. A/B on ATT-LTE-driving (two
 * runs each, concealed % outside outages, video / scroll): 60 ms 1.99-2.26 /
 * 1.78-2.24; 20 ms 1.30-1.68 / 1.36-1.39; 10 and 0 ms no better than 20
 * (what is left comes from the trace's near-outages, idle has it too). The
 * price: the video region gets ~14 % fewer pixel bytes while sound plays.
 */
export const AUDIO_QUEUE_MS = 20;

/**
 * While the PC's sound is audible (a frame louder than AUDIBLE_PEAK in the
 * last AUDIBLE_HOLD_MS), no further update is queued while this many bytes
 * or more are in flight, whatever the delivery rate (so at most this plus one
 * update; FlowController.setInflightCap). The rate-based bound above follows the
 * link only after acks show its fall; an LTE cell that falls from 7 to 1.2
 * Mbit/s after a 160 ms gap (ATT-LTE-driving at 47.8 s) first drains what was
 * in flight at 7 Mbit/s, ~54 kB: 360 ms in which sound queued behind it is
 * late. 16 KiB drains at 1 Mbit/s in 130 ms (an 11 kB video update on top,
 * 90 ms more). bench/audio.js (concealed %
 * outside outages, video / scroll): without it 0.98-1.05 / 0.34-0.68, with
 * it 0.78-0.92 / 0.44-0.48. The price, only while sound plays: pixels get at
 * most 16 KiB per round trip (2.9 Mbit/s at LTE's 45 ms; the video region got
 * 1537-1547 kbit/s against 1562-1822).
 */
export const SOUND_INFLIGHT_MAX_BYTES = 16 * 1024;
/** How long after an audible frame the sound counts as audible, ms. */
export const AUDIBLE_HOLD_MS = 2000;

export const DEFAULT_VIEW_ONLY_INPUT_LIMIT = 64;

export interface AckSample {
  frameId: number;
  /** Capture time of the screen the update's pixels come from. */
  captureTime: number;
  /**
   * Capture time of the oldest change this update carries. Updates coalesce
   * damage while the link is busy, so displayedAt - oldestChangeTime is the
   * worst change-to-display latency the update delivered.
   */
  oldestChangeTime: number;
  sentAt: number;
  ackedAt: number;
  /** Viewer clock. */
  receivedAt: number;
  displayedAt: number;
  bytes: number;
}

export interface ViewerStats {
  id: number;
  user: string | null;
  remoteAddress: string;
  connectedAt: number;
  /** Past HELLO: streaming, and counted against maxViewers. */
  streaming: boolean;
  updatesSent: number;
  bytesSent: number;
  /** No input accepted from this viewer (view-only by option or hook, or it announced no INPUT). */
  viewOnly: boolean;
  /** POINTER/KEY messages dropped because the viewer is view-only. */
  inputDropped: number;
  /** Bytes the socket holds unsent now (ws.bufferedAmount), and how often it was over its limit. */
  bufferedBytes: number;
  sendBlocked: number;
  keyframes: number;
  /** REFRESH_REQUESTs received (they yield at most one keyframe per minRefreshIntervalMs). */
  refreshRequests: number;
  /** Updates that carried JPEG (lossy) tiles, and those that carried COPY ops. */
  lossyUpdates: number;
  copyUpdates: number;
  /** CACHE_REF ops sent: tiles this viewer drew from its content cache instead of receiving pixels. */
  cacheRefs: number;
  /** Content cache entries resumed from the viewer's previous connection (null: it did not resume one). */
  cacheResumed: number | null;
  flow: FlowStats;
  /** Sound to this viewer (null: not granted) and microphone frames from it. */
  /** `audible`: the PC's sound is audible now, so pixels in flight are capped (SOUND_INFLIGHT_MAX_BYTES). */
  audio: (AudioOutboxStats & { microphoneFrames: number; audible: boolean }) | null;
  quality: ViewerQuality;
  /**
   * Native memory held for this viewer: a copy of the screen while it lags behind in part (shared
   * otherwise) and its share of its content cache mirror's pixels, which viewers holding the same
   * contents hold once together (approximate: recounted when its mirror changes). The coding
   * buffers are the process's: codingBufferStats().
   */
  memoryBytes: number;
}

const now = () => performance.timeOrigin + performance.now();

/**
 * How often a session whose socket is over its buffer limit checks whether it
 * drained, ms. Polling the public ws.bufferedAmount rather than listening for
 * the net.Socket's 'drain': that socket is ws-private (ws._socket), 'drain'
 * fires only after a write returned false and only once the buffer is empty
 * (a poll resumes as soon as it is under the limit, keeping the pipe full), and
 * ws also buffers in its own sender. A blocked viewer is behind by a megabyte
 * or more, so up to 20 ms to notice the drain costs it nothing.
 */
export const DRAIN_POLL_MS = 20;

/** A session's events, one argument each. */
export interface ViewerSessionEvents {
  /** For updates that carried screen changes (refinement-only updates are acked to flow control silently). */
  ack: [AckSample];
  input: [PointerMessage | KeyMessage];
  /** A microphone frame from a viewer granted MICROPHONE (validated on the wire; not yet decoded). */
  microphone: [AudioMessage];
  /** The host's HELLO went out: what was granted (the host starts sound capture for this viewer on it). */
  streaming: [{ sound: boolean; microphone: boolean }];
  /**
   * The viewer's HELLO was accepted (version agreed), just before the session
   * answers it and starts streaming. A listener may close() the session here
   * (the host does when it is full); then nothing is sent but the BYE.
   */
  hello: [{ capabilities: number }];
  close: [{ code: number; reason: string }];
  error: [Error];
  /** An ack left nothing in flight and nothing is being encoded (the host may then capture early). */
  linkIdle: [];
}

export class ViewerSession extends EventEmitter<ViewerSessionEvents> {
  readonly flow: FlowController;
  readonly connectedAt = now();
  readonly encoder: ViewerEncoder;
  private state: 'hello' | 'streaming' | 'closed' = 'hello';
  /** The viewer's HELLO said RESUMING: nothing is encoded until its CACHE_RESUME is handled. */
  private resume: 'none' | 'awaited' | 'claiming' = 'none';
  private resumeTimer: NodeJS.Timeout | null = null;
  /** This connection's latest CACHE_TICKET (null: none given); each keyframe brings a new one and voids the last. */
  private ticket: Uint8Array | null = null;
  /** The viewer announced CACHE_RESUME and this host can park its cache: it gets a ticket after every keyframe. */
  private resumable = false;
  private cacheResumed: number | null = null;
  private stepping = false; // an encoder step is running
  private again = false; // something changed while it ran
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private readonly sent = new Map<number, { captureTime: number; oldestChangeTime: number; bytes: number; changes: boolean }>();
  private lastFrameId = 0;
  private lastHeard = now();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly helloTimer: NodeJS.Timeout;
  private pingId = 0;
  private viewerCapabilities = 0;
  private inputAllowed = false; // set at HELLO: the viewer announced INPUT and is not view-only
  inputDropped = 0;
  private cursorShape: CursorShape | null = null;
  private cursorPosition: { x: number; y: number; visible: boolean } | null = null;
  private cursorShapePending = false;
  private cursorPositionPending = false;
  private screenState: ScreenStateEvent | null = null; // latest from the capture loop (null: live, nothing said)
  private screenStatePending = false;
  private drainTimer: NodeJS.Timeout | null = null;
  private soundGranted = false;
  private audibleUntil = -Infinity; // the PC's sound counts as audible until then (SOUND_INFLIGHT_MAX_BYTES)
  private microphoneGranted = false;
  private readonly audioOutbox: AudioOutbox;
  private microphoneFrames = 0;
  private microphoneDropped = 0;
  bytesSent = 0;
  /** Times the socket was found over its buffer limit (the session then waited for it to drain). */
  sendBlocked = 0;

  constructor(
    readonly id: number,
    private readonly ws: WebSocket,
    readonly user: string | null,
    readonly remoteAddress: string,
    private readonly options: ViewerSessionOptions = {},
  ) {
    super();
    this.encoder = new ViewerEncoder(options);
    this.flow = new FlowController(options.flow);
    this.audioOutbox = new AudioOutbox({ jitterBudgetMs: options.audioOffer?.jitterBudgetMs });
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onMessage(data, isBinary));
    ws.on('close', (code: number, reason: Buffer) => this.onClosed(code, reason.toString()));
    ws.on('error', () => this.onClosed(1006, 'socket error'));
    const pingEvery = options.pingIntervalMs ?? 5000;
    const timeout = options.timeoutMs ?? 30_000;
    this.heartbeat = setInterval(() => {
      if (now() - this.lastHeard > timeout) return this.close(Reason.TIMEOUT, `no message for ${timeout} ms`);
      // Nothing but HELLO goes before the host's HELLO (viewers treat anything else as a protocol error).
      if (this.state === 'streaming') this.sendMessage({ type: 'ping', id: this.pingId++ >>> 0, time: now() });
    }, pingEvery);
    this.helloTimer = setTimeout(() => {
      if (this.state === 'hello') this.close(Reason.TIMEOUT, 'no HELLO from the viewer');
    }, options.helloTimeoutMs ?? 3000);
  }

  get streaming(): boolean {
    return this.state === 'streaming';
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  /** Nothing of this viewer's is being encoded, and little is in flight (FlowController.uncongested; true before streaming and after closing: it waits on nothing). */
  get linkIdle(): boolean {
    return this.state !== 'streaming' || (!this.stepping && this.flow.uncongested(now()));
  }

  /** No input is accepted from this viewer (until its HELLO says INPUT, none is). */
  get viewOnly(): boolean {
    return !this.inputAllowed;
  }

  /** Called by the capture loop for every changed frame. Takes its own reference. */
  offer(snapshot: ScreenSnapshot, rects: readonly Rect[]): void {
    if (this.state === 'closed') return;
    this.encoder.offer(snapshot, rects);
    this.run();
  }

  /**
   * Called by the capture loop when the pointer moved or the cursor changed
   * shape. Cursor messages are tiny and go at once (latest wins), outside the
   * update flow control: a pointer that lags behind the hand feels broken.
   */
  offerCursor(cursor: CursorUpdate): void {
    if (this.state === 'closed') return;
    if (cursor.shape) {
      this.cursorShape = cursor.shape;
      this.cursorShapePending = true;
    }
    const p = this.cursorPosition;
    if (!p || p.x !== cursor.x || p.y !== cursor.y || p.visible !== cursor.visible) {
      this.cursorPosition = { x: cursor.x, y: cursor.y, visible: cursor.visible };
      this.cursorPositionPending = true;
    }
    this.sendCursor();
  }

  private sendCursor(): void {
    if (this.state !== 'streaming' || !(this.viewerCapabilities & Capability.CURSOR)) return;
    if (this.socketFull()) return; // latest wins: sent once the socket drains
    if (this.cursorShapePending && this.cursorShape) {
      const c = this.cursorShape;
      this.sendMessage({ type: 'cursorShape', width: c.width, height: c.height, hotX: c.hotX, hotY: c.hotY, pixels: c.pixels });
    }
    if (this.cursorPositionPending && this.cursorPosition) {
      const p = this.cursorPosition;
      this.sendMessage({ type: 'cursorPosition', x: Math.max(0, Math.min(0xffff, p.x)), y: Math.max(0, Math.min(0xffff, p.y)), visible: p.visible });
    }
    this.cursorShapePending = this.cursorPositionPending = false;
  }

  /**
   * Called by the host when the screen source changes state (and for a viewer
   * that joins while it is not live). Sent as SCREEN_STATE to viewers that
   * announced the SCREEN_STATE capability, outside flow control (tiny, rare;
   * the latest wins while the socket is full).
   */
  offerScreenState(state: ScreenStateEvent): void {
    if (this.state === 'closed' || (this.screenState?.state ?? 'live') === state.state) return;
    this.screenState = state;
    this.screenStatePending = true;
    this.sendScreenState();
  }

  private sendScreenState(): void {
    if (this.state !== 'streaming' || !this.screenStatePending || !this.screenState) return;
    if (!(this.viewerCapabilities & Capability.SCREEN_STATE)) return;
    if (this.socketFull()) return;
    this.screenStatePending = false;
    this.sendMessage({ type: 'screenState', state: this.screenState.state, reason: truncateUtf8(this.screenState.reason, Limits.MAX_SCREEN_STATE_REASON_BYTES) });
  }

  /** Whether this viewer gets the PC's sound and it was audible (louder than AUDIBLE_PEAK) in the last AUDIBLE_HOLD_MS. */
  private soundAudible(at: number): boolean {
    return this.soundOn && at < this.audibleUntil;
  }

  /** Whether this viewer gets the PC's sound (granted in the host's HELLO). */
  get soundOn(): boolean {
    return this.state === 'streaming' && this.soundGranted;
  }

  /**
   * One frame of the PC's sound (its AUDIO message, encoded once for every
   * viewer). It goes ahead of pixels: written at once unless the socket is
   * over its buffer limit, outside the update flow control (so throttled
   * pixels do not hold it), and its bytes count in the delivery rate. A frame
   * that waited past the jitter budget is dropped (AudioOutbox).
   */
  offerAudio(frame: QueuedAudio): void {
    if (!this.soundOn) return;
    const at = now();
    if (frame.audible !== false) this.audibleUntil = at + AUDIBLE_HOLD_MS;
    this.audioOutbox.push(frame, at);
    this.flushAudio();
    // Probe the link with a PING (the PONG tells the outbox the link is not stalled; see AudioOutbox).
    if (this.audioOutbox.probeDue(at) && !this.socketFull()) {
      const id = this.pingId++ >>> 0;
      this.sendMessage({ type: 'ping', id, time: at });
      this.audioOutbox.probeSent(id, at);
    }
  }

  private flushAudio(): void {
    if (!this.soundOn || this.audioOutbox.pending === 0) return;
    for (const f of this.audioOutbox.take(now(), !this.socketFull())) this.flow.onSideBytes(this.sendBytes(f.bytes));
  }

  /** The next update resends the whole screen with a fresh deflate stream. */
  requestKeyframe(): void {
    this.encoder.requestKeyframe();
    this.run();
  }

  /** The socket holds more unsent bytes than the buffer limit: queue nothing more, poll until it drains. */
  private socketFull(): boolean {
    return this.socketOver(() => this.flow.bufferLimit());
  }

  /** Pixels wait while the socket is full, and with sound on already at AUDIO_PIXEL_WATERMARK (audio goes first). */
  private pixelsHeld(): boolean {
    return this.socketOver(() => (this.soundOn ? Math.min(this.flow.bufferLimit(), AUDIO_PIXEL_WATERMARK) : this.flow.bufferLimit()));
  }

  /**
   * Whether the socket holds more than `limit()` unsent bytes; if so, polls
   * (the limit taken afresh each time) until it holds no more, then resumes sending.
   */
  private socketOver(limit: () => number): boolean {
    if (this.ws.bufferedAmount <= limit()) return false;
    if (!this.drainTimer) {
      if (this.flow.bufferFull(this.ws.bufferedAmount)) this.sendBlocked++;
      this.drainTimer = setInterval(() => {
        if (this.state === 'closed' || this.ws.bufferedAmount <= limit()) {
          clearInterval(this.drainTimer!);
          this.drainTimer = null;
          this.flushAudio();
          this.sendScreenState();
          this.sendCursor();
          this.run();
        }
      }, DRAIN_POLL_MS);
    }
    return true;
  }

  stats(): ViewerStats {
    return {
      id: this.id,
      user: this.user,
      remoteAddress: this.remoteAddress,
      connectedAt: this.connectedAt,
      streaming: this.streaming,
      viewOnly: this.viewOnly,
      inputDropped: this.inputDropped,
      updatesSent: this.encoder.updatesSent,
      bytesSent: this.bytesSent,
      bufferedBytes: this.ws.bufferedAmount,
      sendBlocked: this.sendBlocked,
      keyframes: this.encoder.keyframes,
      refreshRequests: this.encoder.refreshRequests,
      lossyUpdates: this.encoder.lossyUpdates,
      copyUpdates: this.encoder.copyUpdates,
      cacheRefs: this.encoder.cacheRefs,
      cacheResumed: this.cacheResumed,
      flow: this.flow.stats(),
      audio: this.soundGranted || this.microphoneGranted ? { ...this.audioOutbox.stats(), microphoneFrames: this.microphoneFrames, audible: this.soundAudible(now()) } : null,
      quality: this.encoder.quality(),
      memoryBytes: this.encoder.memoryBytes,
    };
  }

  /** Cuts the connection without a closing handshake (tests: a network cut). */
  terminate(): void {
    this.ws.terminate();
  }

  close(reason: ReasonCode, message: string, asError = false): void {
    if (this.state === 'closed') return;
    this.sendMessage({ type: asError ? 'error' : 'bye', reason, message: message.slice(0, 200) });
    this.ws.close(asError ? 1008 : 1000, message.slice(0, 100));
    // A peer that does not finish the closing handshake is cut off.
    setTimeout(() => this.ws.terminate(), 2000).unref();
    this.onClosed(asError ? 1008 : 1000, message);
  }

  private onClosed(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearInterval(this.heartbeat);
    clearTimeout(this.helloTimer);
    if (this.resumeTimer) clearTimeout(this.resumeTimer);
    if (this.timer) clearTimeout(this.timer);
    if (this.drainTimer) clearInterval(this.drainTimer);
    this.audioOutbox.clear();
    const ticket = this.ticket, parking = this.options.cacheParking;
    // The mirror waits for this viewer to come back (parked once no encode runs).
    this.encoder.close(ticket && parking ? (parked) => parking.park(ticket, parked) : undefined);
    this.emit('close', { code, reason });
  }

  private sendMessage(msg: Message): number {
    return this.sendBytes(encodeMessage(msg));
  }

  private sendBytes(bytes: Uint8Array): number {
    if (this.ws.readyState !== this.ws.OPEN) return 0;
    this.ws.send(bytes);
    this.bytesSent += bytes.length;
    return bytes.length;
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.state === 'closed') return;
    this.lastHeard = now();
    let msg: Message;
    try {
      if (!isBinary) throw new TilecastError(ErrorCodes.PROTOCOL, 'text frames are not part of the protocol');
      msg = decodeMessage(data);
    } catch (err) {
      const e = err as TilecastError;
      return this.close(e.code === ErrorCodes.TOO_LARGE ? Reason.TOO_LARGE : Reason.PROTOCOL_ERROR, e.message, true);
    }
    if (this.state === 'hello' && msg.type !== 'hello') return this.close(Reason.PROTOCOL_ERROR, `expected HELLO, got ${msg.type}`, true);
    if ((this.resume === 'awaited') !== (msg.type === 'cacheResume')) {
      return this.close(Reason.PROTOCOL_ERROR, this.resume === 'awaited' ? `expected CACHE_RESUME after a HELLO with RESUMING, got ${msg.type}` : 'CACHE_RESUME only right after a HELLO with RESUMING', true);
    }
    switch (msg.type) {
      case 'cacheResume':
        return this.onCacheResume(msg.ticket, msg.nextId);
      case 'hello':
        if (this.state !== 'hello') return this.close(Reason.PROTOCOL_ERROR, 'second HELLO', true);
        try {
          negotiateVersion(msg);
        } catch (err) {
          return this.close(Reason.UNSUPPORTED_VERSION, (err as Error).message, true);
        }
        clearTimeout(this.helloTimer);
        this.emit('hello', { capabilities: msg.capabilities });
        if (this.closed) return;
        this.state = 'streaming';
        this.viewerCapabilities = msg.capabilities;
        this.inputAllowed = !this.options.viewOnly && (msg.capabilities & Capability.INPUT) !== 0;
        // Audio only when this host offers it and the viewer asked; the microphone like input, never for a view-only viewer.
        this.soundGranted = (this.options.audioOffer?.sound ?? false) && (msg.capabilities & Capability.AUDIO) !== 0;
        this.microphoneGranted = (this.options.audioOffer?.microphone ?? false) && !this.options.viewOnly && (msg.capabilities & Capability.MICROPHONE) !== 0;
        this.encoder.start(msg.capabilities);
        // A cache to resume on reconnect: only with a cache agreed and somewhere to park it.
        const resumable = this.encoder.cacheBytes > 0 && this.options.cacheParking !== undefined && (msg.capabilities & Capability.CACHE_RESUME) !== 0;
        if (msg.capabilities & Capability.RESUMING) {
          this.resume = 'awaited';
          this.resumeTimer = setTimeout(() => {
            if (this.resume === 'awaited') this.close(Reason.TIMEOUT, 'no CACHE_RESUME after a HELLO with RESUMING', true);
          }, this.options.helloTimeoutMs ?? 3000);
        }
        this.sendMessage({
          type: 'hello',
          minVersion: MIN_PROTOCOL_VERSION,
          maxVersion: PROTOCOL_VERSION,
          // INPUT: this viewer's input is accepted (left out for a view-only viewer, which then sends none).
          capabilities: Capability.COPY_RECT | Capability.CURSOR | Capability.JPEG | Capability.SCREEN_STATE | Capability.QUALITY_LIMIT | (this.inputAllowed ? Capability.INPUT : 0)
            | (this.soundGranted ? Capability.AUDIO : 0) | (this.microphoneGranted ? Capability.MICROPHONE : 0)
            | this.encoder.cacheCapability // CACHE and its size, if the viewer offered one
            | (msg.capabilities & (Capability.COMPACT_UPDATE | Capability.PREDICTED)) // compact updates, predicted ops to viewers that asked
            | (this.encoder.cacheBytes > 0 ? msg.capabilities & Capability.CACHE_RUN : 0)
            | (resumable ? Capability.CACHE_RESUME : 0),
          software: 'tilecast-host',
        });
        this.resumable = resumable;
        this.emit('streaming', { sound: this.soundGranted, microphone: this.microphoneGranted });
        if (this.closed) return;
        this.cursorShapePending = this.cursorPositionPending = true; // what the cursor looks like now
        this.sendCursor();
        this.screenStatePending = this.screenState !== null && this.screenState.state !== 'live'; // joined while not live
        this.sendScreenState();
        this.run();
        return;
      case 'ack': {
        const at = now();
        const sentAt = this.flow.onAck(msg.frameId, at, msg.displayedAt - msg.receivedAt);
        if (sentAt === null) return; // not credited: no update of ours, or impossible timing
        const info = this.sent.get(msg.frameId);
        // Forget this update and every older one (ids grow in send order; a wrap restarts at 1).
        for (const id of this.sent.keys()) {
          if (id <= msg.frameId || id > this.lastFrameId) this.sent.delete(id);
          else break;
        }
        if (info?.changes) {
          const sample: AckSample = { frameId: msg.frameId, captureTime: info.captureTime, oldestChangeTime: info.oldestChangeTime, sentAt, ackedAt: at, receivedAt: msg.receivedAt, displayedAt: msg.displayedAt, bytes: info.bytes };
          this.emit('ack', sample);
        }
        this.run();
        return;
      }
      case 'refreshRequest':
        // Rate-limited and merged by the encoder (at most one keyframe per minRefreshIntervalMs from these).
        this.encoder.requestRefresh();
        return this.run();
      case 'qualityLimit':
        // "Data saver": the ladder stays at this level or above (lower busy-region rate and JPEG quality; text stays exact).
        this.encoder.ladder.setFloor(msg.minLevel);
        return this.run();
      case 'ping':
        // A PONG is for the viewer's RTT display: one that does not read its socket gets none.
        if (!this.socketFull()) this.sendMessage({ type: 'pong', id: msg.id, time: msg.time });
        return;
      case 'pong':
        this.audioOutbox.pong(msg.id);
        return;
      case 'pointer':
      case 'key':
        if (this.inputAllowed) return void this.emit('input', msg);
        // View-only: dropped and counted; a viewer that keeps sending after the host's HELLO said no is cut off.
        if (++this.inputDropped > (this.options.viewOnlyInputLimit ?? DEFAULT_VIEW_ONLY_INPUT_LIMIT)) {
          return this.close(Reason.PROTOCOL_ERROR, `input from a view-only viewer (${this.inputDropped} messages)`, true);
        }
        return;
      case 'audio':
        if (this.microphoneGranted) {
          this.microphoneFrames++;
          return void this.emit('microphone', msg);
        }
        // Not granted: dropped and counted, then cut off, as input from a view-only viewer.
        if (++this.microphoneDropped > (this.options.viewOnlyInputLimit ?? DEFAULT_VIEW_ONLY_INPUT_LIMIT)) {
          return this.close(Reason.PROTOCOL_ERROR, `AUDIO from a viewer this host accepts no microphone from (${this.microphoneDropped} messages)`, true);
        }
        return;
      case 'bye':
      case 'error':
        this.ws.close(1000);
        return this.onClosed(1000, `viewer said ${msg.type}: ${msg.message}`);
      default:
        return this.close(Reason.PROTOCOL_ERROR, `${msg.type} is not sent by viewers`, true);
    }
  }

  /**
   * The viewer showed its previous connection's ticket: claim that mirror
   * (ending the old connection if the host still holds it open) and resume
   * it for the viewer's cache; CACHE_KEEP goes out before the first update.
   * Nothing is encoded meanwhile. Any failure just means no resume.
   */
  private onCacheResume(ticket: Uint8Array, nextId: number): void {
    if (this.resumeTimer) clearTimeout(this.resumeTimer);
    this.resume = 'claiming';
    const parking = this.options.cacheParking;
    const claim = parking && this.encoder.cacheBytes > 0 ? parking.claim(ticket) : Promise.resolve(null);
    void claim.then((parked) => {
      if (this.state !== 'streaming') return; // gone meanwhile: the claimed mirror is dropped (its memory freed by the GC)
      const keep = parked ? this.encoder.resumeCache(parked, nextId) : null;
      if (keep) {
        this.sendMessage(keep);
        this.cacheResumed = keep.ranges.reduce((n, v, i) => (i % 2 ? n + v : n), 0);
      }
    }).catch((err) => {
      this.emit('error', err instanceof Error ? err : new Error(String(err)));
    }).finally(() => {
      // Whatever happened, the session streams on (without a resumed cache if it failed).
      this.resume = 'none';
      this.run();
    });
  }

  /** A new ticket for this connection's cache as it is now; the previous one is void. */
  private issueTicket(): void {
    const parking = this.options.cacheParking!;
    if (this.ticket) parking.revoke(this.ticket);
    this.ticket = parking.issue({ replacedByResume: () => this.close(Reason.NORMAL, 'the viewer resumed on a new connection') });
    this.sendMessage({ type: 'cacheTicket', ticket: this.ticket });
  }

  /**
   * Runs the encoder until it has nothing to send now; schedules the next run
   * when it asks for one. Re-entrant calls (an ack while encoding) run again after.
   */
  private run(): void {
    if (this.state !== 'streaming' || this.resume !== 'none') return;
    if (this.stepping) {
      this.again = true;
      return;
    }
    this.stepping = true;
    void this.runSteps().finally(() => {
      this.stepping = false;
      if (this.state === 'streaming' && this.flow.uncongested(now())) this.emit('linkIdle');
    });
  }

  private async runSteps(): Promise<void> {
    for (;;) {
      this.again = false;
      let nextAt: number | null;
      try {
        const at = now();
        this.flow.setInflightCap(this.soundAudible(at) ? SOUND_INFLIGHT_MAX_BYTES : null);
        // socketFull() first: it starts the drain poll that brings us back when the socket is full.
        const canSend = !this.pixelsHeld() && this.flow.canSend(0, this.soundOn ? AUDIO_QUEUE_MS : undefined, at);
        const step = await this.encoder.step({ canSend, deliveryRateBps: this.flow.rateBps(at), idle: this.flow.uncongested(at), soundOn: this.soundOn, stalled: this.flow.stalled(at) });
        if (this.state !== 'streaming') return;
        // The send time is taken before the bytes go: the viewer may have them (and start its hold
        // time) before this thread runs again, and a late send time would make honest acks look impossible.
        const sentAt = now();
        for (const bytes of step.messages) this.sendBytes(bytes);
        // A ticket names one run of the cache (from the keyframe that last emptied or resumed it): a new one
        // after every keyframe, in stream order, so a viewer that missed the keyframe never holds it.
        if (step.update?.keyframe && this.resumable) this.issueTicket();
        if (step.update) {
          const u = step.update;
          this.lastFrameId = u.frameId;
          this.sent.set(u.frameId, { captureTime: u.captureTime, oldestChangeTime: u.oldestChangeTime, bytes: u.bytes, changes: u.changes });
          this.flow.onSend(u.frameId, u.bytes, sentAt);
        }
        nextAt = step.nextAt;
        // Held by a stalled link: come back for the next probe (acks may be what is lost).
        const probeAt = canSend ? null : this.flow.nextProbeAt(at, this.soundOn ? AUDIO_QUEUE_MS : undefined);
        if (probeAt !== null && probeAt > at) this.runAt(probeAt - performance.timeOrigin);
      } catch (err) {
        this.emit('error', err instanceof Error ? err : new Error(String(err))); // the encoder starts over with a keyframe; retry shortly, not in a tight loop
        // Not after a resume's keyframe: the viewer keeps its cache for that keyframe, and a retry
        // (which empties the mirror) would leave the two disagreeing. It starts over on a new connection.
        if (this.encoder.resumedKeyframeLost) return this.close(Reason.INTERNAL, 'the first update after resuming the cache failed', true);
        nextAt = performance.now() + 100;
      }
      if (nextAt !== null && nextAt <= performance.now()) continue;
      if (nextAt !== null) this.runAt(nextAt);
      if (!this.again || this.state !== 'streaming') return;
    }
  }

  /** Runs the encoder at `at` (performance.now() time); an earlier pending run wins. */
  private runAt(at: number): void {
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      this.run();
    }, Math.max(0, at - performance.now()));
  }
}

/** `s` cut to at most `maxBytes` of UTF-8, on a character boundary. */
function truncateUtf8(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s) <= maxBytes) return s;
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > maxBytes - 3) return `${out}…`;
    out += ch;
    bytes += n;
  }
  return out;
}
