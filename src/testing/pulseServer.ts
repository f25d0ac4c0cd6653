/**
 * A private PulseAudio sound server for tests and benchmarks: its own runtime
 * directory and socket, one null sink ("speakers": a real sink whose monitor
 * records what is played into it, in real time), nothing shared with the
 * machine's session. Plus play(): a known signal played by that server.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pactl } from '../audio/pulse';

export interface PulseServer {
  /** PULSE_SERVER value for clients (unix:<dir>/native). */
  server: string;
  dir: string;
  sink: string;
  stop(): Promise<void>;
}

/** Null when pulseaudio, pactl, parec and pacat are all installed; else what is missing. */
export function pulseUnavailableReason(): string | null {
  const missing = ['pulseaudio', 'pactl', 'parec', 'pacat'].filter((cmd) => {
    try {
      execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  return missing.length ? `not installed: ${missing.join(', ')} (Debian: pulseaudio pulseaudio-utils)` : null;
}

export async function startPulseServer(options: { sink?: string } = {}): Promise<PulseServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilecast-pulse-'));
  const sink = options.sink ?? 'speakers';
  const socket = path.join(dir, 'native');
  const server = `unix:${socket}`;
  const env = { ...process.env, XDG_RUNTIME_DIR: dir, HOME: dir, PULSE_SERVER: undefined };
  // -n: no default.pa (nothing from the machine's setup); no shm so a root test run works as any user's.
  const proc: ChildProcess = spawn('pulseaudio', ['-n', '--daemonize=no', '--exit-idle-time=-1', '--disable-shm=yes', '--use-pid-file=no', '--system=no',
    '--log-target=stderr', '-L', `module-native-protocol-unix socket=${socket} auth-anonymous=1`, '-L', `module-null-sink sink_name=${sink} rate=48000`],
  { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr!.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-2000)));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null) {
      await stop();
      throw new Error(`pulseaudio exited: ${log}`);
    }
    try {
      await pactl(['info'], { server });
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`pulseaudio did not answer in 10 s: ${(err as Error).message}\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { server, dir, sink, stop };
}

/** A RIFF WAVE file of s16 interleaved PCM. */
export function wavFile(pcm: Int16Array, sampleRate: number, channels: number): Buffer {
  const data = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * channels * 2, 28);
  h.writeUInt16LE(channels * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

let sampleId = 0;

/**
 * Plays s16 interleaved PCM into the default sink: uploaded to the server's
 * sample cache first, then played by the server itself, so a loaded machine
 * that does not schedule a client in time cannot cut holes into the known
 * signal. Resolves with the time (performance.timeOrigin-based ms) the
 * server was asked to play it, once it has been.
 */
export async function play(server: string, pcm: Int16Array, format: { sampleRate: number; channels: number }): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilecast-tone-'));
  try {
    const file = path.join(dir, 'tone.wav');
    fs.writeFileSync(file, wavFile(pcm, format.sampleRate, format.channels));
    const name = `tilecast-test-${process.pid}-${sampleId++}`;
    await pactl(['upload-sample', file, name], { server });
    const at = performance.timeOrigin + performance.now();
    await pactl(['play-sample', name], { server });
    return at;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
