#!/usr/bin/env node
// A Node viewer: connects to a tilecast host, keeps the decoded screen in memory,
// prints live stats once a second and writes PNG snapshots on request.
//
//   node examples/viewer.js ws://127.0.0.1:8765/ --password s3cret
//   node examples/viewer.js wss://gateway/ --user alice --password s3cret --ca ca.pem
//
// Snapshots: press `s` (in a terminal), send SIGUSR2, or pass --snapshot-every SECONDS;
// files go to --out (default: the current directory). --exit-after SECONDS stops
// after a while and writes a last snapshot.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { connectViewer, encodePng } = require('tilecast');

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    user: { type: 'string', default: 'viewer' },
    password: { type: 'string', default: process.env.TILECAST_PASSWORD },
    ca: { type: 'string' },
    out: { type: 'string', default: '.' },
    'snapshot-every': { type: 'string' },
    'exit-after': { type: 'string' },
    quiet: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (args.help || positionals.length !== 1) {
  console.log(fs.readFileSync(__filename, 'utf8').split('\n').slice(1, 11).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
  process.exit(args.help ? 0 : 2);
}

const headers = args.password ? { authorization: `Basic ${Buffer.from(`${args.user}:${args.password}`).toString('base64')}` } : {};
const viewer = connectViewer(positionals[0], { headers, ca: args.ca ? fs.readFileSync(args.ca) : undefined });

let snapshots = 0;
function snapshot(reason) {
  if (!viewer.framebuffer) return console.log('snapshot: no picture yet');
  fs.mkdirSync(args.out, { recursive: true });
  const file = path.join(args.out, `tilecast-${new Date().toISOString().replace(/[:.]/g, '-')}-${++snapshots}.png`);
  fs.writeFileSync(file, encodePng(viewer.framebuffer, viewer.width, viewer.height));
  console.log(`snapshot (${reason}): ${file} ${viewer.width}x${viewer.height}`);
}

// Stats over the last second: updates, bytes, update-to-display latency.
let window = { updates: 0, bytes: 0, latencies: [] };
viewer.on('update', (u) => {
  window.updates++;
  window.bytes += u.bytes;
  window.latencies.push(u.displayedAt - u.captureTime);
});
viewer.on('open', () => console.log(`connected to ${viewer.url}`));
viewer.on('resize', ({ width, height }) => console.log(`screen ${width}x${height}`));
viewer.on('hostClose', (m) => console.log(`host said ${m.type}: ${m.message}`));
viewer.on('close', ({ code, reason, willReconnect }) => console.log(`closed (${code} ${reason})${willReconnect ? ', reconnecting' : ''}`));
viewer.on('reconnect', ({ attempt }) => console.log(`reconnect attempt ${attempt}`));
viewer.on('error', (err) => console.error(`error: ${err.message}`));

const stats = setInterval(() => {
  if (args.quiet) return;
  const l = window.latencies.sort((a, b) => a - b);
  const p50 = l.length ? l[Math.floor(l.length / 2)].toFixed(0) : '-';
  console.log(`${window.updates} updates/s, ${(window.bytes * 8 / 1000).toFixed(0)} kbit/s, latency p50 ${p50} ms (same clock only), ` +
    `total ${viewer.updates} updates ${(viewer.bytesReceived / 1e6).toFixed(2)} MB, cursor ${viewer.cursor.x},${viewer.cursor.y}`);
  window = { updates: 0, bytes: 0, latencies: [] };
}, 1000);

process.on('SIGUSR2', () => snapshot('SIGUSR2'));
if (process.stdin.isTTY) {
  process.stdin.setRawMode(true);
  process.stdin.on('data', (d) => {
    if (d[0] === 0x73) snapshot('key s');
    if (d[0] === 0x03 || d[0] === 0x71) quit(); // Ctrl-C or q
  });
  console.log('press s for a PNG snapshot, q to quit');
}
if (args['snapshot-every']) setInterval(() => snapshot('timer'), Number(args['snapshot-every']) * 1000);

function quit() {
  clearInterval(stats);
  viewer.close();
  process.exit(0);
}
process.on('SIGINT', quit);
if (args['exit-after']) {
  setTimeout(() => {
    snapshot('exit');
    quit();
  }, Number(args['exit-after']) * 1000);
}
