// Early capture (issue 20): on a real X server, a change made while no viewer
// has anything in flight is captured and sent on the change itself, not at the
// next capture tick; while the links are busy the loop keeps its tick and
// damage coalesces. Counts and order only, never timings: the rate is set so
// low (1-2 frames a second) that the tick could not have delivered these.
import t from 'tap';
import { connectViewer } from '../../src/client/viewerClient';
import { CAPTURE_EARLY_BURST, CaptureLoop } from '../../src/host/captureLoop';
import { createHost } from '../../src/host/host';
import type { ScreenSnapshot } from '../../src/host/screenSnapshot';
import { X11Source } from '../../src/source/x11Source';
import { firstDifference, until } from '../helpers';
import { serverImage, skipWithoutX, startXvfb, x } from '../xserver';

const skip = skipWithoutX();
const COLOURS = ['#c03030', '#30a040', '#3050d0'];
/**
 * A burst of changes one after another on idle links (a log's lines, then a key's echo): as many
 * as the capture's early allowance holds after the first frame, each captured early.
 */
const BURST = ['#c03030', '#30a040', '#3050d0', '#d0d030', '#30d0d0', '#d030d0', '#808080', '#f0a000'].slice(0, CAPTURE_EARLY_BURST - 1);
/** BGRA of '#rrggbb'. */
const bgra = (hex: string) => [parseInt(hex.slice(5, 7), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(1, 3), 16), 255];

t.test('capture loop: idle links capture each change early; busy links wait for the tick', { skip }, async (t) => {
  const xs = await startXvfb(320, 200);
  t.teardown(() => xs.close());
  for (const idle of [true, false]) {
    x(xs, 'xsetroot', ['-solid', '#000000']);
    const source = await X11Source.open({ display: xs.display, verifyIntervalMs: 3_600_000 });
    // fps 1: a second between ticks, far longer than a change takes to arrive here.
    const loop = new CaptureLoop(source, { fps: 1, linkIdle: () => idle });
    const frames: string[] = [];
    loop.on('frame', (snap: ScreenSnapshot) => {
      const d = snap.frame.data;
      frames.push(`${d[0]},${d[1]},${d[2]}`);
    });
    loop.start();
    await until(() => frames.length >= 1, 'the first frame');
    const before = loop.framesChanged;
    if (idle) {
      // Each change waits for the previous frame: each is its own frame, asked for before its tick.
      for (const c of BURST) {
        x(xs, 'xsetroot', ['-solid', c]);
        const want = bgra(c).slice(0, 3).join(',');
        await until(() => frames.at(-1) === want, `the frame with ${c}`);
      }
      t.equal(loop.framesChanged - before, BURST.length, 'one frame per change');
      t.ok(loop.framesEarly >= BURST.length, `the ${BURST.length} changes were all captured early (${loop.framesEarly}), none at the 1 s tick`);
    } else {
      // Busy: the three changes, made within one tick, arrive coalesced into the last colour.
      // One shell, so the three changes land within one tick even on a loaded machine.
      x(xs, 'sh', ['-c', COLOURS.map((c) => `xsetroot -solid '${c}'`).join('; ')]);
      const last = bgra(COLOURS.at(-1)!).slice(0, 3).join(',');
      await until(() => frames.at(-1) === last, 'the last colour');
      const n = loop.framesChanged - before;
      t.equal(loop.framesEarly, 0, 'no early capture while the links are busy');
      t.ok(n >= 1 && n <= 2, `coalesced at the tick (${n} frames for 3 changes)`);
    }
    loop.stop();
    source.close();
  }
});

t.test('host: with a viewer that has everything acked, each change goes out as its own early update, exactly', { skip }, async (t) => {
  const xs = await startXvfb(320, 200);
  t.teardown(() => xs.close());
  x(xs, 'xsetroot', ['-solid', '#000000']);
  const source = await X11Source.open({ display: xs.display, verifyIntervalMs: 3_600_000 });
  t.teardown(() => source.close());
  const host = await createHost({ source, fps: 2, maxFps: 2 });
  t.teardown(() => host.close());
  const viewer = connectViewer(host.url, { reconnect: false });
  t.teardown(() => viewer.close());
  const shown: string[] = [];
  viewer.on('update', () => {
    const fb = viewer.framebuffer!;
    shown.push(`${fb[0]},${fb[1]},${fb[2]}`);
  });
  await until(() => shown.length >= 1 && host.viewers()[0]?.flow.inflightUpdates === 0, 'the first update, acked');
  const updatesBefore = host.viewers()[0]!.updatesSent;
  const earlyBefore = host.captureStats.framesEarly;
  const session = host.session(host.viewers()[0]!.id)!;
  const encoderEarlyBefore = session.encoder.updatesEarly;
  for (const c of COLOURS) {
    x(xs, 'xsetroot', ['-solid', c]);
    const want = bgra(c).slice(0, 3).join(',');
    await until(() => shown.at(-1) === want && session.flow.stats().inflightUpdates === 0, `the viewer showing ${c}, acked`);
  }
  // Each colour was shown, in order (a loaded X server may paint one in pieces: an early capture can then send it in two).
  const wanted = COLOURS.map((c) => bgra(c).slice(0, 3).join(','));
  t.same(shown.filter((s) => wanted.includes(s)).filter((s, i, a) => i === 0 || a[i - 1] !== s), wanted, 'every change shown, in order, none coalesced');
  t.ok(host.viewers()[0]!.updatesSent - updatesBefore >= COLOURS.length, 'at least one update per change');
  t.ok(host.captureStats.framesEarly - earlyBefore >= COLOURS.length, 'captured on the change, not at the tick');
  t.ok(session.encoder.updatesEarly - encoderEarlyBefore >= COLOURS.length - 1, 'sent before the 500 ms update slot');
  const img = serverImage(xs);
  t.equal(firstDifference(viewer.framebuffer!, img.data, img.width), null, 'the viewer equals the X server image');
});
