/**
 * Loads the native addon: the prebuilt binary shipped in the package
 * (prebuilds/<platform>-<arch>/, node-gyp-build's layout) or a local node-gyp
 * build. Every path tried is listed in the error, so a broken install says
 * exactly where it looked.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import nodeGypBuild from 'node-gyp-build';
import { ErrorCodes, TilecastError } from '../errors';
import type { OpCounts } from '../codec/opCounts';

export interface NativeEncodeResult {
  stream: Buffer;
  images: Buffer;
  opCount: number;
  keyframe: boolean;
  copies: Uint32Array;
  rects: Uint32Array;
  lossyRects: Uint32Array;
  stats: {
    ops: OpCounts;
    pixels: OpCounts;
    rawBytes: number;
  };
}
export interface NativeEncodeOptions {
  lossyMask?: Uint8Array;
  quality?: number;
  subsampling444?: boolean;
  optimizeHuffman?: boolean;
}
export interface NativeViewerEncodeOptions extends NativeEncodeOptions {
  detectMoves?: boolean;
  refine?: Uint32Array;
  generation?: number;
  complete?: boolean;
  paletteDiff?: boolean;
  predicted?: boolean;
  cacheRuns?: boolean;
}
export interface NativeScreenStore {
  count(): number;
  memoryBytes(): number;
}

export interface NativeChangeDetector {
  detect(pixels: Uint8Array, stride: number): Promise<Uint32Array>;
  detectSync(pixels: Uint8Array, stride: number): Uint32Array;
  reset(): void;
}
export interface NativeTileEncoder {
  encode(pixels: Uint8Array, width: number, height: number, stride: number, rects: Uint32Array,
    copies: Uint32Array, keyframe: boolean, options?: NativeEncodeOptions): Promise<NativeEncodeResult>;
  encodeSync(pixels: Uint8Array, width: number, height: number, stride: number, rects: Uint32Array,
    copies: Uint32Array, keyframe: boolean, options?: NativeEncodeOptions): NativeEncodeResult;
}
export interface NativeViewerEncoder {
  encode(pixels: Uint8Array, width: number, height: number, stride: number, damage: Uint32Array,
    keyframe: boolean, options?: NativeViewerEncodeOptions): Promise<NativeEncodeResult & { lossyTileCount: number }>;
  encodeSync(pixels: Uint8Array, width: number, height: number, stride: number, damage: Uint32Array,
    keyframe: boolean, options?: NativeViewerEncodeOptions): NativeEncodeResult & { lossyTileCount: number };
  lossyTiles(): Uint32Array;
  release(): void;
  memoryBytes(): number;
  setCacheBudget(bytes: number): void;
  takeCache(): ParkedCache | null;
  resumeCache(parked: ParkedCache, viewerNextId: number): { nextId: number; ranges: Uint32Array } | null;
}
/** A content cache mirror taken from a viewer's encoder when its connection ended (opaque; native memory). */
export interface ParkedCache {
  readonly __parkedCache: never;
}
export interface NativeTileDecoder {
  apply(fb: Uint8Array, width: number, height: number, stream: Uint8Array, opCount: number,
    keyframe: boolean, images?: Uint8Array): Promise<{ ops: OpCounts }>;
  applySync(fb: Uint8Array, width: number, height: number, stream: Uint8Array, opCount: number,
    keyframe: boolean, images?: Uint8Array): { ops: OpCounts };
  setCacheBudget(bytes: number): void;
  cacheInfo(): NativeCacheInfo;
  keepCache(budget: number, nextId: number, ranges: Uint32Array): void;
}
export interface NativeCacheInfo {
  budget: number;
  usedBytes: number;
  entries: number;
  nextId: number;
}

/** What a capture backend offers (X11: MIT-SHM, XDamage, XFixes cursor, RandR events). */
export interface NativeCaptureFeatures {
  sharedMemory: boolean;
  damage: boolean;
  cursor: boolean;
  resizeEvents: boolean;
}
export type NativeX11Features = NativeCaptureFeatures;
export interface NativeCapturedFrame {
  /** The native screen mirror; rewritten only while next() is pending. */
  data: Buffer;
  width: number;
  height: number;
  stride: number;
  ageMs: number;
  /** Rects grabbed afresh (x, y, w, h)*; empty when only the cursor changed. */
  damage: Uint32Array;
  resized: boolean;
  /** Time the capture thread spent grabbing these pixels. */
  grabMs: number;
  cursor: {
    x: number;
    y: number;
    visible: boolean;
    moved: boolean;
    shape?: { width: number; height: number; hotX: number; hotY: number; pixels: Buffer };
  };
}
export interface NativeCaptureOpened {
  width: number;
  height: number;
  features: NativeCaptureFeatures;
  /** 'x11', 'dxgi' or 'gdi'. */
  backend: string;
  /** Why the preferred backend was not used (Windows: why DXGI fell back to GDI). */
  fallbackReason?: string;
}
/** The native capture thread with the platform's backend (NativeX11Capture or NativeWindowsCapture). */
export interface NativeCapture {
  start(): Promise<NativeCaptureOpened>;
  next(): Promise<NativeCapturedFrame | null>;
  close(): void;
}
export type NativeX11Capture = NativeCapture;
/** The platform's input injection (NativeX11Input or NativeWindowsInput); X button numbers, X keysyms. */
export interface NativeInput {
  readonly width: number;
  readonly height: number;
  move(x: number, y: number): void;
  button(button: number, down: boolean): void;
  /** False when the keysym could not be mapped to any keycode. */
  key(keysym: number, down: boolean): boolean;
  close(): void;
}

export type NativeX11Input = NativeInput;

/** A WASAPI endpoint (Windows): its id (stable), friendly name, direction, and whether it is the default of its direction. */
export interface NativeAudioEndpoint {
  id: string;
  name: string;
  render: boolean;
  isDefault: boolean;
}
/** WASAPI recording (native/audio/wasapi_capture.h): a render endpoint in loopback, or a capture endpoint. */
export interface NativeWindowsSoundCapture {
  readonly endpoint: NativeAudioEndpoint;
  readonly loopback: boolean;
  /** Chunks dropped because the JS thread fell 2 s behind. */
  readonly dropped: number;
  close(): void;
}
/** WASAPI playback of mono 48 kHz s16 into a render endpoint (native/audio/wasapi_render.h). */
export interface NativeWindowsSoundOutput {
  readonly endpoint: NativeAudioEndpoint;
  /** Queues samples; returns how many older ones were dropped to keep the delay bounded. */
  write(pcm: Int16Array): number;
  queued(): number;
  close(): void;
}

export interface NativeBinding {
  /** Builds for X11 platforms only (a Windows build has the two below instead). */
  NativeX11Capture?: new (display: string, pollIntervalMs: number, verifyIntervalMs: number) => NativeX11Capture;
  NativeX11Input?: new (display: string) => NativeX11Input;
  /** Windows builds only. */
  NativeWindowsCapture?: new (mode: 'auto' | 'dxgi' | 'gdi', monitor: number, pollIntervalMs: number, verifyIntervalMs: number) => NativeCapture;
  NativeWindowsInput?: new (monitor: number) => NativeInput;
  NativeWindowsSoundCapture?: new (device: string, channels: number, onEvent: (kind: string, a: unknown, b?: number) => void) => NativeWindowsSoundCapture;
  NativeWindowsSoundOutput?: new (device: string, onEnded: (error: { code: string; message: string }) => void) => NativeWindowsSoundOutput;
  listAudioDevices?: () => NativeAudioEndpoint[];
  /** The endpoint a user named (id, exact name, or the one name containing it); throws ERR_UNAVAILABLE listing the candidates. */
  findAudioDevice?: (query: string, want: 'render' | 'capture' | 'any') => NativeAudioEndpoint;
  NativeChangeDetector: new (width: number, height: number, tileSize: number) => NativeChangeDetector;
  NativeTileEncoder: new (tileSize: number, deflateLevel: number, maxThreads: number) => NativeTileEncoder;
  NativeViewerEncoder: new (tileSize: number, deflateLevel: number, maxThreads: number, screenStore?: NativeScreenStore) => NativeViewerEncoder;
  NativeScreenStore: new () => NativeScreenStore;
  NativeTileDecoder: new () => NativeTileDecoder;
  clearFramebuffer(fb: Uint8Array, width: number, height: number): void;
  setJpegLibraryPaths(...paths: string[]): void;
  jpegUnavailableReason(): string | null;
  simdLevel(): SimdLevel;
  detectedSimdLevel(): SimdLevel;
  setSimdLevel(level: SimdLevel): SimdLevel;
  tuneAllocator(arenas: number): string;
  codingScratch(): CodingBufferStats;
  trimCodingScratch(): void;
}

export type SimdLevel = 'scalar' | 'sse2' | 'avx2';

const root = path.join(__dirname, '..', '..');
let cached: NativeBinding | undefined;
let loadedFrom = '';
let allocatorTuning = '';

/** What the addon changed in the process's malloc at load ('' when nothing: not glibc, or TILECAST_MALLOC_TUNING=0). */
export function allocatorTuningApplied(): string {
  native();
  return allocatorTuning;
}

export function native(): NativeBinding {
  if (cached) return cached;
  const failures: string[] = [];
  for (const file of addonCandidates()) {
    try {
      cached = require(file) as NativeBinding;
      loadedFrom = file;
      cached.setJpegLibraryPaths(...turboJpegLibraries(file));
      // A host runs for days: keep glibc from hoarding freed frame-sized buffers (native/util/allocator_tuning.cc).
      if (process.env.TILECAST_MALLOC_TUNING !== '0') allocatorTuning = cached.tuneAllocator(Math.max(2, os.availableParallelism?.() ?? os.cpus().length));
      return cached;
    } catch (err) {
      failures.push(`  ${file}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new TilecastError(
    ErrorCodes.NATIVE_LOAD,
    `could not load the tilecast native addon for ${process.platform}-${process.arch} (no prebuilt binary loaded here, and no ` +
      `build from source: reinstall with a C++ compiler, python3 and make on PATH, or run \`npm run build\` in a checkout). Tried:\n` +
      (failures.length ? failures.join('\n') : `  nothing: no build/Release, build/Debug or prebuilds/${process.platform}-${process.arch} under ${root}`),
  );
}

/** The addon file in use (a prebuild under prebuilds/ or a local build under build/). */
export function nativeAddonPath(): string {
  native();
  return loadedFrom;
}

/**
 * Where the addon may be, in order: what node-gyp-build picks (a local build
 * under build/ first — a checkout or a source-build fallback — then the
 * prebuild in prebuilds/<platform>-<arch>/ matching this runtime and libc),
 * then a checkout's cross-built build/<platform>-<arch>/, then the prebuild even
 * when a local build exists, in case that build is broken.
 */
function addonCandidates(): string[] {
  const found: string[] = [];
  const add = (resolveIt: () => string) => {
    try {
      const file = resolveIt();
      if (!found.includes(file)) found.push(file);
    } catch {
      // nothing of that kind here
    }
  };
  add(() => nodeGypBuild.resolve(root));
  // Cross-built for this platform in a checkout (scripts/build-win.js makes build/win32-x64;
  // build/ is not packed). Before the prebuild, as a local build should be: a prebuild left
  // by an earlier `npm pack` would otherwise run stale code in the Windows tests under Wine.
  const cross = path.join(root, 'build', `${process.platform}-${process.arch}`, 'tilecast.node');
  if (fs.existsSync(cross) && !found.includes(cross)) found.push(cross);
  add(() => prebuildIn(root));
  return found;
}

/** The prebuild node-gyp-build would pick ignoring build/ (its own rules, without PREBUILDS_ONLY, which it reads once). */
function prebuildIn(dir: string): string {
  const tuples = readdir(path.join(dir, 'prebuilds')).map(nodeGypBuild.parseTuple);
  const tuple = tuples.filter(nodeGypBuild.matchTuple(process.platform, process.arch)).sort(nodeGypBuild.compareTuples)[0];
  if (!tuple) throw new Error('no prebuild for this platform');
  const tags = readdir(path.join(dir, 'prebuilds', tuple.name)).map(nodeGypBuild.parseTags);
  const runtime = 'node';
  const best = tags.filter(nodeGypBuild.matchTags(runtime, process.versions.modules)).sort(nodeGypBuild.compareTags(runtime))[0];
  if (!best) throw new Error('no prebuild for this runtime');
  return path.join(dir, 'prebuilds', tuple.name, best.file);
}

function readdir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * libturbojpeg (libjpeg-turbo 3, the TurboJPEG 3 API), tried in order; the
 * native side tries the system's libturbojpeg.so.0 last and, if none loads,
 * reports "JPEG unavailable" and everything is sent lossless. The prebuilds
 * ship the library beside the addon (scripts/prebuild.js); a source build uses
 * the prebuild's copy when the package has one for this platform, and in a
 * checkout the @julusian/jpeg-turbo devDependency's. Loaded lazily, on the
 * first JPEG.
 */
function turboJpegLibraries(addon: string): string[] {
  // Windows: a turbojpeg.dll beside the addon (else node.exe's folder or System32, never PATH: jpeg_lib.cc).
  if (process.platform === 'win32') {
    const dll = path.join(path.dirname(addon), 'turbojpeg.dll');
    return fs.existsSync(dll) ? [dll] : [];
  }
  if (process.platform !== 'linux') return [];
  const files = [
    path.join(path.dirname(addon), 'libturbojpeg.so.0'),
    path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'libturbojpeg.so.0'),
  ];
  try {
    const dir = path.dirname(require.resolve('@julusian/jpeg-turbo/package.json'));
    files.push(path.join(dir, 'prebuilds', `jpeg-turbo-linux-${process.arch}`, 'libturbojpeg.so.0'));
  } catch {
    // not a checkout with dev dependencies: fine
  }
  return [...new Set(files)].filter((file) => fs.existsSync(file));
}

/** null when the lossy (JPEG) path works here, else the reason it does not. */
export function jpegUnavailableReason(): string | null {
  return native().jpegUnavailableReason();
}

/**
 * The coding buffers every encode works in (the bands' op bytes, a large keyframe's gathered ops,
 * the LZ coders' tables): one pool for the process, leased per encode, not kept per viewer. A set is
 * kept between encodes (at most max(UV_THREADPOOL_SIZE or 4, cores) sets) so the next keyframe does
 * not fault megabytes of fresh pages in; a 1080p keyframe leaves ~5-6 MB in its set. Beside them,
 * the pixels of the hosts' content cache mirrors, which viewers holding the same contents share.
 */
export interface CodingBufferStats {
  /** Sets kept between encodes, and the bytes they hold. */
  idleSets: number;
  idleBytes: number;
  /** Encodes running now (each holds a set). */
  leasedSets: number;
  /** Sets made since the process began (one is made when none is idle). */
  setsMade: number;
  /** Cache mirrors' pixel blocks held (each once, however many viewers hold it), and their bytes. */
  cacheBlocks: number;
  cacheBytes: number;
  /**
   * Memory mapped for all content cache entries in this process (host mirrors and decoders; kept
   * apart from malloc's heaps), and the part of it with no entry in use, kept for the next keyframe
   * (at most 16 MiB; trimCodingBuffers() gives it back).
   */
  cacheMappedBytes: number;
  cacheSpareBytes: number;
}

/** The process's coding buffers and shared cache pixels, now. */
export function codingBufferStats(): CodingBufferStats {
  return native().codingScratch();
}

/** Frees the idle coding buffer sets and the cache's spare buffers (a host that wants the memory back; later encodes make new ones). */
export function trimCodingBuffers(): void {
  native().trimCodingScratch();
}

/** The SIMD level the native kernels use now (TILECAST_SIMD=scalar|sse2|avx2 caps it). */
export function simdLevel(): SimdLevel {
  return native().simdLevel();
}
/** The best level this CPU supports. */
export function detectedSimdLevel(): SimdLevel {
  return native().detectedSimdLevel();
}
/** Forces a level (capped at what the CPU has); for tests and benchmarks. Returns the level in force. */
export function setSimdLevel(level: SimdLevel): SimdLevel {
  return native().setSimdLevel(level);
}
