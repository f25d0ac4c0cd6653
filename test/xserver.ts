// A real X server for tests: Xvfb on a free display, the server's own image of
// the screen (xwd), and X clients (xterm, xdotool, xrandr, xev).
//
// The tools come from Debian's xvfb, tigervnc-standalone-server, x11-apps, xterm, xdotool, x11-xserver-utils
// and x11-utils (.ci/run installs them). Missing tools fail the tests under
// CI=true and skip them elsewhere, with the list of what is missing.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';

const TOOLS = ['Xvfb', 'Xvnc', 'xwd', 'xterm', 'xdotool', 'xrandr', 'xev'];

export function missingXTools(): string[] {
  const path = (process.env.PATH ?? '').split(':');
  return TOOLS.filter((tool) => !path.some((dir) => fs.existsSync(`${dir}/${tool}`)));
}

/** tap's `skip` option for X tests: false when every tool is there; throws under CI. */
export function skipWithoutX(): false | string {
  const missing = missingXTools();
  if (missing.length === 0) return false;
  const why = `X test tools missing: ${missing.join(', ')} (Debian: xvfb tigervnc-standalone-server x11-apps xterm xdotool x11-xserver-utils x11-utils)`;
  if (process.env.CI) throw new Error(why);
  return why;
}

export interface Xvfb {
  display: string;
  env: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

/** Starts Xvfb on a free display; resolves once it accepts connections. */
export function startXvfb(width: number, height: number): Promise<Xvfb> {
  return startServer('Xvfb', ['-screen', '0', `${width}x${height}x24`]);
}

/**
 * Starts TigerVNC's Xvnc as a plain X server (no VNC port). Only for the resize
 * test: Xvfb's RandR cannot change the screen size, Xvnc's can (`xrandr --fb`).
 */
export function startResizableX(width: number, height: number): Promise<Xvfb> {
  return startServer('Xvnc', ['-geometry', `${width}x${height}`, '-depth', '24', '-SecurityTypes', 'None', '-rfbport', '-1']);
}

function startServer(cmd: string, args: string[]): Promise<Xvfb> {
  return new Promise((resolve, reject) => {
    // -displayfd: the server picks a free display and writes its number when ready.
    const proc = spawn(cmd, ['-displayfd', '3', ...args, '-nolisten', 'tcp', '-noreset'], {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    proc.stderr!.on('data', (d) => (stderr += d));
    let out = '';
    const fd3 = proc.stdio[3] as NodeJS.ReadableStream;
    fd3.on('data', async (d: Buffer) => {
      out += d.toString();
      if (!out.includes('\n')) return;
      // The display number can arrive before the socket accepts connections.
      for (let i = 0; i < 100 && !fs.existsSync(`/tmp/.X11-unix/X${out.trim()}`); i++) await new Promise((r) => setTimeout(r, 50));
      const display = `:${out.trim()}`;
      const env = { ...process.env, DISPLAY: display };
      resolve({
        display,
        env,
        close: () => new Promise<void>((done) => {
          if (proc.exitCode !== null) return done();
          proc.once('exit', () => done());
          proc.kill('SIGTERM');
        }),
      });
    });
    proc.once('error', reject);
    proc.once('exit', (code) => reject(new Error(`${cmd} exited (${code}): ${stderr.slice(-500)}`)));
  });
}

/** Runs an X client in the background; killed by the returned function. */
export function startClient(xvfb: Xvfb, cmd: string, args: string[]): { proc: ChildProcess; stop(): void } {
  const proc = spawn(cmd, args, { env: xvfb.env, stdio: ['ignore', 'pipe', 'pipe'] });
  return { proc, stop: () => void proc.kill('SIGKILL') };
}

export function x(xvfb: Xvfb, cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { env: xvfb.env, encoding: 'utf8', timeout: 20_000 });
}

/**
 * The X server's own image of the root window (xwd), as packed BGRA with alpha
 * 255: what a viewer's framebuffer must equal.
 */
export function serverImage(xvfb: Xvfb): { width: number; height: number; data: Buffer } {
  const xwd = execFileSync('xwd', ['-root', '-silent'], { env: xvfb.env, maxBuffer: 256 << 20, timeout: 20_000 });
  const field = (i: number) => xwd.readUInt32BE(i * 4);
  const headerSize = field(0), width = field(4), height = field(5), byteOrder = field(7), bpp = field(11), bytesPerLine = field(12), ncolors = field(19);
  // With Wine connected to the server, xwd writes packed 24 bpp rows (3 bytes a pixel).
  if ((bpp !== 32 && bpp !== 24) || byteOrder !== 0) throw new Error(`unexpected xwd format: ${bpp} bpp, byte order ${byteOrder}`);
  const start = headerSize + ncolors * 12;
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    if (bpp === 24) {
      for (let x = 0, src = start + y * bytesPerLine, dst = y * width * 4; x < width; x++, src += 3, dst += 4) {
        xwd.copy(data, dst, src, src + 3);
        data[dst + 3] = 255;
      }
      continue;
    }
    xwd.copy(data, y * width * 4, start + y * bytesPerLine, start + y * bytesPerLine + width * 4);
    for (let i = y * width * 4 + 3; i < (y + 1) * width * 4; i += 4) data[i] = 255;
  }
  return { width, height, data };
}
