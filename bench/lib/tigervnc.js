// TigerVNC baseline for the session bench: a recording replayed into Debian's
// Xvnc (tigervnc-standalone-server) with exactly its pixels, watched by a real
// vncviewer (tigervnc-viewer, on a private Xvfb) through a TCP proxy that
// counts the bytes the server sends.
//
// Replay is lock-step, as tilecast's offline session codes it: every frame's
// changed rects (the same ChangeDetector) are drawn into Xvnc's root window
// (bench/lib/xput.c, XPutImage), then the next frame waits until the server
// has answered (first byte within 1 s) and gone quiet for QUIET_MS, so each
// recorded frame is its own update and nothing is coalesced away. At the end
// Xvnc's framebuffer is grabbed and compared with the recording's last frame
// (proves "the same pixels"), and so is the viewer's screen (exact for
// lossless; SSIM/PSNR for JPEG).
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { startXvfb } = require('./xvfb');
const { measurePairs } = require('./ffmpegQuality');

const QUIET_MS = 30;
const HINT_MS = 6000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The two settings the issue asks for (vncviewer parameters). */
const SETTINGS = {
  lossless: { label: 'TigerVNC Tight lossless (NoJPEG, CompressLevel 1)', args: ['-NoJPEG=1', '-CustomCompressLevel=1', '-CompressLevel', '1'] },
  jpeg: { label: 'TigerVNC Tight JPEG (QualityLevel 6, CompressLevel 1)', args: ['-NoJPEG=0', '-QualityLevel', '6', '-CustomCompressLevel=1', '-CompressLevel', '1'] },
};

/** Why the baseline cannot run here, or null. */
function unavailable() {
  for (const [tool, pkg] of [['Xvnc', 'tigervnc-standalone-server'], ['vncviewer', 'tigervnc-viewer'], ['Xvfb', 'xvfb'], ['cc', 'gcc']]) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} not installed (Debian: ${pkg})`;
  }
  if (!fs.existsSync('/usr/include/X11/Xlib.h')) return 'X headers missing (Debian: libx11-dev)';
  return null;
}

/** Builds bench/lib/<name>.c into the OS temp folder on first use (cached by content); returns its path. */
function buildHelper(name, libs = ['-lX11']) {
  const src = path.join(__dirname, `${name}.c`);
  const tag = crypto.createHash('sha1').update(fs.readFileSync(src)).digest('hex').slice(0, 8);
  const out = path.join(os.tmpdir(), `tilecast-${name}-${tag}`);
  if (!fs.existsSync(out)) {
    const tmp = `${out}.${process.pid}.tmp`;
    const r = spawnSync('cc', ['-O2', '-o', tmp, src, ...libs], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`cc ${name}.c: ${(r.error?.message ?? r.stderr).trim().slice(0, 300)}`);
    fs.renameSync(tmp, out);
  }
  return out;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Xvnc on a free display and port; resolves { proc, display, port }. */
async function startXvnc(width, height) {
  const port = await freePort();
  const args = ['-displayfd', '3', '-geometry', `${width}x${height}`, '-depth', '24', '-rfbport', String(port), '-localhost',
    '-nolisten', 'tcp', '-noreset', '-SecurityTypes', 'None', '-CompareFB', '1', '-AcceptSetDesktopSize=0', '-AlwaysShared'];
  const proc = spawn('Xvnc', args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (d) => { log = (log + d).slice(-4000); });
  const display = await new Promise((resolve, reject) => {
    proc.stdio[3].once('data', (d) => resolve(`:${d.toString().trim()}`));
    proc.once('exit', (code) => reject(new Error(`Xvnc exited with ${code}: ${log.trim().slice(-500)}`)));
  });
  const n = display.slice(1);
  for (let i = 0; i < 100 && !fs.existsSync(`/tmp/.X11-unix/X${n}`); i++) await sleep(50);
  return { proc, display, port, log: () => log };
}

/**
 * A real vncviewer, full screen on `display`, view-only, at `setting`, connected
 * to 127.0.0.1:`port`; with a private HOME so no saved settings apply.
 */
function startVncViewer(setting, port, display) {
  const args = ['-SecurityTypes', 'None', '-AutoSelect=0', '-FullColor=1', '-PreferredEncoding', 'Tight', ...SETTINGS[setting].args,
    '-FullScreen=1', '-RemoteResize=0', '-ViewOnly=1', '-Shared=1', '-AcceptClipboard=0', '-SendClipboard=0', '-SendPrimary=0', '-SetPrimary=0',
    '-ReconnectOnError=0', '-AlertOnFatalError=0', `127.0.0.1::${port}`];
  return spawn('vncviewer', args, { env: { ...process.env, DISPLAY: display, HOME: fs.mkdtempSync(path.join(os.tmpdir(), 'tilecast-vnchome-')) }, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A TCP proxy in front of `port` counting server→client bytes (with the time of the last one). */
function countingProxy(port) {
  const stats = { bytes: 0, lastAt: 0, connections: 0 };
  const sockets = new Set();
  const server = net.createServer((client) => {
    stats.connections++;
    const upstream = net.connect(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => { sockets.delete(s); client.destroy(); upstream.destroy(); });
    }
    upstream.on('data', (d) => {
      stats.bytes += d.length;
      stats.lastAt = performance.now();
      client.write(d);
    });
    client.on('data', (d) => upstream.write(d));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    port: server.address().port,
    stats,
    close: () => { for (const s of sockets) s.destroy(); return new Promise((r) => server.close(r)); },
  })));
}

/** Writes batches of rects to the xput process and waits for each one's ack. */
function xputClient(display) {
  const proc = spawn(buildHelper('xput'), [display], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  const waiters = [];
  proc.stdout.on('data', (d) => { for (let i = 0; i < d.length; i++) waiters.shift()?.resolve(); });
  proc.once('exit', (code) => { for (const w of waiters.splice(0)) w.reject(new Error(`xput exited with ${code}: ${err.trim()}`)); });
  return {
    /** Draws `rects` of a BGRA frame; resolves once the X server has them (XSync). */
    put(frame, rects) {
      const parts = [Buffer.alloc(4)];
      parts[0].writeUInt32LE(rects.length);
      for (const r of rects) {
        const h = Buffer.alloc(8);
        h.writeUInt16LE(r.x, 0); h.writeUInt16LE(r.y, 2); h.writeUInt16LE(r.w, 4); h.writeUInt16LE(r.h, 6);
        parts.push(h);
        for (let y = r.y; y < r.y + r.h; y++) {
          const o = y * frame.stride + r.x * 4;
          parts.push(frame.data.subarray(o, o + r.w * 4));
        }
      }
      return new Promise((resolve, reject) => {
        waiters.push({ resolve, reject });
        proc.stdin.write(Buffer.concat(parts));
      });
    },
    close() { proc.stdin.end(); return new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r))); },
  };
}

/** One grab of a whole X display (BGRA, packed), with tilecast's own X11 capture. */
async function grab(X11Source, display) {
  const src = await X11Source.open({ display });
  try {
    const f = await src.nextFrame();
    return { width: f.width, height: f.height, data: packed(f) };
  } finally {
    src.close();
  }
}

/** A packed copy of a frame's pixels with alpha 255 (X servers leave the padding byte undefined). */
function packed(f) {
  const row = f.width * 4;
  const out = Buffer.alloc(row * f.height);
  for (let y = 0; y < f.height; y++) out.set(f.data.subarray(y * f.stride, y * f.stride + row), y * row);
  for (let i = 3; i < out.length; i += 4) out[i] = 255;
  return out;
}

async function waitFor(cond, ms, what) {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** Waits until the server has sent something since `before`, then QUIET_MS of silence. */
async function settle(stats, before) {
  const end = performance.now() + 1000;
  while (stats.bytes === before && performance.now() < end) await sleep(1);
  while (performance.now() - stats.lastAt < QUIET_MS) await sleep(2);
}

/**
 * Replays `file` into Xvnc, with vncviewer at `setting` ('lossless' | 'jpeg').
 * deps: { ReplaySource, ChangeDetector, X11Source } from tilecast. Returns bytes (server→client, from connect to the last
 * frame's update, handshake and first full update included), restBytes (the
 * 1 s after), mean/peak bitrate, and the at-rest checks.
 */
async function runTigerVnc(file, setting, deps) {
  const { ReplaySource, ChangeDetector, X11Source } = deps;
  const src = new ReplaySource(file);
  const { width, height, fps } = src;
  const det = new ChangeDetector({ width, height });
  const cleanup = [];
  try {
    const xvnc = await startXvnc(width, height);
    cleanup.push(() => xvnc.proc.kill());
    const put = xputClient(xvnc.display);
    cleanup.push(() => put.close());
    const proxy = await countingProxy(xvnc.port);
    cleanup.push(() => proxy.close());
    const xvfb = await startXvfb(width, height);
    cleanup.push(() => xvfb.proc.kill());

    // Frame 0 is on the screen when the viewer connects: its first update
    // carries it (as tilecast's first keyframe does).
    let f = await src.nextFrame();
    await det.detect(f);
    await put.put(f, [{ x: 0, y: 0, w: width, h: height }]);
    const viewer = startVncViewer(setting, proxy.port, xvfb.display);
    let viewerLog = '';
    viewer.stderr.on('data', (d) => { viewerLog = (viewerLog + d).slice(-4000); });
    cleanup.push(() => viewer.kill());
    await waitFor(() => proxy.stats.bytes > 0 || viewer.exitCode !== null, 10_000, 'vncviewer to connect');
    const connectedAt = performance.now();
    if (viewer.exitCode !== null) throw new Error(`vncviewer exited: ${viewerLog.trim().slice(-500)}`);
    await settle(proxy.stats, 0);
    await sleep(300); // the first full update may come in several bursts
    await settle(proxy.stats, proxy.stats.bytes);

    const samples = [{ t: 0, bytes: proxy.stats.bytes }];
    let frames = 1, last = f, changed = 0;
    for (; (f = await src.nextFrame()); frames++) {
      const rects = await det.detect(f);
      const before = proxy.stats.bytes;
      if (rects.length) {
        changed++;
        await put.put(f, rects);
        await settle(proxy.stats, before);
      }
      samples.push({ t: frames / fps, bytes: proxy.stats.bytes - before });
      last = f;
    }
    const lastFrame = { width, height, data: packed(last) };
    const bytes = proxy.stats.bytes;
    await sleep(1000); // at rest: anything TigerVNC sends now (e.g. lossless refresh of JPEG areas)
    const restBytes = proxy.stats.bytes - bytes;

    // vncviewer shows a "Press F8" hint over the picture for its first seconds.
    await sleep(HINT_MS - (performance.now() - connectedAt));
    const server = await grab(X11Source, xvnc.display);
    const shown = await grab(X11Source, xvfb.display);
    const shownExact = shown.data.equals(lastFrame.data);
    return {
      setting, label: SETTINGS[setting].label, frames, changedFrames: changed, bytes, restBytes,
      meanKbps: (bytes * 8) / 1000 / (frames / fps),
      samples,
      xvncMatchesSource: server.data.equals(lastFrame.data),
      atRest: { exact: shownExact, ...(await measurePairs(width, height, [[shown.data, lastFrame.data]]))[0] },
    };
  } finally {
    src.close();
    for (const c of cleanup.reverse()) {
      try { await c(); } catch { /* best effort */ }
    }
  }
}

module.exports = { runTigerVnc, unavailable, SETTINGS, buildHelper, startXvnc, startVncViewer, freePort, waitFor, HINT_MS };
