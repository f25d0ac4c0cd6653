import t from 'tap';
import { langFromAcceptLanguage, langFromList } from '../../src/i18n/language';

t.test('a preference list: the first of ja/en wins, Japanese when neither is listed', async (t) => {
  t.equal(langFromList([]), 'ja');
  t.equal(langFromList(['fr-FR', 'de']), 'ja');
  t.equal(langFromList(['en-US', 'ja']), 'en');
  t.equal(langFromList(['fr', 'ja-JP', 'en']), 'ja');
  t.equal(langFromList(['EN-gb']), 'en', 'tags are case-insensitive');
  t.equal(langFromList(['jv', 'enm']), 'ja', 'only the primary subtag counts (Javanese, Middle English are neither)');
});

t.test('Accept-Language: by weight, not by position', async (t) => {
  t.equal(langFromAcceptLanguage('ja;q=0.4, en;q=0.9'), 'en');
  t.equal(langFromAcceptLanguage('en;q=0.4, ja'), 'ja');
  t.equal(langFromAcceptLanguage('ja;q=0, en;q=0.1'), 'en', 'q=0 refuses Japanese');
  t.equal(langFromAcceptLanguage('en;q=abc'), 'ja', 'a malformed weight drops the range');
  t.equal(langFromAcceptLanguage('*'), 'ja');
  t.equal(langFromAcceptLanguage('en' + ',fr'.repeat(300)), 'en');
  t.equal(langFromAcceptLanguage('fr,'.repeat(200) + 'en'), 'ja', 'past the first 512 characters nothing is read');
});
