#!/usr/bin/env node
// Micro-benchmarks of the core engine (benchmark.js). Every figure is reported
// next to a baseline measured in the same run, as a ratio; nothing is asserted.
//
//   node bench/micro.js [--quick]
//
// 1. Change detection of an unchanged 1080p frame, cold (32 frames rotated so
//    each comes from memory), vs memcmp (Buffer.compare) of the same bytes.
// 2. Lossless keyframe of full 1080p text/UI screens (the embedded scenes and
//    the first frame of each recorded workload) on one core: time, and bytes vs
//    per-frame deflate level 1 of the raw BGRA, sharp PNG level 1, and lossless
//    PNG level 9 (the smaller of adaptive filtering off and on). Beside them,
//    sharp's `compressionLevel 9, effort 10` PNG, which is NOT lossless: effort
//    turns on libimagequant's 256-colour palette, so its PSNR is shown.
// 3. A small update (typing: 1-4 tiles) encode + UPDATE framing.
// 4. Lossy encode of a full 1080p photographic frame on one core (every tile
//    allowed to go lossy): Mpixel/s, vs sharp's JPEG of the same frame and
//    tilecast's lossless coding of it.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const Benchmark = require('benchmark');
const sharp = require('sharp');
const { ChangeDetector, TileEncoder, simdLevel, protocol } = require('tilecast');
const { loadScene, ReplaySource } = require('tilecast/testing');
const { photoFrame } = require('./lib/photo');
const { measurePairs } = require('./lib/ffmpegQuality');
const { OUT: RECORDINGS, WORKLOADS } = require('./workloads/record');

const quick = process.argv.includes('--quick');
const benchOptions = quick ? { maxTime: 0.3, minSamples: 5 } : { maxTime: 3, minSamples: 20 };
const results = { date: new Date().toISOString(), quick, simd: simdLevel(), node: process.version, sections: {} };

function runSuite(name, cases) {
  return new Promise((resolve) => {
    const suite = new Benchmark.Suite(name);
    for (const c of cases) suite.add(c.name, c.fn, { ...benchOptions, defer: !!c.defer });
    const out = {};
    suite.on('cycle', (e) => {
      const b = e.target;
      // The median sample beside the mean: on a shared machine a neighbour's burst drags the mean
      // of a whole case (the same run's deflate-1 yardstick then moves as much).
      const sorted = [...b.stats.sample].sort((x, y) => x - y);
      out[b.name] = { ms: b.stats.mean * 1000, medianMs: sorted[sorted.length >> 1] * 1000, rme: b.stats.rme, samples: b.stats.sample.length };
    });
    suite.on('complete', () => resolve(out));
    suite.run({ async: true });
  });
}

const fmt = (v, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : String(v));

async function benchDetection() {
  const scene = loadScene('editor');
  const ROTATE = 32; // 32 x 8 MB: far more than any cache, so every frame comes from memory
  const frames = Array.from({ length: ROTATE }, () => Buffer.from(scene.data));
  const reference = Buffer.from(scene.data);
  const detector = new ChangeDetector({ width: scene.width, height: scene.height });
  detector.detectSync({ ...scene, data: reference });
  let i = 0, j = 0;
  const r = await runSuite('detect', [
    { name: 'memcmp (Buffer.compare) vs reference', fn: () => { if (Buffer.compare(frames[i++ % ROTATE], reference) !== 0) throw new Error('differs'); } },
    { name: 'ChangeDetector.detectSync, unchanged', fn: () => { if (detector.detectSync({ ...scene, data: frames[j++ % ROTATE] }).length) throw new Error('dirty'); } },
  ]);
  const base = r['memcmp (Buffer.compare) vs reference'].ms;
  const ours = r['ChangeDetector.detectSync, unchanged'].ms;
  results.sections.detection = { memcmpMs: base, detectMs: ours, ratio: ours / base, target: '<= 1.3' };
  console.log(`\n## Change detection, unchanged 1920x1080, cold (SIMD ${simdLevel()})`);
  console.log(`memcmp ${fmt(base, 3)} ms | detect ${fmt(ours, 3)} ms | ratio ${fmt(ours / base)} (target <= 1.3)`);
}

/** sharp's PNG of a BGRA frame (alpha dropped) with these options. */
function png(frame, options) {
  const rgba = Buffer.from(frame.data);
  for (let k = 0; k < rgba.length; k += 4) { const b = rgba[k]; rgba[k] = rgba[k + 2]; rgba[k + 2] = b; }
  return sharp(rgba, { raw: { width: frame.width, height: frame.height, channels: 4 } }).removeAlpha().png(options).toBuffer();
}

/** The PNG baselines of one frame: level 1, lossless level 9 (best filter choice), and effort 10 (quantized) with its PSNR. */
async function pngBaselines(frame) {
  const png1 = (await png(frame, { compressionLevel: 1 })).length;
  const png9 = Math.min(...await Promise.all([false, true].map(async (adaptiveFiltering) => (await png(frame, { compressionLevel: 9, adaptiveFiltering })).length)));
  const quantized = await png(frame, { compressionLevel: 9, effort: 10 });
  const shown = await sharp(quantized).ensureAlpha().raw().toBuffer();
  for (let k = 0; k < shown.length; k += 4) { const r = shown[k]; shown[k] = shown[k + 2]; shown[k + 2] = r; }
  const [{ psnr }] = await measurePairs(frame.width, frame.height, [[shown, frame.data]]);
  return { png1, png9, effort10: quantized.length, effort10Psnr: psnr };
}

/** The scenes, then the first frame of each recorded workload there is (bench/workloads/recordings). */
async function keyframeSubjects() {
  if (quick) return [['editor', loadScene('editor')]];
  const out = ['editor', 'document', 'japanese', 'desktop'].map((n) => [n, loadScene(n)]);
  for (const name of WORKLOADS) {
    const file = path.join(RECORDINGS, `${name}.mkv`);
    if (!fs.existsSync(file)) continue;
    const src = new ReplaySource(file);
    const f = await src.nextFrame();
    src.close();
    if (f) out.push([`${name} (first frame)`, { ...f, data: Buffer.from(f.data) }]);
  }
  return out;
}

async function benchFullScreen() {
  console.log('\n## Lossless keyframe of a full 1920x1080 screen, one core');
  console.log('| screen | ops | encode ms, mean / median | bytes | vs deflate-1 BGRA | vs PNG level 1 | vs lossless PNG level 9 | deflate-1 ms, mean / median | PNG effort 10 (quantized): bytes, PSNR |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  const rows = [];
  for (const [name, frame] of await keyframeSubjects()) {
    const rects = [{ x: 0, y: 0, w: frame.width, h: frame.height }];
    const deflate1 = zlib.deflateSync(frame.data, { level: 1 }).length;
    const { png1, png9, effort10, effort10Psnr } = await pngBaselines(frame);
    // Plain ops (older viewers), and PALETTE_DIFF and PREDICTED (what viewers that announce
    // COMPACT_UPDATE and PREDICTED get). A keyframe over 16 KiB of ops goes through tilecast's own
    // LZ coder whatever the level; smaller ones through zlib at level 9.
    for (const [level, paletteDiff] of [[6, false], [6, true]]) {
      const enc = new TileEncoder({ threads: 1, deflateLevel: level, trackSent: paletteDiff });
      const opts = { keyframe: true, ...(paletteDiff ? { paletteDiff, predicted: true } : {}) };
      const bytes = enc.encodeSync(frame, rects, opts).stream.length;
      const r = await runSuite(`full-${name}-${level}${paletteDiff ? '-pdiff' : ''}`, [
        { name: 'deflate level 1 of raw BGRA', fn: () => zlib.deflateSync(frame.data, { level: 1 }) },
        { name: 'tilecast encode', fn: () => enc.encodeSync(frame, rects, opts) },
      ]);
      const row = { scene: name, level, paletteDiff, predicted: paletteDiff, encodeMs: r['tilecast encode'].ms, encodeMedianMs: r['tilecast encode'].medianMs, encodeRme: r['tilecast encode'].rme, bytes, deflate1Bytes: deflate1, png1Bytes: png1, png9Bytes: png9,
        vsDeflate1: bytes / deflate1, vsPng1: bytes / png1, vsPng9: bytes / png9, deflate1Ms: r['deflate level 1 of raw BGRA'].ms, deflate1MedianMs: r['deflate level 1 of raw BGRA'].medianMs,
        pngEffort10Bytes: effort10, pngEffort10Psnr: effort10Psnr };
      rows.push(row);
      console.log(`| ${name} | ${paletteDiff ? 'PALETTE_DIFF + PREDICTED' : 'plain'} | ${fmt(row.encodeMs)} / ${fmt(row.encodeMedianMs)} | ${bytes} | ${fmt(row.vsDeflate1, 3)} | ${fmt(row.vsPng1, 3)} | ${fmt(row.vsPng9, 3)} | ${fmt(row.deflate1Ms)} / ${fmt(row.deflate1MedianMs)} | ${effort10}, ${fmt(effort10Psnr, 1)} dB |`);
    }
  }
  results.sections.fullScreen = { rows, targets: { encodeMs: '<= 15', vsPng9: '<= 1.0 (lossless PNG level 9)', vsDeflate1: '<= 0.5', vsPng1: '<= 0.35' } };
}

async function benchSmallUpdate() {
  const before = loadScene('editor');
  const after = loadScene('editor-typed');
  const frame = { ...after, data: Buffer.from(after.data) };
  // The typed comment sits in one tile row; take the first 1..4 dirty tiles of it.
  const det = new ChangeDetector({ width: before.width, height: before.height });
  det.detectSync(before);
  const dirty = det.detectSync(after);
  const enc = new TileEncoder();
  enc.encodeSync(before, [{ x: 0, y: 0, w: before.width, h: before.height }], { keyframe: true });
  console.log('\n## Small update (typing), encode + UPDATE framing');
  console.log('| tiles | bytes | tilecast ms | deflate-1 of the raw tile bytes ms | ratio |');
  console.log('|---|---|---|---|---|');
  const rows = [];
  for (const tiles of [1, 2, 4]) {
    const r0 = dirty[0];
    const rect = { x: r0.x, y: r0.y, w: Math.min(64 * tiles, before.width - r0.x), h: Math.min(64, r0.h) };
    const raw = Buffer.alloc(rect.w * rect.h * 4);
    for (let y = 0; y < rect.h; y++) frame.data.copy(raw, y * rect.w * 4, ((rect.y + y) * frame.width + rect.x) * 4, ((rect.y + y) * frame.width + rect.x + rect.w) * 4);
    let bytes = 0;
    let id = 1;
    const r = await runSuite(`small-${tiles}`, [
      { name: 'baseline', fn: () => zlib.deflateRawSync(raw, { level: 1 }) },
      {
        name: 'tilecast', defer: true, fn: (deferred) => {
          enc.encode(frame, [rect]).then((e) => {
            bytes = protocol.encodeMessage({ type: 'update', frameId: id++, captureTime: 0, keyframe: false, opCount: e.opCount, stream: e.stream }).length;
            deferred.resolve();
          });
        },
      },
    ]);
    const row = { tiles, bytes, ms: r.tilecast.ms, baselineMs: r.baseline.ms, ratio: r.tilecast.ms / r.baseline.ms };
    rows.push(row);
    console.log(`| ${tiles} | ${bytes} | ${fmt(row.ms, 3)} | ${fmt(row.baselineMs, 3)} | ${fmt(row.ratio)} |`);
  }
  results.sections.smallUpdate = { rows, target: '<= 0.3 ms' };
}

async function benchLossy() {
  const frame = photoFrame();
  const rects = [{ x: 0, y: 0, w: frame.width, h: frame.height }];
  const mask = new Uint8Array(Math.ceil(frame.width / 64) * Math.ceil(frame.height / 64)).fill(1);
  const rgba = Buffer.from(frame.data);
  for (let k = 0; k < rgba.length; k += 4) { const b = rgba[k]; rgba[k] = rgba[k + 2]; rgba[k + 2] = b; }
  const mpx = (frame.width * frame.height) / 1e6;
  console.log('\n## Lossy encode of a full 1920x1080 photographic frame, one core');
  console.log('| quality, subsampling | tilecast ms | Mpixel/s | bytes | sharp JPEG ms (same q) | sharp bytes | tilecast lossless ms | lossless bytes |');
  console.log('|---|---|---|---|---|---|---|---|');
  const rows = [];
  const enc = new TileEncoder({ threads: 1 });
  const lossless = enc.encodeSync(frame, rects, { keyframe: true }).stream.length;
  for (const [quality, subsampling, optimizeHuffman] of quick ? [[80, '420', false]] : [[80, '420', false], [80, '444', false], [50, '420', false], [80, '420', true], [50, '420', true]]) {
    const lossy = { mask, quality, subsampling, optimizeHuffman };
    const once = enc.encodeSync(frame, rects, { keyframe: true, lossy });
    const bytes = once.stream.length + once.images.length;
    const sharpBytes = (await sharp(rgba, { raw: { width: frame.width, height: frame.height, channels: 4 } }).jpeg({ quality, chromaSubsampling: subsampling === '420' ? '4:2:0' : '4:4:4' }).toBuffer()).length;
    const r = await runSuite(`lossy-${quality}-${subsampling}-${optimizeHuffman}`, [
      { name: 'tilecast lossy', fn: () => enc.encodeSync(frame, rects, { keyframe: true, lossy }) },
      {
        name: 'sharp jpeg', defer: true, fn: (d) => {
          sharp(rgba, { raw: { width: frame.width, height: frame.height, channels: 4 } }).jpeg({ quality, chromaSubsampling: subsampling === '420' ? '4:2:0' : '4:4:4' }).toBuffer().then(() => d.resolve());
        },
      },
      { name: 'tilecast lossless', fn: () => enc.encodeSync(frame, rects, { keyframe: true }) },
    ]);
    const row = { quality, subsampling, optimizeHuffman, ms: r['tilecast lossy'].ms, mpxPerS: mpx / (r['tilecast lossy'].ms / 1000), bytes, sharpMs: r['sharp jpeg'].ms, sharpBytes, losslessMs: r['tilecast lossless'].ms, losslessBytes: lossless };
    rows.push(row);
    console.log(`| ${quality}, ${subsampling}${optimizeHuffman ? ', optimised Huffman' : ''} | ${fmt(row.ms)} | ${fmt(row.mpxPerS, 0)} | ${bytes} | ${fmt(row.sharpMs)} | ${sharpBytes} | ${fmt(row.losslessMs)} | ${lossless} |`);
  }
  results.sections.lossy = { rows, target: '>= 200 Mpixel/s per core' };
}

async function main() {
  console.log(`# tilecast micro-benchmarks (${quick ? 'quick' : 'full'}), node ${process.version}, SIMD ${simdLevel()}`);
  await benchDetection();
  await benchFullScreen();
  await benchSmallUpdate();
  await benchLossy();
  const dir = path.join(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, quick ? 'micro-quick.json' : 'micro.json');
  fs.writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  console.log(`\nresults: ${path.relative(process.cwd(), file)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
