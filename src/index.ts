/**
 * tilecast: a screen-streaming engine for Node.js.
 *
 *   FrameSource -> ChangeDetector -> TileEncoder -> protocol -> TileDecoder -> framebuffer
 *
 * ScreenEncoder / ScreenDecoder bundle those stages for one connection.
 */
export { TilecastError, ErrorCodes } from './errors';
export type { ErrorCode } from './errors';
export type { Frame, Rect, CopyRect } from './frame';
export { ChangeDetector, DEFAULT_TILE_SIZE, MIN_TILE_SIZE, MAX_TILE_SIZE } from './detect/changeDetector';
export type { ChangeDetectorOptions } from './detect/changeDetector';
export { TileEncoder } from './codec/tileEncoder';
export type { TileEncoderOptions, EncodeOptions, EncodedRects, LossyOptions } from './codec/tileEncoder';
export { LossyPolicy, refineBudget, DEFAULT_QUALITIES } from './host/lossyPolicy';
export type { LossyPolicyOptions } from './host/lossyPolicy';
export { TileDecoder } from './codec/tileDecoder';
export { ScreenEncoder } from './host/screenEncoder';
export type { EncodedFrame } from './host/screenEncoder';
export { ScreenDecoder } from './client/screenDecoder';
export type { CursorState, HandledMessage } from './client/screenDecoder';
export { encodePng } from './client/png';
export type { FrameSource } from './source/frameSource';
export { SceneSource, loadScene, diffBox } from './source/sceneSource';
export type { SceneName, SceneSourceOptions } from './source/sceneSource';
export { readFrameFile, writeFrameFile } from './source/frameFile';
export { simdLevel, detectedSimdLevel, setSimdLevel, jpegUnavailableReason } from './native/binding';
export type { SimdLevel, OpCounts } from './native/binding';
export * as protocol from './protocol/index';
export { createHost, Host } from './host/host';
export type { HostOptions, AuthorizeHook, AuthorizeRequest, AuditEvent, InputEvent } from './host/host';
export type { ViewerSession, ViewerStats, AckSample } from './host/viewerSession';
export { FlowController } from './host/flowControl';
export type { FlowControlOptions, FlowStats } from './host/flowControl';
export { ViewerClient, connectViewer } from './client/viewerClient';
export type { ViewerClientOptions, ViewerUpdate } from './client/viewerClient';
export { LinkEmulator } from './emulator/linkEmulator';
export type { LinkEmulatorOptions, LinkDirection } from './emulator/linkEmulator';
export { DeliveryTrace } from './emulator/deliveryTrace';
export { PushSource } from './source/pushSource';
export { X11Source } from './source/x11Source';
export type { X11SourceOptions } from './source/x11Source';
export type { CursorShape, CursorUpdate } from './frame';
export { X11InputSink } from './input/inputSink';
export type { InputSink, PointerButton } from './input/inputSink';
export { InputRouter, WHEEL_PIXELS_PER_CLICK } from './input/inputRouter';
export { keysymFor, keysymForCodePoint } from './input/keysyms';
export { viewerPage, viewerAssetsDir } from './host/viewerPage';
export { OpStreamDecoder, writeImage } from './codec/opStreamDecoder';
export type { PendingImage, DecodedUpdate } from './codec/opStreamDecoder';
export { ReplaySource, probeRecording } from './source/replaySource';
export type { ReplaySourceOptions, RecordingInfo } from './source/replaySource';
