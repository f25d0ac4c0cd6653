// Two-way audio end to end on real components: a PulseAudio server of the test's own (null sink),
// tones played into it with pacat, the host's capture (parec + Opus on its thread), a Node viewer
// decoding them; the viewer's microphone into the host's virtual source, recorded there with parec.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { ViewerClient, ViewerPcmFrame, connectViewer } from '../../../src/client/viewerClient';
import { Capability, Reason } from '../../../src/protocol/constants';
import { encodeMessage } from '../../../src/protocol/messages';
import { pulseEnv } from '../../../src/audio/pulse';
import { OpusEncoder } from '../../../src/audio/opus';
import { MIC_BURST_FRAMES, MIC_FRAMES_PER_SECOND } from '../../../src/host/hostAudio';
import { PulseServer, play, pulseUnavailableReason, startPulseServer } from '../../../src/testing/pulseServer';
import { findTones, firstChannel, silence, toneAmplitude, toneBurst } from '../../../src/testing/tones';
import { until } from '../../helpers';
import { HELLO, rawPeer, startHost } from '../../security/hostile';

const skip = pulseUnavailableReason() ?? false;
// The drop policy (frames older than the budget) has its own unit test; here a loaded CI machine
// that stalls the capture for a moment must not make the signal checks flaky.
const JITTER_BUDGET_MS = 3000;
const wall = () => performance.timeOrigin + performance.now();

/** Plays a 440 Hz and a 1000 Hz burst 500 ms apart; resolves with when the server was asked to play them. */
async function playPair(pulse: PulseServer): Promise<number> {
  return play(pulse.server, Int16Array.from([...toneBurst(440, 200, 48000, 2), ...silence(300, 48000, 2), ...toneBurst(1000, 200, 48000, 2)]), { sampleRate: 48000, channels: 2 });
}

function collect(viewer: ViewerClient): ViewerPcmFrame[] {
  const frames: ViewerPcmFrame[] = [];
  viewer.on('audioPcm', (f) => frames.push(f));
  return frames;
}

t.test('sound: granted only when the host enables it and the viewer asks; tones arrive with frequency and timing', { skip }, async (t) => {
  const pulse = await startPulseServer();
  t.teardown(() => pulse.stop());
  const { host, audits } = await startHost({ audio: { server: pulse.server, jitterBudgetMs: JITTER_BUDGET_MS } });
  t.teardown(() => host.close());
  t.equal(host.audioUnavailableReason, null);

  const deaf = connectViewer(host.url, { reconnect: false });
  t.teardown(() => deaf.close());
  const listener = connectViewer(host.url, { reconnect: false, audio: { pcm: true } });
  t.teardown(() => listener.close());
  const hellos = await Promise.all([deaf, listener].map((v) => new Promise<number>((r) => v.once('hello', (h) => r(h.capabilities)))));
  t.equal(hellos[0]! & Capability.AUDIO, 0, 'a viewer that did not ask gets no AUDIO grant');
  t.equal(hellos[1]! & Capability.AUDIO, Capability.AUDIO, 'a viewer that asked does');
  t.equal(hellos[1]! & Capability.MICROPHONE, 0, 'the microphone is a separate switch (off)');
  const frames = collect(listener);
  let deafAudio = 0;
  deaf.on('audio', () => deafAudio++);
  await until(() => frames.length >= 10, 'first sound frames');
  const listening = () => host.viewers().find((v) => v.audio)!.audio!;
  await new Promise((r) => setTimeout(r, 2500)); // the capture's start may make a sound; then the sink is silent
  t.equal(listening().audible, false, 'a silent PC: DTX frames, the sound is not audible (pixels are not capped for it)');
  const playedAt = await playPair(pulse);
  await until(() => listening().audible, 'the tones make the sound audible');
  await until(() => frames.length > 0 && frames[frames.length - 1]!.captureTime > playedAt + 2500, 'the tones and some after');

  const tones = findTones(frames, [440, 1000]);
  t.same(tones.map((x) => x.freq), [440, 1000], `both bursts decoded: ${JSON.stringify(tones.map((x) => ({ f: x.freq, at: Math.round(x.at - playedAt), n: x.frames })))}`);
  if (tones.length === 2) {
    t.ok(Math.abs(tones[1]!.at - tones[0]!.at - 500) <= 40, `500 ± 40 ms apart (${(tones[1]!.at - tones[0]!.at).toFixed(1)})`);
    // On the host's clock: after the server was asked to play it, and not long after.
    t.ok(tones[0]!.at - playedAt > -20 && tones[0]!.at - playedAt < 2000, `first stamped ${(tones[0]!.at - playedAt).toFixed(1)} ms after play()`);
  }
  const lateness = frames.map((f) => f.receivedAt - f.captureTime).sort((a, b) => a - b);
  t.comment(`capture → viewer on loopback: median ${lateness[Math.floor(lateness.length / 2)]!.toFixed(1)} ms`);
  t.equal(listener.audioConcealed, 0, 'nothing lost on loopback');
  t.equal(deafAudio, 0, 'the viewer that did not ask got no AUDIO');
  const stats = host.audioStats()!;
  t.equal(stats.device, 'speakers.monitor');
  t.ok(stats.encodeMsPerSecond !== null && stats.encodeMsPerSecond < 500, `encode ${stats.encodeMsPerSecond?.toFixed(1)} ms per second of sound`);
  t.ok(host.viewers().find((v) => v.audio)!.audio!.framesSent >= frames.length, 'session counts what it sent');
  t.ok(host.viewers().find((v) => v.audio)!.flow.sideBytes > 0, 'audio bytes are counted by flow control');

  listener.close();
  await until(() => audits.some((a) => a.type === 'audioStop'), 'audioStop audit');
  const start = audits.find((a) => a.type === 'audioStart')!;
  const stop = audits.find((a) => a.type === 'audioStop')!;
  t.equal(start.viewerId, stop.viewerId);
  t.ok(stop.durationMs! > 500, `audioStop carries the duration (${stop.durationMs} ms)`);
  t.equal(host.audioStats()!.capturing, true, 'capture lingers after the last listener (a reconnect hears on at once)');
});

t.test('a host without audio grants none; sound survives a reconnect', { skip }, async (t) => {
  const pulse = await startPulseServer();
  t.teardown(() => pulse.stop());
  const plain = await startHost();
  t.teardown(() => plain.host.close());
  const v0 = connectViewer(plain.host.url, { reconnect: false, audio: true, microphone: true });
  t.teardown(() => v0.close());
  const caps = await new Promise<number>((r) => v0.once('hello', (h) => r(h.capabilities)));
  t.equal(caps & (Capability.AUDIO | Capability.MICROPHONE), 0, 'audio is off unless the host enables it');
  t.equal(plain.host.audioStats(), null);

  const { host } = await startHost({ audio: { server: pulse.server, jitterBudgetMs: JITTER_BUDGET_MS } });
  t.teardown(() => host.close());
  const viewer = connectViewer(host.url, { audio: { pcm: true }, minBackoffMs: 100, maxBackoffMs: 200 });
  t.teardown(() => viewer.close());
  const frames = collect(viewer);
  await until(() => frames.length >= 5, 'sound before the cut');
  host.dropViewers();
  await new Promise<void>((r) => viewer.once('reconnect', () => r()));
  await until(() => viewer.audioOn, 'sound granted again');
  const mark = frames.length;
  await until(() => frames.length >= mark + 5, 'sound on the new connection');
  const playedAt = await playPair(pulse);
  await until(() => frames.length > 0 && frames[frames.length - 1]!.captureTime > playedAt + 2500, 'the tones after the reconnect');
  t.same(findTones(frames.slice(mark), [440, 1000]).map((x) => x.freq), [440, 1000], 'both bursts heard after reconnecting');
  t.equal(viewer.audioConcealed, 0, 'the new connection is a new stream: nothing concealed across the cut');
});

t.test('microphone: a viewer\'s voice reaches the virtual source apps pick, recorded there with parec', { skip }, async (t) => {
  const pulse = await startPulseServer();
  t.teardown(() => pulse.stop());
  const { host, audits } = await startHost({ audio: { server: pulse.server, sound: false, microphone: true } });
  t.teardown(() => host.close());
  const source = await host.prepareMicrophone();
  t.equal(source, 'tilecast_microphone');
  const rec = spawn('parec', [`--device=${source}`, '--raw', '--format=s16le', '--rate=48000', '--channels=1', '--latency-msec=20'], { env: pulseEnv({ server: pulse.server }) });
  const chunks: Buffer[] = [];
  let recordedBytes = 0;
  rec.stdout.on('data', (b: Buffer) => {
    chunks.push(b);
    recordedBytes += b.length;
  });
  t.teardown(() => rec.kill());
  // parec records silence in real time once it runs: wait for that (a cold machine takes a while).
  await until(() => recordedBytes > 0, 'parec recording', 30_000);

  const viewer = connectViewer(host.url, { reconnect: false, microphone: true });
  t.teardown(() => viewer.close());
  const caps = await new Promise<number>((r) => viewer.once('hello', (h) => r(h.capabilities)));
  t.equal(caps & Capability.MICROPHONE, Capability.MICROPHONE, 'microphone granted');
  t.equal(caps & Capability.AUDIO, 0, 'sound off on this host');
  // 1.5 s of a 700 Hz voice-band tone, sent in real time as 20 ms frames.
  const sentFrom = recordedBytes;
  const tone = toneBurst(700, 1500, 48000, 1);
  for (let i = 0; i + 960 <= tone.length; i += 960) {
    t.equal(viewer.sendMicrophonePcm(tone.slice(i, i + 960)), true);
    await new Promise((r) => setTimeout(r, 20));
  }
  // Until the recording covers the tone and 2.5 s more (the virtual source's own start-up included).
  await until(() => recordedBytes >= sentFrom + 2 * 48000 * 4, 'the recording to cover the tone', 30_000);
  rec.kill();
  const all = Buffer.concat(chunks);
  const recorded = firstChannel(new Int16Array(all.buffer, all.byteOffset, all.length >> 1), 1);
  // The loudest 500 ms window: the tone is in it, at 700 Hz and not at its neighbours.
  let best = 0;
  let bestAt = 0;
  for (let i = 0; i + 24000 <= recorded.length; i += 4800) {
    const a = toneAmplitude(recorded.subarray(i, i + 24000), 48000, 700);
    if (a > best) [best, bestAt] = [a, i];
  }
  const window = recorded.subarray(bestAt, bestAt + 24000);
  t.ok(best > 0.1, `700 Hz present in the recording (amplitude ${best.toFixed(3)}, sent 0.4)`);
  t.ok(toneAmplitude(window, 48000, 1000) < best / 10 && toneAmplitude(window, 48000, 440) < best / 10, 'and not other tones');
  t.ok(host.audioStats()!.microphoneFrames >= 70, `${host.audioStats()!.microphoneFrames} microphone frames`);
  viewer.close();
  await until(() => audits.some((a) => a.type === 'microphoneStop'), 'microphoneStop audit');
  t.ok(audits.find((a) => a.type === 'microphoneStart'), 'microphone use audited');
});

t.test('malformed and unwanted AUDIO from a viewer is refused with a clear error', { skip }, async (t) => {
  const pulse = await startPulseServer();
  t.teardown(() => pulse.stop());
  const { host } = await startHost({ audio: { server: pulse.server, sound: false, microphone: true } });
  t.teardown(() => host.close());
  const micHello = encodeMessage({ type: 'hello', minVersion: 1, maxVersion: 1, capabilities: Capability.MICROPHONE, software: 'hostile-test' });

  // A truncated AUDIO: the wire check fails, the session ends with PROTOCOL_ERROR naming the field.
  const a = await rawPeer(host.url);
  a.ws.send(micHello);
  await until(() => a.messages.some((m) => m.type === 'hello'), 'host hello');
  a.ws.send(Uint8Array.from([0x40, 1, 1, 0x80, 0xbb, 0, 0, 0, 0, 0, 0]));
  t.equal(await a.closed, 1008);
  const errA = a.messages.find((m) => m.type === 'error');
  t.match(errA, { reason: Reason.PROTOCOL_ERROR, message: /AUDIO: captureTime needs 8 bytes/ }, 'truncated AUDIO named');

  // Well-formed AUDIO whose payload is not Opus: DECODE_FAILED with libopus's word for it.
  const b = await rawPeer(host.url);
  b.ws.send(micHello);
  await until(() => b.messages.some((m) => m.type === 'hello'), 'host hello');
  b.ws.send(encodeMessage({ type: 'audio', codec: 'opus', sampleRate: 48000, channels: 1, seq: 0, captureTime: wall(), payload: Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]) }));
  t.equal(await b.closed, 1008);
  t.match(b.messages.find((m) => m.type === 'error'), { reason: Reason.DECODE_FAILED, message: /microphone: Opus packet did not decode/ });

  // AUDIO from a viewer that did not ask for (or was not granted) the microphone: dropped, then cut off.
  const c = await rawPeer(host.url);
  c.ws.send(HELLO);
  await until(() => c.messages.some((m) => m.type === 'hello'), 'host hello');
  const frame = encodeMessage({ type: 'audio', codec: 'opus', sampleRate: 48000, channels: 1, seq: 0, captureTime: wall(), payload: Uint8Array.from([0xf8]) });
  for (let i = 0; i < 70; i++) c.ws.send(frame);
  t.equal(await c.closed, 1008);
  t.match(c.messages.find((m) => m.type === 'error'), { message: /AUDIO from a viewer this host accepts no microphone from/ });
  t.equal(host.audioStats()!.microphoneFrames, 0, 'nothing reached the microphone');
});

t.test('a viewer flooding the microphone, or skipping sequence numbers to make the host conceal, costs no more than real time', { skip }, async (t) => {
  const pulse = await startPulseServer();
  t.teardown(() => pulse.stop());
  const { host } = await startHost({ audio: { server: pulse.server, sound: false, microphone: true } });
  t.teardown(() => host.close());
  const peer = await rawPeer(host.url);
  peer.ws.send(encodeMessage({ type: 'hello', minVersion: 1, maxVersion: 1, capabilities: Capability.MICROPHONE, software: 'hostile-test' }));
  await until(() => peer.messages.some((m) => m.type === 'hello'), 'host hello');
  const encoder = new OpusEncoder({ sampleRate: 48000, channels: 1, bitrate: 24000 });
  const payload = encoder.encode(new Int16Array(960));
  encoder.close();
  const SENT = 400;
  const t0 = wall();
  // Every message 26 frames after the last: without a bound, 25 concealment decodes each.
  for (let i = 0; i < SENT; i++) peer.ws.send(encodeMessage({ type: 'audio', codec: 'opus', sampleRate: 48000, channels: 1, seq: i * 26, captureTime: wall(), payload }));
  const stats = () => host.audioStats()!;
  await until(() => stats().microphoneFrames + stats().microphoneDropped >= SENT, 'every frame decoded or dropped');
  const seconds = (wall() - t0) / 1000;
  const decodes = stats().microphoneFrames + stats().microphoneConcealed;
  t.ok(decodes <= MIC_BURST_FRAMES + MIC_FRAMES_PER_SECOND * seconds + 1, `${decodes} decodes in ${seconds.toFixed(2)} s (at most ${MIC_BURST_FRAMES} + ${MIC_FRAMES_PER_SECOND}/s)`);
  t.ok(stats().microphoneDropped > 0, `${stats().microphoneDropped} frames beyond real time dropped`);
  t.equal(peer.ws.readyState, peer.ws.OPEN, 'dropping is not a protocol error: the viewer stays');
});

t.test('sound comes back after the capture dies under a listener (a sound server restart), as a new stream', { skip }, async (t) => {
  const pulse = await startPulseServer();
  t.teardown(() => pulse.stop());
  const { host } = await startHost({ audio: { server: pulse.server, jitterBudgetMs: JITTER_BUDGET_MS } });
  t.teardown(() => host.close());
  const errors: Error[] = [];
  host.on('error', (e) => errors.push(e));
  const listener = connectViewer(host.url, { reconnect: false, audio: { pcm: true } });
  t.teardown(() => listener.close());
  const frames = collect(listener);
  await until(() => frames.length >= 20, 'first sound frames');
  // Kill the host's parec (the one recording from this test's server) as a crashing sound server would.
  const parecs = spawnSyncLines('pgrep', ['-x', 'parec']).filter((pid) => environOf(pid).includes(`PULSE_SERVER=${pulse.server}`));
  t.equal(parecs.length, 1, 'one parec records for the host');
  const killedAt = wall();
  process.kill(parecs[0]!, 'SIGKILL');
  await until(() => errors.some((e) => /sound capture ended/.test(e.message)), 'the host reports the capture ended');
  await until(() => frames.some((f) => f.captureTime > killedAt + 500), 'sound again, captured after the restart', 20_000);
  const playedAt = await playPair(pulse);
  await until(() => frames.some((f) => f.captureTime > playedAt + 2500), 'the tones and some after');
  t.same(findTones(frames.filter((f) => f.captureTime > killedAt), [440, 1000]).map((x) => x.freq), [440, 1000], 'the restarted capture carries the tones');
});

function spawnSyncLines(cmd: string, args: string[]): number[] {
  return spawnSync(cmd, args, { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
}

function environOf(pid: number): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
  } catch {
    return [];
  }
}
