#!/usr/bin/env node
// The main job on its embedded default: a host serves the built-in scene desktop
// (real screens rendered by Chromium, replayed as a scripted session: window
// switches and typing) over WebSocket, and a Node viewer connects, decodes and
// acks every update. Optionally the link goes through the LTE emulator. At the
// end the viewer's framebuffer must equal the host's screen byte for byte, and a
// PNG snapshot is written.
//
//   npm start                               # one pass in real time (30 fps)
//   npm start -- --fast --loops 3           # no real-time pacing, three passes
//   npm start -- --link ATT-LTE-driving     # through ../shared/traces/ATT-LTE-driving.{down,up}, 20 ms each way
//   npm start -- --snapshot out.png
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { createHost, connectViewer, encodePng, simdLevel } = require('tilecast');
const { SceneSource, LinkEmulator, DeliveryTrace } = require('tilecast/testing');

const { values: args } = parseArgs({
  options: {
    loops: { type: 'string', default: '1' },
    fast: { type: 'boolean', default: false },
    snapshot: { type: 'string', default: 'tilecast-snapshot.png' },
    link: { type: 'string' },
    delay: { type: 'string', default: '20' },
  },
});

const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);

async function main() {
  const source = new SceneSource({ loops: Number(args.loops), realtime: !args.fast });
  const total = source.length;
  let lastFrame = null;
  let framesSeen = 0;
  // Remember the last frame the host captured, to compare with the viewer at the end.
  const tap = { width: source.width, height: source.height, close: () => source.close(),
    nextFrame: async () => {
      const f = await source.nextFrame();
      if (f) {
        framesSeen++;
        lastFrame = { ...f, data: Buffer.from(f.data) };
      }
      return f;
    } };
  const host = await createHost({ source: tap, fps: args.fast ? 240 : 30 });
  let url = host.url;
  let emulator = null;
  if (args.link) {
    const dir = path.join(__dirname, '..', '..', 'shared', 'traces');
    const load = (f) => {
      const file = path.join(dir, f);
      if (!fs.existsSync(file)) throw new Error(`trace ${file} not found (the shared traces folder must sit beside the project)`);
      return DeliveryTrace.load(file);
    };
    const delayMs = Number(args.delay);
    emulator = await LinkEmulator.start({ targetPort: host.port, down: { trace: load(`${args.link}.down`), delayMs }, up: { trace: load(`${args.link}.up`), delayMs } });
    url = `ws://127.0.0.1:${emulator.port}/`;
  }
  const latencies = [];
  host.on('ack', (a) => latencies.push(a.displayedAt - a.oldestChangeTime));

  console.log(`tilecast: host ${host.url} serving the scene desktop ${source.width}x${source.height}, ${total} frames, SIMD ${simdLevel()}`);
  if (emulator) console.log(`link: ${args.link} traces, ${args.delay} ms one-way delay, viewer connects to ${url}`);
  const t0 = performance.now();
  const viewer = connectViewer(url);
  viewer.on('error', (err) => console.error('viewer:', err.message));
  await new Promise((resolve) => {
    const check = setInterval(() => {
      if (framesSeen >= total) {
        clearInterval(check);
        resolve();
      }
    }, 20);
  });
  // Let the last update arrive, then compare.
  const want = lastFrame;
  const deadline = Date.now() + 60_000;
  const equal = () => viewer.framebuffer && viewer.width === want.width && Buffer.compare(viewer.framebuffer, want.data) === 0;
  while (!equal() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const seconds = (performance.now() - t0) / 1000;
  const stats = host.viewers()[0];
  const exact = equal();
  if (viewer.framebuffer) fs.writeFileSync(args.snapshot, encodePng(viewer.framebuffer, viewer.width, viewer.height));
  const sorted = latencies.sort((a, b) => a - b);
  console.log(`captured ${host.captureStats.framesCaptured} frames (${host.captureStats.framesChanged} changed); sent ${stats.updatesSent} updates, ${(stats.bytesSent / 1024).toFixed(1)} KiB`);
  console.log(`mean bitrate ${((stats.bytesSent * 8) / seconds / 1e6).toFixed(2)} Mbit/s over ${seconds.toFixed(1)} s; RTT min ${stats.flow.minRttMs?.toFixed(1)} ms`);
  console.log(`capture-to-display: p50 ${pct(sorted, 50).toFixed(1)} ms, p95 ${pct(sorted, 95).toFixed(1)} ms (${sorted.length} acked updates)`);
  console.log(`viewer framebuffer equals host screen: ${exact ? 'yes (byte-identical)' : 'NO'}; snapshot written to ${args.snapshot}`);
  viewer.close();
  await emulator?.close();
  await host.close();
  process.exitCode = exact ? 0 : 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
