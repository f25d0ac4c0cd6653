// Shared test helpers: seeded random content, frame builders and comparisons.
import type { Frame } from '../src/frame';

/** Seeded PRNG (mulberry32) so failures reproduce; the synthetic video pattern. */
export { seededRandom as rng, videoFrame } from '../src/testing/patterns';

export function makeFrame(width: number, height: number, extraStride = 0): Frame {
  const stride = width * 4 + extraStride;
  const data = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * stride + x * 4 + 3] = 255;
  return { data, width, height, stride };
}

/** Random pixels from `colors` distinct colours (0: every pixel random). Padding bytes get garbage. */
export function fillRandom(frame: Frame, random: () => number, colors = 0): Frame {
  const palette = Array.from({ length: colors }, () => (random() * 0x1000000) >>> 0);
  for (let y = 0; y < frame.height; y++) {
    for (let x = 0; x < frame.width; x++) {
      const c = colors ? palette[(random() * colors) | 0]! : (random() * 0x1000000) >>> 0;
      const i = y * frame.stride + x * 4;
      frame.data[i] = c & 255;
      frame.data[i + 1] = (c >> 8) & 255;
      frame.data[i + 2] = (c >> 16) & 255;
      frame.data[i + 3] = (random() * 256) | 0; // alpha/padding is not part of the image
    }
    for (let i = y * frame.stride + frame.width * 4; i < (y + 1) * frame.stride; i++) frame.data[i] = (random() * 256) | 0;
  }
  return frame;
}

/** What a decoder must hold for `frame`: packed rows, same B,G,R, alpha 255. */
export function expectedFramebuffer(frame: Frame): Buffer {
  const out = Buffer.alloc(frame.width * frame.height * 4);
  for (let y = 0; y < frame.height; y++) {
    for (let x = 0; x < frame.width; x++) {
      const s = y * frame.stride + x * 4;
      const d = (y * frame.width + x) * 4;
      out[d] = frame.data[s]!;
      out[d + 1] = frame.data[s + 1]!;
      out[d + 2] = frame.data[s + 2]!;
      out[d + 3] = 255;
    }
  }
  return out;
}

/** First differing pixel, for readable failures. */
export function firstDifference(a: Uint8Array, b: Uint8Array, width: number): string | null {
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      const p = i >> 2;
      return `pixel (${p % width}, ${Math.floor(p / width)}) byte ${i & 3}: ${a[i]} vs ${b[i]}`;
    }
  }
  return null;
}

export function simdLevelsToTest(detected: string): Array<'scalar' | 'sse2' | 'avx2'> {
  const all: Array<'scalar' | 'sse2' | 'avx2'> = ['scalar', 'sse2', 'avx2'];
  return all.slice(0, all.indexOf(detected as 'scalar') + 1);
}

/** Polls `cond` every 20 ms; throws after `ms` naming what it waited for. */
export async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

