/**
 * InputSink: where viewer input goes on the host. X11InputSink injects it into
 * an X server through XTEST, WindowsInputSink into the Windows desktop through
 * SendInput; a gateway or test can supply its own.
 */
import { ErrorCodes, TilecastError, checkInt, invalidArg } from '../errors';
import { NativeInput, native } from '../native/binding';

/** Pointer buttons as in the protocol's POINTER bits: 0 left, 1 middle, 2 right, 3 back, 4 forward. */
export type PointerButton = 0 | 1 | 2 | 3 | 4;

export interface InputSink {
  readonly width: number;
  readonly height: number;
  move(x: number, y: number): void;
  button(button: PointerButton, down: boolean): void;
  /** Wheel clicks: positive dy scrolls down, positive dx scrolls right. */
  wheel(dx: number, dy: number): void;
  /** Presses or releases the key producing `keysym`; false when it cannot be typed. */
  key(keysym: number, down: boolean): boolean;
  close(): void;
}

// X button numbers for the protocol's button bits (the native injectors all take X numbering).
const X_BUTTONS = [1, 2, 3, 8, 9] as const;

/** An InputSink over a native injector (XTEST or SendInput): argument checks and the wheel as X wheel buttons. */
abstract class NativeInputSink implements InputSink {
  protected constructor(private readonly x: NativeInput) {}

  get width(): number {
    return this.x.width;
  }
  get height(): number {
    return this.x.height;
  }

  move(x: number, y: number): void {
    this.x.move(checkInt('x', x, 0, 0xffff), checkInt('y', y, 0, 0xffff));
  }

  button(button: PointerButton, down: boolean): void {
    const xb = X_BUTTONS[checkInt('button', button, 0, 4)]!;
    this.x.button(xb, down);
  }

  wheel(dx: number, dy: number): void {
    // Wheels are buttons 4/5 (up/down) and 6/7 (left/right), one click (notch) each.
    const click = (b: number, n: number) => {
      for (let i = 0; i < n; i++) {
        this.x.button(b, true);
        this.x.button(b, false);
      }
    };
    click(dy < 0 ? 4 : 5, Math.min(Math.abs(checkInt('dy', dy, -1000, 1000)), 100));
    click(dx < 0 ? 6 : 7, Math.min(Math.abs(checkInt('dx', dx, -1000, 1000)), 100));
  }

  key(keysym: number, down: boolean): boolean {
    return this.x.key(checkInt('keysym', keysym, 1, 0x1fffffff), down);
  }

  /** Releases every key still held by this sink. */
  close(): void {
    this.x.close();
  }
}

export class X11InputSink extends NativeInputSink {
  /** Opens a connection for XTEST injection. Throws ERR_UNAVAILABLE when the display or XTEST is missing. */
  static open(options: { display?: string } = {}): X11InputSink {
    const display = options.display ?? process.env.DISPLAY ?? '';
    if (typeof display !== 'string' || display === '') throw invalidArg('display', 'an X display name such as ":0"', display);
    const Input = native().NativeX11Input;
    if (!Input) throw new TilecastError(ErrorCodes.UNAVAILABLE, 'X11 input is not built into this addon (a Windows build?): use WindowsInputSink');
    return new X11InputSink(new Input(display));
  }
}

/**
 * SendInput on the desktop of this session: scan codes for function, modifier and
 * JIS keys (virtual keys where the layout lacks them), the layout's own keys for
 * characters, KEYEVENTF_UNICODE for characters it cannot type; the pointer in the
 * pixels of `monitor` (the same monitor WindowsSource captures).
 */
export class WindowsInputSink extends NativeInputSink {
  /** Throws ERR_UNAVAILABLE off Windows. */
  static open(options: { monitor?: number } = {}): WindowsInputSink {
    const monitor = checkInt('monitor', options.monitor ?? -1, -1, 63);
    const Input = native().NativeWindowsInput;
    if (!Input) throw new TilecastError(ErrorCodes.UNAVAILABLE, `WindowsInputSink injects into Windows desktops only (this is ${process.platform})`);
    return new WindowsInputSink(new Input(monitor));
  }
}
