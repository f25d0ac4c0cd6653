// The decode Worker's own loop (runDecodeWorker) deciding when to draw: the updates of a batch are
// drawn once, after the newest (unless told not to wait); one the page does not ask to draw waits
// for its 'paint'. The loop runs here in Node, as in the Worker; the canvas it draws on records the
// rectangles put on it (Node has no canvas), and the pixels it was given are checked exactly.
import t from 'tap';
import { runDecodeWorker } from '../../../src/browser/screenFrames';
import { solidUpdate } from './fixtures/solidUpdate';

/** Node has no ImageData: the painter only wraps the framebuffer in one. */
(globalThis as any).ImageData ??= class {
  constructor(readonly data: Uint8ClampedArray, readonly width: number, readonly height: number) {}
};

function worker() {
  const answers: any[] = [];
  const draws: Array<{ x: number; y: number; w: number; h: number; first: number[] }> = [];
  const ctx = {
    putImageData(image: { data: Uint8ClampedArray; width: number }, _dx: number, _dy: number, x: number, y: number, w: number, h: number) {
      const o = (y * image.width + x) * 4;
      draws.push({ x, y, w, h, first: [...image.data.subarray(o, o + 4)] });
    },
  };
  const canvas = { width: 0, height: 0, getContext: () => ctx };
  const scope = { onmessage: null as null | ((e: MessageEvent) => void), postMessage: (m: unknown) => answers.push(m) };
  runDecodeWorker(scope as any);
  const send = (...batch: unknown[]) => scope.onmessage!({ data: batch } as MessageEvent);
  const answered = async (n: number) => {
    for (let i = 0; i < 200 && answers.length < n; i++) await new Promise((res) => setTimeout(res, 5));
    return answers.splice(0);
  };
  send({ type: 'canvas', canvas }, { type: 'resize', width: 8, height: 4, cacheBytes: 0, keepCache: false });
  return { send, answered, draws };
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
