// The viewer of bench/audio.js in a child process of its own, as it is on a
// phone: its decoding of the pixel stream then never delays the host's sends
// or the link's delivery, and its own arrival times are stamped on a thread
// that only the viewer's work occupies. It receives the PC's sound (arrival
// time of every frame) and sends its microphone: a voice-band tone, one
// 24 kbit/s Opus frame every 20 ms on its own clock.
//
//   argv[2]: { url }
//   parent -> child { cmd: 'finish', id } -> { arrivals: [{ seq, captureTime, receivedAt }], pixelArrivals: [[receivedAt, bytes]], audioBytesDown, micBytes, micSeconds }
//                   { cmd: 'close', id } (after finish)
//   child  -> parent { type: 'ready' } (the viewer is connecting)
'use strict';
const { connectViewer, OpusEncoder, MICROPHONE_FORMAT } = require('tilecast');
const { toneBurst } = require('tilecast/testing');
const { serve } = require('./child');

const { url } = JSON.parse(process.argv[2]);
const wall = () => performance.timeOrigin + performance.now();

const arrivals = [];
let audioBytesDown = 0;
const viewer = connectViewer(url, { timeoutMs: 120_000, audio: true, microphone: true });
viewer.on('error', () => {});
// Pixel bytes as they arrive (receivedAt, bytes): the browser viewer's jitter buffer knows the pixel load from them.
const pixelArrivals = [];
viewer.on('update', (u) => pixelArrivals.push([u.receivedAt, u.bytes]));
viewer.on('audio', (f) => {
  arrivals.push({ seq: f.seq, captureTime: f.captureTime, receivedAt: f.receivedAt });
  audioBytesDown += f.payload.length + 21 + 2; // AUDIO header + WebSocket frame header
});

const voice = toneBurst(300, 1000, 48000, 1, 0.3);
const micEncoder = new OpusEncoder({ ...MICROPHONE_FORMAT, voice: true });
let micFrames = 0;
let micBytes = 0;
const micStart = performance.now();
const micTimer = setInterval(() => {
  const due = Math.floor((performance.now() - micStart) / 20);
  while (micFrames < due) {
    const i = (micFrames % 50) * 960;
    const payload = micEncoder.encode(voice.slice(i, i + 960));
    if (viewer.sendMicrophone({ sampleRate: MICROPHONE_FORMAT.sampleRate, channels: 1, seq: micFrames, captureTime: wall(), payload })) micBytes += payload.length + 21 + 6; // + AUDIO header + masked WebSocket header
    micFrames++;
  }
}, 10);

serve({
  finish() {
    clearInterval(micTimer);
    const micSeconds = (performance.now() - micStart) / 1000;
    viewer.close();
    micEncoder.close();
    return { arrivals, pixelArrivals, audioBytesDown, micBytes, micSeconds };
  },
  // After finish's reply (which may be large) has gone: Child.stop() asks.
  close() {
    setImmediate(() => process.exit(0));
    return {};
  },
});
process.send({ type: 'ready' });
