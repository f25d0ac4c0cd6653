#!/usr/bin/env node
// The first screen after a 4G reconnect: bytes and time until the viewer is
// exact again, with the content cache resumed across the drop (tilecast's
// default) and without (the host's cacheResume: false: every tile is sent
// again), in the same run, over the same LTE trace segments.
//
//   node bench/reconnect.js [--quick]
//
// Each trial: a 1920×1080 office session (a real host and ViewerClient through
// LinkEmulator on ATT-LTE-driving, 20 ms one-way each way) shows four windows
// in turn (desktop, editor, document, japanese: the cache fills), then one of
// them again; the host drops the connection; the viewer reconnects (backoff
// fixed at 100 ms for both modes) and the bench measures the new
// connection's first update (bytes, CACHE_REF ops) and the time from the drop
// to the viewer's framebuffer equalling the screen, then raises another window
// and measures that too. Trial k starts the trace k × 9.7 s in, the same for
// both modes; modes alternate.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { createHost, connectViewer, PushSource } = require('tilecast');
const { LinkEmulator, DeliveryTrace } = require('tilecast/testing');
const { loadScene } = require('../dist/source/sceneSource.js');
const { writeResult } = require('./lib/results');

const quick = process.argv.includes('--quick');
const TRIALS = quick ? 2 : 8;
const TRACE = 'ATT-LTE-driving';
const DELAY_MS = 20;
const traceDir = path.join(__dirname, '..', '..', 'shared', 'traces');
const WINDOWS = ['desktop', 'editor', 'document', 'japanese'];

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};

/** Resolves when the viewer's framebuffer equals `frame` (now, or at a later update). */
async function exact(viewer, frame) {
  if (viewer.framebuffer?.equals(frame.data)) return;
  await viewer.waitFor(() => viewer.framebuffer?.equals(frame.data) ?? false, { timeoutMs: 60_000 });
}

/** Pushes `frame`; resolves with the bytes and CACHE_REF ops of the updates until the viewer shows it exactly. */
async function show(source, viewer, frame) {
  let bytes = 0, refs = 0;
  const count = (u) => { bytes += u.bytes; refs += u.ops.cacheRef; };
  viewer.on('update', count);
  const t0 = performance.now();
  source.push(frame);
  await exact(viewer, frame);
  viewer.off('update', count);
  return { bytes, refs, ms: performance.now() - t0 };
}

async function trial(k, mode, traces, frames) {
  const source = new PushSource();
  source.push(frames[0]);
  const host = await createHost({ source, fps: 30, ...(mode === 'fresh' ? { cacheResume: false } : {}) });
  const emu = await LinkEmulator.start({
    targetPort: host.port,
    epoch: performance.now() - k * 9700,
    down: { trace: traces.down, delayMs: DELAY_MS, queueBytes: 256 * 1024 },
    up: { trace: traces.up, delayMs: DELAY_MS, queueBytes: 256 * 1024 },
  });
  const viewer = connectViewer(`ws://127.0.0.1:${emu.port}/`, { timeoutMs: 120_000, minBackoffMs: 100, maxBackoffMs: 100 });
  viewer.on('error', () => {});
  try {
    await exact(viewer, frames[0]);
    for (const f of frames.slice(1)) await show(source, viewer, f);
    const atDrop = frames[k % frames.length];
    await show(source, viewer, atDrop);
    // The drop, and the new connection's first update.
    const first = new Promise((resolve) => viewer.once('hello', () => viewer.once('update', resolve)));
    const t0 = performance.now();
    host.dropViewers();
    const keyframe = await first;
    await exact(viewer, atDrop);
    const toExactMs = performance.now() - t0;
    const resumed = host.viewers()[0]?.cacheResumed ?? null;
    const next = await show(source, viewer, frames[(k + 1) % frames.length]);
    return { k, mode, window: WINDOWS[k % frames.length], keyframeBytes: keyframe.bytes, keyframeRefs: keyframe.ops.cacheRef, toExactMs, resumedEntries: resumed, nextWindow: next };
  } finally {
    viewer.close();
    await emu.close();
    await host.close();
  }
}

async function main() {
  const files = ['down', 'up'].map((d) => path.join(traceDir, `${TRACE}.${d}`));
  for (const f of files) {
    if (!fs.existsSync(f)) {
      console.error(`bench/reconnect.js: trace ${f} is missing: the shared traces folder must sit beside the project. Skipping.`);
      return;
    }
  }
  const traces = { down: DeliveryTrace.load(files[0]), up: DeliveryTrace.load(files[1]) };
  const frames = WINDOWS.map((n) => loadScene(n));
  const rows = [];
  for (let k = 0; k < TRIALS; k++) {
    for (const mode of k % 2 ? ['fresh', 'resume'] : ['resume', 'fresh']) {
      const r = await trial(k, mode, traces, frames);
      rows.push(r);
      console.log(`trial ${k} ${mode}: ${r.window}: keyframe ${r.keyframeBytes} B (${r.keyframeRefs} refs), exact ${r.toExactMs.toFixed(0)} ms after the drop; next window ${r.nextWindow.bytes} B, ${r.nextWindow.ms.toFixed(0)} ms`);
    }
  }
  const of = (mode, f) => rows.filter((r) => r.mode === mode).map(f);
  const summary = {};
  for (const mode of ['resume', 'fresh']) {
    summary[mode] = {
      keyframeBytes: median(of(mode, (r) => r.keyframeBytes)),
      toExactMs: median(of(mode, (r) => r.toExactMs)),
      nextWindowBytes: median(of(mode, (r) => r.nextWindow.bytes)),
      nextWindowMs: median(of(mode, (r) => r.nextWindow.ms)),
    };
  }
  const ratio = (f) => summary.resume[f] / summary.fresh[f];
  const md = [
    '# The first screen after a reconnect (bench/reconnect.js)',
    '',
    `${new Date().toISOString()}; ${TRIALS} trials per mode, 1920×1080, ${TRACE} with ${DELAY_MS} ms one-way each way (trial k starts the trace k × 9.7 s in, the same for both modes), viewer backoff 100 ms. Resume: tilecast's default (the content cache survives the drop). Fresh: the host's \`cacheResume: false\` (the baseline: a reconnect starts with an empty cache, every tile sent again).`,
    '',
    '| | first update after the drop (median bytes) | drop → screen exact (median ms) | next window raised (median bytes) | next window (median ms) |',
    '|---|---|---|---|---|',
    ...['resume', 'fresh'].map((m) => `| ${m} | ${summary[m].keyframeBytes.toFixed(0)} | ${summary[m].toExactMs.toFixed(0)} | ${summary[m].nextWindowBytes.toFixed(0)} | ${summary[m].nextWindowMs.toFixed(0)} |`),
    `| resume ÷ fresh | ${ratio('keyframeBytes').toFixed(3)}× | ${ratio('toExactMs').toFixed(2)}× | ${ratio('nextWindowBytes').toFixed(3)}× | ${ratio('nextWindowMs').toFixed(2)}× |`,
    '',
    'Per trial:',
    '',
    '| trial | window at the drop | mode | first update bytes (CACHE_REF ops) | entries resumed | drop → exact ms | next window bytes / ms |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.k} | ${r.window} | ${r.mode} | ${r.keyframeBytes} (${r.keyframeRefs}) | ${r.resumedEntries ?? '-'} | ${r.toExactMs.toFixed(0)} | ${r.nextWindow.bytes} / ${r.nextWindow.ms.toFixed(0)} |`),
    '',
  ].join('\n');
  console.log(`\n${md}`);
  writeResult('reconnect.md', md, quick);
  const file = writeResult('reconnect.json', { date: new Date().toISOString(), trace: TRACE, delayMs: DELAY_MS, trials: TRIALS, summary, rows }, quick);
  console.log(`results: bench/results/${file}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
