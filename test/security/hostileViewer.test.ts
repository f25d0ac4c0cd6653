// Hostile viewers against a real host: a viewer that never reads its socket but
// acks everything, a refresh-request flood, input from view-only viewers, and
// what viewers are told when the screen source fails. Functional checks with
// generous "eventually" bounds only.
import t from 'tap';
import * as path from 'node:path';
import { connectViewer } from '../../src/client/viewerClient';
import type { Frame } from '../../src/frame';
import { InputEvent, createHost } from '../../src/host/host';
import { PushSource } from '../../src/source/pushSource';
import { expectedFramebuffer, fillRandom, firstDifference, makeFrame, rng, until } from '../helpers';
import { noiseFrame } from './fixtures/floodHost';
import { RawPeer, ScriptedSource, rawPeer, roundTrip, tsChild } from './helpers';

// Capability bits (src/protocol/constants.ts Capability); literal here so the test also runs against a host that predates them.
const COPY_RECT = 1 << 0, CURSOR = 1 << 1, JPEG = 1 << 2, INPUT = 1 << 3, SCREEN_STATE = 1 << 4;
const SCREEN_STATE_TYPE = 0x14;
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
