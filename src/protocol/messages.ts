/**
 * Message encode/decode: pure functions from typed objects to bytes and back.
 * Each message is one u8 type followed by its body (docs/protocol.md). Decoding
 * checks every field against Limits before anything is allocated and rejects
 * trailing bytes; errors are TilecastErrors with ERR_PROTOCOL / ERR_TRUNCATED /
 * ERR_TOO_LARGE / ERR_UNKNOWN_MESSAGE.
 */
import { ErrorCodes, TilecastError, checkInt, checkBytes, invalidArg } from '../errors';
import { ByteReader, ByteWriter } from './bytes';
import { CompactUpdateState, readCompactUpdate } from './compactUpdate';
import {
  AUDIO_SAMPLE_RATES, AudioCodec, KeyFlag, Limits, MAX_QUALITY_LIMIT, MessageType, PROTOCOL_MAGIC, SCREEN_STATE_NAMES, ScreenStateName, UpdateFlag,
  messageTypeName,
} from './constants';

export interface HelloMessage {
  type: 'hello';
  minVersion: number;
  maxVersion: number;
  capabilities: number;
  /** Free text naming the peer's software, for logs and audit. */
  software: string;
}
export interface ResizeMessage {
  type: 'resize';
  width: number;
  height: number;
}
export interface UpdateMessage {
  type: 'update';
  frameId: number;
  /** Host clock, milliseconds (performance.timeOrigin-based epoch ms). */
  captureTime: number;
  keyframe: boolean;
  opCount: number;
  /** Raw-deflate op stream ending in a sync flush. */
  stream: Uint8Array;
  /** The image section: JPEG data the stream's JPEG ops use, in order (absent or empty: none). */
  images?: Uint8Array;
}
export interface CursorShapeMessage {
  type: 'cursorShape';
  width: number;
  height: number;
  hotX: number;
  hotY: number;
  /** BGRA, straight alpha, width*height*4 bytes. */
  pixels: Uint8Array;
}
export interface CursorPositionMessage {
  type: 'cursorPosition';
  x: number;
  y: number;
  visible: boolean;
}
/** What the host's screen source is doing (only to viewers with the SCREEN_STATE capability). */
export interface ScreenStateMessage {
  type: 'screenState';
  /** Wire u8: 0 live, 1 unavailable (capture failing or hanging, retrying), 2 ended. */
  state: ScreenStateName;
  /** Short UTF-8 text for the user or logs (≤ 200 bytes; may be empty). */
  reason: string;
}
export interface AckMessage {
  type: 'ack';
  frameId: number;
  /** Viewer clock, ms: when the update arrived and when it was on screen. */
  receivedAt: number;
  displayedAt: number;
}
export interface PointerMessage {
  type: 'pointer';
  x: number;
  y: number;
  /** Bit i set = button i held (0 left, 1 middle, 2 right, 3 back, 4 forward). */
  buttons: number;
  wheelX: number;
  wheelY: number;
}
export interface KeyMessage {
  type: 'key';
  down: boolean;
  repeat: boolean;
  /** Modifier bits (constants.Modifier). */
  modifiers: number;
  /** X11 keysym when the sender knows it, else 0 (the host maps `code`/`key`). */
  keysym: number;
  /** KeyboardEvent.code: the physical key. */
  code: string;
  /** KeyboardEvent.key: the produced character or key name. */
  key: string;
}
export interface RefreshRequestMessage {
  type: 'refreshRequest';
}
/** Viewer → host: keep this viewer's quality ladder at `minLevel` or above (0: follow the link only). */
export interface QualityLimitMessage {
  type: 'qualityLimit';
  minLevel: number;
}
export interface PingMessage {
  type: 'ping' | 'pong';
  id: number;
  time: number;
}
/**
 * One compressed audio frame, either direction: the host's sound (to viewers
 * with the AUDIO capability) or a viewer's microphone (to a host that accepts
 * MICROPHONE). Hosts and viewers send 20 ms frames.
 */
export interface AudioMessage {
  type: 'audio';
  /** AudioCodec id: 'opus' is the only one (wire u8 1). */
  codec: 'opus';
  /** Of the decoded signal: one of AUDIO_SAMPLE_RATES. */
  sampleRate: number;
  /** 1 (mono) or 2 (stereo). */
  channels: number;
  /** Frame counter of the sender's stream, +1 per frame, wrapping at 2^32: a gap is a lost or dropped frame. */
  seq: number;
  /** Sender's clock, ms (performance.timeOrigin-based epoch ms): when the frame's first sample was captured. */
  captureTime: number;
  /** One Opus packet (1..MAX_AUDIO_PAYLOAD_BYTES bytes). */
  payload: Uint8Array;
}
/** Host → viewer (CACHE_RESUME): what to show when reconnecting to resume this connection's content cache. */
export interface CacheTicketMessage {
  type: 'cacheTicket';
  /** Limits.CACHE_TICKET_BYTES random bytes. */
  ticket: Uint8Array;
}
/**
 * Host → viewer, after a resume, before RESIZE: the content cache keeps
 * exactly these entries (ordered by id, the lowest least recently used),
 * the next insert gets `nextId`, and the next keyframe does not empty it.
 */
export interface CacheKeepMessage {
  type: 'cacheKeep';
  nextId: number;
  /** (first, count) pairs, ascending, non-overlapping, count ≥ 1, first + count ≤ nextId. */
  ranges: Uint32Array;
}
/** Viewer → host, right after a HELLO with RESUMING: the previous connection's ticket and the cache's next id. */
export interface CacheResumeMessage {
  type: 'cacheResume';
  ticket: Uint8Array;
  nextId: number;
}
export interface CloseMessage {
  type: 'error' | 'bye';
  reason: number;
  message: string;
}

export type Message =
  | HelloMessage
  | ResizeMessage
  | UpdateMessage
  | CursorShapeMessage
  | CursorPositionMessage
  | ScreenStateMessage
  | AckMessage
  | PointerMessage
  | KeyMessage
  | RefreshRequestMessage
  | QualityLimitMessage
  | PingMessage
  | AudioMessage
  | CacheTicketMessage
  | CacheKeepMessage
  | CacheResumeMessage
  | CloseMessage;

const KNOWN_KEY_FLAGS = KeyFlag.DOWN | KeyFlag.REPEAT;
const KNOWN_UPDATE_FLAGS = UpdateFlag.KEYFRAME | UpdateFlag.IMAGES;
const U32 = 0xffffffff;

function checkFinite(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalidArg(name, 'a finite number', v);
  return v;
}
function checkBool(name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw invalidArg(name, 'a boolean', v);
  return v;
}
function checkString(name: string, v: unknown): string {
  if (typeof v !== 'string') throw invalidArg(name, 'a string', v);
  return v;
}

function checkTicket(v: unknown): Uint8Array {
  const t = checkBytes('ticket', v);
  if (t.length !== Limits.CACHE_TICKET_BYTES) throw invalidArg('ticket', `${Limits.CACHE_TICKET_BYTES} bytes`, t);
  return t;
}

/** What is wrong with CACHE_KEEP ranges (null: nothing): each non-empty, ascending without overlap, below nextId. */
export function cacheRangesProblem(ranges: Uint32Array, nextId: number): string | null {
  if (ranges.length / 2 > Limits.MAX_CACHE_KEEP_RANGES) return `more than ${Limits.MAX_CACHE_KEEP_RANGES} ranges`;
  let end = 0;
  for (let i = 0; i < ranges.length; i += 2) {
    const first = ranges[i]!, count = ranges[i + 1]!;
    if (count === 0) return `range ${i / 2} is empty`;
    if (first < end) return `range ${i / 2} does not ascend`;
    if (first + count > nextId) return `range ${i / 2} reaches the next id ${nextId}`;
    end = first + count;
  }
  return null;
}

function protocolError(context: string, detail: string): TilecastError {
  return new TilecastError(ErrorCodes.PROTOCOL, `${context}: ${detail}`);
}

/**
 * Encodes a message. Every field is checked (type and range) before use: a bad
 * one throws ERR_INVALID_ARG naming it, a string over its byte limit
 * ERR_TOO_LARGE. Nothing is coerced.
 */
export function encodeMessage(msg: Message): Uint8Array {
  if (typeof msg !== 'object' || msg === null) throw invalidArg('message', 'an object', msg);
  let w = new ByteWriter(64);
  switch (msg.type) {
    case 'hello':
      checkInt('minVersion', msg.minVersion, 1, 0xffff);
      checkInt('maxVersion', msg.maxVersion, msg.minVersion, 0xffff);
      w.u8(MessageType.HELLO).u32(PROTOCOL_MAGIC).u16(msg.minVersion).u16(msg.maxVersion);
      w.u32(checkInt('capabilities', msg.capabilities, 0, U32));
      w.string(checkString('software', msg.software), 1, Limits.MAX_NAME_BYTES, 'software');
      break;
    case 'resize':
      w.u8(MessageType.RESIZE);
      w.u16(checkInt('width', msg.width, 1, Limits.MAX_DIMENSION)).u16(checkInt('height', msg.height, 1, Limits.MAX_DIMENSION));
      break;
    case 'update': {
      const stream = checkBytes('stream', msg.stream);
      const images = msg.images === undefined ? new Uint8Array(0) : checkBytes('images', msg.images);
      if (stream.length + images.length > Limits.MAX_MESSAGE_BYTES - 40) throw invalidArg('stream', 'under the message size limit', stream);
      w = new ByteWriter(stream.length + images.length + 40);
      w.u8(MessageType.UPDATE).u32(checkInt('frameId', msg.frameId, 0, U32)).f64(checkFinite('captureTime', msg.captureTime));
      const flags = (checkBool('keyframe', msg.keyframe) ? UpdateFlag.KEYFRAME : 0) | (images.length ? UpdateFlag.IMAGES : 0);
      w.u8(flags).u32(checkInt('opCount', msg.opCount, 0, U32));
      w.u32(stream.length).bytes(stream);
      if (images.length) w.u32(images.length).bytes(images);
      break;
    }
    case 'cursorShape': {
      checkInt('width', msg.width, 1, Limits.MAX_CURSOR_DIMENSION);
      checkInt('height', msg.height, 1, Limits.MAX_CURSOR_DIMENSION);
      checkInt('hotX', msg.hotX, 0, msg.width - 1);
      checkInt('hotY', msg.hotY, 0, msg.height - 1);
      const px = checkBytes('pixels', msg.pixels);
      if (px.length !== msg.width * msg.height * 4) throw invalidArg('pixels', `${msg.width * msg.height * 4} bytes`, px);
      w.u8(MessageType.CURSOR_SHAPE).u16(msg.width).u16(msg.height).u16(msg.hotX).u16(msg.hotY).bytes(px);
      break;
    }
    case 'cursorPosition':
      w.u8(MessageType.CURSOR_POSITION);
      w.u16(checkInt('x', msg.x, 0, 0xffff)).u16(checkInt('y', msg.y, 0, 0xffff)).u8(checkBool('visible', msg.visible) ? 1 : 0);
      break;
    case 'screenState': {
      const state = SCREEN_STATE_NAMES.indexOf(msg.state);
      if (state < 0) throw invalidArg('state', `one of ${SCREEN_STATE_NAMES.join(', ')}`, msg.state);
      w.u8(MessageType.SCREEN_STATE).u8(state);
      w.string(checkString('reason', msg.reason), 1, Limits.MAX_SCREEN_STATE_REASON_BYTES, 'reason');
      break;
    }
    case 'ack':
      w.u8(MessageType.ACK).u32(checkInt('frameId', msg.frameId, 0, U32));
      w.f64(checkFinite('receivedAt', msg.receivedAt)).f64(checkFinite('displayedAt', msg.displayedAt));
      break;
    case 'pointer':
      w.u8(MessageType.POINTER).u16(checkInt('x', msg.x, 0, 0xffff)).u16(checkInt('y', msg.y, 0, 0xffff));
      w.u16(checkInt('buttons', msg.buttons, 0, 0xffff));
      w.i16(checkInt('wheelX', msg.wheelX, -32768, 32767)).i16(checkInt('wheelY', msg.wheelY, -32768, 32767));
      break;
    case 'key':
      w.u8(MessageType.KEY).u8((checkBool('down', msg.down) ? KeyFlag.DOWN : 0) | (checkBool('repeat', msg.repeat) ? KeyFlag.REPEAT : 0));
      w.u16(checkInt('modifiers', msg.modifiers, 0, 0xffff)).u32(checkInt('keysym', msg.keysym, 0, U32));
      w.string(checkString('code', msg.code), 1, Limits.MAX_KEY_STRING_BYTES, 'code');
      w.string(checkString('key', msg.key), 1, Limits.MAX_KEY_STRING_BYTES, 'key');
      break;
    case 'refreshRequest':
      w.u8(MessageType.REFRESH_REQUEST);
      break;
    case 'qualityLimit':
      w.u8(MessageType.QUALITY_LIMIT).u8(checkInt('minLevel', msg.minLevel, 0, MAX_QUALITY_LIMIT));
      break;
    case 'ping':
    case 'pong':
      w.u8(msg.type === 'ping' ? MessageType.PING : MessageType.PONG);
      w.u32(checkInt('id', msg.id, 0, U32)).f64(checkFinite('time', msg.time));
      break;
    case 'audio': {
      if (msg.codec !== 'opus') throw invalidArg('codec', "'opus'", msg.codec);
      const payload = checkBytes('payload', msg.payload);
      if (payload.length < 1 || payload.length > Limits.MAX_AUDIO_PAYLOAD_BYTES) throw invalidArg('payload', `1..${Limits.MAX_AUDIO_PAYLOAD_BYTES} bytes`, payload);
      if (!AUDIO_SAMPLE_RATES.includes(msg.sampleRate)) throw invalidArg('sampleRate', `one of ${AUDIO_SAMPLE_RATES.join(', ')}`, msg.sampleRate);
      w = new ByteWriter(payload.length + 24);
      w.u8(MessageType.AUDIO).u8(AudioCodec.OPUS).u8(checkInt('channels', msg.channels, 1, 2)).u32(msg.sampleRate);
      w.u32(checkInt('seq', msg.seq, 0, U32)).f64(checkFinite('captureTime', msg.captureTime));
      w.u16(payload.length).bytes(payload);
      break;
    }
    case 'cacheTicket':
      w.u8(MessageType.CACHE_TICKET).bytes(checkTicket(msg.ticket));
      break;
    case 'cacheResume':
      w.u8(MessageType.CACHE_RESUME).bytes(checkTicket(msg.ticket)).u32(checkInt('nextId', msg.nextId, 0, U32));
      break;
    case 'cacheKeep': {
      const ranges = msg.ranges;
      if (!(ranges instanceof Uint32Array) || ranges.length % 2 !== 0) throw invalidArg('ranges', 'a Uint32Array of (first, count) pairs', ranges);
      const problem = cacheRangesProblem(ranges, checkInt('nextId', msg.nextId, 0, U32));
      if (problem) throw invalidArg('ranges', problem, ranges);
      w = new ByteWriter(9 + ranges.length * 4);
      w.u8(MessageType.CACHE_KEEP).u32(msg.nextId).u32(ranges.length / 2);
      for (const v of ranges) w.u32(v);
      break;
    }
    case 'error':
    case 'bye':
      w.u8(msg.type === 'error' ? MessageType.ERROR : MessageType.BYE).u16(checkInt('reason', msg.reason, 0, 0xffff));
      w.string(checkString('message', msg.message), 2, Limits.MAX_REASON_BYTES, 'message');
      break;
    default:
      throw invalidArg('message.type', 'a known message type', (msg as { type?: unknown }).type);
  }
  return w.finish();
}

/**
 * Decodes one complete message. The returned object may hold views into `bytes`
 * (update.stream, cursorShape.pixels, audio.payload): copy them if `bytes` will be reused.
 * `compact`: the connection's UPDATE_COMPACT state, given only when the viewer
 * announced COMPACT_UPDATE (without it an UPDATE_COMPACT is a protocol error).
 */
export function decodeMessage(bytes: Uint8Array, compact?: CompactUpdateState): Message {
  if (!(bytes instanceof Uint8Array)) throw invalidArg('bytes', 'a Uint8Array', bytes);
  if (bytes.length === 0) throw new TilecastError(ErrorCodes.TRUNCATED, 'empty message');
  if (bytes.length > Limits.MAX_MESSAGE_BYTES) {
    throw new TilecastError(ErrorCodes.TOO_LARGE, `message of ${bytes.length} bytes exceeds ${Limits.MAX_MESSAGE_BYTES}`);
  }
  const type = bytes[0]!;
  const ctx = messageTypeName(type);
  const r = new ByteReader(bytes.subarray(1), ctx);
  let msg: Message;
  switch (type) {
    case MessageType.HELLO: {
      if (r.u32('magic') !== PROTOCOL_MAGIC) throw protocolError(ctx, 'bad magic: not a tilecast peer');
      const minVersion = r.u16('minVersion');
      const maxVersion = r.u16('maxVersion');
      if (minVersion < 1 || maxVersion < minVersion) throw protocolError(ctx, `bad version range ${minVersion}..${maxVersion}`);
      msg = { type: 'hello', minVersion, maxVersion, capabilities: r.u32('capabilities'), software: r.string(1, Limits.MAX_NAME_BYTES, 'software') };
      break;
    }
    case MessageType.RESIZE: {
      const width = r.u16('width');
      const height = r.u16('height');
      if (width < 1 || height < 1 || width > Limits.MAX_DIMENSION || height > Limits.MAX_DIMENSION) {
        throw protocolError(ctx, `screen size ${width}x${height} outside 1..${Limits.MAX_DIMENSION}`);
      }
      msg = { type: 'resize', width, height };
      break;
    }
    case MessageType.UPDATE: {
      const frameId = r.u32('frameId');
      const captureTime = r.f64('captureTime');
      if (!Number.isFinite(captureTime)) throw protocolError(ctx, 'captureTime is not finite');
      const flags = r.u8('flags');
      if (flags & ~KNOWN_UPDATE_FLAGS) throw protocolError(ctx, `unknown flags 0x${flags.toString(16)}`);
      const opCount = r.u32('opCount');
      const streamLength = r.u32('streamLength');
      const stream = r.bytes(streamLength, 'stream');
      msg = { type: 'update', frameId, captureTime, keyframe: (flags & UpdateFlag.KEYFRAME) !== 0, opCount, stream };
      if (flags & UpdateFlag.IMAGES) {
        const imagesLength = r.u32('imagesLength');
        if (imagesLength === 0) throw protocolError(ctx, 'IMAGES flag with an empty image section');
        msg.images = r.bytes(imagesLength, 'images');
      }
      break;
    }
    case MessageType.UPDATE_COMPACT:
      if (!compact) throw protocolError(ctx, 'sent to a viewer that did not announce COMPACT_UPDATE');
      msg = readCompactUpdate(r, compact, ctx);
      break;
    case MessageType.CURSOR_SHAPE: {
      const width = r.u16('width');
      const height = r.u16('height');
      const hotX = r.u16('hotX');
      const hotY = r.u16('hotY');
      const max = Limits.MAX_CURSOR_DIMENSION;
      if (width < 1 || height < 1 || width > max || height > max) throw protocolError(ctx, `cursor size ${width}x${height} outside 1..${max}`);
      if (hotX >= width || hotY >= height) throw protocolError(ctx, `hot spot ${hotX},${hotY} outside the cursor`);
      msg = { type: 'cursorShape', width, height, hotX, hotY, pixels: r.bytes(width * height * 4, 'pixels') };
      break;
    }
    case MessageType.CURSOR_POSITION: {
      const x = r.u16('x');
      const y = r.u16('y');
      const visible = r.u8('visible');
      if (visible > 1) throw protocolError(ctx, 'visible must be 0 or 1');
      msg = { type: 'cursorPosition', x, y, visible: visible === 1 };
      break;
    }
    case MessageType.SCREEN_STATE: {
      const code = r.u8('state');
      const state = SCREEN_STATE_NAMES[code];
      if (state === undefined) throw protocolError(ctx, `unknown screen state ${code}`);
      msg = { type: 'screenState', state, reason: r.string(1, Limits.MAX_SCREEN_STATE_REASON_BYTES, 'reason') };
      break;
    }
    case MessageType.ACK: {
      const frameId = r.u32('frameId');
      const receivedAt = r.f64('receivedAt');
      const displayedAt = r.f64('displayedAt');
      if (!Number.isFinite(receivedAt) || !Number.isFinite(displayedAt)) throw protocolError(ctx, 'times must be finite');
      msg = { type: 'ack', frameId, receivedAt, displayedAt };
      break;
    }
    case MessageType.POINTER:
      msg = { type: 'pointer', x: r.u16('x'), y: r.u16('y'), buttons: r.u16('buttons'), wheelX: r.i16('wheelX'), wheelY: r.i16('wheelY') };
      break;
    case MessageType.KEY: {
      const flags = r.u8('flags');
      if (flags & ~KNOWN_KEY_FLAGS) throw protocolError(ctx, `unknown flags 0x${flags.toString(16)}`);
      const modifiers = r.u16('modifiers');
      const keysym = r.u32('keysym');
      const code = r.string(1, Limits.MAX_KEY_STRING_BYTES, 'code');
      const key = r.string(1, Limits.MAX_KEY_STRING_BYTES, 'key');
      msg = { type: 'key', down: (flags & KeyFlag.DOWN) !== 0, repeat: (flags & KeyFlag.REPEAT) !== 0, modifiers, keysym, code, key };
      break;
    }
    case MessageType.REFRESH_REQUEST:
      msg = { type: 'refreshRequest' };
      break;
    case MessageType.QUALITY_LIMIT: {
      const minLevel = r.u8('minLevel');
      if (minLevel > MAX_QUALITY_LIMIT) throw protocolError(ctx, `minLevel ${minLevel} > ${MAX_QUALITY_LIMIT}`);
      msg = { type: 'qualityLimit', minLevel };
      break;
    }
    case MessageType.PING:
    case MessageType.PONG: {
      const id = r.u32('id');
      const time = r.f64('time');
      if (!Number.isFinite(time)) throw protocolError(ctx, 'time must be finite');
      msg = { type: type === MessageType.PING ? 'ping' : 'pong', id, time };
      break;
    }
    case MessageType.AUDIO: {
      const codec = r.u8('codec');
      if (codec !== AudioCodec.OPUS) throw protocolError(ctx, `unknown audio codec ${codec}`);
      const channels = r.u8('channels');
      if (channels < 1 || channels > 2) throw protocolError(ctx, `${channels} channels (1 or 2)`);
      const sampleRate = r.u32('sampleRate');
      if (!AUDIO_SAMPLE_RATES.includes(sampleRate)) throw protocolError(ctx, `sample rate ${sampleRate} is not one of ${AUDIO_SAMPLE_RATES.join(', ')}`);
      const seq = r.u32('seq');
      const captureTime = r.f64('captureTime');
      if (!Number.isFinite(captureTime)) throw protocolError(ctx, 'captureTime is not finite');
      const length = r.u16('payloadLength');
      if (length === 0) throw protocolError(ctx, 'empty payload');
      if (length > Limits.MAX_AUDIO_PAYLOAD_BYTES) throw new TilecastError(ErrorCodes.TOO_LARGE, `${ctx}: payload of ${length} bytes, limit ${Limits.MAX_AUDIO_PAYLOAD_BYTES}`);
      msg = { type: 'audio', codec: 'opus', sampleRate, channels, seq, captureTime, payload: r.bytes(length, 'payload') };
      break;
    }
    case MessageType.CACHE_TICKET:
      msg = { type: 'cacheTicket', ticket: r.bytes(Limits.CACHE_TICKET_BYTES, 'ticket') };
      break;
    case MessageType.CACHE_RESUME:
      msg = { type: 'cacheResume', ticket: r.bytes(Limits.CACHE_TICKET_BYTES, 'ticket'), nextId: r.u32('nextId') };
      break;
    case MessageType.CACHE_KEEP: {
      const nextId = r.u32('nextId');
      const count = r.u32('rangeCount');
      if (count > Limits.MAX_CACHE_KEEP_RANGES) throw new TilecastError(ErrorCodes.TOO_LARGE, `${ctx}: ${count} ranges, limit ${Limits.MAX_CACHE_KEEP_RANGES}`);
      const raw = r.bytes(count * 8, 'ranges'); // checked against what is there before anything is allocated
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      const ranges = new Uint32Array(count * 2);
      for (let i = 0; i < ranges.length; i++) ranges[i] = view.getUint32(i * 4, true);
      const problem = cacheRangesProblem(ranges, nextId);
      if (problem) throw protocolError(ctx, problem);
      msg = { type: 'cacheKeep', nextId, ranges };
      break;
    }
    case MessageType.ERROR:
    case MessageType.BYE:
      msg = { type: type === MessageType.ERROR ? 'error' : 'bye', reason: r.u16('reason'), message: r.string(2, Limits.MAX_REASON_BYTES, 'message') };
      break;
    default:
      throw new TilecastError(ErrorCodes.UNKNOWN_MESSAGE, `unknown message type 0x${type.toString(16).padStart(2, '0')}`);
  }
  r.end();
  return msg;
}
