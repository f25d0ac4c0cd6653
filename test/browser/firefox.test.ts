// The browser viewer in real headless Firefox (Debian's firefox-esr, driven over
// WebDriver BiDi by puppeteer-core) against a real host on localhost: the second
// engine, Gecko, for what the Chromium tests check in Blink. Staff use whatever
// their phone or laptop has; a Worker, OffscreenCanvas or WebCodecs difference
// must show here, not in a city's help desk.
import t from 'tap';
import * as fs from 'node:fs';
import { spawn } from 'node:child_process';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { Host, InputEvent, createHost } from '../../src/host/host';
import { viewerPage } from '../../src/host/viewerPage';
import { Modifier } from '../../src/protocol/constants';
import { PushSource } from '../../src/source/pushSource';
import type { Frame } from '../../src/frame';
import { loadModule, pactl, pulseEnv } from '../../src/audio/pulse';
import { play, pulseUnavailableReason } from '../../src/testing/pulseServer';
import { firstChannel, rms, silence, strongestTone, toneBurst } from '../../src/testing/tones';
import { until, videoFrame } from '../helpers';
import { audioHost, canvasAtRest, crop } from './helpers';

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
  return { state: s.state as string, painted: s.painted as number, decoder: s.decoder as string, drawnIn: s.drawnIn as string, codec: s.codec as string, fps: s.fps as number };
});

async function hostWithPage(t: { teardown(fn: () => unknown): void }, first: Frame): Promise<{ source: PushSource; host: Host; page: Page; errors: string[] }> {
  const source = new PushSource();
  const host = await createHost({ source, httpHandler: viewerPage() });
  t.teardown(() => host.close());
  source.push(first);
  const page = await browser.newPage();
  t.teardown(() => page.close());
  await page.setViewport({ width: 1000, height: 700 });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e instanceof Error ? e.message : String(e)));
  await page.goto(host.url.replace(/^ws/, 'http'));
  return { source, host, page, errors };
}

t.test('Firefox: the canvas equals the host screen exactly at rest, through changes, drawn by the decode Worker', { skip }, async (t) => {
  const a = crop('editor', 800, 500);
  const { source, host, page, errors } = await hostWithPage(t, a);
  t.equal(await canvasAtRest(host, page, a), null, 'first screen exact');
  const b = crop('editor-typed', 800, 500);
  source.push(b);
  t.equal(await canvasAtRest(host, page, b), null, 'typed text exact');
  const c = crop('japanese', 800, 500, 300, 200);
  source.push(c);
  t.equal(await canvasAtRest(host, page, c), null, 'Japanese screen exact');
  const d = crop('document', 640, 400);
  source.push(d);
  t.equal(await canvasAtRest(host, page, d), null, 'resized screen exact');
  const stats = await viewer(page);
  t.equal(stats.state, 'connected');
  t.ok(stats.painted >= 3, `painted ${stats.painted} updates`);
  t.equal(stats.decoder, 'worker', 'decoded in a Worker');
  t.equal(stats.drawnIn, 'worker', 'drawn by the Worker on the OffscreenCanvas the page handed it');
  t.same(errors, [], 'no page errors');
});

t.test('Firefox: video plays lossy (JPEG decoded in the page) and is exact once still', { skip }, async (t) => {
  const a = crop('document', 640, 384);
  const { source, host, page, errors } = await hostWithPage(t, a);
  t.equal(await canvasAtRest(host, page, a), null, 'first screen exact');
  const video = { x: 128, y: 64, w: 256, h: 192 };
  let last = a;
  const codecs = new Set<string>();
  for (let n = 0; n < 20; n++) {
    last = videoFrame(a, video, n);
    source.push(last);
    await new Promise((r) => setTimeout(r, 40));
    codecs.add((await viewer(page)).codec);
  }
  t.ok(codecs.has('jpeg'), `while the video plays the stats say JPEG (${[...codecs].join(', ')})`);
  t.equal(await canvasAtRest(host, page, last), null, 'byte-identical at rest after refinement');
  const v = host.viewers()[0]!;
  t.ok(v.lossyUpdates > 0, `${v.lossyUpdates} updates carried JPEG`);
  t.equal(v.quality.lossyTiles, 0, 'no tile left lossy');
  t.equal(v.keyframes, 1, 'no refresh was asked for: every JPEG decoded in the page');
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
  await page.keyboard.press('Enter');
  await until(() => inputs.filter((e) => e.message.type === 'key').length >= 10, 'the key events at the host');
  const pointers = inputs.map((e) => e.message).filter((m) => m.type === 'pointer');
  t.ok(pointers.some((p) => p.type === 'pointer' && p.buttons === 1 && Math.abs(p.x - 100) <= 1 && Math.abs(p.y - 50) <= 1), 'a left press at the clicked pixel');
  const keys = inputs.map((e) => e.message).filter((m) => m.type === 'key').map((m) => m.type === 'key' && `${m.down ? 'down' : 'up'} ${m.code} ${m.key}`);
  t.same(keys, ['down KeyH H', 'up KeyH H', 'down KeyI i', 'up KeyI i', 'down ShiftLeft Shift', 'down KeyA A', 'up KeyA A', 'up ShiftLeft Shift', 'down Enter Enter', 'up Enter Enter']);
  const shiftedA = inputs.map((e) => e.message).find((m) => m.type === 'key' && m.code === 'KeyA' && m.down);
  t.equal(shiftedA?.type === 'key' && shiftedA.modifiers & Modifier.SHIFT, Modifier.SHIFT, 'modifier state travels with the key');
});

/** 100 Hz to 3 kHz in 20 Hz steps: where a tone is looked for. */
const CANDIDATES = Array.from({ length: 146 }, (_, i) => 100 + 20 * i);

t.test('Firefox: the host\'s sound plays in the page; the fake microphone reaches the host\'s virtual source', { skip: skip || pulseUnavailableReason() || false }, async (t) => {
  const { pulse, host, micSource } = await audioHost(t);
  // Firefox plays into a sink of its own on the same private server: into the host's "speakers" its
  // output would be captured again and come back as an echo of every tone.
  await loadModule('module-null-sink', ['sink_name=firefox_speakers'], { server: pulse.server });
  // Its own Firefox: the sound server and the media prefs are the process's. The fake microphone is a 1 kHz tone.
  const ff = await puppeteer.launch({
    browser: 'firefox', executablePath: FIREFOX, headless: true,
    env: { ...process.env, PULSE_SERVER: pulse.server, PULSE_SINK: 'firefox_speakers' },
    extraPrefsFirefox: { 'media.autoplay.default': 0, 'media.autoplay.blocking_policy': 0, 'media.navigator.streams.fake': true, 'media.navigator.permission.disabled': true },
  });
  t.teardown(() => ff.close());
  const page = await ff.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e instanceof Error ? e.message : String(e)));
  await page.goto(host.url.replace(/^ws/, 'http'));
  await until(() => host.viewers().some((v) => v.audio !== null), 'the page asked for audio and got it');
  await until(() => (host.audioStats()?.framesCaptured ?? 0) > 0, 'the host capturing its sound', 90_000);
  await page.waitForFunction(() => (window as any).tilecastViewer.audio.stats().playback !== null, { timeout: 20_000 });
  await page.evaluate(() => (window as any).tilecastViewer.audio.start());
  await page.waitForFunction(() => (window as any).tilecastViewer.audio.stats().playback.played > 10, { timeout: 20_000 });
  const inputs = await pactl(['list', 'short', 'sink-inputs'], { server: pulse.server });
  const sinks = await pactl(['list', 'short', 'sinks'], { server: pulse.server });
  const ffSink = /^(\d+)\s+firefox_speakers\b/m.exec(sinks)?.[1];
  t.ok(ffSink && new RegExp(`^\\d+\\s+${ffSink}\\s`, 'm').test(inputs), 'Firefox plays into its own sink, not the host\'s');
  // The playout node, tapped by an analyser: the strongest frequency every 20 ms.
  await page.evaluate(() => {
    const player = (window as any).tilecastViewer.audio.player;
    const analyser = player.context.createAnalyser();
    analyser.fftSize = 4096;
    player.node.connect(analyser);
    const bins = new Float32Array(analyser.frequencyBinCount);
    const heard: Array<[number, number, number]> = [];
    (window as any).heard = heard;
    setInterval(() => {
      analyser.getFloatFrequencyData(bins);
      let best = 0;
      for (let i = 1; i < bins.length; i++) if (bins[i]! > bins[best]!) best = i;
      heard.push([performance.timeOrigin + performance.now(), (best * player.context.sampleRate) / analyser.fftSize, bins[best]!]);
    }, 20);
  });
  const playedAt = await play(pulse.server, Int16Array.from([...toneBurst(440, 400, 48000, 2), ...silence(400, 48000, 2), ...toneBurst(1000, 400, 48000, 2)]), { sampleRate: 48000, channels: 2 });
  await new Promise((r) => setTimeout(r, 2500));
  const heard: Array<[number, number, number]> = await page.evaluate(() => (window as any).heard);
  const loud = heard.filter(([at, , db]) => at > playedAt && db > -50);
  const near = (f: number, want: number) => Math.abs(f - want) <= 25;
  const first440 = loud.findIndex(([, f]) => near(f, 440));
  const first1000 = loud.findIndex(([, f]) => near(f, 1000));
  t.ok(first440 >= 0, `440 Hz heard in the page (${loud.length} loud samples)`);
  t.ok(first1000 > first440, '1000 Hz heard after it');
  const playback = (await page.evaluate(() => (window as any).tilecastViewer.audio.stats())).playback;
  t.ok(playback.played > 50, `${playback.played} frames played through the worklet (${playback.underruns} underruns)`);

  // Microphone: Firefox's fake device is a steady 1 kHz tone; the page encodes it with AudioEncoder.
  const rec = spawn('parec', [`--device=${micSource}`, '--raw', '--format=s16le', '--rate=48000', '--channels=1', '--latency-msec=20'], { env: pulseEnv({ server: pulse.server }) });
  const chunks: Buffer[] = [];
  rec.stdout.on('data', (b: Buffer) => chunks.push(b));
  t.teardown(() => rec.kill());
  await page.evaluate(() => (window as any).tilecastViewer.audio.setMicrophone(true));
  const mic = (await page.evaluate(() => (window as any).tilecastViewer.audio.stats())).microphone;
  t.same([mic.active, mic.error], [true, null], 'microphone on in the page');
  await new Promise((r) => setTimeout(r, 3000));
  rec.kill();
  const all = Buffer.concat(chunks);
  const recorded = firstChannel(new Int16Array(all.buffer, all.byteOffset, all.length >> 1), 1);
  const freqs: number[] = [];
  for (let i = 0; i + 960 <= recorded.length; i += 960) {
    const w = recorded.subarray(i, i + 960);
    if (rms(w) > 0.02) freqs.push(strongestTone(w, 48000, CANDIDATES).freq);
  }
  t.ok(freqs.length >= 25, `the tone fills the recording of the virtual source (${freqs.length} loud 20 ms windows)`);
  t.ok(freqs.filter((f) => f === 1000).length >= 0.9 * freqs.length, `at 1000 Hz (${[...new Set(freqs)].join(', ')} Hz)`);
  t.ok(host.audioStats()!.microphoneFrames > 50, `${host.audioStats()!.microphoneFrames} microphone frames from the page`);
  t.same(errors, [], 'no page errors');
});
