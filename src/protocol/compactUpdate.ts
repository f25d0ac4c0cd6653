/**
 * UPDATE_COMPACT (0x15): the UPDATE message for viewers that announced the
 * COMPACT_UPDATE capability. A keystroke's update is ~250 bytes, of which the
 * plain UPDATE header (22 bytes) and the deflate sync-flush trailer
 * (`00 00 FF FF`, 4 bytes) were a tenth; here they cost ~6 bytes:
 *
 *   u8 type, u8 flags (as UPDATE), varint frameId − previous frameId (mod 2^32),
 *   zigzag varint captureTime − previous captureTime (whole ms), varint opCount,
 *   [IMAGES: varint streamLength], stream without its trailer, [IMAGES: the image section, to the end]
 *
 * "Previous" is the previous UPDATE_COMPACT of the same connection (0 and 0
 * before the first), so both ends keep a CompactUpdateState per connection.
 * The stream's sync-flush trailer is always `00 00 FF FF`: the host drops it
 * and the viewer puts it back (as RFC 7692 does for WebSocket deflate), so the
 * decoders see the same stream as with UPDATE. captureTime travels in whole
 * milliseconds, within ±2^50. docs/protocol.md is the normative description.
 */
import { ErrorCodes, TilecastError, checkInt, invalidArg } from '../errors';
import { ByteReader, ByteWriter } from './bytes';
import { Limits, MessageType, UpdateFlag } from './constants';
import type { UpdateMessage } from './messages';

/** What both ends remember between the UPDATE_COMPACT messages of one connection. */
export class CompactUpdateState {
  frameId = 0;
  captureTime = 0;
}

/** The sync-flush marker every update's deflate data ends with (an empty stored block). */
export const SYNC_FLUSH_TRAILER: readonly number[] = [0x00, 0x00, 0xff, 0xff];
/** |captureTime| limit (2^50 ms, 35 000 years): deltas and their zigzag codes stay exact in a double. */
const MAX_TIME = 2 ** 50;
const U32 = 0x1_0000_0000;

function writeVarint(w: ByteWriter, v: number): void {
  // Unsigned LEB128 of an integer 0 .. 2^54 (arithmetic, not bit operations: they are 32-bit in JS).
  while (v >= 0x80) {
    w.u8((v % 0x80) + 0x80);
    v = Math.floor(v / 0x80);
  }
  w.u8(v);
}

function readVarint(r: ByteReader, field: string, maxBytes: number, max: number, ctx: string): number {
  let v = 0;
  for (let i = 0, scale = 1; ; i++, scale *= 0x80) {
    if (i === maxBytes) throw new TilecastError(ErrorCodes.PROTOCOL, `${ctx}: ${field} is longer than ${maxBytes} bytes`);
    const b = r.u8(field);
    v += (b & 0x7f) * scale;
    if (b < 0x80) break;
  }
  if (v > max) throw new TilecastError(ErrorCodes.PROTOCOL, `${ctx}: ${field} ${v} is above ${max}`);
  return v;
}

const zigzag = (v: number): number => (v < 0 ? -2 * v - 1 : 2 * v);
const unzigzag = (v: number): number => (v % 2 === 1 ? -(v + 1) / 2 : v / 2);

function endsWithTrailer(stream: Uint8Array): boolean {
  const n = stream.length;
  return n >= 4 && SYNC_FLUSH_TRAILER.every((b, i) => stream[n - 4 + i] === b);
}

/**
 * Encodes an update as UPDATE_COMPACT and advances `state`. The stream must
 * end with the sync-flush trailer (every encoder's stream does).
 */
export function encodeCompactUpdate(msg: UpdateMessage, state: CompactUpdateState): Uint8Array {
  const frameId = checkInt('frameId', msg.frameId, 0, U32 - 1);
  if (typeof msg.captureTime !== 'number' || !Number.isFinite(msg.captureTime) || Math.abs(msg.captureTime) > MAX_TIME) {
    throw invalidArg('captureTime', 'a finite number of ms within ±2^50', msg.captureTime);
  }
  if (typeof msg.keyframe !== 'boolean') throw invalidArg('keyframe', 'a boolean', msg.keyframe);
  const opCount = checkInt('opCount', msg.opCount, 0, U32 - 1);
  if (!(msg.stream instanceof Uint8Array) || !endsWithTrailer(msg.stream)) throw invalidArg('stream', 'deflate data ending in a sync flush (00 00 FF FF)', msg.stream);
  const images = msg.images ?? new Uint8Array(0);
  if (!(images instanceof Uint8Array)) throw invalidArg('images', 'a Uint8Array', msg.images);
  const stream = msg.stream.subarray(0, msg.stream.length - 4);
  if (stream.length + images.length > Limits.MAX_MESSAGE_BYTES - 40) throw invalidArg('stream', 'under the message size limit', msg.stream);
  const captureTime = Math.round(msg.captureTime);
  const w = new ByteWriter(stream.length + images.length + 40);
  w.u8(MessageType.UPDATE_COMPACT).u8((msg.keyframe ? UpdateFlag.KEYFRAME : 0) | (images.length ? UpdateFlag.IMAGES : 0));
  writeVarint(w, (frameId - state.frameId + U32) % U32);
  writeVarint(w, zigzag(captureTime - state.captureTime));
  writeVarint(w, opCount);
  if (images.length) writeVarint(w, stream.length);
  w.bytes(stream);
  if (images.length) w.bytes(images);
  state.frameId = frameId;
  state.captureTime = captureTime;
  return w.finish();
}

/**
 * Reads the body of an UPDATE_COMPACT (after its type byte) and advances
 * `state`, only when the whole message is valid. The returned stream is a new
 * buffer with the trailer put back; images is a view into the message.
 */
export function readCompactUpdate(r: ByteReader, state: CompactUpdateState, ctx: string): UpdateMessage {
  const flags = r.u8('flags');
  if (flags & ~(UpdateFlag.KEYFRAME | UpdateFlag.IMAGES)) throw new TilecastError(ErrorCodes.PROTOCOL, `${ctx}: unknown flags 0x${flags.toString(16)}`);
  const frameId = (state.frameId + readVarint(r, 'frameId delta', 5, U32 - 1, ctx)) % U32;
  const captureTime = state.captureTime + unzigzag(readVarint(r, 'captureTime delta', 8, 4 * MAX_TIME, ctx));
  if (Math.abs(captureTime) > MAX_TIME) throw new TilecastError(ErrorCodes.PROTOCOL, `${ctx}: captureTime ${captureTime} out of range`);
  const opCount = readVarint(r, 'opCount', 5, U32 - 1, ctx);
  const withImages = (flags & UpdateFlag.IMAGES) !== 0;
  const streamLength = withImages ? readVarint(r, 'streamLength', 5, Limits.MAX_MESSAGE_BYTES, ctx) : r.remaining;
  const coded = r.bytes(streamLength, 'stream');
  const stream = new Uint8Array(coded.length + 4);
  stream.set(coded);
  stream.set(SYNC_FLUSH_TRAILER, coded.length);
  const msg: UpdateMessage = { type: 'update', frameId, captureTime, keyframe: (flags & UpdateFlag.KEYFRAME) !== 0, opCount, stream };
  if (withImages) {
    if (r.remaining === 0) throw new TilecastError(ErrorCodes.PROTOCOL, `${ctx}: IMAGES flag with an empty image section`);
    msg.images = r.bytes(r.remaining, 'images');
  }
  state.frameId = frameId;
  state.captureTime = captureTime;
  return msg;
}
