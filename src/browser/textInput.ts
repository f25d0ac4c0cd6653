/**
 * Keyboard and text for the browser viewer, read from a hidden textarea (the
 * "key sink": IME composition and soft keyboards only work in an editable
 * element).
 *
 * Two ways in, never both for the same keystroke:
 *  - Key events (physical keyboards, most of iOS's soft keyboard): sent as KEY
 *    with the physical code, and the default action is prevented, so the
 *    browser never also inserts the character (no beforeinput/input follows).
 *  - Text edits without key events (Android soft keyboards send keyCode 229,
 *    voice input, autocorrect, IME composition): the textarea's value is
 *    compared with what the host was already sent (`sent`), and the
 *    difference goes as BackSpace presses then characters (`textEdit`).
 *    Composition is sent when it is committed, except plain ASCII (Latin
 *    soft keyboards compose every word), which is sent as it is typed.
 *
 * Nothing typed is kept for long: the textarea is emptied when it passes
 * MAX_MIRROR characters, on any key event, and when the remote caret may have
 * moved (a click).
 */
import { Modifier } from '../protocol/constants';
import type { KeyMessage } from '../protocol/messages';
import { keysymForCodePoint } from '../input/keysyms';

/** X keysyms for the keys text edits need. */
export const KEYSYM = { BackSpace: 0xff08, Tab: 0xff09, Return: 0xff0d, Delete: 0xffff } as const;
const MAX_MIRROR = 64;

/** What turns `sent` into `now` at the end of the text: delete `backspaces` characters (code points), then type `insert`. */
export function textEdit(sent: string, now: string): { backspaces: number; insert: string } {
  const a = Array.from(sent), b = Array.from(now);
  let same = 0;
  while (same < a.length && same < b.length && a[same] === b[same]) same++;
  return { backspaces: a.length - same, insert: b.slice(same).join('') };
}

export function modifiers(e: KeyboardEvent): number {
  return (e.shiftKey ? Modifier.SHIFT : 0) | (e.ctrlKey ? Modifier.CONTROL : 0) | (e.altKey ? Modifier.ALT : 0) |
    (e.metaKey ? Modifier.META : 0) | (e.getModifierState?.('CapsLock') ? Modifier.CAPS_LOCK : 0) |
    (e.getModifierState?.('NumLock') ? Modifier.NUM_LOCK : 0) | (e.getModifierState?.('AltGraph') ? Modifier.ALT_GRAPH : 0);
}

export interface TextTarget {
  send(msg: KeyMessage): void;
  /** Something was typed (the view may follow). */
  typed(): void;
  /** The sticky modifiers were used up by a key. */
  stickyReleased(): void;
}

/** The modifier keys the toolbar can hold for the next key, as a keyboard's left-hand keys. */
export const MODIFIER_KEYS = [
  { bit: Modifier.CONTROL, code: 'ControlLeft', key: 'Control' },
  { bit: Modifier.ALT, code: 'AltLeft', key: 'Alt' },
  { bit: Modifier.META, code: 'MetaLeft', key: 'Meta' },
  { bit: Modifier.SHIFT, code: 'ShiftLeft', key: 'Shift' },
] as const;
const isModifierKey = (key: string) => ['Control', 'Alt', 'Meta', 'Shift', 'AltGraph', 'CapsLock'].includes(key);

export class TextInput {
  readonly sink: HTMLTextAreaElement;
  /** What the host has been sent of the textarea's value. */
  private sent = '';
  private composing = false;
  /** Toolbar modifiers armed for the next key, and those the host now holds for it. */
  private sticky = 0;
  private held = 0;

  constructor(parent: HTMLElement, private readonly target: TextTarget, on: (el: EventTarget, type: string, fn: (e: Event) => void) => void) {
    const ta = document.createElement('textarea');
    for (const [k, v] of [['autocomplete', 'off'], ['autocorrect', 'off'], ['autocapitalize', 'off'], ['spellcheck', 'false'], ['aria-label', 'remote keyboard']]) ta.setAttribute(k!, v!);
    ta.className = 'tilecast-keys';
    Object.assign(ta.style, { position: 'absolute', left: '0', top: '0', width: '1px', height: '1px', opacity: '0', border: '0', padding: '0', resize: 'none' });
    parent.appendChild(ta);
    this.sink = ta;
    on(ta, 'keydown', (e) => this.key(e as KeyboardEvent, true));
    on(ta, 'keyup', (e) => this.key(e as KeyboardEvent, false));
    // Keys while nothing has the focus (a tap does not focus the sink, so a Chromebook's keyboard still types).
    on(window, 'keydown', (e) => this.unfocusedKey(e as KeyboardEvent, true));
    on(window, 'keyup', (e) => this.unfocusedKey(e as KeyboardEvent, false));
    on(ta, 'beforeinput', (e) => this.beforeInput(e as InputEvent));
    on(ta, 'compositionstart', () => (this.composing = true));
    on(ta, 'compositionend', () => {
      this.composing = false;
      this.sync();
    });
    on(ta, 'input', () => {
      // Latin soft keyboards compose every word: send it as it grows. Anything else (kana, hangul) waits for the commit.
      if (!this.composing || /^[\x20-\x7e]*$/.test(ta.value)) this.sync();
    });
  }

  /** The remote caret may have moved (a click): forget the text typed so far. */
  reset(): void {
    if (this.composing) return;
    this.sink.value = '';
    this.sent = '';
  }

  /** Presses and releases `keysym` (`key` for the host's logs and mapping). */
  tap(keysym: number, key: string): void {
    for (const down of [true, false]) this.sendKey({ type: 'key', down, repeat: false, modifiers: 0, keysym, code: '', key });
  }

  /** Presses and releases a key by KeyboardEvent code and key, as a keyboard would send it (toolbar keys). */
  press(code: string, key: string): void {
    for (const down of [true, false]) this.sendKey({ type: 'key', down, repeat: false, modifiers: 0, keysym: 0, code, key });
    this.reset();
    this.target.typed();
  }

  /** Presses `keys` in order, then releases them in reverse (Ctrl+Alt+Del). Sticky modifiers are not added. */
  chord(keys: ReadonlyArray<{ code: string; key: string; bit?: number }>): void {
    let mods = 0;
    for (const k of keys) {
      mods |= k.bit ?? 0;
      this.target.send({ type: 'key', down: true, repeat: false, modifiers: mods, keysym: 0, code: k.code, key: k.key });
    }
    for (const k of [...keys].reverse()) {
      mods &= ~(k.bit ?? 0);
      this.target.send({ type: 'key', down: false, repeat: false, modifiers: mods, keysym: 0, code: k.code, key: k.key });
    }
  }

  /** Arms (or disarms) a modifier for the next key: pressed before it, released after it. */
  setSticky(bit: number, on: boolean): void {
    this.sticky = on ? this.sticky | bit : this.sticky & ~bit;
  }

  /** Sends a KEY with the armed modifiers around it: pressed before its press, released after its release. */
  private sendKey(msg: KeyMessage): void {
    const modifier = isModifierKey(msg.key);
    if (msg.down && !modifier && this.sticky & ~this.held) {
      for (const m of MODIFIER_KEYS) {
        if (!(this.sticky & m.bit) || this.held & m.bit) continue;
        this.held |= m.bit;
        this.target.send({ type: 'key', down: true, repeat: false, modifiers: this.held, keysym: 0, code: m.code, key: m.key });
      }
    }
    this.target.send({ ...msg, modifiers: msg.modifiers | this.held });
    if (!msg.down && !modifier && this.held) {
      for (const m of [...MODIFIER_KEYS].reverse()) {
        if (!(this.held & m.bit)) continue;
        this.held &= ~m.bit;
        this.target.send({ type: 'key', down: false, repeat: false, modifiers: this.held, keysym: 0, code: m.code, key: m.key });
      }
      this.sticky = 0;
      this.target.stickyReleased();
      queueMicrotask(() => this.reset()); // the host did not type that character as text
    }
  }

  private key(e: KeyboardEvent, down: boolean): void {
    // IME composing or a soft keyboard without key codes: the text comes as an edit.
    if (e.isComposing || this.composing || e.key === 'Process' || e.keyCode === 229) return;
    e.preventDefault();
    this.reset();
    this.sendKey({ type: 'key', down, repeat: e.repeat, modifiers: modifiers(e), keysym: 0, code: e.code.slice(0, 64), key: e.key.slice(0, 64) });
    if (down) this.target.typed();
  }

  private unfocusedKey(e: KeyboardEvent, down: boolean): void {
    if (document.activeElement === document.body || document.activeElement === null) this.key(e, down);
  }

  /** Edits the textarea cannot show: deleting with nothing left to delete, and line breaks (sent as keys). */
  private beforeInput(e: InputEvent): void {
    if (this.composing || e.isComposing) return;
    const ta = this.sink, empty = ta.selectionStart === ta.selectionEnd;
    let keysym = 0, key = '';
    if (e.inputType.startsWith('deleteContentBackward') || e.inputType.startsWith('deleteWordBackward')) {
      if (empty && ta.selectionStart === 0) [keysym, key] = [KEYSYM.BackSpace, 'Backspace'];
    } else if (e.inputType.startsWith('deleteContentForward') || e.inputType.startsWith('deleteWordForward')) {
      if (empty && ta.selectionStart === ta.value.length) [keysym, key] = [KEYSYM.Delete, 'Delete'];
    } else if (e.inputType === 'insertLineBreak' || e.inputType === 'insertParagraph') {
      [keysym, key] = [KEYSYM.Return, 'Enter'];
    }
    if (!keysym) return;
    e.preventDefault();
    this.sync();
    this.tap(keysym, key);
    if (keysym === KEYSYM.Return) this.reset();
    this.target.typed();
  }

  /** Sends the difference between what the host has and the textarea's value. */
  private sync(): void {
    const value = this.sink.value;
    const { backspaces, insert } = textEdit(this.sent, value);
    for (let i = 0; i < backspaces; i++) this.tap(KEYSYM.BackSpace, 'Backspace');
    for (const ch of insert) {
      const keysym = ch === '\n' ? KEYSYM.Return : ch === '\t' ? KEYSYM.Tab : keysymForCodePoint(ch.codePointAt(0)!);
      if (keysym !== null) this.tap(keysym, ch === '\n' ? 'Enter' : ch === '\t' ? 'Tab' : ch);
    }
    this.sent = value;
    if (backspaces || insert) this.target.typed();
    if (!this.composing && value.length > MAX_MIRROR) this.reset();
  }
}
