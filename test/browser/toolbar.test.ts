// The viewer's toolbar and UI on a phone (Chromium mobile emulation with touch):
// it fits 360 px with 44 px labelled buttons, in the browser's language; its
// keys reach a real X server as the host maps them (xev); sticky modifiers wrap
// the next key; and a lost connection dims the picture, says so, and holds the
// keys typed meanwhile. Functional checks only.
import t from 'tap';
import * as net from 'node:net';
import { chromium, Browser, Page } from 'playwright-core';
import { type InputEvent as HostInput, createHost } from '../../src/host/host';
import { viewerPage } from '../../src/host/viewerPage';
import { Modifier } from '../../src/protocol/constants';
import type { KeyMessage } from '../../src/protocol/messages';
import { PushSource } from '../../src/source/pushSource';
import { until } from '../helpers';
import { skipWithoutX, startClient, startXvfb, x } from '../xserver';
import { ARGS, CHROMIUM, canvasAtRest, crop, skipWithoutChromium as skip, xHost } from './helpers';

let browser: Browser;
t.before(async () => {
  if (!skip) browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
});
t.teardown(async () => browser?.close());

const phone = (locale: string, width = 360, height = 740) => ({ viewport: { width, height }, deviceScaleFactor: 3, isMobile: true, hasTouch: true, locale });
const keyLine = (k: KeyMessage) => `${k.down ? 'down' : 'up'} ${k.code || k.keysym.toString(16)} ${k.key} m${k.modifiers}`;

async function buttons(page: Page) {
  // The buttons on screen (the audio buttons stay hidden unless the host grants audio: test/browser/audioToolbar.test.ts).
  return page.$$eval('.tilecast-toolbar button', (bs) => bs.filter((b) => b.style.display !== 'none').map((b) => {
    const r = b.getBoundingClientRect();
    return { label: b.getAttribute('aria-label') ?? '', left: r.left, right: r.right, top: r.top, bottom: r.bottom, w: r.width, h: r.height };
  }));
}

t.test('the toolbar fits a 360 px phone in both orientations, 44 px buttons, labelled in the browser language', { skip }, async (t) => {
  const source = new PushSource();
  const host = await createHost({ source, httpHandler: viewerPage() });
  t.teardown(() => host.close());
  source.push(crop('desktop', 1280, 720));
  for (const [locale, keyboard] of [['ja-JP', 'キーボード'], ['en-US', 'Keyboard']] as const) {
    for (const [w, h] of [[360, 740], [740, 360]] as const) {
      const context = await browser.newContext(phone(locale, w, h));
      const page = await context.newPage();
      await page.goto(host.url.replace(/^ws/, 'http'));
      await page.tap('.tilecast-button-toolbar');
      const bs = await buttons(page);
      t.ok(bs.length >= 17, `${locale} ${w}x${h}: ${bs.length} buttons`);
      const outside = bs.filter((b) => b.left < 0 || b.right > w || b.top < 0 || b.bottom > h);
      t.same(outside, [], `${locale} ${w}x${h}: every button on screen`);
      t.same(bs.filter((b) => b.w < 44 || b.h < 44), [], 'every button at least 44x44 px');
      t.same(bs.filter((b) => !b.label), [], 'every button has a spoken label');
      t.ok(bs.some((b) => b.label === keyboard), `labels in ${locale}`);
      t.equal(await page.getAttribute('.tilecast-button-toolbar', 'aria-expanded'), 'true');
      await page.waitForFunction(() => (window as any).tilecastViewer.stats.rttMs !== null, undefined, { timeout: 10_000 });
      const bar = (await page.locator('.tilecast-overlay').boundingBox())!;
      t.ok(bar.x >= 0 && bar.x + bar.width <= w, `the stats overlay stays on screen (${bar.x.toFixed(0)}..${(bar.x + bar.width).toFixed(0)} of ${w})`);
      const status = await page.textContent('.tilecast-status');
      t.equal(status, locale === 'ja-JP' ? '接続済み' : 'Connected', `state in ${locale}`);
      await context.close();
    }
  }
});

t.test('toolbar keys reach X as the host maps them; sticky Ctrl wraps the next typed key', { skip: skip || skipWithoutX() }, async (t) => {
  const xs = await startXvfb(640, 480);
  t.teardown(() => xs.close());
  const xev = startClient(xs, 'xev', ['-geometry', '300x200+100+100', '-event', 'keyboard']);
  t.teardown(() => xev.stop());
  let events = '';
  xev.proc.stdout!.on('data', (d) => (events += d));
  x(xs, 'xdotool', ['search', '--sync', '--onlyvisible', '--name', 'Event Tester']);
  const { host, keys } = await xHost(t, xs);

  const context = await browser.newContext(phone('ja-JP'));
  t.teardown(() => context.close());
  const page = await context.newPage();
  await page.goto(host.url.replace(/^ws/, 'http'));
  await page.waitForFunction(() => (window as any).tilecastViewer?.stats.width === 640, undefined, { timeout: 20_000 });
  // No window manager: the keyboard focus follows the pointer; a tap on xev puts it there.
  const v = await page.evaluate(() => (window as any).tilecastViewer.view.placement());
  await page.touchscreen.tap(v.left + 250.5 * v.scale, v.top + 200.5 * v.scale);
  await until(() => x(xs, 'xdotool', ['getmouselocation']).startsWith('x:250 y:200'), 'the pointer over xev');
  await page.tap('.tilecast-button-toolbar');
  await page.tap('.tilecast-button-keyboard');
  t.equal(await page.evaluate(() => document.activeElement?.className), 'tilecast-keys', 'the keyboard button focuses the key sink (the soft keyboard opens)');
  t.equal(await page.getAttribute('.tilecast-button-keyboard', 'aria-pressed'), 'true');

  keys.length = 0;
  await page.tap('.tilecast-button-esc');
  await page.tap('.tilecast-button-zenkaku');
  await page.tap('.tilecast-button-cad');
  await until(() => keys.length >= 10, 'the toolbar keys at the host');
  t.same(keys.map(keyLine), [
    'down Escape Escape m0', 'up Escape Escape m0',
    'down Backquote Zenkaku m0', 'up Backquote Zenkaku m0',
    `down ControlLeft Control m${Modifier.CONTROL}`, `down AltLeft Alt m${Modifier.CONTROL | Modifier.ALT}`, `down Delete Delete m${Modifier.CONTROL | Modifier.ALT}`,
    `up Delete Delete m${Modifier.CONTROL | Modifier.ALT}`, `up AltLeft Alt m${Modifier.CONTROL}`, 'up ControlLeft Control m0',
  ], 'Esc, 半角/全角, then Ctrl+Alt+Del pressed in order and released in reverse');
  const expected = ['Escape', 'Zenkaku_Hankaku', 'Control_L', 'Alt_L', 'Delete'];
  await until(() => expected.every((e) => events.includes(e)), `xev to report ${expected.join(', ')}`).catch(() => undefined);
  for (const e of expected) t.ok(events.includes(e), `the X server delivered ${e}`);

  // Sticky Ctrl, then a soft keyboard's "c": Ctrl+C, and the button pops back up.
  keys.length = 0;
  await page.tap('.tilecast-button-ctrl');
  t.equal(await page.getAttribute('.tilecast-button-ctrl', 'aria-pressed'), 'true');
  const cdp = await context.newCDPSession(page);
  await cdp.send('Input.insertText', { text: 'c' });
  await until(() => keys.length >= 4, 'Ctrl+C');
  t.same(keys.map(keyLine), [`down ControlLeft Control m${Modifier.CONTROL}`, `down 63 c m${Modifier.CONTROL}`, `up 63 c m${Modifier.CONTROL}`, 'up ControlLeft Control m0']);
  t.equal(await page.getAttribute('.tilecast-button-ctrl', 'aria-pressed'), 'false', 'used once, then released');

  // Data saver: the host keeps this viewer's quality ladder at level 2 or above until it is turned off.
  t.equal(host.viewers()[0]!.quality.minLevel, 0);
  await page.tap('.tilecast-button-saver');
  await until(() => host.viewers()[0]!.quality.minLevel === 2, 'QUALITY_LIMIT 2 at the host');
  t.ok(host.viewers()[0]!.quality.level >= 2, 'the ladder is at least at level 2');
  t.equal(await page.getAttribute('.tilecast-button-saver', 'aria-pressed'), 'true');
  await page.tap('.tilecast-button-saver');
  await until(() => host.viewers()[0]!.quality.minLevel === 0, 'lifted');
});

/** A TCP proxy in front of the host that can cut every connection and refuse new ones (a lost 4G link). */
async function cuttableLink(t: { teardown(fn: () => unknown): void }, port: number) {
  let up = true;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((c) => {
    if (!up) return void c.destroy();
    const h = net.connect(port, '127.0.0.1');
    c.pipe(h).pipe(c);
    for (const s of [c, h]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => (sockets.delete(s), c.destroy(), h.destroy()));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => {
    for (const s of sockets) s.destroy();
    server.close(() => r());
  }));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`,
    cut() {
      up = false;
      for (const s of sockets) s.destroy();
    },
    restore() {
      up = true;
    },
  };
}

t.test('disconnected: the picture dims, the state is announced, typed keys are held and sent on reconnect', { skip }, async (t) => {
  const f = crop('document', 800, 450);
  const source = new PushSource();
  const host = await createHost({ source, httpHandler: viewerPage() });
  t.teardown(() => host.close());
  source.push(f);
  const link = await cuttableLink(t, Number(new URL(host.url).port));
  const context = await browser.newContext(phone('ja-JP', 740, 360));
  t.teardown(() => context.close());
  const page = await context.newPage();
  await page.goto(link.url);
  t.equal(await canvasAtRest(host, page, f), null);
  const notice = page.locator('.tilecast-disconnected');
  t.equal(await notice.isVisible(), false, 'no notice while connected');
  t.equal(await page.evaluate(() => document.querySelector<HTMLCanvasElement>('canvas.tilecast-screen')!.style.filter), '', 'not dimmed');
  const keys: KeyMessage[] = [];
  host.on('input', (e: HostInput) => e.message.type === 'key' && keys.push(e.message));
  // The link dot: a link colour once the RTT is known (the overlay is written once a second), grey while down.
  const dotColour = () => page.evaluate(() => document.querySelector<HTMLElement>('.tilecast-link')!.style.background);
  const GREY = 'rgb(136, 136, 136)';
  await page.waitForFunction((grey) => document.querySelector<HTMLElement>('.tilecast-link')!.style.background !== grey, GREY, { timeout: 10_000 });

  link.cut();
  await notice.waitFor({ state: 'visible', timeout: 20_000 });
  t.match(await notice.textContent(), /^(再接続中…|接続中…) — 接続が切れています/, 'said in Japanese');
  t.equal(await notice.getAttribute('role'), 'status');
  t.equal(await notice.getAttribute('aria-live'), 'assertive', 'announced at once by screen readers');
  t.match(await page.evaluate(() => document.querySelector<HTMLCanvasElement>('canvas.tilecast-screen')!.style.filter), /brightness/, 'the picture is dimmed');
  t.equal(await dotColour(), GREY, 'the link dot is grey while down');

  await page.evaluate(() => (window as any).tilecastViewer.focus());
  await page.keyboard.type('ok');
  t.match(await notice.textContent(), /接続が戻ったら入力を送ります/, 'the user is told the typing is held');
  // The viewer retries (reconnecting → connecting → reconnecting, each a new status line); the
  // note stays while the keys are held.
  const status = await notice.textContent();
  await page.waitForFunction((before) => document.querySelector('.tilecast-disconnected')!.textContent !== before, status, { timeout: 20_000 });
  t.match(await notice.textContent(), /接続が戻ったら入力を送ります/, 'still told after the viewer retried');
  link.restore();
  await notice.waitFor({ state: 'hidden', timeout: 20_000 });
  await until(() => keys.length >= 4, 'the held keys');
  t.same(keys.map(keyLine), ['down KeyO o m0', 'up KeyO o m0', 'down KeyK k m0', 'up KeyK k m0'], 'sent once connected again');
  t.equal(await page.evaluate(() => document.querySelector<HTMLCanvasElement>('canvas.tilecast-screen')!.style.filter), '', 'bright again');
  await page.waitForFunction((grey) => document.querySelector<HTMLElement>('.tilecast-link')!.style.background !== grey, GREY, { timeout: 10_000 });
  t.not(await dotColour(), GREY, 'the link dot has its colour again');
});
