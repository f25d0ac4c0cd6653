/**
 * VirtualMicrophone: the viewer's microphone as a Pulse source that apps on
 * the PC (a web meeting, a softphone) pick like any microphone. A null sink
 * takes the decoded voice from `pacat`; a remap source over its monitor is
 * the microphone apps see ("tilecast microphone"). Both modules are unloaded
 * on stop(), so nothing is left on the PC's sound server.
 *
 * PCM is written as it comes (mono s16 at 48 kHz): Pulse's own buffer
 * (latency-msec) absorbs the network's jitter; a lost frame was already
 * concealed by the AudioReceiver.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { ErrorCodes, TilecastError } from '../errors';
import { PulseTarget, loadModule, pulseEnv, unloadModule } from './pulse';

export interface VirtualMicrophoneOptions extends PulseTarget {
  /** Source name apps see (default 'tilecast_microphone'); its description is 'tilecast microphone'. */
  sourceName?: string;
}

export const MIC_FORMAT = { sampleRate: 48_000, channels: 1 } as const;

export class VirtualMicrophone {
  readonly sourceName: string;
  private readonly sinkName: string;
  private modules: number[] = [];
  private pacat: ChildProcess | null = null;
  private failure: string | null = null;
  bytesWritten = 0;

  constructor(private readonly options: VirtualMicrophoneOptions = {}) {
    this.sourceName = options.sourceName ?? 'tilecast_microphone';
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(this.sourceName)) throw new TilecastError(ErrorCodes.INVALID_ARG, `sourceName must be 1..64 of A-Z a-z 0-9 _ . -, got ${JSON.stringify(this.sourceName)}`);
    this.sinkName = `${this.sourceName}_feed`;
  }

  /** Creates the source and starts the feed; rejects with ERR_UNAVAILABLE when the sound server says no. */
  async start(): Promise<void> {
    const rate = `rate=${MIC_FORMAT.sampleRate}`;
    const channels = `channels=${MIC_FORMAT.channels}`;
    try {
      this.modules.push(await loadModule('module-null-sink', [`sink_name=${this.sinkName}`, rate, channels, 'sink_properties=device.description=tilecast-microphone-feed'], this.options));
      this.modules.push(await loadModule('module-remap-source', [`master=${this.sinkName}.monitor`, `source_name=${this.sourceName}`, rate, channels,
        'source_properties=device.description=tilecast-microphone'], this.options));
    } catch (err) {
      await this.stop();
      throw err;
    }
    const pacat = spawn('pacat', ['--playback', `--device=${this.sinkName}`, '--raw', '--format=s16le', `--rate=${MIC_FORMAT.sampleRate}`,
      `--channels=${MIC_FORMAT.channels}`, '--latency-msec=60', '--client-name=tilecast', '--stream-name=tilecast microphone'], { env: pulseEnv(this.options), stdio: ['pipe', 'ignore', 'pipe'] });
    this.pacat = pacat;
    let stderr = '';
    pacat.stderr!.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-300)));
    pacat.stdin!.on('error', () => {}); // EPIPE when pacat died: 'exit' reports it
    await new Promise<void>((resolve, reject) => {
      pacat.once('spawn', resolve);
      pacat.once('error', (err: NodeJS.ErrnoException) => reject(new TilecastError(ErrorCodes.UNAVAILABLE, err.code === 'ENOENT' ? 'pacat is not installed (Debian: pulseaudio-utils)' : `pacat: ${err.message}`)));
    }).catch(async (err) => {
      await this.stop();
      throw err;
    });
    pacat.on('exit', (code, signal) => {
      if (this.pacat === pacat && signal !== 'SIGTERM') this.failure = `pacat ended (${code ?? signal}): ${stderr.trim() || 'no message'}`;
    });
  }

  /** Why the feed stopped on its own (null while it runs). */
  get failed(): string | null {
    return this.failure;
  }

  /** One frame of mono s16 PCM at 48 kHz. */
  write(pcm: Int16Array): void {
    const stdin = this.pacat?.stdin;
    if (!stdin || this.failure || !stdin.writable) return;
    // Pulse drains 48 kB/s: more than ~1 s queued means the sound server stalled; drop rather than grow.
    if (stdin.writableLength > 96_000) return;
    stdin.write(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
    this.bytesWritten += pcm.byteLength;
  }

  async stop(): Promise<void> {
    const pacat = this.pacat;
    this.pacat = null;
    if (pacat && pacat.exitCode === null) {
      pacat.kill('SIGTERM');
      await new Promise((r) => pacat.once('exit', r));
    }
    for (const index of this.modules.splice(0).reverse()) await unloadModule(index, this.options).catch(() => {});
  }
}
