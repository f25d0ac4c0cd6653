// Shared by the browser tests: Debian's Chromium through playwright-core, and
// comparing what the page's canvas holds with the host's frame.
import * as fs from 'node:fs';
import type { Page } from 'playwright-core';
import { Host, type InputEvent as HostInput, createHost } from '../../src/host/host';
import { viewerPage } from '../../src/host/viewerPage';
import { InputRouter } from '../../src/input/inputRouter';
import { X11InputSink } from '../../src/input/inputSink';
import type { KeyMessage } from '../../src/protocol/messages';
import { X11Source } from '../../src/source/x11Source';
import { PushSource } from '../../src/source/pushSource';
import { startPulseServer, type PulseServer } from '../../src/testing/pulseServer';
import type { Xvfb } from '../xserver';
import { until } from '../helpers';
import { loadScene } from '../../src/source/sceneSource';
import type { Frame } from '../../src/frame';

export const CHROMIUM = '/usr/bin/chromium';
/** tap's `skip` for browser tests: false with Chromium installed; throws under CI without it. */
export const skipWithoutChromium: false | string = fs.existsSync(CHROMIUM) ? false : `Debian chromium not installed at ${CHROMIUM}`;
if (skipWithoutChromium && process.env.CI) throw new Error(skipWithoutChromium);

export const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/**
 * A host serving the viewer page on the document scene with sound and
 * microphone on, its sound from a private PulseAudio server (a generous
 * jitter budget: a loaded machine must not drop the known signal). Torn down
 * with the test.
 */
export async function audioHost(t: { teardown(fn: () => unknown): void }): Promise<{ pulse: PulseServer; host: Host; micSource: string | null; source: PushSource }> {
  const pulse = await startPulseServer();
  t.teardown(() => pulse.stop());
  const source = new PushSource();
  source.push(loadScene('document'));
  const host = await createHost({ source, httpHandler: viewerPage(), audio: { server: pulse.server, microphone: true, jitterBudgetMs: 3000 } });
  t.teardown(() => host.close());
  return { pulse, host, micSource: await host.prepareMicrophone(), source };
}

/**
 * Opens the audio host's viewer page and waits until the host captures its
 * sound and the page has its player (granted sound). Returns the page's
 * uncaught errors, collected from now on.
 */
export async function openAudioPage(page: Page, host: Host): Promise<string[]> {
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(host.url.replace(/^ws/, 'http'));
  await until(() => host.viewers().some((v) => v.audio !== null), 'the page asked for audio and got it');
  // The capture thread starts parec and Opus (under the test loader, it compiles them first): slow on a loaded machine.
  await until(() => (host.audioStats()?.framesCaptured ?? 0) > 0, 'the host capturing its sound', 90_000);
  // The page makes its AudioContext only once the host's HELLO granted sound.
  await page.waitForFunction(() => (window as any).tilecastViewer.audio.stats().playback !== null, undefined, { timeout: 20_000 });
  return pageErrors;
}

/** A w x h crop of a rendered scene, so pages and comparisons stay small. */
export function crop(name: Parameters<typeof loadScene>[0], w: number, h: number, x0 = 0, y0 = 0): Frame {
  const s = loadScene(name);
  const data = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) (s.data as Buffer).copy(data, y * w * 4, ((y0 + y) * s.width + x0) * 4, ((y0 + y) * s.width + x0 + w) * 4);
  return { data, width: w, height: h, stride: w * 4 };
}

/** What the pixel helpers need of a page: playwright-core's (Chromium) and puppeteer-core's (Firefox) both have it. */
export interface EvaluatingPage {
  evaluate<R>(fn: () => R | Promise<R>): Promise<R>;
}

/** The canvas's pixels (RGBA) as drawn (by the decode Worker, or the page: the viewer reads them where they are). */
export async function canvasPixels(page: EvaluatingPage): Promise<Buffer> {
  const b64 = await page.evaluate(async () => {
    const d = (await (window as any).tilecastViewer.readCanvas()).data as Uint8ClampedArray;
    let s = '';
    for (let i = 0; i < d.length; i += 0x8000) s += String.fromCharCode(...d.subarray(i, i + 0x8000));
    return btoa(s);
  });
  return Buffer.from(b64, 'base64');
}

/** A BGRA frame as RGBA with alpha 255 (what a canvas holds). */
export function rgbaOf(f: Frame): Buffer {
  const out = Buffer.alloc(f.width * f.height * 4);
  for (let y = 0; y < f.height; y++) {
    for (let x = 0; x < f.width; x++) {
      const s = y * f.stride + x * 4, d = (y * f.width + x) * 4;
      out[d] = f.data[s + 2]!;
      out[d + 1] = f.data[s + 1]!;
      out[d + 2] = f.data[s]!;
      out[d + 3] = 255;
    }
  }
  return out;
}

/**
 * A host streaming the X server `xs` with the browser viewer page, injecting
 * viewers' input into it (XTEST); `keys`: every KEY the host received.
 */
export async function xHost(t: { teardown(fn: () => unknown): void }, xs: Xvfb): Promise<{ host: Host; router: InputRouter; keys: KeyMessage[] }> {
  const source = await X11Source.open({ display: xs.display });
  t.teardown(() => source.close());
  const host = await createHost({ source, httpHandler: viewerPage() });
  t.teardown(() => host.close());
  const sink = X11InputSink.open({ display: xs.display });
  t.teardown(() => sink.close());
  const router = new InputRouter(sink).attach(host);
  const keys: KeyMessage[] = [];
  host.on('input', (e: HostInput) => e.message.type === 'key' && keys.push(e.message));
  return { host, router, keys };
}

/** Waits until every update is acked and the canvas equals `f`; returns the first mismatch or null. */
export async function canvasAtRest(host: Host, page: EvaluatingPage, f: Frame): Promise<string | null> {
  const want = rgbaOf(f);
  let diff: string | null = 'not compared yet';
  const end = Date.now() + 20_000;
  while (Date.now() < end) {
    const size = await page.evaluate(() => [(window as any).tilecastViewer?.stats.width, (window as any).tilecastViewer?.stats.height]);
    if (size[0] === f.width && size[1] === f.height && host.viewers().every((v) => v.flow.inflightUpdates === 0)) {
      const got = await canvasPixels(page);
      const at = got.findIndex((b, i) => b !== want[i]);
      diff = at < 0 ? null : `pixel ${(at / 4) | 0} (${((at / 4) | 0) % f.width},${((at / 4 / f.width) | 0)}): got ${got[at]} want ${want[at]}`;
      if (diff === null) return null;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return diff;
}
