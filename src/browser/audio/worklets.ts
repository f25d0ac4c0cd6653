/**
 * The audio thread's side of the browser viewer: two AudioWorkletProcessors,
 * bundled on their own into dist/browser/tilecast-audio-worklet.js and loaded
 * with audioWorklet.addModule().
 *
 * 'tilecast-playout': the adaptive jitter buffer (src/audio/jitterBuffer.ts,
 * timed playout, the same policy bench/audio.js measures) on the audio clock. Decoded frames
 * (interleaved Float32, 20 ms at the context's 48 kHz) come in on its port;
 * every 20 ms of output it pulls the next one (or silence for a lost frame or
 * an underrun) and applies the volume; the main thread tells it when the
 * pixel stream loads the link (src/audio/pixelLoad.ts). It reports its counters and, for each
 * played frame, the frame's captureTime and the context time its first
 * sample played (mouth-to-ear latency).
 *
 * 'tilecast-capture': the microphone's PCM cut into 20 ms mono frames for the
 * main thread's AudioEncoder.
 */
import { JitterBuffer } from '../../audio/jitterBuffer';

declare const sampleRate: number;
declare const currentTime: number;
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
}
declare function registerProcessor(name: string, ctor: unknown): void;

interface PlayoutFrame {
  pcm: Float32Array;
  channels: number;
  captureTime: number;
}

const STATS_EVERY_S = 0.25;

class PlayoutProcessor extends AudioWorkletProcessor {
  private jb = new JitterBuffer<PlayoutFrame>();
  private current: PlayoutFrame | null = null;
  private offset = 0; // sample frames of `current` already played
  private frameSamples = Math.round(sampleRate * 0.02);
  private gain = 1;
  private lastStats = 0;
  private played: Array<[number, number]> = []; // [captureTime, context time of its first sample]
  private silent = 0; // silent sample frames left in the current 20 ms slot

  constructor() {
    super();
    this.port.onmessage = (ev: MessageEvent) => {
      const m = ev.data;
      // Timed playout: arrival on the audio clock, capture on the host's (the buffer allows for the offset).
      if (m.type === 'frame') this.jb.push(m.seq, { pcm: m.pcm, channels: m.channels, captureTime: m.captureTime }, { captureTime: m.captureTime, arrivedAt: currentTime * 1000 });
      else if (m.type === 'reset') this.jb.reset();
      else if (m.type === 'gain') this.gain = m.value;
      else if (m.type === 'pixelLoad') this.jb.setPixelLoad(m.loaded === true);
    };
  }

  process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    const out = outputs[0]!;
    const n = out[0]!.length;
    for (let i = 0; i < n; i++) {
      if (!this.current && this.silent === 0) this.next(currentTime + i / sampleRate);
      if (this.current) {
        const f = this.current;
        for (let c = 0; c < out.length; c++) out[c]![i] = this.gain * f.pcm[this.offset * f.channels + Math.min(c, f.channels - 1)]!;
        if (++this.offset >= f.pcm.length / f.channels) this.current = null;
      } else {
        for (let c = 0; c < out.length; c++) out[c]![i] = 0;
        this.silent--;
      }
    }
    if (currentTime - this.lastStats >= STATS_EVERY_S) {
      this.lastStats = currentTime;
      this.port.postMessage({ type: 'stats', stats: this.jb.stats(), played: this.played.splice(0) });
    }
    return true;
  }

  private next(at: number): void {
    const p = this.jb.pull(at * 1000);
    if (p.kind === 'frame') {
      this.current = p.frame;
      this.offset = 0;
      this.played.push([p.frame.captureTime, at]);
      if (this.played.length > 500) this.played.shift();
    } else this.silent = this.frameSamples; // lost, underrun, hold or waiting: 20 ms of silence
  }
}

class CaptureProcessor extends AudioWorkletProcessor {
  private readonly frameSamples = Math.round(sampleRate * 0.02);
  private frame = new Float32Array(this.frameSamples);
  private fill = 0;

  process(inputs: Float32Array[][]): boolean {
    const input = inputs[0]?.[0];
    if (!input) return true;
    for (let i = 0; i < input.length; i++) {
      this.frame[this.fill++] = input[i]!;
      if (this.fill === this.frameSamples) {
        // The context time of the frame's first sample: the main thread maps it to its clock.
        this.port.postMessage({ type: 'pcm', pcm: this.frame, endTime: currentTime + (i + 1) / sampleRate }, [this.frame.buffer]);
        this.frame = new Float32Array(this.frameSamples); // the old one was transferred (detached)
        this.fill = 0;
      }
    }
    return true;
  }
}

registerProcessor('tilecast-playout', PlayoutProcessor);
registerProcessor('tilecast-capture', CaptureProcessor);
