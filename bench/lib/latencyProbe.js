// The glass-to-glass bench's instruments (bench/latency.js): the drawer and the
// watcher (bench/lib/latprobe.c, X clients stamping CLOCK_MONOTONIC), the same
// square decoded from a Node viewer's framebuffer, and the background loads.
// Every time here is milliseconds on CLOCK_MONOTONIC (monoMs()).
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const { buildHelper } = require('./tigervnc');

/** CLOCK_MONOTONIC in ms: what process.hrtime reads and latprobe stamps. */
const monoMs = () => Number(process.hrtime.bigint()) / 1e6;
/** performance.now() (the LinkEmulator's clock) to CLOCK_MONOTONIC ms: both count from the same clock. */
const perfToMono = (() => {
  const offset = monoMs() - performance.now();
  return (t) => t + offset;
})();

/** The square's layout and code, as latprobe.c draws it (keep the two in step). */
const SQUARE = { size: 64, bar: 8, cw: 16, ch: 14, counterBits: 11 };
const checkOf = (n) => ((n * 23) + 7 + (n >> 5) * 11) & 31;

/** Reads the code of the square at (x, y) of a 4-byte-per-pixel framebuffer (BGRA or RGBA alike), or -1. */
function decodeSquare(fb, width, x, y) {
  let bits = 0;
  for (let i = 0; i < 16; i++) {
    const cx = x + (i % 4) * SQUARE.cw + SQUARE.cw / 2, cy = y + SQUARE.bar + Math.floor(i / 4) * SQUARE.ch + SQUARE.ch / 2;
    const o = (cy * width + cx) * 4;
    const lum = (fb[o] + fb[o + 1] + fb[o + 2]) / 3;
    if (lum >= 160) bits |= 1 << i;
    else if (lum > 96) return -1;
  }
  const n = bits & 0x7ff;
  return bits >>> SQUARE.counterBits === checkOf(n) ? n : -1;
}

/**
 * For the browser viewer: script that reads the square's code on the viewer's screen canvas after
 * each putImageData and stamps each new code with the clock of the page or Worker that drew it
 * (performance.timeOrigin + now, the same in both): when the viewer drew it, before Chromium
 * composites and shows it. Installed in the page and in each Worker it starts (the decode Worker
 * draws on an OffscreenCanvas); canvasSightings(page) brings the stamps back on CLOCK_MONOTONIC.
 */
function canvasProbeScript(x, y) {
  return `(() => {
    const SQUARE = ${JSON.stringify(SQUARE)};
    const checkOf = ${checkOf.toString()};
    const decodeSquare = ${decodeSquare.toString()};
    const seen = (globalThis.__tilecastCanvasSightings = []);
    let last = -1;
    for (const Context of [globalThis.CanvasRenderingContext2D, globalThis.OffscreenCanvasRenderingContext2D]) {
      if (!Context) continue;
      const put = Context.prototype.putImageData;
      Context.prototype.putImageData = function (...args) {
        put.apply(this, args);
        if (this.canvas.width < ${x + SQUARE.size} || this.canvas.height < ${y + SQUARE.size}) return; // the cursor's canvas
        const code = decodeSquare(this.getImageData(${x}, ${y}, SQUARE.size, SQUARE.size).data, SQUARE.size, 0, 0);
        if (code >= 0 && code !== last) seen.push([(last = code), performance.timeOrigin + performance.now()]);
      };
    }
  })();`;
}

/** Installs canvasProbeScript in `page` (before it loads) and in every Worker it starts. */
async function probeCanvas(page, x, y) {
  const script = canvasProbeScript(x, y);
  page.on('worker', (w) => w.evaluate(script).catch(() => {})); // a Worker gone already: nothing to read
  await page.addInitScript({ content: script });
}

/** The canvas stamps of canvasProbeScript (page and Workers), as { code, t } on CLOCK_MONOTONIC (all clocks count from the system's). */
async function canvasSightings(page) {
  const stamps = await page.evaluate(() => window.__tilecastCanvasSightings ?? []);
  for (const w of page.workers()) stamps.push(...(await w.evaluate(() => globalThis.__tilecastCanvasSightings ?? []).catch(() => [])));
  const offset = monoMs() - (performance.timeOrigin + performance.now());
  return stamps.sort((a, b) => a[1] - b[1]).map(([code, t]) => ({ code, t: t + offset }));
}

/**
 * Square n's offset within its interval, in [0, jitterMs): a fixed pseudo-random
 * sequence (the same for every system of a run, so each sees the same schedule).
 * Why: 250 ms is exactly 15 frames of a 60 Hz clock, so squares painted on the
 * plain grid all meet a browser's frame clock at one phase, chosen by when the
 * run started; a browser viewer's wait for its next frame (0-16.7 ms) was then
 * one draw of a lottery per run (likely why LTE scroll p50 moved 29.6-38.1 ms
 * between runs of the same code). Spread
 * over a frame, every run samples every phase, as a user's keystrokes do.
 */
function paintOffset(n, jitterMs) {
  let x = Math.imul(n, 0x9e3779b1) >>> 0; // a 32-bit integer hash (murmur3's finaliser) of n
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  x = (x ^ (x >>> 16)) >>> 0;
  return (x / 2 ** 32) * jitterMs;
}

/** A process speaking latprobe's line protocol; `onLine(words)` for each output line. */
function probe(args, onLine) {
  const proc = spawn(buildHelper('latprobe'), args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d) => { err = (err + d).slice(-2000); });
  proc.stdin.on('error', () => {});
  readline.createInterface({ input: proc.stdout }).on('line', (l) => onLine(l.trim().split(/\s+/)));
  const exited = new Promise((r) => proc.once('exit', (code) => r(code)));
  return {
    proc,
    error: () => err.trim(),
    async close() {
      proc.stdin.end();
      const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}

const nsToMs = (ns) => Number(BigInt(ns) / 1000n) / 1000;

/**
 * The drawer on `display`: paint(n) resolves with { t0, t }: monotonic ms
 * before the drawing requests and after XSync (the X server had square n).
 */
function startDrawer(display, x, y) {
  const waiting = new Map();
  const p = probe(['draw', display, String(x), String(y)], ([n, ns0, ns]) => {
    const w = waiting.get(Number(n));
    waiting.delete(Number(n));
    w?.({ t0: nsToMs(ns0), t: nsToMs(ns) });
  });
  let gone = null; // why the drawer is gone: a paint asked after that fails at once instead of waiting for ever
  p.proc.once('exit', (code, signal) => {
    gone = `latprobe draw exited (${code ?? signal})${p.error() ? `: ${p.error()}` : ''}`;
    for (const w of waiting.values()) w({ t0: NaN, t: NaN });
    waiting.clear();
    if (code) console.error(gone);
  });
  return {
    paint(n) {
      if (gone) return Promise.reject(new Error(gone));
      return new Promise((resolve) => {
        waiting.set(n, resolve);
        p.proc.stdin.write(`${n}\n`);
      });
    },
    close: () => p.close(),
  };
}

/** The watcher on `display`: sightings [{ code, t }] in order; found resolves once the square is located. */
function startWatcher(display) {
  const sightings = [];
  let onFound;
  const found = new Promise((r) => (onFound = r));
  const p = probe(['watch', display], (w) => {
    if (w[0] === 'found') onFound({ x: Number(w[1]), y: Number(w[2]), scale: Number(w[3]) });
    else if (w[0] === 'seen') sightings.push({ code: Number(w[1]), t: nsToMs(w[2]) });
  });
  p.proc.once('exit', (code) => code && console.error(`latprobe watch exited ${code}: ${p.error()}`));
  return { sightings, found, close: () => p.close() };
}

/** Sightings from a Node ViewerClient: the time each new valid code is first in its framebuffer. */
function watchFramebuffer(viewer, x, y) {
  const sightings = [];
  let last = -1;
  viewer.on('update', () => {
    const fb = viewer.framebuffer;
    if (!fb || viewer.width < x + SQUARE.size || viewer.height < y + SQUARE.size) return;
    const code = decodeSquare(fb, viewer.width, x, y);
    if (code >= 0 && code !== last) {
      sightings.push({ code, t: monoMs() });
      last = code;
    }
  });
  return sightings;
}

/** A 640x360 video clip for the video load (ffmpeg's Mandelbrot zoom with film grain, as the session bench's), cached in the temp folder. */
function videoClip() {
  const clip = path.join(os.tmpdir(), 'tilecast-latency-clip-v1.mp4');
  if (!fs.existsSync(clip)) {
    const tmp = `${clip}.${process.pid}.mp4`;
    const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'mandelbrot=size=640x360:rate=30', '-vf', 'noise=alls=12:allf=t', '-t', '20',
      '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-pix_fmt', 'yuv420p', tmp], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ffmpeg (video clip): ${(r.error?.message ?? r.stderr).trim().slice(0, 300)}`);
    fs.renameSync(tmp, clip);
  }
  return clip;
}

const SCROLL_SCRIPT = 'i=0; while :; do for j in 1 2 3 4 5; do i=$((i+1)); echo "$i  市役所 窓口 予約一覧 the quick brown fox jumps over the lazy dog 0123456789 $(date +%T.%N)"; done; sleep 0.1; done';

/**
 * Starts background load `name` on `display`, left of the square (x < 1100):
 * 'idle' (nothing), 'scroll' (an xterm printing 50 lines/s), 'video' (ffplay
 * looping a 640x360 30 fps clip). Resolves with a stop function.
 */
async function startLoad(name, display) {
  if (name === 'idle') return async () => {};
  const env = { ...process.env, DISPLAY: display };
  const proc = name === 'scroll'
    ? spawn('xterm', ['-geometry', '150x52+0+0', '-bg', 'white', '-fg', 'black', '-e', 'sh', '-c', SCROLL_SCRIPT], { env, stdio: 'ignore' })
    : spawn('ffplay', ['-v', 'error', '-an', '-noborder', '-loop', '0', '-left', '300', '-top', '180', videoClip()], { env: { ...env, SDL_AUDIODRIVER: 'dummy' }, stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 1500));
  if (proc.exitCode !== null) throw new Error(`${name} load exited with ${proc.exitCode}`);
  return () => stopProcess(proc);
}

/** Ends a child process and waits for it to exit. */
async function stopProcess(proc) {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill();
  await exited;
}

/** Why the bench cannot run here, or null. */
function unavailable() {
  for (const [tool, pkg] of [['xterm', 'xterm'], ['ffplay', 'ffmpeg'], ['ffmpeg', 'ffmpeg']]) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} not installed (Debian: ${pkg})`;
  }
  if (!fs.existsSync('/usr/bin/chromium')) return 'chromium not installed (Debian: chromium)';
  return null;
}

module.exports = { monoMs, perfToMono, SQUARE, decodeSquare, paintOffset, startDrawer, startWatcher, watchFramebuffer, probeCanvas, canvasSightings, startLoad, stopProcess, unavailable };
