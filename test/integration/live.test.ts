// Live streaming over WebSocket: functional checks only (no timing assertions).
import t from 'tap';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import WebSocket from 'ws';
import { ViewerClient, connectViewer } from '../../src/client/viewerClient';
import { DeliveryTrace } from '../../src/emulator/deliveryTrace';
import { LinkEmulator } from '../../src/emulator/linkEmulator';
import { Host, InputEvent } from '../../src/host/host';
import { Reason } from '../../src/protocol/constants';
import { Message, decodeMessage, encodeMessage } from '../../src/protocol/messages';
import { Frame } from '../../src/frame';
import { base, startHost } from '../security/hostile';
import { expectedFramebuffer, fillRandom, firstDifference, makeFrame, rng, until } from '../helpers';

const HELLO = encodeMessage({ type: 'hello', minVersion: 1, maxVersion: 1, capabilities: 0, software: 'raw-test' });

/** A frame whose content depends on `n`: a base scene with a changing block. */
function frameN(base: Frame, n: number): Frame {
  const data = Buffer.from(base.data);
  const random = rng(n);
  const x0 = (n * 97) % (base.width - 100), y0 = (n * 61) % (base.height - 50);
  for (let y = y0; y < y0 + 50; y++) for (let x = x0; x < x0 + 100; x++) data[(y * base.width + x) * 4] = (random() * 256) | 0;
  return { ...base, data };
}

/** Waits until the viewer shows `frame` and (when `allAcked`) every viewer's updates are acked. */
async function atRest(host: Host, viewer: ViewerClient, frame: Frame, allAcked = true): Promise<string | null> {
  const want = expectedFramebuffer(frame);
  await until(() => viewer.framebuffer !== null && viewer.width === frame.width && firstDifference(viewer.framebuffer, want, frame.width) === null
    && (!allAcked || host.viewers().every((v) => v.flow.inflightUpdates === 0)), 'the viewer to match the host screen');
  return firstDifference(viewer.framebuffer!, want, frame.width);
}

/** A raw WebSocket peer for misbehaving-viewer tests. */
function rawPeer(url: string): Promise<{ ws: WebSocket; messages: Message[]; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const messages: Message[] = [];
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    ws.on('message', (d: Buffer) => messages.push(decodeMessage(d)));
    ws.on('open', () => resolve({ ws, messages, closed }));
    ws.on('error', reject);
  });
}


t.test('updates flow, acks come back, the viewer ends exact', async (t) => {
  const { source, host } = await startHost({ fps: 60 });
  const viewer = connectViewer(host.url);
  for (let n = 1; n <= 20; n++) {
    source.push(frameN(base, n));
    await new Promise((r) => setTimeout(r, 10));
  }
  const last = frameN(base, 20);
  t.equal(await atRest(host, viewer, last), null);
  const stats = host.viewers()[0]!;
  t.ok(stats.flow.acked >= 1 && stats.flow.acked === stats.updatesSent, `all ${stats.updatesSent} updates acked`);
  t.ok(stats.flow.minRttMs !== null && stats.flow.deliveryRateBps !== null, 'RTT and rate estimated');
  t.ok(viewer.updates >= 2);
  await until(() => viewer.rttMs !== null, "the viewer's own RTT sample");
  t.ok(viewer.rttMs! >= 0, 'the Node viewer measures RTT from its pings, as the browser viewer does');
  viewer.close();
  await host.close();
});

t.test('a viewer that never acks gets at most the in-flight bound, and does not stall another viewer', async (t) => {
  const { source, host } = await startHost({ fps: 60, flow: { maxInflightUpdates: 3, minInflightBytes: 1 } });
  const silent = await rawPeer(host.url);
  silent.ws.send(HELLO);
  const good = connectViewer(host.url);
  for (let n = 1; n <= 40; n++) {
    source.push(frameN(base, n));
    await new Promise((r) => setTimeout(r, 15));
  }
  t.equal(await atRest(host, good, frameN(base, 40), false).catch(() => 'good viewer did not converge'), null,
    'the acking viewer converged while the other never acked');
  const updates = silent.messages.filter((m) => m.type === 'update').length;
  t.ok(updates >= 1 && updates <= 3, `silent viewer received ${updates} updates (bound 3)`);
  const silentStats = host.viewers().find((v) => v.flow.acked === 0)!;
  t.ok(silentStats.flow.inflightUpdates <= 3);
  silent.ws.terminate();
  good.close();
  await host.close();
});

t.test('a dropped connection reconnects and resyncs to the exact screen', async (t) => {
  const { source, host } = await startHost({ fps: 60 });
  const viewer = connectViewer(host.url, { minBackoffMs: 50 });
  t.equal(await atRest(host, viewer, base), null);
  let reconnects = 0;
  viewer.on('reconnect', () => reconnects++);
  host.dropViewers();
  await until(() => viewer.connections >= 2, 'the reconnect');
  const changed = frameN(base, 7);
  source.push(changed);
  t.equal(await atRest(host, viewer, changed), null, 'exact after resync');
  t.ok(reconnects >= 1);
  viewer.close();
  await host.close();
});

t.test('a bad message closes only that connection, with a reason', async (t) => {
  const { source, host, audits } = await startHost({ fps: 60 });
  const good = connectViewer(host.url);
  t.equal(await atRest(host, good, base), null);
  for (const garbage of [Buffer.from([0x99, 1, 2]), Buffer.from([0x21, 1]), Buffer.from('hello', 'utf8')]) {
    const bad = await rawPeer(host.url);
    bad.ws.send(HELLO);
    await until(() => bad.messages.some((m) => m.type === 'hello'), 'host hello');
    bad.ws.send(garbage, { binary: garbage[0] !== 0x68 });
    const code = await bad.closed;
    const err = bad.messages.find((m) => m.type === 'error');
    t.equal(code, 1008, 'policy-violation close');
    t.ok(err && err.type === 'error' && err.reason === Reason.PROTOCOL_ERROR && err.message.length > 0, `reason: ${err && 'message' in err ? err.message : '?'}`);
  }
  // An oversized message is cut off by the WebSocket layer (1009: message too big).
  const big = await rawPeer(host.url);
  big.ws.send(HELLO);
  big.ws.send(Buffer.alloc(64 * 1024, 0x21));
  t.equal(await big.closed, 1009, 'oversized message: 1009');
  const next = frameN(base, 3);
  source.push(next);
  t.equal(await atRest(host, good, next), null, 'the good viewer kept streaming');
  t.ok(audits.filter((a) => a.type === 'disconnect').length >= 3);
  good.close();
  await host.close();
});

t.test('authorisation runs before any pixel; input reaches the host', async (t) => {
  const { host, audits } = await startHost({
    authorize: ({ request }) => (request.headers.authorization === 'Bearer good' ? { user: 'k.tanaka' } : false),
  });
  const refused = connectViewer(host.url, { headers: { authorization: 'Bearer bad' } });
  const error = await new Promise<Error>((r) => refused.once('error', r));
  t.match(error.message, /401/);
  t.equal(refused.updates, 0);
  refused.close();
  const viewer = connectViewer(host.url, { headers: { authorization: 'Bearer good' } });
  t.equal(await atRest(host, viewer, base), null);
  const inputs: InputEvent[] = [];
  host.on('input', (e: InputEvent) => inputs.push(e));
  viewer.sendPointer({ x: 10, y: 20, buttons: 1, wheelX: 0, wheelY: -120 });
  viewer.sendKey({ down: true, repeat: false, modifiers: 0, keysym: 0, code: 'KeyA', key: 'a' });
  await until(() => inputs.length === 2, 'input events');
  t.same(inputs.map((i) => [i.user, i.message.type]), [['k.tanaka', 'pointer'], ['k.tanaka', 'key']]);
  t.ok(audits.some((a) => a.type === 'refused') && audits.some((a) => a.type === 'connect' && a.user === 'k.tanaka'));
  viewer.close();
  await host.close();
});

t.test('the viewer limit refuses extra viewers with 503 and an audit event', async (t) => {
  const { host, audits } = await startHost({ maxViewers: 1 });
  const first = connectViewer(host.url);
  t.equal(await atRest(host, first, base), null);
  const second = connectViewer(host.url, { reconnect: false });
  const error = await new Promise<Error>((r) => second.once('error', r));
  t.match(error.message, /503/);
  t.ok(audits.some((a) => a.type === 'refused' && a.reason === 'viewer limit reached'));
  second.close();
  first.close();
  await until(() => audits.some((a) => a.type === 'disconnect'), 'the disconnect audit');
  const done = audits.find((a) => a.type === 'disconnect')!;
  t.ok(done.bytesSent! > 0 && done.durationMs! >= 0, 'disconnect reports bytes and duration');
  await host.close();
});

t.test('a resolution change mid-stream reaches the viewer exactly', async (t) => {
  const { source, host } = await startHost({ fps: 60 });
  const viewer = connectViewer(host.url);
  t.equal(await atRest(host, viewer, base), null);
  const small = fillRandom(makeFrame(800, 600), rng(8), 12);
  source.push(small);
  t.equal(await atRest(host, viewer, small), null);
  t.equal(viewer.width, 800);
  viewer.close();
  await host.close();
});

t.test('wss with a caller-supplied certificate', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilecast-tls-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
      '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  } catch {
    t.fail('openssl is needed to make a test certificate (apt-get install openssl)');
    return;
  }
  const cert = fs.readFileSync(path.join(dir, 'cert.pem'));
  const { host } = await startHost({ tls: { cert, key: fs.readFileSync(path.join(dir, 'key.pem')) } });
  t.match(host.url, /^wss:/);
  const viewer = connectViewer(host.url, { ca: cert });
  t.equal(await atRest(host, viewer, base), null);
  viewer.close();
  await host.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

t.test('a silent viewer is timed out by the heartbeat', async (t) => {
  const { host } = await startHost({ pingIntervalMs: 100, timeoutMs: 300 });
  const silent = await rawPeer(host.url);
  silent.ws.send(HELLO);
  // Never answer pings, never ack.
  const code = await silent.closed;
  const bye = silent.messages.find((m) => m.type === 'bye');
  t.ok(bye && bye.type === 'bye' && bye.reason === Reason.TIMEOUT, 'closed with TIMEOUT');
  t.ok(code === 1000 || code === 1006);
  await host.close();
});

t.test('through the LTE link emulator the viewer still ends exact', async (t) => {
  const { source, host } = await startHost({ fps: 30 });
  const emu = await LinkEmulator.start({
    targetPort: host.port,
    down: { trace: DeliveryTrace.constant(5), delayMs: 20 },
    up: { trace: DeliveryTrace.constant(1), delayMs: 20 },
  });
  const viewer = connectViewer(`ws://127.0.0.1:${emu.port}/`);
  for (let n = 1; n <= 10; n++) {
    source.push(frameN(base, n));
    await new Promise((r) => setTimeout(r, 30));
  }
  t.equal(await atRest(host, viewer, frameN(base, 10)), null);
  viewer.close();
  await emu.close();
  await host.close();
});
