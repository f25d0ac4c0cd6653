// Content cache across the three implementations: the native encoder's mirror
// (ViewerEncoder), the native decoder and the browser's TS decoder get the same
// long random sequence of window raises, edits, scrolled-back content and
// keyframes. After every update both framebuffers must equal the screen byte
// for byte and both caches must hold the same entries (count, bytes, next id)
// within the budget; hits, misses and evictions all happen. Bad references are
// refused by both decoders with the same code and message. Seeded: reproducible.
import t, { Test } from 'tap';
import { CACHE_MAX_BUDGET, ContentCache } from '../../../src/codec/contentCache';
import { OpStreamDecoder } from '../../../src/codec/opStreamDecoder';
import { TileDecoder } from '../../../src/codec/tileDecoder';
import { TileEncoder } from '../../../src/codec/tileEncoder';
import { codingBufferStats, trimCodingBuffers } from '../../../src/native/binding';
import { loadScene } from '../../../src/source/sceneSource';
import { ErrorCodes, TilecastError } from '../../../src/errors';
import { Capability, agreedCacheBytes, cacheBytesOf, cacheCapability } from '../../../src/protocol/constants';
import { rng } from '../../helpers';
import { deflateRawSync, constants as zlib } from 'node:zlib';

const W = 320, H = 192, TILE = 64;

/** Seeded u32s. */
function ints(seed: number): () => number {
  const r = rng(seed);
  return () => Math.floor(r() * 4294967296);
}

function frameOf(data: Buffer) {
  return { width: W, height: H, stride: W * 4, data };
}

/** Text-like content: light background, dark strokes; `busy` adds many colours (TRUECOLOR tiles). */
function screenLike(next: () => number, busy: boolean): Buffer {
  const b = Buffer.alloc(W * H * 4);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const o = (y * W + x) * 4;
      let v = 0xff;
      if (y % 16 > 3 && y % 16 < 13 && x % 9 < 6 && next() % 3 === 0) v = (next() % 4) * 40;
      b[o] = v; b[o + 1] = busy ? next() & 0xff : v; b[o + 2] = v; b[o + 3] = 0xff;
    }
  }
  return b;
}

/** An encoder (the host's mirror) and both decoders, each with a cache of `budget` bytes. */
function threeSides(budget: number) {
  const enc = new TileEncoder({ trackSent: true, tileSize: TILE, threads: 2 });
  enc.setCacheBudget(budget);
  const native = new TileDecoder({ width: W, height: H });
  native.setCacheBudget(budget);
  const ts = new OpStreamDecoder('bgra');
  ts.setCacheBudget(budget);
  return { enc, native, ts, tsFb: new Uint8Array(W * H * 4) };
}

t.test('mirror, native decoder and TS decoder agree over 3000 random updates', async (t) => {
  const next = ints(23);
  const windows = [screenLike(next, false), screenLike(next, true), screenLike(next, false)];
  let screen = Buffer.from(windows[0]!);
  const budget = 24 * TILE * TILE * 4; // 24 tiles; the three windows have 45
  const { enc, native, ts, tsFb } = threeSides(budget);
  let hits = 0, evicted = 0, keyframes = 0;
  for (let i = 0; i < 3000; i++) {
    const kind = next() % 60 === 0 ? 9 : next() % 9;
    let keyframe = i === 0;
    if (kind < 5) {
      screen = Buffer.from(windows[next() % 3]!);
    } else if (kind < 9) {
      const target = kind < 7 ? windows[next() % 3]! : screen;
      const x = next() % W, y = next() % H, w = 1 + (next() % (W - x)), h = 1 + (next() % Math.min(40, H - y));
      const c = next();
      for (let r = y; r < y + h; r++) for (let q = x; q < x + w; q++) target.writeUIntLE(c & 0xffffff, (r * W + q) * 4, 3);
      if (kind >= 7) windows[next() % 3]!.copy(screen, 64 * W * 4, 64 * W * 4, 128 * W * 4); // content scrolled back
    } else {
      keyframe = true;
      keyframes++;
    }
    const e = enc.encodeSync(frameOf(screen), [{ x: 0, y: 0, w: W, h: H }], { keyframe, detectMoves: next() % 2 === 0, predicted: next() % 2 === 0, cacheRuns: next() % 2 === 0 });
    const before = native.cache;
    const n = native.applySync(e);
    const r = ts.apply(tsFb, W, H, e.stream, e.opCount, e.keyframe);
    hits += e.stats.ops.cacheRef;
    const after = native.cache;
    if (!e.keyframe) evicted += before.entries + (after.nextId - before.nextId) - after.entries;
    const fbOk = native.framebuffer.equals(screen) && Buffer.from(tsFb.buffer).equals(screen);
    const cacheOk = after.entries === ts.cache.size && after.usedBytes === ts.cache.usedBytes && after.nextId === ts.cache.nextEntryId && after.usedBytes <= budget;
    const opsOk = JSON.stringify(r.ops) === JSON.stringify(n.ops);
    if (!fbOk || !cacheOk || !opsOk) {
      t.fail(`update ${i}: framebuffers exact ${fbOk}, caches agree ${cacheOk}, same ops ${opsOk}`, { native: after, ts: { entries: ts.cache.size, used: ts.cache.usedBytes, next: ts.cache.nextEntryId } });
      return;
    }
  }
  t.pass(`3000 updates exact on both decoders, caches identical: ${hits} hits, ${evicted} evictions, ${keyframes} keyframes`);
  t.ok(hits > 1000, 'many hits');
  t.ok(evicted > 100, 'many evictions');
  // The sent frame (4 bytes a pixel), its lossy mask (1 byte a pixel, while anything is lossy), and cache entries
  // plus the buffers kept for reuse within the budget (the coding buffers are the process's pool's).
  const held = enc.memoryBytes;
  t.ok(held <= budget + W * H * 5 + 65536, `the encoder holds the sent frame and at most the budget of cache (${held} bytes, budget ${budget})`);
});

/** A keyframe update of raw ops (deflated as the host's stream would be). */
function rawUpdate(ops: Buffer, opCount: number) {
  return { stream: deflateRawSync(ops, { finishFlush: zlib.Z_SYNC_FLUSH }), opCount, keyframe: true, images: new Uint8Array(0) };
}
function truecolorOp(x: number, y: number, w: number, h: number, next: () => number): Buffer {
  const b = Buffer.alloc(9 + w * h * 3);
  b[0] = 2; b.writeUInt16LE(x, 1); b.writeUInt16LE(y, 3); b.writeUInt16LE(w, 5); b.writeUInt16LE(h, 7);
  for (let i = 9; i < b.length; i++) b[i] = next() & 0xff;
  return b;
}
function cacheRun(x: number, y: number, w: number, h: number, first: number, count: number): Buffer {
  const b = Buffer.alloc(15);
  b[0] = 8; b.writeUInt16LE(x, 1); b.writeUInt16LE(y, 3); b.writeUInt16LE(w, 5); b.writeUInt16LE(h, 7); b.writeUInt32LE(first, 9); b.writeUInt16LE(count, 13);
  return b;
}
function cacheRef(x: number, y: number, w: number, h: number, id: number): Buffer {
  const b = Buffer.alloc(13);
  b[0] = 5; b.writeUInt16LE(x, 1); b.writeUInt16LE(y, 3); b.writeUInt16LE(w, 5); b.writeUInt16LE(h, 7); b.writeUInt32LE(id, 9);
  return b;
}

/** Both decoders refused the same thing with ERR_PROTOCOL and the same message, and emptied their caches. */
function bothRefused(t: Test, what: string, message: RegExp, native: TileDecoder, nativeRun: () => unknown, ts: OpStreamDecoder, tsRun: () => unknown): void {
  const caught = (run: () => unknown) => { try { run(); } catch (e) { return e as TilecastError; } return undefined; };
  const nErr = caught(nativeRun), tErr = caught(tsRun);
  t.equal(nErr?.code, ErrorCodes.PROTOCOL, `${what}: native refuses (${nErr?.message})`);
  t.equal(tErr?.code, ErrorCodes.PROTOCOL, `${what}: TS refuses (${tErr?.message})`);
  t.match(nErr?.message, message);
  t.match(tErr?.message, message);
  t.equal(native.cache.entries, 0, `${what}: native cache emptied`);
  t.equal(ts.cache.size, 0, `${what}: TS cache emptied`);
}

t.test('viewers of one screen hold their mirrors\' pixels once, each counting its share', async (t) => {
  const frame = loadScene('editor');
  const whole = [{ x: 0, y: 0, w: frame.width, h: frame.height }];
  const opts = { keyframe: true, paletteDiff: true, predicted: true };
  trimCodingBuffers();
  const plain = new TileEncoder({ threads: 1, trackSent: true });
  plain.encodeSync(frame, whole, opts);
  const own = plain.memoryBytes;  // the sent frame and its flags: what a viewer holds besides its mirror
  const start = codingBufferStats().cacheBytes;
  const mappedAtStart = codingBufferStats().cacheMappedBytes;
  const a = new TileEncoder({ threads: 1, trackSent: true });
  a.setCacheBudget(64 << 20);
  const first = a.encodeSync(frame, whole, opts);
  const mirror = codingBufferStats().cacheBytes - start;
  t.ok(mirror > 1 << 20, `the first viewer's mirror holds ${mirror} bytes of pixels`);
  t.equal(a.memoryBytes - own, mirror, 'all of them its own');
  const b = new TileEncoder({ threads: 1, trackSent: true });
  b.setCacheBudget(64 << 20);
  const second = b.encodeSync(frame, whole, opts);
  t.same(Buffer.from(second.stream), Buffer.from(first.stream), 'the same keyframe bytes');
  t.equal(codingBufferStats().cacheBytes - start, mirror, 'a second viewer with the same contents adds no pixels');
  t.ok(Math.abs(b.memoryBytes - own - mirror / 2) <= 1, `the second viewer counts half of them (${b.memoryBytes - own})`);
  b.release();
  a.release();
  t.equal(codingBufferStats().cacheBytes, start, 'both gone: the pixels are freed');
  // Their memory (CacheSlab's chunks) is kept for the next keyframe, at most 16 MiB, and trimmed back.
  const kept = codingBufferStats();
  t.ok(kept.cacheMappedBytes >= mirror && kept.cacheMappedBytes - mappedAtStart <= 16 << 20 && kept.cacheSpareBytes >= mirror,
    `emptied chunks kept for reuse: ${kept.cacheSpareBytes} spare of ${kept.cacheMappedBytes} mapped`);
  trimCodingBuffers();
  t.equal(codingBufferStats().cacheSpareBytes, 0, 'trimmed: no spare chunk left');
  t.ok(codingBufferStats().cacheMappedBytes <= mappedAtStart, 'and the mapped memory is back where it started');
});

t.test('bad references: both decoders refuse them with the same clear error, and empty their cache', async (t) => {
  const next = ints(5);
  const tile = truecolorOp(0, 0, 64, 64, next);
  const cases: Array<[string, number, Buffer, number, RegExp]> = [
    ['no cache negotiated', 0, Buffer.concat([tile, cacheRef(0, 0, 64, 64, 0)]), 2, /without a content cache/],
    ['missing entry', 1 << 20, Buffer.concat([tile, cacheRef(0, 0, 64, 64, 7)]), 2, /entry 7, which the cache does not hold \(next id 1\)/],
    ['empty cache', 1 << 20, cacheRef(0, 0, 64, 64, 0), 1, /does not hold/],
    ['wrong size', 1 << 20, Buffer.concat([tile, cacheRef(0, 0, 64, 32, 0)]), 2, /entry 0 of 64x64 for a 64x32 rect/],
    ['outside', 1 << 20, Buffer.concat([tile, cacheRef(16, 0, 64, 64, 0)]), 2, /outside the framebuffer/],
    ['evicted', 64 * 64 * 4, Buffer.concat([tile, truecolorOp(0, 0, 64, 64, next), cacheRef(0, 0, 64, 64, 0)]), 3, /entry 0, which the cache does not hold/],
    ['run without a cache', 0, Buffer.concat([tile, cacheRun(0, 0, 64, 64, 0, 1)]), 2, /CACHE_RUN without a content cache/],
    ['run of 0 entries', 1 << 20, Buffer.concat([tile, cacheRun(0, 0, 64, 64, 0, 0)]), 2, /CACHE_RUN of 0 entries/],
    ['run past the cache', 1 << 20, Buffer.concat([tile, cacheRun(0, 0, 64, 64, 1, 1)]), 2, /CACHE_RUN entry 1, which the cache does not hold \(next id 1\)/],
    ['run wider than its rect', 1 << 20, Buffer.concat([tile, cacheRun(0, 0, 32, 64, 0, 1)]), 2, /CACHE_RUN entry 0 of 64x64 does not fit the 32x64 rect at x 0/],
    ['run short of its rect', 1 << 20, Buffer.concat([truecolorOp(0, 0, 32, 64, next), cacheRun(0, 0, 64, 64, 0, 1)]), 2, /CACHE_RUN of 1 entries covers 32 of its 64 columns/],
  ];
  for (const [what, budget, ops, count, message] of cases) {
    const u = rawUpdate(ops, count);
    const native = new TileDecoder({ width: 64, height: 64 });
    native.setCacheBudget(budget);
    const ts = new OpStreamDecoder('bgra');
    ts.setCacheBudget(budget);
    bothRefused(t, what, message, native, () => native.applySync(u), ts, () => ts.apply(new Uint8Array(64 * 64 * 4), 64, 64, u.stream, u.opCount, true));
  }
  // The good reference draws the entry back; the next keyframe empties the cache.
  const ok = rawUpdate(Buffer.concat([tile, cacheRef(0, 0, 64, 64, 0)]), 2);
  const native = new TileDecoder({ width: 64, height: 64 });
  native.setCacheBudget(1 << 20);
  t.same(native.applySync(ok).ops.cacheRef, 1);
  t.equal(native.cache.entries, 1);
  t.ok(native.framebuffer.subarray(0, 4).equals(Buffer.from([tile[9]!, tile[10]!, tile[11]!, 255])), 'drawn from the entry');
});

t.test('a keyframe empties the cache on both decoders', async (t) => {
  const next = ints(6);
  const tile = truecolorOp(0, 0, 64, 64, next);
  const native = new TileDecoder({ width: 64, height: 64 });
  native.setCacheBudget(1 << 20);
  const ts = new OpStreamDecoder('bgra');
  ts.setCacheBudget(1 << 20);
  const fb = new Uint8Array(64 * 64 * 4);
  const first = rawUpdate(tile, 1);
  native.applySync(first);
  ts.apply(fb, 64, 64, first.stream, 1, true);
  t.equal(native.cache.entries, 1);
  t.equal(ts.cache.size, 1);
  const ref = rawUpdate(cacheRef(0, 0, 64, 64, 0), 1); // a keyframe: the reference is to an emptied cache
  t.throws(() => native.applySync(ref), { code: ErrorCodes.PROTOCOL });
  t.throws(() => ts.apply(fb, 64, 64, ref.stream, 1, true), { code: ErrorCodes.PROTOCOL });
});

t.test('resume after cuts with updates in flight: mirror, native decoder and TS decoder keep the same entries and go on agreeing', async (t) => {
  const next = ints(41);
  const windows = [screenLike(next, false), screenLike(next, true), screenLike(next, false)];
  let screen = Buffer.from(windows[0]!);
  const budget = 24 * TILE * TILE * 4;
  const sides = threeSides(budget);
  const { native, ts, tsFb } = sides;
  let enc = sides.enc;
  let resumes = 0, lost = 0, keptEntries = 0, resumedHits = 0, keyframe = true;
  for (let i = 0; i < 1500; i++) {
    if (i > 0 && next() % 30 === 0) {
      // The cut: a few updates the viewer never applies, then a new connection that resumes.
      for (let n = next() % 4; n > 0; n--, lost++) enc.encodeSync(frameOf(windows[next() % 3]!), [{ x: 0, y: 0, w: W, h: H }]);
      const parked = enc.takeCache()!;
      t.ok(parked, 'a mirror to park');
      const budget2 = next() % 3 === 0 ? budget / 2 : budget;
      enc = new TileEncoder({ trackSent: true, tileSize: TILE, threads: 2 });
      enc.setCacheBudget(budget2);
      t.equal(native.cache.nextId, ts.cache.nextEntryId);
      const keep = enc.resumeCache(parked, native.cache.nextId);
      if (!keep) return t.fail(`update ${i}: the mirror did not resume`);
      native.keepCache(budget2, keep.nextId, keep.ranges);
      ts.keepCache(budget2, keep.nextId, keep.ranges);
      t.throws(() => enc.resumeCache(parked, 0), { code: ErrorCodes.INVALID_ARG }, 'a parked cache resumes once');
      keptEntries += native.cache.entries;
      resumes++;
      keyframe = true;
    }
    const kind = next() % 9;
    if (kind < 5) screen = Buffer.from(windows[next() % 3]!);
    else {
      const target = kind < 7 ? windows[next() % 3]! : screen;
      const x = next() % W, y = next() % H, w = 1 + (next() % (W - x)), h = 1 + (next() % Math.min(40, H - y));
      const c = next();
      for (let r = y; r < y + h; r++) for (let q = x; q < x + w; q++) target.writeUIntLE(c & 0xffffff, (r * W + q) * 4, 3);
    }
    const e = enc.encodeSync(frameOf(screen), [{ x: 0, y: 0, w: W, h: H }], { keyframe, cacheRuns: true });
    if (keyframe && i > 0) resumedHits += e.stats.ops.cacheRef;
    keyframe = false;
    native.applySync(e);
    ts.apply(tsFb, W, H, e.stream, e.opCount, e.keyframe);
    const c = native.cache;
    const ok = native.framebuffer.equals(screen) && Buffer.from(tsFb.buffer).equals(screen)
      && c.entries === ts.cache.size && c.usedBytes === ts.cache.usedBytes && c.nextId === ts.cache.nextEntryId;
    if (!ok) return t.fail(`update ${i}: framebuffers or caches differ`, { native: c, ts: { entries: ts.cache.size, used: ts.cache.usedBytes, next: ts.cache.nextEntryId } });
  }
  t.pass(`${resumes} resumes (${lost} updates lost in flight): ${keptEntries} entries kept, ${resumedHits} references in the keyframes after them; every update exact on both decoders`);
  t.ok(resumes > 30 && resumedHits > resumes, 'the keyframes after a resume drew from the kept cache');
});

t.test('CACHE_KEEP naming what the cache does not hold: both decoders refuse it with the same error and empty their cache', async (t) => {
  const next = ints(8);
  const tiles = Buffer.concat([0, 1, 2, 3].map((i) => truecolorOp(i * 64, 0, 64, 64, next)));
  for (const [what, budget, nextId, ranges, message] of [
    ['not held', 1 << 20, 9, [5, 1], /names cache entry 5, which this cache does not hold/],
    ['more than held', 1 << 20, 0xffffffff, [0, 0xfffffff0], /names more entries than this cache holds \(4\)/],
    ['over the budget', 64 * 64 * 4, 4, [0, 2], /over the cache size/],
    ['an empty range', 1 << 20, 4, [1, 0], /range 0 is empty/],
  ] as const) {
    const native = new TileDecoder({ width: 256, height: 64 });
    native.setCacheBudget(1 << 20);
    const ts = new OpStreamDecoder('bgra');
    ts.setCacheBudget(1 << 20);
    const u = rawUpdate(tiles, 4);
    native.applySync(u);
    ts.apply(new Uint8Array(256 * 64 * 4), 256, 64, u.stream, 4, true);
    bothRefused(t, what, message, native, () => native.keepCache(budget, nextId, Uint32Array.from(ranges)), ts, () => ts.keepCache(budget, nextId, Uint32Array.from(ranges)));
  }
});

t.test('HELLO size field: offers, agreement and limits', async (t) => {
  t.equal(cacheCapability(0), 0, 'no cache: no bits');
  t.equal(cacheCapability((1 << 20) - 1), 0, 'under 1 MiB: none');
  t.equal(cacheBytesOf(cacheCapability(64 << 20)), 64 << 20);
  t.equal(cacheBytesOf(cacheCapability(100 << 20)), 64 << 20, 'rounded down to a power of two MiB');
  t.equal(cacheBytesOf(Capability.COPY_RECT | (6 << 8)), 0, 'size bits without CACHE mean nothing');
  t.equal(agreedCacheBytes(32 << 20, cacheCapability(128 << 20)), 32 << 20, 'the smaller side wins');
  t.equal(agreedCacheBytes(128 << 20, cacheCapability(32 << 20)), 32 << 20);
  t.equal(agreedCacheBytes(64 << 20, Capability.JPEG), 0, 'a peer without CACHE: none');
  const c = new ContentCache();
  c.setBudget(2 ** 40);
  t.equal(c.budget, CACHE_MAX_BUDGET, 'a decoder caps what it is told');
});
