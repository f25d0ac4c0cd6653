/**
 * tilecast browser viewer (ES module): `mountViewer(container, { url })`.
 * Bundled with its dependencies (protocol, op-stream decoder, pako) into
 * dist/browser/tilecast-viewer.js by scripts/build-viewer.js.
 */
export { TilecastViewer, mountViewer } from './viewer';
import { runDecodeWorker } from './screenFrames';

// Loaded as the viewer's decode Worker (the same file; see screenFrames.ts): serve that instead.
declare const WorkerGlobalScope: { new (): unknown } | undefined;
if (typeof WorkerGlobalScope !== 'undefined' && globalThis instanceof WorkerGlobalScope) runDecodeWorker(globalThis as unknown as Parameters<typeof runDecodeWorker>[0]);
export type { ViewerOptions } from './viewer';
export type { ScreenState, ViewerState, ViewerStatsSnapshot } from './viewerTypes';
export { linkQuality } from './viewerOverlay';
export { pickLang } from './i18n';
export type { Lang } from './i18n';
export type { InputMode } from './touchInput';
export type { ViewerAudio, ViewerAudioOptions, ViewerAudioStats } from './audio/viewerAudio';
// The decoder on its own, for embedders that render elsewhere (and the decode benchmark).
export { OpStreamDecoder } from '../codec/opStreamDecoder';
export { ImageOpDecoder } from './imageOps';
// Where updates are decoded (the main-thread blocking benchmark compares the two).
export { LocalFrames, WorkerFrames } from './screenFrames';
