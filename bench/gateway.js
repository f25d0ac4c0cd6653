#!/usr/bin/env node
// Gateway benchmark (issue 13): N concurrent sessions through one relay
// process on loopback, against the same load sent directly (no gateway) in the
// same run.
//
//   node bench/gateway.js [--quick] [--sessions 300 | 100,300] [--loops 2] [--stagger 15]
//                         [--inflight 4] [--host-procs 2] [--viewer-procs 2] [--decoders 5]
//                         [--frames 750] [--recordings DIR]
//
// Processes (bench/lib/): the gateway (gwRelay.js: a Relay on a plain http
// server, trivial authorisation with secrets and tokens made here, --expose-gc),
// host simulators (gwHosts.js) and viewer simulators (gwViewers.js), so the
// gateway's CPU and RSS are its own.
//
// Traffic is real tilecast: each workload (recordings in
// bench/workloads/recordings, else the embedded scenes, said in the output) is
// encoded once by the real encoder (gwWorkloads.js) and its messages are
// replayed with their timing on every session of that workload, speaking the
// relay's host protocol (control connection, one data connection per session).
// Viewers HELLO and ack every UPDATE; hosts keep at most --inflight UPDATEs
// unacked. Mix: 40 % typing-en, 40 % typing-ja, 17 % scroll-doc, 3 % video.
// Viewers connect over --stagger seconds, get their first screen and sit idle
// (memory per idle session); then every session plays its workload --loops
// times from a start spread over --stagger seconds.
//
// Integrity: a running SHA-256 of every message on each side, both directions,
// for every session (0 lost, 0 corrupted); --decoders viewers decode for real
// (ScreenDecoder) and must end byte-exact with the workload's last screen.
// Latency: host send time -> viewer receive time of every UPDATE (one clock:
// performance.timeOrigin + performance.now() in both processes), via the relay
// minus direct. Targets (reported, never asserted): 300 sessions on one core,
// added latency <= 2 ms p95, <= 1 MiB of gateway memory per idle session.
// Exits non-zero only when integrity fails or a run breaks.
'use strict';
const crypto = require('node:crypto');
const { spawnSync } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');
const { RelayPaths, RELAY_NODE_FLAGS } = require('tilecast');
const { seededRandom } = require('tilecast/testing');
const { Child, sleep } = require('./lib/child');
const { prepare } = require('./lib/gwWorkloads');
const { writeResult } = require('./lib/results');
const { cdfChart, lineChart } = require('./lib/svg');

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const LOADS = String(opt('--sessions', quick ? '20' : '300')).split(',').map(Number);
const LOOPS = Number(opt('--loops', quick ? 1 : 2));
const STAGGER_S = Number(opt('--stagger', quick ? 2 : 15));
const INFLIGHT = Number(opt('--inflight', 4));
const HOST_PROCS = Number(opt('--host-procs', quick ? 1 : 2));
const VIEWER_PROCS = Number(opt('--viewer-procs', quick ? 1 : 2));
const DECODERS = Number(opt('--decoders', quick ? 3 : 5));
const MAX_FRAMES = Number(opt('--frames', quick ? 120 : 750));
// Scheduling. The load generator shares the machine with the gateway, every process on every core.
// --nice N runs the gateway at another priority (e.g. -10: a simulator holding a core does not hold up
// a message at the gateway; it then also batches less and spends more CPU per message). --pin gives the
// gateway the last core to itself and the load generator the other(s) (on 2 cores its four processes
// then queue on one core, which shows in the direct baseline too).
const PIN = argv.includes('--pin') && os.cpus().length >= 2 && spawnSync('sh', ['-c', 'command -v taskset']).status === 0;
const NICE = argv.includes('--nice') ? Number(opt('--nice', -10)) : null;
// Node/V8 flags for the gateway process only. By default the ones `tilecast-gateway serve` runs with
// (RELAY_NODE_FLAGS: a larger young generation); --gateway-flags none gives V8's defaults.
const gatewayFlagsOpt = String(opt('--gateway-flags', RELAY_NODE_FLAGS.join(' ')));
const GATEWAY_FLAGS = gatewayFlagsOpt === 'none' ? [] : gatewayFlagsOpt.split(' ').filter(Boolean);
const MODES = String(opt('--modes', 'direct,relay')).split(',');
const RECORDINGS = path.resolve(opt('--recordings', path.join(__dirname, 'workloads', 'recordings')));
const MIX = [['typing-en', 0.4], ['typing-ja', 0.4], ['scroll-doc', 0.17], ['video', 0.03]];
const TARGETS = { sessions: 300, cores: 1, addedP95Ms: 2, idleMiBPerSession: 1 };
const MiB = 1024 * 1024;
const now = () => performance.timeOrigin + performance.now();
const pct = (a, p) => {
  if (!a.length) return null;
  const s = Float64Array.from(a).sort();
  return s[Math.min(s.length - 1, Math.floor(s.length * p))];
};
const median = (a) => pct(a, 0.5);
const cpuMs = (c) => (c.user + c.system) / 1000;
const f = (v, d = 1) => (v === null || v === undefined || Number.isNaN(v) ? '–' : v.toFixed(d));
const log = (...a) => console.log(...a);

/** Sessions of a load: workload, credentials, when its viewer connects and when it starts playing. */
function plan(n, workloads) {
  const counts = { video: Math.max(n >= 4 ? 1 : 0, Math.round(0.03 * n)), 'scroll-doc': Math.max(n >= 4 ? 1 : 0, Math.round(0.17 * n)) };
  counts['typing-ja'] = Math.round(0.4 * n);
  counts['typing-en'] = n - counts.video - counts['scroll-doc'] - counts['typing-ja'];
  const names = MIX.flatMap(([w]) => Array(counts[w]).fill(w));
  const random = seededRandom(13 + n);
  for (let i = names.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [names[i], names[j]] = [names[j], names[i]];
  }
  const sessions = names.map((workload, i) => ({
    hostId: `pc-${String(i + 1).padStart(4, '0')}`, workload, secret: crypto.randomBytes(24).toString('base64url'), token: crypto.randomBytes(18).toString('base64url'),
    connectAt: Math.round((i * STAGGER_S * 1000) / n), delayMs: Math.round(random() * STAGGER_S * 1000), decode: false,
  }));
  // Real decoders: one session of each workload first, then typing ones.
  const order = [...new Set(names)].map((w) => sessions.find((s) => s.workload === w)).concat(sessions.filter((s) => s.workload.startsWith('typing')));
  for (const s of order) {
    if (sessions.filter((x) => x.decode).length >= Math.min(DECODERS, n)) break;
    s.decode = true;
  }
  return { n, sessions, counts, durationMs: Math.max(...MIX.map(([w]) => workloads[w].header.durationMs)) };
}

function split(list, k) {
  const out = Array.from({ length: Math.min(k, list.length) }, () => []);
  list.forEach((x, i) => out[i % out.length].push(x));
  return out;
}

/** The gateway's priority, every thread (threads made later inherit it); what was applied, or why not. */
function renice(pid, nice) {
  const tids = (() => {
    try {
      return require('node:fs').readdirSync(`/proc/${pid}/task`);
    } catch {
      return [String(pid)];
    }
  })();
  const r = spawnSync('renice', ['-n', String(nice), '-p', ...tids], { encoding: 'utf8' });
  return r.status === 0 ? { nice } : { nice: 0, refused: (r.stderr || String(r.error)).trim().split('\n')[0] };
}

/** Sets the CPU affinity of every thread of `pid` (threads made later inherit it). */
function pin(pid, cpus) {
  const r = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`taskset ${cpus} ${pid}: ${r.stderr}`);
}

async function until(what, fn, timeoutMs, everyMs = 250) {
  const end = now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v.ok) return v;
    if (now() > end) throw new Error(`${what}: not reached in ${timeoutMs / 1000} s (${JSON.stringify(v).slice(0, 300)})`);
    await sleep(everyMs);
  }
}

const sum = (xs, k) => xs.reduce((s, x) => s + x[k], 0);

/** One run of a load, through the gateway ('relay') or straight to the hosts ('direct'). */
async function runMode(mode, p, workloads) {
  const { n, sessions } = p;
  const out = { mode, sessions: n };
  let gw = null, hosts = [], viewers = [];
  const files = Object.fromEntries(Object.entries(workloads).map(([k, w]) => [k, w.file]));
  const t = { start: now() };
  try {
    let url = null;
    if (mode === 'relay') {
      gw = new Child('gwRelay.js', {
        hosts: Object.fromEntries(sessions.map((s) => [s.hostId, s.secret])),
        tokens: Object.fromEntries(sessions.map((s) => [s.token, s.hostId])),
      }, { execArgv: ['--expose-gc', ...GATEWAY_FLAGS] });
      const ready = await gw.ready;
      url = `ws://127.0.0.1:${ready.port}`;
      if (PIN) pin(ready.pid, `${os.cpus().length - 1}`);
      if (NICE !== null) out.nice = renice(ready.pid, NICE);
      await sleep(500);
      out.memEmpty = await gw.call('gc');
    }
    const hostGroups = split(sessions, HOST_PROCS);
    hosts = hostGroups.map((g) => new Child('gwHosts.js', {
      mode, url, loops: LOOPS, inflight: INFLIGHT, workloads: files,
      sessions: g.map((s) => ({ hostId: s.hostId, secret: s.secret, workload: s.workload, delayMs: s.delayMs })),
    }));
    const hostReady = await Promise.all(hosts.map((h) => h.ready));
    const procOf = new Map();
    hostGroups.forEach((g, k) => g.forEach((s) => procOf.set(s.hostId, k)));
    if (gw) {
      await until('hosts online at the gateway', async () => {
        const s = await gw.call('sample');
        return { ok: s.hostsOnline === n, online: s.hostsOnline };
      }, 60_000);
      await sleep(500);
      out.memHostsOnline = await gw.call('gc');
    }
    viewers = split(sessions, VIEWER_PROCS).map((g) => new Child('gwViewers.js', {
      viewers: g.map((s) => ({
        hostId: s.hostId, decode: s.decode, connectAt: s.connectAt,
        ...(gw ? { url: `${url}${RelayPaths.VIEWER}?host=${s.hostId}`, token: s.token } : { url: `ws://127.0.0.1:${hostReady[procOf.get(s.hostId)].port}/?host=${s.hostId}` }),
      })),
    }));
    await Promise.all(viewers.map((v) => v.ready));
    t.connect = now() + 300;
    await Promise.all(viewers.map((v) => v.call('connect', { t0: t.connect })));
    // Every viewer has its first screen (acked) and every host is idle.
    await until('every viewer on its first screen', async () => {
      const vs = await Promise.all(viewers.map((v) => v.call('status')));
      const hs = await Promise.all(hosts.map((h) => h.call('status')));
      const screens = sum(vs, 'screens'), idle = sum(hs, 'idle');
      return { ok: screens === n && idle === n, screens, idle, closed: sum(vs, 'closed'), hostErrors: sum(hs, 'errors') };
    }, STAGGER_S * 1000 + 60_000);
    t.connected = now();
    out.connectSeconds = (t.connected - t.connect) / 1000;
    // Idle: every session paired and on its first screen, nothing moving.
    await sleep(quick ? 1000 : 2000);
    const usage = async () => ({
      t: now(), gw: gw ? await gw.call('sample') : null,
      hosts: await Promise.all(hosts.map((h) => h.call('usage'))), viewers: await Promise.all(viewers.map((v) => v.call('usage'))),
    });
    const idle0 = await usage();
    // Sampled every second (the series is kept); full: longer than the relay's 15 s ping round, so it includes one.
    out.idleSeries = [];
    let prev = idle0;
    for (const end = now() + (quick ? 1500 : 16_000); now() < end; ) {
      await sleep(1000);
      const u = await usage();
      if (u.gw) out.idleSeries.push({ s: (u.t - idle0.t) / 1000, cores: (cpuMs(u.gw.cpu) - cpuMs(prev.gw.cpu)) / (u.t - prev.t), gcMs: u.gw.gc.ms });
      prev = u;
    }
    const idle1 = prev;
    if (gw) {
      out.memIdleRaw = idle1.gw;
      out.memIdle = await gw.call('gc');
      out.idleGatewayCores = (cpuMs(idle1.gw.cpu) - cpuMs(idle0.gw.cpu)) / (idle1.t - idle0.t);
      out.idleGatewayGc = { ms: out.idleSeries.reduce((a, x) => a + x.gcMs, 0), seconds: (idle1.t - idle0.t) / 1000 };
    }
    // Go: every session plays its workload from its own start.
    t.go = now() + 500;
    await Promise.all(hosts.map((h) => h.call('go', { t0: t.go })));
    const timeline = [];
    const deadline = t.go + STAGGER_S * 1000 + LOOPS * p.durationMs + 90_000;
    for (;;) {
      await sleep(1000);
      const u = await usage();
      const hs = await Promise.all(hosts.map((h) => h.call('status')));
      u.finished = sum(hs, 'finished');
      timeline.push(u);
      if (u.finished === n) break;
      if (now() > deadline) {
        out.timedOut = `${n - u.finished} sessions had not finished ${((now() - t.go) / 1000).toFixed(0)} s after go`;
        break;
      }
    }
    t.finished = now();
    await sleep(500); // the last acks are in, so every message before them arrived; margin for anything after
    const hostRes = (await Promise.all(hosts.map((h) => h.call('results')))).flatMap((r) => r.sessions);
    const viewRes = (await Promise.all(viewers.map((v) => v.call('results')))).flatMap((r) => r.viewers);
    if (gw) out.relaySessions = await gw.call('sessions');
    // Sessions end: the gateway must let go of them.
    await Promise.all(viewers.map((v) => v.stop()));
    viewers = [];
    if (gw) {
      await until('the gateway ended every session', async () => {
        const s = await gw.call('sample');
        return { ok: s.sessions === 0, sessions: s.sessions };
      }, 30_000).catch((err) => (out.notEnded = err.message));
      await sleep(500);
      out.memAfter = await gw.call('gc');
    }
    Object.assign(out, analyse(mode, p, workloads, hostRes, viewRes, timeline, t, out));
    return out;
  } finally {
    for (const c of [...viewers, ...hosts, ...(gw ? [gw] : [])]) await c.stop().catch(() => {});
  }
}

function analyse(mode, p, workloads, hostRes, viewRes, timeline, t, out) {
  const byHost = new Map(viewRes.map((v) => [v.hostId, v]));
  const integrity = { sessions: p.n, ok: 0, lostMessages: 0, lostSessions: 0, corrupted: 0, incomplete: 0, upstreamMismatch: 0, ackMismatch: 0, relayCountMismatch: 0, decoders: 0, decodersExact: 0, problems: [] };
  const problem = (s) => integrity.problems.length < 20 && integrity.problems.push(s);
  const lat = { all: [], typing: [] }, perWorkload = {};
  const relayBytes = new Map((out.relaySessions?.sessions ?? []).map((s) => [s.hostId, s]));
  let lateness = [], held = 0, heldMs = 0, updatesSent = 0;
  for (const h of hostRes) {
    const v = byHost.get(h.hostId);
    const w = workloads[h.workload].header;
    let good = true;
    if (!v) {
      integrity.lostSessions++;
      problem(`${h.hostId}: no viewer result`);
      continue;
    }
    if (h.messages !== h.expectedMessages || h.finishedAt === null) {
      integrity.incomplete++;
      good = false;
      problem(`${h.hostId} (${h.workload}): sent ${h.messages}/${h.expectedMessages} messages${h.errors.length ? `; ${h.errors.join('; ')}` : ''}${v.bye ? `; viewer got BYE ${v.bye.reason} ${v.bye.message}` : ''}${v.errors.length ? `; viewer: ${v.errors.join('; ')}` : ''}`);
    }
    if (v.messages < h.messages) {
      integrity.lostMessages += h.messages - v.messages;
      integrity.lostSessions++;
      good = false;
      problem(`${h.hostId}: viewer received ${v.messages} of ${h.messages} messages`);
    } else if (v.messages > h.messages || v.digest !== h.digest) {
      integrity.corrupted++;
      good = false;
      problem(`${h.hostId}: digest mismatch (${v.messages} received, ${h.messages} sent)`);
    }
    if (v.upMessages !== h.upMessages || v.upDigest !== h.upDigest) {
      integrity.upstreamMismatch++;
      good = false;
      problem(`${h.hostId}: viewer -> host digest mismatch (${h.upMessages} of ${v.upMessages} messages)`);
    }
    if (h.ackMismatch) {
      integrity.ackMismatch += h.ackMismatch;
      good = false;
    }
    const rs = relayBytes.get(h.hostId);
    if (out.relaySessions && (!rs || rs.bytesToViewer !== h.bytes)) {
      integrity.relayCountMismatch++;
      problem(`${h.hostId}: the relay counted ${rs?.bytesToViewer} bytes to the viewer, the host sent ${h.bytes}`);
    }
    if (v.decode) {
      integrity.decoders++;
      if (v.screenHash === w.finalHash && !v.decodeError) integrity.decodersExact++;
      else {
        good = false;
        problem(`${h.hostId} (${h.workload}): decoded screen ${v.decodeError ? `failed: ${v.decodeError}` : 'differs from the workload\'s last screen'}`);
      }
    }
    if (good) integrity.ok++;
    const k = Math.min(h.sendTimes.length, v.recvTimes.length);
    const mine = (perWorkload[h.workload] ??= []);
    for (let j = 0; j < k; j++) {
      const d = v.recvTimes[j] - h.sendTimes[j];
      lat.all.push(d);
      mine.push(d);
      if (h.workload.startsWith('typing')) lat.typing.push(d);
    }
    if (h.latenessP95 !== null) lateness.push(h.latenessP95);
    held += h.held;
    heldMs += h.heldMs;
    updatesSent += h.sendTimes.length;
  }
  integrity.pass = integrity.ok === p.n && integrity.decodersExact === integrity.decoders && !out.timedOut;
  const stats = (a) => ({ n: a.length, p50: pct(a, 0.5), p95: pct(a, 0.95), p99: pct(a, 0.99), max: a.length ? Math.max(...a) : null });
  const latency = { all: stats(lat.all), typing: stats(lat.typing), byWorkload: Object.fromEntries(Object.entries(perWorkload).map(([k, a]) => [k, stats(a)])) };

  // Full load: from the last session's start to the first session's end.
  const starts = hostRes.map((h) => h.startAt), ends = hostRes.map((h) => h.finishedAt).filter((x) => x !== null);
  let w0 = Math.max(...starts), w1 = ends.length ? Math.min(...ends) : t.finished;
  let windowKind = 'every session streaming';
  if (w1 - w0 < 3000) {
    w0 = t.go;
    w1 = t.finished;
    windowKind = 'from go to the last session\'s end (sessions do not overlap long enough)';
  }
  const inWin = timeline.filter((u) => u.t >= w0 && u.t <= w1);
  const span = inWin.length >= 2 ? [inWin[0], inWin[inWin.length - 1]] : [timeline[0], timeline[timeline.length - 1]];
  const dt = span[1].t - span[0].t;
  const cores = (a, b) => (a.reduce((s, x) => s + cpuMs(x.cpu), 0) - b.reduce((s, x) => s + cpuMs(x.cpu), 0)) / dt;
  const load = {
    window: { kind: windowKind, seconds: dt / 1000, samples: inWin.length },
    hostCores: cores(span[1].hosts, span[0].hosts), viewerCores: cores(span[1].viewers, span[0].viewers),
    hostLatenessP95Ms: median(lateness), heldSends: held, heldMs, updatesSent,
  };
  if (span[0].gw) {
    const g0 = span[0].gw, g1 = span[1].gw;
    load.gatewayCores = (cpuMs(g1.cpu) - cpuMs(g0.cpu)) / dt;
    load.forwardedMbps = ((g1.bytesToViewer + g1.bytesToHost - g0.bytesToViewer - g0.bytesToHost) * 8) / dt / 1000;
    load.updatesPerSecond = ((g1.updates - g0.updates) * 1000) / dt;
    const rss = inWin.map((u) => u.gw.rss);
    const win = inWin.slice(1);
    load.gatewayLoop = {
      delayP99MedianMs: median(win.map((u) => u.gw.delay.p99)), delayMaxMs: win.length ? Math.max(...win.map((u) => u.gw.delay.max)) : null,
      gcPerSecond: win.reduce((a, u) => a + u.gw.gc.count, 0) / (dt / 1000), gcMsPerSecond: win.reduce((a, u) => a + u.gw.gc.ms, 0) / (dt / 1000),
      majorGcPerSecond: win.reduce((a, u) => a + u.gw.gc.major, 0) / (dt / 1000), majorGcMsPerSecond: win.reduce((a, u) => a + u.gw.gc.majorMs, 0) / (dt / 1000),
      gcMaxMs: win.length ? Math.max(...win.map((u) => u.gw.gc.maxMs)) : null,
    };
    load.activeRss = { median: median(rss), max: rss.length ? Math.max(...rss) : null };
  } else {
    const bytes = hostRes.reduce((s, h) => s + h.bytes, 0);
    load.sentMbps = (bytes * 8) / ((t.finished - t.go) * 1000);
  }
  load.totalCores = (load.gatewayCores ?? 0) + load.hostCores + load.viewerCores;
  const series = timeline.map((u, i) => {
    const prev = timeline[i - 1];
    return {
      s: (u.t - t.go) / 1000,
      gatewayCores: u.gw && prev?.gw ? (cpuMs(u.gw.cpu) - cpuMs(prev.gw.cpu)) / (u.t - prev.t) : null,
      gatewayRssMiB: u.gw ? u.gw.rss / MiB : null,
      mbps: u.gw && prev?.gw ? ((u.gw.bytesToViewer + u.gw.bytesToHost - prev.gw.bytesToViewer - prev.gw.bytesToHost) * 8) / (u.t - prev.t) / 1000 : null,
      finished: u.finished,
    };
  });
  return { integrity, latency, load, series, windowMarks: [(w0 - t.go) / 1000, (w1 - t.go) / 1000], samples: { all: lat.all, typing: lat.typing } };
}

function memFigures(r) {
  if (!r.memEmpty) return null;
  const n = r.sessions;
  return {
    emptyMiB: r.memEmpty.rss / MiB, hostsOnlineMiB: r.memHostsOnline.rss / MiB, idleMiB: r.memIdle.rss / MiB, idleRawMiB: r.memIdleRaw.rss / MiB,
    activeMedianMiB: r.load.activeRss.median / MiB, activeMaxMiB: r.load.activeRss.max / MiB, afterMiB: r.memAfter?.rss / MiB,
    perIdleSessionMiB: (r.memIdle.rss - r.memEmpty.rss) / MiB / n,
    perIdleSessionOnlyMiB: (r.memIdle.rss - r.memHostsOnline.rss) / MiB / n,
    perHostLinkMiB: (r.memHostsOnline.rss - r.memEmpty.rss) / MiB / n,
    perActiveSessionMiB: (r.load.activeRss.max - r.memEmpty.rss) / MiB / n,
    heapIdleMiB: r.memIdle.heapUsed / MiB, externalIdleMiB: r.memIdle.external / MiB,
  };
}

async function main() {
  const started = now();
  const cpus = os.cpus();
  log(`gateway bench: ${LOADS.join(', ')} sessions, ${LOOPS} loop(s), stagger ${STAGGER_S} s, in-flight bound ${INFLIGHT} updates; ${cpus.length} cores (${cpus[0]?.model.trim()})`);
  log('pre-encoding the workloads with the real encoder...');
  const prepared = await prepare(MIX.map(([w]) => w), { recordingsDir: RECORDINGS, maxFrames: MAX_FRAMES, log });
  const workloads = Object.fromEntries(prepared.map((w) => [w.name, w]));
  const scenes = prepared.filter((w) => w.kind === 'scene');
  if (scenes.length) log(`NOTE: no recordings in ${RECORDINGS} for ${scenes.map((w) => w.name).join(', ')}: the embedded scenes stand in (${scenes.map((w) => `${w.name} <- ${w.header.source}`).join(', ')})`);
  for (const w of prepared) if (!w.header.exactAtRest) log(`NOTE: ${w.name}: the encoder's stream does not end exact with the last frame (decoders are checked against the stream's final screen)`);

  // After encoding (which uses every core): the load generator's processes inherit this affinity.
  if (PIN) pin(process.pid, os.cpus().length > 2 ? `0-${os.cpus().length - 2}` : '0');
  log(`${PIN ? `pinned: the gateway on core ${os.cpus().length - 1}, the load generator on the other core(s)` : 'not pinned: every process may run on every core'}; gateway priority ${NICE === null ? 'as the load generator' : `nice ${NICE}`}`);
  const runs = [];
  let failed = false;
  for (const n of LOADS) {
    const p = plan(n, workloads);
    for (const mode of MODES) {
      log(`${n} sessions, ${mode}${mode === 'relay' ? ' (through one gateway process)' : ' (baseline: viewers straight to the host simulators)'}...`);
      let r;
      try {
        r = await runMode(mode, p, workloads);
      } catch (err) {
        log(`  ${n} sessions ${mode}: the run broke: ${err.message}`);
        runs.push({ mode, sessions: n, broken: String(err.message) });
        failed = true;
        continue;
      }
      r.mix = p.counts;
      runs.push(r);
      const i = r.integrity, l = r.latency.all, L = r.load;
      log(`  integrity: ${i.ok}/${i.sessions} sessions ok, ${i.lostMessages} lost, ${i.corrupted} corrupted, ${i.incomplete} incomplete, ${i.upstreamMismatch} upstream mismatches, decoders exact ${i.decodersExact}/${i.decoders}`);
      for (const pr of i.problems.slice(0, 5)) log(`    ${pr}`);
      log(`  update latency p50 ${f(l.p50, 2)} / p95 ${f(l.p95, 2)} / p99 ${f(l.p99, 2)} ms (${l.n} updates); CPU cores: gateway ${f(L.gatewayCores, 3)}, host sims ${f(L.hostCores, 2)}, viewers ${f(L.viewerCores, 2)}${L.forwardedMbps !== undefined ? `; ${f(L.forwardedMbps)} Mbit/s forwarded` : ''}`);
      if (!i.pass) failed = true;
    }
  }
  const report = buildReport(runs, prepared, cpus, (now() - started) / 1000);
  log(report.md);
  writeResult('gateway.json', report.json, quick);
  writeResult('gateway.md', report.md, quick);
  const last = [...runs].reverse().find((r) => r.mode === 'relay' && !r.broken);
  const direct = last && runs.find((r) => r.mode === 'direct' && r.sessions === last.sessions && !r.broken);
  if (last) {
    writeResult('gateway-latency.svg', cdfChart({
      title: `Update latency, host send -> viewer receive, ${last.sessions} sessions (CDF)`, unit: 'ms',
      curves: [
        ...(direct ? [{ label: 'direct, all updates', values: direct.samples.all }, { label: 'direct, typing', values: direct.samples.typing }] : []),
        { label: 'via gateway, all updates', values: last.samples.all }, { label: 'via gateway, typing', values: last.samples.typing },
      ],
    }), quick);
    const pts = (k, scale = 1) => last.series.filter((s) => s[k] !== null).map((s) => [s.s, s[k] * scale]);
    writeResult('gateway-load.svg', lineChart({
      title: `Gateway process, ${last.sessions} sessions streaming`, xLabel: 's since go', yLabel: 'CPU, % of one core; Mbit/s forwarded',
      series: [{ label: 'gateway CPU, % of a core', points: pts('gatewayCores', 100) }, { label: 'Mbit/s forwarded', points: pts('mbps'), dash: '5 3' }],
      right: { label: 'gateway RSS, MiB', series: [{ label: 'gateway RSS, MiB', points: pts('gatewayRssMiB') }] },
      marks: [{ x: last.windowMarks[0], label: 'all streaming' }, { x: last.windowMarks[1], label: 'first done' }],
    }), quick);
  }
  if (failed) {
    console.error('gateway bench: FAILED (integrity or a broken run; see above)');
    process.exit(1);
  }
}

function buildReport(runs, prepared, cpus, seconds) {
  const date = new Date().toISOString();
  const ok = runs.filter((r) => !r.broken);
  const relay = (n) => ok.find((r) => r.mode === 'relay' && r.sessions === n);
  const direct = (n) => ok.find((r) => r.mode === 'direct' && r.sessions === n);
  const loads = [...new Set(runs.map((r) => r.sessions))];
  const saturated = (r) => r.load.totalCores > 0.9 * cpus.length || (r.load.hostLatenessP95Ms ?? 0) > 20;
  const rows = [];
  const gwRows = [];
  const summary = [];
  for (const n of loads) {
    const d = direct(n), g = relay(n);
    for (const r of [d, g].filter(Boolean)) {
      const L = r.load, l = r.latency, i = r.integrity;
      rows.push(`| ${n} | ${r.mode === 'relay' ? 'via gateway' : 'direct'} | ${f(l.all.p50, 2)} / ${f(l.all.p95, 2)} / ${f(l.all.p99, 2)} | ${f(l.typing.p50, 2)} / ${f(l.typing.p95, 2)} | ${f(L.gatewayCores, 3)} | ${f(L.hostCores, 2)} / ${f(L.viewerCores, 2)} | ${f(L.totalCores, 2)}${saturated(r) ? ' (saturated)' : ''} | ${f(L.hostLatenessP95Ms, 1)} | ${L.heldSends} | ${i.ok}/${i.sessions}, ${i.lostMessages} lost, ${i.corrupted} corrupted, ${i.incomplete} incomplete; decoders exact ${i.decodersExact}/${i.decoders} |`);
    }
    for (const r of runs.filter((x) => x.broken && x.sessions === n)) rows.push(`| ${n} | ${r.mode} | run broke: ${r.broken} | | | | | | | |`);
    if (g) {
      const m = memFigures(g);
      const L = g.load;
      const perSession = (L.gatewayCores * 100) / n;
      const added = d ? { p50: g.latency.all.p50 - d.latency.all.p50, p95: g.latency.all.p95 - d.latency.all.p95, typingP50: g.latency.typing.p50 - d.latency.typing.p50, typingP95: g.latency.typing.p95 - d.latency.typing.p95 } : null;
      g.added = added;
      g.memory = m;
      gwRows.push(`| ${n} | ${f(L.gatewayCores * 100, 1)} % | ${f(perSession, 3)} % (${f(100 / perSession, 0)} such sessions per core) | ${f(L.forwardedMbps, 1)} | ${f((L.gatewayCores * 100) / L.forwardedMbps, 2)} % | ${f(L.updatesPerSecond, 0)} | ${f(g.idleGatewayCores * 100, 2)} % (GC ${f(g.idleGatewayGc.ms / (10 * g.idleGatewayGc.seconds), 2)} %) | ${added ? `${f(added.p50, 2)} / ${f(added.p95, 2)}` : '–'} | ${added ? `${f(added.typingP50, 2)} / ${f(added.typingP95, 2)}` : '–'} | ${f(L.gatewayLoop?.delayP99MedianMs, 1)} / ${f(L.gatewayLoop?.delayMaxMs, 0)} | ${f(L.gatewayLoop?.gcPerSecond, 1)} (${f(L.gatewayLoop?.majorGcPerSecond, 2)} major), ${f(L.gatewayLoop?.gcMsPerSecond, 1)} ms/s, max ${f(L.gatewayLoop?.gcMaxMs, 1)} ms |`);
      summary.push({ n, cores: L.gatewayCores, perSession, added, m, saturated: saturated(g) || (d && saturated(d)), pass: g.integrity.pass && (!d || d.integrity.pass) });
    }
  }
  const memRows = summary.map(({ n, m }) => `| ${n} | ${f(m.emptyMiB)} | ${f(m.hostsOnlineMiB)} | ${f(m.idleMiB)} (${f(m.idleRawMiB)} before GC) | **${f(m.perIdleSessionMiB, 3)}** (${f(m.perIdleSessionOnlyMiB, 3)} + ${f(m.perHostLinkMiB, 3)} for the PC's control connection) | ${f(m.activeMedianMiB)} / ${f(m.activeMaxMiB)} | ${f(m.perActiveSessionMiB, 3)} | ${f(m.afterMiB)} |`);
  const top = [...summary].reverse().find((s) => s.pass) ?? summary[summary.length - 1];
  const verdict = (cond) => (cond === null ? 'not measured' : cond ? '**met**' : '**not met**');
  const targetRows = top ? [
    `| ${TARGETS.sessions} sessions through one gateway process on one core | ${top.n} sessions ran, gateway ${f(top.cores * 100, 1)} % of one core | ${top.n >= TARGETS.sessions ? verdict(top.cores <= TARGETS.cores) : `**not measured at ${TARGETS.sessions}** (largest load that ran: ${top.n})`} |`,
    `| added update latency ≤ ${TARGETS.addedP95Ms} ms p95 | ${top.added ? `${f(top.added.p95, 2)} ms (p50 ${f(top.added.p50, 2)} ms)` : '–'} | ${verdict(top.added ? top.added.p95 <= TARGETS.addedP95Ms : null)} |`,
    `| ≤ ${TARGETS.idleMiBPerSession} MiB gateway memory per idle session | ${f(top.m.perIdleSessionMiB, 3)} MiB | ${verdict(top.m.perIdleSessionMiB <= TARGETS.idleMiBPerSession)} |`,
  ] : [];
  const satNotes = summary.filter((s) => s.saturated).map((s) => s.n);
  const wlRows = prepared.map((w) => {
    const h = w.header;
    return `| ${w.name} | ${w.kind === 'recording' ? `recording ${h.source}` : `**embedded scene ${h.source}** (no recording)`} | ${h.frames} + ${Math.round(h.durationMs / 1000 * h.fps) - h.frames} still | ${h.messages} / ${h.updates} | ${f(h.bytes / 1e6, 2)} | ${f((h.bytes * 8) / h.durationMs, 0)} | ${f(h.initialBytes / 1e3, 1)} | ${h.exactAtRest ? 'yes' : 'NO'} |`;
  });
  const mix = runs.find((r) => r.mix)?.mix;
  const md = [
    `# Gateway benchmark (${date}${quick ? ', quick' : ''})`,
    '',
    `One gateway process (a \`Relay\` on a plain http server on loopback, in its own process) carrying N concurrent sessions; host simulators (${HOST_PROCS} process(es)) and viewer simulators (${VIEWER_PROCS}) in other processes on the same ${cpus.length}-core machine (${cpus[0]?.model.trim()}), Node ${process.version}. Baseline in the same run: the same load with viewers connected straight to the host simulators (no gateway). ${PIN ? `Pinned (taskset): the gateway alone on core ${cpus.length - 1}, every other process on the other core(s), in both runs.` : 'Not pinned: every process may run on every core.'} ${NICE === null ? 'The gateway runs at the same priority as the load generator.' : ok.find((r) => r.nice?.refused) ? `The gateway could not be given another priority (${ok.find((r) => r.nice?.refused).nice.refused}).` : `The gateway runs at nice ${NICE}.`} ${GATEWAY_FLAGS.length ? `Gateway process flags: \`${GATEWAY_FLAGS.join(' ')}\`.` : 'The gateway runs with Node\'s default flags.'} Run time ${f(seconds, 0)} s.`,
    '',
    `Traffic: real tilecast messages. Each workload was encoded once by the real encoder (ChangeDetector + ViewerEncoder on the recording's clock, as a live session codes it; the link takes everything) and is replayed with its timing, ${LOOPS} time(s) per session, by every session of that workload, over the relay's host protocol (control connection per PC, one data connection per session). Viewers HELLO and ack every UPDATE; a host keeps at most ${INFLIGHT} UPDATEs unacked. Viewers connect over ${STAGGER_S} s and sit on their first screen (idle); then each session starts at a random point within ${STAGGER_S} s. Mix: ${mix ? Object.entries(mix).map(([k, v]) => `${v} ${k}`).join(', ') : '–'} (for the largest load).`,
    '',
    '| workload | source | frames | messages / updates per loop | MB per loop | mean kbit/s | first screen kB | stream ends exact with the last frame |',
    '|---|---|---|---|---|---|---|---|',
    ...wlRows,
    '',
    ...(scenes(prepared).length ? [`**No recordings** in \`${path.relative(process.cwd(), RECORDINGS) || RECORDINGS}\` for ${scenes(prepared).join(', ')}: the embedded scenes stand in (typing into the editor, the long document scrolled, a synthetic 640×360 video). \`node bench/session.js\` records them (bench/workloads/).`, ''] : []),
    '## Targets',
    '',
    '| target | measured | |',
    '|---|---|---|',
    ...targetRows,
    '',
    ...(satNotes.length ? [`**This machine could not hold the load generator and the gateway at once at ${satNotes.join(', ')} sessions**: the processes together used more than 90 % of the ${cpus.length} cores, or the host simulators sent late (schedule lateness p95 > 20 ms); figures at that load include the load generator's own queueing.`, ''] : []),
    '## Gateway CPU and added latency',
    '',
    'CPU is the gateway process\'s `process.cpuUsage()` (every thread) over the full-load window (from the last session\'s start to the first session\'s end), as a share of one core; forwarded is every byte the relay passed in both directions in that window. Added latency: the percentile via the gateway minus the same percentile direct. Event-loop delay (`monitorEventLoopDelay`) and GC pauses (`PerformanceObserver`) in the gateway over the same window: what a message passing through may wait for.',
    '',
    '| sessions | gateway CPU | per session | Mbit/s forwarded | CPU per Mbit/s | updates/s | CPU with every session idle | added latency p50 / p95, ms, all updates | typing only | gateway event-loop delay p99 (median of 1 s windows) / max, ms | gateway GC: pauses/s, time, longest |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...gwRows,
    '',
    '## Gateway memory (RSS, MiB, after a forced GC unless said)',
    '',
    '| sessions | empty | every PC online (control connections) | every session idle on its first screen | per idle session (incl. its PC\'s control connection) | streaming: median / max (no GC) | per active session (max − empty) | after every session closed |',
    '|---|---|---|---|---|---|---|---|',
    ...memRows,
    '',
    '## Every run',
    '',
    'Latency: UPDATE send time at the host simulator (`ws.send`) to receive time at the viewer simulator (the `message` event), one clock (`performance.timeOrigin + performance.now()`). Host lateness: how late the simulators sent against the workload\'s schedule (p95, median over sessions; a loaded machine shows here). Held: sends that waited for acks (the in-flight bound).',
    '',
    '| sessions | path | update latency p50 / p95 / p99, ms | typing p50 / p95 | gateway cores | host sims / viewers, cores | all processes, cores | host lateness p95, ms | held sends | integrity (sessions with equal digests both ways, all messages, acks in order) |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    'Integrity: each side keeps a running SHA-256 of every message (u32 length, then the bytes), host → viewer and viewer → host; a session is ok when both pairs match, the host sent its whole workload, every ack named the oldest update in flight, and (via the gateway) the relay\'s byte count equals the host\'s. Decoders: viewers decoding for real (ScreenDecoder) must end with the workload\'s last screen, byte for byte.',
    '',
    ...runs.filter((r) => !r.broken && r.integrity.problems.length).flatMap((r) => [`Problems, ${r.sessions} sessions ${r.mode}:`, '', ...r.integrity.problems.map((p) => `- ${p}`), '']),
    `![latency](gateway-latency${quick ? '-quick' : ''}.svg)`,
    '',
    `![gateway load](gateway-load${quick ? '-quick' : ''}.svg)`,
    '',
  ].join('\n');
  const json = {
    date, quick, cores: cpus.length, cpu: cpus[0]?.model.trim(), node: process.version, seconds,
    settings: { pinned: PIN, nice: NICE, gatewayFlags: GATEWAY_FLAGS, loads: LOADS, loops: LOOPS, staggerS: STAGGER_S, inflight: INFLIGHT, hostProcs: HOST_PROCS, viewerProcs: VIEWER_PROCS, decoders: DECODERS, maxFrames: MAX_FRAMES },
    targets: TARGETS,
    workloads: prepared.map((w) => ({ name: w.name, kind: w.kind, ...w.header })),
    runs: runs.map((r) => ({ ...r, samples: undefined, series: r.series, relaySessions: r.relaySessions && { ended: r.relaySessions.ended, refusals: r.relaySessions.refusals, errors: r.relaySessions.errors, connections: r.relaySessions.connections } })),
    summary,
  };
  return { md, json };
}

const scenes = (prepared) => prepared.filter((w) => w.kind === 'scene').map((w) => w.name);

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
