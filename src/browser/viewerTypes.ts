/**
 * Types shared by the browser viewer and its overlay (their own file so
 * viewer.ts and viewerOverlay.ts do not import each other).
 */

export type ViewerState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** What the host's screen source is doing (SCREEN_STATE): live, unavailable (retrying) or ended. */
export type ScreenState = 'live' | 'unavailable' | 'ended';

export interface ViewerStatsSnapshot {
  state: ViewerState;
  /** The host's screen source, as its last SCREEN_STATE said ('live' on a new connection). */
  screenState: ScreenState;
  width: number;
  height: number;
  updates: number;
  /** Updates painted (and acked). */
  painted: number;
  /** Canvas paints that showed updates: fewer than `painted` when updates arriving together were painted at once. */
  paints: number;
  bytes: number;
  rttMs: number | null;
  kbps: number;
  /** Updates painted in the last second (0 while the screen is still). */
  fps: number;
  /** What those updates used: 'jpeg' when any carried JPEG (the rest of the screen is lossless), 'idle' when there were none. */
  codec: 'idle' | 'lossless' | 'jpeg';
  lastError: string | null;
  connections: number;
  /** Where updates are decoded: a Worker, or the page's main thread. */
  decoder: 'worker' | 'main';
  /** Where the canvas is drawn: by the decode Worker (an OffscreenCanvas), or by the page. */
  drawnIn: 'worker' | 'main';
  /** Milliseconds from handing updates to the decoder to their pixels being ready, total (for the decode benchmark). */
  decodeMs: number;
  decodedPixels: number;
}
