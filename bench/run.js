#!/usr/bin/env node
// `npm run bench [-- --quick]`: every benchmark of the project, in order
// (the full run takes about 75 minutes: soak.js alone runs 10, latency.js about 35).
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const args = process.argv.slice(2);
for (const script of ['micro.js', 'live.js', 'reconnect.js', 'audio.js', 'capture.js', 'windows.js', 'browser.js', 'session.js', 'viewers.js', 'latency.js', 'gateway.js', 'soak.js']) {
  const r = spawnSync(process.execPath, [path.join(__dirname, script), ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
