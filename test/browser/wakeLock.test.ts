// The viewer's screen wake lock in real headless Chromium (its Screen Wake Lock
// API works on a localhost page): held while connected, released while the
// viewer retries an unreachable host, and never held twice by racing requests.
// The page's navigator.wakeLock.request is wrapped only to keep each real lock
// it returns, so the test can see which are still held.
import t from 'tap';
import { chromium, Browser, Page } from 'playwright-core';
import { createHost } from '../../src/host/host';
import { viewerPage } from '../../src/host/viewerPage';
import { PushSource } from '../../src/source/pushSource';
import { ARGS, CHROMIUM, canvasAtRest, crop, skipWithoutChromium } from './helpers';

const skip = skipWithoutChromium;

let browser: Browser;
t.before(async () => {
  if (!skip) browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
});
t.teardown(async () => browser?.close());

async function viewerOnHost(t: { teardown(fn: () => unknown): void }) {
  const source = new PushSource();
  const host = await createHost({ source, httpHandler: viewerPage() });
  t.teardown(() => host.close());
  const screen = crop('document', 320, 200);
  source.push(screen);
  const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
  t.teardown(() => page.close());
  await page.addInitScript(() => {
    const api = navigator.wakeLock;
    const request = api.request.bind(api);
    const locks: WakeLockSentinel[] = ((window as any).__wakeLocks = []);
    api.request = async (type) => {
      const lock = await request(type);
      locks.push(lock);
      return lock;
    };
  });
  await page.goto(host.url.replace(/^ws/, 'http'));
  return { host, page, screen };
}

/** How many of the page's wake locks are held, once it is `n` (bounded wait; throws otherwise). */
const heldBecomes = (page: Page, n: number) =>
  page.waitForFunction((n) => (window as any).__wakeLocks.filter((l: WakeLockSentinel) => !l.released).length === n, n, { timeout: 10_000 });
const held = (page: Page) => page.evaluate(() => (window as any).__wakeLocks.filter((l: WakeLockSentinel) => !l.released).length as number);

t.test('held while connected, released while the viewer retries a host that is gone', { skip }, async (t) => {
  const { host, page, screen } = await viewerOnHost(t);
  t.equal(await canvasAtRest(host, page, screen), null, 'connected');
  await heldBecomes(page, 1);
  t.equal(await held(page), 1, 'one wake lock while connected');
  await host.close();
  await page.waitForFunction(() => (window as any).tilecastViewer.stats.state === 'reconnecting', undefined, { timeout: 20_000 });
  await heldBecomes(page, 0);
  t.equal(await held(page), 0, 'no wake lock while reconnecting: the screen may sleep');
});

t.test('racing requests (the page shown again while connecting) leave one lock, and turning it off releases it', { skip }, async (t) => {
  const { host, page, screen } = await viewerOnHost(t);
  t.equal(await canvasAtRest(host, page, screen), null, 'connected');
  await heldBecomes(page, 1);
  await page.evaluate(() => {
    const w = (window as any).tilecastViewer.wakeLock;
    w.set(false);
    // Asked again three times before the first request has answered.
    w.set(true);
    document.dispatchEvent(new Event('visibilitychange'));
    w.set(true);
  });
  // Every request answered: nothing pending, and at least the one that was made.
  await page.waitForFunction(() => !(window as any).tilecastViewer.wakeLock.requesting && (window as any).__wakeLocks.length >= 2, undefined, { timeout: 10_000 });
  const requestedAll = await page.evaluate(() => (window as any).__wakeLocks.length as number);
  t.equal(requestedAll, 2, 'one request for the three asks (the first lock, then this one)');
  t.equal(await held(page), 1, 'one lock held');
  await page.evaluate(() => (window as any).tilecastViewer.wakeLock.set(false));
  await heldBecomes(page, 0);
  t.equal(await held(page), 0, 'turned off: nothing left held');
});
