// Windows under Wine for the tests: an Xvfb display, and on it Windows Node 22,
// the cross-built addon and the Windows test program (testapp.cc), as set up by
// scripts/win/wine-env.js (shared with bench/windows.js).
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Xvfb, startResizableX, startXvfb } from '../xserver';

interface WineEnvModule {
  missingWineTools(): string[];
  winPath(p: string): string;
  windowsNode(): string;
  buildWindowsBinaries(): { addon: string; testapp: string };
  wineEnv(display: string): NodeJS.ProcessEnv;
  windowsNodeCommand(nodeExe: string, args: string[]): [string, string[]];
  stopWine(env: NodeJS.ProcessEnv): void;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const wineEnvModule = require('../../scripts/win/wine-env.js') as WineEnvModule;
export const winPath = wineEnvModule.winPath;

/** tap's `skip` for Wine tests: false when Wine, mingw-w64 and Xvfb are there; throws under CI. */
export function skipWithoutWine(): false | string {
  const missing = wineEnvModule.missingWineTools();
  if (missing.length === 0) return false;
  const why = `Windows-under-Wine tests need ${missing.join(', ')} (Debian: wine wine64 g++-mingw-w64-x86-64-posix xvfb x11-apps)`;
  if (process.env.CI) throw new Error(why);
  return why;
}

export interface TestApp {
  dir: string;
  /** Moves the window (screen coordinates); resolves once the app has done it. */
  move(x: number, y: number): Promise<void>;
  /** Lines the app logged: "key VK SCAN EXT", "down BUTTON X Y", "wheel AXIS DELTA X Y". */
  events(): string[];
  /** The edit control's text (edit mode). */
  text(): string;
  stop(): void;
}

export interface Wine {
  xs: Xvfb;
  env: NodeJS.ProcessEnv;
  nodeExe: string;
  /** Runs test/windows/agent.js in Windows Node; resolves with its exit code and output. */
  agent(args: string[], timeoutMs?: number): Promise<{ code: number | null; output: string }>;
  /** Starts agent.js in the background (for a long-running host). */
  spawnAgent(args: string[]): { proc: ChildProcess; log: string };
  /** Starts any script in Windows Node in the background, output to `log`. */
  spawnNode(script: string, args: string[]): { proc: ChildProcess; log: string };
  startApp(mode: 'paint' | 'edit', x: number, y: number, w: number, h: number, seed?: number): Promise<TestApp>;
  tmp: string;
  close(): Promise<void>;
}

async function waitFor(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

const readOr = (file: string, fallback: string) => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
};

/**
 * Xvfb + Wine + Windows Node + the cross-built addon, ready to run agent.js.
 * `resizable`: TigerVNC's Xvnc instead of Xvfb, whose size xrandr can change.
 */
export async function startWine(width: number, height: number, options: { resizable?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<Wine> {
  const { testapp } = wineEnvModule.buildWindowsBinaries();
  const nodeExe = wineEnvModule.windowsNode();
  const xs = await (options.resizable ? startResizableX(width, height) : startXvfb(width, height));
  let env: NodeJS.ProcessEnv;
  try {
    env = { ...wineEnvModule.wineEnv(xs.display), ...options.env };
  } catch (err) {
    await xs.close();
    throw err;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tilecast-wine-run-'));
  const apps: ChildProcess[] = [];
  const agentJs = path.join(__dirname, 'agent.js');
  let logs = 0;
  const spawnNode = (script: string, args: string[]) => {
    const log = path.join(tmp, `node-${++logs}.log`);
    const fd = fs.openSync(log, 'w');
    const [cmd, argv] = wineEnvModule.windowsNodeCommand(nodeExe, [winPath(script), ...args]);
    const proc = spawn(cmd, argv, { env, stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    return { proc, log };
  };
  const spawnAgent = (args: string[]) => spawnNode(agentJs, args);
  return {
    xs, env, nodeExe, tmp,
    spawnAgent,
    spawnNode,
    agent(args, timeoutMs = 120_000) {
      const { proc, log } = spawnAgent(args);
      return new Promise((resolve) => {
        const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
        proc.once('exit', (code) => {
          clearTimeout(timer);
          resolve({ code, output: readOr(log, '') });
        });
      });
    },
    async startApp(mode, x, y, w, h, seed = 0) {
      const dir = fs.mkdtempSync(path.join(tmp, `${mode}-`));
      const proc = spawn('wine', [testapp, mode, String(x), String(y), String(w), String(h), String(seed), winPath(dir)], { env, stdio: 'ignore' });
      apps.push(proc);
      await waitFor(() => readOr(path.join(dir, 'ack'), '') === '0\n', `the test program (${mode}) to show its window`);
      let n = 0;
      return {
        dir,
        async move(nx, ny) {
          n++;
          fs.writeFileSync(path.join(dir, 'cmd.tmp'), `${n} move ${nx} ${ny}\n`);
          fs.renameSync(path.join(dir, 'cmd.tmp'), path.join(dir, 'cmd'));
          await waitFor(() => readOr(path.join(dir, 'ack'), '') === `${n}\n`, 'the window to move');
        },
        events: () => readOr(path.join(dir, 'events'), '').split('\n').filter(Boolean),
        text: () => readOr(path.join(dir, 'text'), ''),
        stop: () => void proc.kill('SIGKILL'),
      };
    },
    async close() {
      for (const p of apps) p.kill('SIGKILL');
      wineEnvModule.stopWine(env);
      await xs.close();
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}
