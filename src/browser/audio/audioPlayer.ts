/**
 * AudioPlayer: the host's sound in the browser. WebCodecs AudioDecoder (Opus)
 * on the main thread, then the 'tilecast-playout' worklet (the adaptive
 * jitter buffer) on the audio thread. The AudioContext runs at 48 kHz (Opus's
 * rate; the browser resamples for the device) and may only start on a user
 * gesture: unlock() is called from the first tap or key.
 */
import type { AudioMessage } from '../../protocol/messages';
import { AudioSequence } from '../../audio/audioSequence';
import type { JitterStats } from '../../audio/jitterBuffer';
import { PixelLoadMeter } from '../../audio/pixelLoad';

export interface PlayerStats extends JitterStats {
  /** Context state: 'suspended' until the first tap (autoplay rules), then 'running'. */
  state: AudioContextState | 'unsupported';
  framesReceived: number;
  /** The pixel stream loads the link (src/audio/pixelLoad.ts): the jitter buffer keeps more delay. */
  pixelLoaded: boolean;
  /** Mouth-to-ear latency of recently played frames (host capture → played here), ms; needs synchronised clocks. */
  recentLatencyMs: number[];
}

/** Whether this browser can play the host's sound (WebCodecs Opus and AudioWorklet). */
export function audioPlaybackSupported(): boolean {
  return typeof AudioDecoder !== 'undefined' && typeof AudioContext !== 'undefined' && typeof AudioWorkletNode !== 'undefined';
}

export class AudioPlayer {
  readonly context: AudioContext;
  private node: AudioWorkletNode | null = null;
  /** The worklets are loaded (the microphone uses the same context and module). */
  readonly ready: Promise<void>;
  private decoder: AudioDecoder | null = null;
  private decoderConfig = '';
  private readonly sequence = new AudioSequence();
  private readonly pending = new Map<number, { seq: number; captureTime: number }>(); // by chunk timestamp
  private jitter: JitterStats = { played: 0, lost: 0, underruns: 0, late: 0, skipped: 0, targetFrames: 0, bufferedFrames: 0 };
  private latency: number[] = [];
  private framesReceived = 0;
  private volume = 1;
  private muted = false;
  private readonly pixelLoad = new PixelLoadMeter();
  private pixelLoaded = false;

  constructor(workletUrl: string) {
    this.context = new AudioContext({ sampleRate: 48_000, latencyHint: 'interactive' });
    this.ready = this.context.audioWorklet.addModule(workletUrl).then(() => {
      const node = new AudioWorkletNode(this.context, 'tilecast-playout', { numberOfInputs: 0, outputChannelCount: [2] });
      node.port.onmessage = (ev) => this.onStats(ev.data);
      node.connect(this.context.destination);
      this.node = node;
      this.applyGain();
      if (this.pixelLoaded) node.port.postMessage({ type: 'pixelLoad', loaded: true });
    });
  }

  /** Starts the context (must run inside a user gesture the first time). */
  async unlock(): Promise<void> {
    await this.ready;
    if (this.context.state !== 'running') await this.context.resume();
  }

  setVolume(v: number): void {
    this.volume = Math.max(0, Math.min(1, v));
    this.applyGain();
  }

  setMuted(m: boolean): void {
    this.muted = m;
    this.applyGain();
  }

  get isMuted(): boolean {
    return this.muted;
  }

  private applyGain(): void {
    this.node?.port.postMessage({ type: 'gain', value: this.muted ? 0 : this.volume });
  }

  /** A new connection: a new stream. */
  reset(): void {
    this.sequence.reset();
    this.node?.port.postMessage({ type: 'reset' });
  }

  /** Bytes of anything but sound that just arrived: the jitter buffer allows for pixel load (src/audio/pixelLoad.ts). */
  notePixelBytes(bytes: number): void {
    this.pixelLoad.add(bytes, performance.now());
  }

  receive(msg: AudioMessage): void {
    this.framesReceived++;
    // Checked once a frame: a load that ends is seen without any pixel arriving.
    this.pixelLoad.heard(performance.now());
    const loaded = this.pixelLoad.loaded(performance.now());
    if (loaded !== this.pixelLoaded) {
      this.pixelLoaded = loaded;
      this.node?.port.postMessage({ type: 'pixelLoad', loaded });
    }
    const place = this.sequence.place(msg.seq);
    if (!place) return; // late or duplicate
    if (place.restart) this.node?.port.postMessage({ type: 'reset' });
    const config = `${msg.sampleRate}/${msg.channels}`;
    if (!this.decoder || this.decoderConfig !== config || this.decoder.state === 'closed') {
      if (this.decoder && this.decoder.state !== 'closed') this.decoder.close();
      this.decoder = new AudioDecoder({ output: (data) => this.onDecoded(data), error: () => (this.decoder = null) });
      this.decoder.configure({ codec: 'opus', sampleRate: msg.sampleRate, numberOfChannels: msg.channels });
      this.decoderConfig = config;
    }
    const timestamp = msg.seq * 20_000; // µs: maps the output back to its frame
    this.pending.set(timestamp, { seq: msg.seq, captureTime: msg.captureTime });
    if (this.pending.size > 100) this.pending.delete(this.pending.keys().next().value!);
    this.decoder.decode(new EncodedAudioChunk({ type: 'key', timestamp, data: msg.payload }));
  }

  private onDecoded(data: AudioData): void {
    const info = this.pending.get(data.timestamp);
    this.pending.delete(data.timestamp);
    const channels = data.numberOfChannels;
    const n = data.numberOfFrames;
    const pcm = new Float32Array(n * channels);
    const plane = new Float32Array(n);
    for (let c = 0; c < channels; c++) {
      data.copyTo(plane, { planeIndex: c, format: 'f32-planar' });
      for (let i = 0; i < n; i++) pcm[i * channels + c] = plane[i]!;
    }
    data.close();
    // Only while the context runs: a suspended one (no tap yet, the OS took the device) has a stopped
    // clock, and frames stamped with it would skew the jitter buffer's transit window for 10 s.
    if (info && this.context.state === 'running') this.node?.port.postMessage({ type: 'frame', seq: info.seq, captureTime: info.captureTime, channels, pcm }, [pcm.buffer]);
  }

  private onStats(m: { type: string; stats: JitterStats; played: Array<[number, number]> }): void {
    if (m.type !== 'stats') return;
    this.jitter = m.stats;
    // Context time → page clock: getOutputTimestamp pairs them; outputLatency is the way to the speaker.
    const ts = this.context.getOutputTimestamp();
    if (ts.contextTime === undefined || ts.performanceTime === undefined) return;
    const base = performance.timeOrigin + ts.performanceTime - ts.contextTime * 1000;
    const out = (this.context.outputLatency || 0) * 1000;
    for (const [captureTime, at] of m.played) this.latency.push(base + at * 1000 + out - captureTime);
    if (this.latency.length > 1000) this.latency.splice(0, this.latency.length - 1000);
  }

  stats(): PlayerStats {
    return { ...this.jitter, state: this.context.state, framesReceived: this.framesReceived, pixelLoaded: this.pixelLoaded, recentLatencyMs: [...this.latency] };
  }

  close(): void {
    if (this.decoder && this.decoder.state !== 'closed') this.decoder.close();
    void this.context.close();
  }
}
