// The lossy path and the sent-frame encoder: JPEG ops decoded by both decoders
// (native; pure TS + an image decoder, as the browser does), refinement to
// exact at rest, scroll detection, and argument checks. Exact results where
// exact, PSNR bounds where lossy.
import t from 'tap';
import sharp from 'sharp';
import { OpStreamDecoder, writeImage } from '../../../src/codec/opStreamDecoder';
import { TileDecoder } from '../../../src/codec/tileDecoder';
import { TileEncoder } from '../../../src/codec/tileEncoder';
import { ChangeDetector } from '../../../src/detect/changeDetector';
import type { Frame, Rect } from '../../../src/frame';
import { jpegUnavailableReason } from '../../../src/native/binding';
import { decodeMessage, encodeMessage } from '../../../src/protocol/messages';
import { loadScene } from '../../../src/source/sceneSource';
import { OfflineSession } from '../../../src/testing/offlineSession';
import { expectedFramebuffer, firstDifference, videoFrame } from '../../helpers';

const noJpeg = jpegUnavailableReason();
if (noJpeg && process.env.CI) throw new Error(`JPEG codec must load in CI: ${noJpeg}`);
const skip = noJpeg ?? false;

function crop(f: Frame, w: number, h: number, top = 0): Frame {
  const data = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) (f.data as Buffer).copy(data, y * w * 4, (top + y) * f.stride, (top + y) * f.stride + w * 4);
  return { data, width: w, height: h, stride: w * 4 };
}

/** PSNR over B, G, R of the pixels inside `r`. */
function psnrIn(a: Uint8Array, b: Uint8Array, width: number, r: Rect): number {
  let se = 0, n = 0;
  for (let y = r.y; y < r.y + r.h; y++) {
    for (let x = r.x; x < r.x + r.w; x++) {
      for (let c = 0; c < 3; c++, n++) se += (a[(y * width + x) * 4 + c]! - b[(y * width + x) * 4 + c]!) ** 2;
    }
  }
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255 * n) / se);
}

const base = crop(loadScene('document'), 640, 384);
const video = { x: 128, y: 64, w: 256, h: 192 };
const allTiles = (f: Frame) => new Uint8Array(Math.ceil(f.width / 64) * Math.ceil(f.height / 64)).fill(1);

t.test('busy photographic tiles go as one JPEG; text stays exact; both decoders agree', { skip }, async (t) => {
  const f = videoFrame(base, video, 3);
  // History allows the video's tiles and the text tiles around it (columns 0-6);
  // content decides: only the video is photographic.
  const mask = allTiles(f).map((_, i) => (i % 10 < 7 ? 1 : 0));
  const e = await new TileEncoder().encode(f, [{ x: 0, y: 0, w: f.width, h: f.height }], { keyframe: true, lossy: { mask, quality: 80 } });
  t.same(e.lossyRects, [video], 'the video area, merged into one rect');
  t.equal(e.stats.ops.jpeg, 1, 'one JPEG op');
  const msg = decodeMessage(encodeMessage({ type: 'update', frameId: 1, captureTime: 0, keyframe: true, opCount: e.opCount, stream: e.stream, images: e.images }));
  if (msg.type !== 'update') throw new Error('not an update');
  const native = new TileDecoder({ width: f.width, height: f.height });
  await native.apply(msg);
  const want = expectedFramebuffer(f);
  const outside = (fb: Uint8Array) => {
    for (let y = 0; y < f.height; y++) for (let x = 0; x < f.width; x++) {
      const inVideo = x >= video.x && x < video.x + video.w && y >= video.y && y < video.y + video.h;
      const i = (y * f.width + x) * 4;
      if (!inVideo && (fb[i] !== want[i] || fb[i + 1] !== want[i + 1] || fb[i + 2] !== want[i + 2] || fb[i + 3] !== 255)) return `${x},${y}`;
    }
    return null;
  };
  t.equal(outside(native.framebuffer), null, 'native: text exact');
  t.ok(psnrIn(native.framebuffer, want, f.width, video) > 32, `native: video PSNR ${psnrIn(native.framebuffer, want, f.width, video).toFixed(1)} dB`);
  // The browser's way: the TS decoder hands JPEG ops back; an image decoder (sharp here) fills them in.
  const ts = new OpStreamDecoder('bgra');
  const fb = new Uint8Array(f.width * f.height * 4);
  const r = ts.apply(fb, f.width, f.height, msg.stream, msg.opCount, true, msg.images);
  t.equal(r.images.length, 1, 'the TS decoder hands back one image');
  for (const im of r.images) {
    const { data } = await sharp(im.jpeg).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    writeImage(fb, f.width, im, data, 'bgra');
  }
  t.equal(outside(fb), null, 'TS: text exact');
  // Optimal Huffman tables: the same pixels in fewer bytes.
  const opt = await new TileEncoder().encode(f, [{ x: 0, y: 0, w: f.width, h: f.height }], { keyframe: true, lossy: { mask, quality: 80, optimizeHuffman: true } });
  t.ok(opt.images.length < e.images.length, `optimised Huffman: ${opt.images.length} vs ${e.images.length} bytes`);
  const dec2 = new TileDecoder({ width: f.width, height: f.height });
  await dec2.apply({ ...opt, keyframe: true });
  t.equal(firstDifference(dec2.framebuffer, native.framebuffer, f.width), null, 'and decodes to the same pixels');
  t.ok(psnrIn(fb, native.framebuffer, f.width, video) > 40, 'TS + image decoder matches the native decoder closely');
});

/** Runs frames through a session's ViewerEncoder (time = i * 33 ms), then `rest` still frames. */
async function session(frames: Frame[], rest: number, opts: { lossy: boolean; moves: boolean }) {
  const f0 = frames[0]!;
  const det = new ChangeDetector({ width: f0.width, height: f0.height });
  const s = new OfflineSession({ threads: 2, detectMoves: opts.moves, lossy: opts.lossy ? { qualities: [75] } : false });
  const streams: Buffer[] = [];
  let jpeg = 0, copies = 0, bytes = 0;
  const all = [...frames, ...Array(rest).fill(frames[frames.length - 1])] as Frame[];
  for (let i = 0; i < all.length; i++) {
    const f = all[i]!;
    const rects = await det.detect(f);
    const { updates } = await s.advance(i * 33, f, rects, (i + 1) * 33);
    for (const { encoded: e } of updates) {
      streams.push(Buffer.from(e.stream), Buffer.from(e.images));
      jpeg += e.stats.ops.jpeg;
      copies += e.copies.length;
      bytes += e.stream.length + e.images.length;
    }
  }
  return { dec: s.decoder, lossyTiles: s.encoder.quality().lossyTiles, streams: Buffer.concat(streams), jpeg, copies, bytes };
}

t.test('refinement: lossy while playing, byte-identical at rest, deterministic', { skip }, async (t) => {
  const frames = Array.from({ length: 12 }, (_, n) => videoFrame(base, video, n));
  const a = await session(frames, 6, { lossy: true, moves: true });
  t.ok(a.jpeg > 0, `${a.jpeg} JPEG ops while the video played`);
  t.equal(firstDifference(a.dec.framebuffer!, expectedFramebuffer(frames[11]!), base.width), null, 'exact at rest');
  t.equal(a.lossyTiles, 0, 'nothing left lossy');
  const b = await session(frames, 6, { lossy: true, moves: true });
  t.ok(a.streams.equals(b.streams), 'the same input gives the same bytes');
});

t.test('scrolling: copies plus exposed rows, far fewer bytes, exact', async (t) => {
  const page = loadScene('longdoc');
  const frames = [0, 30, 75, 130, 200].map((top) => crop(page, 960, 540, top));
  const moves = await session(frames, 0, { lossy: false, moves: true });
  const plain = await session(frames, 0, { lossy: false, moves: false });
  t.equal(firstDifference(moves.dec.framebuffer!, expectedFramebuffer(frames[4]!), 960), null, 'exact with move detection');
  t.equal(firstDifference(plain.dec.framebuffer!, expectedFramebuffer(frames[4]!), 960), null, 'exact without');
  t.ok(moves.copies >= 4, `${moves.copies} copies`);
  const keyframe = plain.bytes / 5; // a rough size of one full screen, for scale
  t.ok(moves.bytes < plain.bytes * 0.5, `scroll steps: ${moves.bytes} bytes vs ${plain.bytes} without detection (~${keyframe | 0} per screen)`);
});

t.test('bad lossy and sent-frame arguments are clear errors', async (t) => {
  const enc = new TileEncoder();
  const all = [{ x: 0, y: 0, w: base.width, h: base.height }];
  await t.rejects(enc.encode(base, all, { lossy: { mask: new Uint8Array(3) } }), { code: 'ERR_INVALID_ARG' }, 'mask of the wrong size');
  t.throws(() => enc.encodeSync(base, all, { lossy: { mask: allTiles(base), quality: 101 } }), { code: 'ERR_INVALID_ARG' }, 'quality above 100');
  t.throws(() => enc.encodeSync(base, all, { detectMoves: true }), { code: 'ERR_INVALID_ARG' }, 'moves need trackSent');
  const tracked = new TileEncoder({ trackSent: true });
  t.throws(() => tracked.encodeSync(base, all, { copies: [{ x: 0, y: 0, w: 8, h: 8, srcX: 8, srcY: 8 }] }), { code: 'ERR_INVALID_ARG' }, 'explicit copies with trackSent');
  const e = tracked.encodeSync(base, [], {});
  t.equal(e.keyframe, true, 'the first update of a sent-frame encoder is a keyframe');
});

t.test('the TS decoder checks JPEG ops as the native one does', async (t) => {
  const { deflateRawSync, constants } = await import('node:zlib');
  const op = (code: number, x: number, y: number, w: number, h: number, body: number[]) => [code, x, 0, y, 0, w, 0, h, 0, ...body];
  const jpegOp = (len: number) => op(4, 0, 0, 8, 8, [len & 255, (len >> 8) & 255, 0, 0]);
  const apply = (ops: number[], count: number, images: Uint8Array) => {
    const stream = deflateRawSync(Buffer.from(ops), { finishFlush: constants.Z_SYNC_FLUSH });
    return new OpStreamDecoder('bgra').apply(new Uint8Array(16 * 16 * 4), 16, 16, stream, count, true, images);
  };
  const jpeg = Uint8Array.from([0xff, 0xd8, 1, 2, 3, 4]);
  const ok = apply(jpegOp(6), 1, jpeg);
  t.same(ok.images.map((i) => [i.x, i.y, i.w, i.h, i.jpeg.length]), [[0, 0, 8, 8, 6]], 'a well-formed JPEG op is handed back');
  t.throws(() => apply(jpegOp(7), 1, jpeg), { code: 'ERR_PROTOCOL' }, 'length beyond the image section');
  t.throws(() => apply(jpegOp(5), 1, jpeg), { code: 'ERR_PROTOCOL' }, 'image bytes no op uses');
  t.throws(() => apply(jpegOp(6), 1, Uint8Array.from([0, 0, 0, 0, 0, 0])), { code: 'ERR_PROTOCOL' }, 'not a JPEG');
  t.throws(() => apply([...jpegOp(6), ...op(3, 8, 8, 4, 4, [0, 0, 0, 0])], 2, jpeg), { code: 'ERR_PROTOCOL' }, 'COPY after a pixel op');
});
