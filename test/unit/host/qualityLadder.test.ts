import t from 'tap';
import { BusyTiles, BUSY_CHANGES, largeBusyRegions } from '../../../src/host/busyTiles';
import { QualityLadder, BUSY_INTERVAL_MS, chooseTiles } from '../../../src/host/qualityLadder';
import { DamageRegion } from '../../../src/host/damageRegion';

t.test('a tile is busy after four changes within a second', async (t) => {
  t.equal(BUSY_CHANGES, 4);
  const b = new BusyTiles(4);
  b.record(1, 0);
  b.record(1, 200);
  b.record(1, 300);
  t.notOk(b.isBusy(1, 400), 'three changes (a window raised, then repainted twice) are not video');
  b.record(1, 600);
  t.ok(b.isBusy(1, 700), 'four changes in 600 ms');
  t.equal(b.changeInterval(1), 200, 'mean interval of the four');
  t.equal(b.lastChange(1), 600);
  t.notOk(b.isBusy(1, 1100), 'oldest of the four left the window');
  t.notOk(b.isBusy(0, 700), 'other tiles untouched');
  b.record(2, 0);
  b.record(2, 100);
  t.equal(b.changeInterval(2), Infinity, 'fewer than four changes: no interval yet');
});

t.test('only busy regions of at least four tiles (8-connected) may be slowed', async (t) => {
  // A 6x4 grid: a 2x2 block at the top left, a diagonal pair + one at the right, a lone tile.
  const tilesX = 6;
  const b = new BusyTiles(24);
  const busyAt = [0, 1, 6, 7, /* diagonal chain across the right edge's wrap must not join: */ 5, 10, 17, /* lone */ 21];
  for (const i of busyAt) for (const at of [0, 100, 150, 200]) b.record(i, at);
  const flagged = (m: Uint8Array) => [...m.keys()].filter((i) => m[i]);
  t.same(flagged(largeBusyRegions(b, tilesX, 300)), [0, 1, 6, 7], 'the 2x2 block only');
  t.same(flagged(largeBusyRegions(b, tilesX, 300, 3)), [0, 1, 5, 6, 7, 10, 17],
    'with a 3-tile minimum the diagonal chain (5, 10, 17) counts too; tile 5 does not wrap to tile 6 of the next row');
  t.same(flagged(largeBusyRegions(b, tilesX, 1300)), [], 'nothing busy once the window has passed');
});

t.test('the ladder climbs under load and comes down when it eases', async (t) => {
  const q = new QualityLadder();
  const rate = 100_000; // bytes/s
  let now = 0;
  // 90 kB/s offered on a 100 kB/s link: load 0.9.
  for (; now < 3000; now += 100) {
    q.onSend(9000, now);
    q.update(rate, now);
  }
  t.equal(q.level, BUSY_INTERVAL_MS.length - 1, 'top of the ladder');
  // Nothing sent for a while: load 0, one step down every 2 s.
  q.update(rate, 5000);
  t.equal(q.level, 2);
  q.update(rate, 6000);
  t.equal(q.level, 2, 'not before 2 s');
  q.update(rate, 7000);
  t.equal(q.level, 1);
  t.equal(q.busyIntervalMs, BUSY_INTERVAL_MS[1]);
  t.equal(new QualityLadder().update(null, 0), 0, 'no estimate, no change');
});

t.test('a floor (QUALITY_LIMIT, data saver): the level never goes below it, and jumps to it at once', async (t) => {
  const q = new QualityLadder();
  q.setFloor(2);
  t.equal(q.level, 2, 'at once, with no load');
  t.equal(q.busyIntervalMs, BUSY_INTERVAL_MS[2]);
  for (let now = 0; now < 20_000; now += 500) q.update(100_000, now); // an idle link
  t.equal(q.level, 2, 'an idle link does not bring it down past the floor');
  for (let now = 20_000; now < 23_000; now += 100) {
    q.onSend(9000, now);
    q.update(100_000, now);
  }
  t.equal(q.level, 3, 'a busy link still climbs above it');
  q.setFloor(0);
  t.equal(q.minLevel, 0);
  q.update(100_000, 30_000);
  t.equal(q.level, 2, 'lifted: it comes down again');
  q.setFloor(99);
  t.equal(q.minLevel, BUSY_INTERVAL_MS.length - 1, 'clamped to the ladder');
});

t.test('damage can be taken selectively; the rest stays', async (t) => {
  const d = new DamageRegion(256, 64, 64); // 4 tiles in one row
  d.addAll();
  t.same(d.take((i) => i !== 2), [{ x: 0, y: 0, w: 128, h: 64 }, { x: 192, y: 0, w: 64, h: 64 }]);
  t.notOk(d.empty);
  t.same(d.take(), [{ x: 128, y: 0, w: 64, h: 64 }]);
  t.ok(d.empty);
});

t.test('calm tiles go first; busy tiles keep to their slot only while calm content is active', async (t) => {
  const base = { level: 2, busySlotInMs: 50, anyCalm: true, anyBusy: true, calmActiveMs: 10, busyIntervalMs: 200 };
  t.equal(chooseTiles(base), 'calm');
  t.equal(chooseTiles({ ...base, level: 0 }), 'all', 'no load: everything');
  t.equal(chooseTiles({ ...base, busySlotInMs: 0 }), 'all', 'busy slot open');
  t.equal(chooseTiles({ ...base, anyBusy: false }), 'all', 'nothing busy');
  t.equal(chooseTiles({ ...base, anyCalm: false }), 'wait', 'only busy, calm content active');
  t.equal(chooseTiles({ ...base, anyCalm: false, calmActiveMs: 500 }), 'all', 'only busy, nothing calm lately: use the link');
});
