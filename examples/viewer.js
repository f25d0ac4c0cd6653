#!/usr/bin/env node
// A Node viewer: connects to a tilecast host, keeps the decoded screen in memory,
// prints live stats once a second and writes PNG snapshots on request.
// `node examples/viewer.js --help` lists the options.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { connectViewer, encodePng, ErrorCodes } = require('tilecast');
const { parseCommandLine, fail, say } = require('./lib/cli');

const HELP = `node examples/viewer.js URL [options]

Connects to a tilecast host, keeps its screen in memory, prints live stats
once a second and writes PNG snapshots. URL is the host's ws:// or wss://
address, or the http(s):// one it prints for browsers (turned into ws(s)://).

Options
  --password PW          the host's password (default $TILECAST_PASSWORD), sent as HTTP Basic
  --user NAME            the user name for the host's audit log (default viewer)
  --ca FILE              trust this CA / self-signed certificate (PEM) for wss://
  --out DIR              where snapshots go (default .)
  --snapshot-every S     a snapshot every S seconds
  --exit-after S         stop after S seconds, with a last snapshot
  --connect-timeout S    give up if the first connection is not up after S seconds (default 20)
  --quiet                no per-second stats
  -h, --help             this text

Snapshots: press s (in a terminal) or send SIGUSR2; q or Ctrl-C quits.
Exit status: 0 after --exit-after or q, 1 when the host refuses the password
or cannot be reached, 2 for a wrong option.

Examples
  node examples/viewer.js ws://127.0.0.1:8765/ --password s3cret
  node examples/viewer.js http://office-pc:8765/ --password s3cret --exit-after 10
  node examples/viewer.js wss://office-pc:8765/ --password s3cret --ca cert.pem
`;

const { values: args, positionals } = parseCommandLine(HELP, {
  user: { type: 'string', default: 'viewer' },
  password: { type: 'string', default: process.env.TILECAST_PASSWORD },
  ca: { type: 'string' },
  out: { type: 'string', default: '.' },
  'snapshot-every': { type: 'string' },
  'exit-after': { type: 'string' },
  'connect-timeout': { type: 'string', default: '20' },
  quiet: { type: 'boolean', default: false },
}, { allowPositionals: true });

if (positionals.length !== 1) fail('give the host\'s URL, e.g. ws://office-pc:8765/ (--help for more)', 2);
for (const name of ['snapshot-every', 'exit-after', 'connect-timeout']) {
  if (args[name] !== undefined && !(Number(args[name]) > 0)) fail(`--${name} must be a number of seconds > 0, got ${args[name]}`, 2);
}

/** ws(s):// as given; http(s):// (what the host prints for browsers) becomes ws(s)://. */
function viewerUrl(given) {
  let url;
  try {
    url = new URL(given);
  } catch {
    fail(`not a URL: ${given} (expected ws://, wss://, http:// or https://)`, 2);
  }
  const scheme = { 'ws:': 'ws:', 'wss:': 'wss:', 'http:': 'ws:', 'https:': 'wss:' }[url.protocol];
  if (!scheme) fail(`unsupported URL scheme ${url.protocol} (expected ws://, wss://, http:// or https://)`, 2);
  url.protocol = scheme;
  if (url.searchParams.get('password') === '…') url.searchParams.delete('password'); // the placeholder the host prints
  return url.toString();
}

const url = viewerUrl(positionals[0]);
if (url !== positionals[0]) console.log(`connecting to ${url}`);
const headers = args.password ? { authorization: `Basic ${Buffer.from(`${args.user}:${args.password}`).toString('base64')}` } : {};
let ca;
try {
  ca = args.ca ? fs.readFileSync(args.ca) : undefined;
} catch (err) {
  fail(`--ca: ${err.message}`);
}
// Latency of the first picture is measured from the start of the connection attempt
// (its capture time is when the host's screen last changed, which may be long before).
let connectStartedAt = Date.now();
const viewer = connectViewer(url, { headers, ca });
viewer.on('reconnect', () => (connectStartedAt = Date.now()));

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
let firstOfConnection = true;
viewer.on('update', (u) => {
  window.updates++;
  window.bytes += u.bytes;
  if (firstOfConnection) {
    firstOfConnection = false;
    console.log(`first picture ${(u.displayedAt - connectStartedAt).toFixed(0)} ms after connecting`);
  }
  window.latencies.push(u.displayedAt - Math.max(u.captureTime, connectStartedAt));
});
viewer.on('open', () => {
  firstOfConnection = true;
  console.log(`connected to ${viewer.url}`);
});
viewer.on('resize', ({ width, height }) => console.log(`screen ${width}x${height}`));
viewer.on('hostClose', (m) => console.log(`host said ${m.type}: ${m.message}`));
viewer.on('close', ({ code, reason, willReconnect }) => console.log(`closed (${code} ${reason})${willReconnect ? ', reconnecting' : ''}`));
viewer.on('reconnect', ({ attempt }) => console.log(`reconnect attempt ${attempt}`));
viewer.on('error', (err) => {
  if (err.code === ErrorCodes.UNAUTHORIZED) {
    fail(say(`接続が拒否されました。パスワード（またはユーザー）が正しくないか、接続が許可されていません: ${err.message}`,
      `The host refused the connection: wrong password (or user), or not allowed: ${err.message}`));
  }
  console.error(`error: ${err.message}`);
});
// The first connection: a refused password ends it at once (above); other errors
// (connection refused, DNS) are retried with backoff until --connect-timeout.
(async () => {
  const deadline = Date.now() + Number(args['connect-timeout']) * 1000;
  let last = null;
  for (;;) {
    try {
      return await viewer.ready({ timeoutMs: Math.max(1, deadline - Date.now()) });
    } catch (err) {
      if (err.code === ErrorCodes.UNAUTHORIZED) return;
      if (err.code !== ErrorCodes.TIMEOUT && err.code !== ErrorCodes.UNAVAILABLE) last = err;
      if (err.code === ErrorCodes.TIMEOUT || err.code === ErrorCodes.UNAVAILABLE || Date.now() >= deadline) {
        const why = last ? `: ${last.message}` : '';
        fail(say(`${url} に ${args['connect-timeout']} 秒以内に接続できませんでした（アドレスとネットワークを確認してください）${why}`,
          `Could not connect to ${url} within ${args['connect-timeout']} s (check the address and the network)${why}`));
      }
    }
  }
})();

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
