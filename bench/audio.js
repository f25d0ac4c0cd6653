#!/usr/bin/env node
// Two-way audio over an emulated LTE link: mouth-to-ear latency of the PC's
// sound (host capture time → played by the viewer's jitter buffer), concealed
// frames, audio kbit/s each way and the host's Opus encode CPU — with the pixel
// stream idle (the baseline) and saturated by a video region and by scrolling,
// in the same run.
//
//   node bench/audio.js [--quick] [--seconds N] [--only video,scroll] [--arrivals DIR]
//
// --only runs the named rows alone (A/B trials) and writes no results file.
// --arrivals saves each row's frame arrivals to DIR/<row>.json, for
// bench/audio-replay.js (playout policies compared on identical arrivals).
//
// Real components: a private PulseAudio server (null sink) playing a known
// signal, the host's capture (parec on the sink's monitor, Opus on its worker
// thread), the host's send path (audio ahead of pixels, stale frames dropped),
// LinkEmulator with ../shared/traces/ATT-LTE-driving (.down host → viewer, .up
// viewer → host), 20 ms one-way each way, and a Node ViewerClient. The host
// (with its screen source) runs in this process; the link, the viewer and the
// PC's media player each in a process of their own, so that no one's event
// loop delays another's timing (as on real machines and networks). Playout is
// the browser viewer's own policy, src/audio/jitterBuffer.ts (timed playout,
// as the AudioWorklet runs it), on the frames' arrival times: a pull every
// 20 ms from the first arrival; a played frame's mouth-to-ear is its pull time
// − its capture time (same machine, same clock; the speaker's own output
// latency is not included). Stages: the host's capture delay (last sample
// played → frame on the host's JS thread: parec, framing, Opus, thread hop),
// transit (capture → arrival at the viewer) and the jitter buffer's delay. The viewer
// also sends its microphone (a 24 kbit/s voice stream) for the uplink rate.
//
// Concealment is counted outside trace outages too: an outage is a gap of
// more than OUTAGE_MS between delivery opportunities of the downlink trace;
// frames captured from its start to OUTAGE_TAIL_MS after its end are in it.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { createHost } = require('tilecast');
const { DeliveryTrace, startPulseServer, pulseUnavailableReason, loadScene } = require('tilecast/testing');
const { VideoFrames } = require('./lib/videoFrames');
const { ScrollWorkload } = require('./lib/liveWorkloads');
const { Child } = require('./lib/child');
const { simulatePlayout } = require('./lib/playout');

const quick = process.argv.includes('--quick');
const secondsArg = process.argv.indexOf('--seconds');
const seconds = secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : quick ? 8 : 60;
const ROWS = ['idle', 'video', 'scroll'];
const onlyArg = process.argv.indexOf('--only');
const arrivalsArg = process.argv.indexOf('--arrivals');
const arrivalsDir = arrivalsArg > 0 ? process.argv[arrivalsArg + 1] : null;
const only = onlyArg > 0 ? String(process.argv[onlyArg + 1] ?? '').split(',') : null;
if (only && (only.length === 0 || only.some((r) => !ROWS.includes(r)))) {
  console.error(`bench/audio.js: --only takes rows from ${ROWS.join(', ')}, comma-separated`);
  process.exit(2);
}
const traceDir = path.join(__dirname, '..', '..', 'shared', 'traces');
const TRACE = 'ATT-LTE-driving';
const DELAY_MS = 20;
const OUTAGE_MS = 200;
const OUTAGE_TAIL_MS = 500;
const wall = () => performance.timeOrigin + performance.now();

/** Pixels idle: one still screen. */
class IdleWorkload {
  constructor() {
    this.frame = loadScene('document');
    this.width = this.frame.width;
    this.height = this.frame.height;
    this.sent = false;
  }
  async nextFrame() {
    if (this.sent) await new Promise((r) => setTimeout(r, 1000));
    this.sent = true;
    return { ...this.frame, timestamp: wall() };
  }
  close() {}
}

/**
 * A 640×360 video region playing at 30 fps on the document: photographic, changing every frame (JPEG at the
 * link's rate). Frames are made on a worker thread (bench/lib/videoFrames.js), as a real capture grabs off
 * the host's event loop.
 */
class VideoWorkload {
  constructor() {
    this.frames = new VideoFrames('document', { x: 200, y: 150, w: 640, h: 360 });
    const base = loadScene('document');
    this.width = base.width;
    this.height = base.height;
    this.n = 0;
    this.next = 0;
  }
  async nextFrame() {
    const wait = this.next - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    this.next = performance.now() + 1000 / 30;
    return { ...(await this.frames.frame(this.n++)), timestamp: wall() };
  }
  close() {
    this.frames.close();
  }
}

function outages(trace, horizonMs) {
  const out = [];
  let n = trace.firstAtOrAfter(0);
  let prev = 0;
  for (; ; n++) {
    const t = trace.timeOf(n);
    if (t - prev > OUTAGE_MS) out.push([prev, t]);
    prev = t;
    if (t > horizonMs) break;
  }
  return out;
}

async function run(pixels, traces, pulse) {
  const source = pixels === 'idle' ? new IdleWorkload() : pixels === 'video' ? new VideoWorkload() : new ScrollWorkload();
  const host = await createHost({ source, fps: 30, audio: { server: pulse.server, microphone: true } });
  host.on('error', () => {});
  // The link and the viewer run in processes of their own, as they do for real (bench/lib/linkProcess.js, audioViewer.js).
  const link = { delayMs: DELAY_MS, queueBytes: 256 * 1024 };
  const emu = new Child('linkProcess.js', { targetPort: host.port, down: { ...link, trace: traces.files.down }, up: { ...link, trace: traces.files.up } });
  let epoch = wall(); // when the link (and its trace) starts: the emulator says when the connection opens
  let connected = false; // the first connection's epoch: a reconnect would restart the trace, and is reported below
  let reconnects = 0;
  emu.on((msg) => {
    if (msg.type !== 'connection') return;
    if (connected) reconnects++;
    else epoch = msg.epoch;
    connected = true;
  });
  const { port } = await emu.ready;
  const viewer = new Child('audioViewer.js', { url: `ws://127.0.0.1:${port}/` });
  await viewer.ready;
  // The sound, from a process of its own (see bench/lib/soundPlayer.js).
  await new Promise((r) => setTimeout(r, 300));
  const player = new Child('soundPlayer.js', { server: pulse.server });
  await player.ready;
  const measureFrom = wall() + 1000; // the first second warms up (capture start, first keyframe)
  await new Promise((r) => setTimeout(r, seconds * 1000 + 1000));
  // A helper that died during the run (the player's pactl failing, the link crashing) leaves a row without sound: fail.
  for (const [name, child] of [['sound player', player], ['link emulator', emu], ['viewer', viewer]]) {
    if (child.proc.exitCode !== null || child.proc.signalCode !== null) throw new Error(`bench/audio.js: the ${name} process exited during the ${pixels} run`);
  }
  if (reconnects > 0) throw new Error(`bench/audio.js: the viewer reconnected ${reconnects} time(s) during the ${pixels} run (the trace restarted): the row is not comparable`);
  await player.stop(10_000);
  const stats = host.viewers()[0];
  const audioStats = host.audioStats();
  const pixelBytes = stats ? stats.bytesSent - (stats.audio?.bytesSent ?? 0) : 0;
  const { arrivals, pixelArrivals, audioBytesDown, micBytes, micSeconds } = await viewer.call('finish');
  await viewer.stop();
  await emu.stop();
  await host.close();
  source.close();

  const outs = outages(traces.down, seconds * 1000 + 5000);
  const inOutage = (captureTime) => outs.some(([a, b]) => captureTime - epoch >= a && captureTime - epoch <= b + OUTAGE_TAIL_MS);
  if (arrivalsDir) {
    fs.mkdirSync(arrivalsDir, { recursive: true });
    fs.writeFileSync(path.join(arrivalsDir, `${pixels}.json`), JSON.stringify({ pixels, epoch, measureFrom, outages: outs, outageTailMs: OUTAGE_TAIL_MS, arrivals, pixelArrivals }));
  }
  const playout = simulatePlayout(arrivals, { measureFrom, inOutage, pixels: pixelArrivals });
  return {
    pixels, seconds, ...playout,
    droppedAtHost: stats?.audio ? { stale: stats.audio.droppedStale + stats.audio.droppedFull, stalled: stats.audio.droppedStalled } : null,
    audioKbpsDown: (audioBytesDown * 8) / (seconds + 1) / 1000,
    audioKbpsUp: (micBytes * 8) / micSeconds / 1000,
    micFramesAtHost: audioStats?.microphoneFrames ?? 0,
    pixelKbps: (pixelBytes * 8) / (seconds + 1.3) / 1000,
    encodeMsPerSecond: audioStats?.encodeMsPerSecond ?? null,
    /** Last sample played → the frame on the host's JS thread, ms. */
    captureDelay: audioStats?.captureDelayMs ?? null,
  };
}

async function main() {
  const files = ['down', 'up'].map((d) => path.join(traceDir, `${TRACE}.${d}`));
  for (const f of files) {
    if (!fs.existsSync(f)) {
      console.error(`bench/audio.js: trace ${f} is missing: the shared traces folder must sit beside the project. Skipping the audio benchmark.`);
      return;
    }
  }
  const why = pulseUnavailableReason();
  if (why) {
    console.error(`bench/audio.js: ${why}. Skipping the audio benchmark.`);
    return;
  }
  const traces = { down: DeliveryTrace.load(files[0]), up: DeliveryTrace.load(files[1]), files: { down: files[0], up: files[1] } };
  const pulse = await startPulseServer();
  console.log(`# Audio over ${TRACE} (down ${traces.down.meanMbps.toFixed(2)} Mbit/s mean, up ${traces.up.meanMbps.toFixed(2)} Mbit/s mean), ${DELAY_MS} ms one-way, ${seconds} s per run`);
  console.log(`# outages (downlink gaps > ${OUTAGE_MS} ms) in the measured span: ${outages(traces.down, (seconds + 2) * 1000).map(([a, b]) => `${(a / 1000).toFixed(1)}–${(b / 1000).toFixed(1)} s`).join(', ') || 'none'}`);
  console.log('| pixels | frames | mouth-to-ear p50 / p95 / p99 ms | host capture delay p50 / p95 ms | transit p50 / p95 ms | concealed % (outside outages %) | underruns / lost / late / skipped | host drops stale / stalled link | final target ms | audio kbit/s down / up | pixel kbit/s | encode ms per s |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  const rows = [];
  try {
    for (const pixels of only ?? ROWS) {
      const r = await run(pixels, traces, pulse);
      rows.push(r);
      console.log(`| ${pixels} | ${r.played} | ${r.mouthToEar.p50.toFixed(0)} / ${r.mouthToEar.p95.toFixed(0)} / ${r.mouthToEar.p99.toFixed(0)} | ${r.captureDelay ? `${r.captureDelay.p50.toFixed(0)} / ${r.captureDelay.p95.toFixed(0)}` : '-'} | ${r.transit.p50.toFixed(0)} / ${r.transit.p95.toFixed(0)} | ${r.concealedPercent.toFixed(2)} (${r.concealedOutsideOutagesPercent.toFixed(2)}) | ${r.underruns} / ${r.lost} / ${r.late} / ${r.skipped} | ${r.droppedAtHost ? `${r.droppedAtHost.stale} / ${r.droppedAtHost.stalled}` : '-'} | ${r.finalTargetMs} | ${r.audioKbpsDown.toFixed(1)} / ${r.audioKbpsUp.toFixed(1)} | ${r.pixelKbps.toFixed(0)} | ${r.encodeMsPerSecond?.toFixed(1) ?? '-'} |`);
    }
  } finally {
    await pulse.stop();
  }
  if (only) return; // a trial of some rows: no idle baseline to compare with, nothing written
  const idle = rows[0];
  for (const r of rows.slice(1)) console.log(`# ${r.pixels} vs idle: mouth-to-ear p95 ×${(r.mouthToEar.p95 / idle.mouthToEar.p95).toFixed(2)}`);
  const dir = path.join(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const out = path.join(dir, quick ? 'audio-quick.json' : 'audio.json');
  fs.writeFileSync(out, JSON.stringify({
    date: new Date().toISOString(), trace: TRACE, delayMs: DELAY_MS, seconds, outageMs: OUTAGE_MS,
    targets: { idleP95: '<= 150 ms', saturatedP95: '<= 250 ms', concealedOutsideOutages: '< 1 %', kbpsPerDirection: '<= 40' }, rows,
  }, null, 2) + '\n');
  console.log(`\nresults: ${path.relative(process.cwd(), out)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
