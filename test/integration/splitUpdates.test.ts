// Split updates (issue 20) through a real host, a real viewer and an emulated
// slow link: a big change goes as several updates, and a small change made
// while they are on their way reaches the viewer before the rest of the big
// one; at the end the viewer is exact. Order and counts only, no timings.
import t from 'tap';
import { connectViewer } from '../../src/client/viewerClient';
import { DeliveryTrace } from '../../src/emulator/deliveryTrace';
import { LinkEmulator } from '../../src/emulator/linkEmulator';
import type { Frame } from '../../src/frame';
import { createHost } from '../../src/host/host';
import { PushSource } from '../../src/source/pushSource';
import { expectedFramebuffer, fillRandom, firstDifference, makeFrame, rng, until } from '../helpers';

const W = 1024, H = 512; // 16 x 8 = 128 tiles: four updates of 32

function screen(seed: number): Frame {
  return fillRandom(makeFrame(W, H), rng(seed), 6);
}

function withKeystroke(f: Frame, seed: number): Frame {
  const data = Buffer.from(f.data);
  const random = rng(seed);
  for (let y = 8; y < 24; y++) for (let x = 8; x < 18; x++) data.writeUInt32LE((0xff000000 | (random() * 0xffffff)) >>> 0, (y * W + x) * 4);
  return { ...f, data };
}

const pixel = (fb: Buffer, x: number, y: number) => fb.readUInt32LE((y * W + x) * 4);

t.test('a keystroke made while a big update is on its way is shown before the rest of it', async (t) => {
  const source = new PushSource();
  const a = screen(1);
  source.push(a);
  // Flow control holds the bands back (at most two in flight), so the keystroke finds a remainder
  // still to send however fast this machine encodes; the quality ladder is off because it holds a tile
  // that changed twice in a row (the keystroke's) for a slower slot, which is its own policy, not this one.
  const host = await createHost({ source, adaptiveQuality: false, flow: { maxInflightUpdates: 2, minInflightBytes: 8 * 1024 } });
  t.teardown(() => host.close());
  // 2 Mbit/s, 20 ms each way: the big change takes over a second to cross.
  const emu = await LinkEmulator.start({
    targetPort: host.port,
    down: { trace: DeliveryTrace.constant(2), delayMs: 20, queueBytes: 256 * 1024 },
    up: { trace: DeliveryTrace.constant(2), delayMs: 20, queueBytes: 256 * 1024 },
  });
  t.teardown(() => emu.close());
  const viewer = connectViewer(`ws://127.0.0.1:${emu.port}/`, { reconnect: false });
  t.teardown(() => viewer.close());
  await until(() => viewer.framebuffer !== null && viewer.framebuffer.equals(expectedFramebuffer(a)), 'the first screen');
  await until(() => host.viewers()[0]!.flow.inflightUpdates === 0, 'the first screen acked');
  const session = host.session(host.viewers()[0]!.id)!;
  const b = screen(2);
  const c = withKeystroke(b, 3);
  // What the viewer shows at each update: the keystroke yet? the bottom-right tile (the last band) yet?
  const wantB = expectedFramebuffer(b), wantC = expectedFramebuffer(c);
  t.not(pixel(wantB, 10, 10), pixel(wantC, 10, 10), 'the keystroke changes the probed pixel');
  t.not(pixel(expectedFramebuffer(a), W - 5, H - 5), pixel(wantB, W - 5, H - 5), 'the big change changes the other one');
  const seen: Array<{ key: boolean; lastBand: boolean }> = [];
  viewer.on('update', () => {
    const fb = viewer.framebuffer!;
    seen.push({ key: pixel(fb, 10, 10) === pixel(wantC, 10, 10), lastBand: pixel(fb, W - 5, H - 5) === pixel(wantB, W - 5, H - 5) });
  });
  const sentBefore = session.encoder.updatesSent;
  source.push(b);
  await until(() => session.encoder.updatesSent > sentBefore, 'the first band sent');
  source.push(c); // the keystroke, in a tile the first band already carried
  await until(() => viewer.framebuffer!.equals(wantC), 'the viewer exact with the keystroke and the whole change', 60_000);
  t.ok(session.encoder.splitUpdates >= 2, `the big change went as several updates (${session.encoder.splitUpdates} left a remainder)`);
  t.equal(session.encoder.updatesAhead, 1, 'one update went ahead of a remainder');
  const keyAt = seen.findIndex((s) => s.key);
  t.ok(keyAt >= 0 && !seen[keyAt]!.lastBand, 'the keystroke was on screen while the last band of the big change was still to come');
  t.equal(firstDifference(viewer.framebuffer!, wantC, W), null, 'exact at the end');
});
