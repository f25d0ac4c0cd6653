// The gateway of the gateway benchmark: one Relay on a plain http server on
// loopback, in a process of its own so its CPU (process.cpuUsage, every
// thread) and memory (RSS) are its own. Authorisation is trivial: the host
// secrets and viewer tokens the bench generated (argv[2] JSON { hosts:
// { hostId: secret }, tokens: { token: hostId } }).
//
//   child -> parent { type: 'ready', port, pid }
//   commands: sample, gc (forced GC, then sample), sessions, close
'use strict';
const http = require('node:http');
const { monitorEventLoopDelay, PerformanceObserver } = require('node:perf_hooks');
const { Relay, protocol } = require('tilecast');
const { serve } = require('./child');

const opts = JSON.parse(process.argv[2]);
const hosts = new Map(Object.entries(opts.hosts));
const tokens = new Map(Object.entries(opts.tokens));
const now = () => performance.timeOrigin + performance.now();

// The relay's default limits: every PC, data connection and viewer comes from 127.0.0.1, as a city's
// office PCs come from one NAT address (the per-address cap counts only unauthenticated sockets).
const relay = new Relay({
  authenticateHost: ({ hostId, secret }) => hosts.get(hostId) === secret,
  authorizeViewer: ({ request, hostId, hostOnline }) => {
    const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
    const pc = token && tokens.get(token);
    if (!pc) return false;
    if (pc !== hostId) return { bye: { reason: protocol.Reason.UNAUTHORIZED, message: 'not your PC' } };
    if (!hostOnline) return { bye: { reason: protocol.Reason.HOST_UNAVAILABLE, message: 'offline' } };
    return { user: `user-${hostId}`, hostId };
  },
});

const ended = { count: 0, bytesToViewer: 0, bytesToHost: 0, updatesToViewer: 0, reasons: {} };
const refusals = [];
const errors = [];
relay.on('sessionEnd', (e) => {
  ended.count++;
  ended.bytesToViewer += e.bytesToViewer;
  ended.bytesToHost += e.bytesToHost;
  ended.updatesToViewer += e.updatesToViewer;
  const r = e.reason.replace(/\(.*\)/, '').trim().slice(0, 60);
  ended.reasons[r] = (ended.reasons[r] ?? 0) + 1;
});
relay.on('audit', (e) => refusals.length < 20 && refusals.push(e.reason));
relay.on('error', (err) => errors.length < 20 && errors.push(String(err.message)));

// Event-loop delay and GC pauses since the previous sample: what a forwarded message may wait for.
// The delay monitor is a loop timer: at 20 ms it wakes the loop 50 times a second (at 1 ms it cost
// the gateway about 4 % of a core by itself).
const loop = monitorEventLoopDelay({ resolution: 20 });
loop.enable();
let gc = { count: 0, ms: 0, maxMs: 0, major: 0, majorMs: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gc.count++;
    gc.ms += e.duration;
    gc.maxMs = Math.max(gc.maxMs, e.duration);
    if (e.detail?.kind === 4) { // NODE_PERFORMANCE_GC_MAJOR (mark-compact)
      gc.major++;
      gc.majorMs += e.duration;
    }
  }
}).observe({ entryTypes: ['gc'] });

function sample() {
  const s = relay.sessions();
  let bytesToViewer = ended.bytesToViewer, bytesToHost = ended.bytesToHost, updates = ended.updatesToViewer, paired = 0;
  for (const x of s) {
    bytesToViewer += x.bytesToViewer;
    bytesToHost += x.bytesToHost;
    updates += x.updatesToViewer;
    if (x.paired) paired++;
  }
  const m = process.memoryUsage();
  // The histogram holds the intervals between the monitor's timer runs: the delay is what exceeds its period.
  const late = (ns) => Math.max(0, ns / 1e6 - 20);
  const delay = { p50: late(loop.percentile(50)), p99: late(loop.percentile(99)), max: late(loop.max) };
  loop.reset();
  const gcs = gc;
  gc = { count: 0, ms: 0, maxMs: 0, major: 0, majorMs: 0 };
  return {
    delay, gc: gcs,
    t: now(), cpu: process.cpuUsage(), rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers,
    sessions: s.length, paired, hostsOnline: relay.hosts().length, bytesToViewer, bytesToHost, updates, ended: ended.count,
  };
}

const server = http.createServer((_req, res) => res.writeHead(404).end());
relay.attach(server);
server.listen(0, '127.0.0.1', () => {
  serve({
    sample,
    gc: () => {
      global.gc();
      global.gc();
      return sample();
    },
    sessions: () => ({
      sessions: relay.sessions().map((x) => ({ hostId: x.hostId, paired: x.paired, bytesToViewer: x.bytesToViewer, bytesToHost: x.bytesToHost, updates: x.updatesToViewer })),
      ended, refusals, errors, connections: relay.connectionStats(),
    }),
    close: async () => {
      await relay.close();
      server.closeAllConnections();
      server.close();
      setTimeout(() => process.exit(0), 50);
      return { ended, refusals, errors };
    },
  });
  process.send({ type: 'ready', port: server.address().port, pid: process.pid });
});
