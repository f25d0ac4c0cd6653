#!/usr/bin/env node
// Memory per viewer, and memory returned when sessions close (D5).
//
//   node bench/viewers.js [--quick] [--counts 0,10,50,100] [--sessions 200] [--batch 20]
//
// The host runs in a child process of its own (bench/lib/memHost.js,
// --expose-gc) and serves a 1920×1080 PushSource: the editor scene with a
// comment typed a character at a time (bench/lib/frames.js). Node viewers
// connect directly over loopback from four other processes
// (bench/lib/memViewers.js), 25 viewers each at most, so 100 fit two cores.
//
// 1. Per-viewer memory. With 0, 10, 50 and 100 viewers connected: all caught
//    up to a still screen (every framebuffer equal to the host's screen and
//    every update acked), then three changes each viewer is brought up to date
//    with, so each has encoder state; then a forced GC and the host's RSS,
//    external memory and glibc's allocated bytes (mallinfo2). Reported as MiB
//    per additional viewer; target ≤ 2 MiB per additional in-sync viewer.
// 2. D5, closed sessions' memory returned: 200 sessions opened and closed in
//    batches of 20 against one fresh host (each batch in sync before it
//    closes); host RSS and external after each batch, before and after a forced
//    GC, then after malloc_trim(0). Repeated under glibc tunables (each in a
//    fresh host) to tell memory the process holds from free pages glibc keeps:
//    default, MALLOC_TRIM_THRESHOLD_=131072 (a fixed trim threshold, which
//    also turns off glibc's dynamic mmap threshold), MALLOC_ARENA_MAX=2.
//
// --quick (CI smoke): 0 and 4 viewers; 40 sessions, default allocator only.
'use strict';
const { Child, sleep, poll } = require('./lib/child');
const { median } = require('./lib/fit');
const { writeResult } = require('./lib/results');

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const COUNTS = opt('--counts', quick ? '0,4' : '0,10,50,100').split(',').map(Number);
const SESSIONS = Number(opt('--sessions', quick ? 40 : 200));
const BATCH = Number(opt('--batch', 20));
const GROUPS = quick ? 1 : 4;
const PER_VIEWER_TARGET_MIB = 2;
const D5_BOUNDS = { externalMiB: 32, rssMiB: 256 };
const MiB = 1024 * 1024;
const mib = (b) => (b / MiB).toFixed(1);
/** glibc's allocated bytes: arena chunks in use plus mmapped chunks (mallinfo2). */
const mallocd = (m) => (m ? m.inUse + m.mmapped : NaN);

async function startHost(maxViewers, env = {}) {
  const host = new Child('memHost.js', { source: 'push', maxViewers }, { execArgv: ['--expose-gc'], env: { ...process.env, ...env } });
  const hello = await host.ready;
  host.on((msg) => msg.type === 'error' && console.error(`host error: ${msg.message}`));
  return { host, port: hello.port };
}

/** Every viewer shows typedFrame(step) and the host has nothing in flight. */
async function inSync(host, groups, step, expected, timeoutMs = 180_000) {
  const r = await poll(async () => {
    let matched = 0, total = 0;
    for (const g of groups) {
      const m = await g.call('match', { step }, 60_000);
      matched += m.matched;
      total += m.total;
    }
    const s = await host.call('settled');
    return { ok: matched === expected && total === expected && s.viewers === expected && s.inflight === 0, matched, total, hostViewers: s.viewers, inflight: s.inflight };
  }, { everyMs: 300, timeoutMs });
  if (!r.ok) throw new Error(`viewers not in sync with step ${step}: ${JSON.stringify(r)}`);
}

/** Host memory after a forced GC: the median of three samples 300 ms apart, with glibc's figures. */
async function measure(host) {
  const xs = [];
  for (let i = 0; i < 3; i++) {
    xs.push(await host.call('gc'));
    await sleep(300);
  }
  const m = await host.call('malloc', { trim: false });
  const pick = (k) => median(xs.map((x) => x[k]));
  return { rss: pick('rss'), external: pick('external'), reported: pick('reported'), heapUsed: pick('heapUsed'), arrayBuffers: pick('arrayBuffers'), viewers: xs[0].viewers, malloc: m.malloc };
}

async function perViewer() {
  const maxN = Math.max(...COUNTS);
  const { host, port } = await startHost(maxN + 10);
  const groups = [];
  for (let i = 0; i < GROUPS; i++) groups.push(new Child('memViewers.js', { port }));
  await Promise.all(groups.map((g) => g.ready));
  let step = 0;
  let connected = 0;
  const rows = [];
  try {
    for (const n of COUNTS) {
      // Join in batches of 10 (round-robin over the viewer processes), each batch caught up before the next.
      while (connected < n) {
        const add = Math.min(10, n - connected);
        for (let i = 0; i < add; i++) {
          const vid = connected + i + 1;
          await groups[vid % GROUPS].call('join', { vid, via: 'direct' });
        }
        connected += add;
        await inSync(host, groups, step, connected);
      }
      // A few changes, so every viewer's encoder holds state past its keyframe.
      for (let k = 0; k < 3; k++) {
        await host.call('show', { step: ++step });
        await sleep(300);
      }
      if (n > 0) await inSync(host, groups, step, n);
      await sleep(1000);
      const m = await measure(host);
      rows.push({ viewers: n, ...m });
      console.log(`${n} viewers in sync: RSS ${mib(m.rss)} MiB, external ${mib(m.external)} MiB (arrayBuffers ${mib(m.arrayBuffers)}), reported ${mib(m.reported)} MiB, heapUsed ${mib(m.heapUsed)} MiB, malloc'd ${mib(mallocd(m.malloc))} MiB`);
    }
  } finally {
    for (const g of groups) await g.stop();
    await host.stop();
  }
  const base = rows[0];
  const per = (r, prev, k) => (r[k] - prev[k]) / MiB / (r.viewers - prev.viewers);
  const native = (r) => mallocd(r.malloc);
  for (let i = 1; i < rows.length; i++) {
    const r = rows[i], p = rows[i - 1];
    r.perViewerMiB = { rss: per(r, base, 'rss'), external: per(r, base, 'external'), reported: per(r, base, 'reported'), arrayBuffers: per(r, base, 'arrayBuffers'), malloc: (native(r) - native(base)) / MiB / r.viewers };
    r.perAdditionalViewerMiB = { rss: per(r, p, 'rss'), external: per(r, p, 'external'), reported: per(r, p, 'reported'), arrayBuffers: per(r, p, 'arrayBuffers'), malloc: (native(r) - native(p)) / MiB / (r.viewers - p.viewers) };
  }
  return rows;
}

async function d5(label, env) {
  const { host, port } = await startHost(BATCH + 5, env);
  const group = new Child('memViewers.js', { port });
  await group.ready;
  let step = 0;
  const start = await measure(host);
  const smapsStart = (await host.call('smaps')).smaps;
  const batches = [];
  try {
    for (let opened = 0; opened < SESSIONS; ) {
      const n = Math.min(BATCH, SESSIONS - opened);
      for (let i = 0; i < n; i++) await group.call('join', { vid: opened + i + 1, via: 'direct' });
      opened += n;
      await inSync(host, [group], step, n);
      await host.call('show', { step: ++step }); // one change, so each session has sent more than its keyframe
      await inSync(host, [group], step, n);
      await group.call('leaveAll');
      const gone = await poll(async () => ({ ok: (await host.call('settled')).viewers === 0 }), { everyMs: 100, timeoutMs: 30_000 });
      if (!gone.ok) throw new Error('sessions did not close on the host');
      await sleep(500);
      const noGc = await host.call('sample');
      const noGcMalloc = (await host.call('malloc', { trim: false })).malloc;
      const gc = await measure(host);
      batches.push({
        opened, rss: noGc.rss, external: noGc.external, reported: noGc.reported, arrayBuffers: noGc.arrayBuffers, mallocBeforeGc: noGcMalloc,
        rssAfterGc: gc.rss, externalAfterGc: gc.external, reportedAfterGc: gc.reported, arrayBuffersAfterGc: gc.arrayBuffers, malloc: gc.malloc,
      });
      if (!quick) console.log(`  [${label}] ${opened} sessions closed: RSS ${mib(noGc.rss)} MiB (after GC ${mib(gc.rss)}), external ${mib(noGc.external)} MiB (after GC ${mib(gc.external)}), malloc'd ${mib(mallocd(noGcMalloc))} MiB (after GC ${mib(mallocd(gc.malloc))})`);
    }
    const end = await measure(host);
    const smapsEnd = (await host.call('smaps')).smaps;
    const trim = await host.call('malloc', { trim: true });
    const trimmed = await host.call('sample');
    const smapsTrimmed = (await host.call('smaps')).smaps;
    return { label, env, start, smapsStart, batches, end, smapsEnd, afterTrim: { rss: trimmed.rss, external: trimmed.external, malloc: trim.malloc, smaps: smapsTrimmed }, mallocReason: trim.reason };
  } finally {
    await group.stop();
    await host.stop();
  }
}

async function main() {
  console.log(`# Per-viewer memory (1920×1080, viewers ${COUNTS.join('/')}) and D5 (${SESSIONS} sessions opened and closed, batches of ${BATCH})`);
  const rows = await perViewer();
  const variants = quick
    ? [['default', {}]]
    : [
      ['default', {}],
      ['MALLOC_TRIM_THRESHOLD_=131072', { MALLOC_TRIM_THRESHOLD_: '131072' }],
      ['MALLOC_MMAP_THRESHOLD_=1048576', { MALLOC_MMAP_THRESHOLD_: '1048576' }],
      ['MALLOC_ARENA_MAX=2', { MALLOC_ARENA_MAX: '2' }],
    ];
  const d5runs = [];
  for (const [label, env] of variants) {
    console.log(`D5 with ${label}`);
    d5runs.push(await d5(label, env));
  }

  const md = [];
  md.push('# Memory per viewer and after closed sessions', '');
  md.push(`${new Date().toISOString()}. Host in its own process, a still 1920×1080 screen (the editor scene) with a few typed changes; Node viewers over loopback in ${GROUPS} other process(es). Figures after a forced GC (median of three samples); "malloc'd" is glibc's allocated bytes (mallinfo2: arena in use + mmapped chunks), i.e. native memory the process asked for (ArrayBuffers included). "reported" is the native memory the encoders report to V8 (AdjustExternalMemory: their screen copies and content cache mirrors; not the coding buffers, one pool for the process), which Node ${process.versions.node}'s process.memoryUsage().external does not include (read as V8's external-memory counter minus arrayBuffers, bench/lib/mallocProbe.c).`, '');
  md.push('## Per-viewer memory', '');
  const last = rows[rows.length - 1];
  const add = last.perAdditionalViewerMiB;
  if (!add) md.push(`(one viewer count only: nothing to compare)`, '');
  else md.push(`Target: ≤ ${PER_VIEWER_TARGET_MIB} MiB per additional in-sync viewer — **${add.rss <= PER_VIEWER_TARGET_MIB ? 'met' : 'NOT met'}**: ${add.rss.toFixed(2)} MiB RSS per additional viewer from ${rows[rows.length - 2].viewers} to ${last.viewers} viewers (${add.malloc.toFixed(2)} MiB allocated from glibc, of which ${add.reported.toFixed(2)} MiB is what the encoders report: screen copies, cache mirrors). The "vs 0" columns also carry fixed costs that appear with the first viewer (capture buffers, thread arenas).`, '');
  md.push("| viewers | RSS MiB | external MiB | of it arrayBuffers | reported MiB | heapUsed MiB | malloc'd MiB | RSS per viewer (vs 0) | external per viewer | reported per viewer | malloc'd per viewer | RSS per additional viewer (vs previous row) | external per additional | reported per additional | malloc'd per additional |", '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  const f2 = (v) => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(2));
  for (const r of rows) {
    md.push(`| ${r.viewers} | ${mib(r.rss)} | ${mib(r.external)} | ${mib(r.arrayBuffers)} | ${mib(r.reported)} | ${mib(r.heapUsed)} | ${mib(mallocd(r.malloc))} | ${f2(r.perViewerMiB?.rss)} | ${f2(r.perViewerMiB?.external)} | ${f2(r.perViewerMiB?.reported)} | ${f2(r.perViewerMiB?.malloc)} | ${f2(r.perAdditionalViewerMiB?.rss)} | ${f2(r.perAdditionalViewerMiB?.external)} | ${f2(r.perAdditionalViewerMiB?.reported)} | ${f2(r.perAdditionalViewerMiB?.malloc)} |`);
  }
  md.push('', `A 1920×1080 BGRA screen is ${mib(1920 * 1080 * 4)} MiB.`, '');
  md.push(`## D5: ${SESSIONS} sessions opened and closed`, '');
  md.push(`Bounds (the same as test/security/memory.test.ts): external and reported each within ${D5_BOUNDS.externalMiB} MiB of the start, RSS growth < ${D5_BOUNDS.rssMiB} MiB, all after a forced GC.`, '');
  md.push('| allocator | start RSS | start external | start reported | end RSS (no GC, last batch) | end RSS after GC | end external after GC | end reported after GC | RSS after malloc_trim(0) | glibc free kept, MiB (before trim) | external Δ | reported Δ | RSS Δ (after GC) | RSS Δ after trim | within bounds |', '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const d of d5runs) {
    const lb = d.batches[d.batches.length - 1];
    const dExt = (d.end.external - d.start.external) / MiB, dRss = (d.end.rss - d.start.rss) / MiB;
    d.within = Math.abs(dExt) <= D5_BOUNDS.externalMiB && Math.abs((d.end.reported - d.start.reported) / MiB) <= D5_BOUNDS.externalMiB && dRss < D5_BOUNDS.rssMiB;
    const dRep = (d.end.reported - d.start.reported) / MiB;
    md.push(`| ${d.label} | ${mib(d.start.rss)} | ${mib(d.start.external)} | ${mib(d.start.reported)} | ${mib(lb.rss)} | ${mib(d.end.rss)} | ${mib(d.end.external)} | ${mib(d.end.reported)} | ${mib(d.afterTrim.rss)} | ${d.end.malloc ? mib(d.end.malloc.free) : '—'} | ${dExt.toFixed(1)} | ${dRep.toFixed(1)} | ${dRss.toFixed(1)} | ${((d.afterTrim.rss - d.start.rss) / MiB).toFixed(1)} | ${d.within ? 'yes' : 'NO'} |`);
  }
  md.push('', "Resident memory by kind of mapping (/proc/<host>/smaps) at the start → at the end after GC → after malloc_trim(0), MiB: glibc's thread arenas (64 MiB-aligned anonymous heaps that worker threads malloc from), the main heap, other anonymous memory (V8's heap, mmapped chunks such as ArrayBuffers, stacks), files:", '');
  md.push('| allocator | thread arenas | main heap | other anonymous | files |', '|---|---|---|---|---|');
  const f1 = (v) => (v === undefined ? '—' : v.toFixed(1));
  for (const d of d5runs) {
    const z = d.smapsStart, a = d.smapsEnd, b = d.afterTrim.smaps;
    md.push(`| ${d.label} | ${f1(z.threadArenas)} → ${f1(a.threadArenas)} (${a.threadArenaCount} heaps) → ${f1(b.threadArenas)} | ${f1(z.mainHeap)} → ${f1(a.mainHeap)} → ${f1(b.mainHeap)} | ${f1(z.otherAnon)} → ${f1(a.otherAnon)} → ${f1(b.otherAnon)} | ${f1(z.files)} → ${f1(a.files)} → ${f1(b.files)} |`);
  }
  md.push('', "After each batch: RSS / external / reported / malloc'd, MiB, right after the batch's sessions closed → the same after a forced GC:", '');
  md.push(`| sessions closed | ${d5runs.map((d) => d.label).join(' | ')} |`, `|---|${d5runs.map(() => '---|').join('')}`);
  for (let i = 0; i < d5runs[0].batches.length; i++) {
    md.push(`| ${d5runs[0].batches[i].opened} | ${d5runs.map((d) => { const b = d.batches[i]; return b ? `${mib(b.rss)} / ${mib(b.external)} / ${mib(b.reported)} / ${mib(mallocd(b.mallocBeforeGc))} → ${mib(b.rssAfterGc)} / ${mib(b.externalAfterGc)} / ${mib(b.reportedAfterGc)} / ${mib(mallocd(b.malloc))}` : '—'; }).join(' | ')} |`);
  }
  if (d5runs[0].mallocReason) md.push('', `(glibc figures unavailable: ${d5runs[0].mallocReason})`);
  md.push('');
  const text = md.join('\n');
  console.log(`\n${text}`);
  const json = { date: new Date().toISOString(), width: 1920, height: 1080, counts: COUNTS, targets: { perViewer: `<= ${PER_VIEWER_TARGET_MIB} MiB per additional in-sync viewer`, d5: D5_BOUNDS }, perViewer: rows, d5: d5runs };
  const files = [writeResult('viewers.json', json, quick), writeResult('viewers.md', `${text}\n`, quick)];
  console.log(`results: ${files.map((f) => `bench/results/${f}`).join(', ')}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
