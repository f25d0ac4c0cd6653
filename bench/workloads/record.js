#!/usr/bin/env node
// Workload recorder: runs real programs on a private 1920x1080 Xvfb, drives them
// with xdotool, and records the screen losslessly (ffmpeg x11grab -> raw in
// memory -> FFV1) to
// bench/workloads/recordings/<name>.mkv (not committed: regenerate them).
//
//   node bench/workloads/record.js              # every workload
//   node bench/workloads/record.js typing-ja    # one
//   sudo bash bench/workloads/setup.sh          # the Debian packages it needs
//
// Workloads: typing English and Japanese text in a terminal; scrolling a long
// document with tables and charts in Chromium; a video playing in a window over
// a desktop; switching between full-screen windows.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startXvfb } = require('../lib/xvfb');

const W = 1920, H = 1080, FPS = 30;
const OUT = path.join(__dirname, 'recordings');
const SCENES = path.join(__dirname, '..', '..', 'assets', 'scenes');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const ENGLISH = 'The quarterly budget review is scheduled for Thursday at 10:00. Please send your department figures by Wednesday noon, ' +
  'including travel, equipment and training costs. Remote staff can join through the usual gateway link.';
const JAPANESE = '来週の会議は木曜日の午前十時から始まります。各部署の予算案を水曜日の正午までに提出してください。' +
  '出張費、備品、研修費を含めてお願いします。在宅勤務の方はいつものゲートウェイから参加できます。';

function chromium(env, url, dataDir) {
  return spawn('chromium', ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--disable-features=Translate', `--user-data-dir=${dataDir}`, '--window-position=0,0', `--window-size=${W},${H}`, '--kiosk', url], { env, stdio: 'ignore' });
}

function xterm(env, geometry, args, extra = []) {
  return spawn('xterm', ['-u8', '-fa', 'Noto Sans Mono CJK JP', '-fs', '14', '-bg', '#fdf6e3', '-fg', '#073642', '-geometry', geometry, ...extra, '-e', ...args], { env, stdio: 'ignore' });
}

const xdo = (env, ...args) => spawnSync('xdotool', args, { env, stdio: 'ignore' });

/** Each workload: start programs, then drive them for `seconds`. */
const WORKLOADS = {
  'typing-en': {
    seconds: 25,
    async start(env) { return [xterm(env, '150x42+0+0', ['cat'])]; },
    async drive(env) { xdo(env, 'type', '--delay', '120', ENGLISH); },
  },
  'typing-ja': {
    seconds: 25,
    async start(env) { return [xterm(env, '150x42+0+0', ['cat'])]; },
    // Composed text as an IME would commit it: a few characters at a time.
    async drive(env) {
      for (const chunk of JAPANESE.match(/.{1,4}/gu)) {
        xdo(env, 'type', '--delay', '60', chunk);
        await sleep(350);
      }
    },
  },
  'scroll-doc': {
    seconds: 25,
    async start(env, tmp) { return [chromium(env, `file://${path.join(SCENES, 'longdoc.html')}`, path.join(tmp, 'chromium'))]; },
    // Read, scroll a screenful with the wheel, read again.
    async drive(env, until) {
      xdo(env, 'mousemove', String(W / 2), String(H / 2));
      while (Date.now() < until) {
        for (let i = 0; i < 10 && Date.now() < until; i++) {
          xdo(env, 'click', '5');
          await sleep(80);
        }
        await sleep(1200);
      }
    },
  },
  video: {
    seconds: 25,
    async start(env, tmp) {
      // A 960x540 clip with continuous motion and smooth gradients, made here
      // (no downloads): a Mandelbrot zoom with film grain.
      const clip = path.join(tmp, 'clip.mkv');
      spawnSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'mandelbrot=size=960x540:rate=30', '-vf', 'noise=alls=12:allf=t', '-t', '40', '-c:v', 'libx264', '-crf', '16', '-pix_fmt', 'yuv420p', clip]);
      const desk = xterm(env, '200x56+0+0', ['sh', '-c', 'ls -l /usr/share/doc | head -200; exec sleep 600']);
      await sleep(800);
      return [desk, spawn('ffplay', ['-v', 'error', '-an', '-noborder', '-left', '480', '-top', '270', clip], { env, stdio: 'ignore' })];
    },
    async drive() {},
  },
  'window-switch': {
    seconds: 25,
    async start(env, tmp) {
      return [
        xterm(env, '200x56+0+0', ['sh', '-c', 'ls -lR /usr/share/doc | head -400; exec sleep 600'], ['-title', 'files']),
        chromium(env, `file://${path.join(SCENES, 'document.html')}`, path.join(tmp, 'chromium')),
        xterm(env, '200x56+0+0', ['top', '-d', '1'], ['-title', 'top', '-bg', '#101820', '-fg', '#e0e0e0']),
      ];
    },
    async drive(env, until) {
      const ids = () => spawnSync('xdotool', ['search', '--onlyvisible', '--class', 'xterm|chromium'], { env, encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
      for (let i = 0; Date.now() < until; i++) {
        const all = ids();
        if (all.length) xdo(env, 'windowraise', all[i % all.length]);
        await sleep(2000);
      }
    },
  },
};


async function record(name) {
  const w = WORKLOADS[name];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `tilecast-rec-${name}-`));
  const xvfb = await startXvfb(W, H);
  const env = { ...process.env, DISPLAY: xvfb.display, LANG: 'C.UTF-8' };
  const procs = [];
  try {
    spawnSync('xsetroot', ['-solid', '#3b6e8f'], { env });
    procs.push(...(await w.start(env, tmp)));
    await sleep(4000); // programs up and drawn
    const file = path.join(OUT, `${name}.mkv`);
    // Grab uncompressed into memory first (FFV1 of a 1080p video at 30 fps is more than two
    // cores do while the video also plays: x11grab dropped half the frames), then compress.
    const raw = path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : tmp, `tilecast-rec-${name}-${process.pid}.nut`);
    const ff = spawn('ffmpeg', ['-v', 'error', '-y', '-f', 'x11grab', '-framerate', String(FPS), '-video_size', `${W}x${H}`, '-draw_mouse', '0', '-i', `${xvfb.display}+0,0`,
      '-t', String(w.seconds), '-c:v', 'rawvideo', '-pix_fmt', 'bgr0', '-f', 'nut', raw], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    const done = new Promise((r) => ff.once('exit', r));
    await sleep(500);
    await w.drive(env, Date.now() + (w.seconds - 1) * 1000);
    const code = await done;
    if (code !== 0) throw new Error(`ffmpeg exited with ${code}`);
    const pack = spawnSync('ffmpeg', ['-v', 'error', '-y', '-i', raw, '-c:v', 'ffv1', '-level', '3', '-slices', '4', '-threads', '2', '-pix_fmt', 'bgr0', file], { stdio: ['ignore', 'ignore', 'inherit'] });
    fs.rmSync(raw, { force: true });
    if (pack.status !== 0) throw new Error(`ffmpeg (FFV1) exited with ${pack.status}`);
    // x11grab drops frames when the machine cannot keep up; such a recording
    // replays with repeated frames and understates the workload.
    const probe = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file], { encoding: 'utf8' });
    const frames = Number(probe.stdout.trim()) || null;
    const meta = { name, width: W, height: H, fps: FPS, seconds: w.seconds, frames, recordedAt: new Date().toISOString(), bytes: fs.statSync(file).size };
    fs.writeFileSync(path.join(OUT, `${name}.json`), JSON.stringify(meta, null, 2));
    console.log(`${name}: ${file} (${(meta.bytes / 1e6).toFixed(1)} MB, ${frames} frames)`);
    if (frames !== null && frames < 0.9 * FPS * w.seconds) {
      console.log(`warning: ${name} captured only ${frames} of ${FPS * w.seconds} frames (the machine was busy); re-record it on an idle machine`);
    }
  } finally {
    for (const p of procs) p.kill('SIGKILL');
    xvfb.proc.kill();
    // Chromium's helpers may still be writing their profile for a moment.
    fs.rmSync(tmp, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }
}

async function main() {
  const missing = ['Xvfb', 'xterm', 'xdotool', 'xsetroot', 'ffmpeg', 'ffplay', 'chromium'].filter((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0);
  // Without the font, xterm draws the Japanese as empty boxes in a fallback font, and the typing
  // recordings look nothing like the real thing (it happened: 2026-12-04).
  const font = spawnSync('fc-list', [':family=Noto Sans Mono CJK JP'], { encoding: 'utf8' });
  if (font.status !== 0 || !font.stdout.trim()) missing.push('the font Noto Sans Mono CJK JP (fonts-noto-cjk)');
  if (missing.length) {
    console.error(`missing: ${missing.join(', ')}; run: sudo bash ${path.join(__dirname, 'setup.sh')}`);
    process.exit(2);
  }
  fs.mkdirSync(OUT, { recursive: true });
  const names = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(WORKLOADS);
  for (const n of names) {
    if (!WORKLOADS[n]) throw new Error(`unknown workload ${n}; known: ${Object.keys(WORKLOADS).join(', ')}`);
    await record(n);
  }
}

module.exports = { WORKLOADS: Object.keys(WORKLOADS), OUT };
if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
