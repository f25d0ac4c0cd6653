import t from 'tap';
import { FlowController } from '../../../src/host/flowControl';
import { DamageRegion } from '../../../src/host/damageRegion';

t.test('budget follows rate x min RTT and always lets one update out', async (t) => {
  const fc = new FlowController({ minInflightBytes: 10_000, maxInflightUpdates: 4, gain: 1 });
  t.ok(fc.canSend(), 'idle: may send');
  fc.onSend(1, 50_000, 0); // bigger than the budget: still allowed alone
  t.notOk(fc.canSend(), 'over budget with one in flight');
  // Acked after 100 ms, 8 ms of it spent on the viewer: RTT 92 ms, rate 50 kB / 100 ms.
  t.equal(fc.onAck(1, 100, 8), 0);
  const s = fc.stats();
  t.equal(s.minRttMs, 92);
  t.equal(s.deliveryRateBps, 500_000);
  t.equal(s.budgetBytes, 46_000); // 500 kB/s x 92 ms
  t.equal(s.inflightBytes, 0);
  // Updates count against the bound...
  for (let id = 2; id <= 5; id++) fc.onSend(id, 1000, 200 + id);
  t.notOk(fc.canSend(), 'update count bound');
  // ...and acks are cumulative.
  fc.onAck(4, 300);
  t.equal(fc.stats().inflightUpdates, 1);
  t.ok(fc.canSend());
  t.equal(fc.onAck(99, 301), null, 'unknown id ignored');
});

t.test('min RTT and max rate expire with their windows', async (t) => {
  const fc = new FlowController({ rttWindowMs: 1000, rateWindowMs: 1000, minInflightBytes: 1 });
  fc.onSend(1, 100_000, 0);
  fc.onAck(1, 10); // fast sample: 10 ms, 10 MB/s
  fc.onSend(2, 1000, 5000);
  fc.onAck(2, 5200); // 2 s later the old samples are gone
  t.equal(fc.stats().minRttMs, 200);
  t.ok(fc.stats().deliveryRateBps! < 100_000);
});

t.test('damage accumulates and comes out as merged rects', async (t) => {
  const d = new DamageRegion(200, 130, 64);
  t.ok(d.empty);
  d.add([{ x: 10, y: 10, w: 5, h: 5 }]);
  d.add([{ x: 70, y: 0, w: 64, h: 64 }]);
  d.add([{ x: 0, y: 64, w: 128, h: 66 }]);
  // Tiles: row 0 -> x 0..2, rows 1-2 -> x 0..1 (the screen is 200x130).
  t.same(d.take(), [{ x: 0, y: 0, w: 192, h: 64 }, { x: 0, y: 64, w: 128, h: 66 }]);
  t.ok(d.empty);
  t.same(d.take(), [], 'take clears');
  d.addAll();
  t.same(d.take(), [{ x: 0, y: 0, w: 200, h: 130 }]);
});
