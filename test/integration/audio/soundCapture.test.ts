// What the PC plays, captured from a real PulseAudio server (its own null sink) and Opus-encoded on the capture thread.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { SoundCapture, EncodedAudioFrame } from '../../../src/audio/soundCapture';
import { AudioReceiver, PcmFrame } from '../../../src/audio/audioReceiver';
import { PulseServer, play, pulseUnavailableReason, startPulseServer } from '../../../src/testing/pulseServer';
import { findTones, silence, toneBurst } from '../../../src/testing/tones';
import { until } from '../../helpers';

const skip = pulseUnavailableReason() ?? false;

t.test('tones played into the default sink come out as Opus frames with their frequency and spacing', { skip }, async (t) => {
  const pulse: PulseServer = await startPulseServer();
  t.teardown(() => pulse.stop());
  const capture = new SoundCapture({ server: pulse.server });
  const frames: EncodedAudioFrame[] = [];
  capture.on('frame', (f) => frames.push(f));
  await capture.start();
  t.teardown(() => capture.stop());
  t.equal(capture.device, 'speakers.monitor', 'records the default sink\'s monitor');
  await until(() => frames.length >= 10, 'first frames');
  // 440 Hz for 200 ms, 300 ms of silence, 1000 Hz for 200 ms: the second starts 500 ms after the first.
  const playedAt = await play(pulse.server, Int16Array.from([...toneBurst(440, 200, 48000, 2), ...silence(300, 48000, 2), ...toneBurst(1000, 200, 48000, 2)]), { sampleRate: 48000, channels: 2 });
  await until(() => frames.length > 0 && frames[frames.length - 1]!.captureTime > playedAt + 2500, 'the tones and some after');
  capture.stop();

  for (let i = 1; i < frames.length; i++) if (frames[i]!.seq !== frames[i - 1]!.seq + 1) t.fail(`seq gap at ${i}`);
  const rx = new AudioReceiver();
  const pcm: PcmFrame[] = frames.flatMap((f) => rx.receive({ type: 'audio', codec: 'opus', ...f }));
  t.equal(rx.concealed, 0, 'nothing concealed');
  const tones = findTones(pcm, [440, 1000]);
  t.same(tones.map((x) => x.freq), [440, 1000], `two bursts found: ${JSON.stringify(tones)}`);
  if (tones.length === 2) {
    t.ok(Math.abs(tones[1]!.at - tones[0]!.at - 500) <= 40, `second burst 500 ± 40 ms after the first (${(tones[1]!.at - tones[0]!.at).toFixed(1)})`);
    t.ok(Math.abs(tones[0]!.frames - 10) <= 2, `first burst lasts ~200 ms (${tones[0]!.frames} frames)`);
    // On the host's clock: after the server was asked to play it, and not long after.
    t.ok(tones[0]!.at - playedAt > -20 && tones[0]!.at - playedAt < 2000, `burst stamped ${(tones[0]!.at - playedAt).toFixed(1)} ms after play()`);
  }
  const bytes = frames.reduce((n, f) => n + f.payload.length, 0);
  t.ok((bytes * 8) / (frames.length * 20) <= 48, `payload ≤ 48 kbit/s (${((bytes * 8) / (frames.length * 20)).toFixed(1)})`);
});

t.test('a missing device ends the capture with parec\'s reason', { skip }, async (t) => {
  const pulse = await startPulseServer();
  t.teardown(() => pulse.stop());
  const capture = new SoundCapture({ server: pulse.server, device: 'no_such_sink.monitor' });
  const ended = new Promise<{ reason: string }>((r) => capture.once('end', r));
  // parec starts, then fails to connect its stream.
  await capture.start().catch(() => {});
  const { reason } = await ended;
  t.match(reason, /parec ended|No such entity|no_such/i, reason);
});

/** parec processes recording from this Pulse server (it is in their environment). */
function parecsOf(server: string): number[] {
  const pids = spawnSync('pgrep', ['-x', 'parec'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
  return pids.filter((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`PULSE_SERVER=${server}`);
    } catch {
      return false; // gone meanwhile
    }
  });
}

t.test('stop() while starting leaves nothing recording: during the sink lookup, and before parec reports in', { skip }, async (t) => {
  const pulse = await startPulseServer();
  t.teardown(() => pulse.stop());
  // 1. Stopped while the default sink is being looked up: no thread, no parec.
  const early = new SoundCapture({ server: pulse.server });
  const earlyStart = early.start();
  early.stop();
  await t.rejects(earlyStart, /stopped while starting/);
  // 2. Stopped once the thread exists (a named device needs no lookup) but before parec is running.
  const late = new SoundCapture({ server: pulse.server, device: 'speakers.monitor' });
  const lateStart = late.start();
  late.stop();
  await t.rejects(lateStart, /stopped while starting/);
  await until(() => parecsOf(pulse.server).length === 0, 'no parec left recording');
  t.same(parecsOf(pulse.server), []);
});
