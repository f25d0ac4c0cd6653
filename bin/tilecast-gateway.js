#!/usr/bin/env node
// tilecast-gateway: the example gateway app (src/gateway/, docs/gateway.md).
// Runs the compiled TypeScript in dist/ (built by `npm install` / `npm run build`).
'use strict';
let main;
try {
  ({ main } = require('../dist/gateway/cli/main.js'));
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes('dist/gateway/cli/main.js')) {
    console.error('tilecast-gateway: dist/ is not built; run `npm run build` in the tilecast package first');
    process.exit(1);
  }
  throw err;
}
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(`tilecast-gateway: ${(err && err.stack) || err}`);
    process.exitCode = 1;
  },
);
