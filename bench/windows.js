#!/usr/bin/env node
// The Windows host's capture cost and idle CPU, under Wine on a private 1920x1080
// Xvfb (Windows Node 22 with the cross-built addon; see scripts/win/wine-env.js):
//
//  - full-frame GDI grab (BitBlt into a DIB section, the backend's change
//    comparison, rows into the mirror) against a memcpy of the same bytes, both
//    timed inside Windows Node;
//  - idle CPU of a Windows host streaming an unchanging screen to one (Linux)
//    viewer at 30 fps capture, against an X11 host (XDamage) on the same Xvfb
//    in the same run. GDI has no change notification: its backend grabs the
//    monitor and compares (4 times a second once idle, see win_gdi_backend.cc).
//    DXGI's dirty-rect path (the damaged-area grab on Windows) cannot run under
//    Wine (DuplicateOutput is a stub), so it has no figure here;
//  - on a quiet screen (polling slowed), a change to the GDI capture frame
//    that has it: a repaint caused by a key typed through SendInput (input ends
//    the quiet spell at once), against a repaint nobody typed for (seen at the
//    next slowed poll), alternated in the same run.
//
// Under Wine, GDI reads through Wine's X11 driver: figures on real Windows differ.
// Needs wine, mingw-w64 (g++-mingw-w64-x86-64-posix) and Xvfb; says so and skips when missing.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { writeResult } = require('./lib/results');
const { startXvfb } = require('./lib/xvfb');
const wine = require('../scripts/win/wine-env');
const { X11Source, createHost, connectViewer } = require('tilecast');

const quick = process.argv.includes('--quick');
const W = 1920, H = 1080;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const agentJs = path.join(__dirname, '..', 'test', 'windows', 'agent.js');

function runAgent(env, nodeExe, args, logFile) {
  const fd = fs.openSync(logFile, 'w');
  const [cmd, argv] = wine.windowsNodeCommand(nodeExe, [wine.winPath(agentJs), ...args]);
  const proc = spawn(cmd, argv, { env, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  return proc;
}

const exited = (proc) => new Promise((r) => (proc.exitCode !== null ? r(proc.exitCode) : proc.once('exit', r)));

async function until(cond, what, ms = 60000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** CPU of a Windows host (measured inside Windows Node) with one Linux viewer, over `seconds`. */
async function windowsIdle(env, nodeExe, tmp, seconds) {
  const ready = path.join(tmp, 'ready.json'), stop = path.join(tmp, 'stop');
  const proc = runAgent(env, nodeExe, ['host', ready, stop], path.join(tmp, 'host.log'));
  try {
    await until(() => fs.existsSync(ready) && fs.statSync(ready).size > 0, 'the Windows host');
    const info = JSON.parse(fs.readFileSync(ready, 'utf8'));
    if (info.error) throw new Error(info.error);
    const viewer = await connectViewer(info.url, { reconnect: false });
    await sleep(3000); // first frame sent, everything warm
    fs.writeFileSync(`${stop}.mark`, '');
    await sleep(seconds * 1000);
    fs.writeFileSync(stop, '');
    await exited(proc);
    viewer.close();
    const s = JSON.parse(fs.readFileSync(`${stop}.cpu.json`, 'utf8'));
    return { cpuPercent: (100 * s.cpuMs) / s.wallMs, grabsPerSecond: (1000 * s.grabs) / s.wallMs, backend: info.backend };
  } finally {
    if (proc.exitCode === null) proc.kill('SIGKILL');
  }
}

/** A quiet screen's change to the GDI capture frame, typed and not (agent.js keylag), `trials` of each, ms. */
async function keyLag(env, nodeExe, testapp, tmp, trials) {
  const appDir = fs.mkdtempSync(path.join(tmp, 'paint-'));
  const app = spawn('wine', [testapp, 'paint', '200', '150', '400', '300', '1', wine.winPath(appDir)], { env, stdio: 'ignore' });
  try {
    await until(() => fs.existsSync(path.join(appDir, 'ack')), 'the test program to show its window');
    const out = path.join(tmp, 'keylag.json');
    const code = await exited(runAgent(env, nodeExe, ['keylag', out, wine.winPath(appDir), String(trials)], path.join(tmp, 'keylag.log')));
    const r = fs.existsSync(out) ? JSON.parse(fs.readFileSync(out, 'utf8')) : {};
    if (code !== 0 || r.error) throw new Error(`keylag agent failed: ${r.error || fs.readFileSync(path.join(tmp, 'keylag.log'), 'utf8')}`);
    return r;
  } finally {
    app.kill('SIGKILL');
  }
}

/** CPU of an X11 host (this process: host and viewer) with one viewer on the same display, over `seconds`. */
async function x11Idle(display, seconds) {
  const source = await X11Source.open({ display });
  const host = await createHost({ source, fps: 30 });
  const viewer = await connectViewer(host.url, { reconnect: false });
  await sleep(3000);
  const cpu0 = process.cpuUsage(), t0 = performance.now(), grabs0 = source.grabStats.grabs;
  await sleep(seconds * 1000);
  const cpu = process.cpuUsage(cpu0), wall = performance.now() - t0;
  const grabs = source.grabStats.grabs - grabs0;
  viewer.close();
  await host.close();
  source.close();
  return { cpuPercent: (100 * (cpu.user + cpu.system) / 1000) / wall, grabsPerSecond: (1000 * grabs) / wall };
}

async function main() {
  const missing = wine.missingWineTools();
  if (missing.length > 0) {
    console.log(`windows bench skipped: ${missing.join(', ')} missing (Debian: wine wine64 g++-mingw-w64-x86-64-posix xvfb x11-apps)`);
    return;
  }
  const { testapp } = wine.buildWindowsBinaries();
  const nodeExe = wine.windowsNode();
  const xvfb = await startXvfb(W, H);
  const env = wine.wineEnv(xvfb.display);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tilecast-wine-bench-'));
  try {
    const samples = quick ? 5 : 30, seconds = quick ? 3 : 15;
    const grabsOut = path.join(tmp, 'grabs.json');
    const code = await exited(runAgent(env, nodeExe, ['grabs', grabsOut, String(samples)], path.join(tmp, 'grabs.log')));
    if (code !== 0 || !fs.existsSync(grabsOut)) throw new Error(`grab agent failed: ${fs.readFileSync(path.join(tmp, 'grabs.log'), 'utf8')}`);
    const grabs = JSON.parse(fs.readFileSync(grabsOut, 'utf8'));
    const win = await windowsIdle(env, nodeExe, tmp, seconds);
    const x11 = await x11Idle(xvfb.display, seconds);
    const trials = quick ? 4 : 20;
    const lag = await keyLag(env, nodeExe, testapp, tmp, trials);
    const typedMs = median(lag.typed), untypedMs = median(lag.untyped);
    const results = {
      date: new Date().toISOString(), quick, screen: `${W}x${H}`, windowsNode: wine.WINDOWS_NODE, samples, idleSeconds: seconds,
      gdiFullGrabMs: grabs.grabMs, memcpyMs: grabs.memcpyMs, grabVsMemcpy: grabs.grabMs / grabs.memcpyMs,
      windowsIdle: win, x11Idle: x11, idleRatio: win.cpuPercent / x11.cpuPercent,
      quietChange: { trials, typed: lag.typed, untyped: lag.untyped, typedMedianMs: typedMs, untypedMedianMs: untypedMs, ratio: typedMs / untypedMs },
    };
    const f = (v, d = 2) => v.toFixed(d);
    const md = `# Windows host benchmark, under Wine (${results.date})\n\n` +
      `Private Xvfb ${W}x${H}x24, Wine 8, Windows Node ${wine.WINDOWS_NODE.split('@')[1]}, addon cross-built with mingw-w64; medians of ${samples} grabs, idle CPU over ${seconds} s.\n\n` +
      '| what | tilecast | baseline (same run) | ratio |\n|---|---|---|---|\n' +
      `| full 1080p GDI grab (BitBlt, change comparison, rows into the mirror) | ${f(grabs.grabMs)} ms | memcpy of the same ${(grabs.bytes / 1e6).toFixed(1)} MB in Windows Node: ${f(grabs.memcpyMs)} ms | ${f(results.grabVsMemcpy)}× |\n` +
      `| idle host CPU, unchanging screen, 30 fps, 1 viewer | Windows host (${win.backend}): ${f(win.cpuPercent)} % of a core (${f(win.grabsPerSecond, 1)} frames/s delivered; polling grabs 4/s) | X11 host, XDamage: ${f(x11.cpuPercent)} % (${f(x11.grabsPerSecond, 1)} frames/s) | ${f(results.idleRatio, 1)}× |\n` +
      `| a change on a quiet screen (a second without changes) to the GDI capture frame, median of ${trials} | typed: a key through SendInput repaints a 400x300 window: ${f(typedMs, 1)} ms | the same repaint with no input (the program's own timer, polled every 30 ms): ${f(untypedMs, 1)} ms | ${f(results.quietChange.ratio)}× |\n` +
      '| damaged-area grab | not measurable here: GDI has no change notification (each polling grab reads the whole monitor, then only changed rows are delivered); DXGI dirty rects need a real Windows machine | | |\n\n' +
      'GDI polls: it grabs the whole monitor and compares it with the last grab (every capture-thread wake while the screen, the pointer or the input is busy, 4 times a second after a quiet second), so its idle cost is about 4 full grabs a second, and a change on a quiet screen is seen at the next of those grabs unless input came first; ' +
      'DXGI Desktop Duplication (used automatically where available) reports dirty rects and stays idle on an unchanging screen like XDamage. ' +
      'Under Wine, GDI reads the screen through Wine\'s X11 driver (XGetImage/XShm), so real Windows figures differ.\n';
    console.log(md);
    writeResult('windows.json', results, quick);
    writeResult('windows.md', md, quick);
  } finally {
    wine.stopWine(env);
    xvfb.proc.kill();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
