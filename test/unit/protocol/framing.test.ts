import t from 'tap';
import { ErrorCodes } from '../../../src/errors';
import { FrameParser, encodeFrame } from '../../../src/protocol/framing';
import { negotiateVersion } from '../../../src/protocol/version';
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

t.test('version negotiation picks the highest common version', async (t) => {
  t.equal(negotiateVersion({ minVersion: 1, maxVersion: 5 }, { minVersion: 1, maxVersion: 3 }), 3);
  t.equal(negotiateVersion({ minVersion: 1, maxVersion: 1 }), 1);
  t.throws(() => negotiateVersion({ minVersion: 4, maxVersion: 6 }, { minVersion: 1, maxVersion: 3 }), { code: ErrorCodes.UNSUPPORTED_VERSION });
});
