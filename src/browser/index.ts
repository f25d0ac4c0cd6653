/**
 * tilecast browser viewer (ES module): `mountViewer(container, { url })`.
 * Bundled with its dependencies (protocol, op-stream decoder, pako) into
 * dist/browser/tilecast-viewer.js by scripts/build-viewer.js.
 */
export { TilecastViewer, mountViewer } from './viewer';
export type { ViewerOptions } from './viewer';
export type { ScreenState, ViewerState, ViewerStatsSnapshot } from './viewerTypes';
export { linkQuality } from './viewerOverlay';
export type { ViewerAudio, ViewerAudioOptions, ViewerAudioStats } from './audio/viewerAudio';
// The decoder on its own, for embedders that render elsewhere (and the decode benchmark).
export { OpStreamDecoder } from '../codec/opStreamDecoder';
export { ImageOpDecoder } from './imageOps';
