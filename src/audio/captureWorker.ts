/**
 * The sound capture thread: records what the PC plays (Linux: `parec` on a
 * Pulse source, the default sink's monitor; Windows: WASAPI loopback of the
 * default output, native/audio/), cuts the PCM into 20 ms frames and
 * Opus-encodes them here, so neither the PCM nor the encoder's CPU touches the
 * host's JS thread. Posts one message per frame; SoundCapture (soundCapture.ts)
 * owns this thread.
 *
 * Messages to the parent: { type: 'started', pid (parec's; null for WASAPI),
 * device } | { type: 'device', device } (WASAPI followed a new default output)
 * | { type: 'frame', seq, captureTime, payload, peak } | { type: 'stats', frames,
 * encodeMs } | { type: 'exit', reason }. From the parent: 'stop'.
 */
import { spawn } from 'node:child_process';
import { parentPort, workerData } from 'node:worker_threads';
import { OpusEncoder } from './opus';
import { PcmFramer } from './pcmFramer';
import { pulseEnv } from './pulse';
import { recordWasapi } from './wasapi';

export interface CaptureWorkerData {
  backend: 'pulse' | 'wasapi';
  /** Pulse source; WASAPI endpoint id or name ('' = the default output). */
  device: string;
  server?: string;
  sampleRate: number;
  channels: number;
  bitrate: number;
}

const data = workerData as CaptureWorkerData;
const port = parentPort!;
const encoder = new OpusEncoder({ sampleRate: data.sampleRate, channels: data.channels, bitrate: data.bitrate });
const framer = new PcmFramer(data.sampleRate, data.channels, encoder.frameSamples);
const now = () => performance.timeOrigin + performance.now();

let seq = 0;
let frames = 0;
let encodeMs = 0;
let exited = false;

function pcm(chunk: Uint8Array, capturedAt: number): void {
  for (const f of framer.push(chunk, capturedAt)) {
    const t = performance.now();
    const payload = encoder.encode(f.pcm);
    encodeMs += performance.now() - t;
    frames++;
    port.postMessage({ type: 'frame', seq, captureTime: f.captureTime, payload, peak: peakOf(f.pcm) }, [payload.buffer as ArrayBuffer]);
    seq = (seq + 1) >>> 0;
  }
}
/** The largest sample magnitude of a frame (0..32768): how loud it is, for "is the PC's sound audible". */
function peakOf(pcm: Int16Array): number {
  let peak = 0;
  for (let i = 0; i < pcm.length; i++) {
    const v = Math.abs(pcm[i]!);
    if (v > peak) peak = v;
  }
  return peak;
}

const statsTimer = setInterval(() => port.postMessage({ type: 'stats', frames, encodeMs }), 1000);

function finish(reason: string): void {
  if (exited) return;
  exited = true;
  clearInterval(statsTimer);
  encoder.close();
  port.postMessage({ type: 'exit', reason });
  port.close();
}

/** Starts the platform's recorder; returns how to stop it. */
function record(): () => void {
  if (data.backend === 'wasapi') {
    let recording;
    try {
      recording = recordWasapi(data.device, data.channels, { pcm, device: (device) => port.postMessage({ type: 'device', device }), end: finish });
    } catch (err) {
      finish((err as Error).message);
      return () => {};
    }
    port.postMessage({ type: 'started', pid: null, device: recording.device });
    return () => {
      recording.stop();
      finish('stopped');
    };
  }
  // 10 ms fragments: frames leave at most ~10 ms after their last sample was played.
  const proc = spawn('parec', [`--device=${data.device}`, '--raw', '--format=s16le', `--rate=${data.sampleRate}`, `--channels=${data.channels}`,
    '--latency-msec=10', '--client-name=tilecast', '--stream-name=tilecast sound capture'], { env: pulseEnv({ server: data.server }), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.on('spawn', () => port.postMessage({ type: 'started', pid: proc.pid, device: data.device }));
  proc.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-500)));
  proc.stdout.on('data', (chunk: Buffer) => pcm(chunk, now()));
  proc.on('error', (err: NodeJS.ErrnoException) => finish(err.code === 'ENOENT' ? 'parec is not installed (Debian: pulseaudio-utils)' : `parec: ${err.message}`));
  proc.on('exit', (code, signal) => finish(signal === 'SIGTERM' ? 'stopped' : `parec ended (${code ?? signal}): ${stderr.trim() || 'no message'}`));
  return () => proc.kill('SIGTERM');
}

const stop = record();
port.on('message', (m) => {
  if (m === 'stop') stop();
});
