// Workloads for the gateway benchmark, pre-encoded once: each recording
// (bench/workloads/recordings/*.mkv) goes through the real encoder as a live
// session codes it (ChangeDetector + the ViewerEncoder a ViewerSession runs, on
// the recording's own clock, as OfflineSession does), and every message it
// emits is kept with its time offset. The host simulators (gwHosts.js) replay
// those bytes with their timing on every session, so the gateway carries real
// tilecast traffic without 300 encoders running on the load generator.
//
// A ScreenDecoder decodes the stream as it is made; after the last frame the
// screen stands still for REST_FRAMES (lossy tiles get refined) and the decoded
// screen must then equal the recording's last frame: its SHA-256 is what the
// sampled real viewers must end with.
//
// Without recordings (a clean checkout, CI) the same mix is made from the
// embedded scenes: typing into the editor, scrolling the long document, a
// synthetic video over the desktop.
//
// File format (cached in the OS temp folder, keyed by the source and the
// addon): u32 header length, header JSON, then per message f64 t (ms), u32
// length, bytes.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { ChangeDetector, ViewerEncoder, ScreenDecoder, protocol } = require('tilecast');
const { ReplaySource, loadScene, diffBox, videoFrame } = require('tilecast/testing');

const FPS = 30;
const REST_FRAMES = 30; // 1 s of still screen after the last frame: lossy tiles are refined
const CAPS = protocol.Capability.COPY_RECT | protocol.Capability.CURSOR | protocol.Capability.JPEG;
const CACHE = path.join(os.tmpdir(), 'tilecast-gwbench-cache');
const ADDON = path.join(__dirname, '..', '..', 'build', 'Release', 'tilecast.node');

/** Packed BGRA rows with alpha 255: the picture as a viewer's framebuffer holds it. */
function packed(frame) {
  const row = frame.width * 4;
  const out = Buffer.alloc(row * frame.height);
  const src = Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength);
  for (let y = 0; y < frame.height; y++) src.copy(out, y * row, y * frame.stride, y * frame.stride + row);
  for (let i = 3; i < out.length; i += 4) out[i] = 255;
  return out;
}

const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');

/**
 * Encodes `frames` (an async nextFrame() source of `count` frames at FPS) as
 * one live session would: returns the messages with their clock times and the
 * final decoded screen's hash.
 */
async function encode(source, count) {
  let now = 0;
  const det = new ChangeDetector({ width: source.width, height: source.height });
  const enc = new ViewerEncoder({ maxFps: FPS, lossy: true, detectMoves: true, clock: () => now });
  const dec = new ScreenDecoder(() => now);
  enc.start(CAPS);
  const messages = [];
  const at = (i) => (i * 1000) / FPS;
  // As OfflineSession.advance: offer the frame, run every encoder step due before the next frame.
  const advance = async (t, frame, rects, until) => {
    now = Math.max(now, t);
    if (frame) enc.offer(frame, rects);
    for (let n = 0; n < 10_000; n++) {
      const step = await enc.step({ canSend: true, deliveryRateBps: null });
      for (const bytes of step.messages) {
        messages.push({ t: now, bytes: Buffer.from(bytes) });
        await dec.handleBytes(bytes);
      }
      if (step.nextAt === null || step.nextAt >= until) return;
      now = Math.max(now, step.nextAt);
    }
    throw new Error('the encoder never settled');
  };
  let frames = 0, last = null;
  for (let f; frames < count && (f = await source.nextFrame()); frames++) {
    const rects = await det.detect(f);
    await advance(at(frames), rects.length ? f : null, rects, at(frames + 1));
    last = f;
  }
  if (last) last = packed(last); // before the source's buffer is reused
  for (let i = 0; i < REST_FRAMES; i++) await advance(at(frames + i), null, [], at(frames + i + 1));
  enc.close();
  const fb = dec.framebuffer;
  return { frames, messages, durationMs: at(frames + REST_FRAMES), finalHash: fb ? sha256(fb) : null, exactAtRest: !!(fb && last && fb.equals(last)), width: source.width, height: source.height };
}

/** The embedded-scene stand-ins for the recordings, frame-indexed at FPS. */
const SCENES = {
  // Typing into the editor at 6 characters/s: 36 characters, held 1 s, deleted, again.
  'scene-typing': () => {
    const base = loadScene('editor'), typed = loadScene('editor-typed'), box = diffBox(base, typed);
    const cycle = 36 / 6 + 1;
    return frameSource(base.width, base.height, (i) => {
      const t = (i / FPS) % cycle;
      const chars = Math.min(36, Math.floor(t * 6));
      const data = Buffer.from(base.data);
      const shown = Math.round((box.w * chars) / 36);
      for (let y = box.y; y < box.y + box.h; y++) {
        const o = (y * base.width + box.x) * 4;
        data.set(typed.data.subarray(o, o + shown * 4), o);
      }
      return { data, width: base.width, height: base.height, stride: base.width * 4 };
    });
  },
  // The 4320-pixel-tall document scrolled at 400 px/s: 2 s scrolling, 1 s still.
  'scene-scroll': () => {
    const doc = loadScene('longdoc');
    const row = doc.width * 4, h = 1080, max = doc.height - h;
    return frameSource(doc.width, h, (i) => {
      const t = i / FPS;
      const offset = Math.floor(((Math.floor(t / 3) * 2 + Math.min(2, t % 3)) * 400) % max);
      return { data: Buffer.from(doc.data.subarray(offset * row, (offset + h) * row)), width: doc.width, height: h, stride: row };
    });
  },
  // A 640×360 synthetic video (smooth colour field with noise) playing over the desktop.
  'scene-video': () => {
    const base = loadScene('desktop');
    const r = { x: 400, y: 200, w: 640, h: 360 };
    return frameSource(base.width, base.height, (i) => videoFrame(base, r, i));
  },
};

function frameSource(width, height, make) {
  let i = 0;
  return { width, height, nextFrame: async () => make(i++), close() {} };
}

/** Which file stands for each workload of the mix, and what it is. */
function resolve(name, recordingsDir) {
  const file = path.join(recordingsDir, `${name}.mkv`);
  if (fs.existsSync(file) && hasFfmpeg()) return { name, kind: 'recording', file };
  const stand = name.startsWith('typing') ? 'scene-typing' : name === 'scroll-doc' ? 'scene-scroll' : 'scene-video';
  return { name, kind: 'scene', scene: stand };
}

let ffmpeg = null;
/** Recordings are read through ffmpeg (ReplaySource): without it the scenes stand in. */
function hasFfmpeg() {
  ffmpeg ??= require('node:child_process').spawnSync('sh', ['-c', 'command -v ffmpeg && command -v ffprobe']).status === 0;
  return ffmpeg;
}

function cacheKey(src, maxFrames) {
  const h = crypto.createHash('sha1');
  h.update(JSON.stringify({ v: 1, src: src.file ?? src.scene, maxFrames, rest: REST_FRAMES, fps: FPS }));
  for (const f of [src.file, ADDON, require.resolve('tilecast')].filter(Boolean)) {
    const st = fs.statSync(f);
    h.update(`${f}:${st.size}:${st.mtimeMs}`);
  }
  return h.digest('hex').slice(0, 16);
}

function write(file, header, messages) {
  const head = Buffer.from(JSON.stringify(header));
  const parts = [Buffer.alloc(4), head];
  parts[0].writeUInt32LE(head.length);
  for (const m of messages) {
    const p = Buffer.alloc(12);
    p.writeDoubleLE(m.t, 0);
    p.writeUInt32LE(m.bytes.length, 8);
    parts.push(p, m.bytes);
  }
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, Buffer.concat(parts));
  fs.renameSync(tmp, file);
}

/** Reads a pre-encoded workload: { header, t: Float64Array, bufs: Buffer[], isUpdate: Uint8Array }. */
function load(file) {
  const all = fs.readFileSync(file);
  const hl = all.readUInt32LE(0);
  const header = JSON.parse(all.subarray(4, 4 + hl).toString());
  const t = new Float64Array(header.messages), bufs = new Array(header.messages), isUpdate = new Uint8Array(header.messages);
  let o = 4 + hl;
  for (let i = 0; i < header.messages; i++) {
    t[i] = all.readDoubleLE(o);
    const len = all.readUInt32LE(o + 8);
    bufs[i] = all.subarray(o + 12, o + 12 + len);
    isUpdate[i] = bufs[i][0] === protocol.MessageType.UPDATE ? 1 : 0;
    o += 12 + len;
  }
  return { header, t, bufs, isUpdate };
}

/**
 * Pre-encodes (or takes from the cache) every workload of `names`, at most
 * `maxFrames` frames each. Returns [{ name, kind, file, header }].
 */
async function prepare(names, { recordingsDir, maxFrames, log = console.log }) {
  fs.mkdirSync(CACHE, { recursive: true });
  const out = [];
  for (const name of names) {
    const src = resolve(name, recordingsDir);
    const file = path.join(CACHE, `${name}-${src.kind}-${cacheKey(src, maxFrames)}.bin`);
    if (!fs.existsSync(file)) {
      const t0 = performance.now();
      const source = src.kind === 'recording' ? new ReplaySource(src.file, { maxFrames }) : SCENES[src.scene]();
      let r;
      try {
        r = await encode(source, maxFrames);
      } finally {
        source.close();
      }
      const updates = r.messages.filter((m) => m.bytes[0] === protocol.MessageType.UPDATE).length;
      const bytes = r.messages.reduce((s, m) => s + m.bytes.length, 0);
      const initial = r.messages.filter((m) => m.t < 1000 / FPS).length;
      const header = {
        name, kind: src.kind, source: src.file ? path.basename(src.file) : src.scene, width: r.width, height: r.height, fps: FPS, frames: r.frames,
        durationMs: r.durationMs, messages: r.messages.length, initial, updates, bytes, initialBytes: r.messages.slice(0, initial).reduce((s, m) => s + m.bytes.length, 0),
        finalHash: r.finalHash, exactAtRest: r.exactAtRest, encodeSeconds: (performance.now() - t0) / 1000,
      };
      write(file, header, r.messages);
      log(`  ${name}: encoded ${header.source} (${r.frames} frames) in ${header.encodeSeconds.toFixed(1)} s: ${header.messages} messages, ${header.updates} updates, ${(bytes / 1e6).toFixed(2)} MB`);
    }
    out.push({ name, kind: src.kind, file, header: load(file).header });
  }
  return out;
}

module.exports = { prepare, load, FPS, CAPS };
