// LossyPolicy: the change-history half of classification and the refinement
// schedule. Pure bookkeeping over tile indices and given times: exact results.
import t from 'tap';
import { DEFAULT_QUALITIES, LossyPolicy, refineBudget } from '../../../src/host/lossyPolicy';

// 256x128 screen, 64 px tiles: a 4x2 grid.
const make = () => new LossyPolicy(256, 128, 64);

t.test('only tiles changing at video rate (4 changes within 1 s) may go lossy', async (t) => {
  const p = make();
  p.recordRects([{ x: 0, y: 0, w: 64, h: 64 }], 0);
  p.recordRects([{ x: 0, y: 0, w: 64, h: 64 }], 33);
  p.recordRects([{ x: 0, y: 0, w: 64, h: 64 }], 50);
  t.same([...p.mask(55)], [0, 0, 0, 0, 0, 0, 0, 0], 'three changes (a window raise and its repaints) are not busy');
  p.recordRects([{ x: 0, y: 0, w: 130, h: 10 }], 66); // touches tiles 0, 1, 2
  t.same([...p.mask(70)], [1, 0, 0, 0, 0, 0, 0, 0], 'four changes within a second are');
  t.same([...p.mask(1001)], [0, 0, 0, 0, 0, 0, 0, 0], 'and stop being busy a second after the first of them');
});

t.test('lossy tiles are refined once still 50 ms, or 1.5x their change interval', async (t) => {
  const p = make();
  for (const at of [-33, 0, 33, 66]) p.recordRects([{ x: 0, y: 0, w: 64, h: 64 }], at); // 30 fps
  for (const at of [-100, 0, 100, 200]) p.recordRects([{ x: 64, y: 64, w: 64, h: 64 }], at); // 10 fps
  const lossy = [0, 5]; // what the encoder says the viewer shows lossy
  t.same(p.refineDue(115, 10, lossy), [], 'nothing is due before 50 ms of stillness');
  t.same(p.refineDue(116, 10, lossy), [{ x: 0, y: 0, w: 64, h: 64 }], 'the 30 fps tile after 50 ms');
  t.equal(p.nextRefineAt(lossy), 116);
  t.same(p.refineDue(300, 10, lossy), [{ x: 0, y: 0, w: 64, h: 64 }], 'the 10 fps tile waits 150 ms (1.5 x 100)');
  t.same(p.refineDue(350, 10, lossy), [{ x: 0, y: 0, w: 64, h: 64 }, { x: 64, y: 64, w: 64, h: 64 }], 'oldest-still first');
  t.same(p.refineDue(350, 10, [5, 0]), [{ x: 0, y: 0, w: 64, h: 64 }, { x: 64, y: 64, w: 64, h: 64 }], 'whatever order the tiles are listed in');
  t.same(p.refineDue(350, 1, lossy), [{ x: 0, y: 0, w: 64, h: 64 }], 'within the budget');
  t.same(p.refineDue(1000, 10, []), [], 'no lossy tiles: nothing to refine');
  t.equal(p.nextRefineAt([]), null);
});

t.test('edge tiles are clipped to the screen; quality follows the ladder', async (t) => {
  const p = new LossyPolicy(100, 70, 64);
  t.same(p.refineDue(1e6, 4, [3]), [{ x: 64, y: 64, w: 36, h: 6 }]);
  t.same([0, 1, 2, 3, 9].map((l) => p.quality(l)), [...DEFAULT_QUALITIES, DEFAULT_QUALITIES[3]]);
  t.equal(new LossyPolicy(64, 64, 64, { qualities: [90] }).quality(2), 90);
  t.same([0, 1, 3].map((l) => p.optimizeHuffman(l)), [false, true, true], 'optimal Huffman tables once the link is the bottleneck');
});

t.test('the refinement budget follows the delivery rate', async (t) => {
  t.equal(refineBudget(null, 64), 32, 'no estimate yet');
  t.equal(refineBudget(625_000, 64), 10, '5 Mbit/s: 100 ms of link is ten 64x64 tiles');
  t.equal(refineBudget(1000, 64), 4, 'at least four');
  t.equal(refineBudget(1e9, 64), 128, 'at most 128');
});
