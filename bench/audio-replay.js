#!/usr/bin/env node
// Replays the frame arrivals a run of bench/audio.js saved (--arrivals DIR)
// through the jitter buffer as built now: two playout policies compared on
// identical arrivals, without the minutes and the noise of new runs.
//
//   node bench/audio.js --arrivals /tmp/arrivals      (once)
//   node bench/audio-replay.js /tmp/arrivals          (after each change to src/audio/jitterBuffer.ts and a build)
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { simulatePlayout } = require('./lib/playout');

const dir = process.argv[2];
if (!dir || !fs.existsSync(dir)) {
  console.error('usage: node bench/audio-replay.js DIR (the --arrivals folder of a bench/audio.js run)');
  process.exit(2);
}
console.log('| pixels | frames played | mouth-to-ear p50 / p95 / p99 ms | concealed % (outside outages) | underruns / lost / late / skipped | final playout delay ms |');
console.log('|---|---|---|---|---|---|');
for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
  const run = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  const inOutage = (t) => run.outages.some(([a, b]) => t - run.epoch >= a && t - run.epoch <= b + run.outageTailMs);
  const r = simulatePlayout(run.arrivals, { measureFrom: run.measureFrom, inOutage, pixels: run.pixelArrivals ?? null });
  console.log(`| ${run.pixels} | ${r.played} | ${r.mouthToEar.p50.toFixed(0)} / ${r.mouthToEar.p95.toFixed(0)} / ${r.mouthToEar.p99.toFixed(0)} | ${r.concealedPercent.toFixed(2)} (${r.concealedOutsideOutagesPercent.toFixed(2)}) | ${r.underruns} / ${r.lost} / ${r.late} / ${r.skipped} | ${r.finalPlayoutDelayMs?.toFixed(0) ?? '-'} |`);
}
