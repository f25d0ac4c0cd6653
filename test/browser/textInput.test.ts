// Text typed on a phone reaches a real X application once: Chromium in phone
// emulation → the viewer's key sink (soft-keyboard text via CDP
// Input.insertText, IME composition via Input.imeSetComposition, edits via the
// browser's own editing commands) → a real host on Xvfb → X11InputSink → an
// xterm running `cat > file`; the file is read back. Functional checks only.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, Browser } from 'playwright-core';
import { until } from '../helpers';
import { skipWithoutX, startClient, startXvfb, x } from '../xserver';
import { ARGS, CHROMIUM, skipWithoutChromium, xHost } from './helpers';

const skip = skipWithoutChromium || skipWithoutX();

let browser: Browser;
t.before(async () => {
  if (!skip) browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
});
t.teardown(async () => browser?.close());

t.test('soft-keyboard text, IME composition and edits arrive in an xterm exactly once', { skip }, async (t) => {
  const xs = await startXvfb(800, 600);
  t.teardown(() => xs.close());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilecast-text-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const typed = path.join(dir, 'typed.txt');
  const term = startClient(xs, 'xterm', ['-u8', '-geometry', '60x10+0+0', '-e', 'sh', '-c', `stty -echo; cat > ${typed}`]);
  t.teardown(() => term.stop());
  x(xs, 'xdotool', ['search', '--sync', '--onlyvisible', '--class', 'xterm']);

  const { host, router, keys } = await xHost(t, xs);

  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true });
  t.teardown(() => context.close());
  const page = await context.newPage();
  await page.goto(host.url.replace(/^ws/, 'http'));
  await page.waitForFunction(() => (window as any).tilecastViewer?.stats.width === 800, undefined, { timeout: 20_000 });
  const cdp = await context.newCDPSession(page);

  // No window manager: the keyboard focus follows the pointer. A tap on the xterm puts it there.
  const v = await page.evaluate(() => (window as any).tilecastViewer.view.placement());
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x: v.left + 100.5 * v.scale, y: v.top + 60.5 * v.scale }] });
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  await until(() => x(xs, 'xdotool', ['getmouselocation']).startsWith('x:100 y:60'), 'the pointer over the xterm').catch((e) => { throw new Error(`${e.message}: ${x(xs, 'xdotool', ['getmouselocation'])} ${JSON.stringify(v)} ${router.stats.pointer}`); });
  t.equal(await page.evaluate(() => document.activeElement?.className ?? ''), '', 'a tap does not focus the key sink (no soft keyboard)');
  await page.evaluate(() => (window as any).tilecastViewer.focus()); // the keyboard button's job
  t.equal(await page.evaluate(() => document.activeElement?.className), 'tilecast-keys');

  // A soft keyboard or voice input: text with no key events.
  await cdp.send('Input.insertText', { text: 'Hello こんにちは' });
  // A Japanese IME: composing (nothing may be sent yet), then the committed conversion.
  await until(() => keys.length === 2 * 'Hello こんにちは'.length, 'the inserted text');
  await cdp.send('Input.imeSetComposition', { text: 'かんじ', selectionStart: 3, selectionEnd: 3 });
  await new Promise((r) => setTimeout(r, 300));
  t.equal(keys.length, 2 * 'Hello こんにちは'.length, 'nothing of the composition is sent before it is committed');
  await cdp.send('Input.insertText', { text: '漢字' });
  // Soft-keyboard edits: a deletion, then autocorrect replacing the last word.
  await cdp.send('Input.insertText', { text: ' teh' });
  await page.evaluate(() => document.execCommand('delete'));
  await page.evaluate(() => {
    const ta = document.activeElement as HTMLTextAreaElement;
    ta.setSelectionRange(ta.value.length - 2, ta.value.length);
  });
  await cdp.send('Input.insertText', { text: 'the' });
  // A physical keyboard: key events, typed once (the browser does not also insert the text).
  await page.keyboard.type('ok');
  // A line break from an editing command (no key event) ends the line.
  await page.evaluate(() => document.execCommand('insertLineBreak'));
  await until(() => fs.existsSync(typed) && fs.readFileSync(typed, 'utf8').includes('\n'), 'the typed line');
  t.equal(fs.readFileSync(typed, 'utf8'), 'Hello こんにちは漢字 theok\n', 'the xterm received exactly the text, once');

  const downs = (key: string) => keys.filter((k) => k.down && k.key === key).length;
  t.equal(downs('漢'), 1, 'the committed character once');
  t.equal(downs('Backspace'), 2, 'one BackSpace for the deletion, one for the replaced "e" of "te" → "the"');
  // A soft keyboard's BackSpace with nothing left in the sink (Android: keyCode 229, then
  // beforeinput deleteContentBackward that has nothing to delete). Chromium only fires that for a
  // real soft keyboard, so the event is dispatched by hand here.
  await page.keyboard.type('z'); // a key: the sink is emptied, the host has a "z"
  const cancelled = await page.evaluate(() => {
    const e = new InputEvent('beforeinput', { inputType: 'deleteContentBackward', cancelable: true, bubbles: true });
    document.activeElement!.dispatchEvent(e);
    return e.defaultPrevented;
  });
  t.ok(cancelled, 'the viewer handled the deletion itself');
  await cdp.send('Input.insertText', { text: 'y' });
  await page.evaluate(() => document.execCommand('insertLineBreak'));
  await until(() => fs.readFileSync(typed, 'utf8').split('\n').length === 3, 'the second line');
  t.equal(fs.readFileSync(typed, 'utf8').split('\n')[1], 'y', 'the "z" was deleted on the host');
  t.equal(router.stats.unmapped, 0, 'every key was mapped');
  // Found by their physical codes (the text before them arrives as keys too, with no code, and
  // may still be on its way when 'ok' is typed: an index taken then is not where they land).
  const okAt = keys.findIndex((k) => k.code === 'KeyO');
  t.same(keys.slice(okAt, okAt + 4).map((k) => `${k.down ? 'down' : 'up'} ${k.code} ${k.key}`), ['down KeyO o', 'up KeyO o', 'down KeyK k', 'up KeyK k'], 'physical keys once each, as keys');
  t.equal(keys.filter((k) => k.code === 'KeyO' || k.code === 'KeyK').length, 4, 'and only once');
  t.equal(keys[okAt + 4]?.key, 'Enter', 'then the line break, and nothing else');
});
