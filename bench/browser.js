#!/usr/bin/env node
// The browser viewer in headless Chromium (Debian's /usr/bin/chromium):
//
//  - decode throughput per codec (Mpixel/s) of the viewer's pure-TS decoder
//    inside the page, against the native decoder and the same TS decoder in
//    Node, on the same encoded streams in the same run; plus the canvas paint
//    (putImageData) of a full screen;
//  - update-to-paint latency on loopback: small typing-like updates pushed at
//    30 fps, host capture time to the page having painted and acked, against a
//    Node viewer (native decode) on the same host in the same run;
//  - on a phone (bench/lib/browserPhone.js): main-thread blocking per update
//    type on a throttled phone and a 1080p desktop page, touch → POINTER
//    latency against a mouse click, and page memory during a typing workload
//    (--typing-minutes N, default 10; 0.5 with --quick).
//
// Skips with a message when Chromium is missing (Debian: chromium).
'use strict';
const fs = require('node:fs');
const { writeResult } = require('./lib/results');
const { photoFrame } = require('./lib/photo');
const { chromium } = require('playwright-core');
const { TileEncoder, TileDecoder, OpStreamDecoder, createHost, connectViewer, PushSource, viewerPage } = require('tilecast');
const { loadScene } = require('tilecast/testing');
const { blockingBench, touchLatencyBench, typingMemoryBench } = require('./lib/browserPhone');

const quick = process.argv.includes('--quick');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const typingMinutes = arg('--typing-minutes', quick ? 0.5 : 10);
const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (a, p) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(a.length * p))];

/** 1920x1080 screens that code (mostly) as one op type each. */
async function workloads() {
  const W = 1920, H = 1080;
  const whole = [{ x: 0, y: 0, w: W, h: H }];
  const solid = Buffer.alloc(W * H * 4);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) solid.writeUInt32LE((0xff000000 | ((((x >> 6) * 37 + (y >> 6) * 91) * 2654435761) >>> 8)) >>> 0, (y * W + x) * 4);
  const noise = Buffer.alloc(W * H * 4);
  let s = 1;
  for (let i = 0; i < noise.length; i++) noise[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
  const editor = loadScene('editor');
  const out = [];
  const encode = async (name, frame, rects, copies, lossy) => {
    const enc = new TileEncoder();
    const key = await enc.encode(frame, whole, { keyframe: true, lossy });
    const e = copies ? await enc.encode(frame, rects, { copies }) : key;
    out.push({ name, width: W, height: H, key, update: e, pixels: copies ? copies.reduce((n, c) => n + c.w * c.h, 0) : W * H, stats: e.stats.ops });
  };
  await encode('solid', { data: solid, width: W, height: H, stride: W * 4 }, whole);
  await encode('palette (text screen)', editor, whole);
  await encode('truecolor (noise)', { data: noise, width: W, height: H, stride: W * 4 }, whole);
  // COPY: the screen scrolled by 40 rows (decode of the copy only; rows exposed are empty).
  await encode('copy (scroll)', editor, [{ x: 0, y: H - 40, w: W, h: 40 }], [{ x: 0, y: 0, w: W, h: H - 40, srcX: 0, srcY: 40 }]);
  // JPEG: a photographic screen, every tile allowed lossy (q80, 4:2:0); the page decodes with createImageBitmap.
  const mask = new Uint8Array(Math.ceil(W / 64) * Math.ceil(H / 64)).fill(1);
  await encode('jpeg (photo, q80)', photoFrame(W, H), whole, undefined, { mask, quality: 80 });
  return out;
}

async function decodeBench(page, loads, reps) {
  const results = [];
  for (const l of loads) {
    const b64 = (u) => Buffer.from(u).toString('base64');
    const inPage = await page.evaluate(async ({ key, update, opKey, opUpdate, images, width, height, reps, same }) => {
      const { OpStreamDecoder, ImageOpDecoder } = await import('/tilecast-viewer.js');
      const bytes = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
      const k = bytes(key), u = bytes(update), im = bytes(images);
      const fb = new Uint8ClampedArray(width * height * 4);
      const imageOps = new ImageOpDecoder();
      const times = [];
      for (let i = 0; i < reps; i++) {
        const d = new OpStreamDecoder('rgba');
        if (same) {
          const t = performance.now();
          const r = d.apply(fb, width, height, k, opKey, true, im);
          if (r.images.length) await imageOps.decodeInto(r.images, fb, width);
          times.push(performance.now() - t);
        } else {
          d.apply(fb, width, height, k, opKey, true);
          const t = performance.now();
          d.apply(fb, width, height, u, opUpdate, false);
          times.push(performance.now() - t);
        }
      }
      // Paint cost of a full screen.
      const c = document.createElement('canvas');
      c.width = width; c.height = height;
      const ctx = c.getContext('2d');
      const img = new ImageData(fb, width, height);
      const paints = [];
      for (let i = 0; i < reps; i++) {
        const t = performance.now();
        ctx.putImageData(img, 0, 0);
        ctx.getImageData(0, 0, 1, 1); // force the paint to complete
        paints.push(performance.now() - t);
      }
      return { times, paints };
    }, { key: b64(l.key.stream), update: b64(l.update.stream), opKey: l.key.opCount, opUpdate: l.update.opCount, images: b64(l.key.images), width: l.width, height: l.height, reps, same: l.key === l.update });
    const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
    // Baselines in Node: the native decoder and the same TS decoder.
    const timeNode = async (apply) => {
      const t = [];
      for (let i = 0; i < reps; i++) t.push(await apply());
      return median(t);
    };
    const nativeMs = await timeNode(async () => {
      const d = new TileDecoder({ width: l.width, height: l.height });
      if (l.key !== l.update) await d.apply({ stream: l.key.stream, opCount: l.key.opCount, keyframe: true });
      const t = performance.now();
      await d.apply(l.key === l.update ? { stream: l.key.stream, opCount: l.key.opCount, keyframe: true, images: l.key.images } : { stream: l.update.stream, opCount: l.update.opCount, keyframe: false });
      return performance.now() - t;
    });
    const fb = new Uint8Array(l.width * l.height * 4);
    // (The TS decoder leaves JPEG ops to an image decoder, which Node lacks: no figure for those.)
    const nodeTsMs = l.key.images.length ? null : await timeNode(async () => {
      const d = new OpStreamDecoder('rgba');
      if (l.key !== l.update) d.apply(fb, l.width, l.height, l.key.stream, l.key.opCount, true);
      const t = performance.now();
      if (l.key === l.update) d.apply(fb, l.width, l.height, l.key.stream, l.key.opCount, true);
      else d.apply(fb, l.width, l.height, l.update.stream, l.update.opCount, false);
      return performance.now() - t;
    });
    const browserMs = median(inPage.times);
    results.push({ codec: l.name, pixels: l.pixels, ops: l.stats, browserMs, browserMpxS: l.pixels / browserMs / 1000, nativeMs, nativeMpxS: l.pixels / nativeMs / 1000, nodeTsMs, paintMs: median(inPage.paints) });
  }
  return results;
}

async function latencyBench(browser, updates) {
  const base = loadScene('editor');
  const frame = { ...base, data: Buffer.from(base.data) };
  const source = new PushSource();
  const host = await createHost({ source, httpHandler: viewerPage(), fps: 60 });
  source.push({ ...frame, data: Buffer.from(frame.data) });
  const samples = { browser: [], node: [] };
  host.on('ack', (a) => samples[a.viewerId === 1 ? 'browser' : 'node'].push(a.displayedAt - a.oldestChangeTime));
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  await page.goto(host.url.replace(/^ws/, 'http'));
  await sleep(1500);
  const node = connectViewer(host.url, { reconnect: false });
  await sleep(1000);
  samples.browser.length = samples.node.length = 0;
  for (let i = 0; i < updates; i++) {
    // A "typed character": an 8x16 block changes near the text cursor.
    const x0 = 200 + (i % 80) * 9, y0 = 300 + Math.floor(i / 80) * 18;
    for (let y = y0; y < y0 + 16; y++) frame.data.fill(i % 2 ? 0x20 : 0xe0, (y * frame.width + x0) * 4, (y * frame.width + x0 + 8) * 4);
    source.push({ ...frame, data: Buffer.from(frame.data), timestamp: performance.timeOrigin + performance.now() });
    await sleep(33);
  }
  await sleep(1000);
  node.close();
  await page.close();
  await host.close();
  return samples;
}

async function main() {
  if (!fs.existsSync(CHROMIUM)) {
    console.log(`browser bench skipped: ${CHROMIUM} not installed (Debian: chromium)`);
    return;
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  try {
    const loads = await workloads();
    // The decode bench needs a page served by a host (same origin for the module).
    const host = await createHost({ source: new PushSource(), httpHandler: viewerPage() });
    const page = await browser.newPage();
    await page.goto(host.url.replace(/^ws/, 'http'));
    const decode = await decodeBench(page, loads, quick ? 3 : 15);
    await page.close();
    await host.close();
    const lat = await latencyBench(browser, quick ? 30 : 150);
    const blocking = await blockingBench(browser, loads, quick ? 5 : 20);
    const touch = await touchLatencyBench(browser, quick ? 10 : 50);
    const memory = await typingMemoryBench(browser, typingMinutes);
    const results = {
      date: new Date().toISOString(), quick, decode, blocking, touch, memory,
      latency: {
        browser: { n: lat.browser.length, p50: pct(lat.browser, 0.5), p95: pct(lat.browser, 0.95) },
        node: { n: lat.node.length, p50: pct(lat.node, 0.5), p95: pct(lat.node, 0.95) },
      },
    };
    const md = [
      `# Browser viewer benchmark (${results.date}${quick ? ', quick' : ''})`,
      '',
      'Headless Debian Chromium, one 1920×1080 update per codec, median of runs. Baselines in the same run: the native decoder (Node addon) and the same pure-TS decoder running in Node.',
      '',
      '| codec | browser decode | Mpixel/s | native decoder | browser ÷ native | TS in Node | canvas paint (full screen) |',
      '|---|---|---|---|---|---|---|',
      ...decode.map((d) => `| ${d.codec} | ${d.browserMs.toFixed(2)} ms | ${d.browserMpxS.toFixed(0)} | ${d.nativeMs.toFixed(2)} ms (${d.nativeMpxS.toFixed(0)} Mpx/s) | ${(d.browserMs / d.nativeMs).toFixed(2)}× | ${d.nodeTsMs === null ? '–' : `${d.nodeTsMs.toFixed(2)} ms`} | ${d.paintMs.toFixed(2)} ms |`),
      '',
      `Update-to-paint latency on loopback (typing-like 8×16 changes at 30 fps, host capture time → painted and acked, one clock): browser p50 ${results.latency.browser.p50?.toFixed(1)} ms, p95 ${results.latency.browser.p95?.toFixed(1)} ms (${results.latency.browser.n} updates); Node viewer on the same host p50 ${results.latency.node.p50?.toFixed(1)} ms, p95 ${results.latency.node.p95?.toFixed(1)} ms (${results.latency.node.n}).`,
      '',
      '## Main-thread blocking per 1920×1080 update',
      '',
      'Longest main-thread task while the page applies one full-screen update of each type through the viewer\'s decode path (decode as it arrives, paint at the next animation frame), seen by a probe task queued after every task: decoding in the viewer\'s Worker (the default), and on the main thread (the baseline, and the fallback where Workers cannot start). The phone is Chromium\'s 390×844 @3x emulation with the CPU throttled 4× (a low-end phone or Chromebook); the desktop is a 1920×1080 page, unthrottled. Budget: one 60 Hz frame, 16.7 ms.',
      '',
      '| update | device | Worker p50 | Worker p95 | main thread p50 | main thread p95 |',
      '|---|---|---|---|---|---|',
      ...blocking.filter((b) => b.decoder === 'worker').map((b) => {
        const m = blocking.find((x) => x.decoder === 'main' && x.codec === b.codec && x.device === b.device);
        return `| ${b.codec} | ${b.device} | ${b.p50.toFixed(1)} ms | ${b.p95.toFixed(1)} ms | ${m.p50.toFixed(1)} ms | ${m.p95.toFixed(1)} ms |`;
      }),
      '',
      '## Touch → input message (phone emulation)',
      '',
      'From the DOM event reaching the page to the POINTER leaving through WebSocket.send ("in page"), and from the CDP dispatch to the host\'s input event ("end to end", loopback, includes Chromium\'s input pipeline). Baseline: a mouse click through the same path.',
      '',
      '| gesture | n | in page p50 | in page p95 | end to end p50 | end to end p95 |',
      '|---|---|---|---|---|---|',
      ...Object.entries(touch).map(([k, r]) => `| ${k} | ${r.n} | ${r.pageP50?.toFixed(2)} ms | ${r.pageP95?.toFixed(2)} ms | ${r.e2eP50?.toFixed(1)} ms | ${r.e2eP95?.toFixed(1)} ms |`),
      '',
      `## Page memory while typing (${typingMinutes} min, a character every 150 ms, echoed on the screen)`,
      '',
      'JS heap after a forced GC, DOM nodes and event listeners; the first row (before typing) is the baseline.',
      '',
      '| minute | characters typed | JS heap | DOM nodes | listeners |',
      '|---|---|---|---|---|',
      ...memory.map((m) => `| ${m.minute} | ${m.typed} | ${m.heapMiB.toFixed(2)} MiB | ${m.nodes} | ${m.listeners} |`),
      '',
    ].join('\n');
    console.log(md);
    writeResult('browser.json', results, quick);
    writeResult('browser.md', md, quick);
  } finally {
    await browser.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
