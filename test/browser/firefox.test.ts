// The browser viewer in real headless Firefox (Debian's firefox-esr, driven over
// WebDriver BiDi by puppeteer-core) against a real host on localhost: the second
// engine, Gecko, for what the Chromium tests check in Blink. Staff use whatever
// their phone or laptop has; a Worker, OffscreenCanvas or WebCodecs difference
// must show here, not in a city's help desk.
//
// Not here: sound. Firefox 153 plays and records through the viewer (AudioDecoder,
// the playout worklet, the fake microphone through AudioEncoder to the host's
// virtual source, all checked by hand), but its AudioContext.resume() now and
// then blocks the page for good on this machine (PulseAudio's null sink, under
// load; always with media.cubeb.force_null_context, where a bare page's
// `await new AudioContext().resume()` hangs too): a CI test would be flaky.
import t from 'tap';
import * as fs from 'node:fs';
import puppeteer, { type Browser, type KeyInput, type Page, type Viewport } from 'puppeteer-core';
import { Host, InputEvent, createHost } from '../../src/host/host';
import { viewerPage } from '../../src/host/viewerPage';
import { PushSource } from '../../src/source/pushSource';
import type { Frame } from '../../src/frame';
import { until } from '../helpers';
import { canvasAtRest, crop } from './helpers';
import { FIRST_SCREEN, SCROLL_FINGERS_Y, VIDEO_BASE, checkClickAndKeys, checkScreensExact, checkTapAndScroll, checkVideoRefined, checkVideoThenExact } from './viewerChecks';

export const FIREFOX = '/usr/bin/firefox-esr';
const skip: false | string = fs.existsSync(FIREFOX) ? false : `Debian firefox-esr not installed at ${FIREFOX}`;
if (skip && process.env.CI) throw new Error(skip);

let browser: Browser;
t.before(async () => {
  if (skip) return;
  browser = await puppeteer.launch({
    browser: 'firefox', executablePath: FIREFOX, headless: true,
    // No network but the host's: no updates, telemetry or captive-portal probes while testing.
    extraPrefsFirefox: { 'app.update.enabled': false, 'network.captive-portal-service.enabled': false, 'datareporting.policy.dataSubmissionEnabled': false },
  });
});
t.teardown(async () => browser?.close());

const viewer = (page: Page) => page.evaluate(() => {
  const s = (window as any).tilecastViewer.stats;
  return { state: s.state as string, painted: s.painted as number, decoder: s.decoder as string, drawnIn: s.drawnIn as string };
});

async function hostWithPage(t: { teardown(fn: () => unknown): void }, first: Frame, viewport: Viewport = { width: 1000, height: 700 }): Promise<{ source: PushSource; host: Host; page: Page; errors: string[] }> {
  const source = new PushSource();
  const host = await createHost({ source, httpHandler: viewerPage() });
  t.teardown(() => host.close());
  source.push(first);
  const page = await browser.newPage();
  t.teardown(() => page.close());
  await page.setViewport(viewport);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e instanceof Error ? e.message : String(e)));
  await page.goto(host.url.replace(/^ws/, 'http'));
  return { source, host, page, errors };
}

t.test('Firefox: the canvas equals the host screen exactly at rest, through changes, drawn by the decode Worker', { skip }, async (t) => {
  const { source, host, page, errors } = await hostWithPage(t, FIRST_SCREEN());
  await checkScreensExact(t, source, host, page);
  const stats = await viewer(page);
  t.equal(stats.state, 'connected');
  t.ok(stats.painted >= 3, `painted ${stats.painted} updates`);
  t.equal(stats.decoder, 'worker', 'decoded in a Worker');
  t.equal(stats.drawnIn, 'worker', 'drawn by the Worker on the OffscreenCanvas the page handed it');
  t.same(errors, [], 'no page errors');
});

t.test('Firefox: video plays lossy (JPEG decoded in the page) and is exact once still', { skip }, async (t) => {
  const { source, host, page, errors } = await hostWithPage(t, VIDEO_BASE());
  await checkVideoThenExact(t, source, host, page);
  checkVideoRefined(t, host);
  t.same(errors, [], 'no page errors');
});

t.test('Firefox: mouse and keys from the page reach the host', { skip }, async (t) => {
  const f = crop('desktop', 800, 500);
  const { host, page } = await hostWithPage(t, f);
  const inputs: InputEvent[] = [];
  host.on('input', (e: InputEvent) => inputs.push(e));
  t.equal(await canvasAtRest(host, page, f), null);
  const box = (await (await page.$('#screen canvas.tilecast-screen'))!.boundingBox())!;
  const scale = box.width / f.width;
  await page.mouse.click(box.x + 100 * scale, box.y + 50 * scale);
  await page.keyboard.type('Hi');
  await page.keyboard.down('Shift');
  await page.keyboard.press('KeyA');
  await page.keyboard.up('Shift');
  // WebDriver's Return key (U+E006). puppeteer-core 24 sends U+E007 for 'Enter', which WebDriver
  // defines as the keypad's Enter (code NumpadEnter); 25 fixed that, but needs Node 22.
  await page.keyboard.press('\uE006' as KeyInput);
  await until(() => inputs.filter((e) => e.message.type === 'key').length >= 10, 'the key events at the host');
  checkClickAndKeys(t, inputs);
});

t.test('Firefox: touch: a tap clicks, two fingers scroll', { skip }, async (t) => {
  const f = crop('desktop', 800, 500);
  const { host, page } = await hostWithPage(t, f, { width: 800, height: 500, hasTouch: true });
  const inputs: InputEvent[] = [];
  host.on('input', (e: InputEvent) => inputs.push(e));
  t.equal(await canvasAtRest(host, page, f), null);
  await page.touchscreen.tap(200, 100);
  await until(() => inputs.some((e) => e.message.type === 'pointer' && e.message.buttons === 1), 'the tap');
  // Two fingers at once, moving up together.
  const [from, ...moves] = SCROLL_FINGERS_Y;
  const a = await page.touchscreen.touchStart(300, from);
  const b = await page.touchscreen.touchStart(400, from);
  for (const y of moves) {
    await a.move(300, y);
    await b.move(400, y);
  }
  await a.end();
  await b.end();
  await until(() => inputs.reduce((n, e) => n + (e.message.type === 'pointer' ? e.message.wheelY : 0), 0) >= 60, 'the two-finger scroll');
  checkTapAndScroll(t, inputs);
});
