#!/usr/bin/env node
// tilecast's own session-bench figures (bytes, exact frames, SSIM/PSNR with
// the session bench's ffmpeg meter) on this checkout's recordings, coded by
// the tilecast of another checkout: how an older commit does on the very same
// recordings as bench/results/session.json (recordings differ from machine to
// machine, so session results of different days are not frame-for-frame
// comparable). The other checkout must be built (dist/ and its addon):
//
//   git worktree add /tmp/old <commit> && cd /tmp/old && ln -s "$PWD/../<this>/node_modules" . \
//     && npx tsc -p tsconfig.json && npx node-gyp rebuild
//   node bench/session-at.js /tmp/old [typing-en,typing-ja,...]
//
// Like session.js's tilecast row: the ViewerEncoder through OfflineSession on
// the recording's own clock, default options, every frame decoded and measured.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { QualityMeter } = require('./lib/ffmpegQuality');
const recorder = require('./workloads/record');

const root = path.resolve(process.argv[2] ?? '');
const names = process.argv[3]?.split(',') ?? recorder.WORKLOADS;
if (!process.argv[2] || !fs.existsSync(path.join(root, 'dist', 'testing', 'index.js'))) {
  console.error('usage: node bench/session-at.js <built tilecast checkout> [workload,...]');
  process.exit(2);
}
const { ChangeDetector } = require(path.join(root, 'dist'));
const { ReplaySource, OfflineSession } = require(path.join(root, 'dist', 'testing'));
const REST_FRAMES = 30; // as session.js
const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;

async function run(name) {
  const src = new ReplaySource(path.join(recorder.OUT, `${name}.mkv`));
  const { width, height, fps } = src;
  const det = new ChangeDetector({ width, height });
  const session = new OfflineSession({ maxFps: Math.round(fps) });
  const meter = new QualityMeter(width, height);
  const at = (i) => (i * 1000) / fps;
  let frames = 0, bytes = 0, exact = 0, last = null;
  for (let f; (f = await src.nextFrame()); frames++) {
    const rects = await det.detect(f);
    bytes += (await session.advance(at(frames), rects.length ? f : null, rects, at(frames + 1))).bytes;
    if (session.decoder.framebuffer.equals(f.data)) exact++;
    await meter.add(session.decoder.framebuffer, f.data);
    last = Buffer.from(f.data);
  }
  src.close();
  // At rest, as in session.js: 1 s of still screen for refinement, then the viewer's screen against the last frame.
  let restBytes = 0;
  for (let i = 0; last && i < REST_FRAMES; i++) restBytes += (await session.advance(at(frames + i), null, [], at(frames + i + 1))).bytes;
  const atRest = last !== null && session.decoder.framebuffer.equals(last);
  session.close();
  const q = await meter.finish();
  const finite = q.map((x) => x.psnr).filter(Number.isFinite);
  return { name, frames, bytes, restBytes, atRest, exactFrames: exact, ssim: mean(q.map((x) => x.ssim)), minSsim: Math.min(...q.map((x) => x.ssim)), psnr: finite.length ? mean(finite) : Infinity };
}

(async () => {
  console.log(`tilecast of ${root}, recordings in ${recorder.OUT}`);
  console.log('| workload | kB | exact frames | SSIM (min) | PSNR dB (frames not identical) | at rest |\n|---|---|---|---|---|---|');
  for (const name of names) {
    if (!fs.existsSync(path.join(recorder.OUT, `${name}.mkv`))) {
      console.log(`| ${name} | no recording (bench/workloads/record.js) | | | | |`);
      continue;
    }
    const r = await run(name);
    console.log(`| ${r.name} | ${(r.bytes / 1000).toFixed(1)} | ${r.exactFrames}/${r.frames} | ${r.ssim.toFixed(6)} (${r.minSsim.toFixed(6)}) | ${Number.isFinite(r.psnr) ? r.psnr.toFixed(2) : '∞'} | ${r.atRest ? 'byte-identical' : 'NOT exact'} (+${(r.restBytes / 1000).toFixed(0)} kB refinement) |`);
  }
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
