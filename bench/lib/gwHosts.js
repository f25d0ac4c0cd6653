// Host simulators of the gateway benchmark: many office PCs in one process,
// each replaying a pre-encoded workload (gwWorkloads.js: real tilecast
// messages with their timing) to its viewer.
//
// mode 'relay': each PC speaks the relay's host protocol (docs/protocol.md,
// "Through a relay"): a control WebSocket to /tilecast/host with its id and
// secret in headers; for each `open` the relay sends, a data WebSocket to
// /tilecast/host/data with the session id, on which it serves the viewer.
// mode 'direct' (the baseline): the PCs listen on one port of this process and
// viewers connect straight to them (?host=<id> picks the PC).
//
// On a viewer's HELLO the PC answers HELLO and sends the first screen (the
// workload's first frame); on `go` it plays the rest of the workload, `loops`
// times, at its own start offset. Flow control is real: at most `inflight`
// UPDATEs unacked; further sends wait for acks. Every message sent goes into a
// running SHA-256 (u32 length, then the bytes), as does every message received;
// send times of UPDATEs are kept for the latency figures.
//
// argv[2] JSON { mode, url?, sessions: [{ hostId, secret, workload, delayMs }], workloads: { name: file }, loops, inflight }
// child -> parent { type: 'ready', port?, pid }; commands: status, go { t0 }, results, usage, close
'use strict';
const crypto = require('node:crypto');
const { WebSocket, WebSocketServer } = require('ws');
const { RelayPaths, RelayHeaders, protocol } = require('tilecast');
const { load } = require('./gwWorkloads');
const { serve } = require('./child');
const { hello, hashInto } = require('./gwMessages');

const opts = JSON.parse(process.argv[2]);
const now = () => performance.timeOrigin + performance.now();
const { MessageType } = protocol;
const HELLO = hello('tilecast-gwbench-host');
const VIEWER_MAX = protocol.Limits.MAX_VIEWER_MESSAGE_BYTES;

const workloads = new Map();
for (const [name, file] of Object.entries(opts.workloads)) workloads.set(name, load(file));

const sessions = new Map();
for (const s of opts.sessions) {
  sessions.set(s.hostId, {
    ...s, w: workloads.get(s.workload), ws: null, control: null, controlOpen: false, opens: 0,
    hash: crypto.createHash('sha256'), messages: 0, bytes: 0, up: crypto.createHash('sha256'), upMessages: 0,
    helloAt: null, initialAcked: false, startAt: null, loop: 0, i: 0, inflight: 0, frameIds: [], ackMismatch: 0,
    sendTimes: [], lateness: [], held: 0, heldMs: 0, heldSince: 0, timer: null, finishedAt: null, errors: [], closed: null,
  });
}

function note(s, msg) {
  if (s.errors.length < 5) s.errors.push(String(msg).slice(0, 200));
}

function send(s, bytes) {
  if (bytes[0] === MessageType.UPDATE) {
    s.sendTimes.push(now()); // before ws.send: its framing and socket write count as latency
    s.inflight++;
    s.frameIds.push(bytes.readUInt32LE(1));
  }
  s.ws.send(bytes, { binary: true });
  hashInto(s.hash, bytes);
  s.messages++;
  s.bytes += bytes.length;
}

/** Sends every message that is due (within the in-flight bound); arms a timer for the next. */
function pump(s) {
  if (s.startAt === null || s.finishedAt !== null || !s.ws || s.ws.readyState !== WebSocket.OPEN) return;
  const { t, bufs, isUpdate, header } = s.w;
  for (;;) {
    if (s.i >= bufs.length) {
      s.loop++;
      s.i = 0;
    }
    if (s.loop >= opts.loops) {
      if (s.inflight === 0) s.finishedAt = now();
      return;
    }
    const due = s.startAt + s.loop * header.durationMs + t[s.i];
    const at = now();
    if (due > at + 0.5) {
      clearTimeout(s.timer);
      s.timer = setTimeout(() => pump(s), due - at);
      return;
    }
    if (isUpdate[s.i] && s.inflight >= opts.inflight) {
      if (!s.heldSince) {
        s.heldSince = at;
        s.held++;
      }
      return; // the next ack pumps again
    }
    if (s.heldSince) {
      s.heldMs += at - s.heldSince;
      s.heldSince = 0;
    } else {
      s.lateness.push(at - due);
    }
    send(s, bufs[s.i]);
    s.i++;
  }
}

function onMessage(s, data, isBinary) {
  if (!isBinary) return note(s, 'text message from the viewer');
  hashInto(s.up, data);
  s.upMessages++;
  const type = data[0];
  if (s.helloAt === null) {
    if (type !== MessageType.HELLO) return note(s, `expected HELLO, got 0x${type.toString(16)}`);
    s.helloAt = now();
    send(s, HELLO);
    // The first screen: what the encoder sent for the workload's first frame.
    for (let i = 0; i < s.w.header.initial; i++) send(s, s.w.bufs[i]);
    s.i = s.w.header.initial;
    return;
  }
  if (type === MessageType.ACK) {
    const id = data.readUInt32LE(1);
    if (id !== s.frameIds.shift()) s.ackMismatch++;
    s.inflight = Math.max(0, s.inflight - 1);
    if (s.inflight === 0 && s.startAt === null) s.initialAcked = true;
    pump(s);
  } else if (type === MessageType.BYE || type === MessageType.ERROR) {
    note(s, `viewer said ${type === MessageType.BYE ? 'BYE' : 'ERROR'}`);
  }
}

function attach(s, ws) {
  if (s.ws) return void ws.close(1008, 'one viewer per PC in this bench');
  s.ws = ws;
  ws.on('message', (data, isBinary) => onMessage(s, data, isBinary));
  ws.on('error', (err) => note(s, `data socket: ${err.message}`));
  ws.on('close', (code, reason) => {
    s.closed = { code, reason: String(reason).slice(0, 100), at: now() };
    clearTimeout(s.timer);
  });
}

// --- relay mode: control connection per PC, data connection per session ---

/** Opens a PC's control connection; resolves once it is open or given up (a refusal is retried, as dialRelay does). */
function dialControl(s, attempt = 0) {
  return new Promise((resolve) => {
    dial(s, () => resolve(true), () => {
      if (attempt >= 5) return resolve(false);
      setTimeout(() => dialControl(s, attempt + 1).then(resolve), 200 * 2 ** attempt);
    });
  });
}

function dial(s, onOpen, onFail) {
  const headers = { [RelayHeaders.HOST_ID]: s.hostId, authorization: `Bearer ${s.secret}` };
  const ws = new WebSocket(new URL(RelayPaths.HOST, opts.url), { headers, perMessageDeflate: false, maxPayload: 4096 });
  s.control = ws;
  ws.on('unexpected-response', (_req, res) => {
    note(s, `control refused: HTTP ${res.statusCode}`);
    ws.terminate();
  });
  ws.on('open', () => {
    s.controlOpen = true;
    ws.send(JSON.stringify({ type: 'status', software: 'tilecast-gwbench-host', viewers: 0, width: 1920, height: 1080 }));
    onOpen();
  });
  ws.on('message', (data, isBinary) => {
    let m;
    try {
      if (isBinary) throw new Error('binary');
      m = JSON.parse(String(data));
    } catch {
      return note(s, 'bad control message');
    }
    if (m.type === 'open' && typeof m.session === 'string') {
      s.opens++;
      const dws = new WebSocket(new URL(RelayPaths.HOST_DATA, opts.url), {
        headers: { ...headers, [RelayHeaders.SESSION]: m.session }, perMessageDeflate: false, maxPayload: VIEWER_MAX,
      });
      dws.on('unexpected-response', (_req, res) => {
        note(s, `data connection refused: HTTP ${res.statusCode}`);
        dws.terminate();
      });
      dws.on('error', (err) => note(s, `data socket: ${err.message}`));
      dws.on('open', () => attach(s, dws));
    } else if (m.type === 'close') {
      note(s, `relay closed the session: ${m.reason}`);
    }
  });
  let opened = false;
  ws.on('open', () => (opened = true));
  ws.on('error', (err) => note(s, `control: ${err.message}`));
  ws.on('close', () => {
    s.controlOpen = false;
    if (!opened) onFail();
  });
}

async function start() {
  if (opts.mode === 'relay') {
    // In batches, each online before the next: a city's PCs come online over minutes, not in one burst.
    const list = [...sessions.values()];
    for (let k = 0; k < list.length; k += 25) await Promise.all(list.slice(k, k + 25).map((x) => dialControl(x)));
    return {};
  }
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: VIEWER_MAX });
  wss.on('connection', (ws, req) => {
    const s = sessions.get(new URL(req.url, 'http://x').searchParams.get('host'));
    if (!s) return void ws.close(1008, 'no such PC');
    attach(s, ws);
  });
  await new Promise((r) => wss.on('listening', r));
  start.wss = wss;
  return { port: wss.address().port };
}

function pct(a, p) {
  if (!a.length) return null;
  const s = Float64Array.from(a).sort();
  return s[Math.min(s.length - 1, Math.floor(s.length * p))];
}

serve({
  status: () => {
    let online = 0, attached = 0, idle = 0, finished = 0, errors = 0;
    for (const s of sessions.values()) {
      if (s.controlOpen) online++;
      if (s.ws) attached++;
      if (s.initialAcked) idle++;
      if (s.finishedAt !== null) finished++;
      if (s.errors.length) errors++;
    }
    return { online, attached, idle, finished, errors, total: sessions.size };
  },
  go: ({ t0 }) => {
    for (const s of sessions.values()) {
      s.startAt = t0 + s.delayMs;
      clearTimeout(s.timer);
      s.timer = setTimeout(() => pump(s), Math.max(0, s.startAt - now()));
    }
    return {};
  },
  usage: () => ({ cpu: process.cpuUsage(), rss: process.memoryUsage().rss, t: now() }),
  results: () => ({
    sessions: [...sessions.values()].map((s) => ({
      hostId: s.hostId, workload: s.workload, messages: s.messages, bytes: s.bytes, digest: s.hash.copy().digest('hex'),
      upMessages: s.upMessages, upDigest: s.up.copy().digest('hex'), opens: s.opens,
      expectedMessages: 1 + s.w.header.messages * opts.loops, sendTimes: s.sendTimes, startAt: s.startAt, finishedAt: s.finishedAt,
      latenessP50: pct(s.lateness, 0.5), latenessP95: pct(s.lateness, 0.95), latenessMax: s.lateness.length ? Math.max(...s.lateness) : null,
      held: s.held, heldMs: s.heldMs, ackMismatch: s.ackMismatch, errors: s.errors, closed: s.closed,
    })),
  }),
  close: () => {
    for (const s of sessions.values()) {
      clearTimeout(s.timer);
      s.ws?.close(1000, 'bench over');
      s.control?.close(1000, 'bench over');
    }
    start.wss?.close();
    setTimeout(() => process.exit(0), 200);
    return {};
  },
});

start().then((r) => process.send({ type: 'ready', pid: process.pid, ...r }), (err) => {
  console.error(err);
  process.exit(1);
});
