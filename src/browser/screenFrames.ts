/**
 * Where the browser viewer decodes: the framebuffer and its decoders
 * (FramebufferDecoder), run in a Worker (WorkerFrames, the default) or on the
 * page's main thread (LocalFrames: when Workers cannot start, or asked for).
 *
 * Why a Worker: a full-screen TRUECOLOR or JPEG update at 1080p takes the TS
 * decoder 25–40 ms on a desktop and several times that on a low-end phone
 * (bench/browser.js), longer than a frame: on the main thread it would stall
 * touch, scrolling and typing. Where the browser has OffscreenCanvas the Worker
 * also draws the canvas (when the page asks, or at once after the newest of a
 * burst); elsewhere it sends back the pixels of each update's dirty rect
 * (transferred, not copied) and the page puts them on the canvas.
 *
 * Both keep the decoder's contract: updates in order, one framebuffer, a
 * failed update rejects (the viewer asks for a keyframe). The Worker's queue
 * keeps that order by itself (`pipelined`), so the page need not wait for each
 * update: whenever the Worker has applied what it was handed, the page hands it
 * every update that came meanwhile, in one message. A burst after an outage
 * costs one or two trips to the Worker, not one per update.
 *
 * The Worker is this same ES module (`new Worker(moduleUrl, { type: 'module' })`;
 * index.ts starts runDecodeWorker() when it finds itself in a Worker), so the
 * viewer stays one file and a CSP of `script-src 'self'` allows it.
 */
import { OpStreamDecoder } from '../codec/opStreamDecoder';
import type { UpdateMessage } from '../protocol/messages';
import { FramePacer, LATE_DRAW_PIXELS } from './framePacer';
import { ImageOpDecoder } from './imageOps';

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * What an applied update changed; `lossy`: it carried JPEG. `drawn` (only when apply() was asked to
 * draw): true, it is on the canvas with everything applied before it; false, a newer update already
 * waiting will draw it (or, if that one fails, the page's paint), or the Worker holds the draw for
 * the late part of the frame interval (FramePacer) and says 'drawn' when it is made.
 */
export interface Applied {
  dirty: Rect | null;
  lossy: boolean;
  drawn?: boolean;
}

/** Decoded updates wait for newer ones only if those are this small in all (compressed: a decode well under a millisecond). */
export const MAX_COALESCE_BYTES = 16 * 1024;

/**
 * Whether a decoded update waits for the newer ones already received behind it (a burst after a
 * link outage), to be drawn once with the newest: not behind a large update (a scroll, a video
 * frame: its decode would hold back what is ready now), nor once the oldest change not drawn has
 * waited `coalesceMs` (a backlog still shows progress). The page and the Worker decide alike.
 */
export function waitForNewer(newer: number, newerBytes: number, waitedMs: number, coalesceMs: number): boolean {
  return newer > 0 && newerBytes <= MAX_COALESCE_BYTES && waitedMs < coalesceMs;
}

/** An update's compressed size: what waitForNewer weighs. */
export const updateBytes = (u: Pick<UpdateMessage, 'stream' | 'images'>): number => u.stream.byteLength + (u.images?.byteLength ?? 0);

/** The framebuffer (RGBA, opaque) and the decoders that write it. Runs in the Worker or on the page. */
export class FramebufferDecoder {
  width = 0;
  height = 0;
  fb: Uint8ClampedArray<ArrayBuffer> = new Uint8ClampedArray(0);
  private readonly decoder = new OpStreamDecoder('rgba');
  private readonly imageOps = new ImageOpDecoder();
  /** Why there is no framebuffer: what the updates reject with. */
  private missing = 'no framebuffer';

  /** The host's CACHE_KEEP (before the RESIZE of a resumed connection, which then passes keepCache); throws ERR_PROTOCOL. */
  keepCache(cacheBytes: number, nextId: number, ranges: Uint32Array): void {
    this.decoder.keepCache(cacheBytes, nextId, ranges);
  }

  /** The next id of the content cache if it holds anything (what a reconnect's CACHE_RESUME says); null: nothing to resume. */
  get cacheNextId(): number | null {
    return this.decoder.cache.size > 0 ? this.decoder.cache.nextEntryId : null;
  }

  /**
   * A new screen size: opaque black until the keyframe; the content cache
   * agreed with the host, bytes (empty). Never throws: when the memory cannot
   * be had (a 16384×16384 screen is legal on the wire; 8K can fail on a phone)
   * there is no framebuffer and the updates that follow reject saying why, so
   * the viewer shows it. Returns whether it worked.
   */
  resize(width: number, height: number, cacheBytes: number, keepCache = false): boolean {
    // A new screen starts with an empty cache, unless the host just resumed it (CACHE_KEEP on this connection).
    if (!keepCache) this.decoder.setCacheBudget(cacheBytes);
    this.width = this.height = 0;
    this.fb = new Uint8ClampedArray(0); // the old one can go first
    try {
      const fb = new Uint8ClampedArray(width * height * 4);
      new Uint32Array(fb.buffer).fill(0xff000000);
      Object.assign(this, { width, height, fb, missing: 'no framebuffer' });
      return true;
    } catch (err) {
      this.missing = `no memory for a ${width}×${height} screen on this device (${(err as Error)?.message ?? err})`;
      return false;
    }
  }

  /** Applies one update (its JPEG ops through the platform's image decoder); rejects if it cannot be applied. */
  async apply(u: Pick<UpdateMessage, 'stream' | 'opCount' | 'keyframe' | 'images'>): Promise<Applied> {
    if (!this.width) throw new Error(this.missing);
    const fb = this.fb;
    const r = this.decoder.apply(fb, this.width, this.height, u.stream, u.opCount, u.keyframe, u.images);
    if (r.images.length) await this.imageOps.decodeInto(r.images, fb, this.width);
    return { dirty: r.dirty, lossy: r.images.length > 0 };
  }
}

/** The page's side, whichever runs the decoder. */
export interface ScreenFrames {
  /** Where updates are decoded. */
  readonly where: 'worker' | 'main';
  /** Where the canvas is drawn: by the Worker (the page's canvas handed to it as an OffscreenCanvas) or by the page. */
  readonly drawnIn: 'worker' | 'main';
  /**
   * apply() may be called again before the last call settles: the updates are applied, and settle,
   * in call order (the Worker's queue). Else the caller waits for each (images decode asynchronously).
   */
  readonly pipelined: boolean;
  /** Also sizes the canvas (opaque black until painted). `keepCache`: a CACHE_KEEP was applied on this connection (this RESIZE keeps the cache). */
  resize(width: number, height: number, cacheBytes: number, keepCache?: boolean): void;
  /**
   * Applies an update. `drawWithinMs` (the Worker draws only): draw it on the canvas as soon as it
   * is applied, unless newer ones are already waiting (waitForNewer, with this as coalesceMs), or,
   * for a large one, late in the frame interval (FramePacer); the result's `drawn` says which.
   * Without it, paint() draws.
   */
  apply(u: UpdateMessage, drawWithinMs?: number): Promise<Applied>;
  /** The host's CACHE_KEEP, in order with the updates; rejects if the cache cannot keep what it names. */
  keepCache(cacheBytes: number, nextId: number, ranges: Uint32Array): Promise<void>;
  /** The content cache's next id as of the last update applied, if it holds anything (null: nothing to resume). */
  readonly cacheNextId: number | null;
  /** Draws everything applied since the last paint; `painted` once it is on the canvas (at once, or when the Worker has drawn it). */
  paint(painted: () => void): void;
  /** The canvas's pixels as drawn (RGBA): for tests and diagnostics. */
  readCanvas(): Promise<ImageData>;
  dispose(): void;
}

type Context2D = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;

/** Puts what changed in the framebuffer on a canvas: the page's own, or the Worker's OffscreenCanvas. */
class FramebufferPainter {
  private readonly ctx: Context2D;
  private image: ImageData | null = null;
  private dirty: { x0: number; y0: number; x1: number; y1: number } | null = null;

  constructor(private readonly canvas: HTMLCanvasElement | OffscreenCanvas) {
    const ctx = canvas.getContext('2d', { alpha: false }) as Context2D | null;
    if (!ctx) throw new Error('no 2D context for the screen canvas');
    this.ctx = ctx;
  }

  /** The framebuffer was replaced (a new size, or none for want of memory): the canvas takes its size, and all of it is drawn next. */
  reset(core: FramebufferDecoder): void {
    const ok = core.width > 0;
    this.canvas.width = ok ? core.width : 1; // sizing a canvas clears it (opaque black)
    this.canvas.height = ok ? core.height : 1;
    this.image = ok ? new ImageData(core.fb, core.width, core.height) : null;
    this.dirty = ok ? { x0: 0, y0: 0, x1: core.width, y1: core.height } : null;
  }

  changed(r: Rect | null): void {
    if (!r || !this.image) return;
    const d = this.dirty;
    this.dirty = d
      ? { x0: Math.min(d.x0, r.x), y0: Math.min(d.y0, r.y), x1: Math.max(d.x1, r.x + r.w), y1: Math.max(d.y1, r.y + r.h) }
      : { x0: r.x, y0: r.y, x1: r.x + r.w, y1: r.y + r.h };
  }

  paint(): void {
    const d = this.dirty;
    if (!this.image || !d) return;
    this.ctx.putImageData(this.image, 0, 0, d.x0, d.y0, d.x1 - d.x0, d.y1 - d.y0);
    this.dirty = null;
  }

  read(): ImageData {
    return this.ctx.getImageData(0, 0, this.canvas.width, this.canvas.height);
  }
}

/** Decoding and drawing on the main thread. */
export class LocalFrames implements ScreenFrames {
  readonly where = 'main';
  readonly drawnIn = 'main';
  readonly pipelined = false;
  private readonly core = new FramebufferDecoder();
  private readonly painter: FramebufferPainter;

  constructor(canvas: HTMLCanvasElement) {
    this.painter = new FramebufferPainter(canvas);
  }

  resize(width: number, height: number, cacheBytes: number, keepCache = false): void {
    this.core.resize(width, height, cacheBytes, keepCache);
    this.painter.reset(this.core);
  }

  async keepCache(cacheBytes: number, nextId: number, ranges: Uint32Array): Promise<void> {
    this.core.keepCache(cacheBytes, nextId, ranges);
  }

  get cacheNextId(): number | null {
    return this.core.cacheNextId;
  }

  async apply(u: UpdateMessage): Promise<Applied> {
    const fb = this.core.fb;
    const r = await this.core.apply(u);
    if (fb === this.core.fb) this.painter.changed(r.dirty); // else a resize came between: all of it is drawn anyway
    return r;
  }

  paint(painted: () => void): void {
    this.painter.paint();
    painted();
  }

  async readCanvas(): Promise<ImageData> {
    return this.painter.read();
  }

  dispose(): void {}
}

/** Page → Worker. */
type ToWorker =
  | { type: 'canvas'; canvas: OffscreenCanvas }
  | { type: 'resize'; width: number; height: number; cacheBytes: number; keepCache: boolean }
  | { type: 'update'; id: number; stream: Uint8Array; opCount: number; keyframe: boolean; images?: Uint8Array; drawWithinMs?: number }
  | { type: 'keep'; id: number; cacheBytes: number; nextId: number; ranges: Uint32Array }
  | { type: 'paint'; id: number }
  | { type: 'read'; id: number };
/**
 * Worker → page: an update applied (with its dirty pixels, RGBA rows of dirty.w, when the page
 * draws), or why it failed; a paint done; the canvas read; 'drawn': what it had held (a large
 * update, FramePacer) is now on the canvas, with everything applied before it.
 */
type FromWorker =
  | { type: 'applied'; id: number; dirty: Rect | null; lossy: boolean; drawn?: boolean; pixels: Uint8ClampedArray<ArrayBuffer> | null; cacheNextId: number | null }
  | { type: 'failed'; id: number; message: string }
  | { type: 'painted'; id: number }
  | { type: 'cannotDraw'; message: string }
  | { type: 'drawn' }
  | { type: 'canvasRead'; id: number; image: ImageData };

/**
 * Decoding in a Worker. Where the browser can (OffscreenCanvas), the Worker
 * also draws: the page's canvas is handed to it, and its changes go to the
 * compositor from the Worker, without a hop to the main thread and without
 * waiting for the page's own frame (`drawInWorker` false, or no
 * OffscreenCanvas: the Worker sends the pixels back and the page draws).
 * `broken` is called (once) if the Worker cannot run, so the viewer can fall
 * back (with a new canvas, if the Worker had this one).
 */
export class WorkerFrames implements ScreenFrames {
  readonly where = 'worker';
  readonly drawnIn: 'worker' | 'main';
  readonly pipelined = true;
  private readonly worker: Worker;
  private seq = 0;
  private readonly waiting = new Map<number, { resolve(m: FromWorker): void; reject(e: Error): void }>();
  /** Drawing on the page: its context, and the pixels not drawn yet. */
  private readonly ctx: CanvasRenderingContext2D | null = null;
  private pieces: Array<{ dirty: Rect; pixels: Uint8ClampedArray<ArrayBuffer> }> = [];
  private failed = false;
  /** Posted in this task, not yet sent (post()). */
  private outbox: ToWorker[] = [];
  private outboxTransfer: Transferable[] = [];
  /** As the Worker last said (a failure empties its cache). */
  cacheNextId: number | null = null;
  /** The Worker drew what it had held: every update answered before now is on the canvas (their `drawn` was false). */
  onDrawn: (() => void) | null = null;

  constructor(moduleUrl: string, private readonly canvas: HTMLCanvasElement, drawInWorker: boolean, private readonly broken: (why: string) => void) {
    this.worker = new Worker(moduleUrl, { type: 'module', name: 'tilecast-decoder' });
    this.worker.onmessage = (e: MessageEvent<FromWorker>) => this.receive(e.data);
    this.worker.onerror = (e) => this.fail(`decoder worker: ${e.message || 'could not start'}`);
    this.worker.onmessageerror = () => this.fail('decoder worker: unreadable message');
    if (drawInWorker && typeof OffscreenCanvas === 'function' && typeof canvas.transferControlToOffscreen === 'function') {
      const offscreen = canvas.transferControlToOffscreen();
      this.post({ type: 'canvas', canvas: offscreen }, [offscreen]);
      this.drawnIn = 'worker';
    } else {
      this.ctx = canvas.getContext('2d', { alpha: false })!;
      this.drawnIn = 'main';
    }
  }

  resize(width: number, height: number, cacheBytes: number, keepCache = false): void {
    if (this.ctx) {
      this.pieces = [];
      this.canvas.width = width; // opaque black until the keyframe is drawn
      this.canvas.height = height;
    }
    this.post({ type: 'resize', width, height, cacheBytes, keepCache });
  }

  async apply(u: UpdateMessage, drawWithinMs?: number): Promise<Applied> {
    // The message's bytes move to the Worker (nothing else reads them after this).
    const transfer = [u.stream.buffer, ...(u.images ? [u.images.buffer] : [])] as ArrayBuffer[]; // flush() drops repeats
    const draw = this.ctx ? undefined : drawWithinMs; // the page draws: it paints the pieces
    const m = await this.ask({ type: 'update', id: ++this.seq, stream: u.stream, opCount: u.opCount, keyframe: u.keyframe, images: u.images, drawWithinMs: draw }, transfer);
    if (m.type !== 'applied') throw new Error(`decoder worker: ${m.type} for an update`);
    if (m.dirty && m.pixels) this.pieces.push({ dirty: m.dirty, pixels: m.pixels });
    return { dirty: m.dirty, lossy: m.lossy, drawn: m.drawn };
  }

  async keepCache(cacheBytes: number, nextId: number, ranges: Uint32Array): Promise<void> {
    await this.ask({ type: 'keep', id: ++this.seq, cacheBytes, nextId, ranges });
  }

  paint(painted: () => void): void {
    if (this.ctx) {
      for (const p of this.pieces) this.ctx.putImageData(new ImageData(p.pixels, p.dirty.w, p.dirty.h), p.dirty.x, p.dirty.y);
      this.pieces = [];
      return painted();
    }
    // A Worker that stops first has drawn nothing more: acked all the same (the viewer falls back and asks for a keyframe).
    this.ask({ type: 'paint', id: ++this.seq }).then(painted, painted);
  }

  async readCanvas(): Promise<ImageData> {
    if (this.ctx) return this.ctx.getImageData(0, 0, this.canvas.width, this.canvas.height);
    const m = await this.ask({ type: 'read', id: ++this.seq });
    if (m.type !== 'canvasRead') throw new Error(`decoder worker: ${m.type} for a read`);
    return m.image;
  }

  dispose(): void {
    this.fail('viewer closed', false);
  }

  /** Posts a message with an id; its answer resolves (a failure, or a Worker gone, rejects). */
  private ask(m: ToWorker & { id: number }, transfer: Transferable[] = []): Promise<FromWorker> {
    if (this.failed) return Promise.reject(new Error('decoder worker stopped'));
    return new Promise<FromWorker>((resolve, reject) => {
      this.waiting.set(m.id, { resolve, reject });
      this.post(m, transfer);
    });
  }

  /**
   * Messages posted in one task go to the Worker together, as one: the updates of a burst are all
   * queued there before it applies the first, so it draws only after the newest.
   */
  private post(m: ToWorker, transfer: Transferable[] = []): void {
    if (!this.outbox.length) queueMicrotask(() => this.flush());
    this.outbox.push(m);
    this.outboxTransfer.push(...transfer);
  }

  private flush(): void {
    const batch = this.outbox, transfer = this.outboxTransfer;
    this.outbox = [];
    this.outboxTransfer = [];
    if (this.failed) return;
    try {
      this.worker.postMessage(batch, [...new Set(transfer)]); // a buffer listed twice would throw
    } catch (err) {
      // Not sent: what waits for an answer would wait for ever. The viewer falls back to the main thread.
      this.fail(`decoder worker: could not post (${(err as Error)?.message ?? err})`);
    }
  }

  private receive(m: FromWorker): void {
    if (m.type === 'cannotDraw') return this.fail(`decoder worker: ${m.message}`); // the viewer falls back, with a new canvas
    if (m.type === 'drawn') return this.onDrawn?.();
    const w = this.waiting.get(m.id);
    if (!w) return;
    this.waiting.delete(m.id);
    if (m.type === 'failed') {
      this.cacheNextId = null; // the Worker's decoder empties its cache on any failure
      return w.reject(new Error(m.message));
    }
    if (m.type === 'applied') this.cacheNextId = m.cacheNextId;
    w.resolve(m);
  }

  private fail(why: string, report = true): void {
    if (this.failed) return;
    this.failed = true;
    this.worker.terminate();
    for (const w of this.waiting.values()) w.reject(new Error(why));
    this.waiting.clear();
    if (report) this.broken(why);
  }
}

/**
 * The Worker's side: applies updates in order, and draws them on the canvas
 * the page handed over (or sends back each one's dirty pixels). Every message
 * with an id gets an answer: nothing thrown here may leave the chain rejected
 * (that would skip every later message and the viewer would wait for ever).
 */
export function runDecodeWorker(scope: {
  onmessage: ((e: MessageEvent<ToWorker[]>) => void) | null;
  postMessage(m: FromWorker, transfer: Transferable[]): void;
  requestAnimationFrame?(callback: (frameTime: number) => void): unknown;
}): void {
  const core = new FramebufferDecoder();
  let painter: FramebufferPainter | null = null;
  let chain = Promise.resolve();
  // Updates received and not yet applied (what an applied one may wait for), and since when a change is not drawn.
  let queued = 0, queuedBytes = 0;
  let undrawnSince: number | null = null;
  const pacer = new FramePacer(scope.requestAnimationFrame ? (cb) => scope.requestAnimationFrame!(cb) : null);
  let held: ReturnType<typeof setTimeout> | null = null; // a large draw waiting for the late part of the frame interval
  const draw = () => {
    if (held !== null) clearTimeout(held);
    held = null;
    painter?.paint();
    undrawnSince = null;
  };
  // An update to be drawn now: a small one is (with anything held); a large one waits for the late
  // part of the frame interval (FramePacer), or goes with the one already waiting. Whether drawn now.
  const drawOrHold = (pixels: number): boolean => {
    if (held !== null && pixels > LATE_DRAW_PIXELS) return false; // drawn with the one held
    const holdMs = pacer.holdMs(pixels);
    if (holdMs === 0) return (draw(), true);
    held = setTimeout(() => {
      held = null;
      draw();
      scope.postMessage({ type: 'drawn' }, []);
    }, Math.ceil(holdMs)); // timers count whole milliseconds: never before the late part
    return false;
  };
  scope.onmessage = (e) => {
    for (const m of e.data) receive(m);
  };
  const receive = (m: ToWorker) => {
    const bytes = m.type === 'update' ? updateBytes(m) : 0;
    if (m.type === 'update') (queued++, (queuedBytes += bytes));
    // In order: an update's JPEGs finish before the next message touches the framebuffer.
    chain = chain.then(async () => {
      if (m.type === 'update') (queued--, (queuedBytes -= bytes));
      try {
        if (m.type === 'canvas') {
          try {
            return void (painter = new FramebufferPainter(m.canvas));
          } catch (err) {
            return scope.postMessage({ type: 'cannotDraw', message: (err as Error)?.message ?? String(err) }, []);
          }
        }
        if (m.type === 'resize') {
          core.resize(m.width, m.height, m.cacheBytes, m.keepCache); // a failure: the next updates say why
          return painter?.reset(core);
        }
        if (m.type === 'paint') {
          draw();
          return scope.postMessage({ type: 'painted', id: m.id }, []);
        }
        if (m.type === 'read') {
          if (!painter) throw new Error('the page draws the canvas, not this Worker');
          const image = painter.read();
          return scope.postMessage({ type: 'canvasRead', id: m.id, image }, [image.data.buffer]);
        }
        if (m.type === 'keep') {
          core.keepCache(m.cacheBytes, m.nextId, m.ranges);
          return scope.postMessage({ type: 'applied', id: m.id, dirty: null, lossy: false, pixels: null, cacheNextId: core.cacheNextId }, []);
        }
        const r = await core.apply({ stream: m.stream, opCount: m.opCount, keyframe: m.keyframe, images: m.images });
        painter?.changed(r.dirty);
        // Drawn here at once when the page asks: no second trip to the page and back before it is on the canvas.
        let drawn: boolean | undefined;
        if (painter && m.drawWithinMs !== undefined) {
          undrawnSince ??= performance.now();
          drawn = !waitForNewer(queued, queuedBytes, performance.now() - undrawnSince, m.drawWithinMs) && drawOrHold(r.dirty ? r.dirty.w * r.dirty.h : 0);
        }
        const pixels = r.dirty && !painter ? copyRect(core.fb, core.width, r.dirty) : null;
        scope.postMessage({ type: 'applied', id: m.id, dirty: r.dirty, lossy: r.lossy, drawn, pixels, cacheNextId: core.cacheNextId }, pixels ? [pixels.buffer] : []);
      } catch (err) {
        if ('id' in m) scope.postMessage({ type: 'failed', id: m.id, message: (err as Error)?.message ?? String(err) }, []);
      }
    }).catch(() => undefined);
  };
}

function copyRect(fb: Uint8ClampedArray, width: number, r: Rect): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray(r.w * r.h * 4);
  for (let y = 0; y < r.h; y++) out.set(fb.subarray(((r.y + y) * width + r.x) * 4, ((r.y + y) * width + r.x + r.w) * 4), y * r.w * 4);
  return out;
}
