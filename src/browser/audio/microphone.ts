/**
 * Microphone: the viewer's voice to the host. getUserMedia with echo
 * cancellation and noise suppression on, 20 ms mono frames from the
 * 'tilecast-capture' worklet, WebCodecs AudioEncoder (Opus 24 kbit/s, FEC and
 * DTX), each packet handed to `send` as an AUDIO message's fields.
 */
import type { AudioMessage } from '../../protocol/messages';

export const MIC_BITRATE = 24_000;

export function microphoneSupported(): boolean {
  return typeof AudioEncoder !== 'undefined' && !!navigator.mediaDevices?.getUserMedia && typeof AudioWorkletNode !== 'undefined';
}

export class Microphone {
  private stream: MediaStream | null = null;
  private source: MediaStreamAudioSourceNode | null = null;
  private node: AudioWorkletNode | null = null;
  private encoder: AudioEncoder | null = null;
  private seq = 0;
  private readonly captureTimes = new Map<number, number>();
  framesSent = 0;
  framesCaptured = 0;
  /** Why the encoder stopped, if it failed. */
  lastError: string | null = null;

  constructor(
    private readonly context: AudioContext,
    private readonly workletReady: Promise<void>,
    private readonly send: (frame: Omit<AudioMessage, 'type' | 'codec'>) => void,
  ) {}

  get active(): boolean {
    return this.stream !== null;
  }

  /** Asks for the microphone (the browser may prompt) and starts sending; rejects when refused. */
  async start(): Promise<void> {
    if (this.stream) return;
    const stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 } });
    await this.workletReady;
    this.stream = stream;
    const encoder = new AudioEncoder({
      output: (chunk) => {
        const payload = new Uint8Array(chunk.byteLength);
        chunk.copyTo(payload);
        const captureTime = this.captureTimes.get(chunk.timestamp) ?? performance.timeOrigin + performance.now();
        this.captureTimes.delete(chunk.timestamp);
        this.send({ sampleRate: 48_000, channels: 1, seq: this.seq, captureTime, payload });
        this.seq = (this.seq + 1) >>> 0;
        this.framesSent++;
      },
      error: (err) => {
        this.lastError = err.message;
        this.stop();
      },
    });
    encoder.configure({ codec: 'opus', sampleRate: 48_000, numberOfChannels: 1, bitrate: MIC_BITRATE, opus: { frameDuration: 20_000, useinbandfec: true, usedtx: true } } as AudioEncoderConfig);
    this.encoder = encoder;
    this.source = this.context.createMediaStreamSource(stream);
    this.node = new AudioWorkletNode(this.context, 'tilecast-capture', { numberOfInputs: 1, numberOfOutputs: 0, channelCount: 1, channelCountMode: 'explicit' });
    let timestamp = 0;
    this.node.port.onmessage = (ev) => {
      this.framesCaptured++;
      if (!this.encoder || this.encoder.state !== 'configured') return;
      const pcm = ev.data.pcm as Float32Array<ArrayBuffer>;
      // Context time of the frame's end → page clock, less its 20 ms: when its first sample was captured.
      const ts = this.context.getOutputTimestamp();
      const base = ts.contextTime !== undefined && ts.performanceTime !== undefined ? performance.timeOrigin + ts.performanceTime - ts.contextTime * 1000 : performance.timeOrigin + performance.now() - this.context.currentTime * 1000;
      this.captureTimes.set(timestamp, base + ev.data.endTime * 1000 - 20);
      if (this.captureTimes.size > 50) this.captureTimes.delete(this.captureTimes.keys().next().value!);
      this.encoder.encode(new AudioData({ format: 'f32', sampleRate: 48_000, numberOfFrames: pcm.length, numberOfChannels: 1, timestamp, data: pcm }));
      timestamp += 20_000;
    };
    this.source.connect(this.node);
  }

  stop(): void {
    this.source?.disconnect();
    this.node?.disconnect();
    for (const t of this.stream?.getTracks() ?? []) t.stop();
    if (this.encoder && this.encoder.state !== 'closed') this.encoder.close();
    this.stream = this.source = this.node = this.encoder = null;
  }
}
