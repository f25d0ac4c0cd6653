// Hostile and broken update streams: clear errors, bounded memory, no crash,
// and recovery on the next keyframe.
import t from 'tap';
import * as zlib from 'node:zlib';
import { INFLATE_CHUNK_BYTES, OpStreamDecoder, maxInflatedBytes, maxOps } from '../../../src/codec/opStreamDecoder';
import { TileDecoder } from '../../../src/codec/tileDecoder';
import { TileEncoder } from '../../../src/codec/tileEncoder';
import { ErrorCodes } from '../../../src/errors';
import { loadScene } from '../../../src/source/sceneSource';
import { expectedFramebuffer, firstDifference, rng } from '../../helpers';

// Op header: u8 op, u16 x, y, w, h.
function op(code: number, x: number, y: number, w: number, h: number, body: number[] | Uint8Array = []): Buffer {
  const b = Buffer.alloc(9);
  b[0] = code;
  b.writeUInt16LE(x, 1);
  b.writeUInt16LE(y, 3);
  b.writeUInt16LE(w, 5);
  b.writeUInt16LE(h, 7);
  return Buffer.concat([b, Buffer.from(body)]);
}
function deflate(...ops: Buffer[]): Buffer {
  return zlib.deflateRawSync(Buffer.concat(ops), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
}

/** The browser's pure-TS decoder behind the native decoder's interface, so every case runs on both. */
class TsDecoder {
  readonly framebuffer: Uint8Array;
  readonly dec = new OpStreamDecoder('bgra');
  constructor(private readonly size: { width: number; height: number }) {
    this.framebuffer = new Uint8Array(size.width * size.height * 4);
  }
  async apply(u: { stream: Uint8Array; opCount: number; keyframe: boolean }) {
    return this.dec.apply(this.framebuffer, this.size.width, this.size.height, u.stream, u.opCount, u.keyframe);
  }
}
const DECODERS = [
  { name: 'native', make: (size: { width: number; height: number }) => new TileDecoder(size) },
  { name: 'pure TS', make: (size: { width: number; height: number }) => new TsDecoder(size) },
];

// A good keyframe (the whole 64x64 screen one colour) and a good delta (a fresh
// raw-deflate stream, valid after any sync-flushed update).
const GOOD_KEY = { stream: deflate(op(0, 0, 0, 64, 64, [10, 20, 30])), opCount: 1, keyframe: true };
const GOOD_DELTA = { stream: deflate(op(0, 8, 8, 8, 8, [40, 50, 60])), opCount: 1, keyframe: false };

t.test('hand-built bad updates are rejected with stable codes; then only a keyframe is accepted', async (t) => {
  const cases: Array<[string, Uint8Array, number, string]> = [
    ['unknown op', deflate(op(9, 0, 0, 1, 1)), 1, ErrorCodes.PROTOCOL],
    ['rect past the right edge', deflate(op(0, 60, 0, 5, 1, [1, 2, 3])), 1, ErrorCodes.PROTOCOL],
    ['rect past the bottom', deflate(op(0, 0, 63, 1, 2, [1, 2, 3])), 1, ErrorCodes.PROTOCOL],
    ['empty rect', deflate(op(0, 0, 0, 0, 0, [1, 2, 3])), 1, ErrorCodes.PROTOCOL],
    ['copy from outside', deflate(op(3, 0, 0, 8, 8, [60, 0, 0, 0])), 1, ErrorCodes.PROTOCOL],
    ['palette index past palette', deflate(op(1, 0, 0, 2, 1, [2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x30])), 1, ErrorCodes.PROTOCOL],
    ['one-colour palette', deflate(op(1, 0, 0, 2, 1, [0, 1, 2, 3, 0])), 1, ErrorCodes.PROTOCOL],
    ['predicted pixels cut short', deflate(op(7, 0, 0, 2, 2, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])), 1, ErrorCodes.TRUNCATED],
    ['ops missing', deflate(op(0, 0, 0, 1, 1, [1, 2, 3])), 2, ErrorCodes.TRUNCATED],
    ['extra data after the ops', deflate(op(0, 0, 0, 1, 1, [1, 2, 3, 4])), 1, ErrorCodes.PROTOCOL],
    ['not deflate at all', Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff]), 1, ErrorCodes.CORRUPT_STREAM],
    ['empty stream', new Uint8Array(0), 1, ErrorCodes.TRUNCATED],
    ['absurd op count', deflate(op(0, 0, 0, 1, 1, [1, 2, 3])), 0xffffffff, ErrorCodes.TOO_LARGE],
    ['op count one over the limit', deflate(op(0, 0, 0, 1, 1, [1, 2, 3])), maxOps(64, 64) + 1, ErrorCodes.TOO_LARGE],
    ['area beyond 4 screens', deflate(...Array.from({ length: 5 }, () => op(0, 0, 0, 64, 64, [1, 2, 3]))), 5, ErrorCodes.TOO_LARGE],
    // A final block (BFINAL=1) would end the session's stream: every later update would fail.
    ['final deflate block', zlib.deflateRawSync(op(0, 0, 0, 1, 1, [1, 2, 3])), 1, ErrorCodes.CORRUPT_STREAM],
    ['final block after the ops', Buffer.concat([deflate(op(0, 0, 0, 1, 1, [1, 2, 3])), Uint8Array.from([0x03, 0x00])]), 1, ErrorCodes.CORRUPT_STREAM],
  ];
  const keyColour = Uint8Array.from([10, 20, 30, 255]);
  for (const { name: decoder, make } of DECODERS) {
    for (const [name, stream, opCount, code] of cases) {
      for (const asKeyframe of [true, false]) {
        const what = `${decoder}: ${name} (${asKeyframe ? 'keyframe' : 'delta'})`;
        const dec = make({ width: 64, height: 64 });
        if (!asKeyframe) await dec.apply(GOOD_KEY);
        await t.rejects(dec.apply({ stream, opCount, keyframe: asKeyframe }), { code }, what);
        // Every rejection leaves the decoder waiting for a keyframe...
        await t.rejects(dec.apply(GOOD_DELTA), { code: ErrorCodes.STREAM_DESYNC }, `${what}: then a delta is refused`);
        await t.rejects(dec.apply(GOOD_DELTA), { code: ErrorCodes.STREAM_DESYNC }, `${what}: and the next one too`);
        // ...and a keyframe recovers it exactly.
        await dec.apply(GOOD_KEY);
        let wrong = -1;
        for (let i = 0; i < 64 * 64 && wrong < 0; i++) if (dec.framebuffer[i * 4] !== 10 || dec.framebuffer[i * 4 + 1] !== 20 || dec.framebuffer[i * 4 + 2] !== 30 || dec.framebuffer[i * 4 + 3] !== 255) wrong = i;
        t.equal(wrong, -1, `${what}: a keyframe recovers (${Array.from(keyColour).join(',')} everywhere)`);
        await dec.apply(GOOD_DELTA);
      }
    }
  }
});

t.test('a decompression bomb costs no memory: reading stops at what the ops declare', async (t) => {
  // 1x1 truecolour op followed by 200 MB of zeros compressed to ~200 KB.
  const bomb = zlib.deflateRawSync(Buffer.concat([op(2, 0, 0, 1, 1, [1, 2, 3]), Buffer.alloc(200 * 1024 * 1024)]), {
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  });
  const before = process.memoryUsage().rss;
  const dec = new TileDecoder({ width: 64, height: 64 });
  await t.rejects(dec.apply({ stream: bomb, opCount: 1, keyframe: true }), { code: ErrorCodes.PROTOCOL });
  t.ok(process.memoryUsage().rss - before < 64 * 1024 * 1024, 'no large allocation');
});

t.test('a 4 GiB deflate bomb: both decoders give the same code, the TS decoder stops inflating at its limit', async (t) => {
  // A 1x1 truecolour op, then 16 MiB of zeros deflated once and repeated: sync-flushed
  // pieces of raw deflate concatenate into one valid stream (~4 MiB in, ~4 GiB out).
  const head = deflate(op(2, 0, 0, 1, 1, [1, 2, 3]));
  const zeros = zlib.deflateRawSync(Buffer.alloc(16 * 1024 * 1024), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const bomb = Buffer.concat([head, ...Array<Buffer>(256).fill(zeros)]);
  t.ok(bomb.length < 5 * 1024 * 1024, `${(bomb.length / 1048576).toFixed(1)} MiB of stream`);
  for (const { name: decoder, make } of DECODERS) {
    const dec = make({ width: 64, height: 64 });
    await t.rejects(dec.apply({ stream: bomb, opCount: 1, keyframe: true }), { code: ErrorCodes.PROTOCOL }, `${decoder}: more data than the ops use`);
  }
  // What the pure-TS decoder inflated before giving up: at most its limit plus one inflate chunk.
  const ts = new TsDecoder({ width: 64, height: 64 });
  await t.rejects(ts.apply({ stream: bomb, opCount: 1, keyframe: true }), { code: ErrorCodes.PROTOCOL });
  const cap = maxInflatedBytes(64, 64, 1) + INFLATE_CHUNK_BYTES;
  t.ok(ts.dec.inflatedBytes > maxInflatedBytes(64, 64, 1), `went past the limit (${ts.dec.inflatedBytes} bytes)`);
  t.ok(ts.dec.inflatedBytes <= cap, `inflated ${ts.dec.inflatedBytes} bytes, cap ${cap}`);
  // The same on a full-HD screen, where the limit is what a worst-case update could need.
  const hd = new TsDecoder({ width: 1920, height: 1080 });
  await t.rejects(hd.apply({ stream: bomb, opCount: 1, keyframe: true }), { code: ErrorCodes.PROTOCOL });
  t.ok(hd.dec.inflatedBytes <= maxInflatedBytes(1920, 1080, 1) + INFLATE_CHUNK_BYTES, `full HD: inflated ${hd.dec.inflatedBytes} bytes`);
  // A well-formed update reports exactly what it inflated.
  const good = deflate(op(2, 0, 0, 2, 1, [1, 2, 3, 4, 5, 6]));
  await ts.apply({ stream: good, opCount: 1, keyframe: true });
  t.equal(ts.dec.inflatedBytes, 9 + 6);
});

for (const { name: decoder, make } of DECODERS) t.test(`${decoder}: random corruption never crashes; a keyframe recovers exactly`, async (t) => {
  const f = loadScene('desktop');
  const enc = new TileEncoder();
  const good = await enc.encode(f, [{ x: 0, y: 0, w: 640, h: 360 }], { keyframe: true });
  const dec = make({ width: f.width, height: f.height });
  const random = rng(99);
  let rejected = 0;
  for (let i = 0; i < 300; i++) {
    const bad = Buffer.from(good.stream);
    for (let k = 0; k < 1 + ((random() * 4) | 0); k++) {
      const at = (random() * bad.length) | 0;
      bad[at] = bad[at]! ^ (1 + ((random() * 255) | 0));
    }
    const cut = random() < 0.3 ? bad.subarray(0, (random() * bad.length) | 0) : bad;
    try {
      await dec.apply({ stream: cut, opCount: good.opCount, keyframe: true });
    } catch (err) {
      rejected++;
      t.ok(typeof (err as { code?: string }).code === 'string' && (err as { code: string }).code.startsWith('ERR_'));
    }
  }
  t.ok(rejected > 0, `${rejected}/300 corruptions detected`);
  // After a failure, non-keyframes are refused...
  await t.rejects(dec.apply({ stream: Uint8Array.from([0xff, 0xff]), opCount: 1, keyframe: true }), { code: ErrorCodes.CORRUPT_STREAM });
  await t.rejects(dec.apply({ stream: good.stream, opCount: good.opCount, keyframe: false }), { code: ErrorCodes.STREAM_DESYNC });
  // ...until a keyframe arrives.
  await dec.apply({ stream: good.stream, opCount: good.opCount, keyframe: true });
  const want = expectedFramebuffer(f);
  for (let y = 0; y < 360; y++) {
    const row = dec.framebuffer.subarray(y * f.width * 4, (y * f.width + 640) * 4);
    if (firstDifference(row, want.subarray(y * f.width * 4, (y * f.width + 640) * 4), 640)) t.fail(`row ${y} differs`);
  }
});

t.test('decoder arguments are validated', async (t) => {
  t.throws(() => new TileDecoder({ width: 0, height: 1 }), { code: ErrorCodes.INVALID_ARG });
  const dec = new TileDecoder({ width: 8, height: 8 });
  await t.rejects(dec.apply({ stream: 'abc' as unknown as Uint8Array, opCount: 0, keyframe: true }), { code: ErrorCodes.INVALID_ARG });
  await t.rejects(dec.apply({ stream: new Uint8Array(1), opCount: -1, keyframe: true }), { code: ErrorCodes.INVALID_ARG });
});
