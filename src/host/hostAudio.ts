/**
 * HostAudio: the host's sound and microphone, shared by its viewers. Off
 * unless HostOptions.audio turns it on.
 *
 *  - Sound: while at least one streaming viewer was granted AUDIO, one
 *    SoundCapture records what the PC plays (the default sink's monitor),
 *    Opus-encoded on its own thread; each frame is encoded as an AUDIO message
 *    once and offered to every such session (which sends it ahead of pixels).
 *    Capture stops when the last listener leaves.
 *  - Microphone: viewers granted MICROPHONE send Opus frames; they are decoded
 *    (concealing lost frames) and written to a microphone the PC's apps can
 *    pick: on Linux a VirtualMicrophone (a Pulse source made for it), on
 *    Windows a WindowsMicrophone (played into a virtual audio cable's input;
 *    without such a driver MICROPHONE is not offered). One talker at a time:
 *    frames from another viewer while one is talking (heard within
 *    MIC_HOLD_MS) are dropped.
 *
 * Audit: audioStart/audioStop per viewer that listens, microphoneStart/Stop
 * per viewer that talks (from its first frame until MIC_HOLD_MS of silence
 * or its leaving), each with the viewer's user and address.
 */
import { EventEmitter } from 'node:events';
import { checkInt } from '../errors';
import { encodeMessage, AudioMessage } from '../protocol/messages';
import { AudioReceiver } from '../audio/audioReceiver';
import { MAX_CONCEALED_GAP } from '../audio/audioSequence';
import { opusUnavailableReason } from '../audio/opus';
import type { PulseTarget } from '../audio/pulse';
import { MIC_FORMAT, VirtualMicrophone } from '../audio/pulseMicrophone';
import { WindowsMicrophone, findMicrophoneOutput } from '../audio/wasapi';
import { EncodedAudioFrame, SOUND_DEFAULTS, SoundCapture, SoundCaptureStats } from '../audio/soundCapture';
import type { SessionAudioOffer, ViewerSession } from './viewerSession';

/**
 * A frame whose largest sample is at most this (-60 dBFS) is silence for
 * "is the PC's sound audible" (SOUND_INFLIGHT_MAX_BYTES): a noise floor or
 * dither is not sound anyone listens to, though Opus codes it in full.
 */
export const AUDIBLE_PEAK = 33;

export interface HostAudioOptions extends PulseTarget {
  /** Send what the PC plays to viewers that ask (default true). */
  sound?: boolean;
  /** Accept viewers' microphones as a virtual source on the PC (default false: a separate decision). */
  microphone?: boolean;
  /**
   * What to record. Linux: a Pulse source (default: the default sink's
   * monitor). Windows: an endpoint id or part of its name, an output in
   * loopback (default: the default output, following it when it changes).
   */
  device?: string;
  /** Sound bit rate, bit/s (default SOUND_DEFAULTS.bitrate, 32 000) and channels (default 2). */
  bitrate?: number;
  channels?: number;
  /** Sound frames older than this (from capture) are dropped rather than sent late, ms (default 200). */
  jitterBudgetMs?: number;
  /** Linux: name of the microphone source apps see (default 'tilecast_microphone'). */
  microphoneSource?: string;
  /**
   * Windows: the output (id or part of its name) the viewer's voice is played
   * into: a virtual cable's input, whose other end apps pick as their
   * microphone (default: the first of VIRTUAL_CABLE_INPUTS present).
   */
  microphoneDevice?: string;
}

/**
 * Capture keeps running this long after the last listener left, ms: a viewer
 * that reconnects (a 4G handover) hears on at once instead of waiting for the
 * capture to start again.
 */
export const CAPTURE_LINGER_MS = 10_000;

/** Frames the capture delay percentiles are taken over (10 s). */
export const CAPTURE_DELAY_WINDOW = 500;

/** A talker holds the microphone until it has sent nothing for this long, ms. */
export const MIC_HOLD_MS = 1000;

/**
 * Microphone frames (received or concealed) decoded per second of a talker's
 * time, and the burst allowed after a stall (1 s): a viewer sending faster, or
 * skipping sequence numbers to make the host conceal, costs the host's thread
 * no more than real time does. Frames beyond it are dropped and counted.
 */
export const MIC_FRAMES_PER_SECOND = 50;
export const MIC_BURST_FRAMES = 50;

/** After the capture ends unexpectedly (the sound server restarted), it is tried again after this, doubling up to 30 s, ms. */
export const CAPTURE_RETRY_MS = 1000;

export interface AudioAuditEvent {
  type: 'audioStart' | 'audioStop' | 'microphoneStart' | 'microphoneStop';
  viewerId: number;
  user: string | null;
  remoteAddress: string;
  at: number;
  /** For the Stop events: how long it lasted. */
  durationMs?: number;
}

export interface HostAudioStats {
  capturing: boolean;
  /** The capture device (e.g. 'speakers.monitor'), once started. */
  device: string | null;
  framesCaptured: number;
  /** Opus encode time on the capture thread per second of sound, ms (÷10 = % of one core). */
  encodeMsPerSecond: number | null;
  /**
   * How long a frame took from its last sample being played to reaching this
   * thread (parec's buffering, framing, Opus, the thread hop), ms, p50/p95
   * over the last CAPTURE_DELAY_WINDOW frames; null before any.
   */
  captureDelayMs: { p50: number; p95: number } | null;
  microphoneSource: string | null;
  microphoneFrames: number;
  microphoneConcealed: number;
  microphoneDropped: number;
}

/** Where viewers' voice goes: VirtualMicrophone (Pulse) or WindowsMicrophone (WASAPI). */
type Microphone = Pick<VirtualMicrophone, 'sourceName' | 'start' | 'write' | 'stop' | 'failed'>;

export interface HostAudioEvents {
  audit: [AudioAuditEvent];
  error: [Error];
}

interface Talker {
  session: ViewerSession;
  since: number;
  lastAt: number;
  receiver: AudioReceiver;
  /** Frames this talker may still have decoded now (MIC_FRAMES_PER_SECOND, up to MIC_BURST_FRAMES). */
  tokens: number;
}

const wallNow = () => performance.timeOrigin + performance.now();

export class HostAudio extends EventEmitter<HostAudioEvents> {
  /** Null when audio can run; else why not (the viewers then get no AUDIO/MICROPHONE grant). */
  readonly unavailableReason: string | null;
  private readonly hearers = new Map<ViewerSession, number>(); // session -> since
  private capture: SoundCapture | null = null;
  private lingerTimer: NodeJS.Timeout | null = null;
  /** Null when viewers' microphones can be played to the PC; else why not (Windows without a virtual cable). */
  readonly microphoneUnavailableReason: string | null;
  private mic: Microphone | null = null;
  private micStarting: Promise<Microphone | null> | null = null;
  private talker: Talker | null = null;
  private talkerTimer: NodeJS.Timeout | null = null;
  private captureStats: SoundCaptureStats = { frames: 0, encodeMs: 0 };
  private device: string | null = null;
  private micFrames = 0;
  private readonly captureDelays: number[] = []; // ring of the last CAPTURE_DELAY_WINDOW
  private captureDelayNext = 0;
  private micDropped = 0;
  private micConcealed = 0;
  private closed = false;
  /** Sessions whose 'close' already ends their talking (one listener each, however often they talk). */
  private readonly talkerCloseWatched = new WeakSet<ViewerSession>();
  /** Added to the capture's own seq, so a restarted capture continues the stream with a restart-sized jump. */
  private seqBase = 0;
  private lastSeq: number | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryMs = CAPTURE_RETRY_MS;

  constructor(private readonly options: HostAudioOptions) {
    super();
    checkInt('jitterBudgetMs', options.jitterBudgetMs ?? 200, 20, 5000);
    checkInt('bitrate', options.bitrate ?? SOUND_DEFAULTS.bitrate, 6000, 128_000);
    checkInt('channels', options.channels ?? 2, 1, 2);
    this.unavailableReason = opusUnavailableReason();
    // Windows needs a virtual cable driver for a microphone; say so once, at start, instead of granting it in vain.
    this.microphoneUnavailableReason = process.platform === 'win32' && options.microphone ? findMicrophoneOutput(options.microphoneDevice).reason : null;
  }

  /** What sessions may grant (undefined: nothing, audio unavailable). */
  get offer(): SessionAudioOffer | undefined {
    if (this.unavailableReason) return undefined;
    const microphone = (this.options.microphone ?? false) && !this.microphoneUnavailableReason;
    return { sound: this.options.sound ?? true, microphone, jitterBudgetMs: this.options.jitterBudgetMs };
  }

  /** A session started streaming with sound granted: it listens until it closes. */
  addHearer(session: ViewerSession): void {
    if (this.closed || this.hearers.has(session)) return;
    this.hearers.set(session, wallNow());
    this.audit('audioStart', session);
    session.once('close', () => this.removeHearer(session));
    this.startCapture();
  }

  private removeHearer(session: ViewerSession): void {
    const since = this.hearers.get(session);
    if (since === undefined) return;
    this.hearers.delete(session);
    this.audit('audioStop', session, wallNow() - since);
    if (this.hearers.size === 0 && !this.lingerTimer) this.lingerTimer = setTimeout(() => this.stopCapture(), CAPTURE_LINGER_MS);
  }

  private startCapture(): void {
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = null;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.capture || this.closed) return;
    // A new capture counts from 0: viewers must see the jump of a new stream, not "late" frames.
    if (this.lastSeq !== null) this.seqBase = (this.lastSeq + MAX_CONCEALED_GAP + 2) >>> 0;
    const capture = new SoundCapture({ server: this.options.server, device: this.options.device, bitrate: this.options.bitrate, channels: this.options.channels });
    this.capture = capture;
    capture.on('frame', (f) => this.broadcast(f));
    capture.on('stats', (s) => (this.captureStats = s));
    capture.on('end', ({ reason }) => {
      if (this.capture === capture) this.capture = null;
      if (reason === 'stopped') return;
      this.emit('error', new Error(`sound capture ended: ${reason}`));
      // Listeners are still there: try again, less and less often.
      if (this.hearers.size > 0 && !this.closed && !this.retryTimer) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          if (this.hearers.size > 0) this.startCapture(); // the last listener may have left meanwhile
        }, this.retryMs);
        this.retryMs = Math.min(30_000, this.retryMs * 2);
      }
    });
    capture.start().then(() => (this.device = capture.device), () => {}); // failures arrive as 'end'
  }

  private stopCapture(): void {
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = null;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.capture?.stop();
    this.capture = null;
  }

  private broadcast(f: EncodedAudioFrame): void {
    const durationMs = 20; // one Opus frame (SoundCapture frames are 20 ms)
    this.captureDelays[this.captureDelayNext] = wallNow() - (f.captureTime + durationMs);
    this.captureDelayNext = (this.captureDelayNext + 1) % CAPTURE_DELAY_WINDOW;
    this.retryMs = CAPTURE_RETRY_MS;
    const seq = (f.seq + this.seqBase) >>> 0;
    this.lastSeq = seq;
    const bytes = encodeMessage({ type: 'audio', codec: 'opus', sampleRate: f.sampleRate, channels: f.channels, seq, captureTime: f.captureTime, payload: f.payload });
    const audible = f.peak > AUDIBLE_PEAK;
    for (const s of this.hearers.keys()) s.offerAudio({ seq, captureTime: f.captureTime, bytes, audible });
  }

  /**
   * A microphone frame from a session granted MICROPHONE. Decoding failures
   * close that session (DECODE_FAILED: it sends Opus that is not Opus).
   */
  microphone(session: ViewerSession, msg: AudioMessage): void {
    if (this.closed) return;
    const at = wallNow();
    if (this.talker && this.talker.session !== session) {
      if (at - this.talker.lastAt < MIC_HOLD_MS && !this.talker.session.closed) {
        this.micDropped++;
        return;
      }
      this.endTalker();
    }
    if (!this.talker) {
      this.talker = { session, since: at, lastAt: at, receiver: new AudioReceiver({ sampleRate: MIC_FORMAT.sampleRate, channels: MIC_FORMAT.channels }), tokens: MIC_BURST_FRAMES };
      this.audit('microphoneStart', session);
      if (!this.talkerCloseWatched.has(session)) {
        this.talkerCloseWatched.add(session);
        session.once('close', () => {
          if (this.talker?.session === session) this.endTalker();
        });
      }
    }
    const talker = this.talker;
    talker.tokens = Math.min(MIC_BURST_FRAMES, talker.tokens + ((at - talker.lastAt) * MIC_FRAMES_PER_SECOND) / 1000);
    talker.lastAt = at;
    this.armTalkerTimer();
    if (talker.tokens < 1) {
      this.micDropped++;
      return;
    }
    let frames;
    try {
      frames = talker.receiver.receive(msg, talker.tokens - 1);
      talker.tokens -= frames.length;
    } catch (err) {
      this.endTalker();
      return session.close(5 /* Reason.DECODE_FAILED */, `microphone: ${(err as Error).message}`, true);
    }
    this.micFrames++;
    if (frames.length > 1) this.micConcealed += frames.length - 1; // frames made up for lost ones (the last is the received one)
    const mic = this.mic;
    if (mic?.failed) {
      // The feed died (pacat exited, the cable's output stream ended): say so once and make a new one on the next frame.
      this.emit('error', new Error(`microphone: ${mic.failed}`));
      this.mic = null;
      this.micStarting = null;
      void mic.stop();
    } else if (mic) for (const f of frames) mic.write(f.pcm);
    else void this.startMicrophone();
  }

  private startMicrophone(): Promise<Microphone | null> {
    this.micStarting ??= (async () => {
      const mic: Microphone = process.platform === 'win32'
        ? new WindowsMicrophone({ device: this.options.microphoneDevice })
        : new VirtualMicrophone({ server: this.options.server, sourceName: this.options.microphoneSource });
      try {
        await mic.start();
      } catch (err) {
        this.emit('error', err as Error);
        return null;
      }
      if (this.closed) {
        await mic.stop();
        return null;
      }
      this.mic = mic;
      return mic;
    })();
    return this.micStarting;
  }

  /** Creates the virtual microphone source now (it is otherwise made on the first frame). Resolves with its name. */
  async prepareMicrophone(): Promise<string | null> {
    return (await this.startMicrophone())?.sourceName ?? null;
  }

  private armTalkerTimer(): void {
    if (this.talkerTimer) return;
    this.talkerTimer = setInterval(() => {
      if (this.talker && wallNow() - this.talker.lastAt >= MIC_HOLD_MS) this.endTalker();
    }, MIC_HOLD_MS / 2);
  }

  private endTalker(): void {
    const t = this.talker;
    if (this.talkerTimer) clearInterval(this.talkerTimer);
    this.talkerTimer = null;
    if (!t) return;
    this.talker = null;
    t.receiver.close();
    this.audit('microphoneStop', t.session, t.lastAt - t.since + 20);
  }

  private audit(type: AudioAuditEvent['type'], s: ViewerSession, durationMs?: number): void {
    this.emit('audit', { type, viewerId: s.id, user: s.user, remoteAddress: s.remoteAddress, at: Date.now(), ...(durationMs === undefined ? {} : { durationMs: Math.round(durationMs) }) });
  }

  stats(): HostAudioStats {
    const seconds = (this.captureStats.frames * 20) / 1000;
    return {
      capturing: this.capture !== null,
      device: this.device,
      framesCaptured: this.captureStats.frames,
      encodeMsPerSecond: seconds > 0 ? this.captureStats.encodeMs / seconds : null,
      captureDelayMs: this.captureDelayPercentiles(),
      microphoneSource: this.mic?.sourceName ?? null,
      microphoneFrames: this.micFrames,
      microphoneConcealed: this.micConcealed,
      microphoneDropped: this.micDropped,
    };
  }

  private captureDelayPercentiles(): { p50: number; p95: number } | null {
    if (!this.captureDelays.length) return null;
    const s = [...this.captureDelays].sort((a, b) => a - b);
    const at = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
    return { p50: at(0.5), p95: at(0.95) };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of [...this.hearers.keys()]) this.removeHearer(s);
    this.stopCapture();
    this.endTalker();
    const mic = this.mic ?? (this.micStarting ? await this.micStarting : null);
    this.mic = null;
    await mic?.stop();
  }
}
