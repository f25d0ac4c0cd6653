// Byte-exact round trips: encoder -> wire message -> decoder equals the source.
// Every update is applied by both decoders, the native one and the browser's
// pure-TS one, which must agree byte for byte.
import t from 'tap';
import sharp from 'sharp';
import { ChangeDetector } from '../../../src/detect/changeDetector';
import { OpStreamDecoder } from '../../../src/codec/opStreamDecoder';
import { TileDecoder as NativeTileDecoder } from '../../../src/codec/tileDecoder';
import { TileEncoder } from '../../../src/codec/tileEncoder';
import { codingBufferStats, trimCodingBuffers } from '../../../src/native/binding';
import { Frame } from '../../../src/frame';
import { decodeMessage, encodeMessage } from '../../../src/protocol/messages';
import { SceneName, loadScene } from '../../../src/source/sceneSource';
import { expectedFramebuffer, fillRandom, firstDifference, makeFrame, rng } from '../../helpers';

class TileDecoder {
  private readonly native: NativeTileDecoder;
  private readonly ts = new OpStreamDecoder('bgra');
  private readonly tsFramebuffer: Uint8Array;
  constructor(private readonly size: { width: number; height: number }) {
    this.native = new NativeTileDecoder(size);
    this.tsFramebuffer = new Uint8Array(size.width * size.height * 4);
  }
  get framebuffer() {
    return this.native.framebuffer;
  }
  async apply(u: { stream: Uint8Array; opCount: number; keyframe: boolean }) {
    await this.native.apply(u);
    this.ts.apply(this.tsFramebuffer, this.size.width, this.size.height, u.stream, u.opCount, u.keyframe);
    const diff = firstDifference(this.tsFramebuffer, this.native.framebuffer, this.size.width);
    if (diff) throw new Error(`pure-TS decoder differs from the native one: ${diff}`);
  }
}

function whole(f: Frame) {
  return [{ x: 0, y: 0, w: f.width, h: f.height }];
}

async function viaWire(enc: TileEncoder, dec: TileDecoder, f: Frame, rects = whole(f), keyframe = true) {
  const e = await enc.encode(f, rects, { keyframe });
  const msg = decodeMessage(encodeMessage({ type: 'update', frameId: 1, captureTime: 0, keyframe, opCount: e.opCount, stream: e.stream }));
  if (msg.type !== 'update') throw new Error('not an update');
  await dec.apply(msg);
  return e;
}

t.test('rendered desktop scenes round-trip exactly', async (t) => {
  const scenes: SceneName[] = ['desktop', 'editor', 'editor-typed', 'document', 'japanese'];
  for (const name of scenes) {
    const f = loadScene(name);
    const enc = new TileEncoder();
    const dec = new TileDecoder({ width: f.width, height: f.height });
    const e = await viaWire(enc, dec, f);
    t.equal(firstDifference(dec.framebuffer, expectedFramebuffer(f), f.width), null, `${name} exact`);
    t.ok(e.stream.length < f.width * f.height, `${name}: ${e.stream.length} bytes`);
  }
});

// UI scenes drawn as SVG and rasterised by sharp (librsvg): text, widgets, gradients.
function svgScene(seed: number, width: number, height: number): string {
  const random = rng(seed);
  const words = ['budget', 'report', 'session', 'gateway', 'latency', 'settings', 'connect', 'window', 'render', 'table'];
  let body = `<rect width="${width}" height="${height}" fill="#f4f4f4"/><rect width="${width}" height="28" fill="#2b579a"/>`;
  for (let i = 0; i < 30; i++) {
    const y = 50 + i * 22;
    const text = Array.from({ length: 6 + ((random() * 8) | 0) }, () => words[(random() * words.length) | 0]).join(' ');
    const color = ['#222', '#c00', '#05a', '#080'][(random() * 4) | 0];
    body += `<text x="${10 + ((random() * 40) | 0)}" y="${y}" font-family="DejaVu Sans" font-size="${12 + ((random() * 6) | 0)}" fill="${color}">${text}</text>`;
  }
  body += `<defs><linearGradient id="g"><stop offset="0" stop-color="#36c"/><stop offset="1" stop-color="#9cf"/></linearGradient></defs>`;
  body += `<rect x="${width - 300}" y="60" width="260" height="160" rx="8" fill="url(#g)"/>`;
  body += `<circle cx="${width - 170}" cy="300" r="60" fill="#e55" stroke="#333" stroke-width="3"/>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${body}</svg>`;
}

t.test('SVG-rendered UI scenes round-trip exactly, also through a change sequence', async (t) => {
  const w = 1024, h = 720;
  const frames: Frame[] = [];
  for (let seed = 1; seed <= 4; seed++) {
    const { data } = await sharp(Buffer.from(svgScene(seed, w, h))).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    for (let i = 0; i < data.length; i += 4) [data[i], data[i + 2]] = [data[i + 2]!, data[i]!]; // RGBA -> BGRA
    frames.push({ data, width: w, height: h, stride: w * 4 });
  }
  const det = new ChangeDetector({ width: w, height: h });
  const enc = new TileEncoder();
  const dec = new TileDecoder({ width: w, height: h });
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i]!;
    const rects = await det.detect(f);
    await viaWire(enc, dec, f, rects, i === 0);
    t.equal(firstDifference(dec.framebuffer, expectedFramebuffer(f), w), null, `frame ${i}`);
  }
});

t.test('random content, every palette size, edge sizes and strides', async (t) => {
  const random = rng(3);
  for (const colors of [1, 2, 3, 4, 5, 16, 17, 256, 257, 0]) {
    for (const [w, h] of [[1, 1], [1, 77], [77, 1], [63, 64], [65, 129], [300, 17]] as const) {
      for (const tileSize of [16, 64, 256]) {
        const f = fillRandom(makeFrame(w, h, 8), random, colors);
        const enc = new TileEncoder({ tileSize, threads: 2 });
        const dec = new TileDecoder({ width: w, height: h });
        await viaWire(enc, dec, f);
        const diff = firstDifference(dec.framebuffer, expectedFramebuffer(f), w);
        if (diff) t.fail(`colors ${colors} ${w}x${h} tile ${tileSize}: ${diff}`);
      }
    }
  }
  t.pass('all exact');
});

t.test('a long edit sequence stays exact with the stream spanning frames', async (t) => {
  const random = rng(11);
  const f = loadScene('editor');
  const data = Buffer.from(f.data);
  const frame = { ...f, data };
  const det = new ChangeDetector({ width: f.width, height: f.height });
  const enc = new TileEncoder();
  const dec = new TileDecoder({ width: f.width, height: f.height });
  let total = 0;
  for (let i = 0; i < 60; i++) {
    if (i > 0) {
      // Paste a random block of the screen elsewhere (like text moving around).
      const w = 8 + ((random() * 200) | 0), h = 8 + ((random() * 40) | 0);
      const sx = (random() * (f.width - w)) | 0, sy = (random() * (f.height - h)) | 0;
      const dx = (random() * (f.width - w)) | 0, dy = (random() * (f.height - h)) | 0;
      for (let y = 0; y < h; y++) data.copy(data, ((dy + y) * f.width + dx) * 4, ((sy + y) * f.width + sx) * 4, ((sy + y) * f.width + sx + w) * 4);
    }
    const rects = await det.detect(frame);
    total += (await viaWire(enc, dec, frame, rects, i === 0)).stream.length;
  }
  t.equal(firstDifference(dec.framebuffer, expectedFramebuffer(frame), f.width), null);
  t.ok(total > 0);
});

t.test('copy ops move regions exactly (scroll up and down)', async (t) => {
  const w = 200, h = 150;
  const random = rng(5);
  const f = fillRandom(makeFrame(w, h), random);
  const enc = new TileEncoder({ tileSize: 32 });
  const dec = new TileDecoder({ width: w, height: h });
  await viaWire(enc, dec, f);
  // Host scrolls up 17 rows and paints new rows at the bottom.
  const g = makeFrame(w, h);
  (f.data as Buffer).copy(g.data as Buffer, 0, 17 * w * 4);
  fillRandom({ ...g, data: g.data.subarray((h - 17) * w * 4), height: 17 }, random);
  const e = await enc.encode(g, [{ x: 0, y: h - 17, w, h: 17 }], { copies: [{ x: 0, y: 0, w, h: h - 17, srcX: 0, srcY: 17 }] });
  t.equal(e.stats.ops.copy, 1);
  await dec.apply({ stream: e.stream, opCount: e.opCount, keyframe: false });
  t.equal(firstDifference(dec.framebuffer, expectedFramebuffer(g), w), null);
});

t.test('output does not depend on thread count', async (t) => {
  const f = loadScene('document');
  const a = await new TileEncoder({ threads: 1 }).encode(f, whole(f), { keyframe: true });
  const b = await new TileEncoder({ threads: 4 }).encode(f, whole(f), { keyframe: true });
  t.equal(Buffer.compare(a.stream, b.stream), 0);
});

t.test('the coding buffers are one pool for the process: leased per encode, reused by every viewer, not kept per viewer', async (t) => {
  const frame = loadScene('desktop');
  const whole = [{ x: 0, y: 0, w: frame.width, h: frame.height }];
  const opts = { keyframe: true, paletteDiff: true, predicted: true };
  trimCodingBuffers();
  t.equal(codingBufferStats().idleBytes, 0, 'trimmed: no idle set holds anything');
  const made = codingBufferStats().setsMade;
  const enc = new TileEncoder({ threads: 1, trackSent: true });
  const first = enc.encodeSync(frame, whole, opts);
  const after = codingBufferStats();
  t.same([after.setsMade - made, after.leasedSets, after.idleSets], [1, 0, 1], 'one set made, back in the pool when the encode ended');
  // A 1080p keyframe's op bytes go through the LZ coder: the bands' buffers and the gathered copy
  // each hold them (so at least twice over), besides the coder's tables and staging.
  t.ok(after.idleBytes >= 2 * first.stats.rawBytes, `the set's ${after.idleBytes} bytes hold the keyframe's ${first.stats.rawBytes} op bytes twice over`);
  t.ok(after.idleBytes <= 5 * first.stats.rawBytes, `and not many times them (${after.idleBytes})`);
  t.ok(enc.memoryBytes <= frame.width * frame.height * 4 + 65536, `the viewer's memoryBytes ${enc.memoryBytes}: its sent frame and flags, no coding buffers`);
  // More viewers' keyframes, one after another: the same set, no growth, the same bytes.
  for (let i = 0; i < 6; i++) {
    const other = new TileEncoder({ threads: 1, trackSent: true });
    const r = other.encodeSync(frame, whole, opts);
    if (Buffer.compare(r.stream, first.stream) !== 0) t.fail(`viewer ${i}'s keyframe differs`);
    other.release();
  }
  const shared = codingBufferStats();
  t.same([shared.setsMade - made, shared.idleBytes], [1, after.idleBytes], 'six more viewers reused the one set');
  // Encodes at once each lease a set; all come back.
  const many = Array.from({ length: 4 }, () => new TileEncoder({ threads: 1, trackSent: true }));
  const results = await Promise.all(many.map((e) => e.encode(frame, whole, opts)));
  t.ok(results.every((r) => Buffer.compare(r.stream, first.stream) === 0), 'concurrent keyframes: the same bytes');
  const end = codingBufferStats();
  t.ok(end.setsMade - made <= 4 && end.leasedSets === 0 && end.idleSets >= 1, `at most one set per encode at once (${end.setsMade - made} made), all returned`);
  enc.release();
  t.equal(enc.memoryBytes, 0, 'release() frees what was held for the viewer');
  trimCodingBuffers();
  const again = enc.encodeSync(frame, whole, opts);
  t.same(Buffer.from(again.stream), Buffer.from(first.stream), 'a keyframe after release() and a trim is the same bytes');
});
