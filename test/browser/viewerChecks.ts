// The viewer checks that are the same in every engine: viewer.test.ts runs them
// in Chromium (playwright-core), firefox.test.ts in Firefox (puppeteer-core),
// each driving its own page; these take what the pages have in common.
import type { Test } from 'tap';
import type { Host, InputEvent } from '../../src/host/host';
import { Modifier } from '../../src/protocol/constants';
import type { PushSource } from '../../src/source/pushSource';
import type { Frame } from '../../src/frame';
import { videoFrame } from '../helpers';
import { EvaluatingPage, canvasAtRest, crop } from './helpers';

/** The first screen of checkScreensExact (push it before the page opens). */
export const FIRST_SCREEN = (): Frame => crop('editor', 800, 500);

/** The first screen, typed text, a Japanese screen, then a smaller screen: each exact on the canvas at rest. */
export async function checkScreensExact(t: Test, source: PushSource, host: Host, page: EvaluatingPage): Promise<void> {
  t.equal(await canvasAtRest(host, page, FIRST_SCREEN()), null, 'first screen exact');
  for (const [what, f] of [['typed text', crop('editor-typed', 800, 500)], ['Japanese screen', crop('japanese', 800, 500, 300, 200)], ['resized screen', crop('document', 640, 400)]] as const) {
    source.push(f);
    t.equal(await canvasAtRest(host, page, f), null, `${what} exact`);
  }
}

/** The screen of checkVideoThenExact. */
export const VIDEO_BASE = (): Frame => crop('document', 640, 384);

/** 20 frames of video over VIDEO_BASE: the stats say JPEG while it plays, and the canvas is exact once it stops. */
export async function checkVideoThenExact(t: Test, source: PushSource, host: Host, page: EvaluatingPage): Promise<void> {
  const a = VIDEO_BASE();
  t.equal(await canvasAtRest(host, page, a), null, 'first screen exact');
  const video = { x: 128, y: 64, w: 256, h: 192 };
  let last = a;
  const codecs = new Set<string>();
  for (let n = 0; n < 20; n++) {
    last = videoFrame(a, video, n);
    source.push(last);
    await new Promise((r) => setTimeout(r, 40));
    codecs.add(await page.evaluate(() => (window as any).tilecastViewer.stats.codec as string));
  }
  t.ok(codecs.has('jpeg'), `while the video plays the stats say JPEG (${[...codecs].join(', ')})`);
  t.equal(await canvasAtRest(host, page, last), null, 'byte-identical at rest after refinement');
}

/** After checkVideoThenExact: the host's side of it. */
export function checkVideoRefined(t: Test, host: Host): void {
  const v = host.viewers()[0]!;
  t.ok(v.lossyUpdates > 0, `${v.lossyUpdates} updates carried JPEG`);
  t.equal(v.quality.lossyTiles, 0, 'no tile left lossy');
  t.equal(v.keyframes, 1, 'no refresh was asked for: every JPEG decoded in the page');
}

/** What the host gets from a click at (100, 50) then typing "Hi", Shift+A and Enter. */
export function checkClickAndKeys(t: Test, inputs: InputEvent[]): void {
  const pointers = inputs.map((e) => e.message).filter((m) => m.type === 'pointer');
  t.ok(pointers.some((p) => p.type === 'pointer' && p.buttons === 1 && Math.abs(p.x - 100) <= 1 && Math.abs(p.y - 50) <= 1), 'a left press at the clicked pixel');
  const keys = inputs.map((e) => e.message).filter((m) => m.type === 'key').map((m) => m.type === 'key' && `${m.down ? 'down' : 'up'} ${m.code} ${m.key}`);
  t.same(keys, ['down KeyH H', 'up KeyH H', 'down KeyI i', 'up KeyI i', 'down ShiftLeft Shift', 'down KeyA A', 'up KeyA A', 'up ShiftLeft Shift', 'down Enter Enter', 'up Enter Enter']);
  const shiftedA = inputs.map((e) => e.message).find((m) => m.type === 'key' && m.code === 'KeyA' && m.down);
  t.equal(shiftedA?.type === 'key' && shiftedA.modifiers & Modifier.SHIFT, Modifier.SHIFT, 'modifier state travels with the key');
}

/** Two fingers at (300, y) and (400, y), y from 300 up to 240: the moves of checkTapAndScroll's scroll. */
export const SCROLL_FINGERS_Y = [300, 280, 260, 240] as const;

/** What the host gets from a tap at (200, 100) on an unscaled 800×500 screen, then the two-finger scroll. */
export function checkTapAndScroll(t: Test, inputs: InputEvent[]): void {
  const ptr = inputs.map((e) => e.message).filter((m) => m.type === 'pointer');
  t.ok(ptr.some((p) => p.type === 'pointer' && p.buttons === 1 && p.x === 200 && p.y === 100), 'the tap pressed at the tapped pixel');
  t.equal(ptr.reduce((n, p) => n + (p.type === 'pointer' ? p.wheelY : 0), 0), 60, 'fingers moving up 60 px scroll down 60 px');
  t.notOk(ptr.some((p) => p.type === 'pointer' && p.wheelY !== 0 && p.buttons !== 0), 'no button held while scrolling');
}
