/**
 * tilecast: a screen-streaming engine for Node.js (the library entry).
 *
 *   FrameSource ─► ChangeDetector ─► ViewerEncoder (per viewer) ─► protocol ─► transport ─► decoder ─► framebuffer
 *
 * createHost serves a FrameSource to viewers; connectViewer is the Node viewer.
 * Also: 'tilecast/protocol' (the wire format, pure and browser-safe) and
 * 'tilecast/testing' (link emulator, scripted and recorded sources for tests,
 * demos and benchmarks). docs/architecture.md says where each concern lives.
 */
export { TilecastError, ErrorCodes } from './errors';
export type { ErrorCode } from './errors';
export type { Frame, Rect, CopyRect, CursorShape, CursorUpdate } from './frame';
export { DEFAULT_TILE_SIZE, MIN_TILE_SIZE, MAX_TILE_SIZE } from './tileGrid';
export type { OpCounts } from './codec/opCounts';

// Capture: frame sources.
export type { FrameSource } from './source/frameSource';
export { PushSource } from './source/pushSource';
export { NativeCaptureSource } from './source/nativeCaptureSource';
export { X11Source } from './source/x11Source';
export type { X11SourceOptions } from './source/x11Source';
export { WindowsSource } from './source/windowsSource';
export type { WindowsSourceOptions } from './source/windowsSource';

// The pipeline's stages, usable on their own.
export { ChangeDetector } from './detect/changeDetector';
export type { ChangeDetectorOptions } from './detect/changeDetector';
export { TileEncoder } from './codec/tileEncoder';
export type { TileEncoderOptions, EncodeOptions, EncodedRects, LossyOptions } from './codec/tileEncoder';
export { TileDecoder } from './codec/tileDecoder';
export { ScreenStore } from './codec/screenStore';
export { OpStreamDecoder, writeImage } from './codec/opStreamDecoder';
export type { PendingImage, DecodedUpdate } from './codec/opStreamDecoder';
export { ViewerEncoder } from './host/viewerEncoder';
export type { ViewerEncoderOptions, LinkState, HeldFrame, SentUpdate, EncoderStep, ViewerQuality } from './host/viewerEncoder';
export type { LossyPolicyOptions } from './host/lossyPolicy';
export { ScreenDecoder } from './client/screenDecoder';
export type { CursorState, HandledMessage } from './client/screenDecoder';
export { encodePng } from './client/png';
export * as protocol from './protocol/index';

// Host and viewer over WebSocket.
export { createHost, Host } from './host/host';
export type { HostOptions, HostEvents, AuthorizeHook, AuthorizeRequest, AuthorizeVerdict, AuditEvent, InputEvent, AckEvent, ViewerLeftEvent } from './host/host';
export type { ViewerSession, ViewerStats, AckSample } from './host/viewerSession';
export type { FlowControlOptions, FlowStats } from './host/flowControl';
export type { ScreenStateEvent } from './host/captureLoop';
export { viewerPage, viewerAssetsDir } from './host/viewerPage';
export { ViewerClient, connectViewer, MICROPHONE_FORMAT } from './client/viewerClient';
export type { ViewerClientOptions, ViewerClientEvents, ViewerUpdate, ScreenStateInfo, ViewerAudioFrame, ViewerPcmFrame } from './client/viewerClient';

// Audio: Opus (libopus as WebAssembly), the receiver that conceals lost frames, the host's audio options.
export { OpusEncoder, OpusDecoder, opusUnavailableReason, OPUS_FRAME_MS } from './audio/opus';
export type { OpusEncoderOptions } from './audio/opus';
export { AudioReceiver } from './audio/audioReceiver';
export { JitterBuffer } from './audio/jitterBuffer';
export { PixelLoadMeter } from './audio/pixelLoad';
export type { JitterBufferOptions, JitterStats } from './audio/jitterBuffer';
export type { PcmFrame } from './audio/audioReceiver';
export { listAudioDevices, findMicrophoneOutput, VIRTUAL_CABLE_INPUTS } from './audio/wasapi';
export type { AudioEndpoint } from './audio/wasapi';
export type { HostAudioOptions, HostAudioStats, AudioAuditEvent } from './host/hostAudio';
export type { AttachedViewer } from './host/host';

// Through a relay (gateway): hosts dial out, viewers connect to the relay.
export { Relay } from './relay/relay';
export type { RelayOptions, RelayEvents, RelayHostInfo, RelayAuditEvent, HostCredentials, ViewerRequest, ViewerGrant, ViewerVerdict } from './relay/relay';
export type { RelaySessionInfo, RelaySessionStats, RelaySessionEnd } from './relay/relaySession';
export { RelayLink, dialRelay } from './relay/dialRelay';
export type { DialRelayOptions, RelayLinkEvents, RelayLinkState } from './relay/dialRelay';
export { RelayPaths, RelayHeaders } from './relay/relayProtocol';
export { RELAY_NODE_FLAGS } from './relay/nodeFlags';

// Input injection.
export { WindowsInputSink, X11InputSink } from './input/inputSink';
export type { InputSink, PointerButton } from './input/inputSink';
export { InputRouter, WHEEL_PIXELS_PER_CLICK } from './input/inputRouter';
export type { InputEventSource, ViewerInputEvent } from './input/inputRouter';
export { keysymFor, keysymForCodePoint } from './input/keysyms';

// The native addon.
export { simdLevel, detectedSimdLevel, setSimdLevel, jpegUnavailableReason, codingBufferStats, trimCodingBuffers } from './native/binding';
export type { CodingBufferStats } from './native/binding';
export type { SimdLevel } from './native/binding';
