/**
 * InputSink: where viewer input goes on the host. X11InputSink injects it into
 * an X server through XTEST; a gateway or test can supply its own.
 */
import { checkInt, invalidArg } from '../errors';
import { NativeX11Input, native } from '../native/binding';

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

// X button numbers for the protocol's button bits.
const X_BUTTONS = [1, 2, 3, 8, 9] as const;

export class X11InputSink implements InputSink {
  private constructor(private readonly x: NativeX11Input) {}

  /** Opens a connection for XTEST injection. Throws ERR_UNAVAILABLE when the display or XTEST is missing. */
  static open(options: { display?: string } = {}): X11InputSink {
    const display = options.display ?? process.env.DISPLAY ?? '';
    if (typeof display !== 'string' || display === '') throw invalidArg('display', 'an X display name such as ":0"', display);
    return new X11InputSink(new (native().NativeX11Input)(display));
  }

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
    // X wheels are buttons 4/5 (up/down) and 6/7 (left/right), one click each.
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

  close(): void {
    this.x.close();
  }
}
