/**
 * X11Source: captures a real X display (a desktop session or Xvfb).
 *
 * All X work runs on a native capture thread (MIT-SHM grabs, or XGetImage on a
 * remote display; XDamage change hints; XFixes cursor; RandR resizes). The X
 * libraries are loaded at run time, so the build needs no X headers and a
 * machine without them fails here with ERR_UNAVAILABLE instead of at install.
 * Frames as NativeCaptureSource describes.
 */
import { ErrorCodes, TilecastError, invalidArg } from '../errors';
import { NativeCapture, NativeCaptureOpened, native } from '../native/binding';
import { type CaptureTimingOptions, NativeCaptureSource } from './nativeCaptureSource';

export interface X11SourceOptions extends CaptureTimingOptions {
  /** X display name (default: $DISPLAY). */
  display?: string;
}

export class X11Source extends NativeCaptureSource {
  private constructor(capture: NativeCapture, opened: NativeCaptureOpened, readonly display: string) {
    super(capture, opened);
  }

  /** Connects to the display. Rejects with ERR_UNAVAILABLE when it is not reachable. */
  static async open(options: X11SourceOptions = {}): Promise<X11Source> {
    if (typeof options !== 'object' || options === null) throw invalidArg('options', 'an object', options);
    const display = options.display ?? process.env.DISPLAY ?? '';
    if (typeof display !== 'string') throw invalidArg('display', 'a string such as ":0"', display);
    if (display === '') throw new TilecastError(ErrorCodes.UNAVAILABLE, 'no X display: pass { display } or set $DISPLAY');
    const [pollMs, verifyMs] = NativeCaptureSource.timing(options);
    const Capture = native().NativeX11Capture;
    if (!Capture) throw new TilecastError(ErrorCodes.UNAVAILABLE, 'X11 capture is not built into this addon (a Windows build?): use WindowsSource');
    const capture = new Capture(display, pollMs, verifyMs);
    return new X11Source(capture, await NativeCaptureSource.start(capture), display);
  }
}
