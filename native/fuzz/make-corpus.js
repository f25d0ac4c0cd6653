#!/usr/bin/env node
// Seed corpus for the fuzz targets, made from real encoder output: the embedded
// scenes (SceneSource and its screens) cropped to fuzz-sized windows, encoded
// by a TileEncoder that tracks what was sent (detectMoves on, the lossy path on
// for photo-like content so JPEG ops appear). Generated at fuzz time into
// native/fuzz/out/corpus/<target>/ (gitignored); nothing large is committed.
//
//   node native/fuzz/make-corpus.js [outDir]     (needs the built package: npm run build)
//
// Every session's viewer has a content cache of CACHE_BYTES (so the cache's
// references and evictions are in the seeds).
// sceneSessions() is also used by the differential test (test/unit/codec/differential.test.ts),
// which passes its own copies of the library classes.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const W = 320;
const H = 240;
const MAX_UPDATES = 16; // decoder_fuzz applies at most 16 updates per input
/** The content cache every seed session's viewer has (decoder_fuzz's kCacheBudget; the differential test's decoders). */
const CACHE_BYTES = 1 << 20;


/** A w x h window of `frame` at (left, top), packed. */
function crop(frame, left, top, w = W, h = H) {
  const data = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) {
    const at = (top + y) * frame.stride + left * 4;
    Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.length).copy(data, y * w * 4, at, at + w * 4);
  }
  return { data, width: w, height: h, stride: w * 4 };
}


/** `base` with the rect `win` of `over` drawn at (win.x + dx, win.y + dy) (a dragged window). */
function drag(base, over, win, dx, dy) {
  const data = Buffer.from(base.data);
  for (let y = 0; y < win.h; y++) {
    const s = (win.y + y) * over.stride + win.x * 4;
    over.data.copy(data, (win.y + dy + y) * base.stride + (win.x + dx) * 4, s, s + win.w * 4);
  }
  return { ...base, data };
}

/**
 * Encodes a list of frames as one viewer session. Returns
 * { name, width, height, updates: [{ keyframe, opCount, stream, images }] }.
 */
async function encodeSession(lib, name, frames, { lossy = false, quality = 60, paletteDiff = false, predicted = false } = {}) {
  const { TileEncoder, ChangeDetector } = lib;
  const { width, height } = frames[0];
  const det = new ChangeDetector({ width, height });
  const enc = new TileEncoder({ trackSent: true, threads: 1 });
  enc.setCacheBudget(CACHE_BYTES); // CACHE_REF ops where content comes back
  const mask = new Uint8Array(Math.ceil(width / 64) * Math.ceil(height / 64)).fill(1);
  const updates = [];
  for (let i = 0; i < frames.length && updates.length < MAX_UPDATES; i++) {
    const rects = await det.detect(frames[i]);
    if (i > 0 && rects.length === 0) continue;
    const e = await enc.encode(frames[i], i === 0 ? [{ x: 0, y: 0, w: width, h: height }] : rects, {
      keyframe: i === 0,
      detectMoves: true,
      lossy: lossy ? { mask, quality } : undefined,
      paletteDiff,
      predicted,
    });
    updates.push({ keyframe: e.keyframe, opCount: e.opCount, stream: Buffer.from(e.stream), images: Buffer.from(e.images) });
  }
  return { name, width, height, updates };
}

/**
 * The seed sessions: typing in the editor (SceneSource's script), scene
 * switches (plain palettes and PALETTE_DIFF), a scrolled long document (COPY ops), a dragged window (COPY ops),
 * a video over the desktop with the lossy path on (JPEG ops) and lossless (PREDICTED ops).
 * `lib` is the tilecast package (or the test's imports of the same classes).
 */
async function sceneSessions(lib) {
  const { SceneSource, loadScene, videoFrame: video } = lib;
  const sessions = [];

  // SceneSource's script, through a window over the editor's typed line.
  const src = new SceneSource();
  const scripted = [];
  for (let f = await src.nextFrame(); f; f = await src.nextFrame()) scripted.push(crop(f, 1259 - 20, 815 - 120));
  src.close();
  // Every frame until the typing ends would be too many; keep each scene change and the typing in steps.
  const typing = scripted.filter((_, i) => i === 0 || i === 10 || (i >= 20 && i < 56 && i % 3 === 2) || i === 66 || i === 76);
  sessions.push(await encodeSession(lib, 'script-typing', typing));
  sessions.push(await encodeSession(lib, 'script-typing-lossy', typing, { lossy: true }));
  // As a viewer with COMPACT_UPDATE gets it: palettes as PALETTE_DIFF ops.
  sessions.push(await encodeSession(lib, 'script-typing-palette-diff', typing, { paletteDiff: true }));

  // Scroll: a window sliding down the long document.
  const longdoc = loadScene('longdoc');
  const scroll = [0, 24, 48, 49, 90, 200, 180, 400].map((top) => crop(longdoc, 400, 300 + top));
  sessions.push(await encodeSession(lib, 'scroll', scroll));

  // Drag: a piece of the editor moved over the desktop, step by step.
  const desktop = crop(loadScene('desktop'), 600, 300);
  const editor = crop(loadScene('editor'), 600, 300);
  const win = { x: 40, y: 40, w: 160, h: 120 };
  const drags = [desktop, drag(desktop, editor, win, 0, 0), drag(desktop, editor, win, 13, 7), drag(desktop, editor, win, 40, 30), drag(desktop, editor, win, 90, 60)];
  sessions.push(await encodeSession(lib, 'drag', drags));

  // Video over the desktop: JPEG ops, then the video area moves (a COPY of lossy content).
  const vr = { x: 64, y: 48, w: 160, h: 128 };
  const vids = [desktop, ...[1, 2, 3, 4].map((n) => video(desktop, vr, n))];
  vids.push(drag(vids[4], vids[4], vr, 16, 16));
  sessions.push(await encodeSession(lib, 'video-lossy', vids, { lossy: true, quality: 50 }));
  // The same video lossless, as a viewer with COMPACT_UPDATE and PREDICTED gets it: PREDICTED ops.
  sessions.push(await encodeSession(lib, 'video-predicted', vids, { paletteDiff: true, predicted: true }));

  // The other scenes, switched (large keyframe-like repaints) at a small size.
  const small = ['desktop', 'document', 'japanese', 'editor'].map((n) => crop(loadScene(n), 800, 400, 96, 64));
  sessions.push(await encodeSession(lib, 'switch-small', small, { lossy: true }));

  // Windows raised in turn, twice round: the second round is CACHE_REF ops.
  const windows = ['desktop', 'document', 'editor'].map((n) => crop(loadScene(n), 600, 300));
  sessions.push(await encodeSession(lib, 'window-switch-cache', [...windows, ...windows, windows[1]]));
  return sessions;
}

function u32(v) {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
}

/** decoder_fuzz's input layout (see decoder_fuzz.cc) for the first `n` updates of a session. */
function decoderInput(s, n = s.updates.length) {
  const head = Buffer.alloc(4);
  head.writeUInt16LE(s.width, 0);
  head.writeUInt16LE(s.height, 2);
  const parts = [head];
  for (const u of s.updates.slice(0, n)) {
    parts.push(Buffer.from([u.keyframe ? 1 : 0]), u32(u.opCount), u32(u.stream.length), u.stream, u32(u.images.length), u.images);
  }
  return Buffer.concat(parts);
}

/** Real protocol messages: every type, and the sessions' updates as UPDATE messages. */
function protocolMessages(lib, sessions) {
  const { encodeMessage } = lib.protocol;
  const msgs = [
    { type: 'hello', minVersion: 1, maxVersion: 1, capabilities: 3, software: 'tilecast 0.1.0' },
    { type: 'resize', width: 1920, height: 1080 },
    { type: 'cursorShape', width: 2, height: 2, hotX: 1, hotY: 0, pixels: new Uint8Array(16).fill(200) },
    { type: 'cursorPosition', x: 100, y: 200, visible: true },
    { type: 'ack', frameId: 7, receivedAt: 1700000000000.5, displayedAt: 1700000000016.25 },
    { type: 'pointer', x: 5, y: 6, buttons: 1, wheelX: 0, wheelY: -120 },
    { type: 'key', down: true, repeat: false, modifiers: 1, keysym: 0x61, code: 'KeyA', key: 'a' },
    { type: 'key', down: false, repeat: true, modifiers: 0, keysym: 0, code: 'Digit1', key: 'ü' },
    { type: 'refreshRequest' },
    { type: 'ping', id: 1, time: 12.5 },
    { type: 'pong', id: 1, time: 13 },
    { type: 'error', reason: 2, message: 'bad thing' },
    { type: 'bye', reason: 0, message: '' },
    { type: 'audio', codec: 'opus', sampleRate: 48000, channels: 2, seq: 7, captureTime: 1700000000000.5, payload: Uint8Array.from([0xfc, 0xff, 0xfe]) },
    { type: 'update', frameId: 0, captureTime: 0, keyframe: true, opCount: 0, stream: new Uint8Array(0) },
  ].map((m) => encodeMessage(m));
  let id = 1;
  for (const s of sessions) {
    for (const u of s.updates.slice(0, 3)) {
      if (u.stream.length + u.images.length > 16384) continue; // keep protocol seeds small
      msgs.push(encodeMessage({ type: 'update', frameId: id++, captureTime: 1700000000000 + id, keyframe: u.keyframe, opCount: u.opCount, stream: u.stream, images: u.images }));
      // The same update as UPDATE_COMPACT, first of its connection (protocol_fuzz decodes it with fresh state).
      if (lib.protocol.encodeCompactUpdate) {
        msgs.push(lib.protocol.encodeCompactUpdate({ type: 'update', frameId: id, captureTime: 1700000000000 + id, keyframe: u.keyframe, opCount: u.opCount, stream: u.stream, images: u.images }, new lib.protocol.CompactUpdateState()));
      }
    }
  }
  return msgs.map((m) => Buffer.from(m));
}

/** moves_fuzz programs (see moves_fuzz.cc): a scroll, a drag, video with the lossy path, a mix. */
function movesPrograms() {
  const rect = (x, y, w, h) => { const b = Buffer.alloc(8); b.writeUInt16LE(x, 0); b.writeUInt16LE(y, 2); b.writeUInt16LE(w - 1, 4); b.writeUInt16LE(h - 1, 6); return b; };
  const edit = (kind, r, param) => Buffer.concat([Buffer.from([kind]), r, u32(param)]);
  const head = (cfg, w, h, seed) => { const b = Buffer.alloc(9); b[0] = cfg; b.writeUInt16LE(w - 1, 1); b.writeUInt16LE(h - 1, 3); b.writeUInt32LE(seed, 5); return b; };
  const step = (keyframe, edits) => Buffer.concat([Buffer.from([(keyframe ? 1 : 0) | ((edits.length - 1) << 1)]), ...edits]);
  return {
    scroll: Buffer.concat([head(2, 200, 180, 7), step(false, [edit(2, rect(0, 0, 200, 180), 24)]), step(false, [edit(2, rect(0, 20, 200, 160), 0xe8)]), step(false, [edit(2, rect(10, 0, 180, 180), 0x100 | 17)])]),
    drag: Buffer.concat([head(1, 256, 200, 9), step(false, [edit(1, rect(20, 20, 100, 80), 0x0a0c)]), step(false, [edit(1, rect(32, 30, 100, 80), 0xf0f0), edit(4, rect(0, 0, 40, 40), 3)])]),
    video: Buffer.concat([head(2 | 4, 192, 160, 11), step(false, [edit(3, rect(32, 32, 128, 96), 5)]), step(false, [edit(3, rect(32, 32, 128, 96), 6)]), step(false, [edit(1, rect(32, 32, 128, 96), 0x1010)]), step(false, [edit(0, rect(0, 0, 64, 64), 0xffffff)])]),
    mixed: Buffer.concat([head(0 | 8 | 32, 120, 100, 3), step(false, [edit(0, rect(5, 5, 30, 30), 0x123456), edit(1, rect(0, 0, 60, 60), 0x0505), edit(5, rect(50, 50, 20, 20), 0)]), step(true, [edit(4, rect(0, 0, 120, 100), 9)])]),
  };
}

async function main() {
  const root = path.join(__dirname, '..', '..');
  const outDir = process.argv[2] || path.join(__dirname, 'out', 'corpus');
  const lib = { ...require(root), ...require(path.join(root, 'dist', 'testing')) };
  const sessions = await sceneSessions(lib);
  const write = (target, name, bytes) => {
    fs.mkdirSync(path.join(outDir, target), { recursive: true });
    fs.writeFileSync(path.join(outDir, target, `seed-${name}`), bytes);
  };
  let n = 0;
  for (const s of sessions) {
    write('decoder', `${s.name}-all`, decoderInput(s));
    write('decoder', `${s.name}-1`, decoderInput(s, 1));
    if (s.updates.length > 2) write('decoder', `${s.name}-3`, decoderInput(s, 3));
    n += 2;
  }
  protocolMessages(lib, sessions).forEach((m, i) => write('protocol', `msg-${i}`, m));
  for (const [name, bytes] of Object.entries(movesPrograms())) write('moves', name, bytes);
  const ops = sessions.flatMap((s) => s.updates).reduce((a, u) => a + u.opCount, 0);
  const jpegs = sessions.flatMap((s) => s.updates).filter((u) => u.images.length > 0).length;
  console.log(`corpus: ${sessions.length} sessions, ${sessions.reduce((a, s) => a + s.updates.length, 0)} updates (${ops} ops, ${jpegs} with JPEG ops) -> ${outDir}`);
}

module.exports = { sceneSessions, decoderInput, CACHE_BYTES };

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
