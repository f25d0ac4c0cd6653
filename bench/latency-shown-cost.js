#!/usr/bin/env node
// What showing more squares would cost tilecast's browser viewer in a latency run
// (issue 20's LTE-under-load targets: "at least as many squares shown" against
// "p95 ≤ 0.2× TigerVNC's"). Latency is taken over the squares shown, so every
// square added to "shown" adds a sample. The squares the browser did not show
// but the Node viewer did (same host, same link, same run) are the candidates:
// each is added with the Node viewer's latency plus the browser's own path at
// the median, cheapest first, which is the best case for any rule that would
// show more of them.
//
//   node bench/latency-shown-cost.js bench/results/latency-lte-scroll-runs.json [link] [load]
//
// Reads a latency.js JSON with the rows tilecast-browser, tilecast-node and
// tigervnc-lossless of one link and load (the first found unless named).
'use strict';
const fs = require('node:fs');

const { pct } = require('./lib/percentile'); // latency.js's, so the measured row reads as in its report
/** A row's raw runs (the JSON of one run keeps its raw record alone). */
const runsOf = (r) => (Array.isArray(r.raw) ? r.raw : [r.raw]);

/** Square → ms from its paint (after XSync; a sight before that counts as 0) to its first sight. */
function latencies(raw) {
  const painted = new Map(raw.paints.map(([k, , afterSync]) => [k, afterSync]));
  return new Map(raw.sightings.filter(([k]) => painted.has(k)).map(([k, t]) => [k, Math.max(0, t - painted.get(k))]));
}

/**
 * The browser row's squares with 0, 20, 40, TigerVNC's count and all of the candidates added:
 * { link, load, runs, ownPathMs, candidates, tiger: {shown, p50, p95}, steps: [{added, shown, p50, p95, latestMs}] }.
 * Throws when the JSON lacks the three rows (with their raw runs) of one link and load.
 */
function shownCost(results, link, load) {
  const rows = results.filter((r) => !r.error && r.raw && (!link || r.link === link) && (!load || r.load === load));
  const browser = rows.find((r) => r.row === 'tilecast-browser');
  const row = (name) => rows.find((r) => r.row === name && r.link === browser?.link && r.load === browser?.load);
  const node = row('tilecast-node'), tiger = row('tigervnc-lossless');
  if (!browser || !node || !tiger) throw new Error('needs the rows tilecast-browser, tilecast-node and tigervnc-lossless of one link and load, with their raw runs');
  if (runsOf(browser).length !== runsOf(node).length) throw new Error('the browser and Node rows have different numbers of runs');
  const ownPathMs = browser.latency.p50 - node.latency.p50;
  const shown = [], candidates = [];
  runsOf(browser).forEach((raw, run) => {
    const b = latencies(raw), n = latencies(runsOf(node)[run]);
    shown.push(...b.values());
    for (const [k, ms] of n) if (!b.has(k)) candidates.push(ms + ownPathMs);
  });
  candidates.sort((x, y) => x - y);
  const counts = [...new Set([0, 20, 40, tiger.shown - shown.length, candidates.length])].filter((n) => n >= 0 && n <= candidates.length).sort((x, y) => x - y);
  const steps = counts.map((added) => {
    const all = shown.concat(candidates.slice(0, added));
    const sorted = all.sort((x, y) => x - y);
    return { added, shown: all.length, p50: pct(sorted, 50), p95: pct(sorted, 95), latestMs: added ? candidates[added - 1] : null };
  });
  return { link: browser.link, load: browser.load, runs: runsOf(browser).length, ownPathMs, candidates: candidates.length,
    tiger: { shown: tiger.shown, p50: tiger.latency.p50, p95: tiger.latency.p95 }, steps };
}

function main() {
  const [file, link, load] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node bench/latency-shown-cost.js <latency JSON> [link] [load]');
    process.exit(2);
  }
  let c;
  try {
    c = shownCost(JSON.parse(fs.readFileSync(file, 'utf8')).results, link, load);
  } catch (err) {
    console.error(`${file}: ${err.message}`);
    process.exit(2);
  }
  const f = (v) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
  const [measured] = c.steps;
  console.log(`${c.link} ${c.load}, ${c.runs} run(s): browser shown ${measured.shown}, p50 ${f(measured.p50)}, p95 ${f(measured.p95)};`);
  console.log(`the Node viewer showed ${c.candidates} squares the browser did not; each added at its Node latency + ${c.ownPathMs.toFixed(1)} ms`);
  console.log(`TigerVNC Tight lossless: shown ${c.tiger.shown}, p50 ${f(c.tiger.p50)}, p95 ${f(c.tiger.p95)} (0.2×: ${f(0.2 * c.tiger.p95)})\n`);
  console.log('| squares added | shown | p50 ms | p95 ms | latest square added, ms |\n|---|---|---|---|---|');
  for (const s of c.steps) {
    const label = s.added === 0 ? 'none (measured)' : s.shown === c.tiger.shown ? `${s.added} (TigerVNC's count)` : s.added === c.candidates ? `all ${s.added}` : `${s.added}`;
    console.log(`| ${label} | ${s.shown} | ${f(s.p50)} | ${f(s.p95)} | ${s.latestMs === null ? '' : f(s.latestMs)} |`);
  }
}

if (require.main === module) main();
module.exports = { shownCost };
