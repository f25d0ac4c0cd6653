// Hostile viewers against a real host: a viewer that never reads its socket but
// acks everything, a refresh-request flood, input from view-only viewers, and
// what viewers are told when the screen source fails. Functional checks with
// generous "eventually" bounds only.
import t from 'tap';
import * as path from 'node:path';
import { ScreenStateInfo, connectViewer } from '../../src/client/viewerClient';
import type { Frame } from '../../src/frame';
import { InputEvent, createHost } from '../../src/host/host';
import { Capability, MessageType } from '../../src/protocol/constants';
import { PushSource } from '../../src/source/pushSource';
import { expectedFramebuffer, fillRandom, firstDifference, makeFrame, rng, until } from '../helpers';
import { noiseFrame } from './fixtures/floodHost';
import { RawPeer, ScriptedSource, rawPeer, roundTrip, tsChild } from './helpers';

// Capability bits and the SCREEN_STATE type byte (src/protocol/constants.ts), literal so the test
// also ran against the host before they existed; checked against the constants below.
const COPY_RECT = 1 << 0, CURSOR = 1 << 1, INPUT = 1 << 3, SCREEN_STATE = 1 << 4;
const SCREEN_STATE_TYPE = 0x14;

t.test('the literals are the protocol constants', async (t) => {
  t.same([Capability.COPY_RECT, Capability.CURSOR, Capability.INPUT, Capability.SCREEN_STATE, MessageType.SCREEN_STATE], [COPY_RECT, CURSOR, INPUT, SCREEN_STATE, SCREEN_STATE_TYPE]);
});
const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function screen(w: number, h: number, seed: number): Frame {
  return fillRandom(makeFrame(w, h), rng(seed), 8);
}

t.test('a viewer that never reads but acks every id: host memory stays bounded, an honest viewer stays exact', async (t) => {
  const { child, next, ask } = tsChild(path.join(__dirname, 'fixtures', 'floodHost.ts'));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const { url } = await next();
  const honest = connectViewer(url);
  t.teardown(() => honest.close());
  await until(() => honest.updates >= 10, 'the honest viewer streaming');
  await sleep(2000); // warm: the honest session's buffers are allocated
  const before = (await ask('mem')).mem as NodeJS.MemoryUsage;

  const hostile = await rawPeer(url, COPY_RECT | CURSOR);
  (hostile.ws as unknown as { _socket: { pause(): void } })._socket.pause(); // never reads a byte
  t.teardown(() => hostile.ws.terminate());
  const started = Date.now();
  let acks = 0;
  const flood = setInterval(() => {
    // Acks for every id the host could have sent by now (30 updates/s at most), plus refreshes and pings.
    const guess = 64 + Math.ceil(((Date.now() - started) / 1000) * 30);
    for (let id = 1; id <= guess; id++) hostile.send({ type: 'ack', frameId: id, receivedAt: 0, displayedAt: 0 });
    acks += guess;
    hostile.send({ type: 'refreshRequest' });
    for (let i = 0; i < 20; i++) hostile.send({ type: 'ping', id: i, time: 0 });
  }, 50);
  let peakRss = 0, peakExternal = 0;
  while (Date.now() - started < 20_000) {
    await sleep(1000);
    const m = (await ask('mem')).mem as NodeJS.MemoryUsage;
    peakRss = Math.max(peakRss, m.rss);
    peakExternal = Math.max(peakExternal, m.external + m.arrayBuffers);
  }
  clearInterval(flood);
  const viewers = (await ask('stats')).viewers as Array<{ id: number; bytesSent: number }>;
  const sentToHostile = viewers.sort((a, b) => a.id - b.id).at(-1)!.bytesSent; // the later of the two
  const rssGrowth = peakRss - before.rss;
  const externalGrowth = peakExternal - (before.external + before.arrayBuffers);
  t.ok(rssGrowth < 64 * MiB, `host RSS grew ${(rssGrowth / MiB).toFixed(1)} MiB in 20 s (bound 64 MiB; ${acks} spoofed acks, ${(sentToHostile / MiB).toFixed(1)} MiB queued to its socket)`);
  t.ok(externalGrowth < 64 * MiB, `host external memory grew ${(externalGrowth / MiB).toFixed(1)} MiB (bound 64 MiB)`);
  t.notOk(hostile.isClosed(), 'the hostile viewer was not closed for it (it is only held back)');

  const { settled } = await ask('settle');
  const want = expectedFramebuffer(noiseFrame(settled));
  await until(() => honest.framebuffer !== null && firstDifference(honest.framebuffer, want, noiseFrame(0).width) === null, 'the honest viewer to match the screen', 30_000)
    .catch(() => {});
  t.equal(honest.framebuffer && firstDifference(honest.framebuffer, want, noiseFrame(0).width), null, 'the honest viewer is byte-identical to the screen');
  await ask('exit').catch(() => {});
});

t.test('a refresh flood: keyframes from refresh requests stay at about one per second per viewer, none lost', async (t) => {
  const source = new PushSource();
  source.push(screen(320, 240, 1));
  const host = await createHost({ source, fps: 60 });
  host.on('error', () => {});
  t.teardown(() => host.close());
  // Three viewers that ack each update and ask for a refresh after every one.
  const peers: RawPeer[] = [];
  let flooding = true;
  for (let i = 0; i < 3; i++) {
    const p = await rawPeer(host.url, COPY_RECT | CURSOR);
    p.ws.on('message', (d: Buffer) => {
      if (d[0] !== 0x11) return;
      p.send({ type: 'ack', frameId: d.readUInt32LE(1), receivedAt: 0, displayedAt: 0 });
      if (flooding) p.send({ type: 'refreshRequest' });
    });
    peers.push(p);
  }
  await until(() => host.viewers().length === 3 && host.viewers().every((v) => v.keyframes >= 1), 'three viewers with their first keyframe');
  const started = Date.now();
  const start = new Map(host.viewers().map((v) => [v.id, v.keyframes]));
  await sleep(4000);
  const seconds = (Date.now() - started) / 1000;
  for (const v of host.viewers()) {
    const n = v.keyframes - start.get(v.id)!;
    t.ok(n <= seconds * 1.5 + 2, `viewer ${v.id}: ${n} keyframes in ${seconds.toFixed(1)} s of refresh flood (bound ~1/s)`);
    t.ok(n >= 2, `viewer ${v.id}: refreshes were merged, not dropped (${n} keyframes)`);
  }
  // One more request after the flood: it still gets its keyframe.
  flooding = false;
  await sleep(300);
  const p = peers[0]!;
  const keyframesBefore = p.received.filter((r) => r.typeByte === 0x11 && (r.bytes[13]! & 1) === 1).length;
  p.send({ type: 'refreshRequest' });
  await until(() => p.received.filter((r) => r.typeByte === 0x11 && (r.bytes[13]! & 1) === 1).length > keyframesBefore, 'the keyframe for a refresh request');
  t.pass('a refresh request inside the window got its keyframe');
  for (const peer of peers) peer.ws.terminate();
});

t.test("view-only viewers: their input never reaches the host's input event", async (t) => {
  const source = new PushSource();
  source.push(screen(200, 120, 2));
  const host = await createHost({
    source,
    authorize: ({ request }) => (request.headers.authorization === 'Bearer watcher' ? { user: 'watcher', viewOnly: true } : { user: 'operator' }),
  });
  host.on('error', () => {});
  t.teardown(() => host.close());
  const inputs: InputEvent[] = [];
  host.on('input', (e: InputEvent) => inputs.push(e));
  const pointer = { type: 'pointer', x: 5, y: 6, buttons: 1, wheelX: 0, wheelY: 0 } as const;
  const key = { type: 'key', down: true, repeat: false, modifiers: 0, keysym: 0, code: 'KeyA', key: 'a' } as const;
  const hostHello = async (p: RawPeer) => {
    await until(() => p.of('hello').length > 0, 'the host HELLO');
    return p.of('hello')[0] as { capabilities: number };
  };

  // A viewer that announces INPUT and is allowed to: its input goes through (the control).
  const operator = await rawPeer(host.url, COPY_RECT | CURSOR | INPUT);
  t.ok(((await hostHello(operator)).capabilities & INPUT) !== 0, "the host's HELLO says it takes this viewer's input");
  operator.send(pointer);
  operator.send(key);
  await roundTrip(operator, 1);
  t.same(inputs.map((i) => [i.user, i.message.type]), [['operator', 'pointer'], ['operator', 'key']], 'input from an input viewer arrives');
  inputs.length = 0;

  // A viewer that announced no INPUT but sends input anyway.
  const silent = await rawPeer(host.url, COPY_RECT | CURSOR);
  t.equal((await hostHello(silent)).capabilities & INPUT, 0, "the host's HELLO says no input for it");
  for (let i = 0; i < 5; i++) silent.send(pointer);
  silent.send(key);
  await roundTrip(silent, 2);
  t.same(inputs, [], 'no INPUT capability: its input is dropped');
  const stats = host.viewers().find((v) => v.user === 'operator' && v.inputDropped > 0);
  t.equal(stats?.inputDropped, 6, 'and counted');

  // The authorise hook made this one view-only, whatever it announces.
  const watcher = await rawPeer(host.url, COPY_RECT | CURSOR | INPUT, { authorization: 'Bearer watcher' });
  t.equal((await hostHello(watcher)).capabilities & INPUT, 0, "authorised view-only: the host's HELLO says no input");
  watcher.send(pointer);
  watcher.send(key);
  await roundTrip(watcher, 3);
  t.same(inputs, [], 'authorised view-only: input dropped');
  t.ok(host.viewers().some((v) => v.user === 'watcher' && v.viewOnly && v.inputDropped === 2));

  // One that keeps sending gets cut off with PROTOCOL_ERROR.
  for (let i = 0; i < 200 && !watcher.isClosed(); i++) watcher.send(pointer);
  t.equal(await watcher.closed, 1008, 'closed after too much input');
  const err = watcher.of('error')[0];
  t.ok(err && err.type === 'error' && err.reason === 1, `ERROR PROTOCOL_ERROR: ${err && 'message' in err ? err.message : '?'}`);
  t.same(inputs, [], 'none of it reached the host');

  // The Node viewer: viewOnly announces no INPUT and sends nothing.
  const nodeWatcher = connectViewer(host.url, { viewOnly: true });
  t.teardown(() => nodeWatcher.close());
  await until(() => nodeWatcher.connected, 'the view-only Node viewer');
  t.equal(nodeWatcher.sendPointer({ x: 1, y: 1, buttons: 0, wheelX: 0, wheelY: 0 }), false, 'sendPointer refuses on a view-only viewer');
  const nodeOperator = connectViewer(host.url);
  t.teardown(() => nodeOperator.close());
  await until(() => nodeOperator.connected, 'the Node viewer');
  t.equal(nodeOperator.sendKey({ down: true, repeat: false, modifiers: 0, keysym: 0, code: 'KeyB', key: 'b' }), true);
  await until(() => inputs.length === 1, 'the input viewer key');
  operator.ws.terminate();
  silent.ws.terminate();
});

t.test('HostOptions.viewOnly: every viewer is view-only unless the hook says otherwise', async (t) => {
  const source = new PushSource();
  source.push(screen(200, 120, 3));
  const host = await createHost({
    source, viewOnly: true,
    authorize: ({ request }) => (request.headers.authorization === 'Bearer op' ? { user: 'op', viewOnly: false } : true),
  });
  t.teardown(() => host.close());
  const inputs: InputEvent[] = [];
  host.on('input', (e: InputEvent) => inputs.push(e));
  const viewer = connectViewer(host.url);
  t.teardown(() => viewer.close());
  await until(() => viewer.connected, 'the viewer');
  t.equal(viewer.sendPointer({ x: 1, y: 1, buttons: 0, wheelX: 0, wheelY: 0 }), false, "the host's HELLO said no input: the Node viewer sends none");
  const raw = await rawPeer(host.url, COPY_RECT | INPUT);
  raw.send({ type: 'pointer', x: 1, y: 1, buttons: 0, wheelX: 0, wheelY: 0 });
  await roundTrip(raw, 9);
  t.same(inputs, [], 'dropped');
  const op = connectViewer(host.url, { headers: { authorization: 'Bearer op' } });
  t.teardown(() => op.close());
  await until(() => op.connected, 'the operator');
  t.equal(op.sendPointer({ x: 2, y: 2, buttons: 0, wheelX: 0, wheelY: 0 }), true);
  await until(() => inputs.length === 1, "the operator's input");
  raw.ws.terminate();
});

/** SCREEN_STATE messages a raw peer got, as [state, reason] (parsed by hand: u8 state, str8 reason). */
function screenStates(p: RawPeer): Array<[number, string]> {
  return p.received.filter((r) => r.typeByte === SCREEN_STATE_TYPE).map((r) => [r.bytes[1]!, r.bytes.subarray(3, 3 + r.bytes[2]!).toString('utf8')]);
}

t.test('source failures reach viewers as SCREEN_STATE: unavailable, live again, ended; only viewers that asked for it', async (t) => {
  const source = new ScriptedSource(screen(200, 120, 4));
  const host = await createHost({ source, fps: 30, stallTimeoutMs: 1000 });
  host.on('error', () => {});
  t.teardown(() => host.close());
  const aware = await rawPeer(host.url, COPY_RECT | SCREEN_STATE);
  const legacy = await rawPeer(host.url, COPY_RECT);
  const node = connectViewer(host.url);
  t.teardown(() => node.close());
  const nodeStates: ScreenStateInfo[] = [];
  node.on('screenState', (s) => nodeStates.push(s));
  await until(() => aware.received.some((r) => r.typeByte === 0x11) && node.updates > 0, 'the first updates');
  t.same(screenStates(aware), [], 'live: nothing said');

  source.mode = 'throw';
  await until(() => screenStates(aware).some(([s]) => s === 1), 'SCREEN_STATE unavailable');
  t.match(screenStates(aware).at(-1)![1], /display went away/, 'with the reason');
  await until(() => nodeStates.some((s) => s.state === 'unavailable'), "the Node viewer's screenState event");
  const late = await rawPeer(host.url, COPY_RECT | SCREEN_STATE);
  await until(() => screenStates(late).some(([s]) => s === 1), 'a viewer joining while unavailable is told at once');

  source.recover();
  await until(() => screenStates(aware).at(-1)?.[0] === 0, 'SCREEN_STATE live again');
  await until(() => nodeStates.at(-1)?.state === 'live', 'the Node viewer hears it is live');

  source.mode = 'hang';
  await until(() => screenStates(aware).at(-1)?.[0] === 1, 'a hanging source is reported unavailable by the watchdog');
  t.match(screenStates(aware).at(-1)![1], /no frame/);
  source.recover();
  await until(() => screenStates(aware).at(-1)?.[0] === 0, 'live once frames come again');

  source.mode = 'end';
  await until(() => screenStates(aware).at(-1)?.[0] === 2, 'SCREEN_STATE ended');
  await until(() => nodeStates.at(-1)?.state === 'ended', 'the Node viewer hears it ended');

  t.equal(legacy.received.filter((r) => r.typeByte === SCREEN_STATE_TYPE).length, 0, 'a viewer without the SCREEN_STATE capability never gets one');
  t.notOk(legacy.isClosed() || aware.isClosed(), 'and both are still connected');
  t.ok(legacy.received.every((r) => r.msg !== null), 'everything the legacy viewer got decodes');
  for (const p of [aware, legacy, late]) p.ws.terminate();
});
