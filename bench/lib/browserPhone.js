// The browser viewer on a phone, for bench/browser.js:
//
//  - main-thread blocking per update type: the longest task while the page
//    applies one 1920x1080 update through the viewer's decode path (decode as
//    it arrives, paint at the next animation frame), in its Worker and, as the
//    baseline, on the main thread; seen by a probe that yields between tasks;
//    on a phone (390x844 at 3x, with the CPU throttled 4x by Chromium as a
//    low-end device) and on a 1920x1080 desktop page;
//  - touch to message: a tap or a drag step dispatched through CDP, from the
//    event reaching the page's first listener to the POINTER leaving through
//    WebSocket.send (and, end to end, from the CDP call to the host's input
//    event), against a mouse click through the same path;
//  - page memory during a typing workload (soft-keyboard text with the
//    screen echoing it): JS heap after a forced GC, DOM nodes and listeners,
//    at the start and every minute.
'use strict';
const { createHost, PushSource, viewerPage } = require('tilecast');
const { loadScene } = require('tilecast/testing');

const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true };
const DESKTOP = { viewport: { width: 1920, height: 1080 } };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (a, p) => (a.length ? [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(a.length * p))] : null);

/**
 * Longest main-thread task per update of each workload (see decodeBench's loads), p50/p95/max of
 * `reps`, with the viewer's two decode paths: in its Worker (the default) and on the main thread.
 */
async function blockingBench(browser, loads, reps) {
  const out = [];
  for (const [device, options, throttle] of [['phone (390x844 @3x, CPU 4x slower)', PHONE, 4], ['desktop 1920x1080', DESKTOP, 1]]) {
    const host = await createHost({ source: new PushSource(), httpHandler: viewerPage() });
    const context = await browser.newContext(options);
    const page = await context.newPage();
    await page.goto(host.url.replace(/^ws/, 'http'));
    const cdp = await context.newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: throttle });
    for (const l of loads) {
      const b64 = (u) => Buffer.from(u).toString('base64');
      const gaps = await page.evaluate(async ({ key, update, opKey, opUpdate, images, width, height, reps, same }) => {
        const { LocalFrames, WorkerFrames } = await import('./tilecast-viewer.js');
        const bytes = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
        const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
        // Fresh bytes every time: the Worker path moves them away.
        const msg = (keyframe) => (keyframe ? { stream: bytes(key), opCount: opKey, keyframe: true, images: bytes(images) } : { stream: bytes(update), opCount: opUpdate, keyframe: false });
        const result = {};
        const paint = (frames) => new Promise((r) => frames.paint(r));
        for (const where of ['worker', 'main']) {
          // A canvas each: the Worker takes its own (it draws on it, as in the viewer).
          const canvas = document.createElement('canvas');
          Object.assign(canvas.style, { position: 'fixed', inset: '0', width: '100%' });
          document.body.append(canvas);
          const frames = where === 'worker' ? new WorkerFrames(new URL('./tilecast-viewer.js', location.href).href, canvas, true, (why) => { throw new Error(why); }) : new LocalFrames(canvas);
          frames.resize(width, height);
          result[where] = [];
          for (let i = 0; i < reps; i++) {
            if (!same) await frames.apply(msg(true));
            const m = msg(same);
            await frame();
            await paint(frames);
            // The probe: a task after every task; the longest gap between two of them is the longest block.
            let last = performance.now(), longest = 0, running = true;
            const ch = new MessageChannel();
            ch.port1.onmessage = () => {
              const now = performance.now();
              longest = Math.max(longest, now - last);
              last = now;
              if (running) ch.port2.postMessage(0);
            };
            ch.port2.postMessage(0);
            await new Promise((r) => setTimeout(r, 20));
            await frames.apply(m); // the viewer: decode as the update arrives...
            await frame();
            await paint(frames); // ...and paint at the next animation frame
            await frame();
            await new Promise((r) => setTimeout(r, 20));
            running = false;
            result[where].push(longest);
          }
          frames.dispose();
          canvas.remove();
        }
        return result;
      }, { key: b64(l.key.stream), update: b64(l.update.stream), opKey: l.key.opCount, opUpdate: l.update.opCount, images: b64(l.key.images), width: l.width, height: l.height, reps, same: l.key === l.update });
      for (const where of ['worker', 'main']) {
        const g = gaps[where];
        out.push({ device, codec: l.name, decoder: where, p50: pct(g, 0.5), p95: pct(g, 0.95), max: Math.max(...g), n: g.length });
      }
    }
    await context.close();
    await host.close();
  }
  return out;
}

/** Hooks WebSocket.send and the first listener of touch/mouse events; returns the page's records. */
const HOOKS = () => {
  window.__bench = { events: [], sends: [] };
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    const b = data instanceof ArrayBuffer ? new Uint8Array(data) : data instanceof Uint8Array ? data : null;
    if (b && b[0] === 0x21) window.__bench.sends.push(performance.now()); // POINTER
    return send.call(this, data);
  };
  for (const type of ['touchstart', 'touchmove', 'touchend', 'pointerdown']) window.addEventListener(type, (e) => window.__bench.events.push({ type: e.type, at: performance.now() }), { capture: true });
};

/** Touch → POINTER latency (page-side and end to end), against a mouse click, `n` samples each. */
async function touchLatencyBench(browser, n) {
  const source = new PushSource();
  source.push(loadScene('desktop'));
  const host = await createHost({ source, httpHandler: viewerPage() });
  const arrivals = [];
  host.on('input', () => arrivals.push(performance.now()));
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  await page.addInitScript(HOOKS);
  await page.goto(host.url.replace(/^ws/, 'http'));
  await page.waitForFunction(() => window.tilecastViewer?.stats.width === 1920);
  const cdp = await context.newCDPSession(page);
  const v = await page.evaluate(() => window.tilecastViewer.view.placement());
  const results = {};
  /** `act` dispatches one gesture and returns the DOM event type that ends it and the time just before that dispatch. */
  const measure = async (name, act) => {
    const inPage = [], e2e = [];
    for (let i = 0; i < n; i++) {
      const { type, t0 } = await act(i);
      const end = Date.now() + 5000;
      while (!arrivals.some((t) => t >= t0) && Date.now() < end) await sleep(1);
      const first = arrivals.find((t) => t >= t0);
      if (first !== undefined) e2e.push(first - t0);
      const r = await page.evaluate((type) => {
        const ev = window.__bench.events.filter((e) => e.type === type).pop();
        const sent = ev && window.__bench.sends.find((s) => s >= ev.at);
        return sent !== undefined ? sent - ev.at : null;
      }, type);
      if (r !== null) inPage.push(r);
      await sleep(350); // no double taps
    }
    results[name] = { n, pageP50: pct(inPage, 0.5), pageP95: pct(inPage, 0.95), e2eP50: pct(e2e, 0.5), e2eP95: pct(e2e, 0.95) };
  };
  const point = (i) => ({ x: v.left + (300 + (i % 40) * 20) * v.scale, y: v.top + 500 * v.scale });
  const touch = (type, touchPoints) => cdp.send('Input.dispatchTouchEvent', { type, touchPoints });
  await measure('tap (touchend → click)', async (i) => {
    await touch('touchStart', [point(i)]);
    const t0 = performance.now();
    await touch('touchEnd', []);
    return { type: 'touchend', t0 };
  });
  await measure('drag step (touchmove → move)', async (i) => {
    const p = point(i);
    await touch('touchStart', [p]);
    await touch('touchMove', [{ x: p.x + 15, y: p.y }]);
    await sleep(50);
    const t0 = performance.now();
    await touch('touchMove', [{ x: p.x + 30, y: p.y }]);
    await sleep(50);
    await touch('touchEnd', []);
    return { type: 'touchmove', t0 };
  });
  await measure('mouse click (baseline)', async (i) => {
    const p = point(i);
    const t0 = performance.now();
    await cdp.send('Input.dispatchMouseEvent', { type: 'mousePressed', x: p.x, y: p.y, button: 'left', clickCount: 1 });
    await cdp.send('Input.dispatchMouseEvent', { type: 'mouseReleased', x: p.x, y: p.y, button: 'left', clickCount: 1 });
    return { type: 'pointerdown', t0 };
  });
  await context.close();
  await host.close();
  return results;
}

/** Page memory while typing for `minutes` (a character every 150 ms, echoed on the screen). */
async function typingMemoryBench(browser, minutes) {
  const base = loadScene('editor');
  const frame = { ...base, data: Buffer.from(base.data) };
  const source = new PushSource();
  source.push({ ...frame, data: Buffer.from(frame.data) });
  const host = await createHost({ source, httpHandler: viewerPage() });
  let typed = 0;
  host.on('input', (e) => {
    if (e.message.type !== 'key' || !e.message.down) return;
    // The echo: an 8x16 glyph-sized block at the next text position.
    const x0 = 100 + (typed % 150) * 9, y0 = 120 + (Math.floor(typed / 150) % 50) * 18;
    for (let y = y0; y < y0 + 16; y++) frame.data.fill(typed % 2 ? 0x30 : 0xd0, (y * frame.width + x0) * 4, (y * frame.width + x0 + 8) * 4);
    typed++;
    source.push({ ...frame, data: Buffer.from(frame.data) });
  });
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  await page.goto(host.url.replace(/^ws/, 'http'));
  await page.waitForFunction(() => window.tilecastViewer?.stats.width === 1920);
  await page.evaluate(() => window.tilecastViewer.focus());
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  const sample = async (at) => {
    await cdp.send('HeapProfiler.collectGarbage');
    const m = Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((x) => [x.name, x.value]));
    return { minute: at, heapMiB: m.JSHeapUsedSize / 2 ** 20, nodes: m.Nodes, listeners: m.JSEventListeners, typed };
  };
  const samples = [await sample(0)];
  const text = 'tilecast の入力テスト typing test 1234567890 ';
  const end = Date.now() + minutes * 60_000;
  let nextSample = Date.now() + 60_000, i = 0;
  while (Date.now() < end) {
    const ch = [...text][i++ % [...text].length];
    if (ch === ' ' && i % 7 === 0) await page.keyboard.press('Enter');
    else await cdp.send('Input.insertText', { text: ch });
    await sleep(150);
    if (Date.now() >= nextSample) {
      samples.push(await sample(Math.round((Date.now() - end) / 60_000 + minutes)));
      nextSample += 60_000;
    }
  }
  if (samples.at(-1).minute < minutes) samples.push(await sample(minutes));
  await context.close();
  await host.close();
  return samples;
}

module.exports = { blockingBench, touchLatencyBench, typingMemoryBench };
