// The shared viewer protocol (src/protocol/viewerLink.ts) with a fake clock and
// a recording send(): no sockets, no real timers.
import t from 'tap';
import { ErrorCodes, TilecastError } from '../../../src/errors';
import { Capability, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION, Reason } from '../../../src/protocol/constants';
import { HelloMessage, Message, UpdateMessage, decodeMessage, encodeMessage } from '../../../src/protocol/messages';
import {
  BACKOFF_DEFAULTS, ERROR_REASONS, ReconnectBackoff, VIEWER_LINK_DEFAULTS, ViewerLink, ViewerLinkOptions, closeCodeForReason, reasonForError,
} from '../../../src/protocol/viewerLink';

const HOST_HELLO: HelloMessage = { type: 'hello', minVersion: 1, maxVersion: PROTOCOL_VERSION, capabilities: 7, software: 'test-host' };
const RESIZE: Message = { type: 'resize', width: 64, height: 32 };
const update = (frameId: number, keyframe = false): UpdateMessage =>
  ({ type: 'update', frameId, captureTime: 1, keyframe, opCount: 0, stream: new Uint8Array([0, 0, 0, 0xff, 0xff]) });

/** A link on a fake clock; `sent` records every message it sends (round-tripped through the codec). */
function harness(options: Partial<ViewerLinkOptions> = {}) {
  const clock = { t: 1000 };
  const sent: Message[] = [];
  const link = new ViewerLink({
    send: (m) => sent.push(decodeMessage(encodeMessage(m))),
    capabilities: Capability.COPY_RECT | Capability.CURSOR,
    software: 'unit-viewer',
    now: () => clock.t,
    ...options,
  });
  const take = () => sent.splice(0);
  return { clock, sent, link, take };
}

/** A harness whose link is open and has the host's HELLO (the first RTT ping already taken). */
function connected(options: Partial<ViewerLinkOptions> = {}) {
  const h = harness(options);
  h.link.open();
  h.link.receive(HOST_HELLO);
  h.take();
  return h;
}

t.test('HELLO goes out on open with the embedder capabilities and name', async (t) => {
  const { link, take } = harness({ capabilities: Capability.COPY_RECT | Capability.JPEG, software: 'embedder-x' });
  t.same(take(), [], 'nothing before open');
  t.equal(link.state, 'idle');
  link.open();
  t.same(take(), [{ type: 'hello', minVersion: MIN_PROTOCOL_VERSION, maxVersion: PROTOCOL_VERSION, capabilities: Capability.COPY_RECT | Capability.JPEG, software: 'embedder-x' }]);
  link.open();
  t.same(take(), [], 'open twice sends one HELLO');
  t.equal(link.state, 'hello');
  t.equal(link.receive(HOST_HELLO), HOST_HELLO, 'the host HELLO is handed to the embedder');
  t.equal(link.state, 'ready');
  t.equal(link.version, PROTOCOL_VERSION);
  t.same(take().map((m) => m.type), ['ping'], 'a first ping right away, for an early RTT');
});

t.test('anything but ERROR/BYE before the host HELLO is a protocol error', async (t) => {
  for (const early of [update(1, true), RESIZE, { type: 'ping', id: 1, time: 0 } as Message, { type: 'cursorPosition', x: 1, y: 1, visible: true } as Message]) {
    const { link, take } = harness();
    link.open();
    take();
    let caught: unknown;
    try {
      link.receive(early);
    } catch (err) {
      caught = err;
    }
    t.ok(caught instanceof TilecastError && caught.code === ErrorCodes.PROTOCOL, `${early.type} before HELLO throws ERR_PROTOCOL`);
    const failure = link.fail(caught);
    t.equal(failure.reason, Reason.PROTOCOL_ERROR);
    t.equal(failure.closeCode, 4001);
    t.same(take(), [{ type: 'error', reason: Reason.PROTOCOL_ERROR, message: `expected HELLO from the host, got ${early.type}` }], 'ERROR with the mapped reason');
    t.equal(link.state, 'closed');
    t.equal(link.receive(HOST_HELLO), null, 'a failed link ignores what still arrives');
  }
  for (const close of [{ type: 'bye', reason: Reason.SERVER_SHUTDOWN, message: 'shutting down' }, { type: 'error', reason: Reason.CAPACITY, message: 'full' }] as Message[]) {
    const { link, take } = harness();
    link.open();
    take();
    t.equal(link.receive(close), close, `the host's ${close.type} before HELLO is for the embedder`);
    t.equal(link.hostClose, close);
    t.same(take(), []);
  }
});

t.test('order after HELLO: second HELLO, UPDATE before RESIZE and viewer-only messages are errors', async (t) => {
  const bad: Array<[Message, RegExp]> = [
    [HOST_HELLO, /second HELLO/],
    [update(1, true), /UPDATE before RESIZE/],
    [{ type: 'ack', frameId: 1, receivedAt: 0, displayedAt: 0 }, /ack is not sent by hosts/],
    [{ type: 'refreshRequest' }, /refreshRequest is not sent by hosts/],
  ];
  for (const [msg, why] of bad) {
    const { link } = connected();
    t.throws(() => link.receive(msg), { code: ErrorCodes.PROTOCOL, message: why });
  }
  const { link, take } = connected();
  t.equal(link.receive(RESIZE), RESIZE);
  const u = update(1, true);
  t.equal(link.receive(u), u);
  const cursor: Message = { type: 'cursorPosition', x: 3, y: 4, visible: true };
  t.equal(link.receive(cursor), cursor);
  t.equal(link.updates, 1);
  t.same(take(), []);
});

t.test('a text frame and undecodable bytes are protocol errors; an unsupported version is mapped', async (t) => {
  const { link } = connected();
  t.throws(() => link.receiveBytes('hello'), { code: ErrorCodes.PROTOCOL, message: /text frames/ });
  t.throws(() => link.receiveBytes(Uint8Array.from([0x11, 1, 0, 0])), { code: ErrorCodes.TRUNCATED });
  t.throws(() => link.receiveBytes(Uint8Array.from([0x99])), { code: ErrorCodes.UNKNOWN_MESSAGE });
  const h = harness();
  h.link.open();
  h.take();
  let caught: unknown;
  try {
    h.link.receiveBytes(encodeMessage({ ...HOST_HELLO, minVersion: PROTOCOL_VERSION + 1, maxVersion: PROTOCOL_VERSION + 2 }).slice().buffer);
  } catch (err) {
    caught = err;
  }
  const failure = h.link.fail(caught);
  t.equal(failure.reason, Reason.UNSUPPORTED_VERSION);
  t.equal(h.take()[0]!.type, 'error');
});

t.test("the host's pings are answered with the same id and time", async (t) => {
  const { link, take } = connected();
  t.equal(link.receive({ type: 'ping', id: 77, time: 123.5 }), null, 'not for the embedder');
  t.same(take(), [{ type: 'pong', id: 77, time: 123.5 }]);
});

t.test('own pings on tick, RTT from the matching pong (injected clock)', async (t) => {
  const { link, clock, take } = harness({ pingIntervalMs: 2000 });
  link.open();
  take();
  clock.t = 5000;
  t.equal(link.tick(), null);
  t.same(take(), [], 'no pings before the host HELLO');
  link.receive(HOST_HELLO);
  const [first] = take();
  t.same(first, { type: 'ping', id: 0, time: 5000 });
  t.equal(link.rttMs, null);
  clock.t = 5080;
  t.equal(link.receive({ type: 'pong', id: 0, time: 5000 }), null);
  t.equal(link.rttMs, 80, 'RTT = now - when the ping left');
  clock.t = 6999;
  link.tick();
  t.same(take(), [], 'not due before the interval');
  clock.t = 7000;
  link.tick();
  t.same(take(), [{ type: 'ping', id: 1, time: 7000 }], 'due at the interval');
  clock.t = 9000;
  link.tick();
  t.same(take(), [{ type: 'ping', id: 2, time: 9000 }]);
  clock.t = 9250;
  link.receive({ type: 'pong', id: 2, time: 9000 });
  t.equal(link.rttMs, 250);
  clock.t = 9300;
  link.receive({ type: 'pong', id: 1, time: 7000 });
  t.equal(link.rttMs, 250, 'a late pong of an older ping is ignored');
  link.receive({ type: 'pong', id: 999, time: 0 });
  t.equal(link.rttMs, 250, 'a pong for a ping never sent is ignored');
  const quiet = connected({ pingIntervalMs: 0 });
  quiet.clock.t += 60_000;
  quiet.link.receive({ type: 'cursorPosition', x: 0, y: 0, visible: false });
  quiet.link.tick();
  t.same(quiet.take(), [], 'pingIntervalMs 0: no own pings');
});

t.test('the watchdog fires after timeoutMs of silence and not before', async (t) => {
  const { link, clock, take } = connected({ timeoutMs: 5000, pingIntervalMs: 0 });
  const start = clock.t;
  clock.t = start + 4999;
  t.equal(link.tick(), null, 'alive at timeoutMs - 1');
  clock.t = start + 3000;
  link.receive({ type: 'ping', id: 1, time: 0 });
  take();
  clock.t = start + 3000 + 4999;
  t.equal(link.tick(), null, 'any message restarts the count');
  clock.t = start + 3000 + 5000;
  const failure = link.tick();
  t.ok(failure, 'dead at timeoutMs of silence');
  t.equal(failure!.error.code, ErrorCodes.TIMEOUT);
  t.equal(failure!.reason, Reason.TIMEOUT);
  t.equal(failure!.closeCode, 4006);
  t.same(take(), [{ type: 'error', reason: Reason.TIMEOUT, message: 'nothing heard from the host for 5000 ms' }]);
  t.equal(link.state, 'closed');
  clock.t += 10_000;
  t.equal(link.tick(), null, 'fires once');
  // Before the host's HELLO too: a host that never answers is dead.
  const h = harness({ timeoutMs: 1000 });
  h.link.open();
  h.clock.t += 999;
  t.equal(h.link.tick(), null);
  h.clock.t += 1;
  t.equal(h.link.tick()?.reason, Reason.TIMEOUT);
  const off = connected({ timeoutMs: 0 });
  off.clock.t += 1e9;
  t.equal(off.link.tick(), null, 'timeoutMs 0: no watchdog');
});

t.test('defaults and tick interval', async (t) => {
  const { link } = harness();
  t.equal(link.pingIntervalMs, VIEWER_LINK_DEFAULTS.pingIntervalMs);
  t.equal(link.timeoutMs, VIEWER_LINK_DEFAULTS.timeoutMs);
  t.equal(link.tickIntervalMs, 1000);
  t.equal(harness({ timeoutMs: 300, pingIntervalMs: 100 }).link.tickIntervalMs, 50);
  t.throws(() => harness({ timeoutMs: -1 }), { code: ErrorCodes.INVALID_ARG });
});

t.test('backoff: exact delays with a fixed random source, the cap, reset after success', async (t) => {
  const b = new ReconnectBackoff({ minBackoffMs: 500, maxBackoffMs: 8000, random: () => 0.5 });
  t.same(Array.from({ length: 7 }, () => b.next()), [375, 750, 1500, 3000, 6000, 6000, 6000], 'doubling x0.75, capped at 8000');
  t.equal(b.attempts, 7);
  b.reset();
  t.equal(b.attempts, 0);
  t.equal(b.next(), 375, 'after a reset it starts from the minimum again');
  const low = new ReconnectBackoff({ random: () => 0 });
  const high = new ReconnectBackoff({ random: () => 0.999999 });
  t.same(Array.from({ length: 6 }, () => low.next()), [250, 500, 1000, 2000, 4000, 4000], 'defaults, lowest jitter: half');
  t.same(Array.from({ length: 6 }, () => high.next()), [500, 1000, 2000, 4000, 8000, 8000], 'defaults, highest jitter: the full delay, never above the cap');
  t.equal(BACKOFF_DEFAULTS.minBackoffMs, 500);
  t.equal(BACKOFF_DEFAULTS.maxBackoffMs, 8000);
  const many = new ReconnectBackoff({ random: () => 0.5 });
  for (let i = 0; i < 100; i++) many.next();
  t.equal(many.next(), 6000, 'no overflow after many attempts');
  t.equal(new ReconnectBackoff({ maxBackoffMs: 200, random: () => 0.999999 }).next(), 200, 'a max below the default min lowers the min');
  t.throws(() => new ReconnectBackoff({ minBackoffMs: 1000, maxBackoffMs: 10 }), { code: ErrorCodes.INVALID_ARG });
  t.throws(() => new ReconnectBackoff({ minBackoffMs: -1 }), { code: ErrorCodes.INVALID_ARG });
});

t.test('an acked update resets the backoff; a connection that showed nothing does not', async (t) => {
  const backoff = new ReconnectBackoff({ random: () => 0.5 });
  backoff.next();
  backoff.next();
  const noUpdate = connected({ backoff });
  noUpdate.link.closed();
  t.equal(backoff.attempts, 2, 'HELLO alone is not a working connection');
  const { link, take } = connected({ backoff });
  link.receive(RESIZE);
  link.receive(update(1, true));
  t.equal(backoff.attempts, 2, 'not before the update is on screen');
  link.ack(1, 10, 12);
  t.same(take(), [{ type: 'ack', frameId: 1, receivedAt: 10, displayedAt: 12 }]);
  t.equal(backoff.attempts, 0, 'reset by the ack');
  link.closed();
  link.ack(2, 0, 0);
  t.same(take(), [], 'no acks on a closed link');
});

t.test('a failed update asks for one keyframe; a failed keyframe ends the connection', async (t) => {
  const { link, take } = connected();
  link.receive(RESIZE);
  link.receive(update(1, true));
  link.receive(update(2));
  const corrupt = new TilecastError(ErrorCodes.CORRUPT_STREAM, 'bad deflate');
  t.equal(link.updateFailed(corrupt, update(2)), null);
  t.same(take(), [{ type: 'refreshRequest' }]);
  link.receive(update(3));
  t.equal(link.updateFailed(new TilecastError(ErrorCodes.STREAM_DESYNC, 'waiting for a keyframe'), update(3)), null);
  t.same(take(), [], 'one request per lost stream');
  link.receive(update(4, true));
  const failure = link.updateFailed(corrupt, update(4, true));
  t.equal(failure?.reason, Reason.DECODE_FAILED);
  t.same(take(), [{ type: 'error', reason: Reason.DECODE_FAILED, message: 'bad deflate' }]);
  t.equal(link.state, 'closed');
});

t.test('resume: RESUMING and CACHE_RESUME right behind the HELLO; CACHE_TICKET and CACHE_KEEP only where both sides agreed', async (t) => {
  const ticket = new Uint8Array(16).fill(3);
  const caps = Capability.COPY_RECT | Capability.CACHE | Capability.CACHE_RESUME;
  const resuming = harness({ capabilities: caps, resume: { ticket, nextId: 42 } });
  resuming.link.open();
  const [hello, resume] = resuming.take();
  t.equal((hello as HelloMessage).capabilities, caps | Capability.RESUMING, 'the HELLO says RESUMING');
  t.same(resume, { type: 'cacheResume', ticket, nextId: 42 }, 'CACHE_RESUME follows at once, before the host answers');
  resuming.link.receive({ ...HOST_HELLO, capabilities: caps });
  const keep: Message = { type: 'cacheKeep', nextId: 50, ranges: Uint32Array.from([1, 2]) };
  t.equal(resuming.link.receive(keep), keep, 'CACHE_KEEP before RESIZE is for the embedder');
  t.throws(() => resuming.link.receive(keep), { code: ErrorCodes.PROTOCOL }, 'a second CACHE_KEEP is an error');
  t.equal(resuming.link.receive({ type: 'cacheTicket', ticket })?.type, 'cacheTicket', 'a ticket when both HELLOs say CACHE_RESUME');

  const plain = harness({ capabilities: caps });
  plain.link.open();
  t.equal(plain.take().length, 1, 'no ticket to show: HELLO alone, no RESUMING');
  plain.link.receive({ ...HOST_HELLO, capabilities: caps });
  t.throws(() => plain.link.receive({ type: 'cacheKeep', nextId: 1, ranges: new Uint32Array(0) }), { code: ErrorCodes.PROTOCOL }, 'CACHE_KEEP unasked is an error');

  const noResume = connected({ capabilities: Capability.CACHE, resume: { ticket, nextId: 1 } });
  t.notOk(noResume.link.resuming, 'without CACHE_RESUME announced, a ticket is not shown');
  t.throws(() => noResume.link.receive({ type: 'cacheTicket', ticket }), { code: ErrorCodes.PROTOCOL }, 'CACHE_TICKET to a viewer that did not ask is an error');

  const late = harness({ capabilities: caps, resume: { ticket, nextId: 1 } });
  late.link.open();
  late.link.receive({ ...HOST_HELLO, capabilities: caps });
  late.link.receive(RESIZE);
  t.throws(() => late.link.receive({ type: 'cacheKeep', nextId: 1, ranges: new Uint32Array(0) }), { code: ErrorCodes.PROTOCOL }, 'CACHE_KEEP after RESIZE is an error');
});

t.test('error code -> reason: one table', async (t) => {
  t.same(
    Object.fromEntries(Object.values(ErrorCodes).map((code) => [code, reasonForError(new TilecastError(code, 'x')).reason])),
    {
      ERR_INVALID_ARG: Reason.INTERNAL,
      ERR_PROTOCOL: Reason.PROTOCOL_ERROR,
      ERR_TOO_LARGE: Reason.TOO_LARGE,
      ERR_TRUNCATED: Reason.PROTOCOL_ERROR,
      ERR_CORRUPT_STREAM: Reason.DECODE_FAILED,
      ERR_STREAM_DESYNC: Reason.DECODE_FAILED,
      ERR_BUSY: Reason.INTERNAL,
      ERR_UNAVAILABLE: Reason.INTERNAL,
      ERR_UNKNOWN_MESSAGE: Reason.PROTOCOL_ERROR,
      ERR_TIMEOUT: Reason.TIMEOUT,
      ERR_UNAUTHORIZED: Reason.UNAUTHORIZED,
      ERR_ABORTED: Reason.NORMAL,
      ERR_UNSUPPORTED_VERSION: Reason.UNSUPPORTED_VERSION,
      ERR_NATIVE_LOAD: Reason.INTERNAL,
      ERR_INTERNAL: Reason.INTERNAL,
    },
  );
  t.equal(Object.keys(ERROR_REASONS).length, Object.keys(ErrorCodes).length, 'every code has a reason');
  t.same(reasonForError(new Error('boom')), { reason: Reason.INTERNAL, message: 'boom' }, 'non-tilecast errors are INTERNAL');
  t.equal(reasonForError(new TilecastError(ErrorCodes.PROTOCOL, 'y'.repeat(500))).message.length, 200, 'the text is kept short');
  t.equal(closeCodeForReason(Reason.NORMAL), 1000);
  t.equal(closeCodeForReason(Reason.PROTOCOL_ERROR), 4001);
});

t.test('close sends BYE once; fail is idempotent', async (t) => {
  const { link, take } = connected();
  t.equal(link.close(), 1000);
  t.same(take(), [{ type: 'bye', reason: Reason.NORMAL, message: 'viewer closed' }]);
  link.close();
  link.fail(new Error('late'));
  t.same(take(), [], 'nothing after close');
  const idle = harness();
  idle.link.fail(new Error('before open'));
  t.same(idle.take(), [], 'no ERROR on a link that never opened');
});

t.test('input is allowed only when the viewer announced INPUT and the host HELLO accepted it', async (t) => {
  t.equal(Capability.INPUT, 1 << 3, 'INPUT is capability bit 3');
  const cases: Array<[number, number, boolean]> = [
    [Capability.COPY_RECT | Capability.INPUT, Capability.COPY_RECT | Capability.INPUT, true],
    [Capability.COPY_RECT | Capability.INPUT, Capability.COPY_RECT, false], // the host made it view-only
    [Capability.COPY_RECT, Capability.COPY_RECT | Capability.INPUT, false], // a view-only viewer
  ];
  for (const [viewer, host, allowed] of cases) {
    const h = harness({ capabilities: viewer });
    t.equal(h.link.inputAllowed, false, 'not before the host HELLO');
    h.link.open();
    h.link.receive({ ...HOST_HELLO, capabilities: host });
    t.equal(h.link.inputAllowed, allowed, `viewer ${viewer}, host ${host}`);
    h.link.close();
    t.equal(h.link.inputAllowed, false, 'not after close');
  }
});

t.test('QUALITY_LIMIT goes only to a host that announced it: now, or right after its HELLO', async (t) => {
  t.equal(Capability.QUALITY_LIMIT, 1 << 5, 'QUALITY_LIMIT is capability bit 5');
  const early = harness();
  t.equal(early.link.limitQuality(2), false, 'not connected yet: remembered');
  early.link.open();
  early.link.receive({ ...HOST_HELLO, capabilities: Capability.QUALITY_LIMIT });
  t.same(early.take().filter((m) => m.type === 'qualityLimit'), [{ type: 'qualityLimit', minLevel: 2 }], 'sent after the HELLO');
  t.equal(early.link.limitQuality(0), true, 'lifted');
  t.same(early.take(), [{ type: 'qualityLimit', minLevel: 0 }]);
  const old = harness();
  old.link.limitQuality(3);
  old.link.open();
  old.link.receive(HOST_HELLO); // capabilities 7: no QUALITY_LIMIT
  t.same(old.take().filter((m) => m.type === 'qualityLimit'), [], 'an older host is never sent it');
  t.equal(old.link.limitQuality(1), false, 'and the embedder is told');
  t.throws(() => old.link.limitQuality(4), { code: ErrorCodes.INVALID_ARG });
  t.throws(() => old.link.receive({ type: 'qualityLimit', minLevel: 1 }), { code: ErrorCodes.PROTOCOL }, 'not a host message');
});

t.test('SCREEN_STATE from the host is handed to the embedder', async (t) => {
  const { link, take } = connected({ capabilities: Capability.COPY_RECT | Capability.SCREEN_STATE });
  const state: Message = { type: 'screenState', state: 'unavailable', reason: 'capture failed' };
  t.equal(link.receive(state), state);
  t.same(link.receiveBytes(encodeMessage({ type: 'screenState', state: 'live', reason: '' })), { type: 'screenState', state: 'live', reason: '' });
  t.same(take(), [], 'nothing sent back');
  const early = harness();
  early.link.open();
  t.throws(() => early.link.receive(state), { code: ErrorCodes.PROTOCOL, message: /expected HELLO/ }, 'not before the host HELLO');
});

t.test('AUDIO only where both HELLOs said AUDIO; the microphone only where both said MICROPHONE', async (t) => {
  const audio: Message = { type: 'audio', codec: 'opus', sampleRate: 48000, channels: 2, seq: 1, captureTime: 5, payload: Uint8Array.from([0xfc]) };
  const both = Capability.AUDIO | Capability.MICROPHONE;
  const cases: Array<[string, number, number, boolean, boolean]> = [
    ['both say both', both, both, true, true],
    ['viewer did not ask for sound', Capability.MICROPHONE, both, false, true],
    ['host does not send sound', both, Capability.MICROPHONE, false, true],
    ['host takes no microphone', both, Capability.AUDIO, true, false],
    ['viewer sends no microphone', Capability.AUDIO, both, true, false],
  ];
  for (const [name, viewerCaps, hostCaps, sound, mic] of cases) {
    const h = harness({ capabilities: viewerCaps });
    h.link.open();
    t.equal(h.link.audioAllowed, false, `${name}: nothing before the host HELLO`);
    h.link.receive({ ...HOST_HELLO, capabilities: hostCaps });
    t.equal(h.link.microphoneAllowed, mic, `${name}: microphone`);
    t.equal(h.link.audioAllowed, sound, `${name}: sound`);
    if (sound) t.equal(h.link.receive(audio), audio, `${name}: AUDIO handed to the embedder`);
    else t.throws(() => h.link.receive(audio), { code: ErrorCodes.PROTOCOL, message: /AUDIO from a host that did not announce/ }, `${name}: AUDIO refused`);
  }
});
