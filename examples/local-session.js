#!/usr/bin/env node
// The main job on its embedded default: a host serves the built-in scene desktop
// (real screens rendered by Chromium, replayed as a scripted session: window
// switches and typing) over WebSocket, and a Node viewer connects, decodes and
// acks every update. Optionally the link goes through the LTE emulator. At the
// end the viewer's framebuffer must equal the host's screen byte for byte, and a
// PNG snapshot is written.
//
//   npm start -- --help                     # every option
'use strict';
const fs = require('node:fs');
const { createHost, connectViewer, encodePng, simdLevel } = require('tilecast');
const { SceneSource, LinkEmulator, loadLinkTraces, listLinkTraces, DEFAULT_TRACES_DIR } = require('tilecast/testing');
const { parseCommandLine, fail } = require('./lib/cli');

const HELP = `npm start [-- options]   (or: node examples/local-session.js [options])

A host serves the embedded scene desktop over WebSocket on 127.0.0.1 and a
Node viewer connects, decodes and acks every update; at the end the viewer's
framebuffer must equal the host's screen byte for byte (exit 1 if not).

Options
  --loops N           play the scripted session N times (default 1)
  --fast              no real-time pacing (the host at up to 240 fps)
  --snapshot FILE     PNG of the viewer's screen at the end (default tilecast-snapshot.png)
  --link TRACE        put an emulated LTE link between them: a trace name in
                      ${DEFAULT_TRACES_DIR}
                      (e.g. ATT-LTE-driving: .down host→viewer, .up viewer→host),
                      or a path to a trace file or pair; a trace with one direction
                      only is used for both
  --link list         list the traces in that folder and exit
  --delay MS          one-way delay added by the emulated link (default 20)
  -h, --help          this text

Examples
  npm start
  npm start -- --fast --loops 3
  npm start -- --link ATT-LTE-driving --delay 40
  npm start -- --link ../my-traces/train.down
`;

const { values: args } = parseCommandLine(HELP, {
  loops: { type: 'string', default: '1' },
  fast: { type: 'boolean', default: false },
  snapshot: { type: 'string', default: 'tilecast-snapshot.png' },
  link: { type: 'string' },
  delay: { type: 'string', default: '20' },
});
for (const [name, min] of [['loops', 1], ['delay', 0]]) {
  if (!/^\d+$/.test(args[name]) || Number(args[name]) < min) fail(`--${name} must be a whole number >= ${min}, got ${args[name]}`, 2);
}
if (args.link === 'list') {
  try {
    const traces = listLinkTraces();
    console.log(`traces in ${DEFAULT_TRACES_DIR}:`);
    for (const t of traces) console.log(`  ${t.name.padEnd(36)} ${t.down && t.up ? 'down + up' : `${t.down ? 'down' : 'up'} only (used both ways)`}`);
  } catch (err) {
    fail(err.message);
  }
  process.exit(0);
}

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
  let linkNote = null;
  if (args.link) {
    const traces = loadLinkTraces(args.link);
    const delayMs = Number(args.delay);
    emulator = await LinkEmulator.start({ targetPort: host.port, down: { trace: traces.down, delayMs }, up: { trace: traces.up, delayMs } });
    url = `ws://127.0.0.1:${emulator.port}/`;
    linkNote = traces.note;
  }
  const latencies = [];
  host.on('ack', (a) => latencies.push(a.displayedAt - a.oldestChangeTime));

  console.log(`tilecast: host ${host.url} serving the scene desktop ${source.width}x${source.height}, ${total} frames, SIMD ${simdLevel()}`);
  if (emulator) console.log(`link: ${args.link} traces, ${args.delay} ms one-way delay, viewer connects to ${url}`);
  if (linkNote) console.log(`link: ${linkNote}`);
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

main().catch((err) => fail(`npm start: ${err.message}`));
