// The adaptive playout policy, frame by frame: start at the target, conceal holes, grow on underruns, drain back down.
import t from 'tap';
import { CALM_PULLS, DRAIN_AFTER, JitterBuffer } from '../../../src/audio/jitterBuffer';

t.test('waits for the target, plays in order, conceals a hole, drops a late frame', async (t) => {
  const jb = new JitterBuffer<string>({ minFrames: 2 });
  jb.push(10, 'a');
  t.same(jb.pull(), { kind: 'waiting' }, 'one frame: below the 2-frame target');
  jb.push(11, 'b');
  t.same(jb.pull(), { kind: 'frame', frame: 'a', seq: 10 });
  jb.push(13, 'd');
  t.same(jb.pull(), { kind: 'frame', frame: 'b', seq: 11 });
  t.same(jb.pull(), { kind: 'lost', seq: 12 }, '12 never came but 13 did: concealed');
  jb.push(12, 'c');
  t.equal(jb.stats().late, 1, '12 after its turn: dropped');
  t.same(jb.pull(), { kind: 'frame', frame: 'd', seq: 13 });
  t.same(jb.pull(), { kind: 'underrun' }, 'nothing left: underrun, the delay grows');
  t.equal(jb.stats().targetFrames, 3);
  jb.push(14, 'e');
  t.same(jb.pull(), { kind: 'frame', frame: 'e', seq: 14 }, 'an underrun does not skip the frame that was late');
});

t.test('delay comes back down: a frame skipped after a second over target, the target shrinks after calm', async (t) => {
  const jb = new JitterBuffer<number>({ minFrames: 2 });
  let seq = 0;
  for (; seq < 8; seq++) jb.push(seq, seq); // a burst: 8 frames deep
  let skipped = 0;
  for (let i = 0; i < DRAIN_AFTER * 3; i++) {
    jb.push(seq, seq);
    seq++;
    jb.pull();
    skipped = jb.stats().skipped;
  }
  t.ok(skipped >= 2, `frames skipped to drain the excess (${skipped})`);
  t.ok(jb.depth <= 8 - 2, `depth down to ${jb.depth}`);
  // Underruns raise the target; CALM_PULLS pulls without one lower it a frame.
  const jb2 = new JitterBuffer<number>({ minFrames: 2 });
  jb2.push(0, 0);
  jb2.push(1, 1);
  jb2.pull();
  jb2.pull();
  jb2.pull(); // underrun
  t.equal(jb2.stats().targetFrames, 3);
  for (let s = 2; s < CALM_PULLS + 10; s++) {
    jb2.push(s, s);
    jb2.pull();
  }
  t.equal(jb2.stats().targetFrames, 2, 'back to the minimum after calm');
});

t.test('an outage raises the target once, and the backlog it held up is cut to the target when frames return', async (t) => {
  const jb = new JitterBuffer<number>({ minFrames: 2 });
  jb.push(0, 0);
  jb.push(1, 1);
  jb.pull();
  jb.pull();
  for (let i = 0; i < 100; i++) t.equal(jb.pull().kind, 'underrun'); // 2 s of nothing
  t.equal(jb.stats().targetFrames, 3, 'one frame more, not 100');
  for (let s = 2; s < 102; s++) jb.push(s, s); // the 2 s held up arrive at once
  const p = jb.pull();
  t.equal(p.kind, 'frame');
  t.ok(jb.depth <= 3, `backlog cut to the target (depth ${jb.depth})`);
  t.ok((p as { seq: number }).seq >= 98, 'playing the newest frames, not 2 s late ones');
});
