/**
 * tilecast/testing: tools for tests, demos and benchmarks — not needed to
 * stream a screen. A link emulator driven by real LTE traces (Mahimahi
 * format), the scripted scene desktop (the embedded default of `npm start`),
 * recorded sessions replayed as a FrameSource, and frame files; for audio a
 * private PulseAudio server and known tones to play and find again.
 */
export { LinkEmulator } from '../emulator/linkEmulator';
export type { LinkEmulatorOptions, LinkDirection } from '../emulator/linkEmulator';
export { DeliveryTrace } from '../emulator/deliveryTrace';
export { loadLinkTraces, listLinkTraces, DEFAULT_TRACES_DIR } from '../emulator/linkTraces';
export type { LinkTraces, TraceListing } from '../emulator/linkTraces';
export { SceneSource, loadScene, diffBox } from '../source/sceneSource';
export type { SceneName, SceneSourceOptions } from '../source/sceneSource';
export { ReplaySource, probeRecording } from '../source/replaySource';
export type { ReplaySourceOptions, RecordingInfo } from '../source/replaySource';
export { readFrameFile, writeFrameFile } from '../source/frameFile';
export { OfflineSession } from './offlineSession';
export type { OfflineSessionOptions, OfflineStep } from './offlineSession';
export { seededRandom, videoFrame } from './patterns';
export { startPulseServer, play, pulseUnavailableReason, wavFile } from './pulseServer';
export type { PulseServer } from './pulseServer';
export { toneBurst, silence, firstChannel, rms, toneAmplitude, strongestTone, zeroCrossingFrequency, findTones } from './tones';
export type { TimedFrame, ToneOnset } from './tones';
