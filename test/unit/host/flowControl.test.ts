import t from 'tap';
import { FlowController, SEND_BUFFER_DEFAULTS, sendBufferLimit } from '../../../src/host/flowControl';
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

t.test('acks credit only updates in flight, and never with a negative RTT', async (t) => {
  const fc = new FlowController({ minInflightBytes: 1000, maxInflightUpdates: 8 });
  fc.onSend(1, 5000, 100);
  fc.onSend(2, 5000, 110);
  t.equal(fc.onAck(3, 120), null, 'an id never sent');
  t.equal(fc.onAck(0xffffffff, 120), null, 'a far-off guess');
  t.equal(fc.stats().inflightUpdates, 2, 'nothing credited');
  // Sent at 110, acked at 150 (40 ms later) by a viewer that says it held the update for 500 ms.
  t.equal(fc.onAck(2, 150, 500), null, 'hold time beyond the time since sending: impossible');
  t.same([fc.stats().inflightUpdates, fc.stats().inflightBytes, fc.stats().minRttMs, fc.stats().acked], [2, 10_000, null, 0], 'no credit, no RTT sample');
  t.equal(fc.stats().rejectedAcks, 3);
  // Viewer clocks are coarse: a hold a little over the interval (within ackToleranceMs) is taken, RTT clamped.
  t.equal(fc.onAck(1, 150, 60), 100, 'hold 60 ms of a 50 ms interval: within the default 25 ms slack');
  t.equal(fc.stats().minRttMs, 0.1);
  t.equal(fc.onAck(1, 151), null, 'acked already');
  t.equal(fc.onAck(2, 160, 10), 110, 'an honest ack');
  t.equal(fc.stats().inflightUpdates, 0);
});

t.test('the socket\'s own buffered bytes bound what is queued, whatever the acks say', async (t) => {
  t.equal(sendBufferLimit(10_000), SEND_BUFFER_DEFAULTS.minBufferedBytes, 'at least 1 MiB');
  t.equal(sendBufferLimit(4_000_000), 4_000_000, 'the flow budget when larger');
  t.equal(sendBufferLimit(1e9), SEND_BUFFER_DEFAULTS.maxBufferedBytes, 'at most 16 MiB');
  t.equal(sendBufferLimit(5, 100, 200), 100);
  const fc = new FlowController({ minInflightBytes: 1000, minBufferedBytes: 50_000, maxBufferedBytes: 80_000 });
  t.equal(fc.bufferLimit(), 50_000);
  t.ok(fc.canSend(0) && fc.canSend(50_000), 'nothing in flight, buffer at the limit: may send');
  t.notOk(fc.canSend(50_001), 'nothing in flight (every update "acked") but the socket holds more than the limit: wait');
  t.ok(fc.bufferFull(50_001));
  // A large measured budget raises the limit, up to its cap.
  fc.onSend(1, 1_000_000, 0);
  fc.onAck(1, 100); // 10 MB/s x 100 ms x 1.5
  t.equal(fc.stats().budgetBytes, 1_500_000);
  t.equal(fc.stats().bufferLimitBytes, 80_000, 'capped by maxBufferedBytes');
  t.ok(fc.canSend(79_000));
  t.notOk(fc.canSend(80_001));
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

t.test('audio bytes (sent outside updates) count in the delivery rate, not in flight', async (t) => {
  const fc = new FlowController({ minInflightBytes: 10_000, gain: 1 });
  fc.onSideBytes(4000); // before any update: delivered during idle time, not counted
  fc.onSend(1, 20_000, 0);
  fc.onSideBytes(5000); // audio between update 1 and 2: TCP delivers it before update 2
  t.equal(fc.stats().inflightBytes, 20_000, 'audio is not in flight for the budget');
  fc.onSend(2, 20_000, 10);
  t.equal(fc.onAck(1, 100), 0);
  t.equal(fc.stats().deliveryRateBps, 200_000, 'update 1 alone: 20 kB in 100 ms');
  t.equal(fc.onAck(2, 150), 10);
  // Delivered since update 2 was sent: 20 kB (update 1) + 5 kB audio + 20 kB (update 2), over 150 ms.
  t.equal(fc.stats().deliveryRateBps, 300_000, 'audio counted with the update it went before');
  t.equal(fc.stats().sideBytes, 9000);
});

t.test('with sound on, pixels in flight are held to one RTT plus the audio queue allowance', async (t) => {
  const fc = new FlowController({ minInflightBytes: 10_000, gain: 1.5 });
  fc.onSend(1, 100_000, 0);
  fc.onAck(1, 100); // 1 MB/s, RTT 100 ms: budget 150 kB
  t.equal(fc.budgetBytes(), 150_000);
  t.equal(fc.budgetBytes(20), 120_000, 'RTT + 20 ms at 1 MB/s');
  fc.onSend(2, 125_000, 200);
  t.equal(fc.canSend(), true, 'without sound: under the 150 kB budget');
  t.equal(fc.canSend(0, 20), false, 'with sound: over RTT + 20 ms of data');
});

t.test('an in-flight cap (sound audible) bounds the budget whatever the rate; one update still goes when nothing is in flight', async (t) => {
  const fc = new FlowController({ minInflightBytes: 10_000, gain: 1.5 });
  fc.onSend(1, 100_000, 0);
  fc.onAck(1, 100); // 1 MB/s, RTT 100 ms
  fc.setInflightCap(16_384);
  t.equal(fc.budgetBytes(), 16_384, 'capped');
  t.equal(fc.budgetBytes(20), 16_384, 'with the sound queue bound too (120 kB)');
  t.ok(fc.canSend(0, 20), 'nothing in flight: an update may go');
  fc.onSend(2, 40_000, 200);
  t.notOk(fc.canSend(0, 20), 'one 40 kB update in flight: over the cap');
  t.equal(fc.onAck(2, 300), 200);
  fc.onSend(3, 10_000, 300);
  t.ok(fc.canSend(0, 20, 300), '10 kB in flight: under it');
  fc.setInflightCap(null);
  t.equal(fc.budgetBytes(), 150_000, 'no cap: the usual budget');
  fc.setInflightCap(NaN);
  t.equal(fc.budgetBytes(), 150_000, 'a bad cap is no cap');
  const fresh = new FlowController({ minInflightBytes: 64 * 1024 });
  fresh.setInflightCap(16_384);
  t.equal(fresh.budgetBytes(), 16_384, 'before any estimate too');
});

t.test('the in-flight cap holds in a stall; the probe past one held update still goes; uncongested() ignores it', async (t) => {
  const fc = new FlowController({ minInflightBytes: 64 * 1024 });
  // A fast link: 900 kB/s (7 Mbit/s), RTT 45 ms, 45 kB acked every 50 ms.
  let at = 0;
  for (let id = 1; id <= 20; id++, at += 50) {
    fc.onSend(id, 45_000, at);
    fc.onAck(id, at + 50);
  }
  fc.setInflightCap(16_384);
  t.ok(fc.uncongested(at), 'nothing in flight: uncongested');
  fc.onSend(21, 6_000, at);
  t.ok(fc.uncongested(at), '6 kB in flight: still uncongested (a quarter of the uncapped budget, not of the cap)');
  // The link goes quiet: update 21 is overdue, a stall; the last second acked ~900 kB, 300 ms of which is 270 kB.
  fc.onSend(22, 11_000, at + 10);
  t.ok(fc.stalled(at + 400), 'stalled');
  t.notOk(fc.canSend(0, 20, at + 400), '17 kB in flight: the cap holds in the stall (the stall bound alone allows 270 kB)');
  // One big update alone in flight (a viewer may be holding its ack): the probe still goes.
  const one = new FlowController({ minInflightBytes: 64 * 1024 });
  at = 0;
  for (let id = 1; id <= 20; id++, at += 50) {
    one.onSend(id, 45_000, at);
    one.onAck(id, at + 50);
  }
  one.setInflightCap(16_384);
  one.onSend(21, 40_000, at);
  t.ok(one.stalled(at + 600), 'stalled behind one 40 kB update');
  t.equal(one.nextProbeAt(at + 600), at + 600, 'a probe may go now, though 40 kB is over the cap');
});

t.test('with sound on, the queue bound follows a falling link within QUEUE_RATE_WINDOW_MS, not the 2 s max filter', async (t) => {
  const fc = new FlowController({ minInflightBytes: 10_000, gain: 1.5 });
  // 720 kB/s for a while (an LTE cell at 5.8 Mbit/s), RTT 50 ms: 36 kB sent every 50 ms, each acked after 50 ms.
  let at = 0;
  for (let id = 1; id <= 20; id++, at += 50) {
    fc.onSend(id, 36_000, at);
    fc.onAck(id, at + 50);
  }
  t.equal(fc.stats().deliveryRateBps, 720_000);
  t.equal(fc.budgetBytes(60, at), 54_000, 'the usual budget (1.5 x RTT), under RTT + 60 ms at 720 kB/s');
  // The cell falls to 180 kB/s: the next updates take 200 ms to be delivered.
  for (let id = 21; id <= 24; id++, at += 200) {
    fc.onSend(id, 36_000, at);
    fc.onAck(id, at + 200);
  }
  t.equal(fc.stats().deliveryRateBps, 720_000, 'the 2 s max filter still holds the old rate');
  t.equal(fc.budgetBytes(), 54_000, 'without sound the budget is unchanged');
  t.equal(fc.budgetBytes(60, at), 19_800, 'with sound: RTT + 60 ms at the last 250 ms (180 kB/s)');
  t.equal(fc.budgetBytes(60), 19_800, 'without a clock: the latest sample');
  // The cell comes back: one fast delivery restores the bound.
  fc.onSend(25, 36_000, at);
  fc.onAck(25, at + 50);
  t.equal(fc.budgetBytes(60, at + 50), 54_000);
});

t.test('a stall (the oldest update in flight long past due) keeps only what the link drains at once in flight', async (t) => {
  const fc = new FlowController({ minInflightBytes: 64 * 1024 });
  // A steady link: 100 kB/s, RTT 50 ms.
  let at = 0;
  for (let id = 1; id <= 10; id++, at += 100) {
    fc.onSend(id, 5000, at);
    fc.onAck(id, at + 50);
  }
  t.equal(fc.stats().deliveryRateBps, 100_000);
  // 8 kB go out at 1000 and the link goes quiet (an LTE outage).
  fc.onSend(11, 4000, 1000);
  fc.onSend(12, 4000, 1010);
  // Update 11 is due by 1000 + min RTT 50 + 4000 B at 100 kB/s (40 ms); a stall STALL_GRACE_MS later.
  t.notOk(fc.stalled(1200), 'an ack 110 ms late is no stall');
  t.ok(fc.canSend(0, undefined, 1200), 'under the 64 KiB budget: may send');
  t.ok(fc.stalled(1400), 'an ack 310 ms late: stalled');
  t.ok(fc.canSend(0, undefined, 1400), 'the last second delivered 30 kB (six acks): 300 ms of that (9 kB) may be in flight');
  t.equal(fc.rateBps(1400), 30_000, 'the rate given to the encoder: what the last second delivered');
  t.ok(fc.canSend(0, undefined), 'without a clock, the plain budget (no stall check)');
  t.equal(fc.rateBps(2100), 1, 'no deliveries: 1 B/s, never "no estimate"');
  t.ok(fc.canSend(0, undefined, 2100), 'over the 1200 B allowance, but the last send was 1090 ms ago: a probe may go (acks may be what is lost)');
  fc.onSend(13, 300, 2100);
  t.notOk(fc.canSend(0, undefined, 2200), 'the next probe waits');
  t.equal(fc.nextProbeAt(2200), null, '8.3 kB in flight in three updates: no probe (STALL_PROBE_MAX_BYTES)');
  // The trickle delivers update 11; update 12 is still long overdue: acks trickling in do not end the stall.
  fc.onAck(11, 2250);
  t.ok(fc.stalled(2250), 'still stalled: update 12 was due at 1100');
  t.notOk(fc.canSend(0, undefined, 2250), '4.3 kB in flight, above 300 ms of the 4 kB/s the last second delivered, and no probe yet');
  t.equal(fc.nextProbeAt(2250), 2300, 'the next probe: the second of this stall, 2 × STALL_FIRST_PROBE_MS after the first (2100)');
  fc.onSend(14, 300, 2300);
  t.equal(fc.nextProbeAt(2400), 2700, 'the third: 4 × STALL_FIRST_PROBE_MS after the second');
  fc.onAck(12, 2600);
  t.ok(fc.stalled(2600), 'the probes (sent 2100 and 2300) are overdue too');
  fc.onAck(14, 2650);
  t.notOk(fc.stalled(2650), 'nothing in flight: no stall');
  t.ok(fc.canSend(0, undefined, 2650));
  fc.onSend(15, 1000, 2650);
  fc.onAck(15, 2700);
  t.notOk(fc.stalled(2700));
  t.equal(fc.rateBps(2700), fc.stats().deliveryRateBps, 'after the stall, the filtered estimate again');
  t.equal(fc.stats().stalls, 1, 'one stall, from 1400 to 2650');
});

// ATT-LTE-driving's uplink has a 770 ms gap while its downlink delivers as usual: the acks stop, not the link.
t.test('probes in a stall: 100, 200, 400 ms after the send before, then every STALL_PROBE_MS; the next outage starts again at 100', async (t) => {
  const fc = new FlowController({ minInflightBytes: 64 * 1024 });
  let at = 0;
  for (let id = 1; id <= 10; id++, at += 100) {
    fc.onSend(id, 500, at);
    fc.onAck(id, at + 40);
  }
  // Small updates go out and their acks stop coming.
  fc.onSend(11, 800, 1000);
  fc.onSend(12, 800, 1050);
  // Update 11 is due by 1000 + min RTT 40 + 800 B at 12.5 kB/s (64 ms); a stall STALL_GRACE_MS later.
  t.notOk(fc.stalled(1300), 'not yet overdue');
  t.ok(fc.stalled(1350), 'update 11 overdue by STALL_GRACE_MS: stalled');
  const probes: number[] = [];
  for (let id = 13, t0 = 1350; id <= 18; id++) {
    const next = fc.nextProbeAt(t0);
    if (next === null) break;
    t.ok(fc.canSend(0, undefined, next), `probe ${id - 12} may go at ${next}`);
    if (next > t0) t.notOk(fc.canSend(0, undefined, next - 1), `but not 1 ms before`);
    fc.onSend(id, 300, next);
    probes.push(next);
    t0 = next;
  }
  t.same(probes, [1350, 1550, 1950, 2450, 2950, 3450], 'the first probe at once (the last send was 300 ms before), then 200, 400, 500, 500 ms apart');
  // The acks come back: the stall ends. Another within STALL_SAME_OUTAGE_MS is the same outage (a trickle of
  // acks empties what is in flight now and then): its probes keep the pace the last one reached.
  fc.onAck(18, 3500);
  t.notOk(fc.stalled(3500), 'nothing in flight: no stall');
  fc.onSend(19, 800, 3550);
  fc.onSend(20, 800, 3560);
  t.ok(fc.stalled(4400), 'a second stall (the rate fell to what the first one delivered, so it is declared later)');
  t.equal(fc.stats().stalls, 2);
  t.equal(fc.nextProbeAt(4400), 4400, 'its first probe at once: the last send was 840 ms before');
  t.ok(fc.canSend(0, undefined, 4400));
  fc.onSend(21, 300, 4400);
  t.equal(fc.nextProbeAt(4450), 4900, 'within 2 s of the last stall: the next probe STALL_PROBE_MS later, not 200 ms');
  // More than STALL_SAME_OUTAGE_MS later, a new outage: probes at 100, 200, ... again.
  fc.onAck(21, 5000);
  fc.onSend(22, 800, 8000);
  fc.onSend(23, 800, 8010);
  t.notOk(fc.stalled(8800), 'not yet overdue');
  t.ok(fc.stalled(8830), 'a third stall, 3.4 s after the last');
  t.equal(fc.nextProbeAt(8830), 8830, 'its first probe at once');
  t.ok(fc.canSend(0, undefined, 8830));
  fc.onSend(24, 300, 8830);
  t.equal(fc.nextProbeAt(8850), 9030, 'its second 200 ms after its first');
});

t.test('uncongested: nothing in flight, or under a quarter of the budget without a stall', async (t) => {
  const fc = new FlowController({ minInflightBytes: 40_000 });
  t.ok(fc.uncongested(0), 'nothing in flight');
  fc.onSend(1, 9_000, 0);
  t.ok(fc.uncongested(10), '9 kB of a 40 kB budget (before any estimate)');
  fc.onSend(2, 2_000, 10);
  t.notOk(fc.uncongested(20), '11 kB: over a quarter');
  fc.onAck(2, 60); // both delivered: 11 kB in 60 ms, RTT 50 ms
  fc.onSend(3, 500, 100);
  t.ok(fc.uncongested(150), 'a small update in flight on a fast link');
  t.notOk(fc.uncongested(1000), 'the same update long overdue: a stall is congestion');
});

t.test('a viewer holding the ack of one big update (hidden page, slow decode) still gets a probe every STALL_PROBE_MS', async (t) => {
  const fc = new FlowController({ minInflightBytes: 64 * 1024 });
  for (let id = 1, at = 0; id <= 5; id++, at += 100) {
    fc.onSend(id, 5000, at);
    fc.onAck(id, at + 50);
  }
  fc.onSend(6, 30_000, 1000); // 30 kB: due by 1000 + 50 + 300, held by the viewer
  t.ok(fc.stalled(2000));
  t.ok(fc.canSend(0, undefined, 2000), 'one update in flight, under the budget: a probe may go');
  fc.onSend(7, 500, 2000);
  t.equal(fc.nextProbeAt(2100), null, 'two in flight above STALL_PROBE_MAX_BYTES: no more');
});
