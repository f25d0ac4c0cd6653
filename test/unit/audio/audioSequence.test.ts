// Where an arriving frame sits in its stream: next, after a gap (conceal), late (drop), or a restart.
import t from 'tap';
import { AudioSequence, MAX_CONCEALED_GAP } from '../../../src/audio/audioSequence';

t.test('gaps are counted for concealment, late frames dropped, long jumps restart', async (t) => {
  const s = new AudioSequence();
  t.same(s.place(10), { lost: 0, restart: false }, 'first frame');
  t.same(s.place(11), { lost: 0, restart: false });
  t.same(s.place(14), { lost: 2, restart: false }, '12 and 13 lost');
  t.equal(s.place(13), null, 'late: dropped');
  t.equal(s.place(14), null, 'duplicate: dropped');
  t.same(s.place(14 + MAX_CONCEALED_GAP + 2), { lost: 0, restart: true }, 'an outage: nothing to conceal');
  t.same([s.frames, s.lost, s.late, s.restarts], [4, 2, 2, 1]);
});

t.test('seq wraps at 2^32', async (t) => {
  const s = new AudioSequence();
  s.place(0xfffffffe);
  t.same(s.place(0xffffffff), { lost: 0, restart: false });
  t.same(s.place(1), { lost: 1, restart: false }, '0 lost across the wrap');
  t.equal(s.place(0xfffffff0), null, 'before the wrap: late');
  s.reset();
  t.same(s.place(5), { lost: 0, restart: false }, 'after reset anything starts a stream');
});
