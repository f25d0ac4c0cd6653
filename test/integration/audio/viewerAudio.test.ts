// The Node viewer's side of AUDIO against a scripted host (a real WebSocket server that sends what the
// test says): sequence gaps concealed, malformed or ungranted AUDIO refused with a clear error.
import t, { Test } from 'tap';
import { WebSocketServer, WebSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import { ViewerClient, ViewerPcmFrame, connectViewer } from '../../../src/client/viewerClient';
import { OpusEncoder } from '../../../src/audio/opus';
import { Capability, Reason } from '../../../src/protocol/constants';
import { Message, decodeMessage, encodeMessage } from '../../../src/protocol/messages';
import { firstChannel, strongestTone, toneBurst } from '../../../src/testing/tones';
import { until } from '../../helpers';

/** A host that answers HELLO granting `capabilities`, then lets the test send; records what the viewer sent. */
async function scriptedHost(t: Test, capabilities: number) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  t.teardown(() => new Promise((r) => wss.close(r)));
  const received: Message[] = [];
  const peer = new Promise<WebSocket>((resolve) => wss.on('connection', (ws) => {
    ws.on('message', (d: Buffer) => {
      const m = decodeMessage(d);
      received.push(m);
      if (m.type === 'hello') {
        ws.send(encodeMessage({ type: 'hello', minVersion: 1, maxVersion: 1, capabilities, software: 'scripted-host' }));
        resolve(ws);
      }
    });
  }));
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`, peer, received };
}

function viewer(t: Test, url: string): ViewerClient {
  const v = connectViewer(url, { reconnect: false, audio: { pcm: true } });
  v.on('error', () => {});
  t.teardown(() => v.close());
  return v;
}

const tone = toneBurst(700, 400, 48000, 2, 0.3);
function opusFrames(): Uint8Array[] {
  const enc = new OpusEncoder({ sampleRate: 48000, channels: 2, bitrate: 40_000 });
  const out = [];
  for (let i = 0; i < 20; i++) out.push(enc.encode(tone.slice(i * 1920, (i + 1) * 1920)));
  enc.close();
  return out;
}

t.test('gaps in seq are concealed, late frames dropped: the PCM has no hole and keeps the tone', async (t) => {
  const host = await scriptedHost(t, Capability.AUDIO);
  const v = viewer(t, host.url);
  const pcm: ViewerPcmFrame[] = [];
  v.on('audioPcm', (f) => pcm.push(f));
  const ws = await host.peer;
  const packets = opusFrames();
  const send = (seq: number) => ws.send(encodeMessage({ type: 'audio', codec: 'opus', sampleRate: 48000, channels: 2, seq, captureTime: 5000 + seq * 20, payload: packets[seq]! }));
  for (const seq of [0, 1, 2, 3, 6, 7, 5, 8, 9, 13, 14]) send(seq); // 4, 10-12 lost; 5 late
  await until(() => pcm.some((f) => f.seq === 14), 'the last frame');
  t.same(pcm.map((f) => f.seq), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14], 'a continuous stream');
  t.same(pcm.filter((f) => f.concealed).map((f) => f.seq), [4, 5, 10, 11, 12], 'the lost and the late frame concealed');
  t.equal(v.audioConcealed, 5);
  t.equal(v.connected, true, 'the connection goes on');
  const steady = firstChannel(Int16Array.from(pcm.slice(6, 10).flatMap((f) => [...f.pcm])), 2);
  t.equal(strongestTone(steady, 48000, [440, 700, 1000]).freq, 700);
});

t.test('malformed AUDIO from a host ends the connection with a clear error', async (t) => {
  const cases: Array<[string, number, Uint8Array, number, RegExp]> = [
    ['unknown codec', Capability.AUDIO, Uint8Array.from([0x40, 9, 2, 0x80, 0xbb, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0xfc]), Reason.PROTOCOL_ERROR, /unknown audio codec 9/],
    ['sample rate 44100', Capability.AUDIO, Uint8Array.from([0x40, 1, 2, 0x44, 0xac, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0xfc]), Reason.PROTOCOL_ERROR, /sample rate 44100/],
    ['payload over 4000 bytes', Capability.AUDIO, Uint8Array.from([0x40, 1, 2, 0x80, 0xbb, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xa1, 0x0f, ...new Array(4001).fill(0)]), Reason.TOO_LARGE, /limit 4000/],
    ['not Opus', Capability.AUDIO, encodeMessage({ type: 'audio', codec: 'opus', sampleRate: 48000, channels: 2, seq: 0, captureTime: 1, payload: Uint8Array.from([0xff, 0xff, 0xff, 0xff]) }), Reason.DECODE_FAILED, /Opus packet did not decode/],
    ['AUDIO the host did not grant', 0, encodeMessage({ type: 'audio', codec: 'opus', sampleRate: 48000, channels: 2, seq: 0, captureTime: 1, payload: opusFrames()[0]! }), Reason.PROTOCOL_ERROR, /did not announce the AUDIO capability/],
  ];
  for (const [name, caps, bytes, reason, message] of cases) {
    const host = await scriptedHost(t, caps);
    const v = viewer(t, host.url);
    const errors: Error[] = [];
    v.on('error', (e) => errors.push(e));
    const ws = await host.peer;
    await until(() => v.connected, 'connected');
    ws.send(bytes);
    await until(() => host.received.some((m) => m.type === 'error'), `${name}: the viewer's ERROR`);
    t.match(host.received.find((m) => m.type === 'error'), { reason, message }, `${name}: ERROR ${reason}`);
    t.match(errors[0]?.message, message, `${name}: reported to the app`);
    await until(() => !v.connected, 'closed');
  }
});
