/**
 * SoundCapture: what the PC plays, as Opus frames. Runs captureWorker.ts on a
 * worker thread (the recorder + framing + Opus there: parec on Linux, WASAPI
 * loopback on Windows) and re-emits its frames on the JS thread: 'frame'
 * (EncodedAudioFrame), 'stats', and 'end' once with the reason (stop(), or
 * the recorder failing: no sound server, unknown device).
 */
import { EventEmitter } from 'node:events';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ErrorCodes, TilecastError, checkInt } from '../errors';
import type { CaptureWorkerData } from './captureWorker';
import { defaultSinkMonitor, PulseTarget } from './pulse';

export interface EncodedAudioFrame {
  seq: number;
  captureTime: number;
  sampleRate: number;
  channels: number;
  payload: Uint8Array;
  /** The frame's largest sample magnitude, 0..32768 (before encoding). */
  peak: number;
}

export interface SoundCaptureOptions extends PulseTarget {
  /**
   * What to record. Linux: a Pulse source (default: the default sink's
   * monitor). Windows: an endpoint id or (part of) its name; an output is
   * recorded in loopback, an input as it is (default: the default output, in
   * loopback, following it when it changes).
   */
  device?: string;
  /** 'pulse' (default off Windows) or 'wasapi' (default on Windows). */
  backend?: 'pulse' | 'wasapi';
  /** Stereo by default. */
  channels?: number;
  /** Opus bit rate, bit/s (default 32 000: clear speech and music; with framing, under 40 kbit/s on the wire). */
  bitrate?: number;
}

export interface SoundCaptureStats {
  frames: number;
  /** Encode time spent on the capture thread, ms in total. */
  encodeMs: number;
}

export interface SoundCaptureEvents {
  frame: [EncodedAudioFrame];
  stats: [SoundCaptureStats];
  end: [{ reason: string }];
}

export const SOUND_DEFAULTS = { sampleRate: 48_000, channels: 2, bitrate: 32_000 } as const;

export class SoundCapture extends EventEmitter<SoundCaptureEvents> {
  private worker: Worker | null = null;
  private pid: number | null = null;
  private ended = false;
  device = '';
  stats: SoundCaptureStats = { frames: 0, encodeMs: 0 };

  constructor(private readonly options: SoundCaptureOptions = {}) {
    super();
    checkInt('channels', options.channels ?? SOUND_DEFAULTS.channels, 1, 2);
    checkInt('bitrate', options.bitrate ?? SOUND_DEFAULTS.bitrate, 6000, 128_000);
  }

  /** Starts recording; resolves once the recorder runs, rejects when it cannot (with its reason). */
  async start(): Promise<void> {
    const backend = this.options.backend ?? (process.platform === 'win32' ? 'wasapi' : 'pulse');
    this.device = this.options.device ?? (backend === 'pulse' ? await defaultSinkMonitor(this.options) : '');
    // stop() while the sink was being looked up: start nothing.
    if (this.ended) throw new TilecastError(ErrorCodes.UNAVAILABLE, 'sound capture was stopped while starting');
    const workerData: CaptureWorkerData = {
      backend, device: this.device, server: this.options.server, sampleRate: SOUND_DEFAULTS.sampleRate,
      channels: this.options.channels ?? SOUND_DEFAULTS.channels, bitrate: this.options.bitrate ?? SOUND_DEFAULTS.bitrate,
    };
    // The same extension as this file: .js from dist, .ts under the test runner's loader (workers inherit it).
    const worker = new Worker(path.join(__dirname, `captureWorker${path.extname(__filename)}`), { workerData });
    this.worker = worker;
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (m: { type: string } & Record<string, unknown>) => {
        switch (m.type) {
          case 'started':
            this.pid = m.pid as number | null;
            this.device = m.device as string;
            if (this.ended) { // stop() came before parec was running: the backstop may already have run
              this.killParec();
              void worker.terminate();
              return reject(new TilecastError(ErrorCodes.UNAVAILABLE, 'sound capture was stopped while starting'));
            }
            return resolve();
          case 'device': // WASAPI moved to a new default output
            this.device = m.device as string;
            return;
          case 'frame':
            return void this.emit('frame', {
              seq: m.seq as number, captureTime: m.captureTime as number, sampleRate: workerData.sampleRate, channels: workerData.channels, payload: m.payload as Uint8Array, peak: m.peak as number,
            });
          case 'stats':
            this.stats = { frames: m.frames as number, encodeMs: m.encodeMs as number };
            return void this.emit('stats', this.stats);
          case 'exit':
            this.pid = null; // parec is gone: nothing for the backstop to kill
            reject(new Error(m.reason as string));
            return this.end(m.reason as string);
        }
      });
      worker.on('error', (err) => {
        reject(err);
        this.end(`capture thread failed: ${err.message}`);
      });
      // The thread ended before parec ran (stop()'s backstop terminated it while it was loading).
      worker.on('exit', (code) => {
        const reason = this.ended ? 'sound capture was stopped while starting' : `capture thread exited (${code})`;
        reject(new TilecastError(ErrorCodes.UNAVAILABLE, reason));
        this.end(reason);
      });
    });
  }

  stop(): void {
    if (this.ended) return;
    this.worker?.postMessage('stop');
    // Backstop: the thread normally ends parec itself; never leave it recording.
    setTimeout(() => {
      this.killParec();
      void this.worker?.terminate();
    }, 1000).unref();
    this.end('stopped');
  }

  private killParec(): void {
    if (this.pid !== null) try { process.kill(this.pid, 'SIGKILL'); } catch { /* already gone */ }
  }

  private end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.emit('end', { reason });
  }
}
