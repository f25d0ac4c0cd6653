// Opus (libopus 1.4 as WebAssembly) round trips, concealment, the packet receiver and the framer's time stamps.
import t from 'tap';
import { AudioReceiver } from '../../../src/audio/audioReceiver';
import { OpusDecoder, OpusEncoder, opusUnavailableReason } from '../../../src/audio/opus';
import { PcmFramer, REANCHOR_MS } from '../../../src/audio/pcmFramer';
import { firstChannel, strongestTone, toneBurst, zeroCrossingFrequency } from '../../../src/testing/tones';

t.test('Opus loads and round-trips a tone within its bit rate', async (t) => {
  t.equal(opusUnavailableReason(), null);
  const enc = new OpusEncoder({ sampleRate: 48000, channels: 2, bitrate: 40_000 });
  const dec = new OpusDecoder(48000, 2);
  const tone = toneBurst(1000, 1000, 48000, 2, 0.3);
  const out: Int16Array[] = [];
  let bytes = 0;
  for (let i = 0; i < tone.length; i += 1920) {
    const packet = enc.encode(tone.slice(i, i + 1920));
    bytes += packet.length;
    out.push(dec.decode(packet));
  }
  const pcm = Int16Array.from(out.flatMap((x) => [...x]));
  const steady = firstChannel(pcm, 2).subarray(9600, 38400);
  t.ok(Math.abs(zeroCrossingFrequency(steady, 48000) - 1000) <= 10, `1000 Hz back (${zeroCrossingFrequency(steady, 48000)})`);
  t.ok((bytes * 8) / 1000 <= 44, `${((bytes * 8) / 1000).toFixed(1)} kbit/s for 40 requested`);
  t.equal(dec.conceal().length, 1920, 'a concealed frame is one 20 ms frame');
  t.throws(() => dec.decode(new Uint8Array([0xff, 0xff, 0xff, 0xff])), { code: 'ERR_CORRUPT_STREAM', message: /did not decode/ });
  t.throws(() => enc.encode(new Int16Array(100)), { code: 'ERR_INVALID_ARG', message: /1920 samples/ });
  t.throws(() => new OpusEncoder({ sampleRate: 44100, channels: 2, bitrate: 40_000 }), { code: 'ERR_INVALID_ARG', message: /sampleRate/ });
  enc.close();
  dec.close();
});

t.test('a receiver conceals lost frames so the output has no hole, and keeps the tone', async (t) => {
  const enc = new OpusEncoder({ sampleRate: 48000, channels: 1, bitrate: 24_000, voice: true });
  const tone = toneBurst(700, 400, 48000, 1, 0.3);
  const rx = new AudioReceiver();
  const frames = [];
  for (let seq = 0; seq < 20; seq++) {
    const payload = enc.encode(tone.slice(seq * 960, seq * 960 + 960));
    if (seq === 8 || seq === 9) continue; // lost on the way
    frames.push(...rx.receive({ type: 'audio', codec: 'opus', sampleRate: 48000, channels: 1, seq, captureTime: 1000 + seq * 20, payload }));
  }
  t.same(frames.map((f) => f.seq), Array.from({ length: 20 }, (_, i) => i), 'every seq present, in order');
  t.same(frames.filter((f) => f.concealed).map((f) => [f.seq, f.captureTime]), [[8, 1160], [9, 1180]]);
  t.equal(rx.concealed, 2);
  const concealed = firstChannel(frames[8]!.pcm, 1);
  t.equal(strongestTone(concealed, 48000, [440, 700, 1000]).freq, 700, 'concealment carries the tone on');
});

t.test('the framer stamps frames from the sample count: jittery arrivals give even stamps', async (t) => {
  const f = new PcmFramer(48000, 1, 960);
  const chunk = new Uint8Array(960); // 10 ms of mono s16
  const stamps: number[] = [];
  // Chunks due every 10 ms from t=1010, arriving up to 35 ms late (a loaded machine).
  const lateness = [0, 5, 35, 20, 3, 0, 12, 30, 1, 0];
  for (let i = 0; i < 10; i++) for (const fr of f.push(chunk, 1010 + 10 * i + lateness[i]!)) stamps.push(fr.captureTime);
  // (the origin may creep 1 ms per second for clock drift: a few hundredths here)
  t.same(stamps.map(Math.round), [1000, 1020, 1040, 1060, 1080], 'one frame per two chunks, 20 ms apart, from the earliest arrival');
  // A suspended source: nothing for a second, then samples again: a new timeline.
  const after = f.push(chunk, 1100 + REANCHOR_MS + 600).concat(f.push(chunk, 1100 + REANCHOR_MS + 610));
  t.equal(after.length, 1);
  t.equal(Math.round(after[0]!.captureTime), 1100 + REANCHOR_MS + 600 - 10, 're-anchored at the first chunk after the gap');
});
