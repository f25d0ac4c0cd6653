// ViewerEncoder: the update scheduler of one viewer, driven with a fake clock
// and a link state the test sets: keyframe on join, pacing, coalescing while the
// link is busy, refinement timing, the quality ladder under a slow link,
// resizes and frame ids. Exact results: bytes decoded by the Node decoder.
import t from 'tap';
import { ScreenDecoder } from '../../../src/client/screenDecoder';
import type { Frame, Rect } from '../../../src/frame';
import { EncoderStep, LinkState, ViewerEncoder, ViewerEncoderOptions, followingFrameId } from '../../../src/host/viewerEncoder';
import { jpegUnavailableReason } from '../../../src/native/binding';
import { Capability, MessageType, OpCode } from '../../../src/protocol/constants';
import { decodeMessage } from '../../../src/protocol/messages';
import { expectedFramebuffer, fillRandom, firstDifference, makeFrame, rng, videoFrame } from '../../helpers';

const FAST: LinkState = { canSend: true, deliveryRateBps: null };
/** 1 kB/s: any damage takes longer than SPLIT_AFTER_MS, so big damage is split into the smallest bands allowed. */
const SLOW: LinkState = { canSend: true, deliveryRateBps: 1000 };
const ALL = Capability.COPY_RECT | Capability.CURSOR | Capability.JPEG;
const noJpeg = jpegUnavailableReason();
if (noJpeg && process.env.CI) throw new Error(`JPEG codec must load in CI: ${noJpeg}`);

function setup(options: ViewerEncoderOptions = {}, capabilities = ALL) {
  const clock = { now: 1000 };
  const enc = new ViewerEncoder({ threads: 1, ...options, clock: () => clock.now });
  const dec = new ScreenDecoder(() => clock.now);
  enc.start(capabilities);
  const apply = async (step: EncoderStep) => {
    for (const m of step.messages) await dec.handleBytes(m);
    return step;
  };
  return { clock, enc, dec, apply };
}

/** A text-like screen: random pixels from a small palette (exact codecs). */
function screen(w: number, h: number, seed: number, timestamp?: number): Frame {
  return { ...fillRandom(makeFrame(w, h), rng(seed), 6), timestamp };
}

function withPatch(f: Frame, r: Rect, seed: number): Frame {
  const patch = fillRandom(makeFrame(r.w, r.h), rng(seed), 6);
  const data = Buffer.from(f.data);
  for (let y = 0; y < r.h; y++) (patch.data as Buffer).copy(data, (r.y + y) * f.stride + r.x * 4, y * r.w * 4, (y + 1) * r.w * 4);
  return { ...f, data };
}

const whole = (f: Frame): Rect[] => [{ x: 0, y: 0, w: f.width, h: f.height }];

/** `rect` changed `frames` times, 50 ms apart (a busy region: video, a scrolling log), each offered and stepped over `link`; the last frame. */
async function changeEvery50ms({ clock, enc, apply }: ReturnType<typeof setup>, f: Frame, rect: Rect, frames: number, link: LinkState): Promise<Frame> {
  for (let n = 0; n < frames; n++) {
    clock.now += 50;
    f = withPatch(f, rect, 200 + n);
    enc.offer(f, [rect]);
    await apply(await enc.step(link));
  }
  return f;
}

t.test('nothing flows before HELLO; then RESIZE and a keyframe, ids from 1', async (t) => {
  const clock = { now: 0 };
  const enc = new ViewerEncoder({ clock: () => clock.now });
  const f = screen(200, 120, 1, 5);
  enc.offer(f, whole(f));
  t.same(await enc.step(FAST), { messages: [], update: null, nextAt: null }, 'no HELLO yet: nothing');
  enc.start(ALL);
  const s = await enc.step(FAST);
  t.same(s.messages.map((m) => decodeMessage(m).type), ['resize', 'update']);
  t.match(s.update, { frameId: 1, keyframe: true, changes: true, captureTime: 5, oldestChangeTime: 5 });
  t.equal(s.nextAt, 0, 'run again now: more may be due');
  t.same(await enc.step(FAST), { messages: [], update: null, nextAt: null }, 'then idle until something changes');
});

t.test('frame ids count up and wrap past 2^32-1 to 1, never 0', async (t) => {
  t.equal(followingFrameId(1), 2);
  t.equal(followingFrameId(0xfffffffe), 0xffffffff);
  t.equal(followingFrameId(0xffffffff), 1);
  const { clock, enc, apply } = setup();
  let f = screen(128, 64, 2);
  const ids: number[] = [];
  for (let i = 0; i < 4; i++) {
    f = withPatch(f, { x: 0, y: 0, w: 8, h: 8 }, 100 + i);
    enc.offer(f, [{ x: 0, y: 0, w: 8, h: 8 }]);
    ids.push((await apply(await enc.step(FAST))).update!.frameId);
    clock.now += 100;
  }
  t.same(ids, [1, 2, 3, 4]);
});

t.test('pacing: at most maxFps updates; a change too soon waits for its slot', async (t) => {
  const { clock, enc, dec, apply } = setup({ maxFps: 20 }); // 50 ms apart
  const a = screen(256, 128, 3);
  enc.offer(a, whole(a));
  await apply(await enc.step(FAST));
  clock.now += 10;
  const b = withPatch(a, { x: 64, y: 0, w: 64, h: 64 }, 4);
  enc.offer(b, [{ x: 64, y: 0, w: 64, h: 64 }]);
  const early = await enc.step(FAST);
  t.same(early.messages, [], '10 ms after the last update: not yet');
  t.equal(early.nextAt, 1050, 'come back when the 50 ms slot opens');
  clock.now = 1050;
  const s = await apply(await enc.step(FAST));
  t.same(s.update!.encoded.rects, [{ x: 64, y: 0, w: 64, h: 64 }]);
  t.equal(firstDifference(dec.framebuffer!, expectedFramebuffer(b), 256), null);
});

t.test('while the link is busy damage coalesces: one update, current pixels, oldest change time', async (t) => {
  const { clock, enc, dec, apply } = setup();
  let f = screen(256, 128, 5, 1);
  enc.offer(f, whole(f));
  await apply(await enc.step(FAST));
  const busy: LinkState = { canSend: false, deliveryRateBps: null };
  const changes: Array<[Rect, number]> = [[{ x: 0, y: 0, w: 64, h: 64 }, 2], [{ x: 128, y: 64, w: 64, h: 64 }, 3], [{ x: 0, y: 0, w: 64, h: 64 }, 4]];
  for (const [r, ts] of changes) {
    clock.now += 40;
    f = { ...withPatch(f, r, ts), timestamp: ts };
    enc.offer(f, [r]);
    t.same(await enc.step(busy), { messages: [], update: null, nextAt: null }, 'held back: an ack will bring the caller back');
  }
  const s = await apply(await enc.step(FAST));
  t.equal(s.messages.length, 1, 'one update for three changes');
  t.match(s.update, { frameId: 2, captureTime: 4, oldestChangeTime: 2 });
  t.equal(firstDifference(dec.framebuffer!, expectedFramebuffer(f), 256), null, 'with the current pixels');
});

t.test('a refresh request resends the whole screen; a new size starts with RESIZE', async (t) => {
  const { clock, enc, dec, apply } = setup();
  const a = screen(160, 96, 6);
  enc.offer(a, whole(a));
  await apply(await enc.step(FAST));
  clock.now += 100;
  enc.requestKeyframe();
  const k = await apply(await enc.step(FAST));
  t.same(k.update!.encoded.rects, whole(a), 'the whole screen');
  t.equal(k.update!.keyframe, true);
  clock.now += 100;
  const b = screen(96, 160, 7);
  enc.offer(b, whole(b));
  const r = await apply(await enc.step(FAST));
  t.same(r.messages.map((m) => decodeMessage(m).type), ['resize', 'update']);
  t.equal(r.update!.keyframe, true);
  t.equal(dec.width, 96);
  t.equal(firstDifference(dec.framebuffer!, expectedFramebuffer(b), 96), null);
});

t.test('lossy tiles are refined to exact once still, at the time the encoder asks for', { skip: noJpeg ?? false }, async (t) => {
  const { clock, enc, dec, apply } = setup();
  const base = screen(384, 256, 8);
  const video = { x: 64, y: 64, w: 256, h: 128 };
  let f = base;
  enc.offer(f, whole(f));
  await apply(await enc.step(FAST));
  let lastChange = 0;
  for (let n = 0; n < 6; n++) {
    clock.now += 40; // 25 fps
    f = videoFrame(base, video, n);
    enc.offer(f, [video]);
    const s = await apply(await enc.step(FAST));
    t.ok(s.update, `frame ${n} sent`);
    lastChange = clock.now;
  }
  t.ok(enc.quality().lossyTiles > 0, `${enc.quality().lossyTiles} tiles went lossy while the video played`);
  t.not(firstDifference(dec.framebuffer!, expectedFramebuffer(f), 384), null, 'not exact while playing');
  const idle = await enc.step(FAST);
  t.same(idle.messages, []);
  t.equal(idle.nextAt, lastChange + 60, 'refinement is due 1.5 x the 40 ms change interval after the last change');
  clock.now = idle.nextAt!;
  const r = await apply(await enc.step(FAST));
  t.match(r.update, { changes: false }, 'a refinement carries no screen change');
  t.equal(r.update!.encoded.lossyRects.length, 0, 'and nothing lossy');
  t.equal(enc.quality().lossyTiles, 0, 'nothing left lossy');
  t.equal(firstDifference(dec.framebuffer!, expectedFramebuffer(f), 384), null, 'exact at rest');
  t.same(await enc.step(FAST), { messages: [], update: null, nextAt: null }, 'then idle');
});

t.test('a slow link: the ladder steps up and calm tiles go before busy ones', async (t) => {
  const ctx = setup({ lossy: false });
  const { clock, enc, dec, apply } = ctx;
  const slow: LinkState = { canSend: true, deliveryRateBps: 20_000 };
  const w = 512, h = 256;
  let f = screen(w, h, 9);
  enc.offer(f, whole(f));
  await apply(await enc.step(slow));
  // A busy region (changing every 50 ms) loads the link beyond its 20 kB/s.
  const busyRect = { x: 0, y: 0, w: 256, h: 256 };
  f = await changeEvery50ms(ctx, f, busyRect, 12, slow);
  t.ok(enc.quality().level > 0, `ladder level ${enc.quality().level} under load`);
  t.ok(enc.quality().busyIntervalMs > 0);
  // Now a keystroke (calm tile) and another busy frame change together.
  clock.now += 50;
  const calmRect = { x: 448, y: 192, w: 64, h: 64 };
  f = withPatch(withPatch(f, busyRect, 300), calmRect, 301);
  enc.offer(f, [busyRect, calmRect]);
  const s = await apply(await enc.step(slow));
  t.same(s.update!.encoded.rects.filter((r) => r.x >= 256), [calmRect], 'the calm tile goes now');
  t.same(s.update!.encoded.rects.filter((r) => r.x < 256), [], 'the busy tiles wait for their slot');
  t.ok(s.nextAt !== null);
  const calmSentAt = clock.now;
  let later: EncoderStep | null = null;
  for (let n = 0; n < 5 && !later?.update; n++) {
    const wait = await enc.step(slow);
    if (wait.update) later = await apply(wait);
    else {
      t.ok(wait.nextAt! > clock.now, 'nothing now: the encoder names a later time');
      clock.now = wait.nextAt!;
    }
  }
  t.ok(later?.update!.encoded.rects.some((r) => r.x < 256), 'then the busy tiles go');
  t.ok(clock.now - calmSentAt >= enc.quality().busyIntervalMs - 50, `busy tiles waited for their slot (${(clock.now - calmSentAt).toFixed(0)} ms)`);
  // On this slow a link the busy tiles may go as several updates (bands): the rest follows.
  for (let n = 0; n < 20; n++) {
    const s = await enc.step(slow);
    if (s.update) await apply(s);
    else if (s.nextAt === null) break;
    else clock.now = Math.max(clock.now, s.nextAt);
  }
  t.equal(firstDifference(dec.framebuffer!, expectedFramebuffer(f), w), null, 'and the viewer is exact');
});

t.test('a slow link: a small busy region (a tile typed into 4 times a second) is not slowed with a large one', async (t) => {
  const { clock, enc, dec, apply } = setup({ lossy: false });
  const slow: LinkState = { canSend: true, deliveryRateBps: 20_000 };
  const w = 512, h = 256;
  let f = screen(w, h, 9);
  enc.offer(f, whole(f));
  await apply(await enc.step(slow));
  const busyRect = { x: 0, y: 0, w: 256, h: 256 }; // 16 tiles changing every 50 ms: video
  const typed = { x: 448, y: 192, w: 64, h: 64 }; // one tile changing every 250 ms: busy, but alone
  for (let n = 0; n < 20; n++) {
    clock.now += 50;
    const rects = n % 5 === 4 ? [busyRect, typed] : [busyRect];
    f = withPatch(f, busyRect, 200 + n);
    if (rects.length === 2) f = withPatch(f, typed, 500 + n);
    enc.offer(f, rects);
    const s = await enc.step(slow);
    if (s.update) await apply(s);
  }
  t.ok(enc.quality().busyIntervalMs > 0, `ladder level ${enc.quality().level} under load`);
  // The typed tile changed 4 times in the last second: busy by the 3-in-a-second rule.
  clock.now += 50;
  f = withPatch(withPatch(f, busyRect, 300), typed, 301);
  enc.offer(f, [busyRect, typed]);
  let s = await enc.step(slow);
  while (!s.update && s.nextAt !== null) {
    clock.now = s.nextAt;
    s = await enc.step(slow);
  }
  await apply(s);
  t.ok(s.update!.encoded.rects.some((r) => r.x === typed.x && r.y === typed.y), 'the typed tile goes at once');
  t.same(s.update!.encoded.rects.filter((r) => r.x < 256), [], 'the video region waits for its slot');
  for (let n = 0; n < 40; n++) {
    const s = await enc.step(slow);
    if (s.update) await apply(s);
    else if (s.nextAt === null) break;
    else clock.now = Math.max(clock.now, s.nextAt);
  }
  t.equal(firstDifference(dec.framebuffer!, expectedFramebuffer(f), w), null, 'and the viewer is exact');
});

t.test('close() releases the native copy of what the viewer has', async (t) => {
  const { enc, apply } = setup();
  const f = screen(320, 200, 10);
  enc.offer(f, whole(f));
  await apply(await enc.step(FAST));
  t.ok(enc.memoryBytes >= 320 * 200 * 4, `${enc.memoryBytes} bytes held while the viewer is connected`);
  enc.close();
  t.equal(enc.memoryBytes, 0, 'none after close');
  t.same(await enc.step(FAST), { messages: [], update: null, nextAt: null }, 'and nothing more is sent');
});

t.test('refresh requests: at most one keyframe per second; requests in between merge into the next, none is lost', async (t) => {
  const { clock, enc, dec, apply } = setup();
  const f = screen(160, 96, 11);
  enc.offer(f, whole(f));
  t.equal((await apply(await enc.step(FAST))).update!.keyframe, true, 'the join keyframe');
  t.same(await enc.step(FAST), { messages: [], update: null, nextAt: null });
  clock.now += 100;
  enc.requestRefresh();
  const first = await apply(await enc.step(FAST));
  t.equal(first.update?.keyframe, true, 'the first refresh request: a keyframe at once');
  const firstAt = clock.now;
  // A flood: a request after every 50 ms for the next second.
  let keyframes = 0;
  let lastNextAt: number | null = null;
  for (let i = 0; i < 19; i++) {
    clock.now += 50;
    enc.requestRefresh();
    const s = await apply(await enc.step(FAST));
    if (s.update?.keyframe) keyframes++;
    else lastNextAt = s.nextAt;
  }
  t.equal(keyframes, 0, `no keyframe within the window (clock ${clock.now - firstAt} ms after the last one)`);
  t.equal(lastNextAt, firstAt + 1000, 'the encoder asks to be run when the window opens');
  clock.now = firstAt + 1000;
  const merged = await apply(await enc.step(FAST));
  t.equal(merged.update?.keyframe, true, 'the 19 requests became one keyframe when the window opened');
  t.same(await enc.step(FAST), { messages: [], update: null, nextAt: null }, 'and only one');
  t.equal(enc.refreshRequests, 20);
  t.equal(enc.refreshesMerged, 19);
  t.equal(enc.keyframes, 3, 'join, first refresh, merged refresh');
  t.equal(firstDifference(dec.framebuffer!, expectedFramebuffer(f), 160), null);
});

t.test('refresh requests: merged into a keyframe already pending; waiting does not block other updates; the interval is an option', async (t) => {
  const { clock, enc, apply } = setup({ minRefreshIntervalMs: 200 });
  let f = screen(128, 64, 12);
  enc.offer(f, whole(f));
  enc.requestRefresh(); // the join keyframe is pending: this is merged into it
  t.equal((await apply(await enc.step(FAST))).update!.keyframe, true);
  t.same(await enc.step(FAST), { messages: [], update: null, nextAt: null }, 'no second keyframe for it');
  t.equal(enc.refreshesMerged, 1);
  clock.now += 50;
  enc.requestRefresh(); // the window (200 ms) counts from the last refresh keyframe; none yet: at once
  t.equal((await apply(await enc.step(FAST))).update!.keyframe, true);
  clock.now += 50;
  enc.requestRefresh(); // inside the window: waits
  f = withPatch(f, { x: 0, y: 0, w: 8, h: 8 }, 500);
  enc.offer(f, [{ x: 0, y: 0, w: 8, h: 8 }]);
  const s = await apply(await enc.step(FAST));
  t.equal(s.update?.keyframe, false, 'a screen change still goes, as a normal update');
  t.equal((await enc.step(FAST)).nextAt, 1000 + 50 + 200, 'and the encoder comes back for the keyframe when the window opens');
  t.equal((await enc.step({ canSend: false, deliveryRateBps: null })).nextAt, 1250, 'also while the link is busy');
  clock.now = 1250;
  t.equal((await apply(await enc.step(FAST))).update?.keyframe, true);
  t.throws(() => new ViewerEncoder({ minRefreshIntervalMs: -1 }), { code: 'ERR_INVALID_ARG' });
});

t.test('an idle link (nothing in flight) gets a change before its maxFps slot, a burst at most; a busy one waits', async (t) => {
  const { clock, enc, dec, apply } = setup({ maxFps: 20 }); // 50 ms slots: 20 a second refill the burst
  let f = screen(256, 128, 30);
  enc.offer(f, whole(f));
  await apply(await enc.step(FAST));
  const idleLink: LinkState = { ...FAST, idle: true };
  const inFlight: LinkState = { ...FAST, idle: false };
  clock.now += 5;
  f = withPatch(f, { x: 0, y: 0, w: 64, h: 64 }, 31);
  enc.offer(f, [{ x: 0, y: 0, w: 64, h: 64 }]);
  const held = await enc.step(inFlight);
  t.same(held.messages, [], 'updates in flight: the change waits for its slot');
  t.equal(held.nextAt, 1050);
  let early = 0;
  let lastSentAt = 0;
  for (let i = 0; i < 6; i++) {
    const s = await apply(await enc.step(idleLink));
    if (s.update) {
      early++;
      lastSentAt = clock.now;
      t.equal(firstDifference(dec.framebuffer!, expectedFramebuffer(f), 256), null, 'exact after each update');
    } else t.equal(s.nextAt, lastSentAt + 50, 'burst spent: back to the 50 ms pace');
    clock.now += 1;
    f = withPatch(f, { x: 64 * (i % 4), y: 64, w: 64, h: 64 }, 40 + i);
    enc.offer(f, [{ x: 64 * (i % 4), y: 64, w: 64, h: 64 }]);
  }
  // The keyframe took one token at 1000; 5 ms later the 4-token bucket holds 3.1 (whole: 3).
  t.equal(early, 3, 'three early updates, then the burst is spent');
  t.equal(enc.updatesEarly, 3);
  clock.now = 1000 + 50 * 10;
  const later = await apply(await enc.step(idleLink));
  t.ok(later.update, 'refilled: the pending change goes');
  t.equal(firstDifference(dec.framebuffer!, expectedFramebuffer(f), 256), null);
});

/** The tiles (64 px) an update's rects cover. */
function tilesOf(rects: readonly Rect[]): number {
  return rects.reduce((n, r) => n + Math.ceil(r.w / 64) * Math.ceil(r.h / 64), 0);
}

t.test('big damage goes as bands of at most maxUpdateTiles tiles, which reassemble exactly; keyframes stay whole', async (t) => {
  const { clock, enc, dec, apply } = setup({ maxUpdateTiles: 8, adaptiveQuality: false });
  const a = screen(512, 256, 50); // 8 x 4 = 32 tiles
  enc.offer(a, whole(a));
  const k = await apply(await enc.step(FAST));
  t.equal(tilesOf(k.update!.encoded.rects), 32, 'the keyframe carries the whole screen');
  clock.now += 100;
  const b = screen(512, 256, 51);
  enc.offer(b, whole(b));
  const sizes: number[] = [];
  for (let i = 0; i < 10; i++) {
    const s = await apply(await enc.step(SLOW));
    if (!s.update) break;
    sizes.push(tilesOf(s.update.encoded.rects));
    t.equal(s.nextAt, clock.now, 'the rest follows at once (flow control permitting), not at the next maxFps slot');
  }
  t.same(sizes, [8, 8, 8, 8], 'four bands of eight tiles');
  t.equal(enc.splitUpdates, 3, 'three updates left a remainder');
  t.equal(firstDifference(dec.framebuffer!, expectedFramebuffer(b), 512), null, 'the bands reassemble the screen exactly');
  // A link with no rate estimate (or fast enough to drain it all in SPLIT_AFTER_MS) gets the damage whole.
  for (const [seed, link, what] of [[52, FAST, 'no estimate'], [53, { canSend: true, deliveryRateBps: 1e9 }, 'a fast link']] as const) {
    clock.now += 100;
    const f = screen(512, 256, seed);
    enc.offer(f, whole(f));
    const one = await apply(await enc.step(link));
    t.equal(tilesOf(one.update!.encoded.rects), 32, `${what}: one update`);
    t.equal(firstDifference(dec.framebuffer!, expectedFramebuffer(f), 512), null);
  }
});

t.test('with sound on, big damage is split by what tiles cost as pixels: copies after a scroll do not make a new page look cheap', async (t) => {
  // Scroll by a tile row 6 times (the encoder finds the move: 24 tiles copied, 8 sent), then a page of new content.
  const run = async (soundOn: boolean) => {
    const { clock, enc, dec, apply } = setup({ maxUpdateTiles: 32, adaptiveQuality: false });
    let f = screen(512, 256, 70);
    enc.offer(f, whole(f));
    const keyframeBytes = (await apply(await enc.step(FAST))).update!.bytes;
    for (let i = 1; i <= 6; i++) {
      clock.now += 100;
      const next = screen(512, 256, 70 + i);
      (f.data as Buffer).copy(next.data as Buffer, 0, 64 * f.stride); // rows 64.. move up to 0..
      f = next;
      enc.offer(f, whole(f));
      const s = await apply(await enc.step(FAST));
      t.equal(s.update!.encoded.copies.length > 0, true, `scroll ${i} went as a copy`);
    }
    // The link drains about 20 tiles of new text in SPLIT_AFTER_MS: the page (32 tiles) must be split; the
    // average per tile over the scrolls (a quarter of the tiles paid for) says it fits.
    const link: LinkState = { canSend: true, deliveryRateBps: (keyframeBytes / 32) * 20 * 25, soundOn };
    clock.now += 100;
    f = screen(512, 256, 90);
    enc.offer(f, whole(f));
    const sizes: number[] = [];
    for (let i = 0; i < 10; i++) {
      const s = await apply(await enc.step(link));
      if (!s.update) break;
      sizes.push(tilesOf(s.update.encoded.rects));
    }
    t.equal(firstDifference(dec.framebuffer!, expectedFramebuffer(f), 512), null, 'exact either way');
    return sizes;
  };
  t.same(await run(false), [32], 'without sound: one update (the average estimate)');
  const bands = await run(true);
  t.ok(bands.length > 1 && bands.every((n) => n < 32), `with sound: bands (${bands.join(', ')})`);
  t.equal(bands.reduce((a, b) => a + b, 0), 32);
});

t.test('a small change made while a split update is under way goes ahead of its remainder', async (t) => {
  const { clock, enc, dec, apply } = setup({ maxUpdateTiles: 8, adaptiveQuality: false });
  let f = screen(512, 256, 60);
  enc.offer(f, whole(f));
  await apply(await enc.step(FAST));
  clock.now += 100;
  f = screen(512, 256, 61);
  enc.offer(f, whole(f));
  const first = await apply(await enc.step(SLOW));
  t.same(first.update!.encoded.rects, [{ x: 0, y: 0, w: 512, h: 64 }], 'the first band: the top tile row');
  // Flow control says wait (the band is in flight); meanwhile a keystroke near the top-left.
  const busy: LinkState = { canSend: false, deliveryRateBps: null };
  clock.now += 5;
  const key: Rect = { x: 8, y: 8, w: 10, h: 16 };
  f = withPatch(f, key, 62);
  enc.offer(f, [key]);
  t.same((await enc.step(busy)).messages, [], 'nothing while flow control says wait');
  const next = await apply(await enc.step(FAST));
  t.same(next.update!.encoded.rects, [key], 'the keystroke alone (its residual box), ahead of the 24 tiles left');
  t.equal(enc.updatesAhead, 1);
  const rest: number[] = [];
  for (let i = 0; i < 10; i++) {
    const s = await apply(await enc.step(SLOW));
    if (!s.update) break;
    rest.push(tilesOf(s.update.encoded.rects));
  }
  t.same(rest, [8, 8, 8], 'then the remainder');
  t.equal(firstDifference(dec.framebuffer!, expectedFramebuffer(f), 512), null, 'exact: the latest pixels everywhere');
});

t.test('COMPACT_UPDATE: UPDATE_COMPACT and PALETTE_DIFF to a viewer that announced it, plain UPDATE and PALETTE to one that did not; same pixels, fewer bytes', async (t) => {
  const zlib = await import('node:zlib');
  const opCodes = (stream: Uint8Array) => {
    // A keyframe's stream starts a fresh deflate context: inflate it alone and read its first op code.
    const raw = zlib.inflateRawSync(stream, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    return raw[0];
  };
  const run = async (capabilities: number) => {
    const { clock, enc, dec, apply } = setup({ lossy: false }, capabilities);
    let f = { ...fillRandom(makeFrame(320, 96), rng(40), 40), timestamp: 10 };
    enc.offer(f, whole(f));
    const types: number[] = [];
    let bytes = 0, firstOp = -1;
    const take = async () => {
      const s = await apply(await enc.step(FAST));
      for (const m of s.messages) {
        types.push(m[0]!);
        bytes += m.length;
      }
      if (s.update?.keyframe) firstOp = opCodes(s.update.encoded.stream)!;
    };
    await take();
    t.ok(dec.framebuffer!.equals(expectedFramebuffer(f)), 'keyframe exact');
    // Typing: a 20x29 glyph of 40 colours at a time, one update each.
    for (let i = 0; i < 12; i++) {
      clock.now += 100;
      const r = { x: 4 + i * 22, y: 30, w: 20, h: 29 };
      const patch = fillRandom(makeFrame(r.w, r.h), rng(100 + (i % 4)), 40);
      const data = Buffer.from(f.data);
      for (let y = 0; y < r.h; y++) (patch.data as Buffer).copy(data, (r.y + y) * f.stride + r.x * 4, y * r.w * 4, (y + 1) * r.w * 4);
      f = { ...f, data, timestamp: 10 + clock.now };
      enc.offer(f, [r]);
      await take();
      t.ok(dec.framebuffer!.equals(expectedFramebuffer(f)), `glyph ${i} exact`, { diagnostic: false });
    }
    return { types, bytes, firstOp, lastFrameId: dec.lastFrameId };
  };
  const compact = await run(ALL | Capability.COMPACT_UPDATE);
  const plain = await run(ALL);
  t.same(new Set(compact.types), new Set([MessageType.RESIZE, MessageType.UPDATE_COMPACT]));
  t.same(new Set(plain.types), new Set([MessageType.RESIZE, MessageType.UPDATE]));
  t.equal(compact.firstOp, OpCode.PALETTE_DIFF, 'palettes as PALETTE_DIFF');
  t.equal(plain.firstOp, OpCode.PALETTE, 'plain palettes for the older viewer');
  t.equal(compact.lastFrameId, 13, 'frame ids survive the delta coding');
  t.ok(compact.bytes < plain.bytes - 13 * 16, `compact ${compact.bytes} B < plain ${plain.bytes} B`);
});

t.test('damage whose pixels the viewer already has: an update with no ops, still well-formed (compact or not)', async (t) => {
  for (const capabilities of [ALL | Capability.COMPACT_UPDATE, ALL]) {
    const { clock, enc, dec, apply } = setup({ lossy: false }, capabilities);
    const f = screen(256, 128, 41);
    enc.offer(f, whole(f));
    await apply(await enc.step(FAST));
    // The same pixels reported damaged, twice in a row (a window redrawn as it was).
    for (let i = 0; i < 2; i++) {
      clock.now += 100;
      enc.offer({ ...f, data: Buffer.from(f.data) }, [{ x: 64, y: 0, w: 64, h: 64 }]);
      const s = await apply(await enc.step(FAST));
      t.equal(s.update?.encoded.opCount, 0, `update ${i + 2}: no ops`);
      t.equal(s.update?.keyframe, false, 'and no keyframe to recover from a failure');
    }
    t.equal(dec.lastFrameId, 3, 'the viewer decoded all three');
    t.ok(dec.framebuffer!.equals(expectedFramebuffer(f)));
  }
});

t.test('at full rate, a keystroke and the last busy tile or two of a row typed across go as one update', async (t) => {
  const { clock, enc, dec, apply } = setup({ lossy: false });
  const w = 512, h = 256;
  let f = screen(w, h, 9);
  enc.offer(f, whole(f));
  await apply(await enc.step(FAST));
  const row = { x: 0, y: 0, w: 256, h: 64 }; // 4 tiles typed across fast: a busy region the ladder may slow
  for (let n = 0; n < 4; n++) {
    clock.now += 50;
    f = withPatch(f, row, 200 + n);
    enc.offer(f, [row]);
    await apply(await enc.step(FAST));
  }
  clock.now += 50;
  const glyph = { x: 192, y: 0, w: 64, h: 64 }; // one of the busy tiles
  const caret = { x: 256, y: 0, w: 64, h: 64 }; // calm: the caret moves on
  f = withPatch(withPatch(f, glyph, 300), caret, 301);
  enc.offer(f, [glyph, caret]);
  const s = await apply(await enc.step(FAST));
  t.same(s.update!.encoded.rects, [{ x: 192, y: 0, w: 128, h: 64 }], 'both in one update');
  t.equal(firstDifference(dec.framebuffer!, expectedFramebuffer(f), w), null, 'and the viewer is exact');
  t.same((await enc.step(FAST)).update, null, 'nothing left');
});

/** A slow link's probe during a stall: one update allowed, about a packet a second. */
const TRICKLE: LinkState = { canSend: true, deliveryRateBps: 1000 };

/**
 * A 512x512 screen whose top 512x192 (24 tiles: a scrolling log) changes every 50 ms over a fast link,
 * then over `link` with steps 500 ms apart (a stalled link's probes); a one-tile change lower down is
 * made once, at the first of those steps. Returns how many updates went before that tile, and the rest.
 */
async function changeBelowBusyRegion(link: LinkState, options: ViewerEncoderOptions = {}) {
  const ctx = setup({ lossy: false, ...options });
  const { clock, enc, dec, apply } = ctx;
  const w = 512, h = 512;
  let f = screen(w, h, 40);
  enc.offer(f, whole(f));
  await apply(await enc.step(FAST));
  const busyRect = { x: 0, y: 0, w: 512, h: 192 };
  f = await changeEvery50ms(ctx, f, busyRect, 6, FAST);
  const square = { x: 320, y: 384, w: 64, h: 64 };
  const updates: Rect[][] = [];
  for (let n = 0; n < 12; n++) {
    clock.now += 500;
    f = withPatch(f, busyRect, 400 + n);
    if (n === 0) f = withPatch(f, square, 399);
    enc.offer(f, n === 0 ? [busyRect, square] : [busyRect]);
    const s = await apply(await enc.step(link));
    if (s.update) updates.push(s.update.encoded.rects);
  }
  const before = updates.findIndex((rects) => rects.some((r) => r.x < square.x + square.w && r.x + r.w > square.x && r.y < square.y + square.h && r.y + r.h > square.y));
  // Whatever the order, once the log stops the viewer ends exact.
  for (let n = 0; n < 40; n++) {
    clock.now += 500;
    if (!(await apply(await enc.step(link))).update) break;
  }
  t.equal(firstDifference(dec.framebuffer!, expectedFramebuffer(f), w), null, 'the viewer ends exact');
  return { before, updates };
}

t.test('over a slow link, a region that keeps changing does not starve a change below it: split bands take calm tiles first, then go round the screen', async (t) => {
  const { before, updates } = await changeBelowBusyRegion(TRICKLE);
  t.ok(updates.length >= 3, `the slow link split the log into bands (${updates.length} updates)`);
  t.equal(before, 0, 'the change below the log goes in the first update after it, not after the log stops');
  // Without the policy's busy regions (adaptiveQuality off) no tile is calmer than another: the log's newest
  // tiles may go ahead of the remainder every other update, and bands of 8 go round the 25 tiles left.
  const plain = await changeBelowBusyRegion(TRICKLE, { adaptiveQuality: false });
  t.ok(plain.before >= 0 && plain.before < 2 * Math.ceil(25 / 8), `adaptiveQuality off: the change below goes within one round of bands (update ${plain.before})`);
});

t.test('while the link is stalled, updates carry only the calm damage when there is some', async (t) => {
  const { before, updates } = await changeBelowBusyRegion({ ...TRICKLE, stalled: true });
  t.equal(before, 0, 'the change below the log goes first');
  t.ok(updates[0]!.every((r) => r.y >= 192), `and alone: ${JSON.stringify(updates[0])}`);
  t.ok(updates.length > 1 && updates.slice(1).every((rects) => rects.every((r) => r.y + r.h <= 192)), 'then the log, calm damage being gone');
});

t.test('at full rate, calm damage goes as its own update just ahead of a busy region, which follows at once', async (t) => {
  const ctx = setup({ lossy: false });
  const { clock, enc, dec, apply } = ctx;
  const w = 512, h = 256;
  let f = screen(w, h, 9);
  enc.offer(f, whole(f));
  await apply(await enc.step(FAST));
  const busyRect = { x: 0, y: 0, w: 256, h: 256 }; // 16 tiles changing every 50 ms: video
  f = await changeEvery50ms(ctx, f, busyRect, 4, FAST);
  t.equal(enc.quality().level, 0, 'a fast link: full rate');
  clock.now += 50;
  const calmRect = { x: 448, y: 192, w: 64, h: 64 };
  f = withPatch(withPatch(f, busyRect, 300), calmRect, 301);
  enc.offer(f, [busyRect, calmRect]);
  const first = await apply(await enc.step(FAST));
  t.same(first.update!.encoded.rects, [calmRect], 'the keystroke alone first');
  t.ok(first.nextAt !== null && first.nextAt <= clock.now, 'and the encoder wants to run again now');
  const second = await apply(await enc.step(FAST));
  t.ok(second.update && second.update.encoded.rects.every((r) => r.x < 256), 'then the video region, without waiting for its fps slot');
  t.equal(firstDifference(dec.framebuffer!, expectedFramebuffer(f), w), null, 'and the viewer is exact');
  t.same((await enc.step(FAST)).update, null, 'nothing left');
});

t.test('while a large region is busy, a small calm change goes before the maxFps slot, which the busy region keeps; typing alone still waits for it', async (t) => {
  const ctx = setup({ lossy: false, maxFps: 20 }); // slots 50 ms apart
  const { clock, enc, dec, apply } = ctx;
  const w = 512, h = 256;
  let f = screen(w, h, 11);
  enc.offer(f, whole(f));
  await apply(await enc.step(FAST));
  // No busy region yet: a change 10 ms after an update waits for the slot (it coalesces with the next keystroke).
  clock.now += 50;
  const key1 = { x: 448, y: 0, w: 64, h: 64 };
  f = withPatch(f, key1, 20);
  enc.offer(f, [key1]);
  await apply(await enc.step(FAST));
  clock.now += 10;
  f = withPatch(f, key1, 21);
  enc.offer(f, [key1]);
  t.same((await enc.step(FAST)).update, null, 'typing alone: waits for its slot');
  clock.now += 40;
  await apply(await enc.step(FAST));
  // A scrolling log (16 tiles changing every 50 ms) makes a large busy region.
  const busyRect = { x: 0, y: 0, w: 256, h: 256 };
  f = await changeEvery50ms(ctx, f, busyRect, 4, FAST);
  const slot = clock.now + 50;
  // 10 ms after the busy region's update: a keystroke (one tile) and more of the log.
  clock.now += 10;
  const key = { x: 448, y: 192, w: 64, h: 64 };
  f = withPatch(withPatch(f, busyRect, 300), key, 301);
  enc.offer(f, [busyRect, key]);
  const ahead = await apply(await enc.step(FAST));
  t.same(ahead.update!.encoded.rects, [key], 'the keystroke goes now, alone');
  const next = await enc.step(FAST);
  t.same(next.update, null, 'the busy region waits');
  t.equal(next.nextAt, slot, 'for the slot it had');
  t.equal(enc.updatesCalmAhead, 1);
  clock.now = slot;
  const busyStep = await apply(await enc.step(FAST));
  t.ok(busyStep.update!.encoded.rects.length > 0 && busyStep.update!.encoded.rects.every((r) => r.x < 256), 'then the busy region at its slot');
  t.equal(firstDifference(dec.framebuffer!, expectedFramebuffer(f), w), null, 'the viewer is exact');
  // A calm change of more than four tiles (a window's worth) is not small: it waits for the slot.
  clock.now += 10;
  const big = { x: 256, y: 0, w: 256, h: 128 }; // 8 tiles
  f = withPatch(withPatch(f, busyRect, 400), big, 401);
  enc.offer(f, [busyRect, big]);
  t.same((await enc.step(FAST)).update, null, 'eight calm tiles wait for the slot');
  // The calm allowance is bounded: keystrokes every 5 ms go ahead a burst at a time, then at the allowance's pace.
  clock.now += 40;
  while ((await apply(await enc.step(FAST))).update); // at the slot: the calm tiles first, then the busy region
  const before = enc.updatesCalmAhead;
  let sentAhead = 0;
  for (let n = 0; n < 8; n++) {
    clock.now += 5;
    f = withPatch(f, key, 500 + n);
    enc.offer(f, [key]);
    const s = await apply(await enc.step(FAST));
    if (s.update) sentAhead++;
  }
  t.equal(enc.updatesCalmAhead - before, sentAhead, 'all before the slot');
  t.ok(sentAhead >= 1 && sentAhead < 8, `keystrokes 5 ms apart: ${sentAhead} of 8 went ahead (a burst, then the allowance's pace)`);
  clock.now += 100;
  while ((await apply(await enc.step(FAST))).update);
  t.equal(firstDifference(dec.framebuffer!, expectedFramebuffer(f), w), null, 'and the viewer is exact at the end');
});

/**
 * Drives the encoder through `changes` (each at its time, its rect repainted with fresh pixels),
 * calling step() at each change and whenever the encoder asked to be called back, as ViewerSession
 * does; returns the frame at the end and each update sent: when, and its rects.
 */
async function drive(ctx: ReturnType<typeof setup>, f: Frame, changes: { at: number; rect: Rect }[], until: number) {
  const { clock, enc, apply } = ctx;
  const sent: { at: number; rects: Rect[] }[] = [];
  let callBack: number | null = null;
  let k = 0;
  for (let seed = 1000; ; seed++) {
    const next = Math.min(changes[k]?.at ?? Infinity, callBack ?? Infinity);
    if (next > until) break;
    clock.now = Math.max(clock.now, next);
    if (changes[k] && changes[k]!.at <= clock.now) {
      f = withPatch(f, changes[k]!.rect, seed);
      enc.offer(f, [changes[k++]!.rect]);
    }
    callBack = null;
    for (;;) {
      const s = await apply(await enc.step(FAST));
      if (s.update) sent.push({ at: clock.now, rects: s.update.encoded.rects });
      if (s.nextAt !== null && s.nextAt > clock.now) callBack = s.nextAt;
      if (!s.update) break;
    }
  }
  return { f, sent };
}

/** A log printing four lines 5 ms apart every 100 ms (`cycles` times, from `start`) in `rect`. */
const logBursts = (rect: Rect, start: number, cycles: number) =>
  Array.from({ length: cycles * 4 }, (_, n) => ({ at: start + 100 * Math.floor(n / 4) + 5 * (n % 4), rect }));

t.test('a busy region changing in bursts (a log printing a few lines at once) goes as one update per burst, once still; steady change, input and calm changes do not wait', async (t) => {
  const w = 512, h = 256;
  const log = { x: 0, y: 0, w: 256, h: 256 }; // 16 tiles: a large busy region
  const start = async (options: ViewerEncoderOptions = {}) => {
    const ctx = setup({ lossy: false, ...options });
    const f = screen(w, h, 21);
    ctx.enc.offer(f, whole(f));
    await ctx.apply(await ctx.enc.step(FAST));
    return { ctx, ...(await drive(ctx, f, logBursts(log, 1100, 3), 1400)) }; // three bursts: the log is busy, in bursts
  };

  const { ctx, f: f0 } = await start();
  const burst = await drive(ctx, f0, logBursts(log, 1500, 1), 1600);
  t.same(burst.sent.map((u) => u.at), [1535], 'one update, when the log has been still for 20 ms');
  t.equal(firstDifference(ctx.dec.framebuffer!, expectedFramebuffer(burst.f), w), null, 'with all four lines: the viewer is exact');

  const off = await start({ settleBursts: false });
  const unsettled = await drive(off.ctx, off.f, logBursts(log, 1500, 1), 1600);
  t.ok(unsettled.sent.length >= 2 && unsettled.sent[0]!.at === 1500, `without settling: the first line at once, the rest at the slot (${JSON.stringify(unsettled.sent.map((u) => u.at))})`);

  // A keystroke's echo during a burst goes at once, alone; the log still waits for its burst to end.
  const key = { x: 448, y: 192, w: 64, h: 64 };
  const withKey = await drive(ctx, burst.f, [...logBursts(log, 1700, 1), { at: 1707, rect: key }].sort((a, b) => a.at - b.at), 1800);
  t.same(withKey.sent.map((u) => u.at), [1707, 1735], 'the keystroke at once, the log once still');
  t.same(withKey.sent[0]!.rects, [key], 'the keystroke alone');

  // A burst that does not end within SETTLE_MAX_MS goes at 50 ms after its first change.
  const long = Array.from({ length: 16 }, (_, n) => ({ at: 1900 + 5 * n, rect: log }));
  const longSent = await drive(ctx, withKey.f, long, 2000);
  t.equal(longSent.sent[0]!.at, 1950, 'a burst still going after 50 ms: sent then');

  // Right after the user's input, the first line goes at once.
  ctx.enc.noteInput();
  const afterInput = await drive(ctx, longSent.f, logBursts(log, 2100, 1), 2200);
  t.equal(afterInput.sent[0]!.at, 2100, 'after input: at once');

  // Steady change at a frame rate (a video, 40 ms apart): the region does not change in bursts, nothing waits.
  const video = await start();
  const frames = Array.from({ length: 12 }, (_, n) => ({ at: 3000 + 40 * n, rect: { x: 256, y: 0, w: 256, h: 256 } }));
  const played = await drive(video.ctx, video.f, frames, 3500);
  t.equal(played.sent.length, frames.length, 'a video: an update per frame');
  t.same(played.sent.filter((u) => !frames.some((c) => c.at === u.at)), [], 'each sent when it changed');
});
