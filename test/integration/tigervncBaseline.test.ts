// The session bench's TigerVNC baseline (bench/lib/tigervnc.js) measures what
// it claims: a short recording replayed into a real Xvnc ends with exactly the
// recording's pixels in Xvnc and on a real vncviewer's screen (lossless), and
// the proxy counts the bytes the server sent (more change, more bytes).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ChangeDetector } from '../../src/detect/changeDetector';
import { ReplaySource } from '../../src/source/replaySource';
import { X11Source } from '../../src/source/x11Source';
import { fillRandom, makeFrame, rng } from '../helpers';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const tigervnc = require('../../bench/lib/tigervnc');

const missing: string | null = tigervnc.unavailable();
if (missing && process.env.CI) throw new Error(`TigerVNC baseline: ${missing}`);

/** An FFV1 recording of `count` 320×200 frames; frame i changes `changed(i)` random cells. */
function record(dir: string, name: string, count: number, cells: number): string {
  const random = rng(7);
  const frame = fillRandom(makeFrame(320, 200), random, 6);
  const frames: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    for (let c = 0; i > 0 && c < cells; c++) { // glyph-sized cells of new pixels
      const x0 = Math.floor(random() * 300), y0 = Math.floor(random() * 180);
      for (let y = y0; y < y0 + 16; y++) {
        for (let x = x0; x < x0 + 10; x++) {
          const o = y * frame.stride + x * 4;
          frame.data[o] = Math.floor(random() * 256);
          frame.data[o + 1] = Math.floor(random() * 256);
          frame.data[o + 2] = 40;
        }
      }
    }
    frames.push(Buffer.from(frame.data));
  }
  const file = path.join(dir, `${name}.mkv`);
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'bgra', '-s', '320x200', '-r', '30', '-i', '-',
    '-c:v', 'ffv1', '-pix_fmt', 'bgr0', file], { input: Buffer.concat(frames), maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`ffmpeg: ${r.stderr}`);
  return file;
}

t.test('TigerVNC baseline: the same pixels in Xvnc and on the viewer, bytes counted', { skip: missing ?? false, timeout: 180_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilecast-vnc-test-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const deps = { ReplaySource, ChangeDetector, X11Source };
  const few = await tigervnc.runTigerVnc(record(dir, 'few', 12, 1), 'lossless', deps);
  t.equal(few.frames, 12);
  t.equal(few.changedFrames, 11, 'every frame after the first changed');
  t.ok(few.xvncMatchesSource, 'Xvnc shows the recording\'s last frame exactly');
  t.ok(few.atRest.exact, 'Tight lossless: the viewer shows it exactly');
  t.ok(few.bytes > 0);
  const many = await tigervnc.runTigerVnc(record(dir, 'many', 12, 40), 'lossless', deps);
  t.ok(many.xvncMatchesSource);
  t.ok(many.atRest.exact);
  t.ok(many.bytes > few.bytes * 3, `40 cells a frame cost more than 1 (${many.bytes} vs ${few.bytes} bytes)`);
  const jpeg = await tigervnc.runTigerVnc(record(dir, 'jpeg', 12, 40), 'jpeg', deps);
  t.ok(jpeg.xvncMatchesSource);
  t.ok(jpeg.atRest.exact || jpeg.atRest.psnr > 20, `Tight JPEG: the viewer shows something close (PSNR ${jpeg.atRest.psnr} dB)`);
});
