// The text diff that turns soft-keyboard edits into BackSpace presses and characters.
import t from 'tap';
import { textEdit } from '../../../src/browser/textInput';

t.test('appends, deletions, replacements, by code point', async (t) => {
  t.same(textEdit('', 'abc'), { backspaces: 0, insert: 'abc' }, 'insertText');
  t.same(textEdit('abc', 'ab'), { backspaces: 1, insert: '' }, 'deleteContentBackward');
  t.same(textEdit('teh ', 'the '), { backspaces: 3, insert: 'he ' }, 'autocorrect (insertReplacementText) from the first changed character');
  t.same(textEdit('かんじ', '漢字'), { backspaces: 3, insert: '漢字' }, 'a converted composition');
  t.same(textEdit('a😀', 'a'), { backspaces: 1, insert: '' }, 'an emoji is one character, not two UTF-16 units');
  t.same(textEdit('same', 'same'), { backspaces: 0, insert: '' }, 'nothing changed: nothing sent (no doubles)');
  t.same(textEdit('line', 'line\n'), { backspaces: 0, insert: '\n' });
});
