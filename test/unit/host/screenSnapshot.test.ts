// The snapshot pool with a fake clock: buffers are reused while in demand, and
// a burst's high-water mark beyond minIdle is given back once nothing needed it.
import t from 'tap';
import { SnapshotPool } from '../../../src/host/screenSnapshot';

const W = 8, H = 4;
const frameOf = (fill: number) => ({ data: Buffer.alloc(W * H * 4, fill), width: W, height: H, stride: W * 4, timestamp: 0 });

t.test('a released snapshot\'s buffer is the next capture\'s, with the new pixels', async (t) => {
  const pool = new SnapshotPool({ now: () => 0 });
  const a = pool.capture(frameOf(1));
  const bufA = a.frame.data;
  a.release();
  t.equal(pool.idleCount, 1);
  const b = pool.capture(frameOf(2));
  t.equal(b.frame.data, bufA, 'reused');
  t.same(b.frame.data, Buffer.alloc(W * H * 4, 2));
  t.ok(b.generation > a.generation);
});

t.test('a retained snapshot goes back only after its last release', async (t) => {
  const pool = new SnapshotPool({ now: () => 0 });
  const a = pool.capture(frameOf(1)).retain();
  a.release();
  t.equal(pool.idleCount, 0);
  a.release();
  t.equal(pool.idleCount, 1);
});

t.test('at most keep idle buffers; the ones beyond minIdle go when unused for idleMs', async (t) => {
  let now = 0;
  const pool = new SnapshotPool({ keep: 4, minIdle: 2, idleMs: 10_000, now: () => now });
  const burst = Array.from({ length: 6 }, (_, i) => pool.capture(frameOf(i)));
  for (const s of burst) s.release();
  t.equal(pool.idleCount, 4, 'bounded by keep');
  // Steady demand of one snapshot at a time for 20 s: the one in use and minIdle
  // more are kept; the buffer nobody took for 10 s goes.
  for (let i = 0; i < 200; i++) {
    now += 100;
    pool.capture(frameOf(9)).release();
  }
  t.equal(pool.trimmed, 1);
  t.equal(pool.idleCount, 3, 'the one just used and minIdle');
  // A still screen however long keeps them: the next change needs no allocation.
  now += 3_600_000;
  const s = pool.capture(frameOf(3));
  t.equal(pool.idleCount, 2, 'minIdle left while one is in use');
  t.equal(pool.trimmed, 1);
  s.release();
});

t.test('buffers in demand within idleMs are kept', async (t) => {
  let now = 0;
  const pool = new SnapshotPool({ keep: 4, minIdle: 1, idleMs: 10_000, now: () => now });
  // Three snapshots in use at once every 5 s: the third buffer is needed well within idleMs.
  for (let round = 0; round < 10; round++) {
    now += 5000;
    const held = [pool.capture(frameOf(1)), pool.capture(frameOf(2)), pool.capture(frameOf(3))];
    for (const s of held) s.release();
  }
  t.equal(pool.trimmed, 0);
  t.equal(pool.idleCount, 3);
});
