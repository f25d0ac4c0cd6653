import t from 'tap';
import { keysymFor, keysymForCodePoint } from '../../../src/input/keysyms';

t.test('named keys, modifiers and the keypad', async (t) => {
  t.equal(keysymFor('Enter', 'Enter'), 0xff0d);
  t.equal(keysymFor('ArrowLeft', 'ArrowLeft'), 0xff51);
  t.equal(keysymFor('ShiftLeft', 'Shift'), 0xffe1);
  t.equal(keysymFor('ShiftRight', 'Shift'), 0xffe2);
  t.equal(keysymFor('ControlRight', 'Control'), 0xffe4);
  t.equal(keysymFor('AltLeft', 'Alt'), 0xffe9);
  t.equal(keysymFor('MetaLeft', 'Meta'), 0xffeb);
  t.equal(keysymFor('F1', 'F1'), 0xffbe);
  t.equal(keysymFor('F12', 'F12'), 0xffc9);
  t.equal(keysymFor('Numpad7', '7'), 0xffb7);
  t.equal(keysymFor('Numpad7', 'Home'), 0xff50, 'keypad with NumLock off follows key');
  t.equal(keysymFor('NumpadEnter', 'Enter'), 0xff8d);
});

t.test('Japanese keyboard keys', async (t) => {
  t.equal(keysymFor('Convert', 'Convert'), 0xff23, 'Henkan_Mode');
  t.equal(keysymFor('NonConvert', 'NonConvert'), 0xff22, 'Muhenkan');
  t.equal(keysymFor('KanaMode', 'KanaMode'), 0xff27, 'Hiragana_Katakana');
  t.equal(keysymFor('KanaMode', 'Unidentified'), 0xff27, 'by code when key is unknown');
  t.equal(keysymFor('Backquote', 'Zenkaku'), 0xff2a, 'Zenkaku_Hankaku');
  t.equal(keysymFor('Backquote', 'Hankaku'), 0xff2a);
  t.equal(keysymFor('IntlYen', '¥'), 0xa5, 'yen');
  t.equal(keysymFor('IntlYen', 'Unidentified'), 0xa5);
  t.equal(keysymFor('IntlRo', '\\'), 0x5c, 'ro key: backslash');
  t.equal(keysymFor('IntlRo', '_'), 0x5f, 'shifted ro key: underscore');
  t.equal(keysymFor('IntlRo', 'Unidentified'), 0x5c);
  t.equal(keysymFor('KeyA', 'ち'), 0x01000000 + 0x3061, 'kana input: the character');
});

t.test('characters follow the layout the user sees', async (t) => {
  t.equal(keysymFor('KeyA', 'a'), 0x61);
  t.equal(keysymFor('KeyA', 'A'), 0x41);
  t.equal(keysymFor('Digit2', '@'), 0x40, 'US shift-2');
  t.equal(keysymFor('BracketLeft', '@'), 0x40, 'JIS @ key');
  t.equal(keysymFor('Space', ' '), 0x20);
  t.equal(keysymFor('KeyE', 'é'), 0xe9, 'Latin-1 directly');
  t.equal(keysymFor('KeyE', '€'), 0x010020ac, 'beyond Latin-1: Unicode keysym');
  t.equal(keysymFor('KeyX', '😀'), 0x0101f600, 'astral code point (two UTF-16 units)');
  t.equal(keysymFor('KeyQ', 'Unidentified'), 0x71, 'by code: the unshifted letter');
  t.equal(keysymFor('Digit5', 'Unidentified'), 0x35);
});

t.test('IME composition, dead keys and unknown keys are not sent', async (t) => {
  t.equal(keysymFor('KeyA', 'Process'), null, 'IME composing');
  t.equal(keysymFor('Quote', 'Dead'), null);
  t.equal(keysymFor('', 'Unidentified'), null);
  t.equal(keysymFor('KeyA', 'ab'), 0x61, 'an unknown multi-character key value falls back to the physical key');
  t.equal(keysymFor('', 'ab'), null, 'and without a code it is not sent');
});

t.test('code points', async (t) => {
  t.equal(keysymForCodePoint(0x1f), null, 'control characters');
  t.equal(keysymForCodePoint(0x85), null, 'C1 controls');
  t.equal(keysymForCodePoint(0xd800), null, 'lone surrogates');
  t.equal(keysymForCodePoint(0x3042), 0x01003042);
});
