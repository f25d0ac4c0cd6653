#!/usr/bin/env node
// Bundles the browser viewer (src/browser) into dist/browser/: one ES module
// with the protocol, the op-stream decoder and pako, plus the page that the
// example host serves at `/`. Run by `npm run build` and on install (prepare).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const root = path.join(__dirname, '..');
const out = path.join(root, 'dist', 'browser');
fs.mkdirSync(out, { recursive: true });
esbuild.buildSync({
  entryPoints: [path.join(root, 'src', 'browser', 'index.ts')],
  outfile: path.join(out, 'tilecast-viewer.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome100', 'firefox100', 'safari15'],
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  // The decode Worker is this same module: the viewer finds its own URL here.
  banner: { js: 'const __tilecastModuleUrl = import.meta.url;' },
  logLevel: 'warning',
});
// The audio worklets (jitter buffer, microphone frames) load on the audio thread from their own file.
esbuild.buildSync({
  entryPoints: [path.join(root, 'src', 'browser', 'audio', 'worklets.ts')],
  outfile: path.join(out, 'tilecast-audio-worklet.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome100', 'firefox100', 'safari15'],
  minify: true,
  logLevel: 'warning',
});
for (const file of ['index.html', 'start.js']) fs.copyFileSync(path.join(root, 'src', 'browser', file), path.join(out, file));
const size = fs.statSync(path.join(out, 'tilecast-viewer.js')).size;
console.log(`viewer bundle: dist/browser/tilecast-viewer.js (${(size / 1024).toFixed(1)} KiB)`);
