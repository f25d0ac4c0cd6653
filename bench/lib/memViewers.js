// Node viewers for the memory benchmarks (soak.js, viewers.js), in a child
// process apart from the host. Run by child_process.fork; argv[2] is JSON
// { port, traceDown?, traceUp?, delayMs? }. With traces, a LinkEmulator in this
// process stands between 'lte' viewers and the host (each connection starts
// at the beginning of the traces). Commands over IPC, answered { reply: id, ... }:
//
//   join { vid, via: 'lte'|'direct' }   leave { vid }   leaveAll
//   hashes { vids }   -> SHA-1 of each viewer's framebuffer, and whether it stayed connected
//   match { step }    -> how many viewers show frames.js's typedFrame(step) exactly
//   status            -> per-viewer counters   close
'use strict';
const crypto = require('node:crypto');
const { connectViewer } = require('tilecast');
const { LinkEmulator, DeliveryTrace } = require('tilecast/testing');
const { typedFrame } = require('./frames');
const { serve } = require('./child');

const opts = JSON.parse(process.argv[2]);
const viewers = new Map(); // vid -> { client, via, joinedAt, openedAt, drops, errors, left }
let emu = null;
const t0 = performance.now();
const now = () => (performance.now() - t0) / 1000;

async function start() {
  if (opts.traceDown) {
    const dir = (file) => ({ trace: DeliveryTrace.load(file), delayMs: opts.delayMs ?? 20, queueBytes: 256 * 1024 });
    emu = await LinkEmulator.start({ targetPort: opts.port, down: dir(opts.traceDown), up: dir(opts.traceUp) });
  }
}

function join({ vid, via }) {
  const port = via === 'lte' ? emu.port : opts.port;
  const client = connectViewer(`ws://127.0.0.1:${port}/`, { reconnect: false, timeoutMs: 120_000 });
  const v = { client, via, joinedAt: now(), openedAt: null, drops: 0, errors: [], left: false };
  client.on('error', (err) => v.errors.length < 5 && v.errors.push(String(err.message)));
  client.on('open', () => (v.openedAt = now()));
  client.on('close', () => {
    if (!v.left) v.drops++;
  });
  viewers.set(vid, v);
  return {};
}

function leave({ vid }) {
  const v = viewers.get(vid);
  if (!v) return { ok: false };
  v.left = true;
  v.client.close();
  viewers.delete(vid);
  return { ok: true, drops: v.drops, updates: v.client.updates, bytes: v.client.bytesReceived, errors: v.errors };
}

const handlers = {
  join,
  leave,
  leaveAll: () => {
    const out = [];
    for (const vid of [...viewers.keys()]) out.push({ vid, ...leave({ vid }) });
    return { left: out };
  },
  joinMany: ({ vids, via }) => {
    for (const vid of vids) join({ vid, via });
    return {};
  },
  hashes: ({ vids }) => ({
    viewers: vids.filter((vid) => viewers.has(vid)).map((vid) => {
      const v = viewers.get(vid);
      const fb = v.client.framebuffer;
      return {
        vid, via: v.via, connected: v.client.connected, drops: v.drops, updates: v.client.updates,
        hash: fb ? crypto.createHash('sha1').update(fb).digest('hex') : null,
      };
    }),
  }),
  match: ({ step }) => {
    const want = typedFrame(step).data;
    let matched = 0, connected = 0;
    for (const v of viewers.values()) {
      if (v.client.connected) connected++;
      const fb = v.client.framebuffer;
      if (fb && fb.length === want.length && fb.equals(want)) matched++;
    }
    return { matched, connected, total: viewers.size };
  },
  status: () => ({
    viewers: [...viewers.entries()].map(([vid, v]) => ({ vid, via: v.via, connected: v.client.connected, drops: v.drops, updates: v.client.updates, bytes: v.client.bytesReceived, errors: v.errors })),
    rss: process.memoryUsage().rss,
  }),
  close: async () => {
    handlers.leaveAll();
    if (emu) await emu.close();
    setTimeout(() => process.exit(0), 100);
    return {};
  },
};

serve(handlers);
start().then(() => process.send({ type: 'ready', pid: process.pid }), (err) => {
  console.error(err);
  process.exit(1);
});
