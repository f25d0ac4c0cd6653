/**
 * Windows sound through WASAPI (native/audio/, docs/capture-backends.md
 * "Windows: WASAPI"): the endpoints, recording for SoundCapture's thread, and
 * WindowsMicrophone, the viewer's voice played into a virtual audio cable.
 *
 * Windows has no user-mode way to add a microphone. A virtual audio cable
 * driver (VB-CABLE, Virtual Audio Cable, or one the deployment ships as
 * "tilecast microphone") has a render endpoint whose sound comes out of its
 * capture endpoint; the host plays the voice into the first, and the PC's
 * meeting app selects the second as its microphone.
 */
import { ErrorCodes, TilecastError } from '../errors';
import { NativeAudioEndpoint, NativeWindowsSoundOutput, native } from '../native/binding';

export type AudioEndpoint = NativeAudioEndpoint;

/** Render endpoints taken as a virtual microphone's input when none is named, in this order (case-insensitive parts of the name). */
export const VIRTUAL_CABLE_INPUTS = ['tilecast microphone', 'CABLE Input', 'Virtual Audio Cable', 'VoiceMeeter Input'] as const;

function nativeAudio() {
  if (process.platform !== 'win32') throw new TilecastError(ErrorCodes.UNAVAILABLE, 'WASAPI sound is Windows only');
  const n = native();
  if (!n.listAudioDevices || !n.findAudioDevice || !n.NativeWindowsSoundCapture || !n.NativeWindowsSoundOutput) {
    throw new TilecastError(ErrorCodes.UNAVAILABLE, 'this build of the native addon has no WASAPI sound (rebuild it)');
  }
  return { list: n.listAudioDevices, find: n.findAudioDevice, Capture: n.NativeWindowsSoundCapture, Output: n.NativeWindowsSoundOutput };
}

/** Every active sound endpoint: outputs (render) and inputs (capture). Windows only. */
export function listAudioDevices(): AudioEndpoint[] {
  return nativeAudio().list();
}

/** The render endpoint a virtual microphone plays into: `device` (id or part of the name) if given, else the first known virtual cable; null with the reason when there is none. */
export function findMicrophoneOutput(device?: string): { endpoint: AudioEndpoint | null; reason: string | null } {
  try {
    const { list, find } = nativeAudio();
    // A named device: the native matcher, the same one recording uses (id, exact name, or the one name containing it).
    if (device) return { endpoint: find(device, 'render'), reason: null };
    const outputs = list().filter((e) => e.render);
    for (const part of VIRTUAL_CABLE_INPUTS) {
      const found = outputs.find((e) => e.name.toLowerCase().includes(part.toLowerCase()));
      if (found) return { endpoint: found, reason: null };
    }
  } catch (err) {
    return { endpoint: null, reason: (err as Error).message };
  }
  return { endpoint: null, reason: 'no virtual microphone on this PC: install a virtual audio cable driver (e.g. VB-CABLE) or name its input in HostAudioOptions.microphoneDevice' };
}

export interface WasapiRecording {
  /** The endpoint's name, with "(loopback)" when it is an output being recorded. */
  device: string;
  stop(): void;
}

/**
 * Records `device` ('' = the default output, in loopback) as s16 48 kHz PCM
 * chunks; `pcm` gets each with when its last sample was captured (from the
 * packet's QPC stamp: performance.timeOrigin-based ms). Throws ERR_UNAVAILABLE
 * with WASAPI's reason. Runs on the calling thread's event loop (the sound
 * capture worker's); the samples come from a native MMCSS thread.
 */
export function recordWasapi(device: string, channels: number, on: { pcm(chunk: Buffer, capturedAt: number): void; device(name: string): void; end(reason: string): void }): WasapiRecording {
  const { Capture } = nativeAudio();
  const label = (e: AudioEndpoint) => (e.render ? `${e.name} (loopback)` : e.name);
  let stopped = false;
  const capture = new Capture(device, channels, (kind, a, b) => {
    if (stopped) return;
    if (kind === 'chunk') on.pcm(a as Buffer, performance.timeOrigin + performance.now() - (b ?? 0));
    else if (kind === 'reopened') on.device(label(a as AudioEndpoint));
    else if (kind === 'ended') {
      stopped = true;
      capture.close();
      on.end((a as { message: string }).message);
    }
  });
  return {
    device: label(capture.endpoint),
    stop() {
      if (stopped) return;
      stopped = true;
      capture.close();
    },
  };
}

/**
 * The viewer's microphone on Windows: mono 48 kHz PCM played into a virtual
 * cable's input (findMicrophoneOutput). The same surface as the Pulse
 * VirtualMicrophone, so HostAudio uses either.
 */
export class WindowsMicrophone {
  private output: NativeWindowsSoundOutput | null = null;
  private failure: string | null = null;
  sourceName = '';
  bytesWritten = 0;
  samplesDropped = 0;

  constructor(private readonly options: { device?: string } = {}) {}

  async start(): Promise<void> {
    const { endpoint, reason } = findMicrophoneOutput(this.options.device);
    if (!endpoint) throw new TilecastError(ErrorCodes.UNAVAILABLE, reason!);
    const { Output } = nativeAudio();
    this.output = new Output(endpoint.id, (err) => (this.failure = `sound output ended: ${err.message}`));
    this.sourceName = this.output.endpoint.name;
  }

  /** Why the output stopped on its own (null while it plays). */
  get failed(): string | null {
    return this.failure;
  }

  /** One frame of mono s16 PCM at 48 kHz. */
  write(pcm: Int16Array): void {
    if (!this.output || this.failure) return;
    this.samplesDropped += this.output.write(pcm);
    this.bytesWritten += pcm.byteLength;
  }

  async stop(): Promise<void> {
    this.output?.close();
    this.output = null;
  }
}
