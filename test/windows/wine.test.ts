// The Windows host, run for real under Wine: the cross-built addon in Windows
// Node 22 (node.exe) on an Xvfb display, a Windows test program painting known
// patterns and holding an edit control, Xvfb's own image (xwd) as the reference.
// DXGI Desktop Duplication is a stub in Wine (DuplicateOutput: E_NOTIMPL), so
// the capture is GDI's and DXGI is checked for its clean fallback only.
import t, { Test } from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ViewerClient, ViewerPcmFrame, connectViewer } from '../../src/client/viewerClient';
import { firstDifference, until } from '../helpers';
import { Xvfb, serverImage, x } from '../xserver';
import { Wine, skipWithoutWine, startWine, winPath } from './wine';
import { spawn } from 'node:child_process';
import type { AudioEndpoint } from '../../src/audio/wasapi';
import { loadModule, pulseEnv } from '../../src/audio/pulse';
import type { HostAudioOptions, HostAudioStats } from '../../src/host/hostAudio';
import { Capability } from '../../src/protocol/constants';
import { play, pulseUnavailableReason, startPulseServer } from '../../src/testing/pulseServer';
import { findTones, firstChannel, silence, toneAmplitude, toneBurst } from '../../src/testing/tones';

const skip = skipWithoutWine();
// A cold run cross-builds the addon (~1 min on 2 cores) and makes the Wine prefix (~10-30 s).
t.setTimeout(900_000);
const W = 800, H = 600;

/** The test program's pattern (testapp.cc PatternPixel), as BGR bytes. */
function patternBgr(x: number, y: number, seed: number): [number, number, number] {
  return [((x ^ y) + seed * 5) & 0xff, (y * 13 + seed * 3) & 0xff, (x * 7 + seed) & 0xff];
}

/** Alpha forced to 255: Windows leaves the 4th byte of a GDI grab undefined, xwd has none. */
function opaque(data: Uint8Array): Buffer {
  const out = Buffer.from(data);
  for (let i = 3; i < out.length; i += 4) out[i] = 255;
  return out;
}

async function grab(wine: Wine, backend: string): Promise<{ meta: Record<string, unknown>; pixels: Buffer }> {
  const json = path.join(wine.tmp, `capture-${backend}.json`), raw = path.join(wine.tmp, `capture-${backend}.raw`);
  fs.rmSync(json, { force: true });
  const r = await wine.agent(['capture', json, raw, backend]);
  if (!fs.existsSync(json)) throw new Error(`agent capture failed (${r.code}): ${r.output}`);
  const meta = JSON.parse(fs.readFileSync(json, 'utf8')) as Record<string, unknown>;
  return { meta, pixels: fs.existsSync(raw) && !meta.error ? opaque(fs.readFileSync(raw)) : Buffer.alloc(0) };
}

function patternAt(pixels: Buffer, x0: number, y0: number, w: number, h: number, seed: number): string | null {
  for (let y = 0; y < h; y += 7) {
    for (let x = 0; x < w; x += 5) {
      const i = ((y0 + y) * W + x0 + x) * 4;
      const want = patternBgr(x, y, seed);
      if (pixels[i] !== want[0] || pixels[i + 1] !== want[1] || pixels[i + 2] !== want[2]) {
        return `pattern pixel (${x}, ${y}) at screen (${x0 + x}, ${y0 + y}): ${[...pixels.subarray(i, i + 3)]} vs ${want}`;
      }
    }
  }
  return null;
}

t.test('Windows host under Wine', { skip }, async (t) => {
  const wine = await startWine(W, H);
  t.teardown(() => wine.close());

  await t.test('the cross-built addon loads in Windows Node; auto capture falls back from DXGI to GDI with the reason', async (t) => {
    const auto = await grab(wine, 'auto');
    t.equal(auto.meta.error, undefined, `capture opened (${auto.meta.error ?? ''})`);
    t.equal(auto.meta.backend, 'gdi', 'GDI is used');
    t.match(String(auto.meta.fallbackReason), /DXGI Desktop Duplication unavailable: DuplicateOutput is not implemented here \(E_NOTIMPL/, 'the reason DXGI was not used');
    t.same([auto.meta.width, auto.meta.height], [W, H], 'the monitor size');
    // The code under test: not a prebuild an earlier `npm pack` left in prebuilds/.
    t.match(String(auto.meta.addon), /build[\\/]win32-x64[\\/]tilecast\.node$/, `the cross-built addon is loaded (${auto.meta.addon})`);
    const dxgi = await grab(wine, 'dxgi');
    t.equal(dxgi.meta.code, 'ERR_UNAVAILABLE', 'forced DXGI fails cleanly');
    t.match(String(dxgi.meta.error), /E_NOTIMPL/, 'naming why');
  });

  await t.test('examples/host.js in Windows Node picks WindowsSource and WindowsInputSink by itself', async (t) => {
    const host = wine.spawnNode(path.join(__dirname, '..', '..', 'examples', 'host.js'), ['--listen', '127.0.0.1:0', '--password', 'pw']);
    t.teardown(() => void host.proc.kill('SIGKILL'));
    const out = () => fs.readFileSync(host.log, 'utf8');
    await until(() => /serving ws:\/\//.test(out()) || host.proc.exitCode !== null, 'the example host to listen', 60_000).catch(() => {});
    t.match(out(), /capturing the Windows desktop: 800x600, GDI \(polling\) \(DXGI Desktop Duplication unavailable: DuplicateOutput is not implemented here/, `the capture it chose, and why (${out()})`);
    t.match(out(), /input: SendInput/, 'SendInput injection');
    t.match(out(), /serving ws:\/\/127\.0\.0\.1:\d+\/ \(password required\)/, 'it serves');
  });

  await t.test('GDI capture equals the X server image pixel-exactly, also after a window moves', async (t) => {
    const a = await wine.startApp('paint', 40, 30, 300, 200, 1);
    t.teardown(() => a.stop());
    const b = await wine.startApp('paint', 420, 310, 260, 170, 2);
    t.teardown(() => b.stop());
    const first = await grab(wine, 'gdi');
    const ref1 = serverImage(wine.xs).data;
    const d1 = firstDifference(first.pixels, ref1, W);
    t.equal(d1, null, `capture == xwd -root (${d1 ?? 'equal'})`);
    t.equal(patternAt(first.pixels, 40, 30, 300, 200, 1), null, 'window A shows its pattern where it was put');
    t.equal(patternAt(first.pixels, 420, 310, 260, 170, 2), null, 'window B too');
    await a.move(200, 260);
    const moved = await grab(wine, 'gdi');
    const d2 = firstDifference(moved.pixels, serverImage(wine.xs).data, W);
    t.equal(d2, null, `capture == xwd -root after the move (${d2 ?? 'equal'})`);
    t.equal(patternAt(moved.pixels, 200, 260, 300, 200, 1), null, 'window A at its new place');
    // The pointer over window B (the foreground one: Wine reports the foreground thread's
    // cursor): its position, and an arrow as the shape. Wine's cursor handles cannot be read
    // from another process, so this is the backend's fallback arrow; Windows shares them.
    const events = path.join(wine.tmp, 'pointer.json');
    fs.writeFileSync(events, JSON.stringify([['move', 500, 380], ['sleep', 200]]));
    await wine.agent(['input', path.join(wine.tmp, 'pointer-out.json'), events]);
    const pointed = await grab(wine, 'gdi');
    t.same(pointed.meta.cursor, { x: 500, y: 380, visible: true }, `the pointer where SendInput put it (${pointed.meta.error ?? ''})`);
    const shape = pointed.meta.shape as { width: number; height: number; hotX: number; hotY: number; opaque: number } | undefined;
    t.ok(shape && shape.width >= 16 && shape.height >= 16 && shape.opaque > 20, `an arrow cursor shape (${JSON.stringify(shape)})`);
  });

  await t.test('SendInput: text with JIS keys and CJK lands in a Windows edit control; clicks and wheel at the right pixel', async (t) => {
    const app = await wine.startApp('edit', 100, 100, 400, 240);
    t.teardown(() => app.stop());
    const events: unknown[] = [['move', 300, 200], ['button', 0, true], ['button', 0, false]];
    // As a browser sends them: KeyboardEvent code and key (src/input/keysyms.ts maps them).
    const typed: Array<[string, string]> = [];
    for (const ch of 'Hello, World! 123') typed.push([/[a-z]/i.test(ch) ? `Key${ch.toUpperCase()}` : ch === ' ' ? 'Space' : '', ch]);
    for (const ch of '日本語') typed.push(['', ch]);
    typed.push(['IntlYen', '¥'], ['IntlRo', '\\']);
    for (const [code, key] of typed) events.push(['key', code, key, true], ['key', code, key, false]);
    // JIS keys with no text: 変換, 無変換, カタカナ/ひらがな, 半角/全角.
    for (const [code, key] of [['Convert', 'Convert'], ['NonConvert', 'NonConvert'], ['KanaMode', 'KanaMode'], ['Backquote', 'Zenkaku']]) {
      events.push(['key', code, key, true], ['key', code, key, false]);
    }
    events.push(['move', 123, 145], ['wheel', 0, 2], ['move', 321, 234], ['button', 2, true], ['button', 2, false], ['sleep', 300]);
    const eventsFile = path.join(wine.tmp, 'events.json'), out = path.join(wine.tmp, 'input.json');
    fs.writeFileSync(eventsFile, JSON.stringify(events));
    const r = await wine.agent(['input', out, eventsFile]);
    t.equal(r.code, 0, `the agent ran (${r.output})`);
    const result = JSON.parse(fs.readFileSync(out, 'utf8')) as { size: number[]; mapped: boolean[] };
    t.same(result.size, [W, H], 'the sink covers the monitor');
    t.ok(result.mapped.every(Boolean), 'every key was typeable');
    await until(() => app.text() === 'Hello, World! 123日本語¥\\', 'the typed text in the edit control', 10_000).catch(() => {});
    t.equal(app.text(), 'Hello, World! 123日本語¥\\', 'the edit control holds exactly the typed text');
    const log = app.events();
    const vks = log.filter((l) => l.startsWith('key ')).map((l) => Number(l.split(' ')[1]));
    t.ok(vks.includes(0x1c), '変換 arrives as VK_CONVERT');
    t.ok(vks.includes(0x1d), '無変換 arrives as VK_NONCONVERT');
    t.ok(vks.includes(0x15) || vks.includes(0xf2), 'カタカナ/ひらがな arrives as VK_KANA (or VK_DBE_HIRAGANA)');
    t.ok(vks.includes(0x19) || vks.includes(0xf3) || vks.includes(0xf4), '半角/全角 arrives as VK_KANJI (or VK_OEM_AUTO/ENLW)');
    t.ok(log.includes('down 0 300 200'), `the left click at (300, 200) (${log.filter((l) => l.startsWith('down')).join('; ')})`);
    t.ok(log.includes('down 2 321 234'), 'the right click at (321, 234)');
    t.same(log.filter((l) => l.startsWith('wheel')), ['wheel 0 -120 123 145', 'wheel 0 -120 123 145'], 'two wheel notches down at (123, 145)');
  });

  await t.test('a host in Windows Node streams to a Linux viewer that ends pixel-exact; viewer keys reach Windows', async (t) => {
    const a = await wine.startApp('paint', 60, 50, 320, 180, 3);
    t.teardown(() => a.stop());
    const edit = await wine.startApp('edit', 420, 320, 300, 200);
    t.teardown(() => edit.stop());
    const s = await hostSession(t, wine);
    const d1 = await s.matches();
    t.equal(d1, null, `the viewer framebuffer equals xwd -root (${d1 ?? 'equal'})`);
    await a.move(300, 120);
    const d2 = await s.matches();
    t.equal(d2, null, `still exact after a window moved (${d2 ?? 'equal'})`);
    // Keys from the viewer: focus the edit control with a click, then type.
    s.viewer.sendPointer({ x: 500, y: 400, buttons: 1, wheelX: 0, wheelY: 0 });
    s.viewer.sendPointer({ x: 500, y: 400, buttons: 0, wheelX: 0, wheelY: 0 });
    for (const ch of 'tilecast') {
      s.viewer.sendKey({ down: true, repeat: false, modifiers: 0, keysym: 0, code: `Key${ch.toUpperCase()}`, key: ch });
      s.viewer.sendKey({ down: false, repeat: false, modifiers: 0, keysym: 0, code: `Key${ch.toUpperCase()}`, key: ch });
    }
    await until(() => edit.text() === 'tilecast', 'the viewer keys in the edit control', 15_000).catch(() => {});
    t.equal(edit.text(), 'tilecast', 'typed by the viewer, through the Windows host');
  });
});

t.test('a resolution change under a Windows host reaches the viewer, which stays exact', { skip }, async (t) => {
  const wine = await startWine(1024, 768, { resizable: true });
  t.teardown(() => wine.close());
  const a = await wine.startApp('paint', 100, 80, 300, 200, 4);
  t.teardown(() => a.stop());
  const s = await hostSession(t, wine);
  const d1 = await s.matches();
  t.equal(d1, null, `exact at 1024x768 (${d1 ?? 'equal'})`);
  x(wine.xs, 'xrandr', ['-s', '800x600']);
  await until(() => s.viewer.width === 800 && s.viewer.height === 600, 'the viewer to resize', 30_000).catch(() => {});
  t.same([s.viewer.width, s.viewer.height], [800, 600], 'the viewer follows the new size');
  const d2 = await s.matches();
  t.equal(d2, null, `exact at 800x600 (${d2 ?? 'equal'})`);
});

interface HostInfo {
  url: string;
  backend: string;
  error?: string;
  sound?: { devices: AudioEndpoint[]; unavailable: string | null; microphoneUnavailable: string | null; microphone: string | null };
}

t.test('Windows sound under Wine: WASAPI recording reaches a Linux viewer; the viewer\'s voice plays into a virtual cable', { skip: skip || pulseUnavailableReason() || false }, async (t) => {
  // Wine's WASAPI talks to this PulseAudio: its sinks are Windows outputs ("Null Output": the speakers;
  // "tilecast-test-cable" stands for a virtual cable's input) and their monitors Windows inputs.
  // Wine 8 has no loopback recording (GetService answers AUDCLNT_E_WRONG_ENDPOINT_TYPE), so the
  // host records the speakers' monitor input: the same code from Initialize on, without the LOOPBACK flag.
  const pulse = await startPulseServer();
  t.teardown(() => pulse.stop());
  await loadModule('module-null-sink', ['sink_name=cable', 'rate=48000', 'sink_properties=device.description=tilecast-test-cable'], { server: pulse.server });
  const wine = await startWine(640, 480, { env: { PULSE_SERVER: pulse.server } });
  t.teardown(() => wine.close());
  const s = await hostSession(t, wine, { device: 'Monitor of Null Output', microphone: true, microphoneDevice: 'tilecast-test-cable', jitterBudgetMs: 3000 });
  const sound = s.info.sound!;
  const names = sound.devices.map((d) => `${d.render ? 'out' : 'in'}:${d.name}`);
  t.ok(names.includes('out:tilecast-test-cable') && names.includes('in:Monitor of Null Output'), `listAudioDevices sees the Pulse sinks as Windows endpoints (${names.join(', ')})`);
  t.equal(sound.unavailable, null, 'audio available');
  t.equal(sound.microphoneUnavailable, null, 'a virtual cable input was found');
  t.equal(sound.microphone, 'tilecast-test-cable', 'the voice goes to the named cable input');

  const viewer = connectViewer(s.info.url, { reconnect: false, audio: { pcm: true }, microphone: true });
  t.teardown(() => viewer.close());
  const caps = await new Promise<number>((r) => viewer.once('hello', (h) => r(h.capabilities)));
  t.equal(caps & (Capability.AUDIO | Capability.MICROPHONE), Capability.AUDIO | Capability.MICROPHONE, 'sound and microphone granted');
  const frames: ViewerPcmFrame[] = [];
  viewer.on('audioPcm', (f) => frames.push(f));
  await until(() => frames.length >= 10, 'the first sound frames from the Windows host', 60_000);
  const playedAt = await play(pulse.server, Int16Array.from([...toneBurst(440, 200, 48000, 2), ...silence(300, 48000, 2), ...toneBurst(1000, 200, 48000, 2)]), { sampleRate: 48000, channels: 2 });
  await until(() => frames.length > 0 && frames[frames.length - 1]!.captureTime > playedAt + 2500, 'the tones and some after', 60_000);
  const tones = findTones(frames, [440, 1000]);
  t.same(tones.map((x) => x.freq), [440, 1000], `both bursts decoded: ${JSON.stringify(tones.map((x) => ({ f: x.freq, at: Math.round(x.at - playedAt) })))}`);
  if (tones.length === 2) t.ok(Math.abs(tones[1]!.at - tones[0]!.at - 500) <= 60, `500 ± 60 ms apart (${(tones[1]!.at - tones[0]!.at).toFixed(1)})`);

  // The viewer's voice: a 700 Hz tone, recorded on the Linux side from the cable sink's monitor.
  const rec = spawn('parec', ['--device=cable.monitor', '--raw', '--format=s16le', '--rate=48000', '--channels=1', '--latency-msec=20'], { env: pulseEnv({ server: pulse.server }) });
  const chunks: Buffer[] = [];
  let recorded = 0;
  rec.stdout.on('data', (b: Buffer) => (chunks.push(b), (recorded += b.length)));
  t.teardown(() => rec.kill());
  await until(() => recorded > 0, 'parec recording', 30_000);
  const from = recorded;
  const tone = toneBurst(700, 1500, 48000, 1);
  for (let i = 0; i + 960 <= tone.length; i += 960) {
    viewer.sendMicrophonePcm(tone.slice(i, i + 960));
    await new Promise((r) => setTimeout(r, 20));
  }
  await until(() => recorded >= from + 2 * 48000 * 4, 'the recording to cover the voice', 30_000);
  rec.kill();
  const all = Buffer.concat(chunks);
  const pcm = firstChannel(new Int16Array(all.buffer, all.byteOffset, all.length >> 1), 1);
  let best = 0;
  for (let i = 0; i + 24000 <= pcm.length; i += 4800) best = Math.max(best, toneAmplitude(pcm.subarray(i, i + 24000), 48000, 700));
  t.ok(best > 0.1, `700 Hz in the cable's recording (amplitude ${best.toFixed(3)}, sent 0.4)`);
  await until(() => (s.state().stats?.microphoneFrames ?? 0) >= 70, 'the host to count the voice frames', 10_000).catch(() => {});
  const state = s.state();
  t.ok((state.stats?.microphoneFrames ?? 0) >= 70, `${state.stats?.microphoneFrames} microphone frames at the host`);
  t.equal(state.stats?.device, 'Monitor of Null Output', 'the host names what it records');
  t.same(state.errors, [], 'no host errors');

  // Defaults: the default output in loopback (which Wine cannot do: the host says so and keeps
  // streaming pixels), and no microphone without a known virtual cable (not granted, with the reason).
  const d = await hostSession(t, wine, { microphone: true });
  t.match(d.info.sound!.microphoneUnavailable ?? '', /virtual audio cable/, `microphone refused with the reason: ${d.info.sound!.microphoneUnavailable}`);
  const plain = connectViewer(d.info.url, { reconnect: false, audio: { pcm: true }, microphone: true });
  t.teardown(() => plain.close());
  const plainCaps = await new Promise<number>((r) => plain.once('hello', (h) => r(h.capabilities)));
  t.equal(plainCaps & Capability.MICROPHONE, 0, 'no MICROPHONE grant without a cable');
  t.equal(plainCaps & Capability.AUDIO, Capability.AUDIO, 'sound is still offered');
  await until(() => d.state().errors.length > 0, 'the loopback failure to be reported', 30_000).catch(() => {});
  t.match(d.state().errors[0] ?? '', /sound capture ended: loopback recording of the sound output failed: AUDCLNT_E_WRONG_ENDPOINT_TYPE/, `loopback's failure is named: ${d.state().errors[0]}`);
  t.equal(await d.matches(), null, 'pixels stream on, exact');
});

/** A host in Windows Node (agent.js host, with `audio` as HostOptions.audio) and a Linux viewer connected to it. */
async function hostSession(t: Test, wine: Wine, audio?: HostAudioOptions): Promise<{ viewer: ViewerClient; info: HostInfo; state(): { errors: string[]; stats: HostAudioStats | null }; matches(): Promise<string | null> }> {
  const ready = path.join(wine.tmp, `host-ready-${Date.now()}.json`), stop = `${ready}.stop`;
  const audioJson = `${ready}.audio.json`;
  if (audio) fs.writeFileSync(audioJson, JSON.stringify(audio));
  const host = wine.spawnAgent(['host', ready, stop, ...(audio ? [winPath(audioJson)] : [])]);
  t.teardown(() => {
    fs.writeFileSync(stop, '');
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => (host.proc.kill('SIGKILL'), resolve()), 10_000);
      host.proc.once('exit', () => (clearTimeout(timer), resolve()));
    });
  });
  await until(() => fs.existsSync(ready) && fs.readFileSync(ready, 'utf8').length > 0, 'the Windows host to listen', 60_000)
    .catch(() => t.fail(`host did not start: ${fs.readFileSync(host.log, 'utf8')}`));
  const info = JSON.parse(fs.readFileSync(ready, 'utf8')) as HostInfo;
  t.equal(info.error, undefined, 'the host started');
  t.equal(info.backend, 'gdi', 'on GDI');
  const viewer = await connectViewer(info.url, { reconnect: false });
  t.teardown(() => viewer.close());
  const state = () => {
    try {
      return JSON.parse(fs.readFileSync(`${stop}.errors`, 'utf8')) as { errors: string[]; stats: HostAudioStats | null };
    } catch {
      return { errors: [], stats: null };
    }
  };
  return { viewer, info, state, matches: () => matchesScreen(wine.xs, viewer) };
}

/** Waits until the viewer's framebuffer equals the X server's image (xwd -root); null, or the last difference. */
async function matchesScreen(xs: Xvfb, viewer: ViewerClient): Promise<string | null> {
  const end = Date.now() + 30_000;
  let diff: string | null = 'no frame yet';
  while (Date.now() < end) {
    const img = serverImage(xs);
    const fb = viewer.framebuffer;
    diff = fb && viewer.width === img.width && viewer.height === img.height ? firstDifference(fb, img.data, img.width) : `viewer ${viewer.width}x${viewer.height}, screen ${img.width}x${img.height}`;
    if (diff === null) return null;
    await new Promise((r) => setTimeout(r, 300));
  }
  return diff;
}
