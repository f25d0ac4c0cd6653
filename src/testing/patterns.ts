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
  // A block copy: Buffer.from(Uint8Array) copies element by element (120 ms a 1280×720 frame),
  // which stalled the bench's one process (host, link emulator and viewer) like no real capture does.
  const data = Buffer.allocUnsafe(base.data.length);
  data.set(base.data);
  const random = seededRandom(1000 + n);
  // The waves depend on x or on y alone: computed once per column and row (the same values).
  const red = new Float64Array(r.w);
  for (let x = 0; x < r.w; x++) red[x] = 128 + 100 * Math.sin((r.x + x + n * 7) * 0.05);
  for (let y = r.y; y < r.y + r.h; y++) {
    const green = 128 + 100 * Math.cos((y + n * 5) * 0.04);
    for (let x = r.x; x < r.x + r.w; x++) {
      const i = y * base.stride + x * 4;
      data[i] = (red[x - r.x]! + random() * 6) | 0;
      data[i + 1] = (green + random() * 6) | 0;
      data[i + 2] = (((x + y + n * 9) / 4) % 256) | 0;
    }
  }
  return { ...base, data };
}
