// FramePacer: which draws wait, and how long, from the frame clock it learns (a fake
// requestAnimationFrame and clock: the waits are computed, not timed).
import t from 'tap';
import { FramePacer, LATE_DRAW_PIXELS, LATE_MARGIN_MS } from '../../../src/browser/framePacer';

function pacer() {
  let now = 1000;
  const frames: Array<(t: number) => void> = [];
  const p = new FramePacer((cb) => frames.push(cb), () => now);
  return {
    p,
    at: (t: number) => (now = t),
    frame: (t: number) => frames.splice(0).forEach((cb) => cb(t)),
    asked: () => frames.length,
  };
}
const BIG = LATE_DRAW_PIXELS + 1;

t.test('small draws never wait; large ones wait only once the frame clock is known', async (t) => {
  const { p, at, frame, asked } = pacer();
  t.equal(p.holdMs(LATE_DRAW_PIXELS), 0, 'a small draw: now');
  t.equal(asked(), 0, 'and the clock is not asked for');
  t.equal(p.holdMs(BIG), 0, 'a large draw before the clock is known: now');
  t.equal(asked(), 1, 'the clock is asked for');
  frame(1000);
  t.equal(p.holdMs(BIG), 0, 'one frame is not a clock');
  frame(1010); // a 100 Hz display
  t.equal(p.frameIntervalMs, 10);
  at(1012);
  t.equal(p.holdMs(BIG), 10 - LATE_MARGIN_MS - 2, 'held until LATE_MARGIN_MS before the next frame');
  at(1010 + 10 - LATE_MARGIN_MS + 0.1);
  t.equal(p.holdMs(BIG), 0, 'already in the late part: now');
  at(1010 + 30 + 1);
  t.equal(p.holdMs(BIG), 10 - LATE_MARGIN_MS - 1, 'frames later, the same phase');
});

t.test('a missed frame does not double the interval; the clock is measured again after a second', async (t) => {
  const { p, at, frame, asked } = pacer();
  p.holdMs(BIG);
  frame(1000);
  frame(1000 + 2 * (1000 / 60)); // the Worker was busy for a frame
  t.equal(p.frameIntervalMs.toFixed(3), (1000 / 60).toFixed(3), 'still 60 Hz');
  at(1500);
  p.holdMs(BIG);
  t.equal(asked(), 0, 'not asked again within a second');
  at(2000);
  p.holdMs(BIG);
  t.equal(asked(), 1, 'asked again after a second');
  frame(2003);
  frame(2003 + 1000 / 60);
  at(2003 + 1000 / 60 + 5);
  t.equal(p.holdMs(BIG).toFixed(3), (1000 / 60 - LATE_MARGIN_MS - 5).toFixed(3), 'the new phase');
});

t.test('without requestAnimationFrame nothing waits', async (t) => {
  const p = new FramePacer(null, () => 5);
  t.equal(p.holdMs(BIG), 0);
});
