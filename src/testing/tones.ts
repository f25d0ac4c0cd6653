/**
 * Known signals for audio tests and benchmarks: tone bursts to play, and the
 * measurements to find them again in what was received (Goertzel power at a
 * frequency, the strongest of a few candidate frequencies, onsets).
 */

/** A sine burst, s16 interleaved (same signal on every channel), with 5 ms ramps against clicks. */
export function toneBurst(freq: number, ms: number, sampleRate: number, channels: number, amplitude = 0.4): Int16Array {
  const n = Math.round((sampleRate * ms) / 1000);
  const ramp = Math.round(sampleRate * 0.005);
  const out = new Int16Array(n * channels);
  for (let i = 0; i < n; i++) {
    const env = Math.min(1, i / ramp, (n - 1 - i) / ramp);
    const v = Math.round(32767 * amplitude * env * Math.sin((2 * Math.PI * freq * i) / sampleRate));
    for (let c = 0; c < channels; c++) out[i * channels + c] = v;
  }
  return out;
}

/** Silence of `ms`, s16 interleaved. */
export function silence(ms: number, sampleRate: number, channels: number): Int16Array {
  return new Int16Array(Math.round((sampleRate * ms) / 1000) * channels);
}

/** First channel of s16 interleaved PCM, as floats in [-1, 1). */
export function firstChannel(pcm: Int16Array, channels: number): Float32Array {
  const out = new Float32Array(Math.floor(pcm.length / channels));
  for (let i = 0; i < out.length; i++) out[i] = pcm[i * channels]! / 32768;
  return out;
}

/** Root mean square of a signal. */
export function rms(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return x.length ? Math.sqrt(s / x.length) : 0;
}

/** Amplitude of the `freq` component of `x` (Goertzel; a full-scale sine of that frequency gives ~1). */
export function toneAmplitude(x: Float32Array, sampleRate: number, freq: number): number {
  const w = (2 * Math.PI * freq) / sampleRate;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < x.length; i++) {
    const s0 = x[i]! + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return x.length ? (2 * Math.sqrt(Math.max(0, power))) / x.length : 0;
}

/** The candidate frequency with the strongest component, and how strong. */
export function strongestTone(x: Float32Array, sampleRate: number, candidates: readonly number[]): { freq: number; amplitude: number } {
  let best = { freq: candidates[0]!, amplitude: -1 };
  for (const f of candidates) {
    const a = toneAmplitude(x, sampleRate, f);
    if (a > best.amplitude) best = { freq: f, amplitude: a };
  }
  return best;
}

/** Frequency by zero crossings (rising), Hz: a check independent of the candidates. */
export function zeroCrossingFrequency(x: Float32Array, sampleRate: number): number {
  let n = 0;
  for (let i = 1; i < x.length; i++) if (x[i - 1]! < 0 && x[i]! >= 0) n++;
  return x.length ? (n * sampleRate) / x.length : 0;
}

export interface TimedFrame {
  captureTime: number;
  pcm: Int16Array;
  channels: number;
  sampleRate: number;
}

export interface ToneOnset {
  freq: number;
  /** Capture time of the first frame of the burst. */
  at: number;
  /** Frames the burst lasted. */
  frames: number;
}

/**
 * Tone bursts in a sequence of frames: runs of frames whose strongest
 * candidate frequency is above `threshold` amplitude, with that frequency.
 */
export function findTones(frames: readonly TimedFrame[], candidates: readonly number[], threshold = 0.05): ToneOnset[] {
  const out: ToneOnset[] = [];
  let current: ToneOnset | null = null;
  for (const f of frames) {
    const tone = strongestTone(firstChannel(f.pcm, f.channels), f.sampleRate, candidates);
    if (tone.amplitude >= threshold) {
      if (current && current.freq === tone.freq) current.frames++;
      else {
        current = { freq: tone.freq, at: f.captureTime, frames: 1 };
        out.push(current);
      }
    } else current = null;
  }
  return out;
}
