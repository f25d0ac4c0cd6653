// Both viewers (the Node ViewerClient and the browser TilecastViewer in real
// headless Chromium) against the same scripted host over real WebSockets: what
// each one sends, connection by connection, must be identical. They share
// src/protocol/viewerLink.ts; this shows the embedders wire it up the same way.
// Functional checks only: the transcript, never how long anything took.
import t from 'tap';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, Browser } from 'playwright-core';
import { WebSocketServer } from 'ws';
import { connectViewer } from '../../src/client/viewerClient';
import { ViewerEncoder } from '../../src/host/viewerEncoder';
import { viewerPage } from '../../src/host/viewerPage';
import { Capability, Reason, reasonName } from '../../src/protocol/constants';
import { Message, decodeMessage, encodeMessage } from '../../src/protocol/messages';
import { fillRandom, makeFrame, rng, until } from '../helpers';

const CHROMIUM = '/usr/bin/chromium';
const skip = fs.existsSync(CHROMIUM) ? false : `Debian chromium not installed at ${CHROMIUM}`;
if (skip && process.env.CI) throw new Error(String(skip));
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Short timers so the script runs quickly; the same options for both viewers. */
const OPTIONS = { timeoutMs: 1000, pingIntervalMs: 200, minBackoffMs: 50, maxBackoffMs: 200 };
const HOST_HELLO = encodeMessage({ type: 'hello', minVersion: 1, maxVersion: 1, capabilities: Capability.COPY_RECT | Capability.CURSOR, software: 'scripted-host' });
const send = (ws: import('ws').WebSocket, m: Message) => ws.send(encodeMessage(m));

/**
 * A host that plays one script per connection and writes down what the viewer
 * does (only the first own PING of a connection: how many follow is timing):
 *  1. RESIZE before its HELLO            → the viewer must send ERROR PROTOCOL_ERROR and close 4001;
 *  2. HELLO, PING 42, then silence        → PONG 42, own PINGs, then ERROR TIMEOUT and close 4006;
 *  3. HELLO, RESIZE, keyframe UPDATE      → ACK; the host then says BYE SERVER_SHUTDOWN and closes;
 *  4. HELLO                               → the viewer came back once more; closed by its
 *                                           embedder, it says BYE NORMAL and closes 1000.
 */
async function scriptedHost(t: { teardown(fn: () => unknown): void }) {
  const encoder = new ViewerEncoder();
  encoder.start(Capability.COPY_RECT | Capability.CURSOR);
  const frame = fillRandom(makeFrame(64, 32), rng(5), 6);
  encoder.offer(frame, [{ x: 0, y: 0, w: 64, h: 32 }]);
  const screen = await encoder.step({ canSend: true, deliveryRateBps: null }); // RESIZE + keyframe UPDATE
  const server = http.createServer(viewerPage());
  const wss = new WebSocketServer({ server });
  const log = new Map<number, string[]>();
  const software: string[] = [];
  let connections = 0;
  wss.on('connection', (ws, req) => {
    if (req.url?.includes('auto')) return; // the page's own viewer, closed by the test
    const n = ++connections;
    const lines: string[] = [];
    log.set(n, lines);
    let pinged = false;
    ws.on('message', (data: Buffer) => {
      const m = decodeMessage(data);
      switch (m.type) {
        case 'hello':
          software.push(m.software);
          lines.push(`hello v${m.minVersion}..${m.maxVersion} copy=${(m.capabilities & Capability.COPY_RECT) !== 0} cursor=${(m.capabilities & Capability.CURSOR) !== 0}`);
          if (n === 1) return send(ws, { type: 'resize', width: 64, height: 32 });
          ws.send(HOST_HELLO);
          if (n === 2) send(ws, { type: 'ping', id: 42, time: 1.5 });
          if (n === 3) for (const b of screen.messages) ws.send(b);
          return;
        case 'ping':
          if (pinged) return;
          pinged = true;
          lines.push('ping');
          return send(ws, { type: 'pong', id: m.id, time: m.time });
        case 'pong':
          return void lines.push(`pong ${m.id} ${m.time}`);
        case 'ack':
          lines.push(`ack ${m.frameId}`);
          send(ws, { type: 'bye', reason: Reason.SERVER_SHUTDOWN, message: 'host restarting' });
          return ws.close(1000);
        case 'error':
        case 'bye':
          return void lines.push(`${m.type} ${reasonName(m.reason)}`);
        default:
          return void lines.push(m.type);
      }
    });
    ws.on('close', (code) => lines.push(`closed ${code}`));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => { wss.close(); server.close(() => r()); server.closeAllConnections(); }));
  const port = (server.address() as AddressInfo).port;
  const done = () => connections >= 4 && (log.get(3) ?? []).some((l) => l.startsWith('closed'));
  return { port, log, software, done, transcript: () => [1, 2, 3, 4].map((i) => [i, log.get(i)]) };
}

const EXPECTED = [
  [1, ['hello v1..1 copy=true cursor=true', 'error PROTOCOL_ERROR', 'closed 4001']],
  [2, ['hello v1..1 copy=true cursor=true', 'ping', 'pong 42 1.5', 'error TIMEOUT', 'closed 4006']],
  [3, ['hello v1..1 copy=true cursor=true', 'ping', 'ack 1', 'closed 1000']],
  [4, ['hello v1..1 copy=true cursor=true', 'ping', 'bye NORMAL', 'closed 1000']],
];

let browser: Browser;
t.before(async () => {
  if (!skip) browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
});
t.teardown(async () => browser?.close());

t.test('the Node viewer follows the script', async (t) => {
  const host = await scriptedHost(t);
  const viewer = connectViewer(`ws://127.0.0.1:${host.port}/`, OPTIONS);
  const errors: string[] = [];
  const hostCloses: string[] = [];
  viewer.on('error', (e) => errors.push((e as { code?: string }).code ?? e.message));
  viewer.on('hostClose', (m) => hostCloses.push(`${m.type} ${reasonName(m.reason)}`));
  await until(host.done, 'four connections');
  await until(() => (host.log.get(4) ?? []).includes('ping'), "the fourth connection's ping");
  viewer.close();
  await until(() => (host.log.get(4) ?? []).some((l) => l.startsWith('closed')), 'the close');
  t.same(host.transcript(), EXPECTED);
  t.same(errors.slice(0, 2), ['ERR_PROTOCOL', 'ERR_TIMEOUT'], 'the failures were reported');
  t.same(hostCloses, ['bye SERVER_SHUTDOWN'], "the host's BYE reached the embedder");
  t.equal(host.software[0], 'tilecast-node-viewer');
});

t.test('the browser viewer follows the same script', { skip }, async (t) => {
  const host = await scriptedHost(t);
  const page = await browser.newPage();
  t.teardown(() => page.close());
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`http://127.0.0.1:${host.port}/?auto`);
  // A string, so the dynamic import reaches the page as written (not compiled to require()).
  await page.evaluate(`(async () => {
    window.tilecastViewer.close();
    const { mountViewer } = await import('/tilecast-viewer.js');
    const el = document.getElementById('screen');
    el.replaceChildren();
    window.tilecastViewer = mountViewer(el, { url: ${JSON.stringify(`ws://127.0.0.1:${host.port}/`)}, ...${JSON.stringify(OPTIONS)} });
  })()`);
  await until(host.done, 'four connections');
  await until(() => (host.log.get(4) ?? []).includes('ping'), "the fourth connection's ping");
  const stats = await page.evaluate(() => (window as any).tilecastViewer.stats);
  await page.evaluate(() => (window as any).tilecastViewer.close());
  await until(() => (host.log.get(4) ?? []).some((l) => l.startsWith('closed')), 'the close');
  t.same(host.transcript(), EXPECTED);
  t.equal(stats.connections, 4);
  t.equal(stats.painted, 1, 'the one update was painted');
  t.equal(host.software[0], 'tilecast-browser-viewer');
  t.same(pageErrors, [], 'no page errors');
});
