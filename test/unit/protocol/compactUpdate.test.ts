// UPDATE_COMPACT (docs/protocol.md): round trips through the per-connection
// delta state, the documented fixture bytes, and rejection of malformed
// messages without advancing the state.
import t from 'tap';
import { ErrorCodes, TilecastError } from '../../../src/errors';
import { CompactUpdateState, SYNC_FLUSH_TRAILER, encodeCompactUpdate } from '../../../src/protocol/compactUpdate';
import { MessageType } from '../../../src/protocol/constants';
import { UpdateMessage, decodeMessage } from '../../../src/protocol/messages';
import { rng } from '../../helpers';

const withTrailer = (...b: number[]) => Uint8Array.from([...b, ...SYNC_FLUSH_TRAILER]);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').replace(/(..)(?!$)/g, '$1 ');
const upd = (frameId: number, captureTime: number, stream: Uint8Array, extra: Partial<UpdateMessage> = {}): UpdateMessage =>
  ({ type: 'update', frameId, captureTime, keyframe: false, opCount: 1, stream, ...extra });

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return err instanceof TilecastError ? err.code : `not a TilecastError: ${String(err)}`;
  }
  return 'no error';
}

t.test('the documented fixture: a keyframe then a 33 ms later update', async (t) => {
  const host = new CompactUpdateState();
  const a = encodeCompactUpdate(upd(1, 1000, withTrailer(0x01, 0x02), { keyframe: true }), host);
  const b = encodeCompactUpdate(upd(2, 1033.4, withTrailer(0x03), { opCount: 2 }), host);
  t.equal(hex(a), '15 01 01 d0 0f 01 01 02');
  t.equal(hex(b), '15 00 01 42 02 03');
  const viewer = new CompactUpdateState();
  t.same(decodeMessage(a, viewer), upd(1, 1000, withTrailer(0x01, 0x02), { keyframe: true }));
  t.same(decodeMessage(b, viewer), upd(2, 1033, withTrailer(0x03), { opCount: 2 }), 'captureTime in whole ms');
});

t.test('random sequences round-trip: wrapping frame ids, clocks going back, images, empty streams', async (t) => {
  const r = rng(17);
  const host = new CompactUpdateState(), viewer = new CompactUpdateState();
  let frameId = 0xffffff00, time = 1_763_890_000_000;
  let bytes = 0;
  for (let i = 0; i < 5000; i++) {
    frameId = r() < 0.9 ? (frameId + 1) % 0x1_0000_0000 : Math.floor(r() * 0x1_0000_0000);
    time += r() < 0.05 ? -Math.floor(r() * 5000) : r() * 200;
    const stream = withTrailer(...Array.from({ length: Math.floor(r() * 20) }, () => Math.floor(r() * 256)));
    const images = r() < 0.2 ? Uint8Array.from({ length: 1 + Math.floor(r() * 10) }, () => Math.floor(r() * 256)) : undefined;
    const msg = upd(frameId, time, stream, { keyframe: r() < 0.1, opCount: Math.floor(r() * 70000), ...(images ? { images } : {}) });
    const wire = encodeCompactUpdate(msg, host);
    bytes += wire.length;
    const got = decodeMessage(wire, viewer);
    t.same(got, { ...msg, captureTime: Math.round(time), ...(images ? { images } : {}) }, `update ${i}`, { diagnostic: false });
    if (t.passing() === false) break;
  }
  t.equal(viewer.frameId, host.frameId);
  t.equal(viewer.captureTime, host.captureTime);
  t.ok(bytes > 0);
});

t.test('a header of ~6 bytes where UPDATE has 22, and no trailer', async (t) => {
  const host = new CompactUpdateState();
  encodeCompactUpdate(upd(1, 5000, withTrailer(1)), host);
  const wire = encodeCompactUpdate(upd(2, 5100, withTrailer(9, 9, 9)), host);
  t.equal(wire.length, 6 + 3, `${hex(wire)}`);
});

t.test('malformed UPDATE_COMPACT is rejected and leaves the state as it was', async (t) => {
  const host = new CompactUpdateState();
  const good = encodeCompactUpdate(upd(7, 100, withTrailer(5), { images: Uint8Array.from([0xff, 0xd8]) }), host);
  const cases: Array<[string, Uint8Array, string]> = [
    ['unknown flag', Uint8Array.from([0x15, 0x04, 1, 0, 1]), ErrorCodes.PROTOCOL],
    ['truncated header', Uint8Array.from([0x15, 0x00, 0x81]), ErrorCodes.TRUNCATED],
    ['frameId delta over 5 bytes', Uint8Array.from([0x15, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0, 1]), ErrorCodes.PROTOCOL],
    ['frameId delta ≥ 2^32', Uint8Array.from([0x15, 0, 0x80, 0x80, 0x80, 0x80, 0x10, 0, 1]), ErrorCodes.PROTOCOL],
    ['captureTime beyond ±2^50', Uint8Array.from([0x15, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1]), ErrorCodes.PROTOCOL],
    ['opCount over 5 bytes', Uint8Array.from([0x15, 0, 1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), ErrorCodes.PROTOCOL],
    ['IMAGES with no image section', Uint8Array.from([0x15, 0x02, 1, 0, 1, 2, 9, 9]), ErrorCodes.PROTOCOL],
    ['IMAGES with a stream longer than the message', Uint8Array.from([0x15, 0x02, 1, 0, 1, 9, 1]), ErrorCodes.TRUNCATED],
    ['a good one cut short', good.subarray(0, 5), ErrorCodes.TRUNCATED],
  ];
  for (const [what, bytes, want] of cases) {
    const viewer = new CompactUpdateState();
    t.equal(code(() => decodeMessage(bytes, viewer)), want, what);
    t.same({ ...viewer }, { frameId: 0, captureTime: 0 }, `${what}: state unchanged`);
  }
  t.equal(code(() => decodeMessage(good)), ErrorCodes.PROTOCOL, 'refused where COMPACT_UPDATE was not announced (no state)');
  t.match(decodeMessage(good, new CompactUpdateState()), { type: 'update', frameId: 7, captureTime: 100 });
  t.equal(good[0], MessageType.UPDATE_COMPACT);
});

t.test('the host refuses what it cannot code', async (t) => {
  const s = new CompactUpdateState();
  t.equal(code(() => encodeCompactUpdate(upd(1, 0, Uint8Array.from([1, 2, 3])), s)), ErrorCodes.INVALID_ARG, 'a stream without the sync-flush trailer');
  t.equal(code(() => encodeCompactUpdate(upd(1, 2 ** 51, withTrailer()), s)), ErrorCodes.INVALID_ARG, 'captureTime beyond ±2^50');
  t.equal(code(() => encodeCompactUpdate(upd(2 ** 32, 0, withTrailer()), s)), ErrorCodes.INVALID_ARG, 'frameId beyond u32');
  t.equal(code(() => encodeCompactUpdate(upd(1, NaN, withTrailer()), s)), ErrorCodes.INVALID_ARG, 'captureTime NaN');
  t.same({ ...s }, { frameId: 0, captureTime: 0 }, 'state unchanged');
});
