/**
 * Frames and rects: the data every stage passes along.
 * A frame is BGRA8 (byte order B, G, R, A/padding), rows `stride` bytes apart.
 * The 4th byte is never transmitted: decoded pixels always have alpha 255.
 */
import { checkBytes, checkInt, invalidArg } from './errors';
import { Limits } from './protocol/constants';

export interface Frame {
  data: Uint8Array;
  width: number;
  height: number;
  /** Bytes from one row to the next, >= width*4. */
  stride: number;
  /** Capture time, ms (performance.timeOrigin + performance.now() on the host). */
  timestamp?: number;
  /**
   * Change hints from the source (e.g. XDamage): the pixels outside these rects
   * are as in the previous frame. An empty array means nothing changed; absent
   * means unknown. The capture loop still verifies hinted frames with its own diff.
   */
  damage?: Rect[];
  /** Pointer position and, when it changed, the cursor shape. */
  cursor?: CursorUpdate;
}

export interface CursorShape {
  width: number;
  height: number;
  hotX: number;
  hotY: number;
  /** BGRA, straight alpha, width*height*4 bytes. */
  pixels: Uint8Array;
}

export interface CursorUpdate {
  x: number;
  y: number;
  visible: boolean;
  /** Present when the shape changed since the previous frame. */
  shape?: CursorShape;
}

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A region whose pixels moved: draw the w x h block at (srcX, srcY) at (x, y). */
export interface CopyRect extends Rect {
  srcX: number;
  srcY: number;
}

export function validateFrame(frame: unknown, name = 'frame'): Frame {
  if (typeof frame !== 'object' || frame === null) throw invalidArg(name, 'a frame object', frame);
  const f = frame as Frame;
  checkBytes(`${name}.data`, f.data);
  checkInt(`${name}.width`, f.width, 1, Limits.MAX_DIMENSION);
  checkInt(`${name}.height`, f.height, 1, Limits.MAX_DIMENSION);
  checkInt(`${name}.stride`, f.stride, f.width * 4, 0x7fffffff);
  const needed = f.stride * (f.height - 1) + f.width * 4;
  if (f.data.length < needed) throw invalidArg(`${name}.data`, `at least ${needed} bytes for ${f.width}x${f.height} stride ${f.stride}`, f.data);
  return f;
}

export function rectsToArray(rects: readonly Rect[], width: number, height: number, name = 'rects'): Uint32Array {
  if (!Array.isArray(rects)) throw invalidArg(name, 'an array of rects', rects);
  const out = new Uint32Array(rects.length * 4);
  rects.forEach((r, i) => {
    checkRect(`${name}[${i}]`, r, width, height);
    out.set([r.x, r.y, r.w, r.h], i * 4);
  });
  return out;
}

export function copiesToArray(copies: readonly CopyRect[], width: number, height: number): Uint32Array {
  if (!Array.isArray(copies)) throw invalidArg('copies', 'an array of copy rects', copies);
  const out = new Uint32Array(copies.length * 6);
  copies.forEach((c, i) => {
    checkRect(`copies[${i}]`, c, width, height);
    checkRect(`copies[${i}] source`, { x: c.srcX, y: c.srcY, w: c.w, h: c.h }, width, height);
    out.set([c.x, c.y, c.w, c.h, c.srcX, c.srcY], i * 6);
  });
  return out;
}

export function arrayToRects(a: Uint32Array): Rect[] {
  const out: Rect[] = [];
  for (let i = 0; i + 3 < a.length; i += 4) out.push({ x: a[i]!, y: a[i + 1]!, w: a[i + 2]!, h: a[i + 3]! });
  return out;
}

function checkRect(name: string, r: Rect, width: number, height: number): void {
  if (typeof r !== 'object' || r === null) throw invalidArg(name, 'a rect {x, y, w, h}', r);
  checkInt(`${name}.x`, r.x, 0, width - 1);
  checkInt(`${name}.y`, r.y, 0, height - 1);
  checkInt(`${name}.w`, r.w, 1, width - r.x);
  checkInt(`${name}.h`, r.h, 1, height - r.y);
}
