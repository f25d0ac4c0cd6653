// One hostile JPEG op must not affect any other decode. The native decoder
// keeps one TurboJPEG handle per thread (the JS thread for applySync, libuv
// pool threads for apply), shared by every TileDecoder: a JPEG cut inside its
// header used to leave that handle mid-stream, so every later JPEG keyframe
// on the thread failed ("Bogus DQT index 15"), on brand-new decoders too.
// Own file: tap runs each file in a fresh process, so no earlier test has
// touched the handles.
import t from 'tap';
import * as zlib from 'node:zlib';
import { TileDecoder } from '../../../src/codec/tileDecoder';
import { TileEncoder } from '../../../src/codec/tileEncoder';
import { jpegUnavailableReason } from '../../../src/native/binding';
import { ErrorCodes } from '../../../src/errors';
import { expectedFramebuffer, firstDifference, makeFrame, videoFrame } from '../../helpers';

const noJpeg = jpegUnavailableReason();
if (noJpeg && process.env.CI) throw new Error(`JPEG codec must load in CI: ${noJpeg}`);
const skip = noJpeg ?? false;

const W = 64, H = 64;

/** PSNR over B, G, R. */
function psnr(a: Uint8Array, b: Uint8Array): number {
  let se = 0;
  let n = 0;
  for (let i = 0; i < a.length; i += 4) for (let c = 0; c < 3; c++, n++) se += (a[i + c]! - b[i + c]!) ** 2;
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255 * n) / se);
}

t.test('a truncated JPEG op breaks nothing but its own update, sync and async', { skip }, async (t) => {
  const frame = videoFrame(makeFrame(W, H), { x: 0, y: 0, w: W, h: H }, 1);
  const good = new TileEncoder().encodeSync(frame, [{ x: 0, y: 0, w: W, h: H }], { keyframe: true, lossy: { mask: Uint8Array.of(1), quality: 80 } });
  t.same(good.stats.ops.jpeg, 1, 'the keyframe is one JPEG op');
  // The same op with its image cut at 64 bytes, inside the JPEG header.
  const op = zlib.inflateRawSync(good.stream, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  t.equal(op.length, 13, 'a 9-byte header and a u32 length');
  op.writeUInt32LE(64, 9);
  const truncated = {
    stream: zlib.deflateRawSync(op, { finishFlush: zlib.constants.Z_SYNC_FLUSH }),
    opCount: 1,
    keyframe: true,
    images: good.images.subarray(0, 64),
  };

  // What a valid keyframe decodes to before anything went wrong.
  const reference = new TileDecoder({ width: W, height: H });
  reference.applySync(good);
  const want = expectedFramebuffer(frame);
  t.ok(psnr(reference.framebuffer, want) > 30, `reference PSNR ${psnr(reference.framebuffer, want).toFixed(1)} dB`);

  // Sync: everything runs on this thread.
  for (let round = 0; round < 3; round++) {
    t.throws(() => new TileDecoder({ width: W, height: H }).applySync(truncated), { code: ErrorCodes.PROTOCOL }, `sync round ${round}: truncated JPEG rejected`);
    for (let k = 0; k < 2; k++) {
      const dec = new TileDecoder({ width: W, height: H });
      let error: string | null = null;
      try {
        dec.applySync(good);
      } catch (err) {
        error = `${(err as { code?: string }).code}: ${(err as Error).message}`;
      }
      t.equal(error, null, `sync round ${round}: a new decoder decodes a valid keyframe`);
      t.equal(firstDifference(dec.framebuffer, reference.framebuffer, W), null, `sync round ${round}: same pixels as before`);
    }
  }
  // And the decoder that saw the bad update recovers with the next keyframe.
  const hit = new TileDecoder({ width: W, height: H });
  t.throws(() => hit.applySync(truncated), { code: ErrorCodes.PROTOCOL });
  hit.applySync(good);
  t.equal(firstDifference(hit.framebuffer, reference.framebuffer, W), null, 'the hit decoder recovers on a keyframe');

  // Async: work lands on whichever pool thread is free, so hit them all many times over.
  const N = 16;
  for (let round = 0; round < 4; round++) {
    const bad = await Promise.allSettled(Array.from({ length: N }, () => new TileDecoder({ width: W, height: H }).apply(truncated)));
    t.same(bad.map((r) => (r.status === 'rejected' ? (r.reason as { code?: string }).code : 'fulfilled')), Array(N).fill(ErrorCodes.PROTOCOL), `async round ${round}: every truncated JPEG rejected`);
    const decoders = Array.from({ length: N }, () => new TileDecoder({ width: W, height: H }));
    const results = await Promise.allSettled(decoders.map((d) => d.apply(good)));
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [`${(r.reason as { code?: string }).code}: ${(r.reason as Error).message}`] : []));
    t.same(failures, [], `async round ${round}: every new decoder decodes a valid keyframe`);
    const differing = decoders.filter((d) => firstDifference(d.framebuffer, reference.framebuffer, W) !== null).length;
    t.equal(differing, 0, `async round ${round}: same pixels as before`);
  }
});
