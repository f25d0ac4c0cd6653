// The session bench's quality figures (bench/lib/ffmpegQuality.js) are
// ffmpeg's own: identical frames give SSIM 1 and PSNR ∞, and a known error
// gives the PSNR its definition gives (10·log10(255² / MSE) over R, G, B; the
// alpha byte does not count), frame by frame in the order added.
import t from 'tap';
import { makeFrame, rng, fillRandom } from '../helpers';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const { QualityMeter, measurePairs } = require('../../bench/lib/ffmpegQuality');

t.test('QualityMeter: per-frame SSIM and PSNR from ffmpeg, in order', async (t) => {
  const w = 160, h = 96;
  const a = fillRandom(makeFrame(w, h), rng(3), 8).data;
  const b = Buffer.from(a);
  let se = 0;
  for (let i = 0; i < b.length; i += 4 * 7) { // every 7th pixel's green off by 10, its alpha scrambled
    const was = b.readUInt8(i + 1);
    const g = was < 128 ? was + 10 : was - 10;
    se += (g - was) ** 2;
    b.writeUInt8(g, i + 1);
    b.writeUInt8(b.readUInt8(i + 3) ^ 0x5a, i + 3);
  }
  const expected = 10 * Math.log10((255 * 255 * w * h * 3) / se);
  const meter = new QualityMeter(w, h);
  await meter.add(a, a);
  await meter.add(b, a);
  const alphaOnly = Buffer.from(a);
  for (let i = 3; i < alphaOnly.length; i += 4) alphaOnly[i] = 0;
  await meter.add(alphaOnly, a);
  const q = await meter.finish();
  t.equal(q.length, 3);
  t.same(q[0], { ssim: 1, psnr: Infinity }, 'identical frames');
  t.ok(Math.abs(q[1].psnr - expected) < 0.01, `PSNR ${q[1].psnr} dB = ${expected.toFixed(3)} dB by definition`);
  t.ok(q[1].ssim < 1 && q[1].ssim > 0.9, `SSIM ${q[1].ssim} below 1`);
  t.same(q[2], { ssim: 1, psnr: Infinity }, 'alpha is not picture');
  const [one] = await measurePairs(w, h, [[b, a]]);
  t.same(one, q[1], 'measurePairs gives the same figures');
});

t.test('QualityMeter: a short frame is refused', async (t) => {
  const meter = new QualityMeter(16, 16);
  await t.rejects(meter.add(Buffer.alloc(10), Buffer.alloc(16 * 16 * 4)), /shorter than 16×16×4/);
  await meter.finish();
});
