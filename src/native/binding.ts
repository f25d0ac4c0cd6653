/**
 * Loads the native addon built by node-gyp. Every path tried is listed in the
 * error, so a broken install says exactly where it looked.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
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
}
export interface NativeTileDecoder {
  apply(fb: Uint8Array, width: number, height: number, stream: Uint8Array, opCount: number,
    keyframe: boolean, images?: Uint8Array): Promise<{ ops: OpCounts }>;
  applySync(fb: Uint8Array, width: number, height: number, stream: Uint8Array, opCount: number,
    keyframe: boolean, images?: Uint8Array): { ops: OpCounts };
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

export interface NativeBinding {
  /** Builds for X11 platforms only (a Windows build has the two below instead). */
  NativeX11Capture?: new (display: string, pollIntervalMs: number, verifyIntervalMs: number) => NativeX11Capture;
  NativeX11Input?: new (display: string) => NativeX11Input;
  /** Windows builds only. */
  NativeWindowsCapture?: new (mode: 'auto' | 'dxgi' | 'gdi', monitor: number, pollIntervalMs: number, verifyIntervalMs: number) => NativeCapture;
  NativeWindowsInput?: new (monitor: number) => NativeInput;
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
}

export type SimdLevel = 'scalar' | 'sse2' | 'avx2';

let cached: NativeBinding | undefined;
let allocatorTuning = '';

/** What the addon changed in the process's malloc at load ('' when nothing: not glibc, or TILECAST_MALLOC_TUNING=0). */
export function allocatorTuningApplied(): string {
  native();
  return allocatorTuning;
}

export function native(): NativeBinding {
  if (cached) return cached;
  const root = path.join(__dirname, '..', '..');
  const candidates = [
    path.join(root, 'build', 'Release', 'tilecast.node'),
    path.join(root, 'build', 'Debug', 'tilecast.node'),
    // Cross-built for this platform (scripts/build-win.js makes build/win32-x64).
    path.join(root, 'build', `${process.platform}-${process.arch}`, 'tilecast.node'),
  ];
  const failures: string[] = [];
  for (const file of candidates) {
    try {
      cached = require(file) as NativeBinding;
      cached.setJpegLibraryPaths(...turboJpegLibraries(path.dirname(file)));
      // A host runs for days: keep glibc from hoarding freed frame-sized buffers (native/util/allocator_tuning.cc).
      if (process.env.TILECAST_MALLOC_TUNING !== '0') allocatorTuning = cached.tuneAllocator(Math.max(2, os.availableParallelism?.() ?? os.cpus().length));
      return cached;
    } catch (err) {
      failures.push(`  ${file}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new TilecastError(
    ErrorCodes.NATIVE_LOAD,
    `could not load the tilecast native addon (run \`npm install\` or \`npm run build\`). Tried:\n${failures.join('\n')}`,
  );
}

/**
 * libturbojpeg as shipped prebuilt in the @julusian/jpeg-turbo npm package
 * (libjpeg-turbo with its SIMD kernels): the glibc and the musl builds for this
 * CPU, in that order (the one for the other libc fails to load and the native
 * side moves on; it tries the system's libturbojpeg.so.0 last). Only the Linux
 * builds ship the library as its own file: on Windows a turbojpeg.dll beside the
 * addon is used (else the one on the DLL search path, else JPEG is unavailable).
 * Loaded lazily, on the first JPEG.
 */
function turboJpegLibraries(addonDir: string): string[] {
  if (process.platform === 'win32') {
    const dll = path.join(addonDir, 'turbojpeg.dll');
    return fs.existsSync(dll) ? [dll] : [];
  }
  if (process.platform !== 'linux') return [];
  let dir: string;
  try {
    dir = path.dirname(require.resolve('@julusian/jpeg-turbo/package.json'));
  } catch {
    return [];
  }
  return ['', '-musl']
    .map((libc) => path.join(dir, 'prebuilds', `jpeg-turbo-linux-${process.arch}${libc}`, 'libturbojpeg.so.0'))
    .filter((file) => fs.existsSync(file));
}

/** null when the lossy (JPEG) path works here, else the reason it does not. */
export function jpegUnavailableReason(): string | null {
  return native().jpegUnavailableReason();
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
