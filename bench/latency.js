#!/usr/bin/env node
// Glass-to-glass latency (issue 20): from a pixel changing on the host's X
// display to the same pixel changing on the viewer's screen, tilecast against
// TigerVNC, on loopback and through LinkEmulator on ATT-LTE-driving.
//
//   node bench/latency.js [--quick] [--squares N] [--interval MS] [--jitter MS] [--setup-limit MS] [--runs N]
//     [--links loopback,lte] [--loads idle,scroll,video] [--systems tilecast,tilecast-node,tigervnc-lossless,tigervnc-jpeg,novnc]
//   node bench/latency.js --from-json bench/results/latency.json [--quick]   (re-renders the report)
//   node bench/latency.js --from-json bench/results/latency-settle-runs.json --print   (prints a saved run's report, writes nothing)
//   LAT_HOST_LOG=1 node bench/latency.js ...   (also prints the tilecast host's stats lines: rate, ladder level, link stalls)
//
// A drawer (bench/lib/latprobe.c) paints a coded 64x64 square on the host
// display every 250 ms (plus a pseudo-random 0-16.7 ms, so that the paints meet
// a browser's 60 Hz frame clock at every phase) and stamps each paint
// (CLOCK_MONOTONIC, after XSync);
// a watcher (the same program) reads the square's region of the viewer's
// screen every ~1 ms and stamps the first sight of each code. Systems:
//  - tilecast: examples/host.js capturing Xvfb display A; the browser viewer in
//    Chromium headful (kiosk) on Xvfb display W, watched by latprobe;
//  - tilecast-node: the same host with a Node ViewerClient, watched in its
//    framebuffer. A run of its own, as each TigerVNC row is: run beside the
//    browser (as before 2026-12-04) it took CPU from it on 2 cores (its
//    decodes, a second encode on the host, its link), which more than doubled
//    the browser's loopback idle median (22 vs 10 ms, same code);
//  - TigerVNC: Xvnc as display B with the same drawer, vncviewer full screen
//    on Xvfb, Tight lossless (NoJPEG, CompressLevel 1) and Tight JPEG
//    (QualityLevel 6);
//  - novnc: the same Xvnc read by noVNC (bench/lib/novnc.js) in the same
//    Chromium as tilecast's browser viewer: the browser-based VNC peer, so the
//    browser's own presentation cost is on both sides of that comparison.
// Links: loopback, and ATT-LTE-driving 20 ms each way (256 KiB queue), every
// connection's trace starting when the viewer connects and the first square
// painted LEAD_MS later, so each system sees the same trace segment. Loads on
// the host display: idle, an xterm scrolling text, a video playing.
// Per system x link x load: p50/p95/p99, squares shown vs painted, catch-up
// (until that square or a newer one is visible) and, over LTE, the link floor
// (the k-th delivery opportunity at or after the paint, k = the opportunities
// the bytes the system sent for that square need, + the one-way delay) and
// the excess over it. Under load the square's bytes cannot be told from the
// background's, so the floor takes the same system's idle median (one
// opportunity when there was no idle run).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { chromium } = require('playwright-core');
const { connectViewer } = require('tilecast');
const { LinkEmulator, DeliveryTrace } = require('tilecast/testing');
const tigervnc = require('./lib/tigervnc');
const novnc = require('./lib/novnc');
const { startXvfb } = require('./lib/xvfb');
const { writeResult } = require('./lib/results');
const { barChart, cdfChart } = require('./lib/svg');
const probe = require('./lib/latencyProbe');
const { rowShownWhileCurrent, shownWhileCurrent } = require('./lib/shownWhileCurrent');

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const numArg = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const SQUARES = numArg('--squares', quick ? 12 : 360);
const RUNS = numArg('--runs', 1); // runs of each system, link and load, their squares pooled (summarize)
if (!(Number.isInteger(RUNS) && RUNS >= 1)) throw new Error(`--runs: a whole number >= 1, got ${argv[argv.indexOf('--runs') + 1]}`);
const INTERVAL_MS = numArg('--interval', 250);
const FRAME_MS = 1000 / 60;
const JITTER_MS = numArg('--jitter', FRAME_MS); // each paint a pseudo-random 0..JITTER_MS later than the grid's (probe.paintOffset: why)
if (!(INTERVAL_MS > 0)) throw new Error(`--interval: a number of ms > 0, got ${argv[argv.indexOf('--interval') + 1]}`);
if (!(JITTER_MS >= 0 && JITTER_MS < INTERVAL_MS)) throw new Error(`--jitter: a number of ms from 0 to under the interval (${INTERVAL_MS}), got ${argv[argv.indexOf('--jitter') + 1]}`);
const W = 1280, H = 720;
const SQ_X = 1152, SQ_Y = 320; // on the 64-pixel tile grid, right of the loads, clear of vncviewer's F8 hint
const TRACE = 'ATT-LTE-driving';
const DELAY_MS = 20;
const QUEUE_BYTES = 256 * 1024;
const OPPORTUNITY_BYTES = 1504;
const SPARSE_GAP_MS = 200; // opportunities this far apart: the link is all but out (sparseDelivery; bench/audio.js counts such gaps as outages too)
const LEAD_MS = 9000; // connect -> first square: page load, first full update over LTE, vncviewer's hint gone
const TAIL_MS = 4000; // after the last paint, for late sights
const SETUP_LIMIT_MS = numArg('--setup-limit', 180_000); // a run's setup beyond its LEAD_MS (Chromium, Xvnc, the first full update over LTE) before its watchdog stops it
if (!(SETUP_LIMIT_MS >= 0)) throw new Error(`--setup-limit: a number of ms >= 0, got ${argv[argv.indexOf('--setup-limit') + 1]}`);
const CHROMIUM = '/usr/bin/chromium';
// The browser viewer's screen: its toolbar takes ~90 px at the top, so a little
// taller than the host's screen makes the fit scale exactly 1 (no resampling).
const BROWSER_H = H + 96;
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
  '--kiosk', '--window-position=0,0', `--window-size=${W},${BROWSER_H}`, '--disable-background-timer-throttling', '--disable-renderer-backgrounding'];
const traceDir = path.join(__dirname, '..', '..', 'shared', 'traces');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const { pct } = require('./lib/percentile');
const sortNum = (a) => [...a].sort((x, y) => x - y);

/** Resolves once `port` accepts a TCP connection. */
async function waitPort(port, ms) {
  const net = require('node:net');
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((r) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); r(true); });
      s.on('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`port ${port} did not open in ${ms} ms`);
    await sleep(100);
  }
}

/** Chromium headful (kiosk) on `display`, as a phone or laptop browser would show the viewer; resolves its page. */
async function openChromium(display, later) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: false, args: CHROMIUM_ARGS, env: { ...process.env, DISPLAY: display } });
  later(() => browser.close());
  const context = await browser.newContext({ viewport: null });
  return context.newPage();
}

/** A link to `targetPort`: direct (loopback) or LinkEmulator on the LTE trace; records connection epochs and downlink bytes. */
async function openLink(kind, targetPort, traces, epoch) {
  if (kind === 'loopback') return { port: targetPort, epochs: [], down: [], close: async () => {} };
  const rec = { epochs: [], down: [] };
  const emu = await LinkEmulator.start({
    targetPort,
    epoch,
    down: { trace: traces.down, delayMs: DELAY_MS, queueBytes: QUEUE_BYTES },
    up: { trace: traces.up, delayMs: DELAY_MS, queueBytes: QUEUE_BYTES },
    onConnection: (e) => rec.epochs.push(probe.perfToMono(e)),
    onQueued: (e) => e.direction === 'down' && rec.down.push([probe.perfToMono(e.at), e.bytes]),
  });
  return { port: emu.port, ...rec, close: () => emu.close() };
}

/**
 * One run: `system` ('tilecast' | 'tilecast-node' | 'tigervnc-lossless' | 'tigervnc-jpeg' | 'novnc') on
 * `link` under `load`. Returns raw rows: [{ row, paints, sightings, link }]. `run` (runGuarded's):
 * what it started, to stop, and the step it is at.
 */
async function runOnce(system, link, load, traces, run) {
  // After the watchdog has given up on this run, whatever it still starts is stopped at once.
  const later = (fn) => (run.abandoned ? Promise.resolve().then(fn).catch(() => {}) : run.cleanup.push(fn));
  const step = (what) => (run.step = what); // what the watchdog names if the run never ends
  try {
    step('starting the host');
    const tiger = system.startsWith('tigervnc');
    let hostDisplay, serverPort, hostPort, webPort;
    if (tiger || system === 'novnc') {
      const xvnc = await tigervnc.startXvnc(W, H);
      later(() => xvnc.proc.kill());
      hostDisplay = xvnc.display;
      serverPort = xvnc.port;
      if (system === 'novnc') {
        // noVNC speaks RFB over a WebSocket: the bridge (websockify's part) is on the host side of the link.
        const web = await novnc.startNoVncServer(xvnc.port);
        later(() => web.close());
        serverPort = webPort = web.port;
      }
    } else {
      const xvfb = await startXvfb(W, H);
      later(() => xvfb.proc.kill());
      hostDisplay = xvfb.display;
      hostPort = await tigervnc.freePort();
      const host = spawn(process.execPath, [path.join(__dirname, '..', 'examples', 'host.js'), '--display', hostDisplay, '--listen', `127.0.0.1:${hostPort}`, '--view-only', ...(process.env.LAT_HOST_ARGS ? process.env.LAT_HOST_ARGS.split(' ') : [])],
        { stdio: ['ignore', process.env.LAT_HOST_LOG ? 'inherit' : 'ignore', 'inherit'] });
      later(() => probe.stopProcess(host)); // before its X server goes
      await waitPort(hostPort, 20_000);
      serverPort = hostPort;
    }
    step(`starting the ${load} load`);
    const stopLoad = await probe.startLoad(load, hostDisplay);
    later(stopLoad);
    const drawer = probe.startDrawer(hostDisplay, SQ_X, SQ_Y);
    later(() => drawer.close());
    step('the first paint (the locator)');
    await drawer.paint(0); // the locator: the watcher finds the square by its bar

    step('opening the link');
    const net = await openLink(link, serverPort, traces);
    later(() => net.close());
    step('starting the viewer');
    const rows = [];
    let connectedAt;
    if (system === 'tilecast-node') {
      // The Node viewer alone on the link (no screen: it is watched in its framebuffer).
      connectedAt = probe.monoMs();
      const nodeViewer = connectViewer(`ws://127.0.0.1:${net.port}/`, { viewOnly: true, timeoutMs: 120_000 });
      nodeViewer.on('error', () => {});
      later(() => nodeViewer.close());
      const sightings = probe.watchFramebuffer(nodeViewer, SQ_X, SQ_Y);
      rows.push({ row: 'tilecast-node', sightings, link: net, found: tigervnc.waitFor(() => sightings.some((s) => s.code === 0), 60_000, 'the Node viewer to show the square').then(() => ({ scale: 1 })) });
    } else if (tiger) {
      const viewerScreen = await startXvfb(W, H);
      later(() => viewerScreen.proc.kill());
      const viewer = tigervnc.startVncViewer(system.slice('tigervnc-'.length), net.port, viewerScreen.display);
      later(() => viewer.kill());
      connectedAt = probe.monoMs();
      const watcher = probe.startWatcher(viewerScreen.display);
      later(() => watcher.close());
      rows.push({ row: system, sightings: watcher.sightings, link: net, found: watcher.found });
    } else if (system === 'novnc') {
      // noVNC in the same Chromium; its page and bundle come from the host side directly, its WebSocket through the link.
      const viewerScreen = await startXvfb(W, BROWSER_H);
      later(() => viewerScreen.proc.kill());
      const page = await openChromium(viewerScreen.display, later);
      connectedAt = probe.monoMs();
      await page.goto(`http://127.0.0.1:${webPort}/?ws=${encodeURIComponent(`ws://127.0.0.1:${net.port}/websockify`)}`);
      const watcher = probe.startWatcher(viewerScreen.display);
      later(() => watcher.close());
      rows.push({ row: system, sightings: watcher.sightings, link: net, found: watcher.found });
    } else {
      const viewerScreen = await startXvfb(W, BROWSER_H);
      later(() => viewerScreen.proc.kill());
      const page = await openChromium(viewerScreen.display, later);
      // The viewer connects to the page's own host:port; only its WebSocket goes through the link.
      await page.addInitScript(([from, to]) => {
        const Native = window.WebSocket;
        window.WebSocket = class extends Native {
          constructor(url, protocols) { super(String(url).replace(`:${from}/`, `:${to}/`), protocols); }
        };
      }, [hostPort, net.port]);
      await probe.probeCanvas(page, SQ_X, SQ_Y);
      connectedAt = probe.monoMs();
      await page.goto(`http://127.0.0.1:${hostPort}/`);
      const watcher = probe.startWatcher(viewerScreen.display);
      later(() => watcher.close());
      rows.push({ row: 'tilecast-browser', sightings: watcher.sightings, link: net, found: watcher.found, page });
    }
    step('waiting for the first sight of the square');
    for (const r of rows) {
      let timer;
      const timeout = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${r.row}: the square never appeared on the viewer`)), 60_000)));
      r.where = await Promise.race([r.found, timeout]).finally(() => clearTimeout(timer));
    }
    // Same trace segment for every system: the first square LEAD_MS after the connection's trace start.
    const start = (link === 'loopback' ? connectedAt : rows[0].link.epochs[0]) + LEAD_MS;
    if (probe.monoMs() > start) console.error(`  (${system} ${link} ${load}: setup took longer than ${LEAD_MS} ms; squares start ${(probe.monoMs() - start).toFixed(0)} ms late in the trace)`);
    const paints = [];
    for (let n = 1; n <= SQUARES; n++) {
      const due = start + (n - 1) * INTERVAL_MS + probe.paintOffset(n, JITTER_MS);
      const wait = due - probe.monoMs();
      if (wait > 0) await sleep(wait);
      step(`painting square ${n} of ${SQUARES}`);
      paints.push({ code: n, ...(await drawer.paint(n)) });
    }
    step('the tail');
    const last = SQUARES;
    const end = probe.monoMs() + TAIL_MS;
    while (probe.monoMs() < end && !rows.every((r) => r.sightings.some((s) => s.code === last))) await sleep(50);
    await sleep(200);
    for (const r of rows) if (r.page) r.canvas = await probe.canvasSightings(r.page);
    return rows.map(({ page, ...r }) => ({ ...r, paints, sightings: r.sightings.filter((s) => s.code !== 0 || s.t < paints[0].t) }));
  } finally {
    await runCleanup(run.cleanup);
  }
}

/** Stops what a run started, newest first; each step once, whoever (the run or its watchdog) gets here first. */
async function runCleanup(cleanup) {
  for (const c of cleanup.splice(0).reverse()) {
    try { await c(); } catch { /* best effort */ }
  }
}

/**
 * runOnce with a watchdog: a run that has not finished well after its squares would have (a setup
 * step that waits for ever, say) fails its row, its processes are stopped, and the benchmark goes on.
 */
async function runGuarded(system, link, load, traces) {
  const run = { cleanup: [], step: '', abandoned: false };
  const limitMs = SETUP_LIMIT_MS + LEAD_MS + SQUARES * INTERVAL_MS + TAIL_MS;
  let timer;
  const watchdog = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no result after ${(limitMs / 1000).toFixed(0)} s (at: ${run.step}); stopped`)), limitMs);
  });
  try {
    return await Promise.race([runOnce(system, link, load, traces, run), watchdog]);
  } finally {
    clearTimeout(timer);
    run.abandoned = true;
    await runCleanup(run.cleanup);
  }
}

/**
 * What one run of one row measured, per square. Latency: first sight of n −
 * paint of n. Catch-up: first sight of n or any newer code − paint of n. Floor
 * (LTE): the bytes the server sent after paint n (up to the next paint, or
 * `bytesPerSquare` under load, where background bytes cannot be told apart)
 * need k opportunities; the k-th at or after the paint, + the one-way delay.
 */
function measure(raw, traces, bytesPerSquare) {
  const { paints, sightings, link } = raw;
  const painted = new Map(paints.map((p) => [p.code, p]));
  const first = new Map();
  let wrong = 0, backwards = 0, beforeSync = 0, prev = -1;
  for (const s of sightings) {
    if (s.code === 0) continue;
    const p = painted.get(s.code);
    // Before the drawer even asked for it, or never painted: a misread.
    if (!p || s.t < p.t0) wrong++;
    else if (!first.has(s.code)) {
      // Seen while the drawer still waited for XSync (a busy X server answers late): latency 0.
      if (s.t < p.t) beforeSync++;
      first.set(s.code, Math.max(s.t, p.t));
    }
    if (s.code < prev) backwards++;
    prev = s.code;
  }
  const lat = [], catchup = [], floor = [], excess = [], sentBytes = [];
  for (let i = 0; i < paints.length; i++) {
    const p = paints[i];
    if (first.has(p.code)) lat.push(first.get(p.code) - p.t);
    const newer = sightings.find((s) => s.code >= p.code && s.t >= p.t0);
    catchup.push(newer ? Math.max(0, newer.t - p.t) : Infinity);
    if (link.epochs.length) {
      const next = paints[i + 1]?.t ?? p.t + INTERVAL_MS;
      const sent = link.down.filter(([t]) => t >= p.t && t < next).reduce((n, [, b]) => n + b, 0);
      sentBytes.push(sent);
      const bytes = bytesPerSquare ?? sent;
      const tt = p.t - link.epochs[0];
      const k = Math.max(1, Math.ceil(bytes / OPPORTUNITY_BYTES));
      const f = traces.down.timeOf(traces.down.firstAtOrAfter(Math.max(0, tt)) + k - 1) - tt + DELAY_MS;
      floor.push(f);
      if (first.has(p.code)) excess.push(first.get(p.code) - p.t - f);
    }
  }
  // Browser viewer: paint → the square on its canvas → on the screen (Chromium's compositing and presentation).
  let canvas = null;
  if (raw.canvas) {
    const onCanvas = new Map();
    for (const c of raw.canvas) if (!onCanvas.has(c.code)) onCanvas.set(c.code, c.t);
    canvas = { toCanvas: [], toScreen: [] };
    for (const p of paints) {
      const c = onCanvas.get(p.code), s = first.get(p.code);
      if (c === undefined || s === undefined) continue;
      canvas.toCanvas.push(Math.max(0, c - p.t));
      canvas.toScreen.push(Math.max(0, s - Math.max(c, p.t)));
    }
  }
  const sparse = link.epochs.length && paints.length ? sparseDelivery(traces.down, link.down.map(([t, b]) => [t - link.epochs[0], b]), paints[0].t - link.epochs[0], paints[paints.length - 1].t - link.epochs[0]) : null;
  // The raw record, ms from the first paint: paints [code, before drawing, after XSync], sightings [code, t], and for the browser viewer its canvas stamps [code, t].
  const record = {
    paints: paints.map((p) => [p.code, +(p.t0 - paints[0].t0).toFixed(2), +(p.t - paints[0].t0).toFixed(2)]),
    sightings: sightings.map((s) => [s.code, +(s.t - paints[0].t0).toFixed(2)]),
    ...(raw.canvas ? { canvas: raw.canvas.map((c) => [c.code, +(c.t - paints[0].t0).toFixed(2)]) } : {}),
  };
  return {
    painted: paints.length, shown: first.size, current: shownWhileCurrent(record).current, wrong, backwards, beforeSync, lat, catchup, floor, excess, sentBytes, canvas, sparse,
    floorBytesFrom: floor.length ? (bytesPerSquare === undefined ? 'this run' : bytesPerSquare ? 'the idle run' : 'none (one opportunity)') : null,
    raw: record,
  };
}

/**
 * A row's figures from its runs (measure()'s), the squares of all runs pooled: with --runs N the
 * percentiles are over N × the squares, and `runs` keeps each run's own p50 / p95 / p99, squares
 * shown and catch-up p95, so a difference can be told from the run-to-run spread.
 */
function summarize(ms) {
  const all = (f) => ms.flatMap(f);
  const sum = (f) => ms.reduce((n, m) => n + f(m), 0);
  const three = (a) => {
    const s = sortNum(a);
    return { p50: pct(s, 50), p95: pct(s, 95), p99: pct(s, 99) };
  };
  const floor = all((m) => m.floor), excess = all((m) => m.excess), sentBytes = all((m) => m.sentBytes);
  const canvas = ms.every((m) => m.canvas) ? { toCanvas: all((m) => m.canvas.toCanvas), toScreen: all((m) => m.canvas.toScreen) } : null;
  const catchup = all((m) => m.catchup);
  return {
    painted: sum((m) => m.painted), shown: sum((m) => m.shown), shownWhileCurrent: sum((m) => m.current), wrongCodes: sum((m) => m.wrong), backwards: sum((m) => m.backwards), seenBeforeXSync: sum((m) => m.beforeSync),
    latency: three(all((m) => m.lat)), catchup: three(catchup), neverCaughtUp: catchup.filter((c) => c === Infinity).length,
    floor: floor.length ? three(floor) : null, excess: excess.length ? three(excess) : null,
    bytesPerSquare: sentBytes.length ? pct(sortNum(sentBytes), 50) : null,
    // The stretch is the same trace time in every run; what each run had queued in it may differ: the run with the most.
    sparse: ms.map((m) => m.sparse).reduce((a, b) => (!a || (b && b.queuedBytes > a.queuedBytes) ? b : a), null),
    canvasSplit: canvas ? { squares: canvas.toCanvas.length, paintToCanvas: three(canvas.toCanvas), canvasToScreen: three(canvas.toScreen) } : null,
    floorBytesFrom: ms[0].floorBytesFrom,
    ...(ms.length > 1 ? { runs: ms.map((m) => ({ ...three(m.lat), shown: m.shown, shownWhileCurrent: m.current, painted: m.painted, catchupP95: three(m.catchup).p95 })) } : {}),
    samples: all((m) => m.lat.map((v) => +v.toFixed(2))),
    raw: ms.length > 1 ? ms.map((m) => m.raw) : ms[0].raw,
  };
}

/**
 * The longest stretch of sparse delivery between the first and the last paint (trace ms): consecutive
 * opportunities SPARSE_GAP_MS or more apart, as ATT-LTE-driving's ten seconds of one a second. What
 * this system had queued in the link when it began and by the stretch's first delivery (the trace's
 * FIFO drain of `queued`, [trace ms, bytes] entering the link's queue), against what the link
 * delivers until it ends: a change made in the stretch can show before its end only once that queue
 * is gone, so when the queue is the larger a square painted then is seen (or caught up) after the
 * stretch, by any viewer. Null: no such stretch.
 */
function sparseDelivery(trace, queued, from, to) {
  let best = null;
  for (let k = trace.firstAtOrAfter(from); trace.timeOf(k) < to; k++) {
    if (trace.timeOf(k + 1) - trace.timeOf(k) < SPARSE_GAP_MS) continue;
    let end = k + 1;
    while (trace.timeOf(end + 1) - trace.timeOf(end) >= SPARSE_GAP_MS) end++;
    if (!best || trace.timeOf(end) - trace.timeOf(k) > best.end - best.start) best = { start: trace.timeOf(k), end: trace.timeOf(end), opportunities: end - k - 1, k };
    k = end;
  }
  if (!best) return null;
  // FIFO drain up to the stretch's start: each opportunity takes up to OPPORTUNITY_BYTES of what has entered by then.
  const entries = [...queued].sort((a, b) => a[0] - b[0]);
  let i = 0, backlog = 0;
  for (let k = entries.length ? trace.firstAtOrAfter(entries[0][0]) : best.k; k <= best.k; k++) {
    while (i < entries.length && entries[i][0] <= trace.timeOf(k)) backlog += entries[i++][1];
    backlog = Math.max(0, backlog - OPPORTUNITY_BYTES);
  }
  const atStart = backlog;
  // And what the system put in before the link's next delivery: sent before it could know the link had gone quiet.
  while (i < entries.length && entries[i][0] < trace.timeOf(best.k + 1)) backlog += entries[i++][1];
  return { startMs: best.start, endMs: best.end, queuedAtStartBytes: atStart, queuedBytes: backlog, deliversBytes: best.opportunities * OPPORTUNITY_BYTES };
}

const ROW_LABEL = {
  'tilecast-browser': 'tilecast, browser viewer (Chromium)',
  'tilecast-node': 'tilecast, Node viewer (framebuffer)',
  'tigervnc-lossless': 'TigerVNC Tight lossless',
  'tigervnc-jpeg': 'TigerVNC Tight JPEG q6',
  novnc: 'TigerVNC server + noVNC (Chromium), Tight JPEG q6',
};
const f0 = (v) => (v === Infinity ? '∞' : Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toFixed(1)) : '-');
const trio = (o) => (o ? `${f0(o.p50)} / ${f0(o.p95)} / ${f0(o.p99)}` : '-');
/** A row's squares shown while current (lib/shownWhileCurrent.js), pooled and per run; from the raw record for runs saved before it was counted. */
function whileCurrent(r) {
  if (r.shownWhileCurrent !== undefined) return { current: r.shownWhileCurrent, runs: (r.runs ?? []).map((x) => x.shownWhileCurrent) };
  const counted = r.raw ? rowShownWhileCurrent(r) : null;
  return { current: counted?.current, runs: (r.runs ?? []).map((x, i) => counted?.runs[i]?.current) };
}
const shownCell = (r, current = whileCurrent(r).current) => `${r.shown} / ${r.painted}${current === undefined ? '' : ` (${current})`}`;

async function main() {
  const fromJson = argv.indexOf('--from-json');
  if (fromJson >= 0) {
    // Re-renders latency.md and the plots from a saved run (e.g. after a report change).
    const saved = JSON.parse(fs.readFileSync(argv[fromJson + 1], 'utf8'));
    loadAtStart = saved.machineLoad;
    return report(saved.results, saved.trace ? {} : null, saved, argv.includes('--print'));
  }
  const missing = tigervnc.unavailable() ?? probe.unavailable();
  if (missing) {
    console.error(`bench/latency.js: ${missing}. Skipping the glass-to-glass latency benchmark.`);
    return;
  }
  const files = ['down', 'up'].map((d) => path.join(traceDir, `${TRACE}.${d}`));
  const traces = files.every((f) => fs.existsSync(f)) ? { down: DeliveryTrace.load(files[0]), up: DeliveryTrace.load(files[1]) } : null;
  if (!traces) console.error(`bench/latency.js: trace ${files.join(' / ')} is missing (the shared traces folder must sit beside the project): loopback only.`);
  const only = (name, all, dflt = all) => {
    const i = argv.indexOf(name);
    if (i < 0) return dflt;
    const want = argv[i + 1].split(',');
    const bad = want.filter((w) => !all.includes(w));
    if (bad.length) throw new Error(`${name}: unknown ${bad.join(', ')} (one of ${all.join(', ')})`);
    return want;
  };
  const links = only('--links', traces ? ['loopback', 'lte'] : ['loopback']);
  const loads = only('--loads', ['idle', 'scroll', 'video'], quick ? ['idle'] : undefined);
  const noNoVnc = novnc.unavailable();
  const allSystems = ['tilecast', 'tilecast-node', 'tigervnc-lossless', 'tigervnc-jpeg', 'novnc'];
  const systems = only('--systems', allSystems, quick ? ['tilecast', 'tilecast-node', 'tigervnc-lossless'] : allSystems.filter((s) => s !== 'novnc' || !noNoVnc));
  if (noNoVnc && !quick && !argv.includes('--systems')) console.error(`bench/latency.js: ${noNoVnc}: no noVNC row.`);
  if (noNoVnc && systems.includes('novnc')) throw new Error(`--systems novnc: ${noNoVnc}`);
  console.log(`# Glass-to-glass latency: ${SQUARES} squares every ${INTERVAL_MS} ms, ${W}x${H}${traces ? `; LTE = ${TRACE}, ${DELAY_MS} ms one-way each way` : ''}`);
  const results = [];
  const idleBytes = new Map();
  loadAtStart = os_load();
  for (const link of links) {
    for (const load of loads) {
      // Each run goes through every system before the next run starts, so a drift in the machine touches all of them alike.
      const rows = new Map(); // row -> { measures, failures, where }, in the systems' order
      const rowOf = (system) => {
        const name = system === 'tilecast' ? 'tilecast-browser' : system;
        if (!rows.has(name)) rows.set(name, { measures: [], failures: [], where: undefined });
        return rows.get(name);
      };
      for (let n = 1; n <= RUNS; n++) {
        const of = RUNS > 1 ? ` (run ${n} of ${RUNS})` : '';
        for (const system of systems) {
          const t0 = Date.now();
          let raws;
          try {
            raws = await runGuarded(system, link, load, traces);
          } catch (err) {
            console.error(`  ${system} ${link} ${load}${of}: failed: ${err.message}`);
            rowOf(system).failures.push(RUNS > 1 ? `run ${n}: ${err.message}` : err.message);
            continue;
          }
          for (const raw of raws) {
            const m = measure(raw, traces, load === 'idle' ? undefined : idleBytes.get(`${raw.row}/${link}`) ?? 0);
            const row = rowOf(raw.row);
            row.measures.push(m);
            row.where ??= raw.where;
            const r = summarize([m]);
            console.log(`  ${ROW_LABEL[raw.row]} | ${link} | ${load}${of} | ${trio(r.latency)} ms | shown ${r.shown}/${r.painted} | catch-up ${trio(r.catchup)} | floor ${trio(r.floor)} | excess ${trio(r.excess)} | wrong ${r.wrongCodes}, seen before XSync ${r.seenBeforeXSync} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
          }
        }
      }
      for (const [name, row] of rows) {
        if (!row.measures.length) {
          results.push({ row: name, link, load, error: row.failures.join('; ') });
          continue;
        }
        const r = summarize(row.measures);
        if (load === 'idle' && r.bytesPerSquare !== null) idleBytes.set(`${name}/${link}`, r.bytesPerSquare);
        // Some runs failed, not all: the row pools the others, and runsTable names the failures.
        results.push({ row: name, link, load, where: row.where, ...r, ...(row.failures.length ? { failedRuns: row.failures } : {}) });
      }
    }
  }
  report(results, traces);
}

let loadAtStart = null;

/** The issue's targets, tilecast's browser viewer against TigerVNC Tight lossless in the same run. */
function targetsTable(results, runs) {
  const get = (row, link, load) => results.find((r) => r.row === row && r.link === link && r.load === load && !r.error);
  const lines = [];
  const check = (what, a, b, factor = 1) => `${what} ${f0(a)} vs ${factor === 1 ? '' : `${factor}× `}${f0(b)}: ${a <= b * factor ? 'met' : 'not met'}`;
  for (const link of ['loopback', 'lte']) {
    for (const load of ['idle', 'scroll', 'video']) {
      const tc = get('tilecast-browser', link, load), tv = get('tigervnc-lossless', link, load);
      if (!tc || !tv) continue;
      let checks;
      if (link === 'loopback') checks = load === 'idle' ? [check('p99', tc.latency.p99, tv.latency.p99)] : null;
      else if (load === 'idle') checks = [check('p50', tc.latency.p50, tv.latency.p50), check('p95', tc.latency.p95, tv.latency.p95)];
      else {
        checks = [check('p50', tc.latency.p50, tv.latency.p50), check('p95', tc.latency.p95, tv.latency.p95, 0.2),
          check('catch-up p95', tc.catchup.p95, tv.catchup.p95, 0.5), `shown ${tc.shown} vs ${tv.shown}: ${tc.shown / tc.painted >= tv.shown / tv.painted ? 'met' : 'not met'}${currentVs(tc, tv)}`];
      }
      if (checks) lines.push(`| ${link} ${load} | ${checks.join('; ')} |`);
    }
  }
  const over = runs > 1 ? `the squares of ${runs} runs each pooled, the systems taking turns` : 'this run';
  return lines.length ? `\nIssue 20's targets (tilecast's browser viewer against TigerVNC Tight lossless, ${over}):\n\n| row | tilecast vs TigerVNC (ms) |\n|---|---|\n${lines.join('\n')}\n` : '';
}

/** ' (shown while current: a vs b)' when both rows have it (the issue's target counts every square shown; this tells stale ones apart). */
function currentVs(tc, tv) {
  const a = whileCurrent(tc).current, b = whileCurrent(tv).current;
  return a === undefined || b === undefined ? '' : ` (shown while current ${a} vs ${b})`;
}

/** tilecast's browser viewer against the browser-based peer (noVNC in the same Chromium), where both ran. */
function browserPeerTable(results) {
  const get = (row, link, load) => results.find((r) => r.row === row && r.link === link && r.load === load && !r.error);
  const lines = [];
  for (const link of ['loopback', 'lte']) {
    for (const load of ['idle', 'scroll', 'video']) {
      const tc = get('tilecast-browser', link, load), nv = get('novnc', link, load);
      if (tc && nv) lines.push(`| ${link} ${load} | ${trio(tc.latency)} | ${trio(nv.latency)} | ${f0(tc.catchup.p95)} / ${f0(nv.catchup.p95)} | ${tc.shown} / ${nv.shown} |`);
    }
  }
  return lines.length ? `\nBoth in Chromium: tilecast's browser viewer against noVNC reading the same Xvnc as the TigerVNC rows (the browser's own presentation on both sides):\n\n| link / load | tilecast p50 / p95 / p99 ms | noVNC p50 / p95 / p99 ms | catch-up p95 ms, tilecast / noVNC | shown, tilecast / noVNC |\n|---|---|---|---|---|\n${lines.join('\n')}\n` : '';
}

/** Per LTE row with a sparse stretch (sparseDelivery): what was queued when it began against what it delivers. */
function sparseTable(results) {
  const rows = results.filter((r) => !r.error && r.sparse);
  if (!rows.length) return '';
  const kb = (b) => (b / 1000).toFixed(1);
  let out = `\nSparse delivery: the trace has the link all but out from ${(rows[0].sparse.startMs / 1000).toFixed(1)} to ${(rows[0].sparse.endMs / 1000).toFixed(1)} s of each connection's trace (opportunities ≥ ${SPARSE_GAP_MS} ms apart; it delivers ${kb(rows[0].sparse.deliversBytes)} kB in that time). A square painted then can show before the stretch ends only once what the system had already queued in the link is through; with more queued than the stretch delivers, it shows (and its catch-up ends) after the stretch, in any viewer. Queued in the link when the stretch began, and by its first delivery (what was sent before the system could know the link had gone quiet), with the catch-up p95:\n\n| system | load | queued at the start, kB | queued at the first delivery, kB | catch-up p95 ms |\n|---|---|---|---|---|\n`;
  for (const r of rows) out += `| ${ROW_LABEL[r.row]} | ${r.load} | ${kb(r.sparse.queuedAtStartBytes ?? NaN)} | ${kb(r.sparse.queuedBytes)}${r.sparse.queuedBytes > r.sparse.deliversBytes ? ' (more than the stretch delivers)' : ''} | ${f0(r.catchup.p95)} |\n`;
  return out;
}

/** Browser rows: where the time goes, before the viewer has drawn the square on its canvas and after. */
function canvasTable(results) {
  const rows = results.filter((r) => !r.error && r.canvasSplit);
  if (!rows.length) return '';
  let out = `\nBrowser viewer, where the time goes: paint → the square on the viewer's canvas (the host, the link, the viewer's decode and its putImageData; read back after each putImageData, on the page or in the decode Worker that draws) → on the screen (Chromium compositing the page and putting it on its X display), per square shown, p50 / p95 / p99 ms:\n\n| link | load | paint → canvas | canvas → screen | squares |\n|---|---|---|---|---|\n`;
  for (const r of rows) out += `| ${r.link} | ${r.load} | ${trio(r.canvasSplit.paintToCanvas)} | ${trio(r.canvasSplit.canvasToScreen)} | ${r.canvasSplit.squares} |\n`;
  return out;
}

/** With --runs N: each run's own figures beside the pooled row, the spread a difference must beat. */
function runsTable(results) {
  const rows = results.filter((r) => r.runs || r.failedRuns);
  if (!rows.length) return '';
  const each = (r, f) => (r.runs ?? []).map(f).join(' / ') || '-';
  let out = '\nEach run on its own (the rows above pool their squares): p50, p95 and catch-up p95 ms, and squares shown (while current), run by run:\n\n| system | link | load | p50 | p95 | catch-up p95 | shown (while current) | runs that failed |\n|---|---|---|---|---|---|---|---|\n';
  for (const r of rows) {
    const cur = whileCurrent(r).runs;
    out += `| ${ROW_LABEL[r.row]} | ${r.link} | ${r.load} | ${each(r, (x) => f0(x.p50))} | ${each(r, (x) => f0(x.p95))} | ${each(r, (x) => f0(x.catchupP95))} | ${each(r, (x, i) => `${x.shown}${cur[i] === undefined ? '' : ` (${cur[i]})`}`)} | ${(r.failedRuns ?? []).join('; ') || 'none'} |\n`;
  }
  return out;
}

/** Writes latency.json (a new run), latency.md and the plots; `printOnly` (a saved run, --print): the report on stdout, nothing written. */
function report(results, traces, saved = null, printOnly = false) {
  const load = saved ? saved.machineLoad : `${loadAtStart} at the start, ${os_load()} at the end`;
  const json = saved ?? { date: new Date().toISOString(), squares: SQUARES, intervalMs: INTERVAL_MS, jitterMs: +JITTER_MS.toFixed(2), screen: `${W}x${H}`, trace: traces ? TRACE : null, delayMs: DELAY_MS, leadMs: LEAD_MS, runs: RUNS, machineLoad: load, cores: require('node:os').cpus().length, results };
  const jf = saved ? null : writeResult('latency.json', json, quick);
  const runs = json.runs ?? 1;
  let md = `# Glass-to-glass latency (bench/latency.js)\n\n${json.date}; ${runs > 1 ? `${runs} runs of each row (the systems taking turns), each of ` : ''}${json.squares} squares every ${json.intervalMs} ms${json.jitterMs ? ` (each up to ${json.jitterMs.toFixed(1)} ms later, pseudo-randomly, so they meet a 60 Hz frame clock at every phase)` : ''} on a ${json.screen.replace('x', '×')} screen; LTE = ${TRACE} with ${DELAY_MS} ms one-way each way, every connection starting at the same trace time; machine load average (1/5/15 min) ${load} on ${json.cores} cores.\n\n`;
  md += '| system | link | load | p50 / p95 / p99 ms | shown / painted (while current) | catch-up p50 / p95 / p99 ms | link floor p50 / p95 / p99 ms | excess over floor p50 / p95 / p99 ms | bytes sent per square interval (median) |\n|---|---|---|---|---|---|---|---|---|\n';
  for (const r of results) {
    if (r.error) { md += `| ${ROW_LABEL[r.row]} | ${r.link} | ${r.load} | failed: ${r.error} | | | | | |\n`; continue; }
    md += `| ${ROW_LABEL[r.row]} | ${r.link} | ${r.load} | ${trio(r.latency)} | ${shownCell(r)} | ${trio(r.catchup)} | ${trio(r.floor)} | ${trio(r.excess)} | ${r.bytesPerSquare ?? '-'} |\n`;
  }
  md += runsTable(results);
  md += targetsTable(results, runs);
  md += browserPeerTable(results);
  md += sparseTable(results);
  md += canvasTable(results);
  const syncRule = results.some((r) => 'seenBeforeXSync' in r) ? 'a sight before that, while a busy X server had not yet answered, counts as 0' : 'this run predates the before-drawing stamp: a sight before XSync returned counted as a wrong code';
  md += `\nLatency: a square painted on the host display (after XSync; ${syncRule}) to its first sight on the viewer's screen (Chromium or vncviewer on Xvfb, read every ~1 ms) or in the Node viewer's framebuffer. Catch-up: to that square or a newer one being visible. Shown while current: seen before the next square was painted; a square first seen after that was already stale on the host's screen (bench/lib/shownWhileCurrent.js). Link floor: the k-th delivery opportunity at or after the paint + the one-way delay, k = opportunities needed by the bytes the server sent between that paint and the next (the last column; under load the same system's idle median, background bytes not being attributable).\n`;
  if (printOnly) return console.log(md);
  const mf = writeResult('latency.md', md, quick);
  const ok = results.filter((r) => !r.error);
  const groups = [...new Set(ok.map((r) => `${r.link} ${r.load}`))];
  const series = [...new Set(ok.map((r) => ROW_LABEL[r.row]))];
  for (const p of ['p50', 'p95']) {
    writeResult(`latency-${p}.svg`, barChart({ title: `Glass-to-glass latency ${p}`, unit: 'ms', series,
      groups: groups.map((g) => ({ label: g, values: Object.fromEntries(ok.filter((r) => `${r.link} ${r.load}` === g).map((r) => [ROW_LABEL[r.row], r.latency[p]])) })) }), quick);
  }
  for (const g of groups) {
    writeResult(`latency-cdf-${g.replace(' ', '-')}.svg`, cdfChart({ title: `Glass-to-glass latency, ${g}`, unit: 'ms', curves: ok.filter((r) => `${r.link} ${r.load}` === g).map((r) => ({ label: ROW_LABEL[r.row], values: r.samples })) }), quick);
  }
  console.log(`\n${md}\nresults: bench/results/${jf ? `${jf}, ` : ''}${mf}`);
}

const os_load = () => require('node:os').loadavg().map((v) => v.toFixed(2)).join(' ');

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
