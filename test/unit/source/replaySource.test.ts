// ReplaySource against real recordings written by Debian's ffmpeg (FFV1, lossless).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ReplaySource, probeRecording } from '../../../src/source/replaySource';
import { expectedFramebuffer, fillRandom, firstDifference, makeFrame, rng } from '../../helpers';

const haveFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;
if (!haveFfmpeg && process.env.CI) throw new Error('ffmpeg missing (Debian: ffmpeg)');
const skip = haveFfmpeg ? false : 'ffmpeg not installed (Debian: ffmpeg)';

function record(frames: Buffer[], width: number, height: number, fps: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilecast-replay-'));
  const file = path.join(dir, 'rec.mkv');
  const r = spawnSync('ffmpeg', ['-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'bgra', '-s', `${width}x${height}`, '-r', String(fps), '-i', '-', '-c:v', 'ffv1', '-pix_fmt', 'bgr0', file], { input: Buffer.concat(frames) });
  if (r.status !== 0) throw new Error(r.stderr.toString());
  return file;
}

t.test('a lossless recording replays byte-exact, frame by frame, with timestamps', { skip }, async (t) => {
  const random = rng(7);
  const frames = Array.from({ length: 12 }, (_, i) => fillRandom(makeFrame(97, 61), random, i % 3 ? 16 : 0));
  const file = record(frames.map((f) => Buffer.from(f.data)), 97, 61, 25);
  t.teardown(() => fs.rmSync(path.dirname(file), { recursive: true, force: true }));
  t.same(probeRecording(file), { width: 97, height: 61, fps: 25, frames: 12 });
  const src = new ReplaySource(file);
  const stamps: number[] = [];
  for (const [i, f] of frames.entries()) {
    const got = await src.nextFrame();
    t.ok(got, `frame ${i}`);
    const fb = expectedFramebuffer(got!);
    t.equal(firstDifference(fb, expectedFramebuffer(f), 97), null, `frame ${i} exact`);
    stamps.push(got!.timestamp!);
  }
  t.equal(await src.nextFrame(), null, 'then the end');
  t.ok(stamps.every((s, i) => i === 0 || s >= stamps[i - 1]!), 'timestamps do not go back');
  src.close();
});

t.test('realtime replay follows the recording clock; maxFrames stops early', { skip }, async (t) => {
  const frames = Array.from({ length: 6 }, (_, i) => Buffer.alloc(32 * 16 * 4, i * 40));
  const file = record(frames, 32, 16, 20);
  t.teardown(() => fs.rmSync(path.dirname(file), { recursive: true, force: true }));
  const src = new ReplaySource(file, { realtime: true, maxFrames: 4 });
  const got: number[] = [];
  for (let f; (f = await src.nextFrame()); ) got.push(f.timestamp!);
  // A stalled machine may make the reader skip a picture; every picture is still on the 20 fps clock.
  t.equal(got.length + src.framesSkipped, 4, 'four pictures passed');
  const offsets = got.map((s) => Math.round(s - got[0]!));
  t.ok(offsets.every((o, i) => o % 50 === 0 && (i === 0 || o > offsets[i - 1]!)), `timestamps are the recording's, 20 fps: ${offsets}`);
  if (!src.framesSkipped) t.same(offsets, [0, 50, 100, 150]);
  src.close();
});

t.test('a realtime reader that falls behind skips to the picture due now, and still gets the last one', { skip }, async (t) => {
  const frames = Array.from({ length: 6 }, (_, i) => Buffer.alloc(32 * 16 * 4, i * 40));
  const file = record(frames, 32, 16, 20);
  t.teardown(() => fs.rmSync(path.dirname(file), { recursive: true, force: true }));
  const src = new ReplaySource(file, { realtime: true });
  const first = (await src.nextFrame())!;
  await new Promise((r) => setTimeout(r, 180)); // pictures 1 and 2 (due at 50 and 100 ms) are past
  const next = (await src.nextFrame())!;
  t.ok(src.framesSkipped >= 2, `skipped ${src.framesSkipped}`);
  const index = src.position - 1;
  t.equal(next.data[0], index * 40, 'the picture handed over is the one at its position');
  t.equal(Math.round(next.timestamp! - first.timestamp!), index * 50, 'stamped with its own time in the recording');
  let last = next;
  for (let f; (f = await src.nextFrame()); ) last = f;
  t.equal(last.data[0], 5 * 40, 'the recording\'s last picture always comes');
  t.equal(src.position, 6);
  src.close();
});

t.test('bad recordings are clear errors', { skip }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilecast-replay-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const junk = path.join(dir, 'junk.mkv');
  fs.writeFileSync(junk, 'not a video');
  t.throws(() => new ReplaySource(junk), { code: 'ERR_INVALID_ARG' });
  t.throws(() => new ReplaySource(path.join(dir, 'missing.mkv')), { code: 'ERR_INVALID_ARG' });
  t.throws(() => new ReplaySource(''), { code: 'ERR_INVALID_ARG' });
});
