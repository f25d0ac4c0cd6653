#!/usr/bin/env node
// Renders the HTML scenes in assets/scenes/ with Debian's Chromium at 1920x1080 and
// stores each as a .tcf.gz frame (see src/source/frameFile.ts) for the scene source,
// tests and benchmarks. Run after editing a scene:  node scripts/render-scenes.js
// Needs: apt-get install chromium fonts-noto-cjk; sharp (devDependency) for PNG decode.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const sharp = require('sharp');
const { writeFrameFile } = require('../dist/source/frameFile.js');

const root = path.join(__dirname, '..');
const sceneDir = path.join(root, 'assets', 'scenes');
const chromium = process.env.CHROMIUM || '/usr/bin/chromium';

// The editor shows one of our own source files; "editor-typed" is the same screen
// after a comment was typed at the end of line 40 (the scene source replays the typing).
const source = fs.readFileSync(path.join(root, 'native', 'codec', 'tile_decoder.cc'), 'utf8');
const typedLine = 39;
const typedSource = source
  .split('\n')
  .map((l, i) => (i === typedLine ? l + '  // bounded by the framebuffer size' : l))
  .join('\n');

const scenes = [
  { name: 'editor', html: 'editor.html', inject: source },
  { name: 'editor-typed', html: 'editor.html', inject: typedSource },
  { name: 'document', html: 'document.html' },
  { name: 'desktop', html: 'desktop.html' },
  { name: 'japanese', html: 'japanese.html' },
  // A long page for scrolling workloads: 4x the screen height.
  { name: 'longdoc', html: 'longdoc.html', height: 4320 },
];

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tilecast-render-'));
  for (const scene of scenes) {
    let html = fs.readFileSync(path.join(sceneDir, scene.html), 'utf8');
    if (scene.inject !== undefined) {
      html = html.replace('<script>', `<script>window.SOURCE=${JSON.stringify(scene.inject)};</script><script>`);
    }
    const page = path.join(tmp, `${scene.name}.html`);
    const png = path.join(tmp, `${scene.name}.png`);
    fs.writeFileSync(page, html);
    execFileSync(chromium, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--hide-scrollbars', '--force-device-scale-factor=1',
      `--user-data-dir=${path.join(tmp, 'profile')}`, `--window-size=1920,${scene.height || 1080}`, `--screenshot=${png}`, `file://${page}`,
    ], { stdio: 'ignore' });
    const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    // sharp gives RGBA; frames are BGRA.
    for (let i = 0; i < data.length; i += 4) {
      const r = data[i];
      data[i] = data[i + 2];
      data[i + 2] = r;
    }
    const out = path.join(sceneDir, `${scene.name}.tcf.gz`);
    writeFrameFile(out, { width: info.width, height: info.height, stride: info.width * 4, data });
    console.log(`${scene.name}: ${info.width}x${info.height} -> ${path.relative(root, out)} (${fs.statSync(out).size} bytes)`);
  }
  fs.rmSync(tmp, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
