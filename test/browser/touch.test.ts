// The viewer on a phone: Chromium's mobile emulation with touch (390x844 CSS
// pixels at device pixel ratio 3) against a real host streaming a 1920x1080
// desktop. Fingers go in through CDP Input.dispatchTouchEvent (several at
// once); what must come out is exactly the expected POINTER messages at the
// expected remote pixels, or a zoom/pan of the picture. Functional checks only.
import t from 'tap';
import { chromium, Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import sharp from 'sharp';
import { Host, InputEvent, createHost } from '../../src/host/host';
import { viewerPage } from '../../src/host/viewerPage';
import type { PointerMessage } from '../../src/protocol/messages';
import { PushSource } from '../../src/source/pushSource';
import { loadScene } from '../../src/source/sceneSource';
import type { Frame } from '../../src/frame';
import { until } from '../helpers';
import { ARGS, CHROMIUM, canvasAtRest, rgbaOf, skipWithoutChromium as skip } from './helpers';

const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true };

let browser: Browser;
t.before(async () => {
  if (!skip) browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
});
t.teardown(async () => browser?.close());

interface Phone {
  host: Host;
  page: Page;
  cdp: CDPSession;
  frame: Frame;
  /** POINTER messages the host received since the last `take()`. */
  take(): Promise<string[]>;
  /** Waits until at least `n` POINTER messages arrived since the last `take()`. */
  arrived(n: number): Promise<void>;
  /** The client (CSS) point over the middle of remote pixel (x, y), as the page places the canvas now. */
  at(x: number, y: number): Promise<{ x: number; y: number }>;
  view(): Promise<{ left: number; top: number; scale: number; zoom: number }>;
  touch(type: 'touchStart' | 'touchMove' | 'touchEnd', points: Array<{ x: number; y: number; id?: number }>): Promise<void>;
}

const fmt = (p: PointerMessage) => `${p.x},${p.y} b${p.buttons}${p.wheelX || p.wheelY ? ` w${p.wheelX},${p.wheelY}` : ''}`;

async function phone(t: { teardown(fn: () => unknown): void }, frame = loadScene('desktop'), device: object = PHONE): Promise<Phone> {
  const source = new PushSource();
  const host = await createHost({ source, httpHandler: viewerPage() });
  t.teardown(() => host.close());
  source.push(frame);
  const context: BrowserContext = await browser.newContext(device);
  t.teardown(() => context.close());
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  t.teardown(() => {
    if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
  });
  await page.goto(host.url.replace(/^ws/, 'http'));
  const inputs: PointerMessage[] = [];
  host.on('input', (e: InputEvent) => e.message.type === 'pointer' && inputs.push(e.message));
  const cdp = await context.newCDPSession(page);
  const view = () => page.evaluate(() => {
    const v = (window as any).tilecastViewer.view.placement();
    return { left: v.left, top: v.top, scale: v.scale, zoom: (window as any).tilecastViewer.view.zoom() };
  });
  return {
    host, page, cdp, frame,
    async take() {
      // Input travels in order on one socket: wait until nothing new arrived for a while.
      let n = -1;
      while (n !== inputs.length) {
        n = inputs.length;
        await new Promise((r) => setTimeout(r, 300));
      }
      return inputs.splice(0).map(fmt);
    },
    arrived: (n) => until(() => inputs.length >= n, `${n} pointer messages`),
    async at(x, y) {
      const v = await view();
      return { x: v.left + (x + 0.5) * v.scale, y: v.top + (y + 0.5) * v.scale };
    },
    view,
    async touch(type, points) {
      await cdp.send('Input.dispatchTouchEvent', { type, touchPoints: points.map((p, i) => ({ x: p.x, y: p.y, id: p.id ?? i })) });
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('phone, touchscreen mode: each gesture gives exactly the expected input at the expected pixel', { skip }, async (t) => {
  const p = await phone(t);
  t.equal(await canvasAtRest(p.host, p.page, p.frame), null, 'the desktop is on the canvas');
  const v = await p.view();
  t.equal(v.scale.toFixed(4), (390 / 1920).toFixed(4), 'fit to the phone width');

  // Tap: a left click exactly there.
  let a = await p.at(300, 500);
  await p.touch('touchStart', [a]);
  await p.touch('touchEnd', []);
  await p.arrived(3);
  t.same(await p.take(), ['300,500 b0', '300,500 b1', '300,500 b0'], 'tap = move, press, release at the tapped pixel');

  // Taps on the black border above and below the screen: nothing.
  await sleep(350); // not a double tap
  await p.touch('touchStart', [{ x: 200, y: 20 }]);
  await p.touch('touchEnd', []);
  await p.touch('touchStart', [{ x: 200, y: 830 }]);
  await p.touch('touchEnd', []);
  t.same(await p.take(), [], 'border taps are ignored');

  // Long press: a right click, sent while the finger is still down; lifting adds nothing.
  a = await p.at(1000, 300);
  await p.touch('touchStart', [a]);
  await p.arrived(3); // with the finger still down
  const held = await p.take();
  await p.touch('touchEnd', []);
  t.same(held, ['1000,300 b0', '1000,300 b4', '1000,300 b0'], 'long press = right click at the pixel, while held');
  t.same(await p.take(), [], 'nothing on release');

  // Two-finger tap: a right click at the midpoint.
  const b1 = await p.at(800, 600), b2 = await p.at(1000, 600);
  await p.touch('touchStart', [b1, b2]);
  await p.touch('touchEnd', []);
  await p.arrived(3);
  t.same(await p.take(), ['900,600 b0', '900,600 b4', '900,600 b0'], 'two-finger tap = right click between the fingers');

  // Two-finger scroll: wheel only, never a button, however the fingers land.
  await p.touch('touchStart', [b1]);
  await p.touch('touchStart', [b1, b2]);
  for (const dy of [-5, -15, -30, -45]) await p.touch('touchMove', [{ x: b1.x, y: b1.y + dy }, { x: b2.x, y: b2.y + dy }]);
  await p.touch('touchEnd', []);
  await p.arrived(3); // 45 px past the 10 px slop: three moves of 15
  const scroll = await p.take();
  t.ok(scroll.length >= 2, `scroll events: ${scroll.join(' | ')}`);
  t.ok(scroll.every((s) => / b0 w0,\d+$/.test(s)), 'only wheel-down messages with no button');
  t.equal(scroll.reduce((n, s) => n + Number(/w0,(\d+)/.exec(s)![1]), 0), 45, 'fingers up 45 px = 45 px of wheel');

  // One-finger drag: press where it started, moves, release where it ended.
  a = await p.at(400, 400);
  await p.touch('touchStart', [a]);
  await p.touch('touchMove', [{ x: a.x + 20, y: a.y }]);
  await p.touch('touchMove', [{ x: a.x + 40.6, y: a.y + 20.3 }]);
  await p.touch('touchEnd', []);
  await p.arrived(5);
  const to = (dx: number) => Math.floor((a.x + dx - v.left) / v.scale);
  t.same(await p.take(), ['400,400 b0', '400,400 b1', `${to(20)},400 b1`, `${to(40.6)},${Math.floor((a.y + 20.3 - v.top) / v.scale)} b1`, `${to(40.6)},${Math.floor((a.y + 20.3 - v.top) / v.scale)} b0`], 'drag = press, moves, release');
});

t.test('phone: double tap zooms to 1:1 there, device-pixel-exact; pan; pinch; reset', { skip }, async (t) => {
  const p = await phone(t);
  t.equal(await canvasAtRest(p.host, p.page, p.frame), null);
  const a = await p.at(960, 540);
  for (let i = 0; i < 2; i++) {
    await p.touch('touchStart', [a]);
    await p.touch('touchEnd', []);
  }
  let v = await p.view();
  t.equal(v.zoom, 1, 'double tap at fit: exactly one remote pixel per device pixel');
  await p.arrived(3);
  const clicks = await p.take();
  t.same(clicks, ['960,540 b0', '960,540 b1', '960,540 b0'], 'the first tap clicked; the second only zoomed');
  const centre = { x: Math.floor((a.x - v.left) / v.scale), y: Math.floor((a.y - v.top) / v.scale) };
  t.ok(Math.abs(centre.x - 960) <= 1 && Math.abs(centre.y - 540) <= 1, `the tapped pixel stays under the finger (${centre.x},${centre.y})`);

  // What the screen shows (device pixels) equals the host frame at 1:1.
  const shot = await sharp(await p.page.screenshot()).raw().ensureAlpha().toBuffer({ resolveWithObject: true });
  t.equal(shot.info.width, 390 * 3, 'the screenshot is in device pixels');
  const dx0 = Math.round(v.left * 3), dy0 = Math.round(v.top * 3);
  const want = rgbaOf(p.frame);
  let bad = -1;
  // Device pixels inside the picture (640x360 CSS, centred in height), below the overlay.
  const region = { x: 200, y: dy0 + 150, w: 800, h: 700 };
  t.ok(dy0 + 150 + 700 <= dy0 + 1080 && dx0 + 1920 >= 1000, 'the region is inside the picture');
  for (let y = region.y; y < region.y + region.h && bad < 0; y++) {
    for (let x = region.x; x < region.x + region.w; x++) {
      const s = (y * shot.info.width + x) * 4, rx = x - dx0, ry = y - dy0, w = (ry * p.frame.width + rx) * 4;
      if (shot.data[s] !== want[w] || shot.data[s + 1] !== want[w + 1] || shot.data[s + 2] !== want[w + 2]) {
        bad = s;
        t.fail(`device pixel (${x},${y}) = remote (${rx},${ry}): ${shot.data.subarray(s, s + 3).join()} vs ${want.subarray(w, w + 3).join()}`);
        break;
      }
    }
  }
  if (bad < 0) t.pass(`a ${region.w}x${region.h} device-pixel region equals the host frame`);

  // Zoomed in, one finger pans (no input reaches the host) and a tap still hits the pixel under it.
  const before = await p.view();
  await p.touch('touchStart', [{ x: 200, y: 400 }]);
  for (const d of [15, 40, 80]) await p.touch('touchMove', [{ x: 200 + d, y: 400 + d / 2 }]);
  await p.touch('touchEnd', []);
  v = await p.view();
  t.same([v.left - before.left, v.top - before.top], [80, 0], 'the picture followed the finger sideways (it is less tall than the phone: centred)');
  t.same(await p.take(), [], 'a pan sends nothing');
  const b = await p.at(800, 500);
  await p.touch('touchStart', [b]);
  await p.touch('touchEnd', []);
  await p.arrived(3);
  t.same(await p.take(), ['800,500 b0', '800,500 b1', '800,500 b0'], 'a tap after the pan lands on the right pixel');
  await sleep(350);

  // Pinch out to 3x, around the midpoint; no input reaches the host.
  const mid = { x: 195, y: 400 };
  const under = { x: Math.floor((mid.x - v.left) / v.scale), y: Math.floor((mid.y - v.top) / v.scale) };
  await p.touch('touchStart', [{ x: mid.x - 50, y: mid.y }, { x: mid.x + 50, y: mid.y }]);
  for (const d of [60, 80, 100, 150, 200, 300, 400]) await p.touch('touchMove', [{ x: mid.x - d, y: mid.y }, { x: mid.x + d, y: mid.y }]);
  await p.touch('touchEnd', []);
  v = await p.view();
  t.equal(v.zoom, 3, 'pinch stops at 3 remote pixels... per device pixel (the maximum)');
  const now = { x: Math.floor((mid.x - v.left) / v.scale), y: Math.floor((mid.y - v.top) / v.scale) };
  // Across: it stays under the fingers. Down: a picture less tall than the phone is kept centred while it grows.
  t.ok(Math.abs(now.x - under.x) <= 2, `the column between the fingers stayed there (${under.x},${under.y} → ${now.x},${now.y})`);
  t.same(await p.take(), [], 'a pinch sends nothing');

  // Pinch in past fit: back to fit, centred.
  await p.touch('touchStart', [{ x: mid.x - 150, y: mid.y }, { x: mid.x + 150, y: mid.y }]);
  for (const d of [130, 100, 60, 30, 20]) await p.touch('touchMove', [{ x: mid.x - d, y: mid.y }, { x: mid.x + d, y: mid.y }]);
  await p.touch('touchEnd', []);
  v = await p.view();
  t.equal(v.scale.toFixed(4), (390 / 1920).toFixed(4), 'pinched in: fit again');
  t.equal(v.left, 0);

  // A pinch that ends near 1:1 snaps to exactly 1:1.
  const fitZoom = v.zoom;
  const start = 100, end = Math.round(start / fitZoom * 1.05);
  await p.touch('touchStart', [{ x: mid.x - start / 2, y: mid.y }, { x: mid.x + start / 2, y: mid.y }]);
  await p.touch('touchMove', [{ x: mid.x - end / 2, y: mid.y }, { x: mid.x + end / 2, y: mid.y }]);
  await p.touch('touchEnd', []);
  t.equal((await p.view()).zoom, 1, `a pinch to ${(fitZoom * end / start).toFixed(3)} settles at 1:1`);

  await p.page.evaluate(() => (window as any).tilecastViewer.resetZoom());
  t.equal((await p.view()).scale.toFixed(4), (390 / 1920).toFixed(4), 'reset: fit');
});

t.test('phone, trackpad mode: the finger moves the pointer relatively; taps click where it is', { skip }, async (t) => {
  const p = await phone(t);
  t.equal(await canvasAtRest(p.host, p.page, p.frame), null);
  await p.page.evaluate(() => ((window as any).tilecastViewer.inputMode = 'trackpad'));
  // A known start: the pointer is where the last input put it; tap puts nothing new, so move it first.
  await p.touch('touchStart', [{ x: 100, y: 600 }]);
  for (const d of [-20, -40, -60]) await p.touch('touchMove', [{ x: 100 + d, y: 600 + d }]);
  await p.touch('touchEnd', []);
  await p.arrived(3);
  const home = await p.take();
  t.same(home.at(-1), '0,0 b0', `a swipe to the top-left corner takes the pointer there (${home.join(' | ')})`);
  const v = await p.view();
  // 39 CSS pixels of finger = 39 / scale remote pixels, wherever the finger is.
  await p.touch('touchStart', [{ x: 300, y: 100 }]);
  await p.touch('touchMove', [{ x: 320, y: 110 }]);
  await p.touch('touchMove', [{ x: 339, y: 125 }]);
  await p.touch('touchEnd', []);
  await p.arrived(2);
  const moved = await p.take();
  const want = { x: Math.round(39 / v.scale), y: Math.round(25 / v.scale) };
  t.same(moved.at(-1), `${want.x},${want.y} b0`, `the pointer moved by the finger's travel over the scale (${moved.join(' | ')})`);
  t.ok(moved.every((m) => m.endsWith('b0')), 'no button while moving');
  await sleep(400);
  await p.touch('touchStart', [{ x: 50, y: 700 }]); // anywhere: even on the border
  await p.touch('touchEnd', []);
  await p.arrived(3);
  t.same(await p.take(), [`${want.x},${want.y} b0`, `${want.x},${want.y} b1`, `${want.x},${want.y} b0`], 'a tap clicks at the pointer, not under the finger');
  await sleep(400);
  const b1 = { x: 100, y: 400 }, b2 = { x: 200, y: 400 };
  await p.touch('touchStart', [b1, b2]);
  await p.touch('touchEnd', []);
  await p.arrived(3);
  t.same(await p.take(), [`${want.x},${want.y} b0`, `${want.x},${want.y} b4`, `${want.x},${want.y} b0`], 'two-finger tap: right click at the pointer');
});

t.test('zoomed in: the trackpad pointer pans the view at the edge; typing brings the clicked spot back in sight', { skip }, async (t) => {
  const p = await phone(t);
  t.equal(await canvasAtRest(p.host, p.page, p.frame), null);
  // 1:1 around the middle (the toolbar's 1:1 button), then trackpad mode.
  await p.page.tap('.tilecast-button-toolbar');
  await p.page.tap('.tilecast-button-zoom');
  await p.page.tap('.tilecast-button-toolbar');
  let v = await p.view();
  t.equal(v.zoom, 1, 'at 1:1');
  await p.page.evaluate(() => ((window as any).tilecastViewer.inputMode = 'trackpad'));
  await p.take();
  // Swipe right, again and again: the pointer runs to the right edge of the view, and the view follows it.
  for (let i = 0; i < 4; i++) {
    await p.touch('touchStart', [{ x: 40, y: 400 }]);
    for (const d of [20, 60, 120, 200, 300]) await p.touch('touchMove', [{ x: 40 + d, y: 400 }]);
    await p.touch('touchEnd', []);
  }
  const moves = await p.take();
  const x = Number(moves.at(-1)!.split(',')[0]);
  v = await p.view();
  const shownRight = (390 - v.left) / v.scale;
  t.ok(v.left < (390 - 640) / 2, `the view panned right (left ${v.left.toFixed(1)})`);
  t.ok(x < shownRight && x > shownRight - 200, `the pointer (${x}) is still in view (up to ${shownRight.toFixed(0)})`);

  // Touchscreen again: tap a spot, pan it out of sight, then type: the view brings it back.
  await p.page.evaluate(() => ((window as any).tilecastViewer.inputMode = 'touch'));
  const spot = await p.at(x - 20, 540);
  await p.touch('touchStart', [spot]);
  await p.touch('touchEnd', []);
  await sleep(350);
  await p.touch('touchStart', [{ x: 100, y: 400 }]);
  for (const d of [20, 100, 200, 300]) await p.touch('touchMove', [{ x: 100 + d, y: 400 }]);
  await p.touch('touchEnd', []);
  const before = await p.at(x - 20, 540);
  t.ok(before.x > 390, `the clicked spot is off screen (x ${before.x.toFixed(0)})`);
  await p.page.evaluate(() => (window as any).tilecastViewer.focus());
  const leftBefore = (await p.view()).left;
  await p.cdp.send('Input.insertText', { text: 'a' });
  await p.page.waitForFunction((l) => (window as any).tilecastViewer.view.placement().left !== l, leftBefore, { timeout: 10_000 });
  const after = await p.at(x - 20, 540);
  t.ok(after.x >= 0 && after.x <= 390, `typing brought it back in sight (x ${after.x.toFixed(0)})`);
});

