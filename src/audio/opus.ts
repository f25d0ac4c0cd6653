/**
 * Opus encode/decode for Node, on libopus 1.4 compiled to WebAssembly (the
 * `opusscript` package: installs without downloads or a compiler, runs the
 * same on Linux and Windows hosts). Loaded on first use; when it cannot load,
 * opusUnavailableReason() says why and audio stays off with that reason.
 *
 * Both classes work on s16 interleaved PCM and one 20 ms frame per call.
 * Not thread-bound: the host runs its encoder in the capture worker.
 */
import { ErrorCodes, TilecastError, checkInt } from '../errors';
import { AUDIO_SAMPLE_RATES } from '../protocol/constants';

/** Every tilecast audio frame is 20 ms (Opus's sweet spot: FEC works, 50 packets/s). */
export const OPUS_FRAME_MS = 20;

/** libopus request ids (opus_defines.h), for the CTLs opusscript does not name. */
const Ctl = {
  SET_BITRATE: 4002,
  SET_COMPLEXITY: 4010,
  SET_INBAND_FEC: 4012,
  SET_PACKET_LOSS_PERC: 4014,
  SET_DTX: 4016,
} as const;
const Application = { VOIP: 2048, AUDIO: 2049 } as const;

interface OpusScriptInstance {
  encode(pcm: Buffer, frameSize: number): Buffer;
  decode(packet: Buffer): Buffer;
  encoderCTL(ctl: number, arg: number): void;
  delete(): void;
}
type OpusScriptCtor = new (rate: number, channels: number, application: number) => OpusScriptInstance;

let loaded: { ctor: OpusScriptCtor } | { reason: string } | undefined;

function load(): { ctor: OpusScriptCtor } | { reason: string } {
  if (!loaded) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      loaded = { ctor: require('opusscript') as OpusScriptCtor };
    } catch (err) {
      loaded = { reason: `the opusscript package (libopus as WebAssembly) did not load: ${(err as Error).message}` };
    }
  }
  return loaded;
}

/** Null when Opus is usable; else why not (audio is then off, with this reason). */
export function opusUnavailableReason(): string | null {
  const l = load();
  return 'reason' in l ? l.reason : null;
}

/** Where opusscript lives, for a worker thread to load the same copy. */
export function opusModulePath(): string {
  return require.resolve('opusscript');
}

function ctor(): OpusScriptCtor {
  const l = load();
  if ('reason' in l) throw new TilecastError(ErrorCodes.UNAVAILABLE, l.reason);
  return l.ctor;
}

function checkRate(sampleRate: unknown): number {
  if (typeof sampleRate !== 'number' || !AUDIO_SAMPLE_RATES.includes(sampleRate)) {
    throw new TilecastError(ErrorCodes.INVALID_ARG, `sampleRate must be one of ${AUDIO_SAMPLE_RATES.join(', ')}, got ${String(sampleRate)}`);
  }
  return sampleRate;
}

/** Samples per channel in one 20 ms frame at `sampleRate`. */
export function frameSamples(sampleRate: number): number {
  return (sampleRate * OPUS_FRAME_MS) / 1000;
}

export interface OpusEncoderOptions {
  sampleRate: number;
  channels: number;
  /** Target bit rate, bit/s (6000..128000). */
  bitrate: number;
  /** Tune for speech (VOIP: the microphone) rather than any sound (AUDIO: what the PC plays). */
  voice?: boolean;
  /** Expected loss, % (sizes the in-band FEC; default 5). */
  packetLossPercent?: number;
}

/** 20 ms frames in, Opus packets out; in-band FEC and DTX on. */
export class OpusEncoder {
  readonly sampleRate: number;
  readonly channels: number;
  readonly frameSamples: number;
  private enc: OpusScriptInstance | null;

  constructor(options: OpusEncoderOptions) {
    this.sampleRate = checkRate(options.sampleRate);
    this.channels = checkInt('channels', options.channels, 1, 2);
    const bitrate = checkInt('bitrate', options.bitrate, 6000, 128_000);
    this.frameSamples = frameSamples(this.sampleRate);
    this.enc = new (ctor())(this.sampleRate, this.channels, options.voice ? Application.VOIP : Application.AUDIO);
    this.enc.encoderCTL(Ctl.SET_BITRATE, bitrate);
    this.enc.encoderCTL(Ctl.SET_INBAND_FEC, 1);
    this.enc.encoderCTL(Ctl.SET_PACKET_LOSS_PERC, checkInt('packetLossPercent', options.packetLossPercent ?? 5, 0, 100));
    this.enc.encoderCTL(Ctl.SET_DTX, 1);
    this.enc.encoderCTL(Ctl.SET_COMPLEXITY, 5); // 10 costs about twice the CPU for a difference nobody hears on a call
  }

  /** One frame of s16 interleaved PCM (frameSamples × channels values) → one Opus packet (a copy). */
  encode(pcm: Int16Array): Uint8Array {
    if (!this.enc) throw new TilecastError(ErrorCodes.INVALID_ARG, 'encoder is closed');
    if (!(pcm instanceof Int16Array) || pcm.length !== this.frameSamples * this.channels) {
      throw new TilecastError(ErrorCodes.INVALID_ARG, `pcm must be an Int16Array of ${this.frameSamples * this.channels} samples`);
    }
    return new Uint8Array(this.enc.encode(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength), this.frameSamples));
  }

  close(): void {
    this.enc?.delete();
    this.enc = null;
  }
}

/**
 * Opus packets (of any rate or channel count: Opus decodes to what the decoder
 * is set to) → s16 interleaved PCM at this decoder's rate and channels.
 * conceal() fills a lost frame with libopus's packet-loss concealment.
 */
export class OpusDecoder {
  readonly frameSamples: number;
  private dec: OpusScriptInstance | null;

  constructor(
    readonly sampleRate: number,
    readonly channels: number,
  ) {
    checkRate(sampleRate);
    checkInt('channels', channels, 1, 2);
    this.frameSamples = frameSamples(sampleRate);
    this.dec = new (ctor())(sampleRate, channels, Application.AUDIO);
  }

  /** Decodes one packet; a packet libopus rejects throws ERR_CORRUPT_STREAM naming libopus's reason. */
  decode(packet: Uint8Array): Int16Array {
    if (!this.dec) throw new TilecastError(ErrorCodes.INVALID_ARG, 'decoder is closed');
    if (packet.length === 0) throw new TilecastError(ErrorCodes.CORRUPT_STREAM, 'empty Opus packet');
    let out: Buffer;
    try {
      out = this.dec.decode(Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength));
    } catch (err) {
      throw new TilecastError(ErrorCodes.CORRUPT_STREAM, `Opus packet did not decode (${(err as Error).message})`);
    }
    return toInt16(out);
  }

  /** One frame of concealment for a lost packet (libopus PLC: extrapolates the last sound, then fades). */
  conceal(): Int16Array {
    if (!this.dec) throw new TilecastError(ErrorCodes.INVALID_ARG, 'decoder is closed');
    // An empty packet asks libopus for PLC; opusscript asks for its largest frame (60 ms): keep the first 20.
    const out = toInt16(this.dec.decode(Buffer.alloc(0)));
    return out.slice(0, this.frameSamples * this.channels);
  }

  close(): void {
    this.dec?.delete();
    this.dec = null;
  }
}

function toInt16(b: Buffer): Int16Array {
  const out = new Int16Array(b.length >> 1);
  new Uint8Array(out.buffer).set(b.subarray(0, out.length * 2));
  return out;
}
