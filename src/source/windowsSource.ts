/**
 * WindowsSource: captures a Windows desktop (one monitor) on the native capture
 * thread: DXGI Desktop Duplication with its dirty rects and pointer shape, or
 * GDI (BitBlt, polled) where duplication is unavailable: a Remote Desktop
 * session, a driver without it, Wine. `backend` says which runs and
 * `fallbackReason` why DXGI was not used. Frames as NativeCaptureSource describes.
 */
import { ErrorCodes, TilecastError, checkInt, invalidArg } from '../errors';
import { NativeCapture, NativeCaptureOpened, native } from '../native/binding';
import { type CaptureTimingOptions, NativeCaptureSource } from './nativeCaptureSource';

export interface WindowsSourceOptions extends CaptureTimingOptions {
  /** 'auto' (default): DXGI, else GDI; 'dxgi' or 'gdi' to force one (DXGI then fails rather than fall back). */
  backend?: 'auto' | 'dxgi' | 'gdi';
  /** Monitor index in EnumDisplayMonitors order (default: the primary monitor). */
  monitor?: number;
}

export class WindowsSource extends NativeCaptureSource {
  private constructor(capture: NativeCapture, opened: NativeCaptureOpened, readonly monitor: number) {
    super(capture, opened);
  }

  /** Opens the monitor. Rejects with ERR_UNAVAILABLE off Windows, or when the screen cannot be read. */
  static async open(options: WindowsSourceOptions = {}): Promise<WindowsSource> {
    if (typeof options !== 'object' || options === null) throw invalidArg('options', 'an object', options);
    const backend = options.backend ?? 'auto';
    if (backend !== 'auto' && backend !== 'dxgi' && backend !== 'gdi') throw invalidArg('backend', "'auto', 'dxgi' or 'gdi'", backend);
    const monitor = checkInt('monitor', options.monitor ?? -1, -1, 63);
    const [pollMs, verifyMs] = NativeCaptureSource.timing(options);
    const Capture = native().NativeWindowsCapture;
    if (!Capture) throw new TilecastError(ErrorCodes.UNAVAILABLE, `WindowsSource captures Windows desktops only (this is ${process.platform})`);
    const capture = new Capture(backend, monitor, pollMs, verifyMs);
    return new WindowsSource(capture, await NativeCaptureSource.start(capture), monitor);
  }
}
