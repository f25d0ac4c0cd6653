#!/usr/bin/env node
// X11 capture cost and idle CPU, on a private 1920x1080 Xvfb.
//
//  - grab cost of a full 1080p frame: MIT-SHM and XGetImage, against a memcpy of
//    the same 8 MB in the same run;
//  - grab cost of the small damage rects of a clock ticking in an xterm;
//  - idle CPU of a host streaming an unchanging screen to a viewer at 30 fps
//    capture: tilecast (XDamage hints) against a polling baseline in the same
//    run (TILECAST_X11_NO_DAMAGE: grab + diff every frame). Counted for the host
//    process and for the X server (which does the copying for every grab).
//
// Needs Xvfb and xterm (Debian: xvfb, xterm); says so and skips when missing.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const { writeResult } = require('./lib/results');
const { startXvfb } = require('./lib/xvfb');
const { X11Source, createHost, connectViewer } = require('tilecast');

const quick = process.argv.includes('--quick');
const W = 1920, H = 1080;

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}


/** CPU time (ms) a process has used, from /proc. */
function processCpuMs(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

/** Opens an X11Source with extra environment switches (read by the native backend when it opens). */
async function openWith(env, options) {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    return await X11Source.open(options);
  } finally {
    Object.keys(env).forEach((k) => (saved[k] === undefined ? delete process.env[k] : (process.env[k] = saved[k])));
  }
}

async function grabCost(display, env, samples) {
  const source = await openWith(env, { display, verifyIntervalMs: 100 });
  const full = [];
  while (full.length < samples) {
    const f = await source.nextFrame();
    if (f.damage.length === 1 && f.damage[0].w === W && f.damage[0].h === H) full.push(source.grabStats.lastGrabMs);
  }
  source.close();
  return median(full);
}

async function smallGrabs(display, samples) {
  const source = await X11Source.open({ display, verifyIntervalMs: 3_600_000 });
  await source.nextFrame(); // the first frame is the whole screen
  const ms = [], pixels = [];
  while (ms.length < samples) {
    const f = await source.nextFrame();
    if (f.damage.length === 0) continue;
    ms.push(source.grabStats.lastGrabMs);
    pixels.push(f.damage.reduce((n, r) => n + r.w * r.h, 0));
  }
  source.close();
  return { ms: median(ms), pixels: median(pixels) };
}

async function idleCpu(xvfb, env, seconds) {
  const source = await openWith(env, { display: xvfb.display });
  const host = await createHost({ source, fps: 30 });
  const viewer = connectViewer(host.url, { reconnect: false });
  await sleep(2000); // first frame sent, everything warm
  const cpu0 = process.cpuUsage(), x0 = processCpuMs(xvfb.proc.pid), t0 = performance.now();
  const grabs0 = source.grabStats.grabs;
  await sleep(seconds * 1000);
  const cpu = process.cpuUsage(cpu0), x1 = processCpuMs(xvfb.proc.pid), wall = performance.now() - t0;
  const grabs = source.grabStats.grabs - grabs0;
  viewer.close();
  await host.close();
  source.close();
  return { hostPct: ((cpu.user + cpu.system) / 1000 / wall) * 100, xPct: ((x1 - x0) / wall) * 100, grabsPerSecond: grabs / (wall / 1000) };
}

async function main() {
  const missing = ['Xvfb', 'xterm'].filter((c) => !have(c));
  if (missing.length) {
    console.log(`capture bench skipped: ${missing.join(', ')} not installed (Debian: xvfb xterm)`);
    return;
  }
  const xvfb = await startXvfb(W, H);
  const clock = spawn('xterm', ['-geometry', '40x4+100+100', '-e', 'sh', '-c', 'while :; do date +%T.%N; sleep 0.1; done'], { env: { ...process.env, DISPLAY: xvfb.display }, stdio: 'ignore' });
  const samples = quick ? 5 : 30;
  try {
    await sleep(1000);
    // Baseline: copying the frame's bytes once.
    const src = Buffer.alloc(W * H * 4, 7), dst = Buffer.alloc(W * H * 4);
    const copies = [];
    for (let i = 0; i < samples * 4; i++) {
      const t = performance.now();
      src.copy(dst);
      copies.push(performance.now() - t);
    }
    const memcpyMs = median(copies);
    console.log(`capture bench on Xvfb ${xvfb.display}: full grabs...`);
    const shmMs = await grabCost(xvfb.display, {}, samples);
    const getImageMs = await grabCost(xvfb.display, { TILECAST_X11_NO_SHM: '1' }, samples);
    console.log('damage-driven grabs...');
    const small = await smallGrabs(xvfb.display, samples);
    clock.kill();
    await sleep(500);
    const seconds = quick ? 3 : 20;
    console.log(`idle CPU, ${seconds} s each...`);
    const idle = await idleCpu(xvfb, {}, seconds);
    const polling = await idleCpu(xvfb, { TILECAST_X11_NO_DAMAGE: '1' }, seconds);

    const results = {
      date: new Date().toISOString(), quick, screen: `${W}x${H}`,
      fullGrab: { shmMs, getImageMs, memcpyMs, shmVsMemcpy: shmMs / memcpyMs, getImageVsShm: getImageMs / shmMs },
      smallGrab: small,
      idle: { seconds, fps: 30, tilecast: idle, polling, hostRatio: idle.hostPct / polling.hostPct },
    };
    const md = [
      `# Capture benchmark (${results.date}${quick ? ', quick' : ''})`,
      '',
      `Private Xvfb ${W}x${H}x24; medians of ${samples} samples.`,
      '',
      '| what | tilecast | baseline (same run) | ratio |',
      '|---|---|---|---|',
      `| full 1080p grab, MIT-SHM | ${shmMs.toFixed(2)} ms | memcpy of 8 MB: ${memcpyMs.toFixed(2)} ms | ${(shmMs / memcpyMs).toFixed(2)}× |`,
      `| full 1080p grab, XGetImage fallback | ${getImageMs.toFixed(2)} ms | MIT-SHM: ${shmMs.toFixed(2)} ms | ${(getImageMs / shmMs).toFixed(2)}× |`,
      `| damage-driven grab (clock in an xterm, ${small.pixels} px) | ${small.ms.toFixed(3)} ms | full grab: ${shmMs.toFixed(2)} ms | ${(small.ms / shmMs).toFixed(3)}× |`,
      `| idle host CPU, unchanging screen, 30 fps, 1 viewer | ${idle.hostPct.toFixed(2)} % of a core (${idle.grabsPerSecond.toFixed(1)} grabs/s) | polling, no XDamage: ${polling.hostPct.toFixed(2)} % (${polling.grabsPerSecond.toFixed(1)} grabs/s) | ${(idle.hostPct / polling.hostPct).toFixed(3)}× |`,
      `| idle X server CPU caused by capture | ${idle.xPct.toFixed(2)} % | polling: ${polling.xPct.toFixed(2)} % | |`,
      '',
      'Target: idle host CPU < 2 % of a core at 30 fps.',
      '',
    ].join('\n');
    console.log(md);
    writeResult('capture.json', results, quick);
    writeResult('capture.md', md, quick);
  } finally {
    clock.kill();
    xvfb.proc.kill();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
