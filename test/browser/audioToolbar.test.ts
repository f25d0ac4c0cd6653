// The toolbar's audio controls in real headless Chromium on a phone (touch),
// against a real host whose sound comes from a private PulseAudio server:
// without the autoplay exemption the page waits for a tap ("tap to play
// sound"), and the first tap starts it; mute silences the played output and
// unmute brings it back (measured on the playout node); the volume slider sets
// the gain; the microphone button starts Chromium's fake microphone, whose
// frames reach the host, and stops it. Labels in Japanese and English.
import t from 'tap';
import { chromium, Browser, Page } from 'playwright-core';
import { play, pulseUnavailableReason, type PulseServer } from '../../src/testing/pulseServer';
import { toneBurst } from '../../src/testing/tones';
import { until } from '../helpers';
import { ARGS, CHROMIUM, audioHost, openAudioPage, skipWithoutChromium } from './helpers';

const skip = skipWithoutChromium || pulseUnavailableReason() || false;
if (skip && process.env.CI) throw new Error(String(skip));

let browser: Browser;
t.before(async () => {
  // No --autoplay-policy exemption: the page must get its tap.
  if (!skip) browser = await chromium.launch({ executablePath: CHROMIUM, args: [...ARGS, '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'] });
});
t.teardown(() => browser?.close());

const phone = (locale: string) => ({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true, locale });

/** The loudest level (dB) the playout node's output reached over `ms` while a tone plays into the PC's sink. */
async function loudestWhilePlaying(page: Page, pulse: PulseServer, ms = 1500): Promise<number> {
  await page.evaluate(() => {
    const player = (window as any).tilecastViewer.audio.player;
    const w = window as any;
    if (!w.meter) {
      const analyser = player.context.createAnalyser();
      analyser.fftSize = 2048;
      analyser.smoothingTimeConstant = 0; // each reading on its own: no level carried over from before
      player.node.connect(analyser);
      w.meter = { analyser, bins: new Float32Array(analyser.frequencyBinCount) };
    }
    w.meter.loudest = -Infinity;
    clearInterval(w.meter.timer);
    w.meter.timer = setInterval(() => {
      w.meter.analyser.getFloatFrequencyData(w.meter.bins);
      for (const v of w.meter.bins) if (v > w.meter.loudest) w.meter.loudest = v;
    }, 20);
  });
  await play(pulse.server, toneBurst(440, ms, 48000, 2, 0.5), { sampleRate: 48000, channels: 2 }); // resolves as it starts
  await new Promise((r) => setTimeout(r, ms + 600)); // all of it, through capture, link and jitter buffer
  return page.evaluate(() => {
    const w = window as any;
    clearInterval(w.meter.timer);
    return w.meter.loudest as number;
  });
}

const label = (page: Page, id: string) => page.getAttribute(`.tilecast-button-${id}`, 'aria-label');
const pressedState = (page: Page, id: string) => page.getAttribute(`.tilecast-button-${id}`, 'aria-pressed');

t.test('toolbar audio controls: tap to start, mute, volume, microphone; ja and en labels', { skip, timeout: 120_000 }, async (t) => {
  const { pulse, host } = await audioHost(t);

  const context = await browser.newContext(phone('ja-JP'));
  t.teardown(() => context.close());
  const page = await context.newPage();
  const pageErrors = await openAudioPage(page, host);
  // Autoplay: before any tap the browser keeps the sound off, and the (closed) toolbar's button says to tap.
  t.equal(await page.evaluate(() => (window as any).tilecastViewer.audio.state().running), false, 'no sound before a tap');
  t.equal(await label(page, 'sound'), 'タップして音声を再生', 'the sound button says to tap');
  await page.tap('.tilecast-button-toolbar');
  await page.waitForSelector('.tilecast-button-sound', { state: 'visible', timeout: 20_000 });
  t.equal(await page.$('.tilecast-audio-controls'), null, 'with a toolbar, no separate audio buttons');
  t.equal(await page.isVisible('.tilecast-button-mic'), true, 'the microphone button shows: the host takes it');
  for (const id of ['sound', 'mic']) {
    const box = (await page.$(`.tilecast-button-${id}`))!.boundingBox();
    const b = await box;
    t.ok(b && b.width >= 44 && b.height >= 44 && b.x >= 0 && b.x + b.width <= 390, `the ${id} button is at least 44×44 px and on the screen (${JSON.stringify(b)})`);
  }

  // The first tap on the page (here the toolbar's handle) starts the sound.
  await page.waitForFunction(() => (window as any).tilecastViewer.audio.state().running, undefined, { timeout: 10_000 });
  await page.waitForFunction(() => (window as any).tilecastViewer.audio.stats().playback.played > 10, undefined, { timeout: 20_000 });
  t.equal(await label(page, 'sound'), '消音', 'playing: the button mutes');
  t.equal(await page.getAttribute('.tilecast-volume', 'aria-label'), '音量');

  const loud = await loudestWhilePlaying(page, pulse);
  t.ok(loud > -50, `the tone is heard (${loud.toFixed(1)} dB)`);
  await page.tap('.tilecast-button-sound');
  t.equal(await pressedState(page, 'sound'), 'true');
  t.equal(await label(page, 'sound'), '消音を解除', 'muted: the button unmutes');
  const muted = await loudestWhilePlaying(page, pulse);
  t.ok(muted < -100, `muted: silence (${muted.toFixed(1)} dB)`);
  await page.tap('.tilecast-button-sound');
  t.equal(await pressedState(page, 'sound'), 'false');

  // Volume 20 %: the level drops by 20·log10(0.2) ≈ 14 dB (the analyser's smoothing blurs it; a bound, not exact).
  await page.$eval('.tilecast-volume', (el) => {
    const v = el as HTMLInputElement;
    v.value = '20';
    v.dispatchEvent(new Event('input', { bubbles: true }));
  });
  t.equal(await page.evaluate(() => (window as any).tilecastViewer.audio.state().volume), 0.2);
  const quiet = await loudestWhilePlaying(page, pulse);
  t.ok(quiet < loud - 8 && quiet > loud - 20, `volume 20 %: ${(loud - quiet).toFixed(1)} dB quieter`);

  // Microphone: on (Chromium's fake device), frames reach the host; off, they stop.
  t.equal(await label(page, 'mic'), 'マイクをオンにする');
  const micBefore = host.audioStats()!.microphoneFrames;
  await page.tap('.tilecast-button-mic');
  await page.waitForFunction(() => (window as any).tilecastViewer.audio.state().microphoneOn, undefined, { timeout: 10_000 });
  t.equal(await label(page, 'mic'), 'マイクをオフにする');
  t.equal(await pressedState(page, 'mic'), 'true');
  await until(() => host.audioStats()!.microphoneFrames > micBefore + 25, 'the microphone\'s frames at the host', 20_000);
  await page.tap('.tilecast-button-mic');
  await page.waitForFunction(() => !(window as any).tilecastViewer.audio.state().microphoneOn, undefined, { timeout: 10_000 });
  await new Promise((r) => setTimeout(r, 500)); // frames in flight
  const afterOff = host.audioStats()!.microphoneFrames;
  await new Promise((r) => setTimeout(r, 1000));
  t.equal(host.audioStats()!.microphoneFrames, afterOff, 'microphone off: no more frames');
  t.same(pageErrors, []);

  // English.
  const en = await browser.newContext(phone('en-US'));
  t.teardown(() => en.close());
  const enPage = await en.newPage();
  await enPage.goto(host.url.replace(/^ws/, 'http'));
  await enPage.tap('.tilecast-button-toolbar');
  await enPage.waitForSelector('.tilecast-button-sound', { state: 'visible', timeout: 20_000 });
  t.match(await label(enPage, 'sound'), /^(Tap to play sound|Mute)$/);
  t.equal(await label(enPage, 'mic'), 'Turn microphone on');
  t.equal(await enPage.getAttribute('.tilecast-volume', 'aria-label'), 'Volume');
});
