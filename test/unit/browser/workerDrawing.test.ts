// The decode Worker's own loop (runDecodeWorker) deciding when to draw: the updates of a batch are
// drawn once, after the newest (unless told not to wait); one the page does not ask to draw waits
// for its 'paint'. The loop runs here in Node, as in the Worker; the canvas it draws on records the
// rectangles put on it (Node has no canvas), and the pixels it was given are checked exactly.
import t from 'tap';
import { LATE_MARGIN_MS } from '../../../src/browser/framePacer';
import { runDecodeWorker } from '../../../src/browser/screenFrames';
import { solidUpdate } from './fixtures/solidUpdate';

/** Node has no ImageData: the painter only wraps the framebuffer in one. */
(globalThis as any).ImageData ??= class {
  constructor(readonly data: Uint8ClampedArray, readonly width: number, readonly height: number) {}
};

function worker(width = 8, height = 4, requestAnimationFrame?: (cb: (t: number) => void) => unknown) {
  const answers: any[] = [];
  const draws: Array<{ x: number; y: number; w: number; h: number; first: number[] }> = [];
  const drawnAt: number[] = [];
  const ctx = {
    putImageData(image: { data: Uint8ClampedArray; width: number }, _dx: number, _dy: number, x: number, y: number, w: number, h: number) {
      const o = (y * image.width + x) * 4;
      draws.push({ x, y, w, h, first: [...image.data.subarray(o, o + 4)] });
      drawnAt.push(performance.now());
    },
  };
  const canvas = { width: 0, height: 0, getContext: () => ctx };
  const scope = { onmessage: null as null | ((e: MessageEvent) => void), postMessage: (m: unknown) => answers.push(m), requestAnimationFrame };
  runDecodeWorker(scope as any);
  const send = (...batch: unknown[]) => scope.onmessage!({ data: batch } as MessageEvent);
  const answered = async (n: number) => {
    for (let i = 0; i < 200 && answers.length < n; i++) await new Promise((res) => setTimeout(res, 5));
    return answers.splice(0);
  };
  send({ type: 'canvas', canvas }, { type: 'resize', width, height, cacheBytes: 0, keepCache: false });
  return { send, answered, draws, drawnAt };
}

const RED: [number, number, number] = [0, 0, 255], GREEN: [number, number, number] = [0, 255, 0], BLUE: [number, number, number] = [255, 0, 0];

t.test('a batch asked to draw: the newest is drawn, once, with all before it', async (t) => {
  const w = worker();
  w.send({ type: 'update', id: 1, ...solidUpdate(0, 0, 8, 4, RED, true) }, { type: 'paint', id: 2 });
  await w.answered(2);
  w.draws.length = 0;
  w.send(
    { type: 'update', id: 3, ...solidUpdate(0, 0, 2, 2, GREEN), drawWithinMs: 60_000 },
    { type: 'update', id: 4, ...solidUpdate(4, 2, 2, 2, BLUE), drawWithinMs: 60_000 },
  );
  const a = await w.answered(2);
  t.same(a.map((m) => [m.type, m.id, m.drawn]), [['applied', 3, false], ['applied', 4, true]], 'the first waits for the newer one queued behind it; the newest is drawn');
  t.same(w.draws, [{ x: 0, y: 0, w: 6, h: 4, first: [0, 255, 0, 255] }], 'one draw covering both, green at its corner');
});

t.test('told not to wait (coalesceMs 0), or alone: each is drawn as applied', async (t) => {
  const w = worker();
  w.send({ type: 'update', id: 1, ...solidUpdate(0, 0, 8, 4, RED, true), drawWithinMs: 0 }, { type: 'update', id: 2, ...solidUpdate(0, 0, 2, 2, GREEN), drawWithinMs: 0 });
  t.same((await w.answered(2)).map((m) => m.drawn), [true, true]);
  t.equal(w.draws.length, 2, 'two draws');
  w.send({ type: 'update', id: 3, ...solidUpdate(6, 2, 2, 2, BLUE), drawWithinMs: 60_000 });
  t.same((await w.answered(1)).map((m) => m.drawn), [true], 'a lone update asked to draw is drawn');
  t.same(w.draws[2], { x: 6, y: 2, w: 2, h: 2, first: [0, 0, 255, 255] }, 'just its rectangle');
});

t.test('not asked to draw: nothing is drawn until the page\'s paint, which draws everything since the last', async (t) => {
  const w = worker();
  w.send({ type: 'update', id: 1, ...solidUpdate(0, 0, 8, 4, RED, true) }, { type: 'update', id: 2, ...solidUpdate(2, 0, 2, 2, GREEN) });
  const a = await w.answered(2);
  t.same(a.map((m) => m.drawn), [undefined, undefined], 'no draw decided here');
  t.equal(w.draws.length, 0, 'nothing drawn');
  w.send({ type: 'paint', id: 3 });
  t.same((await w.answered(1)).map((m) => m.type), ['painted']);
  t.same(w.draws, [{ x: 0, y: 0, w: 8, h: 4, first: [255, 0, 0, 255] }], 'the whole new screen, once (red, RGBA)');
});

t.test('a large update is drawn late in the frame interval; a small one that comes meanwhile is drawn at once, with it', async (t) => {
  // The frame clock the Worker learns from requestAnimationFrame: frames at 0, 16.7, 33.3 ... of performance.now().
  const frames: Array<(t: number) => void> = [];
  const w = worker(400, 300, (cb) => frames.push(cb));
  const P = 1000 / 60;
  const tick = () => {
    for (const cb of frames.splice(0)) cb(Math.floor(performance.now() / P) * P);
  };
  w.send({ type: 'update', id: 1, ...solidUpdate(0, 0, 400, 300, RED, true) }, { type: 'paint', id: 2 });
  await w.answered(2);
  // The first large draw asks for the frame clock and, not knowing it yet, is made at once.
  w.send({ type: 'update', id: 3, ...solidUpdate(0, 0, 300, 300, GREEN), drawWithinMs: 60_000 });
  t.same((await w.answered(1)).map((m) => [m.id, m.drawn]), [[3, true]], 'drawn at once: no frame clock yet');
  tick();
  tick(); // two frames in a row: the clock is known
  w.draws.length = 0;
  let held = 0;
  for (let i = 0; i < 60 && held < 5; i++) {
    await new Promise((res) => setTimeout(res, Math.random() * P));
    w.draws.length = 0;
    const sentAt = performance.now();
    w.send({ type: 'update', id: 10 + i, ...solidUpdate(0, 0, 300, 300, i % 2 ? GREEN : BLUE), drawWithinMs: 60_000 });
    let a = await w.answered(1);
    if (a[0].drawn) continue; // it came in the late part of the interval: drawn at once
    held++;
    if (a.length < 2) a = a.concat(await w.answered(1));
    t.same(a.map((m) => [m.type, m.drawn]), [['applied', false], ['drawn', undefined]], 'held, then drawn, and the page told so');
    t.equal(w.draws.length, 1, 'one draw');
    // Not before the late part of the interval it was sent in (a timer may fire later, never sooner; 1 ms for the timer clock's own granularity).
    const lateAt = Math.floor(sentAt / P) * P + P - LATE_MARGIN_MS;
    t.ok(w.drawnAt.at(-1)! >= lateAt - 1, `drawn ${(w.drawnAt.at(-1)! - sentAt).toFixed(1)} ms after it came, at ${(w.drawnAt.at(-1)! % P).toFixed(1)} ms into a ${P.toFixed(1)} ms interval`);
  }
  t.equal(held, 5, 'large updates were held');
  // A large update held, and a small one right behind it: drawn at once, the large one with it, and no notice after.
  let caught = false;
  for (let i = 0; i < 40 && !caught; i++) {
    await new Promise((res) => setTimeout(res, Math.random() * P));
    w.draws.length = 0;
    w.send(
      { type: 'update', id: 100 + 2 * i, ...solidUpdate(0, 0, 300, 300, GREEN), drawWithinMs: 0 }, // 0: not left for the small one behind it
      { type: 'update', id: 101 + 2 * i, ...solidUpdate(390, 290, 10, 10, BLUE), drawWithinMs: 60_000 },
    );
    const a = await w.answered(2);
    if (a[0].drawn) continue;
    t.same(a.map((m) => [m.id, m.drawn]), [[100 + 2 * i, false], [101 + 2 * i, true]], 'the large one held, the small one drawn as applied');
    t.same(w.draws, [{ x: 0, y: 0, w: 400, h: 300, first: [0, 255, 0, 255] }], 'one draw covering both');
    await new Promise((res) => setTimeout(res, 2 * P));
    t.same(await w.answered(0), [], 'nothing held any more: no notice');
    caught = true;
  }
  t.ok(caught, 'a large update was held when the small one came');
});
