import t from 'tap';
import { ErrorCodes, TilecastError } from '../../../src/errors';
import { Message, decodeMessage, encodeMessage } from '../../../src/protocol/messages';
import { Limits, MessageType, Reason, messageTypeName, reasonName } from '../../../src/protocol/constants';

const samples: Message[] = [
  { type: 'hello', minVersion: 1, maxVersion: 3, capabilities: 3, software: 'tilecast-test/1 日本語' },
  { type: 'resize', width: 1920, height: 1080 },
  { type: 'update', frameId: 0xfffffffe, captureTime: 1763890000123.25, keyframe: true, opCount: 7, stream: Uint8Array.from([1, 2, 3, 4, 5]) },
  { type: 'update', frameId: 9, captureTime: 0, keyframe: false, opCount: 0, stream: new Uint8Array(0) },
  { type: 'update', frameId: 10, captureTime: 1, keyframe: false, opCount: 2, stream: Uint8Array.from([9, 9]), images: Uint8Array.from([0xff, 0xd8, 1, 2, 3]) },
  { type: 'cursorShape', width: 2, height: 3, hotX: 1, hotY: 2, pixels: Uint8Array.from({ length: 24 }, (_, i) => i) },
  // Larger than the writer's first buffer: the pixels land after it grows.
  { type: 'cursorShape', width: 32, height: 32, hotX: 5, hotY: 31, pixels: Uint8Array.from({ length: 4096 }, (_, i) => (i * 7) & 255) },
  { type: 'cursorPosition', x: 65535, y: 3, visible: true },
  { type: 'screenState', state: 'unavailable', reason: '画面を取得できません: capture failed' },
  { type: 'screenState', state: 'live', reason: '' },
  { type: 'screenState', state: 'ended', reason: 'the screen source ended' },
  { type: 'ack', frameId: 42, receivedAt: 12.5, displayedAt: 13.75 },
  { type: 'pointer', x: 100, y: 200, buttons: 5, wheelX: -3, wheelY: 120 },
  { type: 'key', down: true, repeat: false, modifiers: 3, keysym: 0xff2a, code: 'Lang1', key: 'Zenkaku' },
  { type: 'key', down: false, repeat: true, modifiers: 0, keysym: 0, code: 'IntlYen', key: '¥' },
  { type: 'refreshRequest' },
  { type: 'qualityLimit', minLevel: 0 },
  { type: 'qualityLimit', minLevel: 3 },
  { type: 'ping', id: 1, time: 5.5 },
  { type: 'pong', id: 1, time: 5.5 },
  { type: 'error', reason: Reason.PROTOCOL_ERROR, message: 'bad op' },
  { type: 'bye', reason: Reason.NORMAL, message: '' },
  { type: 'audio', codec: 'opus', sampleRate: 48000, channels: 2, seq: 0xffffffff, captureTime: 1763890000123.5, payload: Uint8Array.from([0xfc, 0xff, 0xfe]) },
  { type: 'audio', codec: 'opus', sampleRate: 16000, channels: 1, seq: 0, captureTime: 0, payload: new Uint8Array(Limits.MAX_AUDIO_PAYLOAD_BYTES).fill(7) },
  { type: 'cacheTicket', ticket: Uint8Array.from({ length: 16 }, (_, i) => i * 17) },
  { type: 'cacheResume', ticket: new Uint8Array(16).fill(0xab), nextId: 0xfffffffe },
  { type: 'cacheKeep', nextId: 700, ranges: Uint32Array.from([0, 3, 10, 1, 500, 200]) },
  { type: 'cacheKeep', nextId: 0, ranges: new Uint32Array(0) },
];

t.test('every message type round-trips', async (t) => {
  for (const msg of samples) {
    const bytes = encodeMessage(msg);
    t.same(decodeMessage(bytes), msg, msg.type);
  }
});

t.test('wire fixtures: exact bytes', async (t) => {
  t.same(Array.from(encodeMessage({ type: 'resize', width: 1920, height: 1080 })), [0x10, 0x80, 0x07, 0x38, 0x04]);
  t.same(Array.from(encodeMessage({ type: 'ack', frameId: 1, receivedAt: 1, displayedAt: 2 })), [
    0x20, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0x40,
  ]);
  t.same(Array.from(encodeMessage({ type: 'hello', minVersion: 1, maxVersion: 1, capabilities: 0, software: 'x' })), [
    0x01, 0x54, 0x43, 0x53, 0x54, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0x78,
  ]);
  t.same(Array.from(encodeMessage({ type: 'update', frameId: 2, captureTime: 0, keyframe: true, opCount: 1, stream: Uint8Array.from([0xaa]) })), [
    0x11, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0xaa,
  ]);
  t.same(Array.from(encodeMessage({ type: 'bye', reason: 7, message: 'ok' })), [0x3f, 7, 0, 2, 0, 0x6f, 0x6b]);
  t.same(Array.from(encodeMessage({ type: 'screenState', state: 'unavailable', reason: 'no' })), [0x14, 1, 2, 0x6e, 0x6f]);
  t.same(Array.from(encodeMessage({ type: 'screenState', state: 'ended', reason: '' })), [0x14, 2, 0]);
  t.same(Array.from(encodeMessage({ type: 'audio', codec: 'opus', sampleRate: 48000, channels: 2, seq: 3, captureTime: 2, payload: Uint8Array.from([0xfc, 0x01]) })), [
    0x40, 1, 2, 0x80, 0xbb, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 2, 0, 0xfc, 0x01,
  ]);
});

t.test('CACHE_TICKET / CACHE_RESUME / CACHE_KEEP: exact bytes; bad tickets and ranges are refused both ways', async (t) => {
  t.same(Array.from(encodeMessage({ type: 'cacheKeep', nextId: 9, ranges: Uint32Array.from([2, 3]) })), [0x17, 9, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0]);
  t.same(Array.from(encodeMessage({ type: 'cacheResume', ticket: new Uint8Array(16).fill(1), nextId: 5 })), [0x25, ...new Array(16).fill(1), 5, 0, 0, 0]);
  t.same(Array.from(encodeMessage({ type: 'cacheTicket', ticket: new Uint8Array(16) })), [0x16, ...new Array(16).fill(0)]);
  t.throws(() => encodeMessage({ type: 'cacheTicket', ticket: new Uint8Array(15) }), { code: ErrorCodes.INVALID_ARG, message: /ticket/ });
  t.throws(() => encodeMessage({ type: 'cacheResume', ticket: new Uint8Array(16), nextId: -1 }), { code: ErrorCodes.INVALID_ARG, message: /nextId/ });
  const keep = (nextId: number, ranges: number[]) => {
    const b = Buffer.alloc(9 + ranges.length * 4);
    b[0] = MessageType.CACHE_KEEP; b.writeUInt32LE(nextId, 1); b.writeUInt32LE(ranges.length / 2, 5);
    ranges.forEach((v, i) => b.writeUInt32LE(v, 9 + i * 4));
    return b;
  };
  for (const [what, nextId, ranges, message] of [
    ['an empty range', 9, [1, 0], /range 0 is empty/],
    ['ranges out of order', 9, [4, 1, 2, 1], /range 1 does not ascend/],
    ['overlapping ranges', 9, [0, 3, 2, 1], /range 1 does not ascend/],
    ['a range reaching the next id', 9, [5, 5], /range 0 reaches the next id 9/],
  ] as const) {
    t.throws(() => decodeMessage(keep(nextId, [...ranges])), { code: ErrorCodes.PROTOCOL, message }, `decode: ${what}`);
    t.throws(() => encodeMessage({ type: 'cacheKeep', nextId, ranges: Uint32Array.from(ranges) }), { code: ErrorCodes.INVALID_ARG, message }, `encode: ${what}`);
  }
  // A declared count beyond the limit is refused before anything is allocated; one beyond the bytes there is truncated.
  const huge = Buffer.from([MessageType.CACHE_KEEP, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
  t.throws(() => decodeMessage(huge), { code: ErrorCodes.TOO_LARGE });
  t.throws(() => decodeMessage(keep(9, [1, 1]).subarray(0, 13)), { code: ErrorCodes.TRUNCATED });
});

t.test('AUDIO: every bad field is refused with a clear error, both ways', async (t) => {
  const head = [0x40, 1, 2, 0x80, 0xbb, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40];
  const cases: Array<[string, number[], string, RegExp]> = [
    ['unknown codec', [0x40, 2, ...head.slice(2), 1, 0, 0xfc], ErrorCodes.PROTOCOL, /unknown audio codec 2/],
    ['three channels', [0x40, 1, 3, ...head.slice(3), 1, 0, 0xfc], ErrorCodes.PROTOCOL, /3 channels/],
    ['no channels', [0x40, 1, 0, ...head.slice(3), 1, 0, 0xfc], ErrorCodes.PROTOCOL, /0 channels/],
    ['44.1 kHz', [0x40, 1, 2, 0x44, 0xac, 0, 0, ...head.slice(7), 1, 0, 0xfc], ErrorCodes.PROTOCOL, /sample rate 44100/],
    ['NaN capture time', [...head.slice(0, 11), 0, 0, 0, 0, 0, 0, 0xf8, 0x7f, 1, 0, 0xfc], ErrorCodes.PROTOCOL, /captureTime/],
    ['empty payload', [...head, 0, 0], ErrorCodes.PROTOCOL, /empty payload/],
    ['payload over the limit', [...head, 0xa1, 0x0f, ...new Array(4001).fill(0)], ErrorCodes.TOO_LARGE, /4001 bytes, limit 4000/],
    ['payload longer than the message', [...head, 5, 0, 0xfc], ErrorCodes.TRUNCATED, /payload needs 5 bytes/],
  ];
  for (const [name, bytes, code, message] of cases) t.throws(() => decodeMessage(Uint8Array.from(bytes)), { code, message }, name);
  const ok = { type: 'audio', codec: 'opus', sampleRate: 48000, channels: 2, seq: 1, captureTime: 0, payload: Uint8Array.from([1]) } as const;
  t.throws(() => encodeMessage({ ...ok, codec: 'aac' as 'opus' }), { code: ErrorCodes.INVALID_ARG, message: /codec/ });
  t.throws(() => encodeMessage({ ...ok, channels: 6 }), { code: ErrorCodes.INVALID_ARG, message: /channels/ });
  t.throws(() => encodeMessage({ ...ok, sampleRate: 44100 }), { code: ErrorCodes.INVALID_ARG, message: /sampleRate must be one of/ });
  t.throws(() => encodeMessage({ ...ok, payload: new Uint8Array(0) }), { code: ErrorCodes.INVALID_ARG, message: /payload must be 1\.\.4000 bytes/ });
  t.throws(() => encodeMessage({ ...ok, payload: new Uint8Array(4001) }), { code: ErrorCodes.INVALID_ARG, message: /payload/ });
  t.throws(() => encodeMessage({ ...ok, seq: -1 }), { code: ErrorCodes.INVALID_ARG, message: /seq/ });
  t.throws(() => encodeMessage({ ...ok, captureTime: Infinity }), { code: ErrorCodes.INVALID_ARG, message: /captureTime/ });
  t.equal(messageTypeName(MessageType.AUDIO), 'AUDIO');
});

t.test('SCREEN_STATE: unknown states and long reasons are refused both ways', async (t) => {
  t.throws(() => decodeMessage(Uint8Array.from([0x14, 3, 0])), { code: ErrorCodes.PROTOCOL, message: /unknown screen state 3/ });
  t.throws(() => decodeMessage(Uint8Array.from([0x14, 0, 201, ...new Uint8Array(201).fill(0x61)])), { code: ErrorCodes.TOO_LARGE });
  t.throws(() => encodeMessage({ type: 'screenState', state: 'paused' as 'live', reason: '' }), { code: ErrorCodes.INVALID_ARG, message: /state/ });
  t.throws(() => encodeMessage({ type: 'screenState', state: 'live', reason: 'x'.repeat(Limits.MAX_SCREEN_STATE_REASON_BYTES + 1) }), { code: ErrorCodes.TOO_LARGE });
  t.equal(messageTypeName(MessageType.SCREEN_STATE), 'SCREEN_STATE');
});

t.test('every truncation of every message is ERR_TRUNCATED, never a crash', async (t) => {
  for (const msg of samples) {
    const bytes = encodeMessage(msg);
    for (let n = 0; n < bytes.length; n++) {
      let code: string | undefined;
      try {
        decodeMessage(bytes.subarray(0, n));
      } catch (err) {
        code = (err as { code?: string }).code;
      }
      if (code !== ErrorCodes.TRUNCATED) t.fail(`${msg.type} cut at ${n}: got ${code}`);
    }
  }
  t.pass('all truncations rejected');
});

t.test('trailing bytes are rejected', async (t) => {
  for (const msg of samples) {
    const bytes = encodeMessage(msg);
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    t.throws(() => decodeMessage(longer), { code: ErrorCodes.PROTOCOL }, msg.type);
  }
});

t.test('QUALITY_LIMIT: exact bytes; a level past the ladder is refused both ways', async (t) => {
  t.same(Array.from(encodeMessage({ type: 'qualityLimit', minLevel: 2 })), [0x24, 2]);
  t.throws(() => decodeMessage(Uint8Array.from([0x24, 4])), { code: ErrorCodes.PROTOCOL, message: /minLevel 4 > 3/ });
  t.throws(() => decodeMessage(Uint8Array.from([0x24])), { code: ErrorCodes.TRUNCATED }, 'cut short');
  t.throws(() => decodeMessage(Uint8Array.from([0x24, 1, 0])), { code: ErrorCodes.PROTOCOL }, 'trailing bytes');
  t.throws(() => encodeMessage({ type: 'qualityLimit', minLevel: 4 }), { code: ErrorCodes.INVALID_ARG });
});

t.test('malformed fields give clear errors', async (t) => {
  const cases: Array<[string, number[], string]> = [
    ['unknown type', [0x99], ErrorCodes.UNKNOWN_MESSAGE],
    ['empty', [], ErrorCodes.TRUNCATED],
    ['bad magic', [0x01, 0x00, 0x43, 0x53, 0x54, 1, 0, 1, 0, 0, 0, 0, 0, 0], ErrorCodes.PROTOCOL],
    ['version range backwards', [0x01, 0x54, 0x43, 0x53, 0x54, 2, 0, 1, 0, 0, 0, 0, 0, 0], ErrorCodes.PROTOCOL],
    ['resize zero', [0x10, 0, 0, 1, 0], ErrorCodes.PROTOCOL],
    ['resize too big', [0x10, 0x01, 0x40, 1, 0], ErrorCodes.PROTOCOL],
    ['update unknown flag', [0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0], ErrorCodes.PROTOCOL],
    ['update NaN time', [0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0, 0], ErrorCodes.PROTOCOL],
    ['update IMAGES flag with an empty image section', [0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], ErrorCodes.PROTOCOL],
    ['update image section longer than message', [0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 1], ErrorCodes.TRUNCATED],
    ['update stream longer than message', [0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff], ErrorCodes.TRUNCATED],
    ['cursor too big', [0x12, 0x01, 0x01, 1, 0, 0, 0, 0, 0], ErrorCodes.PROTOCOL],
    ['cursor hot spot outside', [0x12, 1, 0, 1, 0, 1, 0, 0, 0, 1, 2, 3, 4], ErrorCodes.PROTOCOL],
    ['cursor visible=2', [0x13, 0, 0, 0, 0, 2], ErrorCodes.PROTOCOL],
    ['key unknown flag', [0x22, 0x04, 0, 0, 0, 0, 0, 0, 0, 0], ErrorCodes.PROTOCOL],
    ['key code too long', [0x22, 1, 0, 0, 0, 0, 0, 0, 65, ...new Array(65).fill(0x41), 0], ErrorCodes.TOO_LARGE],
    ['key invalid utf-8', [0x22, 1, 0, 0, 0, 0, 0, 0, 1, 0xff, 0], ErrorCodes.PROTOCOL],
    ['bye reason text too long', [0x3f, 0, 0, 0x01, 0x04, ...new Array(1025).fill(0x61)], ErrorCodes.TOO_LARGE],
    ['ack infinite time', [0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0], ErrorCodes.PROTOCOL],
  ];
  for (const [name, bytes, code] of cases) t.throws(() => decodeMessage(Uint8Array.from(bytes)), { code }, name);
});

t.test('oversized message is refused before parsing', async (t) => {
  const big = new Uint8Array(Limits.MAX_MESSAGE_BYTES + 1);
  big[0] = MessageType.UPDATE;
  t.throws(() => decodeMessage(big), { code: ErrorCodes.TOO_LARGE });
});

t.test('encoder validates fields with one error shape', async (t) => {
  t.throws(() => encodeMessage({ type: 'resize', width: 0, height: 10 }), {
    code: ErrorCodes.INVALID_ARG,
    message: 'width must be an integer in [1, 16384], got 0',
  });
  t.throws(() => encodeMessage({ type: 'pointer', x: 1.5, y: 0, buttons: 0, wheelX: 0, wheelY: 0 }), { code: ErrorCodes.INVALID_ARG });
  t.throws(() => encodeMessage({ type: 'ack', frameId: 1, receivedAt: NaN, displayedAt: 0 }), { code: ErrorCodes.INVALID_ARG });
  t.throws(() => encodeMessage({ type: 'cursorShape', width: 2, height: 2, hotX: 0, hotY: 0, pixels: new Uint8Array(3) }), { code: ErrorCodes.INVALID_ARG });
  t.throws(() => encodeMessage({ type: 'key', down: true, repeat: false, modifiers: 0, keysym: 0, code: 'x'.repeat(65), key: '' }), { code: ErrorCodes.TOO_LARGE });
  t.throws(() => encodeMessage({ type: 'nope' } as unknown as Message), { code: ErrorCodes.INVALID_ARG });
});

t.test('every bad input to encodeMessage is a TilecastError naming the field', async (t) => {
  const bad = (v: unknown) => v as Message;
  const cases: Array<[string, unknown, string]> = [
    ['null message', null, 'message must be an object, got null'],
    ['undefined message', undefined, 'message must be an object, got undefined'],
    ['a string', 'hello', 'message must be an object, got "hello"'],
    ['no type', {}, 'message.type must be a known message type, got undefined'],
    ['update without stream', { type: 'update', frameId: 1, captureTime: 0, keyframe: true, opCount: 0 }, 'stream must be a Uint8Array or Buffer, got undefined'],
    ['update with a string stream', { type: 'update', frameId: 1, captureTime: 0, keyframe: true, opCount: 0, stream: 'abc' }, 'stream must be a Uint8Array or Buffer, got "abc"'],
    ['update with null images', { type: 'update', frameId: 1, captureTime: 0, keyframe: true, opCount: 0, stream: new Uint8Array(0), images: null }, 'images must be a Uint8Array or Buffer, got null'],
    ['update keyframe not boolean', { type: 'update', frameId: 1, captureTime: 0, keyframe: 1, opCount: 0, stream: new Uint8Array(0) }, 'keyframe must be a boolean, got 1'],
    ['hello software a number', { type: 'hello', minVersion: 1, maxVersion: 1, capabilities: 0, software: 5 }, 'software must be a string, got 5'],
    ['hello software null', { type: 'hello', minVersion: 1, maxVersion: 1, capabilities: 0, software: null }, 'software must be a string, got null'],
    ['hello software missing', { type: 'hello', minVersion: 1, maxVersion: 1, capabilities: 0 }, 'software must be a string, got undefined'],
    ['key code an object', { type: 'key', down: true, repeat: false, modifiers: 0, keysym: 0, code: {}, key: 'a' }, 'code must be a string, got object'],
    ['key key null', { type: 'key', down: true, repeat: false, modifiers: 0, keysym: 0, code: 'KeyA', key: null }, 'key must be a string, got null'],
    ['key down missing', { type: 'key', repeat: false, modifiers: 0, keysym: 0, code: 'KeyA', key: 'a' }, 'down must be a boolean, got undefined'],
    ['key repeat a string', { type: 'key', down: true, repeat: 'no', modifiers: 0, keysym: 0, code: 'KeyA', key: 'a' }, 'repeat must be a boolean, got "no"'],
    ['cursorPosition visible a number', { type: 'cursorPosition', x: 0, y: 0, visible: 0 }, 'visible must be a boolean, got 0'],
    ['cursorShape without pixels', { type: 'cursorShape', width: 1, height: 1, hotX: 0, hotY: 0 }, 'pixels must be a Uint8Array or Buffer, got undefined'],
    ['bye message a number', { type: 'bye', reason: 0, message: 7 }, 'message must be a string, got 7'],
    ['error message missing', { type: 'error', reason: 1 }, 'message must be a string, got undefined'],
  ];
  for (const [name, msg, message] of cases) {
    let err: unknown;
    try {
      encodeMessage(bad(msg));
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof TilecastError, `${name}: a TilecastError (got ${(err as Error)?.name})`);
    t.match(err, { code: ErrorCodes.INVALID_ARG, message }, name);
  }
});

t.test('name helpers for logs', async (t) => {
  t.equal(messageTypeName(MessageType.UPDATE), 'UPDATE');
  t.equal(messageTypeName(0x99), 'UNKNOWN(0x99)');
  t.equal(reasonName(Reason.UNAUTHORIZED), 'UNAUTHORIZED');
});
