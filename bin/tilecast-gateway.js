#!/usr/bin/env node
// tilecast-gateway: the example gateway app (src/gateway/, docs/gateway.md).
// Runs the compiled TypeScript in dist/ (built by `npm install` / `npm run build`).
'use strict';
const { spawn } = require('node:child_process');

let main, splitDataDir, nodeFlags;
try {
  ({ main, splitDataDir } = require('../dist/gateway/cli/main.js'));
  nodeFlags = require('../dist/relay/nodeFlags.js');
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes('dist/')) {
    console.error('tilecast-gateway: dist/ is not built; run `npm run build` in the tilecast package first');
    process.exit(1);
  }
  throw err;
}

const args = process.argv.slice(2);

// `serve` forwards every session's bytes: it runs in a Node started with a larger young generation
// (src/relay/nodeFlags.ts says why). Flags only take effect at start, so restart once with them,
// unless the user sized the young generation already (their choice wins).
const RESTARTED = 'TILECAST_GATEWAY_NODE_FLAGS_APPLIED';
const serving = splitDataDir(args).rest[0] === 'serve';
if (serving && !process.env[RESTARTED] && !nodeFlags.youngGenerationConfigured(process.execArgv, process.env.NODE_OPTIONS)) {
  // The user's flags go too, but not the inspector's (it would clash on this launcher's port).
  const child = spawn(process.execPath, [...nodeFlags.RELAY_NODE_FLAGS, ...nodeFlags.flagsForGateway(process.execArgv), __filename, ...args], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'], // the channel tells the gateway if this launcher dies
    env: { ...process.env, [RESTARTED]: '1' },
  });
  // The child is the gateway: pass signals on, end as it ends.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
  child.on('error', (err) => {
    console.error(`tilecast-gateway: could not start the gateway process: ${err.message}`);
    process.exit(1);
  });
} else {
  main(args).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      console.error(`tilecast-gateway: ${(err && err.stack) || err}`);
      process.exitCode = 1;
    },
  );
}
