// Runs inside Windows Node (node.exe under Wine) for test/windows/*.test.ts and
// bench/windows.js: drives tilecast's Windows backends and writes what it saw
// to files (Windows Node under Wine cannot write to a pipe).
//   agent.js capture OUT.json OUT.raw BACKEND   one full frame (raw BGRA) and what the source reported
//   agent.js input OUT.json EVENTS.json          injects [op, ...args] events through WindowsInputSink
//   agent.js host READY STOP                     a host with WindowsSource + WindowsInputSink until STOP exists
//   agent.js bench OUT.json SECONDS              GDI grab timings (bench/windows.js)
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const tilecast = require(path.join(__dirname, '..', '..', 'dist', 'index.js'));
const { WindowsSource, WindowsInputSink, InputRouter, createHost, keysymFor } = tilecast;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const write = (file, value) => fs.writeFileSync(file, typeof value === 'string' || Buffer.isBuffer(value) ? value : JSON.stringify(value));

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
    width: frame.width, height: frame.height, backend: source.backend, fallbackReason: source.fallbackReason,
    features: source.features, damage: frame.damage, cursor: { x: frame.cursor.x, y: frame.cursor.y, visible: frame.cursor.visible },
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

async function host(readyFile, stopFile) {
  const source = await WindowsSource.open();
  const h = await createHost({ source, fps: 30 });
  const sink = WindowsInputSink.open();
  new InputRouter(sink).attach(h);
  write(readyFile, JSON.stringify({ url: h.url, backend: source.backend, fallbackReason: source.fallbackReason }));
  while (!fs.existsSync(stopFile)) await sleep(100);
  sink.close();
  await h.close();
  source.close();
}

const [cmd, ...args] = process.argv.slice(2);
const commands = { capture, input, host };
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
