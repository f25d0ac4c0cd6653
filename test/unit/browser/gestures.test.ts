// The gesture state machine alone: touches with a fake clock in, gestures out.
import t from 'tap';
import { GESTURE, Gesture, GestureRecognizer, TouchPoint } from '../../../src/browser/gestures';

const f = (id: number, x: number, y: number): TouchPoint => ({ id, x, y });
const types = (gs: Gesture[]) => gs.map((g) => g.type);

t.test('tap, and a double tap near and soon after it', async (t) => {
  const g = new GestureRecognizer();
  t.same(g.start([f(1, 100, 50)], 0), [], 'nothing on touchdown: the gesture is not known yet');
  t.same(g.move([f(1, 104, 53)], 40), [], 'a wobble inside the slop is still a tap');
  t.same(g.end([], 90), [{ type: 'tap', x: 100, y: 50 }], 'a tap where the finger landed');
  g.start([f(2, 110, 60)], 200);
  t.same(g.end([], 260), [{ type: 'doubleTap', x: 110, y: 60 }]);
  g.start([f(3, 110, 60)], 400);
  t.same(types(g.end([], 450)), ['tap'], 'a third tap starts over');
  g.start([f(4, 300, 60)], 600);
  t.same(types(g.end([], 650)), ['tap'], 'a second tap far away is a tap');
  g.start([f(5, 300, 60)], 650 + GESTURE.DOUBLE_TAP_MS + 1);
  t.same(types(g.end([], 650 + GESTURE.DOUBLE_TAP_MS + 50)), ['tap'], 'a second tap too late is a tap');
});

t.test('long press: emitted while held, at the deadline; nothing after', async (t) => {
  const g = new GestureRecognizer();
  g.start([f(1, 20, 30)], 1000);
  t.equal(g.deadline(), 1000 + GESTURE.LONG_PRESS_MS);
  t.same(g.tick(1000 + GESTURE.LONG_PRESS_MS - 1), []);
  t.same(g.tick(1000 + GESTURE.LONG_PRESS_MS), [{ type: 'longPress', x: 20, y: 30 }]);
  t.equal(g.deadline(), null);
  t.same(g.move([f(1, 80, 90)], 1600), [], 'moving afterwards is not a drag');
  t.same(g.end([], 1700), [], 'and lifting is not a tap');
  g.start([f(2, 20, 30)], 2000);
  t.same(types(g.end([], 2000 + GESTURE.LONG_PRESS_MS + 100)), ['longPress'], 'a late event first delivers the long press it missed');
  g.start([f(3, 20, 30)], 3000);
  t.same(g.end([], 3000 + GESTURE.TAP_MS + 10), [], 'held too long for a tap, too short for a long press: nothing');
});

t.test('one-finger drag: start where the finger landed, deltas, end', async (t) => {
  const g = new GestureRecognizer();
  g.start([f(1, 100, 100)], 0);
  t.same(g.move([f(1, 100, 120)], 50), [{ type: 'dragStart', x: 100, y: 100 }, { type: 'dragMove', x: 100, y: 120, dx: 0, dy: 20 }]);
  t.same(g.move([f(1, 90, 125)], 80), [{ type: 'dragMove', x: 90, y: 125, dx: -10, dy: 5 }]);
  t.same(g.tick(5000), [], 'a drag never turns into a long press');
  t.same(g.end([], 5001), [{ type: 'dragEnd', x: 90, y: 125, dx: 0, dy: 0 }]);
});

t.test('two-finger tap; two-finger scroll never emits a one-finger gesture', async (t) => {
  const g = new GestureRecognizer();
  t.same(g.start([f(1, 100, 100)], 0), []);
  t.same(g.start([f(1, 100, 100), f(2, 160, 100)], 30), [], 'the second finger: still nothing');
  t.same(g.end([f(2, 160, 100)], 120), [{ type: 'twoTap', x: 130, y: 100 }], 'the first lift ends a two-finger tap');
  t.same(g.end([], 130), [], 'the second lift adds nothing');

  const s = new GestureRecognizer();
  s.start([f(1, 100, 300)], 0);
  s.start([f(1, 100, 300), f(2, 200, 300)], 20);
  t.same(s.move([f(1, 100, 295), f(2, 200, 295)], 40), [], 'inside the slop');
  t.same(s.move([f(1, 100, 280), f(2, 200, 280)], 60), [{ type: 'scroll', x: 150, y: 280, dx: 0, dy: -20 }], 'the first scroll carries all the travel');
  t.same(s.move([f(1, 100, 260), f(2, 201, 260)], 80), [{ type: 'scroll', x: 150.5, y: 260, dx: 0.5, dy: -20 }]);
  t.same(s.tick(10_000), [], 'no long press in a scroll');
  t.same(s.end([f(2, 201, 260)], 10_001), [{ type: 'end' }]);
  t.same(s.move([f(2, 250, 100)], 10_002), [], 'the finger left behind does nothing');
  t.same(s.end([], 10_003), []);
  s.start([f(3, 5, 5)], 20_000);
  t.same(types(s.end([], 20_050)), ['tap'], 'and the next touch is fresh');
});

t.test('both fingers in one touchstart; pinch with scale and midpoint', async (t) => {
  const g = new GestureRecognizer();
  t.same(g.start([f(1, 100, 100), f(2, 200, 100)], 0), []);
  const out = g.move([f(1, 90, 100), f(2, 210, 100)], 30);
  t.same(out, [{ type: 'pinch', x: 150, y: 100, dx: 0, dy: 0, scale: 1.2 }], 'spread 20 px: a pinch, scale 120/100');
  const next = g.move([f(1, 80, 110), f(2, 220, 110)], 60);
  t.equal(next.length, 1);
  const p = next[0] as Extract<Gesture, { type: 'pinch' }>;
  t.equal(p.scale.toFixed(4), (140 / 120).toFixed(4), 'each pinch step is relative to the last');
  t.same([p.x, p.y, p.dx, p.dy], [150, 110, 0, 10], 'the midpoint and its move (pinch pans too)');
  t.same(g.end([], 100), [{ type: 'end' }]);
});

t.test('a third finger or a finger added to a drag ends the gesture', async (t) => {
  const g = new GestureRecognizer();
  g.start([f(1, 0, 0)], 0);
  g.move([f(1, 0, 30)], 10);
  t.same(g.start([f(1, 0, 30), f(2, 50, 50)], 20), [{ type: 'dragEnd', x: 0, y: 30, dx: 0, dy: 0 }], 'the drag ends (its button is released)');
  t.same(g.move([f(1, 0, 80), f(2, 50, 90)], 30), [], 'then nothing until every finger is up');
  t.same(g.end([], 40), []);
  g.start([f(1, 0, 0), f(2, 50, 0)], 100);
  t.same(g.start([f(1, 0, 0), f(2, 50, 0), f(3, 90, 0)], 110), [], 'three fingers: nothing');
  t.same(g.end([], 150), [], 'not even a two-finger tap');
});

t.test('touchcancel never clicks', async (t) => {
  const g = new GestureRecognizer();
  g.start([f(1, 10, 10)], 0);
  t.same(g.end([], 50, true), []);
  g.start([f(1, 10, 10), f(2, 40, 10)], 100);
  t.same(g.end([], 150, true), []);
});
