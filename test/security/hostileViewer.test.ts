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
