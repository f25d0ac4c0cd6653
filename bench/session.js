#!/usr/bin/env node
// Session benchmark: replays each recorded workload (bench/workloads/) through
// tilecast and, in the same run, through the baselines people use instead:
//   (a) full-frame JPEG (sharp, quality 80, 4:2:0) of every changed frame;
//   (b) x264 -preset ultrafast -tune zerolatency -crf 23 (Debian ffmpeg) on the
//       same recording;
//   (c) tilecast with scroll detection and lossy coding off (everything exact);
//   (e) tilecast with its content cache off (what it sent before the cache);
//   (d) TigerVNC: the recording replayed into Xvnc, a real vncviewer through a
//       byte-counting proxy, Tight lossless (NoJPEG, CompressLevel 1) and Tight
//       JPEG (QualityLevel 6) (bench/lib/tigervnc.js).
// Per workload: bytes, mean and peak (1 s) bitrate, encode CPU ms per frame
// (p50/p95, all threads), SSIM/PSNR of the decoded picture against the source
// (ffmpeg's ssim and psnr filters on planar RGB, every frame of every codec, and the final frame
// "at rest": for tilecast after 1 s of still screen, when lossy tiles have
// been refined), and update-to-display latency of live streaming over the
// emulated LTE link (../shared/traces, 20 ms each way).
//
//   node bench/session.js            # records missing workloads first (bench/workloads/record.js)
//   node bench/session.js --quick    # CI smoke: a short synthetic sequence, no recording
//   node bench/session.js --workloads typing-en,window-switch   # only these
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const sharp = require('sharp');
const { ChangeDetector, X11Source, createHost, connectViewer } = require('tilecast');
const { ReplaySource, SceneSource, OfflineSession, LinkEmulator, DeliveryTrace } = require('tilecast/testing');
const { QualityMeter } = require('./lib/ffmpegQuality');
const tigervnc = require('./lib/tigervnc');
const { barChart, cdfChart } = require('./lib/svg');
const { writeResult } = require('./lib/results');
const recorder = require('./workloads/record');

const quick = process.argv.includes('--quick');
const argAfter = (flag) => { const i = process.argv.indexOf(flag); return i > 0 ? process.argv[i + 1] : undefined; };
/** `--workloads typing-en,window-switch`: only these recordings (default: all), written to session-<names>.*. */
const only = argAfter('--workloads')?.split(',');
const named = (file) => (only ? file.replace(/(\.[^.]+)$/, `-${only.join('+')}$1`) : file);
const TRACES = path.join(__dirname, '..', '..', 'shared', 'traces');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (a, p) => (a.length ? [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(a.length * p))] : null);
const mean = (a) => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : null);
const cpuMs = (c) => (c.user + c.system) / 1000;
/** Mean SSIM, the lowest, and mean PSNR over the frames that are not identical (Infinity when all are). */
function qualitySummary(quality) {
  const finite = quality.map((q) => q.psnr).filter(Number.isFinite);
  return { ssim: mean(quality.map((q) => q.ssim)), minSsim: Math.min(...quality.map((q) => q.ssim)), psnr: finite.length ? mean(finite) : Infinity };
}

/** Peak bitrate over any 1 s window, kbit/s; samples: [{ t (s), bytes }]. */
function peakKbps(samples) {
  let best = 0, lo = 0, sum = 0;
  for (let hi = 0; hi < samples.length; hi++) {
    sum += samples[hi].bytes;
    while (samples[hi].t - samples[lo].t >= 1) sum -= samples[lo++].bytes;
    best = Math.max(best, sum);
  }
  return (best * 8) / 1000;
}

/** A short synthetic recording from the embedded scene desktop (CI smoke). */
function syntheticRecording(dir) {
  const file = path.join(dir, 'synthetic-typing.mkv');
  const src = new SceneSource({ loops: 1 });
  const frames = [];
  return (async () => {
    for (let i = 0; i < 45; i++) {
      const f = await src.nextFrame();
      if (!f) break;
      frames.push(Buffer.from(f.data));
    }
    const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'bgra', '-s', `${src.width}x${src.height}`, '-r', '30', '-i', '-', '-c:v', 'ffv1', '-pix_fmt', 'bgr0', file], { input: Buffer.concat(frames), maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(`ffmpeg: ${r.stderr}`);
    return [{ name: 'synthetic-typing', file }];
  })();
}

async function recordings(tmp) {
  if (quick) return syntheticRecording(tmp);
  const missing = recorder.WORKLOADS.filter((n) => !only || only.includes(n)).filter((n) => !fs.existsSync(path.join(recorder.OUT, `${n}.mkv`)));
  if (missing.length) {
    console.log(`recording ${missing.join(', ')} (bench/workloads/record.js)...`);
    const r = spawnSync(process.execPath, [path.join(__dirname, 'workloads', 'record.js'), ...missing], { stdio: 'inherit' });
    if (r.status !== 0) console.log('some workloads could not be recorded; benchmarking the ones that exist');
  }
  return recorder.WORKLOADS.filter((n) => !only || only.includes(n)).filter((n) => fs.existsSync(path.join(recorder.OUT, `${n}.mkv`))).map((n) => ({ name: n, file: path.join(recorder.OUT, `${n}.mkv`) }));
}

const REST_FRAMES = 30; // 1 s of unchanged screen after the recording: refinement time

/**
 * tilecast on a recording, as a live session codes it: the ViewerEncoder a
 * ViewerSession runs (through OfflineSession: the recording's own clock, frame
 * i at i/fps, every step the encoder asks for before the next frame), decoded
 * by the Node viewer's decoder. The link takes everything (no flow control);
 * `lossy`/`moves` switch the adaptive features (baseline (c) has both off).
 * After the last frame the screen stays still for REST_FRAMES more frame times
 * so lossy tiles get refined; "at rest" is checked then.
 */
async function runTilecast(file, { lossy = true, moves = true, cache = true } = {}) {
  const src = new ReplaySource(file);
  const { width, height, fps } = src;
  const det = new ChangeDetector({ width, height });
  const session = new OfflineSession({ maxFps: Math.round(fps), lossy, detectMoves: moves, ...(cache ? {} : { contentCacheBytes: 0 }) });
  const at = (i) => (i * 1000) / fps;
  const samples = [], cpu = [], meter = new QualityMeter(width, height);
  let frames = 0, exact = 0, bytes = 0, restBytes = 0, lossyPixels = 0, copies = 0, cacheRefs = 0, encodeMs = 0, last = null;
  const step = async (i, f, rects) => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const out = await session.advance(at(i), f, rects, at(i + 1));
    if (out.updates.length) {
      encodeMs += performance.now() - t0;
      cpu.push(cpuMs(process.cpuUsage(c0)));
    }
    for (const { encoded: e } of out.updates) {
      lossyPixels += e.stats.pixels.jpeg;
      copies += e.copies.length;
      cacheRefs += e.stats.ops.cacheRef;
    }
    return out.bytes;
  };
  for (let f; (f = await src.nextFrame()); frames++) {
    const rects = await det.detect(f);
    const msgBytes = await step(frames, rects.length ? f : null, rects);
    bytes += msgBytes;
    samples.push({ t: frames / fps, bytes: msgBytes });
    const fb = session.decoder.framebuffer;
    if (fb.equals(f.data)) exact++;
    await meter.add(fb, f.data);
    last = { ...f, data: Buffer.from(f.data) };
  }
  src.close();
  for (let i = 0; last && i < REST_FRAMES; i++) restBytes += await step(frames + i, null, []);
  session.close();
  const quality = await meter.finish();
  const seconds = frames / fps;
  return {
    frames, changedFrames: cpu.length, bytes, meanKbps: (bytes * 8) / 1000 / seconds, peakKbps: peakKbps(samples),
    cpuMsP50: pct(cpu, 0.5), cpuMsP95: pct(cpu, 0.95), exactFrames: exact,
    ...qualitySummary(quality), lossyMpx: lossyPixels / 1e6, copies, cacheRefs, restBytes,
    lossyMpxPerS: encodeMs > 0 ? lossyPixels / 1e6 / (encodeMs / 1000) : null,
    atRest: { exact: last !== null && session.decoder.framebuffer.equals(last.data) },
  };
}

const toRgba = (bgra) => {
  const out = Buffer.from(bgra);
  for (let i = 0; i < out.length; i += 4) [out[i], out[i + 2]] = [out[i + 2], out[i]];
  return out;
};

/** What a JPEG viewer shows: the decoded picture, BGRA. */
async function decodeJpeg(jpeg) {
  const { data } = await sharp(jpeg).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return toRgba(data); // RGBA -> BGRA (the swap is its own inverse)
}

async function runJpeg(file) {
  const src = new ReplaySource(file);
  const { width, height, fps } = src;
  const det = new ChangeDetector({ width, height });
  const samples = [], cpu = [], meter = new QualityMeter(width, height);
  let frames = 0, bytes = 0, shown = null, last = null;
  for (let f; (f = await src.nextFrame()); frames++) {
    const rects = await det.detect(f);
    let size = 0;
    if (frames === 0 || rects.length) {
      const rgba = toRgba(f.data); // sharp reads RGBA; the swap is not charged to JPEG
      const c0 = process.cpuUsage();
      const jpeg = await sharp(rgba, { raw: { width, height, channels: 4 } }).jpeg({ quality: 80, chromaSubsampling: '4:2:0' }).toBuffer();
      cpu.push(cpuMs(process.cpuUsage(c0)));
      size = jpeg.length;
      shown = await decodeJpeg(jpeg);
    }
    await meter.add(shown, f.data);
    bytes += size;
    samples.push({ t: frames / fps, bytes: size });
    last = { ...f, data: Buffer.from(f.data) };
  }
  src.close();
  const quality = await meter.finish();
  const seconds = frames / fps;
  const rest = shown ? quality[quality.length - 1] : null;
  return {
    frames, changedFrames: cpu.length, bytes, meanKbps: (bytes * 8) / 1000 / seconds, peakKbps: peakKbps(samples),
    cpuMsP50: pct(cpu, 0.5), cpuMsP95: pct(cpu, 0.95), ...qualitySummary(quality), atRest: rest,
  };
}

// -fps_mode cfr: x264 codes the same constant-rate frame sequence ReplaySource
// gives tilecast (a recording with dropped frames replays them repeated).
async function runX264(file, tmp, preset = 'ultrafast') {
  const out = path.join(tmp, `${path.basename(file, '.mkv')}-x264-${preset}.mkv`);
  const cmd = `TIMEFORMAT='%3U %3S'; time ffmpeg -v error -y -i '${file}' -c:v libx264 -preset ${preset} -tune zerolatency -crf 23 -pix_fmt yuv420p -fps_mode cfr '${out}'`;
  const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`x264: ${r.stderr}`);
  const [user, sys] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  const pk = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=size', '-of', 'csv=p=0', out], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const sizes = pk.stdout.trim().split('\n').map(Number);
  // Quality: decode both and compare every frame with the same metric as the others.
  const a = new ReplaySource(file), b = new ReplaySource(out);
  const { width, height, fps } = a;
  const meter = new QualityMeter(width, height);
  for (let fa, fb; (fa = await a.nextFrame()) && (fb = await b.nextFrame());) await meter.add(fb.data, fa.data);
  a.close();
  b.close();
  const quality = await meter.finish();
  const bytes = sizes.reduce((x, y) => x + y, 0);
  const seconds = sizes.length / fps;
  return {
    frames: sizes.length, bytes, meanKbps: (bytes * 8) / 1000 / seconds, peakKbps: peakKbps(sizes.map((s, i) => ({ t: i / fps, bytes: s }))),
    cpuMsPerFrame: ((user + sys) * 1000) / sizes.length, ...qualitySummary(quality),
    atRest: quality.length ? quality[quality.length - 1] : null,
  };
}

/** Live: the recording in real time through host -> LTE link emulator -> Node viewer. */
async function runLive(file) {
  const down = path.join(TRACES, 'ATT-LTE-driving.down'), up = path.join(TRACES, 'ATT-LTE-driving.up');
  if (!fs.existsSync(down) || !fs.existsSync(up)) return { skipped: `traces missing: ${TRACES} (the shared folder must sit beside the project)` };
  const source = new ReplaySource(file, { realtime: true });
  const host = await createHost({ source, fps: 30 });
  const emu = await LinkEmulator.start({ targetPort: host.port, down: { trace: DeliveryTrace.load(down), delayMs: 20 }, up: { trace: DeliveryTrace.load(up), delayMs: 20 } });
  const latencies = [];
  host.on('ack', (a) => latencies.push(a.displayedAt - a.oldestChangeTime));
  let ended = false;
  const viewer = connectViewer(`ws://127.0.0.1:${emu.port}/`, { reconnect: false });
  const frames = source.info.frames ?? 0;
  while (!ended && source.position < frames) await sleep(100);
  await sleep(3000); // the last updates arrive
  viewer.close();
  await host.close();
  await emu.close();
  source.close();
  return { updates: latencies.length, p50: pct(latencies, 0.5), p95: pct(latencies, 0.95), p99: pct(latencies, 0.99), samples: latencies };
}

const f1 = (v, d = 1) => (v === null || v === undefined ? '–' : v === Infinity ? '∞' : v.toFixed(d));

async function main() {
  for (const tool of ['ffmpeg', 'ffprobe']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
      console.log(`session bench skipped: ${tool} not installed (Debian: ffmpeg)`);
      return;
    }
  }
  const started = Date.now();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tilecast-session-'));
  try {
    const loads = await recordings(tmp);
    if (!loads.length) {
      console.log('session bench: no recordings (run bench/workloads/setup.sh as root, then bench/workloads/record.js)');
      return;
    }
    const vncSkipped = tigervnc.unavailable();
    if (vncSkipped) console.log(`TigerVNC baseline skipped: ${vncSkipped}`);
    const results = [];
    for (const { name, file } of loads) {
      console.log(`${name}: tilecast...`);
      const tilecast = await runTilecast(file);
      console.log(`${name}: tilecast, scroll detection and lossy off...`);
      const exactOnly = await runTilecast(file, { lossy: false, moves: false });
      console.log(`${name}: tilecast, content cache off...`);
      const noCache = await runTilecast(file, { cache: false });
      console.log(`${name}: JPEG...`);
      const jpeg = await runJpeg(file);
      console.log(`${name}: x264...`);
      const x264 = await runX264(file, tmp);
      console.log(`${name}: x264 veryfast...`);
      const x264vf = await runX264(file, tmp, 'veryfast');
      let vnc = null;
      if (!vncSkipped) {
        vnc = {};
        for (const setting of ['lossless', 'jpeg']) {
          console.log(`${name}: ${tigervnc.SETTINGS[setting].label}...`);
          vnc[setting] = await tigervnc.runTigerVnc(file, setting, { ReplaySource, ChangeDetector, X11Source });
        }
      }
      console.log(`${name}: live over the LTE trace...`);
      const live = await runLive(file);
      results.push({ name, tilecast, exactOnly, noCache, jpeg, x264, x264vf, vnc, live });
    }
    const rows = [];
    for (const r of results) {
      const t = r.tilecast, c = r.exactOnly, j = r.jpeg, x = r.x264;
      const q = (v) => `SSIM ${f1(v.ssim, 4)} (min ${f1(v.minSsim, 4)}), exact ${v.exactFrames}/${v.frames}`;
      rows.push(`| ${r.name} | tilecast | ${(t.bytes / 1e6).toFixed(2)} | ${f1(t.meanKbps, 0)} | ${f1(t.peakKbps, 0)} | ${f1(t.cpuMsP50, 2)} / ${f1(t.cpuMsP95, 2)} | ${q(t)} | ${f1(t.psnr)} dB | ${t.atRest.exact ? 'byte-identical' : 'NOT exact'} (+${(t.restBytes / 1e3).toFixed(0)} kB refinement) |`);
      rows.push(`| ${r.name} | (c) tilecast, scroll + lossy off | ${(c.bytes / 1e6).toFixed(2)} | ${f1(c.meanKbps, 0)} | ${f1(c.peakKbps, 0)} | ${f1(c.cpuMsP50, 2)} / ${f1(c.cpuMsP95, 2)} | ${q(c)} | exact | ${c.atRest.exact ? 'byte-identical' : 'NOT exact'} |`);
      const e = r.noCache;
      rows.push(`| ${r.name} | (e) tilecast, content cache off | ${(e.bytes / 1e6).toFixed(2)} | ${f1(e.meanKbps, 0)} | ${f1(e.peakKbps, 0)} | ${f1(e.cpuMsP50, 2)} / ${f1(e.cpuMsP95, 2)} | ${q(e)} | ${f1(e.psnr)} dB | ${e.atRest.exact ? 'byte-identical' : 'NOT exact'} |`);
      rows.push(`| ${r.name} | (a) JPEG q80 per changed frame | ${(j.bytes / 1e6).toFixed(2)} | ${f1(j.meanKbps, 0)} | ${f1(j.peakKbps, 0)} | ${f1(j.cpuMsP50, 2)} / ${f1(j.cpuMsP95, 2)} | ${f1(j.ssim, 4)} | ${f1(j.psnr)} dB | SSIM ${f1(j.atRest?.ssim, 4)}, ${f1(j.atRest?.psnr)} dB |`);
      for (const [v, preset] of [[x, 'ultrafast'], [r.x264vf, 'veryfast']]) {
        rows.push(`| ${r.name} | (b) x264 ${preset} zerolatency crf 23 | ${(v.bytes / 1e6).toFixed(2)} | ${f1(v.meanKbps, 0)} | ${f1(v.peakKbps, 0)} | ${f1(v.cpuMsPerFrame, 2)} (mean) | ${f1(v.ssim, 4)} | ${f1(v.psnr)} dB | SSIM ${f1(v.atRest?.ssim, 4)}, ${f1(v.atRest?.psnr)} dB |`);
      }
      for (const v of r.vnc ? [r.vnc.lossless, r.vnc.jpeg] : []) {
        const rest = v.atRest.exact ? 'byte-identical' : `SSIM ${f1(v.atRest.ssim, 4)}, ${f1(v.atRest.psnr)} dB`;
        rows.push(`| ${r.name} | (d) ${v.label} | ${(v.bytes / 1e6).toFixed(3)} | ${f1(v.meanKbps, 0)} | ${f1(peakKbps(v.samples), 0)} | – | – | – | ${rest} (+${(v.restBytes / 1e3).toFixed(0)} kB after; Xvnc ${v.xvncMatchesSource ? 'showed the recording exactly' : 'did NOT show the recording exactly'}) |`);
      }
    }
    const vncRows = results.filter((r) => r.vnc).map((r) => `| ${r.name} | ${(r.tilecast.bytes / 1e3).toFixed(1)} | ${(r.exactOnly.bytes / 1e3).toFixed(1)} | ${(r.vnc.lossless.bytes / 1e3).toFixed(1)} | ${(r.vnc.jpeg.bytes / 1e3).toFixed(1)} | ${(r.tilecast.bytes / r.vnc.lossless.bytes).toFixed(2)}× | ${(r.exactOnly.bytes / r.vnc.lossless.bytes).toFixed(2)}× | ${(r.tilecast.bytes / r.vnc.jpeg.bytes).toFixed(2)}× | ${(r.noCache.bytes / 1e3).toFixed(1)} | ${(r.noCache.bytes / r.vnc.lossless.bytes).toFixed(2)}× | ${r.tilecast.cacheRefs} |`);
    const ratioRows = results.map((r) => `| ${r.name} | ${(r.tilecast.bytes / r.x264.bytes).toFixed(2)}× | ${(r.tilecast.bytes / r.x264vf.bytes).toFixed(2)}× | ${(r.tilecast.bytes / r.exactOnly.bytes).toFixed(3)}× | ${(r.tilecast.bytes / r.jpeg.bytes).toFixed(2)}× | ${f1(r.tilecast.lossyMpx, 0)} Mpx, ${r.tilecast.copies} | ${r.live.skipped ? r.live.skipped : `${f1(r.live.p50, 0)} / ${f1(r.live.p95, 0)} / ${f1(r.live.p99, 0)} ms (${r.live.updates} updates)`} |`);
    const date = new Date().toISOString();
    const suffix = `${only ? `-${only.join('+')}` : ''}${quick ? '-quick' : ''}`;
    const md = [
      `# Session benchmark (${date}${quick ? ', quick: synthetic sequence' : ''})`,
      '',
      `Recordings: ${results.map((r) => `${r.name} (${r.tilecast.frames} frames)`).join(', ')}; 1920×1080 at 30 fps. Run time ${((Date.now() - started) / 1000).toFixed(0)} s.`,
      '',
      '| workload | engine | MB | mean kbit/s | peak kbit/s (1 s) | encode CPU ms/frame p50 / p95 | SSIM (decoded vs source) | PSNR | at rest |',
      '|---|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
      '| workload | tilecast bytes ÷ x264 ultrafast | ÷ x264 veryfast | ÷ (c) scroll + lossy off | ÷ JPEG | sent as JPEG, COPY ops | live update-to-display latency p50 / p95 / p99 (ATT-LTE-driving, 20 ms each way) |',
      '|---|---|---|---|---|---|---|',
      ...ratioRows,
      '',
      ...(vncRows.length ? [
        '| workload | tilecast kB | (c) exact-only kB | TigerVNC lossless kB | TigerVNC JPEG kB | tilecast ÷ TigerVNC lossless | (c) ÷ TigerVNC lossless | tilecast ÷ TigerVNC JPEG | (e) cache off kB | (e) ÷ TigerVNC lossless | CACHE_REF ops |',
        '|---|---|---|---|---|---|---|---|---|---|---|',
        ...vncRows,
        '',
        'TigerVNC: Debian\'s Xvnc 1.12 (`-CompareFB 1`) shows the recording (each frame\'s changed tiles drawn with XPutImage; its framebuffer is compared with the last frame), vncviewer 1.12 (`-AutoSelect=0 -FullColor -PreferredEncoding Tight`, settings as named) on a private Xvfb connects through a TCP proxy counting server→client bytes: from connect (handshake and the first full update included) to the last frame\'s update. Lock-step like tilecast here: each frame waits for the server\'s answer and ' + 'its 30 ms of silence, so no frame is coalesced away. "at rest": the viewer\'s screen against the last frame.',
        '',
      ] : [`TigerVNC baseline skipped: ${vncSkipped}`, '']),
      'CPU: `process.cpuUsage` around each frame\'s work (every thread: tilecast\'s detector and encoder pool, libvips for JPEG); x264: user+sys of the ffmpeg process divided by frames (includes decoding the FFV1 input). SSIM and PSNR: ffmpeg\'s `ssim` and `psnr` filters on planar RGB (gbrp), every frame of every codec against the source frame it stands for (what the viewer shows then): SSIM "All" (mean of R, G, B; 1 where exact), PSNR psnr_avg, the mean over frames that are not identical. Plus the last frame ("at rest"; for tilecast after ' + REST_FRAMES + ' still frames, whose refinement bytes are shown and not counted in the bitrate).',
      '',
      `![bitrate](session-bitrate${suffix}.svg)`,
      '',
      `![latency](session-latency${suffix}.svg)`,
      '',
    ].join('\n');
    console.log(md);
    const json = results.map((r) => ({
      ...r,
      vnc: r.vnc && Object.fromEntries(Object.entries(r.vnc).map(([k, v]) => [k, { ...v, samples: undefined, peakKbps: peakKbps(v.samples) }])),
      live: { ...r.live, samples: undefined },
    }));
    writeResult(named('session.json'), { date, quick, results: json }, quick);
    writeResult(named('session.md'), md, quick);
    writeResult(named('session-bitrate.svg'), barChart({
      title: 'Mean bitrate per workload', unit: 'kbit/s', series: ['tilecast', 'tilecast, scroll + lossy off', 'JPEG q80', 'x264 crf 23'],
      groups: results.map((r) => ({ label: r.name, values: { tilecast: r.tilecast.meanKbps, 'tilecast, scroll + lossy off': r.exactOnly.meanKbps, 'JPEG q80': r.jpeg.meanKbps, 'x264 crf 23': r.x264.meanKbps } })),
    }), quick);
    writeResult(named('session-latency.svg'), cdfChart({
      title: 'Update-to-display latency over ATT-LTE-driving (CDF)', unit: 'ms',
      curves: results.filter((r) => r.live.samples).map((r) => ({ label: r.name, values: r.live.samples })),
    }), quick);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
