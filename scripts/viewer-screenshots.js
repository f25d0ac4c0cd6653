#!/usr/bin/env node
// Screenshots of the browser viewer on a phone and a tablet for the README
// (docs/images/*.png): headless Debian Chromium with device emulation and
// touch, against a host streaming the built-in scenes. Run after `npm run build`.
'use strict';
const path = require('node:path');
const { chromium } = require('playwright-core');
const sharp = require('sharp');
const { createHost, PushSource, viewerPage } = require('tilecast');
const { loadScene } = require('tilecast/testing');

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const OUT = path.join(__dirname, '..', 'docs', 'images');

const SHOTS = [
  // A 390x844 phone at fit: the whole desktop, the toolbar open (Japanese UI).
  { file: 'viewer-phone.png', scene: 'desktop', device: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true, locale: 'ja-JP' }, toolbar: true },
  // The same phone in landscape after a double tap: 1:1 on the editor, every remote pixel on one device pixel.
  { file: 'viewer-phone-zoomed.png', scene: 'editor', device: { viewport: { width: 844, height: 390 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true, locale: 'ja-JP' }, doubleTap: { x: 300, y: 200 } },
  // A tablet in landscape, English UI.
  { file: 'viewer-tablet.png', scene: 'japanese', device: { viewport: { width: 1180, height: 820 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'en-US' }, toolbar: true },
];

async function main() {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
  try {
    for (const s of SHOTS) {
      const source = new PushSource();
      source.push(loadScene(s.scene));
      const host = await createHost({ source, httpHandler: viewerPage() });
      const context = await browser.newContext(s.device);
      const page = await context.newPage();
      await page.goto(host.url.replace(/^ws/, 'http'));
      await page.waitForFunction(() => window.tilecastViewer?.stats.painted > 0 && window.tilecastViewer.stats.rttMs !== null);
      if (s.toolbar) await page.tap('.tilecast-button-toolbar');
      if (s.doubleTap) {
        const cdp = await context.newCDPSession(page);
        const v = await page.evaluate(() => window.tilecastViewer.view.placement());
        const at = { x: v.left + s.doubleTap.x * v.scale, y: v.top + s.doubleTap.y * v.scale };
        for (let i = 0; i < 2; i++) {
          await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [at] });
          await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
        }
      }
      await page.waitForTimeout(1200); // the stats line after a full second
      // CSS pixels (not device pixels) and a palette PNG: small files for the README.
      const png = await page.screenshot({ scale: 'css' });
      const out = path.join(OUT, s.file);
      await sharp(png).png({ palette: true, quality: 90, compressionLevel: 9 }).toFile(out);
      console.log(`${s.file}: ${(require('node:fs').statSync(out).size / 1024).toFixed(0)} KiB`);
      await context.close();
      await host.close();
    }
  } finally {
    await browser.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
