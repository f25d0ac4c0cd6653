#!/usr/bin/env node
// Soak: host memory over time while viewers come and go.
//
//   node bench/soak.js [--quick] [--minutes N] [--max-viewers N] [--seed N]
//
// One host in a child process of its own (bench/lib/memHost.js, --expose-gc)
// serves the scene desktop (SceneSource, looping: desktop, editor, typing,
// document, Japanese mail; 1920×1080) and reports its memory every second
// (RSS, heapUsed, external, arrayBuffers). Node viewers in two other processes
// (bench/lib/memViewers.js) join and leave every few seconds, at most
// --max-viewers (8) at once, half of them through the LTE link emulator
// (ATT-LTE-driving, 20 ms each way), half direct. Every minute the screen stands
// still for 12 s (a quiet period); at its end every viewer that was connected
// when it began and is still connected must hold exactly the host's screen.
//
// Reported: memory over time (soak-memory.svg), least-squares slopes of RSS
// and external memory after the warm-up (2 min; 10 s with --quick) in MiB per
// hour, both plain and with the number of connected viewers held fixed (a
// regression on time and viewer count); target: flat after warm-up (here:
// |slope| ≤ 10 MiB/h with the viewer count held fixed). Also the host's memory
// with no viewers before and after the run (after a forced GC), and the quiet
// period checks. Default 10 minutes; --quick (CI): 30 s, 2 viewers.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { Child, sleep } = require('./lib/child');
const { linearFit, fit2 } = require('./lib/fit');
const { lineChart } = require('./lib/svg');
const { writeResult } = require('./lib/results');
const { seededRandom } = require('tilecast/testing');

const argv = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const quick = argv.includes('--quick');
const seconds = Math.round((quick ? 0.5 : arg('--minutes', 10)) * 60);
const maxConcurrent = arg('--max-viewers', quick ? 2 : 8);
const warmupS = quick ? 10 : Math.min(120, seconds / 4);
const QUIET_EVERY_S = quick ? 30 : 60;
const QUIET_S = 12;
const FLAT_MIB_PER_H = 10;
const TRACE = 'ATT-LTE-driving';
const DELAY_MS = 20;
const traceDir = path.join(__dirname, '..', '..', 'shared', 'traces');
const MiB = 1024 * 1024;
// `reported`: native memory reported to V8 (AdjustExternalMemory, the encoders'
// screen copies and cache mirrors), which Node 20 leaves out of
// process.memoryUsage().external.
const KEYS = ['rss', 'external', 'reported', 'heapUsed', 'arrayBuffers'];
// Where the memory is (not judged; they say which owner a slope comes from): V8's heap as
// reserved, the coding buffer sets kept between encodes, the memory mapped for content cache
// entries, glibc's allocated, free-but-kept and mmapped bytes (mallinfo2; absent where
// bench/lib/mallocProbe.c cannot be built), and the kernel's anonymous and file parts of RSS.
const OWNER_KEYS = ['heapTotal', 'codingIdle', 'cacheMapped', 'mallocInUse', 'mallocFree', 'mallocMmapped', 'rssAnon', 'rssFile'];
const SAMPLE_FIELDS = ['t', 'viewers', ...KEYS, ...OWNER_KEYS];


async function main() {
  const random = seededRandom(arg('--seed', 1)); // the join/leave schedule reproduces
  const traceFiles = ['down', 'up'].map((d) => path.join(traceDir, `${TRACE}.${d}`));
  const haveTraces = traceFiles.every((f) => fs.existsSync(f));
  if (!haveTraces) {
    console.error(`bench/soak.js: the shared traces folder ${traceDir} (or ${TRACE}.down/.up in it) is MISSING: every viewer connects directly; no viewer goes through the LTE link emulator in this run.`);
  }
  console.log(`# Soak: ${seconds} s, viewers joining and leaving (at most ${maxConcurrent} at once), ${haveTraces ? `half through ${TRACE} (${DELAY_MS} ms each way)` : 'all direct (no traces)'}; warm-up ${warmupS} s`);

  const host = new Child('memHost.js', { source: 'scene', maxViewers: maxConcurrent + 2 }, { execArgv: ['--expose-gc'] });
  const hello = await host.ready;
  const samples = [];
  host.on((msg) => {
    if (msg.type === 'mem') samples.push(msg);
    if (msg.type === 'error') console.error(`host error: ${msg.message}`);
  });
  const before = await host.call('gc');
  const vArg = { port: hello.port, ...(haveTraces ? { traceDown: traceFiles[0], traceUp: traceFiles[1], delayMs: DELAY_MS } : {}) };
  const groups = [new Child('memViewers.js', vArg), ...(quick ? [] : [new Child('memViewers.js', vArg)])];
  await Promise.all(groups.map((g) => g.ready));

  const active = new Map(); // vid -> { via, group, joinedAt }
  const counts = { joins: 0, leaves: 0, lte: 0, direct: 0, drops: 0, errors: [] };
  let nextVid = 1;
  const t0 = samples.length ? samples[samples.length - 1].t : 0;
  const start = performance.now();
  const elapsed = () => (performance.now() - start) / 1000;
  const join = async (via) => {
    const vid = nextVid++;
    const group = groups[vid % groups.length];
    active.set(vid, { via, group, joinedAt: elapsed() });
    counts.joins++;
    counts[via]++;
    await group.call('join', { vid, via });
  };
  const leave = async (vid) => {
    const v = active.get(vid);
    active.delete(vid);
    counts.leaves++;
    const r = await v.group.call('leave', { vid });
    counts.drops += r.drops ?? 0;
    for (const e of r.errors ?? []) if (counts.errors.length < 20) counts.errors.push(`viewer ${vid} (${v.via}): ${e}`);
  };
  const pickVia = () => (haveTraces && random() < 0.5 ? 'lte' : 'direct');

  const quietChecks = [];
  let quiet = null; // { startedAt, candidates }
  const startQuiet = async () => {
    await host.call('quiet', { on: true });
    quiet = { startedAt: elapsed(), candidates: [...active.entries()].filter(([, v]) => elapsed() - v.joinedAt > 0.5).map(([vid]) => vid) };
  };
  const endQuiet = async () => {
    const { hash } = await host.call('hash');
    const still = quiet.candidates.filter((vid) => active.has(vid));
    const seen = [];
    for (const g of groups) {
      const r = await g.call('hashes', { vids: still.filter((vid) => active.get(vid).group === g) }, 120_000);
      seen.push(...r.viewers);
    }
    const stayed = seen.filter((v) => v.connected && v.drops === 0);
    const identical = stayed.filter((v) => v.hash === hash);
    const check = {
      at: Math.round(quiet.startedAt), quietS: Math.round(elapsed() - quiet.startedAt), viewers: stayed.length, identical: identical.length,
      lte: stayed.filter((v) => v.via === 'lte').length,
      mismatched: stayed.filter((v) => v.hash !== hash).map((v) => ({ vid: v.vid, via: v.via, updates: v.updates, hash: v.hash })),
      leftDuring: quiet.candidates.length - still.length,
    };
    quietChecks.push(check);
    console.log(`quiet period at ${check.at} s: ${check.identical}/${check.viewers} viewers byte-identical to the host's screen (${check.lte} via LTE)${check.mismatched.length ? ` MISMATCH: ${JSON.stringify(check.mismatched)}` : ''}`);
    await host.call('quiet', { on: false });
    quiet = null;
  };

  // Quick: two viewers (one LTE, one direct); one leaves and another joins at 8 s.
  // Full: every 2–5 s a viewer joins (below the cap, more likely when few are on)
  // or the longest-connected viewer past 5 s leaves.
  let nextChurn = 0;
  let lastReport = 0;
  while (elapsed() < seconds) {
    const t = elapsed();
    const inQuiet = t % QUIET_EVERY_S >= QUIET_EVERY_S - QUIET_S;
    if (inQuiet && !quiet && t > QUIET_S) await startQuiet();
    if (!inQuiet && quiet) await endQuiet();
    if (t >= nextChurn) {
      if (quick) {
        if (active.size === 0 && counts.joins === 0) {
          await join(haveTraces ? 'lte' : 'direct');
          await join('direct');
        } else if (t >= 8 && counts.leaves === 0) {
          await leave([...active.keys()][1]);
          await join('direct');
        }
        nextChurn = t + 1;
      } else {
        const old = [...active.entries()].filter(([, v]) => t - v.joinedAt > 5);
        const wantJoin = active.size < maxConcurrent && (active.size < 2 || random() < 0.55 || old.length === 0);
        if (wantJoin) await join(pickVia());
        else if (old.length) await leave(old[Math.floor(random() * old.length)][0]);
        nextChurn = t + 2 + random() * 3;
      }
    }
    if (t - lastReport >= 60) {
      lastReport = t;
      const m = samples[samples.length - 1];
      if (m) console.log(`${Math.round(t)} s: ${active.size} viewers, RSS ${(m.rss / MiB).toFixed(1)} MiB, external ${(m.external / MiB).toFixed(1)} MiB, heapUsed ${(m.heapUsed / MiB).toFixed(1)} MiB`);
    }
    await sleep(200);
  }
  if (quiet) await endQuiet();

  // Everyone leaves; the host's memory with no viewers, after a forced GC.
  for (const vid of [...active.keys()]) await leave(vid);
  await sleep(3000);
  const after = await host.call('gc');
  const beforeTrim = await host.call('malloc', { trim: false });
  const afterTrim = await host.call('malloc', { trim: true });
  const afterTrimSample = await host.call('sample');
  for (const g of groups) await g.stop();
  await host.stop();

  // Slopes after the warm-up, MiB per hour.
  const run = samples.filter((s) => s.t >= t0 && s.t <= t0 + seconds).map((s) => ({ ...s, t: s.t - t0 }));
  const late = run.filter((s) => s.t >= warmupS);
  const ts = late.map((s) => s.t / 3600);
  const slopes = {};
  const keys = [...KEYS, ...OWNER_KEYS.filter((k) => late.length > 0 && late.every((s) => Number.isFinite(s[k])))];
  for (const k of keys) {
    const ys = late.map((s) => s[k] / MiB);
    const plain = linearFit(ts, ys);
    const adjusted = fit2(ts, late.map((s) => s.viewers), ys);
    slopes[k] = { mibPerHour: plain.slope, mibPerHourAtFixedViewers: adjusted.slopeT, standardError: adjusted.seT, mibPerViewer: adjusted.perV, intercept: plain.intercept, adjustedIntercept: adjusted.intercept };
  }
  const judged = ['rss', 'external', 'reported'];
  const flat = judged.every((k) => Math.abs(slopes[k].mibPerHourAtFixedViewers) <= FLAT_MIB_PER_H);
  // Not met, but each slope is within two standard errors of the target: this run is too short to tell.
  const unsettled = !flat && judged.every((k) => Math.abs(slopes[k].mibPerHourAtFixedViewers) - 2 * slopes[k].standardError <= FLAT_MIB_PER_H);
  const allIdentical = quietChecks.every((c) => c.identical === c.viewers);
  const checkedViewers = quietChecks.reduce((n, c) => n + c.viewers, 0);

  const mib = (b) => (b / MiB).toFixed(1);
  const md = [];
  md.push(`# Soak: host memory while viewers come and go`, '');
  md.push(`${new Date().toISOString()}; ${seconds} s; scene desktop 1920×1080 at 30 fps (SceneSource, looping); ${counts.joins} joins, ${counts.leaves} leaves, at most ${maxConcurrent} viewers at once; ${haveTraces ? `${counts.lte} through the LTE emulator (${TRACE}, ${DELAY_MS} ms each way), ${counts.direct} direct` : `**traces missing (${traceDir}): all ${counts.direct} direct**`}. Host and viewers in separate processes; host memory from process.memoryUsage() every second. Warm-up ${warmupS} s.`, '');
  md.push(`![memory over time](soak-memory${quick ? '-quick' : ''}.svg)`, '');
  md.push(`## Slope after warm-up (least squares, MiB per hour)`, '');
  const verdict = quick ? 'not judged (--quick: 20 s after warm-up is too short for a slope)' : flat ? 'met' : unsettled ? `NOT met, but not settled either: every slope is within two standard errors of ${FLAT_MIB_PER_H} MiB/h (run longer, e.g. --minutes 60)` : 'NOT met';
  md.push(`Target: flat after warm-up (|slope| of RSS, external and reported ≤ ${FLAT_MIB_PER_H} MiB/h with the viewer count held fixed) — **${verdict}**.`, '');
  md.push('| | slope, MiB/h | slope at a fixed viewer count, MiB/h (± standard error) | MiB per connected viewer (same fit) |', '|---|---|---|---|');
  for (const k of keys) md.push(`| ${k} | ${slopes[k].mibPerHour.toFixed(1)} | ${slopes[k].mibPerHourAtFixedViewers.toFixed(1)}${Number.isFinite(slopes[k].standardError) ? ` ± ${slopes[k].standardError.toFixed(1)}` : ''} | ${Number.isFinite(slopes[k].mibPerViewer) ? slopes[k].mibPerViewer.toFixed(2) : '— (viewer count did not vary)'} |`);
  md.push('', `The plain slope moves with how many viewers happen to be connected (each holds its own encoder state); the second column is the time slope of a fit on time and viewer count together, with its standard error (samples a second apart are correlated: the error counts n(1−ρ)/(1+ρ) independent samples, ρ the residuals' lag-1 autocorrelation). "reported" is the native memory the encoders report to V8 (AdjustExternalMemory: their screen copies and content cache mirrors; not the coding buffers, one pool for the process): Node ${process.versions.node} does not count it in process.memoryUsage().external, so it is read separately (V8's external-memory counter via napi_adjust_external_memory(env, 0), bench/lib/mallocProbe.c, minus arrayBuffers, which that counter also holds). The last rows say whose memory moves (not judged): heapTotal, V8's heap as reserved (heapUsed is what lives in it); codingIdle, the coding buffer sets kept between encodes (codingBufferStats().idleBytes); cacheMapped, the memory mapped for all content cache entries (cacheMappedBytes); mallocInUse, mallocFree and mallocMmapped, what glibc has handed out from its arenas, what it keeps free in them, and its mmapped chunks (mallinfo2); rssAnon and rssFile, the kernel's split of RSS into anonymous memory and mapped files (/proc/self/status).`, '');
  md.push(`## No viewers, after a forced GC`, '');
  md.push('| | RSS MiB | external MiB | reported MiB | heapUsed MiB | arrayBuffers MiB |', '|---|---|---|---|---|---|');
  const row = (label, m) => md.push(`| ${label} | ${mib(m.rss)} | ${mib(m.external)} | ${mib(m.reported)} | ${mib(m.heapUsed)} | ${mib(m.arrayBuffers)} |`);
  row('before the first viewer', before);
  row('after the last viewer left', after);
  row('same, after malloc_trim(0)', afterTrimSample);
  if (afterTrim.malloc) md.push('', `glibc (mallinfo2) after the last viewer left: ${mib(beforeTrim.malloc.inUse)} MiB allocated, ${mib(beforeTrim.malloc.free)} MiB free but kept in its arenas, ${mib(beforeTrim.malloc.mmapped)} MiB in mmapped chunks; after malloc_trim(0): ${mib(afterTrim.malloc.free)} MiB free kept.`);
  else md.push('', `(malloc_trim not available: ${afterTrim.reason})`);
  md.push('', `## Quiet periods (screen still for ${QUIET_S} s)`, '');
  md.push(`Every viewer connected when a quiet period began and still connected at its end must hold exactly the host's screen: **${allIdentical ? 'all' : 'NOT all'}** (${quietChecks.reduce((n, c) => n + c.identical, 0)}/${checkedViewers} viewer checks over ${quietChecks.length} quiet periods).`, '');
  md.push('| at s | viewers checked | of them via LTE | byte-identical | left during the quiet period |', '|---|---|---|---|---|');
  for (const c of quietChecks) md.push(`| ${c.at} | ${c.viewers} | ${c.lte} | ${c.identical} | ${c.leftDuring} |`);
  md.push('', `Unexpected disconnects: ${counts.drops}.${counts.errors.length ? ` Viewer errors: ${counts.errors.join('; ')}` : ''}`, '');
  const text = md.join('\n');
  console.log(`\n${text}`);

  const minutes = (s) => s.t / 60;
  const fitLine = (k) => {
    const s = slopes[k];
    return [[warmupS / 60, s.intercept + (s.mibPerHour * warmupS) / 3600], [seconds / 60, s.intercept + (s.mibPerHour * seconds) / 3600]];
  };
  const svg = lineChart({
    title: `tilecast host memory, viewers joining and leaving (${seconds} s)`,
    xLabel: 'minutes', yLabel: 'MiB',
    series: [
      { label: 'RSS', points: run.map((s) => [minutes(s), s.rss / MiB]) },
      { label: 'external', points: run.map((s) => [minutes(s), s.external / MiB]) },
      { label: 'heapUsed', points: run.map((s) => [minutes(s), s.heapUsed / MiB]) },
      { label: 'arrayBuffers', points: run.map((s) => [minutes(s), s.arrayBuffers / MiB]) },
      { label: 'reported to V8 by native code', points: run.map((s) => [minutes(s), s.reported / MiB]) },
      { label: 'coding buffers kept', points: run.map((s) => [minutes(s), s.codingIdle / MiB]) },
      { label: 'content cache memory', points: run.map((s) => [minutes(s), s.cacheMapped / MiB]) },
      { label: `RSS fit ${slopes.rss.mibPerHour.toFixed(1)} MiB/h`, points: fitLine('rss'), dash: '6 4', colour: '#1f77b4', width: 2 },
      { label: `external fit ${slopes.external.mibPerHour.toFixed(1)} MiB/h`, points: fitLine('external'), dash: '6 4', colour: '#ff7f0e', width: 2 },
    ],
    right: { label: 'viewers connected', series: [{ label: 'viewers (right axis)', points: run.map((s) => [minutes(s), s.viewers]) }] },
    marks: [{ x: warmupS / 60, label: 'end of warm-up' }],
  });
  const json = {
    date: new Date().toISOString(), seconds, warmupS, maxConcurrent, trace: haveTraces ? TRACE : null, tracesMissing: !haveTraces, delayMs: DELAY_MS,
    targets: { slope: `flat after warm-up: |RSS and external slope at a fixed viewer count| <= ${FLAT_MIB_PER_H} MiB/h`, quiet: 'every viewer connected through a quiet period byte-identical to the host screen' },
    flat: quick ? null : flat, unsettled: quick ? null : unsettled, allIdentical, slopes, counts, before, after, mallocBeforeTrim: beforeTrim.malloc, afterTrim: { ...afterTrimSample, malloc: afterTrim.malloc }, quietChecks,
    samples: run.map((s) => SAMPLE_FIELDS.map((k) => (k === 't' ? Math.round(s.t * 10) / 10 : s[k] ?? null))),
    sampleFields: SAMPLE_FIELDS,
  };
  const files = [writeResult('soak.json', json, quick), writeResult('soak.md', `${text}\n`, quick), writeResult('soak-memory.svg', svg, quick)];
  console.log(`results: ${files.map((f) => `bench/results/${f}`).join(', ')}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
