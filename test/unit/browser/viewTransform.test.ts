// Zoom and pan arithmetic alone (no DOM): fit, 1:1, limits, pans, snapping, reveal.
import t from 'tap';
import { MAX_ZOOM, ViewTransform } from '../../../src/browser/viewTransform';

function phone(): ViewTransform {
  const v = new ViewTransform(3);
  v.setContainer(390, 844, 844, 3);
  v.setScreen(1920, 1080);
  return v;
}

t.test('fit: the whole screen, centred; border points map to nothing', async (t) => {
  const v = phone();
  const p = v.placement();
  t.equal(p.scale, 390 / 1920);
  t.equal(p.left, 0);
  t.equal(p.top, Math.round(((844 - 1080 * p.scale) / 2) * 3) / 3, 'centred, on a whole device pixel');
  t.equal(v.toRemote(10, 10), null, 'above the picture');
  t.same(v.toRemote(0, p.top), { x: 0, y: 0 });
  t.same(v.toRemoteClamped(10, 10), { x: 49, y: 0 });
  t.notOk(v.isZoomed());
});

t.test('zoom limits, the point under the fingers, pans clamped to the picture', async (t) => {
  const v = phone();
  v.zoomAt(100, 195, 422);
  t.equal(v.zoom(), MAX_ZOOM, 'no further than 3 remote pixels per device pixel');
  v.zoomAt(0.001, 195, 422);
  t.equal(v.placement().scale, v.fitScale(), 'no smaller than fit');
  v.zoomTo(1 / 3, 960, 540, 195, 422);
  t.equal(v.zoom(), 1);
  t.same(v.toRemote(195, 422), { x: 960, y: 540 }, 'the pixel under the point');
  v.panBy(10_000, 0);
  t.equal(v.placement().left, 0, 'cannot pan past the left edge');
  v.panBy(-10_000, 0);
  t.equal(v.placement().left, 390 - 640, 'nor past the right edge');
  t.ok(v.isZoomed());
  v.fit();
  t.equal(v.placement().scale, v.fitScale());
});

t.test('a zoom that ends near 1:1 snaps to it; far from it, it stays', async (t) => {
  const v = phone();
  v.zoomAt((1 / 3 / v.fitScale()) * 1.08, 100, 400);
  v.settle();
  t.equal(v.zoom(), 1);
  v.zoomAt(1.5, 100, 400);
  v.settle();
  t.equal(v.zoom(), 1.5);
});

t.test('reveal pans the least to show a remote point above a soft keyboard', async (t) => {
  const v = phone();
  v.zoomTo(1, 960, 540, 195, 422); // 1 CSS pixel per remote pixel
  v.setContainer(390, 844, 400, 3); // a keyboard covers the bottom 444 px
  v.reveal(960, 1000);
  const y = v.placement().top + 1000.5;
  t.ok(y <= 400 && y >= 300, `the point is in the visible part (${y})`);
  const left = v.placement().left;
  v.reveal(960, 1000);
  t.equal(v.placement().left, left, 'an already visible point moves nothing');
});
