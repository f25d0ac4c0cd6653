// Runs inside Windows Node (node.exe under Wine) for test/windows/*.test.ts and
// bench/windows.js: drives tilecast's Windows backends and writes what it saw
// to files (Windows Node under Wine cannot write to a pipe).
//   agent.js capture OUT.json OUT.raw BACKEND   one full frame (raw BGRA) and what the source reported
//   agent.js input OUT.json EVENTS.json          injects [op, ...args] events through WindowsInputSink
//   agent.js host READY STOP [AUDIO.json]        a host with WindowsSource + WindowsInputSink until STOP exists;
//                                                its CPU time from STOP.mark appearing to STOP goes to STOP.cpu.json;
//                                                AUDIO.json: HostOptions.audio (WASAPI); READY then lists the sound devices
//   agent.js grabs OUT.json SAMPLES              full GDI grab times against memcpy of the same bytes (bench/windows.js)
//   agent.js keylag OUT.json APPDIR TRIALS [QUIET_MS]  a quiet screen's change to the GDI frame: typed, and not (bench/windows.js)
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const tilecast = require(path.join(__dirname, '..', '..', 'dist', 'index.js'));
const { WindowsSource, WindowsInputSink, InputRouter, createHost, keysymFor, listAudioDevices } = tilecast;
const { nativeAddonPath } = require(path.join(__dirname, '..', '..', 'dist', 'native', 'binding.js'));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Written whole then renamed into place: the Linux test polls these files while the agent rewrites
// them, and a plain writeFileSync lets it read a truncated file (stop 33's CI: a state file read
// mid-write came back empty, so the host's microphone count read as undefined).
const write = (file, value) => {
  fs.writeFileSync(`${file}.part`, typeof value === 'string' || Buffer.isBuffer(value) ? value : JSON.stringify(value));
  fs.renameSync(`${file}.part`, file);
};

async function capture(outJson, outRaw, backend) {
  let source;
  try {
    source = await WindowsSource.open({ backend });
  } catch (err) {
    write(outJson, { error: err.message, code: err.code });
    return;
  }
  const frame = await source.nextFrame();
  const raw = Buffer.alloc(frame.width * frame.height * 4);
  for (let y = 0; y < frame.height; y++) raw.set(frame.data.subarray(y * frame.stride, y * frame.stride + frame.width * 4), y * frame.width * 4);
  write(outRaw, raw);
  write(outJson, {
    addon: nativeAddonPath(),
    width: frame.width, height: frame.height, backend: source.backend, fallbackReason: source.fallbackReason,
    features: source.features, damage: frame.damage, cursor: { x: frame.cursor.x, y: frame.cursor.y, visible: frame.cursor.visible },
    shape: frame.cursor.shape && { width: frame.cursor.shape.width, height: frame.cursor.shape.height, hotX: frame.cursor.shape.hotX, hotY: frame.cursor.shape.hotY,
      opaque: frame.cursor.shape.pixels.filter((_, i) => i % 4 === 3 && frame.cursor.shape.pixels[i] === 255).length },
  });
  source.close();
}

async function input(outJson, eventsJson) {
  const sink = WindowsInputSink.open();
  const results = [];
  for (const [op, ...a] of JSON.parse(fs.readFileSync(eventsJson, 'utf8'))) {
    if (op === 'move') sink.move(a[0], a[1]);
    else if (op === 'button') sink.button(a[0], a[1]);
    else if (op === 'wheel') sink.wheel(a[0], a[1]);
    else if (op === 'key') results.push(sink.key(keysymFor(a[0], a[1]), a[2]));
    else if (op === 'keysym') results.push(sink.key(a[0], a[1]));
    else if (op === 'sleep') await sleep(a[0]);
    await sleep(15);
  }
  write(outJson, { size: [sink.width, sink.height], mapped: results });
  sink.close();
}

async function host(readyFile, stopFile, audioJson) {
  const source = await WindowsSource.open();
  const audio = audioJson ? JSON.parse(fs.readFileSync(audioJson, 'utf8')) : undefined;
  const h = await createHost({ source, fps: 30, audio });
  const sink = WindowsInputSink.open();
  new InputRouter(sink).attach(h);
  const errors = [];
  h.on('error', (err) => errors.push(err.message));
  const sound = audio && {
    devices: listAudioDevices(), unavailable: h.audioUnavailableReason, microphoneUnavailable: h.microphoneUnavailableReason,
    microphone: await h.prepareMicrophone(),
  };
  write(readyFile, JSON.stringify({ url: h.url, backend: source.backend, fallbackReason: source.fallbackReason, sound }));

  let mark = null;
  while (!fs.existsSync(stopFile)) {
    if (!mark && fs.existsSync(`${stopFile}.mark`)) mark = { cpu: process.cpuUsage(), t: performance.now(), grabs: source.grabStats.grabs };
    if (audio) write(`${stopFile}.errors`, JSON.stringify({ errors, stats: h.audioStats() }));
    await sleep(100);
  }
  if (mark) {
    const cpu = process.cpuUsage(mark.cpu);
    write(`${stopFile}.cpu.json`, { cpuMs: (cpu.user + cpu.system) / 1000, wallMs: performance.now() - mark.t, grabs: source.grabStats.grabs - mark.grabs });
  }
  sink.close();
  await h.close();
  source.close();
}

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

async function grabs(outJson, samples) {
  const source = await WindowsSource.open({ backend: 'gdi', verifyIntervalMs: 100 });
  const grabMs = [];
  let bytes = 0;
  let copy = null;
  const copyMs = [];
  while (grabMs.length < Number(samples)) {
    const f = await source.nextFrame();
    if (f.damage.length !== 1 || f.damage[0].w !== f.width || f.damage[0].h !== f.height) continue;
    grabMs.push(source.grabStats.lastGrabMs);
    // Baseline: a memcpy of the same bytes in the same process.
    bytes = f.stride * f.height;
    copy ??= Buffer.alloc(bytes);
    const t0 = performance.now();
    copy.set(f.data.subarray(0, bytes));
    copyMs.push(performance.now() - t0);
  }
  write(outJson, { width: source.width, height: source.height, backend: source.backend, bytes, grabMs: median(grabMs), memcpyMs: median(copyMs), samples: grabMs.length });
  source.close();
}

// How long a change on a quiet screen takes to reach a GDI capture frame, alternately
// for a repaint caused by a key typed through WindowsInputSink and one the test
// program makes by itself (a "repaint" command in APPDIR\cmd, no input): TRIALS of each,
// each after a quiet spell of QUIET_MS plus up to 250 ms at random (the slowed polling's
// period: a fixed wait would fall at the same point of it every time), so that the GDI
// backend has slowed its polling (bench/windows.js).
async function keylag(outJson, appDir, trials, quietMs = '1500') {
  const source = await WindowsSource.open({ backend: 'gdi', verifyIntervalMs: 600_000 });
  const sink = WindowsInputSink.open();
  const frames = [];
  let open = true;
  const pump = (async () => {
    while (open) {
      const f = await source.nextFrame().catch(() => null);
      if (f && f.damage.length > 0) frames.push(performance.now());
    }
  })();
  const frameAfter = async (t0) => {
    const end = performance.now() + 5000;
    while (performance.now() < end) {
      const t = frames.find((x) => x > t0);
      if (t !== undefined) return t - t0;
      await sleep(1);
    }
    throw new Error('no capture frame within 5 s of the change');
  };
  const typed = [], untyped = [];
  let n = 0;
  for (let i = 0; i < Number(trials); i++) {
    await sleep(Number(quietMs) + Math.random() * 250);
    let t0 = performance.now();
    sink.key(keysymFor('KeyA', 'a'), true);
    sink.key(keysymFor('KeyA', 'a'), false);
    typed.push(await frameAfter(t0));
    await sleep(Number(quietMs) + Math.random() * 250);
    n++;
    fs.writeFileSync(path.join(appDir, 'cmd.tmp'), `${n} repaint 0 0\n`);
    // Windows refuses to replace a file another process has open (the program reads cmd every 30 ms).
    for (let tries = 0; ; tries++) {
      try {
        fs.renameSync(path.join(appDir, 'cmd.tmp'), path.join(appDir, 'cmd'));
        break;
      } catch (err) {
        if (err.code !== 'EPERM' || tries >= 50) throw err;
        await sleep(2);
      }
    }
    t0 = performance.now();
    untyped.push(await frameAfter(t0));
  }
  open = false;
  write(outJson, { backend: source.backend, typed, untyped });
  sink.close();
  source.close();
  await Promise.race([pump, sleep(1000)]);
}

const [cmd, ...args] = process.argv.slice(2);
const commands = { capture, input, host, grabs, keylag };
if (!commands[cmd]) {
  console.error(`unknown command ${cmd}`);
  process.exit(2);
}
commands[cmd](...args).then(() => process.exit(0), (err) => {
  try {
    write(args[0], { error: String(err && err.stack || err) });
  } catch {}
  process.exit(1);
});
