import t from 'tap';
import { ChangeDetector } from '../../../src/detect/changeDetector';
import { ErrorCodes } from '../../../src/errors';
import { detectedSimdLevel, setSimdLevel, simdLevel } from '../../../src/native/binding';
import { fillRandom, makeFrame, rng, simdLevelsToTest } from '../../helpers';

const levels = simdLevelsToTest(detectedSimdLevel());
t.teardown(() => void setSimdLevel(detectedSimdLevel()));

for (const level of levels) {
  t.test(`SIMD ${level}`, async (t) => {
    t.equal(setSimdLevel(level), level);
    t.equal(simdLevel(), level);

    t.test('first frame is all dirty, an unchanged frame is clean', async (t) => {
      for (const [w, h] of [[1, 1], [63, 65], [64, 64], [1920, 1080], [333, 7]] as const) {
        const f = fillRandom(makeFrame(w, h, 20), rng(w * h));
        const d = new ChangeDetector({ width: w, height: h });
        const first = await d.detect(f);
        t.equal(first.reduce((a, r) => a + r.w * r.h, 0), w * h, `${w}x${h} first`);
        t.same(await d.detect(f), [], `${w}x${h} unchanged`);
      }
    });

    t.test('a changed pixel dirties exactly its tile', async (t) => {
      const random = rng(7);
      const f = fillRandom(makeFrame(517, 389, 12), random, 4);
      const d = new ChangeDetector({ width: 517, height: 389, tileSize: 32 });
      await d.detect(f);
      for (let i = 0; i < 100; i++) {
        const x = (random() * 517) | 0;
        const y = (random() * 389) | 0;
        const at = y * f.stride + x * 4 + ((random() * 3) | 0);
        f.data[at] = f.data[at]! ^ 0x40;
        const tx = x - (x % 32);
        const ty = y - (y % 32);
        const rects = await d.detect(f);
        t.same(rects, [{ x: tx, y: ty, w: Math.min(32, 517 - tx), h: Math.min(32, 389 - ty) }]);
      }
      // Bytes between width*4 and stride are padding, not image.
      for (let y = 0; y < 389; y++) f.data[y * f.stride + 517 * 4] = 0xff - f.data[y * f.stride + 517 * 4]!;
      t.same(await d.detect(f), []);
    });

    t.test('adjacent dirty tiles merge into one rect', async (t) => {
      const f = makeFrame(256, 256);
      const d = new ChangeDetector({ width: 256, height: 256 });
      await d.detect(f);
      for (const [x, y] of [[10, 10], [70, 10], [10, 70], [70, 70]]) f.data[y! * f.stride + x! * 4] = 9;
      t.same(await d.detect(f), [{ x: 0, y: 0, w: 128, h: 128 }]);
    });

    t.test('reset() reports the whole frame again', async (t) => {
      const f = makeFrame(100, 50);
      const d = new ChangeDetector({ width: 100, height: 50 });
      await d.detect(f);
      d.reset();
      t.same(d.detectSync(f), [{ x: 0, y: 0, w: 100, h: 50 }]);
    });
  });
}

t.test('invalid arguments get ERR_INVALID_ARG', async (t) => {
  t.throws(() => new ChangeDetector({ width: 0, height: 10 }), { code: ErrorCodes.INVALID_ARG });
  t.throws(() => new ChangeDetector({ width: 10, height: 10, tileSize: 8 }), { code: ErrorCodes.INVALID_ARG });
  t.throws(() => new ChangeDetector({ width: 16385, height: 10 }), { code: ErrorCodes.INVALID_ARG });
  const d = new ChangeDetector({ width: 10, height: 10 });
  await t.rejects(d.detect(makeFrame(11, 10)), { code: ErrorCodes.INVALID_ARG });
  await t.rejects(d.detect({ data: new Uint8Array(399), width: 10, height: 10, stride: 40 }), { code: ErrorCodes.INVALID_ARG });
  await t.rejects(d.detect({ data: new Uint8Array(400), width: 10, height: 10, stride: 39 }), { code: ErrorCodes.INVALID_ARG });
});

t.test('a second detect() while one runs is ERR_BUSY, and the first still completes', async (t) => {
  const f = makeFrame(1920, 1080);
  const d = new ChangeDetector({ width: 1920, height: 1080 });
  const first = d.detect(f);
  await t.rejects(d.detect(f), { code: ErrorCodes.BUSY });
  t.equal((await first).length > 0, true);
});
