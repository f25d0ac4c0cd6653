// Viewer simulators of the gateway benchmark: many viewers in one process,
// each connected to one PC (through the gateway, or directly for the
// baseline). Each sends HELLO and acks every UPDATE with its frame id as a
// real viewer does (right away; `decode` viewers after decoding it for real
// with the Node viewer's ScreenDecoder), and keeps a running SHA-256 of every
// message received (u32 length, then the bytes) and of every message sent,
// plus the receive time of every UPDATE.
//
// argv[2] JSON { viewers: [{ hostId, url, token?, decode, connectAt }] }
// child -> parent { type: 'ready', pid }; commands: connect { t0 }, status, results, usage, close
'use strict';
const crypto = require('node:crypto');
const { WebSocket } = require('ws');
const { ScreenDecoder, protocol } = require('tilecast');
const { serve } = require('./child');
const { hello, hashInto } = require('./gwMessages');

const opts = JSON.parse(process.argv[2]);
const now = () => performance.timeOrigin + performance.now();
const { MessageType } = protocol;
const HELLO = hello('tilecast-gwbench-viewer');

const viewers = opts.viewers.map((v) => ({
  ...v, ws: null, opened: false, hash: crypto.createHash('sha256'), messages: 0, bytes: 0, up: crypto.createHash('sha256'), upMessages: 0,
  updates: 0, acked: 0, recvTimes: [], decoder: v.decode ? new ScreenDecoder() : null, chain: Promise.resolve(), decodeError: null, bye: null, errors: [], closed: null,
}));

function sendUp(v, bytes) {
  if (v.ws.readyState !== WebSocket.OPEN) return;
  v.ws.send(bytes, { binary: true });
  hashInto(v.up, bytes);
  v.upMessages++;
}

function ack(v, frameId, receivedAt) {
  sendUp(v, Buffer.from(protocol.encodeMessage({ type: 'ack', frameId, receivedAt, displayedAt: now() })));
  v.acked++;
}

function onMessage(v, data, isBinary) {
  const at = now();
  if (!isBinary) return v.errors.length < 5 && v.errors.push('text message');
  hashInto(v.hash, data);
  v.messages++;
  v.bytes += data.length;
  const type = data[0];
  if (type === MessageType.UPDATE) {
    v.updates++;
    v.recvTimes.push(at);
    if (!v.decoder) return ack(v, data.readUInt32LE(1), at);
  } else if (type === MessageType.BYE || type === MessageType.ERROR) {
    try {
      v.bye = protocol.decodeMessage(data);
    } catch {
      v.bye = { message: 'undecodable BYE' };
    }
  }
  if (v.decoder) {
    v.chain = v.chain.then(async () => {
      if (v.decodeError) return;
      const r = await v.decoder.handle(protocol.decodeMessage(data), at);
      if (r.ack) ack(v, r.ack.frameId, at);
    }).catch((err) => (v.decodeError = String(err.message)));
  }
}

function connect(v) {
  const headers = v.token ? { authorization: `Bearer ${v.token}` } : {};
  const ws = new WebSocket(v.url, { headers, perMessageDeflate: false, maxPayload: protocol.Limits.MAX_MESSAGE_BYTES });
  v.ws = ws;
  ws.on('unexpected-response', (_req, res) => {
    v.errors.length < 5 && v.errors.push(`HTTP ${res.statusCode}`);
    ws.terminate();
  });
  ws.on('open', () => {
    v.opened = true;
    sendUp(v, HELLO);
  });
  ws.on('message', (data, isBinary) => onMessage(v, data, isBinary));
  ws.on('error', (err) => v.errors.length < 5 && v.errors.push(err.message));
  ws.on('close', (code, reason) => (v.closed = { code, reason: String(reason).slice(0, 100), at: now() }));
}

serve({
  connect: ({ t0 }) => {
    for (const v of viewers) setTimeout(() => connect(v), Math.max(0, t0 + v.connectAt - now()));
    return {};
  },
  status: () => {
    let opened = 0, screens = 0, closed = 0;
    const counts = {};
    for (const v of viewers) {
      if (v.opened) opened++;
      if (v.acked > 0) screens++;
      if (v.closed) closed++;
      counts[v.hostId] = v.messages;
    }
    return { opened, screens, closed, total: viewers.length, counts };
  },
  usage: () => ({ cpu: process.cpuUsage(), rss: process.memoryUsage().rss, t: now() }),
  results: async () => {
    await Promise.all(viewers.map((v) => v.chain));
    return {
      viewers: viewers.map((v) => ({
        hostId: v.hostId, messages: v.messages, bytes: v.bytes, digest: v.hash.copy().digest('hex'), upMessages: v.upMessages, upDigest: v.up.copy().digest('hex'),
        updates: v.updates, acked: v.acked, recvTimes: v.recvTimes, decode: !!v.decoder, decodeError: v.decodeError,
        screenHash: v.decoder?.framebuffer ? crypto.createHash('sha256').update(v.decoder.framebuffer).digest('hex') : null,
        bye: v.bye && { reason: v.bye.reason, message: v.bye.message }, errors: v.errors, closed: v.closed,
      })),
    };
  },
  close: () => {
    for (const v of viewers) v.ws?.close(1000, 'bench over');
    setTimeout(() => process.exit(0), 200);
    return {};
  },
});

process.send({ type: 'ready', pid: process.pid });
