/**
 * SceneSource: the embedded default desktop. It replays a scripted session over
 * real screens rendered by Chromium (assets/scenes, see scripts/render-scenes.js):
 * a desktop, switching to an editor, typing a comment character by character,
 * then a document and a Japanese mail client. In real time it paces frames at `fps`;
 * it needs no display server, so `npm start` works right after `npm install`.
 *
 * Frames are composed by copying rows of the pre-rendered screens (memcpy-sized
 * work per frame), never by per-pixel JS loops.
 */
import * as path from 'node:path';
import { checkInt, invalidArg } from '../errors';
import type { Frame, Rect } from '../frame';
import { readFrameFile } from './frameFile';
import type { FrameSource } from './frameSource';

export const SCENE_DIR = path.join(__dirname, '..', '..', 'assets', 'scenes');

export type SceneName = 'desktop' | 'editor' | 'editor-typed' | 'document' | 'japanese' | 'longdoc';

export function loadScene(name: SceneName): Frame {
  return readFrameFile(path.join(SCENE_DIR, `${name}.tcf.gz`));
}

/** One step of the script: show `scene` for `frames` frames, optionally revealing `reveal` column by column. */
interface Step {
  scene: SceneName;
  frames: number;
  /** Reveal this scene's difference from `scene` left to right over the step (typing). */
  typeInto?: SceneName;
}

const SCRIPT: Step[] = [
  { scene: 'desktop', frames: 10 },
  { scene: 'editor', frames: 10 },
  { scene: 'editor', typeInto: 'editor-typed', frames: 36 },
  { scene: 'editor-typed', frames: 10 },
  { scene: 'document', frames: 10 },
  { scene: 'japanese', frames: 10 },
];

export interface SceneSourceOptions {
  /** Frames per second of the timestamps (default 30). */
  fps?: number;
  /** Play the script this many times (default 1). */
  loops?: number;
  /** Sleep between frames to play in real time (default false: as fast as consumed). */
  realtime?: boolean;
}

export class SceneSource implements FrameSource {
  readonly width: number;
  readonly height: number;
  private readonly fps: number;
  private readonly loops: number;
  private readonly realtime: boolean;
  private readonly scenes = new Map<SceneName, Frame>();
  private readonly canvas: Buffer;
  private composed = ''; // what the canvas holds now: scene and revealed width
  private stepIndex = 0;
  private frameInStep = 0;
  private loop = 0;
  private produced = 0;
  private start: number | null = null; // clock of the first nextFrame(): the schedule starts there
  private closed = false;

  constructor(options: SceneSourceOptions = {}) {
    if (typeof options !== 'object' || options === null) throw invalidArg('options', 'an object', options);
    this.fps = checkInt('fps', options.fps ?? 30, 1, 240);
    this.loops = checkInt('loops', options.loops ?? 1, 1, 1_000_000);
    this.realtime = options.realtime ?? false;
    for (const step of SCRIPT) {
      for (const name of [step.scene, step.typeInto]) {
        if (name && !this.scenes.has(name)) this.scenes.set(name, loadScene(name));
      }
    }
    const first = this.scenes.get('desktop')!;
    this.width = first.width;
    this.height = first.height;
    this.canvas = Buffer.alloc(this.width * this.height * 4);
  }

  /** Total frames the script produces over all loops. */
  get length(): number {
    return SCRIPT.reduce((n, s) => n + s.frames, 0) * this.loops;
  }

  async nextFrame(): Promise<Frame | null> {
    if (this.closed || this.loop >= this.loops) return null;
    const step = SCRIPT[this.stepIndex]!;
    const base = this.scenes.get(step.scene)!;
    const target = step.typeInto ? this.scenes.get(step.typeInto)! : null;
    const box = target ? diffBox(base, target) : null;
    // Typing reveals the typed text up to a column that advances each frame.
    const shown = box ? Math.round((box.w * (this.frameInStep + 1)) / step.frames) : 0;
    // Recompose only when the picture changes; a still screen costs no copy.
    const key = `${step.scene}:${shown}`;
    if (key !== this.composed) {
      this.canvas.set(base.data.subarray(0, this.canvas.length));
      if (target && box) {
        for (let y = box.y; y < box.y + box.h; y++) {
          const at = (y * this.width + box.x) * 4;
          this.canvas.set(target.data.subarray(at, at + shown * 4), at);
        }
      }
      this.composed = key;
    }
    const clock = () => performance.timeOrigin + performance.now();
    this.start ??= clock();
    if (this.realtime) {
      const wait = this.start + (this.produced * 1000) / this.fps - clock();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    // The capture time is when the frame was produced, as a real capture would stamp it.
    const timestamp = clock();
    this.produced++;
    if (++this.frameInStep >= step.frames) {
      this.frameInStep = 0;
      if (++this.stepIndex >= SCRIPT.length) {
        this.stepIndex = 0;
        this.loop++;
      }
    }
    return { data: this.canvas, width: this.width, height: this.height, stride: this.width * 4, timestamp };
  }

  close(): void {
    this.closed = true;
  }
}

const diffBoxes = new WeakMap<Frame, Map<Frame, Rect | null>>();

/** Bounding box of the pixels that differ between two same-size packed frames (cached per pair). */
export function diffBox(a: Frame, b: Frame): Rect | null {
  let byB = diffBoxes.get(a);
  if (!byB) diffBoxes.set(a, (byB = new Map()));
  if (byB.has(b)) return byB.get(b)!;
  let x0 = a.width, y0 = a.height, x1 = -1, y1 = -1;
  const row = a.width * 4;
  for (let y = 0; y < a.height; y++) {
    const ra = a.data.subarray(y * row, (y + 1) * row);
    const rb = b.data.subarray(y * row, (y + 1) * row);
    if (Buffer.compare(ra, rb) === 0) continue;  // memcmp per row; columns only on differing rows
    y0 = Math.min(y0, y);
    y1 = y;
    for (let x = 0; x < a.width; x++) {
      const i = x * 4;
      if (ra[i] !== rb[i] || ra[i + 1] !== rb[i + 1] || ra[i + 2] !== rb[i + 2]) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
      }
    }
  }
  const box = x1 < 0 ? null : { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
  byB.set(b, box);
  return box;
}
