import t from 'tap';
import { ErrorCodes } from '../../../src/errors';
import { FrameParser, encodeFrame } from '../../../src/protocol/framing';
import { negotiateVersion } from '../../../src/protocol/version';
import { Limits } from '../../../src/protocol/constants';
import { rng } from '../../helpers';

t.test('frames survive any chunking', async (t) => {
  const random = rng(1);
  const messages = Array.from({ length: 50 }, (_, i) => Uint8Array.from({ length: 1 + ((random() * 300) | 0) }, () => i));
  const stream = Buffer.concat(messages.map(encodeFrame));
  for (const chunkSize of [1, 2, 3, 5, 64, 1000, stream.length]) {
    const parser = new FrameParser();
    const out: Uint8Array[] = [];
    for (let at = 0; at < stream.length; at += chunkSize) out.push(...parser.push(stream.subarray(at, at + chunkSize)));
    t.same(out.map((m) => Array.from(m)), messages.map((m) => Array.from(m)), `chunk ${chunkSize}`);
    t.ok(parser.idle);
  }
});

t.test('length limits are enforced before allocating', async (t) => {
  const parser = new FrameParser({ maxMessageBytes: 1024 });
  t.throws(() => parser.push(Uint8Array.from([0x01, 0x04, 0, 0])), { code: ErrorCodes.TOO_LARGE });
  t.throws(() => new FrameParser().push(Uint8Array.from([0xff, 0xff, 0xff, 0xff])), { code: ErrorCodes.TOO_LARGE });
  t.throws(() => new FrameParser().push(Uint8Array.from([0, 0, 0, 0])), { code: ErrorCodes.PROTOCOL });
  t.throws(() => new FrameParser({ maxMessageBytes: 0 }), { code: ErrorCodes.INVALID_ARG });
});

t.test('a frame\'s buffer grows with the data that arrived, not with its declared length', async (t) => {
  // ArrayBuffer bytes V8 holds: a declared length must not reserve memory by itself.
  const held = () => process.memoryUsage().arrayBuffers;
  const declared = Limits.MAX_MESSAGE_BYTES; // 64 MiB, the largest allowed
  const parser = new FrameParser();
  const header = new Uint8Array(4);
  new DataView(header.buffer).setUint32(0, declared, true);
  const random = rng(7);
  const body = Uint8Array.from({ length: 3 * 1024 * 1024 }, () => (random() * 256) | 0);
  const before = held();
  t.same(parser.push(header), []);
  t.ok(held() - before < 1024 * 1024, `header alone: ${held() - before} bytes held`);
  t.notOk(parser.idle, 'a frame is in progress');
  // Then the body trickles in: what is held stays within twice what arrived.
  let sent = 0;
  for (const size of [1, 10, 1000, 65536, 1024 * 1024]) {
    t.same(parser.push(body.subarray(sent, sent + size)), []);
    sent += size;
    const grew = held() - before;
    t.ok(grew <= 2 * sent + 1024 * 1024, `after ${sent} bytes: ${grew} bytes held`);
  }
  // A small frame completes exactly, however its body is split.
  const small = new FrameParser();
  const payload = body.subarray(0, 100_000);
  const framed = encodeFrame(payload);
  const out = [...small.push(framed.subarray(0, 4)), ...small.push(framed.subarray(4, 5)), ...small.push(framed.subarray(5, 70_000)), ...small.push(framed.subarray(70_000))];
  t.equal(out.length, 1);
  t.ok(Buffer.from(out[0]!).equals(Buffer.from(payload)), 'the message is exact');
  t.ok(small.idle);
});

t.test('version negotiation picks the highest common version', async (t) => {
  t.equal(negotiateVersion({ minVersion: 1, maxVersion: 5 }, { minVersion: 1, maxVersion: 3 }), 3);
  t.equal(negotiateVersion({ minVersion: 1, maxVersion: 1 }), 1);
  t.throws(() => negotiateVersion({ minVersion: 4, maxVersion: 6 }, { minVersion: 1, maxVersion: 3 }), { code: ErrorCodes.UNSUPPORTED_VERSION });
});
