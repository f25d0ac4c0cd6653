/**
 * Deterministic test content: a seeded PRNG (mulberry32), so a failure or a
 * benchmark run reproduces, and a synthetic "video" (a moving smooth colour
 * field with noise: what the lossy classifier sees as photographic, different
 * in every frame). Used by tests, the fuzz corpus and the benches.
 */
import type { Frame, Rect } from '../frame';

export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Frame `n` of the synthetic video over `r` of a copy of `base`. */
export function videoFrame(base: Frame, r: Rect, n: number): Frame {
  const data = Buffer.from(base.data);
  const random = seededRandom(1000 + n);
  for (let y = r.y; y < r.y + r.h; y++) {
    for (let x = r.x; x < r.x + r.w; x++) {
      const i = y * base.stride + x * 4;
      data[i] = (128 + 100 * Math.sin((x + n * 7) * 0.05) + random() * 6) | 0;
      data[i + 1] = (128 + 100 * Math.cos((y + n * 5) * 0.04) + random() * 6) | 0;
      data[i + 2] = (((x + y + n * 9) / 4) % 256) | 0;
    }
  }
  return { ...base, data };
}
