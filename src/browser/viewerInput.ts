/**
 * Input capture for the browser viewer: mouse and wheel here, touch gestures
 * (touchInput.ts) and keys/text (textInput.ts), turned into POINTER/KEY
 * messages in remote screen coordinates.
 */
import type { KeyMessage, PointerMessage } from '../protocol/messages';
import { TextInput } from './textInput';
import { InputMode, TouchInput } from './touchInput';
import type { ViewTransform } from './viewTransform';

/**
 * Controls drawn over the remote screen (the toolbar, the audio buttons):
 * touches, clicks and wheel turns on them are not input to the remote screen,
 * so they stop before the surface's listeners see them.
 */
export function keepOffRemoteScreen(element: HTMLElement): void {
  for (const type of ['touchstart', 'touchmove', 'touchend', 'pointerdown', 'mousedown', 'wheel']) {
    element.addEventListener(type, (e) => e.stopPropagation());
  }
}

export interface InputTarget {
  /** Where the remote screen is shown (null before the first RESIZE). */
  view(): ViewTransform | null;
  /** The view was zoomed or panned by a gesture. */
  viewChanged(): void;
  /** Something was typed at the remote pointer (x, y) (a zoomed view follows it). */
  typed(x: number, y: number): void;
  /** The toolbar's sticky modifiers were used up. */
  stickyReleased(): void;
  send(msg: PointerMessage | KeyMessage): void;
}

// DOM MouseEvent.buttons bits (1 left, 2 right, 4 middle, 8 back, 16 forward)
// to the protocol's (0 left, 1 middle, 2 right, 3 back, 4 forward).
function protocolButtons(domButtons: number): number {
  return (domButtons & 1) | ((domButtons & 4) >> 1) | ((domButtons & 2) << 1) | (domButtons & 8) | (domButtons & 16);
}

const clampI16 = (v: number) => Math.max(-32768, Math.min(32767, Math.round(v)));

export class ViewerInput {
  readonly text: TextInput;
  private x = 0;
  private y = 0;
  private buttons = 0;
  private readonly touch: TouchInput;
  private readonly cleanups: Array<() => void> = [];

  constructor(
    private readonly surface: HTMLElement,
    private readonly target: InputTarget,
  ) {
    const on = this.on.bind(this);
    this.text = new TextInput(surface, { send: (m) => target.send(m), typed: () => target.typed(this.x, this.y), stickyReleased: () => target.stickyReleased() }, on);
    this.on(surface, 'pointerdown', (e) => this.pointer(e as PointerEvent));
    this.on(surface, 'pointermove', (e) => this.pointer(e as PointerEvent));
    this.on(surface, 'pointerup', (e) => this.pointer(e as PointerEvent));
    this.on(surface, 'wheel', (e) => this.wheel(e as WheelEvent), { passive: false });
    this.on(surface, 'contextmenu', (e) => e.preventDefault());
    // A click would move the focus to the page; keep it on the key sink.
    this.on(surface, 'mousedown', (e) => {
      e.preventDefault();
      this.focus();
    });
    this.touch = new TouchInput({
      view: () => target.view(),
      viewChanged: () => target.viewChanged(),
      origin: () => {
        const r = surface.getBoundingClientRect();
        return { x: r.left + surface.clientLeft, y: r.top + surface.clientTop };
      },
      pointerAt: () => ({ x: this.x, y: this.y }),
      pointer: (x, y, buttons, wheelX = 0, wheelY = 0) => {
        this.x = x;
        this.y = y;
        if (buttons & ~this.buttons) this.text.reset(); // a press: the remote caret may move
        this.buttons = buttons;
        this.sendPointer(wheelX, wheelY);
      },
    });
    // Touch never focuses the key sink (that would open the soft keyboard on every tap): the keyboard button does.
    for (const type of ['touchstart', 'touchmove', 'touchend', 'touchcancel']) this.on(surface, type, (e) => this.touch.handle(e as TouchEvent), { passive: false });
    // The page's own pinch-zoom and scrolling would fight the viewer's.
    surface.style.touchAction = 'none';
  }

  get mode(): InputMode {
    return this.touch.mode;
  }

  set mode(mode: InputMode) {
    this.touch.mode = mode;
  }

  /** Focuses the key sink (on a touch device this opens the soft keyboard). */
  focus(): void {
    this.text.sink.focus({ preventScroll: true });
  }

  /** Closes the soft keyboard (the sink loses the focus; a physical keyboard still types). */
  blur(): void {
    this.text.sink.blur();
  }

  dispose(): void {
    this.touch.dispose();
    for (const c of this.cleanups) c();
    this.text.sink.remove();
  }

  private on(el: EventTarget, type: string, fn: (e: Event) => void, opts?: AddEventListenerOptions): void {
    el.addEventListener(type, fn, opts);
    this.cleanups.push(() => el.removeEventListener(type, fn, opts));
  }

  private toScreen(clientX: number, clientY: number): boolean {
    const view = this.target.view();
    if (!view) return false;
    const r = this.surface.getBoundingClientRect();
    const at = view.toRemoteClamped(clientX - r.left - this.surface.clientLeft, clientY - r.top - this.surface.clientTop);
    this.x = at.x;
    this.y = at.y;
    return true;
  }

  private sendPointer(wheelX = 0, wheelY = 0): void {
    this.target.send({ type: 'pointer', x: this.x, y: this.y, buttons: this.buttons, wheelX: clampI16(wheelX), wheelY: clampI16(wheelY) });
  }

  private pointer(e: PointerEvent): void {
    if (e.pointerType === 'touch') return; // touch has its own gestures below
    if (e.type === 'pointerdown') {
      this.focus();
      this.surface.setPointerCapture?.(e.pointerId);
    }
    e.preventDefault();
    if (!this.toScreen(e.clientX, e.clientY)) return;
    const buttons = protocolButtons(e.buttons);
    if (buttons & ~this.buttons) this.text.reset(); // a press: the remote caret may move
    this.buttons = buttons;
    this.sendPointer();
  }

  private wheel(e: WheelEvent): void {
    e.preventDefault();
    if (!this.toScreen(e.clientX, e.clientY)) return;
    // The protocol carries CSS pixels.
    const scale = e.deltaMode === 1 ? 40 : e.deltaMode === 2 ? this.surface.clientHeight : 1;
    this.sendPointer(e.deltaX * scale, e.deltaY * scale);
  }
}
