// Two-way audio in real headless Chromium (Debian's, through playwright-core) against a real host
// whose sound comes from a private PulseAudio server: tones played into its sink come out of the
// page's AudioWorklet at their frequencies; Chromium's fake microphone (its beep) is encoded by the
// page's AudioEncoder, reaches the host's virtual source and is recorded there with parec.
import t from 'tap';
import * as fs from 'node:fs';
import { spawn } from 'node:child_process';
import { chromium, Browser, Page } from 'playwright-core';
import { pulseEnv } from '../../src/audio/pulse';
import { play, pulseUnavailableReason } from '../../src/testing/pulseServer';
import { firstChannel, rms, silence, strongestTone, toneBurst } from '../../src/testing/tones';
import * as crypto from 'node:crypto';
import { LOADED_JITTER_MS, FRAME_MS } from '../../src/audio/jitterBuffer';
import { loadScene } from '../../src/source/sceneSource';
import { audioHost, openAudioPage } from './helpers';

const CHROMIUM = '/usr/bin/chromium';
/** 100 Hz to 3 kHz in 20 Hz steps: where a beep's tone is looked for. */
/** The jitter buffer's target under pixel load, frames. */
const LOADED_TARGET = Math.ceil(LOADED_JITTER_MS / FRAME_MS) + 1;
const CANDIDATES = Array.from({ length: 146 }, (_, i) => 100 + 20 * i);
const skip = (fs.existsSync(CHROMIUM) ? false : `Debian chromium not installed at ${CHROMIUM}`) || pulseUnavailableReason() || false;
if (skip && process.env.CI) throw new Error(String(skip));

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
  '--autoplay-policy=no-user-gesture-required', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

let browser: Browser;
t.before(async () => {
  if (!skip) browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
});
t.teardown(() => browser?.close());

/** Taps the page's playout node with an analyser: the strongest frequency it hears, every 20 ms. */
async function listen(page: Page): Promise<void> {
  await page.evaluate(() => {
    const audio = (window as any).tilecastViewer.audio;
    const player = audio.player;
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
}

t.test('the host\'s sound plays in the page; the fake microphone\'s beep reaches the host\'s virtual source', { skip }, async (t) => {
  const { pulse, host, micSource, source } = await audioHost(t);
  const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
  t.teardown(() => page.close());
  const pageErrors = await openAudioPage(page, host);
  await page.evaluate(() => (window as any).tilecastViewer.audio.start());
  await page.waitForFunction(() => (window as any).tilecastViewer.audio.stats().playback.played > 10, undefined, { timeout: 20_000 });
  await listen(page);

  // Playback: 440 Hz then 1000 Hz, 400 ms each, 400 ms apart.
  const playedAt = await play(pulse.server, Int16Array.from([...toneBurst(440, 400, 48000, 2), ...silence(400, 48000, 2), ...toneBurst(1000, 400, 48000, 2)]), { sampleRate: 48000, channels: 2 });
  await new Promise((r) => setTimeout(r, 2500));
  const heard: Array<[number, number, number]> = await page.evaluate(() => (window as any).heard);
  const loud = heard.filter(([at, , db]) => at > playedAt && db > -50);
  const near = (f: number, want: number) => Math.abs(f - want) <= 25; // the analyser's bins are 11.7 Hz wide
  const first440 = loud.findIndex(([, f]) => near(f, 440));
  const first1000 = loud.findIndex(([, f]) => near(f, 1000));
  t.ok(first440 >= 0, `440 Hz heard in the page (${loud.length} loud samples)`);
  t.ok(first1000 > first440, '1000 Hz heard after it');
  // Their spacing as played is the jitter buffer's business (it inserts silence on an underrun and skips
  // frames to drain), so it is reported, not asserted; the capture timing is checked at the Node viewer.
  if (first440 >= 0 && first1000 > first440) t.comment(`onsets ${(loud[first1000]![0] - loud[first440]![0]).toFixed(0)} ms apart in the page (800 played)`);
  const playback = (await page.evaluate(() => (window as any).tilecastViewer.audio.stats())).playback;
  const lat = [...playback.recentLatencyMs].sort((a: number, b: number) => a - b);
  t.comment(`page playout: ${playback.played} frames, ${playback.underruns} underruns, ${playback.lost} lost, target ${playback.targetFrames * 20} ms, mouth-to-ear median ${lat[lat.length >> 1]?.toFixed(0)} ms`);
  t.ok(playback.played > 50, 'frames played through the worklet');

  // Pixel load: a region of noise repainted 10 times a second (about 100 kB an update) for 4 s. The page
  // tells its worklet, whose jitter buffer then keeps LOADED_JITTER_MS of allowance (a new stream counts as
  // a jittery link for its first minute, so even on loopback).
  t.equal(playback.pixelLoaded, false, 'a still screen: no pixel load');
  t.ok(playback.targetFrames < LOADED_TARGET, `target ${playback.targetFrames} frames on loopback`);
  const noisy = loadScene('document');
  const repaint = setInterval(() => {
    const data = Buffer.from(noisy.data);
    for (let y = 100; y < 300; y++) crypto.randomFillSync(data, (y * noisy.width + 100) * 4, 200 * 4);
    source.push({ ...noisy, data });
  }, 100);
  t.teardown(() => clearInterval(repaint));
  await page.waitForFunction((want) => { const p = (window as any).tilecastViewer.audio.stats().playback; return p.pixelLoaded && p.targetFrames >= want; }, LOADED_TARGET, { timeout: 15_000 })
    .catch(() => {});
  const loaded = (await page.evaluate(() => (window as any).tilecastViewer.audio.stats())).playback;
  clearInterval(repaint);
  t.equal(loaded.pixelLoaded, true, 'the page saw the pixel load');
  t.ok(loaded.targetFrames >= LOADED_TARGET, `and its worklet's jitter buffer allows for it (target ${loaded.targetFrames} frames)`);

  // Microphone: Chromium's fake capture device beeps; the page encodes it with AudioEncoder.
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
  // 20 ms windows: the beep makes some loud and some quiet; the loud ones carry one tone.
  const windows: number[] = [];
  const freqs: number[] = [];
  const loudSamples: number[] = [];
  for (let i = 0; i + 960 <= recorded.length; i += 960) {
    const w = recorded.subarray(i, i + 960);
    windows.push(rms(w));
    if (rms(w) > 0.02) {
      freqs.push(strongestTone(w, 48000, CANDIDATES).freq);
      loudSamples.push(...w);
    }
  }
  const loudShare = windows.filter((r) => r > 0.02).length / Math.max(1, windows.length);
  freqs.sort((a, b) => a - b);
  t.comment(`microphone at the host: ${windows.length} windows, ${(loudShare * 100).toFixed(0)} % loud, median frequency ${freqs[freqs.length >> 1]?.toFixed(0)} Hz`);
  t.ok(freqs.length >= 5, 'the beep is present in the recording of the virtual source');
  t.ok(loudShare < 0.9, 'and it is a beep (quiet between), not noise throughout');
  t.comment(`strongest frequency of each loud window: ${freqs.join(' ')}`);
  // Chromium's fake capture device (media/audio BeepingSource) beeps a 400 Hz square wave; the page's
  // echo cancellation, noise suppression and Opus shape its edges, so the whole of the loud part is measured.
  const beep = strongestTone(Float32Array.from(loudSamples), 48000, CANDIDATES);
  t.ok(Math.abs(beep.freq - 400) <= 20, `the beep's 400 Hz is the strongest component at the host (${beep.freq} Hz)`);
  t.ok(host.audioStats()!.microphoneFrames > 50, `${host.audioStats()!.microphoneFrames} microphone frames from the page`);
  t.same(pageErrors, [], 'no page errors');
});
