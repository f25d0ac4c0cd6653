/**
 * Types shared by the browser viewer and its overlay (their own file so
 * viewer.ts and viewerOverlay.ts do not import each other).
 */

export type ViewerState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface ViewerStatsSnapshot {
  state: ViewerState;
  width: number;
  height: number;
  updates: number;
  painted: number;
  bytes: number;
  rttMs: number | null;
  kbps: number;
  fps: number;
  lastError: string | null;
  connections: number;
  /** Milliseconds spent decoding, total (for the decode benchmark). */
  decodeMs: number;
  decodedPixels: number;
}
