// The adaptive playout policy, frame by frame: start at the target, conceal holes, grow on underruns, drain back down.
import t from 'tap';
import { CALM_PULLS, DRAIN_AFTER, FRAME_MS, JITTERY_FOR_MS, JitterBuffer, LOADED_JITTER_MS } from '../../../src/audio/jitterBuffer';

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

t.test('timed playout: the delay follows measured jitter, an outage does not raise it, its backlog is cut', async (t) => {
  const jb = new JitterBuffer<number>();
  const OFFSET = 5_000_000; // the sender's clock is far from the receiver's: only differences matter
  // 10 s of frames: transit 40 ms, every 10th frame 30 ms later (jitter: 10 % of frames).
  let now = 0;
  let seq = 0;
  const arrivals: Array<[number, number, number]> = []; // arrival, seq, capture
  for (; seq < 500; seq++) arrivals.push([seq * FRAME_MS + 40 + (seq % 10 === 0 ? 30 : 0), seq, OFFSET + seq * FRAME_MS]);
  // Then an outage: 2 s during which one frame a second gets through 800 ms late, then frames on time again.
  for (; seq < 600; seq++) if (seq % 50 === 0) arrivals.push([seq * FRAME_MS + 800, seq, OFFSET + seq * FRAME_MS]);
  for (; seq < 800; seq++) arrivals.push([seq * FRAME_MS + 40, seq, OFFSET + seq * FRAME_MS]);
  arrivals.sort((a, b) => a[0] - b[0]);
  let i = 0;
  const played: Array<[number, number]> = []; // pull time, seq
  const kinds = new Map<string, number>();
  for (now = arrivals[0]![0]; now <= arrivals[arrivals.length - 1]![0] + 200; now += FRAME_MS) {
    while (i < arrivals.length && arrivals[i]![0] <= now) {
      const [at, s, c] = arrivals[i++]!;
      jb.push(s, s, { captureTime: c, arrivedAt: at });
    }
    const p = jb.pull(now);
    kinds.set(p.kind, (kinds.get(p.kind) ?? 0) + 1);
    if (p.kind === 'frame') played.push([now, p.seq]);
  }
  const delays = (from: number, to: number) => played.filter(([, s]) => s >= from && s < to).map(([at, s]) => at - s * FRAME_MS);
  const before = delays(100, 500);
  t.ok(Math.max(...before) <= 40 + 30 + 2 * FRAME_MS, `before the outage every frame plays within the jitter allowance (max ${Math.max(...before)} ms)`);
  t.ok(before.length >= 395, `and almost all play (${before.length} of 400)`);
  const after = delays(650, 800);
  t.ok(Math.max(...after) <= 40 + 30 + 2 * FRAME_MS, `after the outage the delay is back (max ${Math.max(...after)} ms), not an outage longer`);
  t.equal(jb.delayMs! + OFFSET, 40 + 30 + FRAME_MS, "delay kept: the fastest transit, the jitter allowance (the 95th percentile: 30 ms), a frame");
  t.equal(delays(500, 600).filter((d) => d > 200).length, 0, 'nothing held up by the outage is played late');
  t.ok((kinds.get('underrun') ?? 0) >= 80, 'the outage is concealed (underruns)');
});

// The timeout is a bound, not a measurement: one skip per missing frame took minutes for this jump.
t.test('a jump far beyond the buffer moves its start in one step (a hostile 2^31 jump is as cheap as any push)', { timeout: 60_000 }, async (t) => {
  const jb = new JitterBuffer<string>({ minFrames: 2, maxFrames: 10 });
  jb.push(0, 'a');
  jb.push(1, 'b');
  const far = 0x7fffffff;
  const t0 = performance.now();
  jb.push(far, 'z');
  const ms = performance.now() - t0;
  t.comment(`push of a 2^31 jump: ${ms.toFixed(3)} ms`);
  t.equal(jb.depth, 10, 'the buffer spans its maximum: the far frame is its last');
  t.equal(jb.stats().skipped, 2, 'the two older frames were skipped');
  t.equal(jb.stats().bufferedFrames, 1);
  for (let i = 0; i < 9; i++) t.same(jb.pull(), { kind: 'lost', seq: (far - 9 + i) >>> 0 });
  t.same(jb.pull(), { kind: 'frame', frame: 'z', seq: far }, 'then the far frame plays');
  // And the same across the u32 wrap.
  const wrap = new JitterBuffer<string>({ minFrames: 1, maxFrames: 4 });
  wrap.push(0xfffffffe, 'x');
  wrap.push(5, 'y');
  t.equal(wrap.depth, 4);
  t.same([wrap.pull(), wrap.pull(), wrap.pull(), wrap.pull()].map((p) => p.kind), ['lost', 'lost', 'lost', 'frame']);
});

/** Plays arrivals [arrival, seq, capture] through `jb` with a pull every frame until the last arrival; `at(now)` runs before each pull. */
function playOut(jb: JitterBuffer<number>, arrivals: Array<[number, number, number]>, at: (now: number) => void = () => {}) {
  arrivals.sort((a, b) => a[0] - b[0]);
  const slots: Array<{ now: number; kind: string; seq?: number }> = [];
  let i = 0;
  for (let now = arrivals[0]![0]; now <= arrivals[arrivals.length - 1]![0]; now += FRAME_MS) {
    at(now);
    while (i < arrivals.length && arrivals[i]![0] <= now) {
      const [a, s, c] = arrivals[i++]!;
      jb.push(s, s, { captureTime: c, arrivedAt: a });
    }
    const p = jb.pull(now);
    slots.push({ now, kind: p.kind, ...(p.kind === 'frame' ? { seq: p.seq } : {}) });
  }
  return slots;
}

t.test('pixel load on a jittery link: the allowance rises to LOADED_JITTER_MS, so sound stranded behind pixels still plays', async (t) => {
  const OFFSET = 1_000;
  // 40 s of frames, transit 40 ms, every 10th 70 ms later (an LTE link's jitter); at 30 s a rate drop strands
  // 6 frames behind queued pixels: they arrive together, the first 120 ms late.
  const arrivals = (): Array<[number, number, number]> => {
    const a: Array<[number, number, number]> = [];
    for (let seq = 0; seq < 2000; seq++) {
      const arrival = seq >= 1500 && seq < 1506 ? 1500 * FRAME_MS + 40 + 120 : seq * FRAME_MS + 40 + (seq % 10 === 0 ? 70 : 0);
      a.push([arrival, seq, OFFSET + seq * FRAME_MS]);
    }
    return a;
  };
  const concealedIn = (slots: Array<{ now: number; kind: string }>, from: number, to: number) =>
    slots.filter((s) => s.now >= from && s.now < to && s.kind !== 'frame').length;
  // Without pixel load: the stranded frames come after their slots.
  const idleSlots = playOut(new JitterBuffer<number>(), arrivals());
  t.ok(concealedIn(idleSlots, 30_000, 31_000) >= 2, `idle: the stranded frames are concealed (${concealedIn(idleSlots, 30_000, 31_000)} slots)`);
  // Loaded from 20 s to 35 s: the delay rises (a few slots of silence, once), the stranded frames play, and it comes back down.
  const jb = new JitterBuffer<number>();
  const delays = new Map<number, number>();
  const slots = playOut(jb, arrivals(), (now) => {
    if (now % 5_000 === 0) delays.set(now, jb.delayMs! + OFFSET);
    jb.setPixelLoad(now >= 20_000 && now < 35_000);
  });
  t.equal(delays.get(20_000), 40 + 70 + FRAME_MS, 'before the load: the 95th percentile of the jitter, plus a frame');
  t.equal(delays.get(25_000), 40 + LOADED_JITTER_MS + FRAME_MS, 'under load: LOADED_JITTER_MS');
  const rise = concealedIn(slots, 20_000, 21_000);
  t.ok(rise > 0 && rise <= Math.ceil((LOADED_JITTER_MS - 70) / FRAME_MS) + 1, `raising the delay cost ${rise} slots of silence`);
  t.equal(concealedIn(slots, 21_000, 35_000), 0, 'then nothing is concealed, the stranded frames included');
  t.equal(jb.delayMs! + OFFSET, 40 + 70 + FRAME_MS, 'after the load: the jitter allowance again');
  t.equal(concealedIn(slots, 35_000, 40_000), 0, 'and the way down conceals nothing (frames are skipped)');
});

t.test('pixel load on a calm link changes nothing after the stream has been calm for JITTERY_FOR_MS', async (t) => {
  const jb = new JitterBuffer<number>();
  jb.setPixelLoad(true);
  const arrivals: Array<[number, number, number]> = [];
  const frames = (JITTERY_FOR_MS + 5_000) / FRAME_MS;
  for (let seq = 0; seq < frames; seq++) arrivals.push([seq * FRAME_MS + 3, seq, seq * FRAME_MS]); // a LAN: 3 ms, no jitter
  let early = 0;
  const slots = playOut(jb, arrivals, (now) => {
    if (now >= 10_000 && now < 10_020) early = jb.delayMs!;
  });
  t.equal(early, 3 + LOADED_JITTER_MS + FRAME_MS, 'a new stream counts as jittery: the allowance applies at first');
  t.equal(jb.delayMs, 3 + FRAME_MS + FRAME_MS, 'after a calm minute: the least delay (fastest transit, one frame of allowance, a frame)');
  t.equal(slots.filter((s) => s.now > JITTERY_FOR_MS + 1_000 && s.kind !== 'frame').length, 0, 'and the way down conceals nothing');
});
