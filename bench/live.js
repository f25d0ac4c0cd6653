#!/usr/bin/env node
// Live streaming over an emulated LTE link: update-to-display latency, bytes and
// bitrate, for tilecast's flow control and for a naive baseline (the same
// engine sending every captured change with no flow control and no quality
// ladder) in the same run.
//
//   node bench/live.js [--quick] [--seconds N]
//
// Link: ../shared/traces/ATT-LTE-driving.down (host -> viewer) and .up (viewer ->
// host) with 20 ms one-way delay each way, through LinkEmulator. Latency is
// displayedAt - oldestChangeTime of each update (same machine, same clock):
// from the oldest change an update carries (updates coalesce damage while the
// link is busy) to the viewer having it in its framebuffer.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { createHost, connectViewer } = require('tilecast');
const { LinkEmulator, DeliveryTrace } = require('tilecast/testing');
const { TypingWorkload, ScrollWorkload } = require('./lib/liveWorkloads');

const quick = process.argv.includes('--quick');
const secondsArg = process.argv.indexOf('--seconds');
const seconds = secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : quick ? 10 : 90;
const traceDir = path.join(__dirname, '..', '..', 'shared', 'traces');
const TRACE = 'ATT-LTE-driving';
const DELAY_MS = 20;

const { pct } = require('./lib/percentile');
const NAIVE_FLOW = { maxInflightUpdates: 1e9, minInflightBytes: 1e15 };

async function run(workloadName, mode, traces) {
  const source = workloadName === 'typing' ? new TypingWorkload() : new ScrollWorkload();
  const host = await createHost({ source, fps: 30, ...(mode === 'naive' ? { flow: NAIVE_FLOW, adaptiveQuality: false } : {}) });
  const emu = await LinkEmulator.start({
    targetPort: host.port,
    down: { trace: traces.down, delayMs: DELAY_MS, queueBytes: 256 * 1024 },
    up: { trace: traces.up, delayMs: DELAY_MS, queueBytes: 256 * 1024 },
  });
  const samples = []; // [elapsed s, latency ms, excess over the link floor ms]
  const t0 = performance.now();
  const epoch = performance.timeOrigin + t0; // ~ when the emulated link starts
  const viewer = connectViewer(`ws://127.0.0.1:${emu.port}/`, { timeoutMs: 120_000 });
  viewer.on('error', () => {});
  host.on('ack', (a) => {
    // The earliest this change could have reached the viewer on this link (first byte).
    const t = a.oldestChangeTime - epoch;
    const floor = traces.down.timeOf(traces.down.firstAtOrAfter(Math.max(0, t))) - t + DELAY_MS;
    samples.push([(performance.now() - t0) / 1000, a.displayedAt - a.oldestChangeTime, a.displayedAt - a.oldestChangeTime - floor]);
  });
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const stats = host.viewers()[0];
  const bytes = stats ? stats.bytesSent : 0;
  viewer.close();
  await emu.close();
  await host.close();
  const lat = samples.map((s) => s[1]).sort((a, b) => a - b);
  const excess = samples.map((s) => s[2]).sort((a, b) => a - b);
  // Queueing-delay trend: p50 latency per window of the run.
  const windowS = Math.max(5, Math.round(seconds / 6));
  const windows = [];
  for (let w = 0; w * windowS < seconds; w++) {
    const inW = samples.filter((s) => s[0] >= w * windowS && s[0] < (w + 1) * windowS).map((s) => s[1]).sort((a, b) => a - b);
    windows.push(inW.length ? Math.round(pct(inW, 50)) : null);
  }
  return {
    workload: workloadName, mode, seconds, updates: samples.length, bytes, meanKbps: (bytes * 8) / seconds / 1000,
    p50: pct(lat, 50), p95: pct(lat, 95), p99: pct(lat, 99), windowSeconds: windowS, p50ByWindow: windows,
    excessOverFloor: { p50: pct(excess, 50), p95: pct(excess, 95) },
  };
}

/**
 * The link's own floor for typing, independent of any sender: for a keystroke at
 * time t (at the typing cadence over the run), the earliest a byte can reach the
 * viewer is the next downlink opportunity at or after t plus the one-way delay.
 * No engine can beat these percentiles on this trace segment. Per update, the
 * bench also reports latency minus this floor: what the engine itself adds.
 */
function typingLinkFloor(trace, cps = 6) {
  const lat = [];
  for (let t = 0; t < seconds * 1000; t += 1000 / cps) lat.push(trace.timeOf(trace.firstAtOrAfter(t)) - t + DELAY_MS);
  lat.sort((a, b) => a - b);
  return { p50: pct(lat, 50), p95: pct(lat, 95), p99: pct(lat, 99) };
}

async function main() {
  const files = ['down', 'up'].map((d) => path.join(traceDir, `${TRACE}.${d}`));
  for (const f of files) {
    if (!fs.existsSync(f)) {
      console.error(`bench/live.js: trace ${f} is missing: the shared traces folder must sit beside the project. Skipping the live benchmark.`);
      return;
    }
  }
  const traces = { down: DeliveryTrace.load(files[0]), up: DeliveryTrace.load(files[1]) };
  console.log(`# Live streaming over ${TRACE} (down ${traces.down.meanMbps.toFixed(2)} Mbit/s mean, up ${traces.up.meanMbps.toFixed(2)} Mbit/s mean), ${DELAY_MS} ms one-way, ${seconds} s per run`);
  console.log('| workload | sender | updates | KiB sent | mean kbit/s | p50 ms | p95 ms | p99 ms | p50 per window (ms) | over link floor p50/p95 ms |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  const rows = [];
  const floor = typingLinkFloor(traces.down);
  console.log(`| typing | link floor (no sender can do better) | - | - | - | ${floor.p50.toFixed(0)} | ${floor.p95.toFixed(0)} | ${floor.p99.toFixed(0)} | - | - |`);
  for (const workload of ['typing', 'scroll']) {
    for (const mode of ['tilecast', 'naive']) {
      const r = await run(workload, mode, traces);
      rows.push(r);
      console.log(`| ${workload} | ${mode === 'naive' ? 'naive (no flow control)' : 'tilecast'} | ${r.updates} | ${(r.bytes / 1024).toFixed(0)} | ${r.meanKbps.toFixed(0)} | ${r.p50.toFixed(0)} | ${r.p95.toFixed(0)} | ${r.p99.toFixed(0)} | ${r.p50ByWindow.join(' ')} | ${workload === 'typing' ? `${r.excessOverFloor.p50.toFixed(0)} / ${r.excessOverFloor.p95.toFixed(0)}` : '-'} |`);
    }
  }
  const dir = path.join(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const out = path.join(dir, quick ? 'live-quick.json' : 'live.json');
  fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), trace: TRACE, delayMs: DELAY_MS, seconds, targets: { typingP95: '<= 150 ms', scrollP95: '<= 400 ms' }, typingLinkFloor: floor, rows }, null, 2) + '\n');
  console.log(`\nresults: ${path.relative(process.cwd(), out)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
