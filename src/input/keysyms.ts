/**
 * Browser KeyboardEvent (code, key) -> X11 keysym.
 *
 * Order of preference, as VNC viewers do it:
 *  1. a named key (`key` is "Enter", "ArrowLeft", "Convert", ...): its keysym;
 *  2. a printable character (`key` is one code point): the character's keysym,
 *     so the remote side types what the user's own layout shows;
 *  3. the physical key (`code`), for keys whose `key` is unknown ("Unidentified").
 * Japanese keyboards: Convert -> Henkan_Mode, NonConvert -> Muhenkan, KanaMode ->
 * Hiragana_Katakana, Zenkaku/Hankaku -> Zenkaku_Hankaku, IntlYen -> yen, IntlRo ->
 * backslash (the "ro" key of a JIS keyboard), Lang1/Lang2 (the Kana and Eisu keys
 * of JIS Mac keyboards) -> Kana_Shift/Eisu_Shift.
 * IME composition ("Process") and dead keys return null: the composed text
 * arrives as characters afterwards, raw keys must not leak into the host.
 *
 * Pure TypeScript: shared by the host and the browser viewer.
 */

/** Keysyms of named keys (KeyboardEvent.key values). */
const NAMED: Readonly<Record<string, number>> = {
  Backspace: 0xff08, Tab: 0xff09, Enter: 0xff0d, Escape: 0xff1b, Delete: 0xffff, Insert: 0xff63,
  Home: 0xff50, End: 0xff57, PageUp: 0xff55, PageDown: 0xff56,
  ArrowLeft: 0xff51, ArrowUp: 0xff52, ArrowRight: 0xff53, ArrowDown: 0xff54,
  Pause: 0xff13, ScrollLock: 0xff14, PrintScreen: 0xff61, ContextMenu: 0xff67, Help: 0xff6a, Clear: 0xff0b,
  CapsLock: 0xffe5, NumLock: 0xff7f, AltGraph: 0xfe03,
  // Japanese input keys
  Convert: 0xff23, NonConvert: 0xff22, KanaMode: 0xff27, HiraganaKatakana: 0xff27, Hiragana: 0xff25, Katakana: 0xff26,
  Zenkaku: 0xff2a, Hankaku: 0xff2a, ZenkakuHankaku: 0xff2a, Alphanumeric: 0xff30, Eisu: 0xff2f, Romaji: 0xff24,
  KanjiMode: 0xff21, HangulMode: 0xff31, HanjaMode: 0xff34,
  // Media and browser keys (XF86 keysyms)
  AudioVolumeMute: 0x1008ff12, AudioVolumeDown: 0x1008ff11, AudioVolumeUp: 0x1008ff13,
  MediaPlayPause: 0x1008ff14, MediaStop: 0x1008ff15, MediaTrackPrevious: 0x1008ff16, MediaTrackNext: 0x1008ff17,
  BrowserBack: 0x1008ff26, BrowserForward: 0x1008ff27, BrowserRefresh: 0x1008ff29, BrowserHome: 0x1008ff18,
};

/** Modifier keys differ left/right only by `code`. */
const MODIFIERS: Readonly<Record<string, number>> = {
  ShiftLeft: 0xffe1, ShiftRight: 0xffe2, ControlLeft: 0xffe3, ControlRight: 0xffe4,
  AltLeft: 0xffe9, AltRight: 0xffea, MetaLeft: 0xffeb, MetaRight: 0xffec, OSLeft: 0xffeb, OSRight: 0xffec,
};

/** Keypad keys keep their keypad keysyms (applications tell them apart). */
const KEYPAD: Readonly<Record<string, number>> = {
  NumpadEnter: 0xff8d, NumpadMultiply: 0xffaa, NumpadAdd: 0xffab, NumpadSubtract: 0xffad,
  NumpadDecimal: 0xffae, NumpadDivide: 0xffaf, NumpadEqual: 0xffbd, NumpadComma: 0xffac,
};

/** Physical keys, for when `key` says nothing useful (US/JIS unshifted symbols). */
const PHYSICAL: Readonly<Record<string, number>> = {
  Space: 0x20, Minus: 0x2d, Equal: 0x3d, BracketLeft: 0x5b, BracketRight: 0x5d, Backslash: 0x5c,
  Semicolon: 0x3b, Quote: 0x27, Backquote: 0x60, Comma: 0x2c, Period: 0x2e, Slash: 0x2f,
  IntlBackslash: 0x5c, IntlYen: 0xa5, IntlRo: 0x5c,
  Lang1: 0xff2e /* Kana_Shift: Kana on JIS Macs */, Lang2: 0xff2f /* Eisu_Shift */,
  Backspace: 0xff08, Tab: 0xff09, Enter: 0xff0d, Escape: 0xff1b, CapsLock: 0xffe5, Delete: 0xffff,
  Convert: 0xff23, NonConvert: 0xff22, KanaMode: 0xff27,
};

/** Keysym for a Unicode code point (X11 convention: Latin-1 direct, else 0x01000000 + cp). */
export function keysymForCodePoint(cp: number): number | null {
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return null;
  if (cp < 0x100) return cp;
  return 0x01000000 + cp;
}

function singleCodePoint(key: string): number | null {
  if (key.length === 0 || key.length > 2) return null;
  const cp = key.codePointAt(0)!;
  return String.fromCodePoint(cp).length === key.length ? cp : null;
}

/**
 * The keysym to inject for a browser key event, or null when the event must not
 * reach the host as a key (IME composition, dead keys, unknown keys).
 */
export function keysymFor(code: string, key: string): number | null {
  if (key === 'Process' || key === 'Dead' || key === 'Compose') return null;
  const modifier = MODIFIERS[code];
  if (modifier !== undefined) return modifier;
  const keypad = KEYPAD[code];
  if (keypad !== undefined) return keypad;
  if (/^Numpad[0-9]$/.test(code) && /^[0-9]$/.test(key)) return 0xffb0 + Number(key);
  if (Object.hasOwn(NAMED, key)) return NAMED[key]!;
  const fn = /^F([1-9]|[1-2][0-9]|3[0-5])$/.exec(key) ?? /^F([1-9]|[1-2][0-9]|3[0-5])$/.exec(code);
  if (fn) return 0xffbe + Number(fn[1]) - 1;
  if (key === ' ') return 0x20;
  const cp = singleCodePoint(key);
  if (cp !== null) return keysymForCodePoint(cp);
  if (Object.hasOwn(PHYSICAL, code)) return PHYSICAL[code]!;
  const letter = /^Key([A-Z])$/.exec(code);
  if (letter) return letter[1]!.toLowerCase().charCodeAt(0);
  const digit = /^Digit([0-9])$/.exec(code);
  if (digit) return digit[1]!.charCodeAt(0);
  return null;
}

/** Keysyms of the modifier keys, by Modifier bit (for releasing stuck modifiers). */
export const MODIFIER_KEYSYMS: ReadonlyArray<{ bit: number; keysyms: readonly number[] }> = [
  { bit: 1 << 0, keysyms: [0xffe1, 0xffe2] },
  { bit: 1 << 1, keysyms: [0xffe3, 0xffe4] },
  { bit: 1 << 2, keysyms: [0xffe9, 0xffea] },
  { bit: 1 << 3, keysyms: [0xffeb, 0xffec] },
];
