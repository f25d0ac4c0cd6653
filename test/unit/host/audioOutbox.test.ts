// The audio drop policy with a fake clock: late frames are dropped, never sent late; the queue is bounded.
import t from 'tap';
import { AudioOutbox } from '../../../src/host/audioOutbox';

const frame = (seq: number, captureTime: number) => ({ seq, captureTime, bytes: new Uint8Array(10 + seq) });

t.test('frames go at once when the socket takes them', async (t) => {
  const box = new AudioOutbox({ jitterBudgetMs: 100 });
  box.push(frame(0, 1000), 1010);
  t.same(box.take(1010, true).map((f) => f.seq), [0]);
  t.same(box.stats(), { framesSent: 1, bytesSent: 10, droppedStale: 0, droppedFull: 0, droppedStalled: 0 });
});

t.test('frames older than the jitter budget are dropped rather than sent late', async (t) => {
  const box = new AudioOutbox({ jitterBudgetMs: 100 });
  box.push(frame(0, 1000), 1150); // already 150 ms old when offered
  t.equal(box.pending, 0);
  for (let i = 1; i <= 5; i++) box.push(frame(i, 1000 + 20 * i), 1000 + 20 * i + 5);
  t.same(box.take(1110, false), [], 'socket full: they wait');
  // At 1165 frames captured before 1065 are too old: 1 (1020), 2 (1040) and 3 (1060) go, 4 and 5 remain.
  t.same(box.take(1165, true).map((f) => f.seq), [4, 5]);
  t.equal(box.stats().droppedStale, 4);
});

t.test('the queue is bounded: the oldest goes first', async (t) => {
  const box = new AudioOutbox({ jitterBudgetMs: 5000, maxFrames: 3 });
  for (let i = 0; i < 5; i++) box.push(frame(i, 1000 + i), 1000 + i);
  t.same(box.take(1010, true).map((f) => f.seq), [2, 3, 4]);
  t.equal(box.stats().droppedFull, 2);
  t.throws(() => new AudioOutbox({ jitterBudgetMs: 5 }), { code: 'ERR_INVALID_ARG' });
});

t.test('a PING unanswered for longer than stallMs means a stalled link: frames are dropped until a PONG', async (t) => {
  t.equal(new AudioOutbox().stallMs, 1000, 'an uplink gap under a second is not a stall by default');
  const box = new AudioOutbox({ jitterBudgetMs: 200, stallMs: 200 });
  t.equal(box.probeDue(1000), true);
  box.probeSent(7, 1000);
  t.equal(box.probeDue(1050), false, 'one probe per 100 ms');
  box.push(frame(0, 1140), 1150);
  t.same(box.take(1150, true).map((f) => f.seq), [0], 'PING 150 ms out: not stalled yet');
  box.probeSent(8, 1100);
  t.equal(box.stalled(1250), true, 'PING 7 unanswered for 250 ms');
  box.push(frame(1, 1245), 1250);
  t.equal(box.pending, 0, 'dropped, not queued behind the stall');
  t.equal(box.stats().droppedStalled, 1);
  box.pong(8); // answers 8 and everything older
  t.equal(box.stalled(1260), false, 'the link is back');
  box.push(frame(2, 1255), 1260);
  t.same(box.take(1260, true).map((f) => f.seq), [2]);
  box.pong(99);
  t.equal(box.stalled(5000), false, 'an unknown PONG changes nothing');
});
