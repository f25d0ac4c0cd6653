/**
 * PulseAudio (and PipeWire's pipewire-pulse) from Node: the command-line
 * clients Debian ships in pulseaudio-utils (pactl, parec, pacat), run as the
 * logged-in user's processes so they reach that user's session sound server.
 * `server` (PULSE_SERVER) points them at another one (tests start their own).
 */
import { execFile } from 'node:child_process';
import { ErrorCodes, TilecastError } from '../errors';

export interface PulseTarget {
  /** PULSE_SERVER for the clients (e.g. unix:/run/user/1000/pulse/native); default: the session's. */
  server?: string;
}

/** The environment for a Pulse client process. */
export function pulseEnv(target: PulseTarget = {}): NodeJS.ProcessEnv {
  return target.server ? { ...process.env, PULSE_SERVER: target.server } : process.env;
}

/** Runs pactl; resolves with its standard output, rejects with ERR_UNAVAILABLE and pactl's own words. */
export function pactl(args: string[], target: PulseTarget = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('pactl', args, { env: pulseEnv(target), timeout: 10_000 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'pactl is not installed (Debian: pulseaudio-utils)' : (stderr.trim() || err.message);
      reject(new TilecastError(ErrorCodes.UNAVAILABLE, `pactl ${args.join(' ')}: ${why}`));
    });
  });
}

/** The monitor source of the default sink: what the PC plays. */
export async function defaultSinkMonitor(target: PulseTarget = {}): Promise<string> {
  const sink = (await pactl(['get-default-sink'], target)).trim();
  if (!sink) throw new TilecastError(ErrorCodes.UNAVAILABLE, 'the sound server has no default output (sink)');
  return `${sink}.monitor`;
}

/** Loads a module; resolves with its index (for unloadModule). */
export async function loadModule(name: string, args: string[], target: PulseTarget = {}): Promise<number> {
  const out = (await pactl(['load-module', name, ...args], target)).trim();
  const index = Number(out);
  if (!Number.isInteger(index) || index < 0) throw new TilecastError(ErrorCodes.UNAVAILABLE, `pactl load-module ${name}: unexpected answer ${JSON.stringify(out)}`);
  return index;
}

export async function unloadModule(index: number, target: PulseTarget = {}): Promise<void> {
  await pactl(['unload-module', String(index)], target);
}
