// Session policies (user over groups over default), durations, languages, page escaping.
import t from 'tap';
import { effectivePolicy, parseDuration } from '../../../src/gateway/policy';
import { pickLang } from '../../../src/gateway/i18n';
import { esc, loginPage } from '../../../src/gateway/pages';

const D = { viewOnly: false, idleTimeoutMs: 30 * 60_000, maxSessionMs: 0, audio: false, microphone: false };

t.test('policy: user override, then the strictest group, then the default', (t) => {
  const groups = { kyoiku: { viewOnly: true, idleTimeoutMs: 10 * 60_000 }, somu: { idleTimeoutMs: 20 * 60_000, maxSessionMs: 8 * 3600_000 }, free: { maxSessionMs: 0 } };
  t.same(effectivePolicy({ groups: [] }, groups, D), D);
  t.same(effectivePolicy({ groups: ['somu'] }, groups, D), { ...D, idleTimeoutMs: 20 * 60_000, maxSessionMs: 8 * 3600_000 });
  t.same(effectivePolicy({ groups: ['somu', 'kyoiku'] }, groups, D), { ...D, viewOnly: true, idleTimeoutMs: 10 * 60_000, maxSessionMs: 8 * 3600_000 });
  t.same(effectivePolicy({ groups: ['somu', 'free'] }, groups, D).maxSessionMs, 8 * 3600_000, 'a real limit is stricter than none');
  t.same(effectivePolicy({ groups: ['free'] }, groups, D).maxSessionMs, 0);
  t.same(effectivePolicy({ groups: ['kyoiku'], policy: { viewOnly: false, maxSessionMs: 3600_000 } }, groups, D), { ...D, idleTimeoutMs: 10 * 60_000, maxSessionMs: 3600_000 });
  t.same(effectivePolicy({ groups: ['constructor', 'nosuch'] }, groups, D), D, 'unknown groups and prototype names are ignored');
  t.end();
});

t.test('policy: sound and microphone are off unless granted; a group that forbids wins over one that grants', (t) => {
  const groups = { kaigi: { audio: true, microphone: true }, madoguchi: { audio: true, microphone: false }, kyoiku: { viewOnly: true } };
  t.same(effectivePolicy({ groups: [] }, groups, D), { ...D, audio: false, microphone: false }, 'off by default');
  t.same(effectivePolicy({ groups: ['kyoiku'] }, groups, D), { ...D, viewOnly: true }, 'a group that says nothing grants nothing');
  t.same(effectivePolicy({ groups: ['kaigi'] }, groups, D), { ...D, audio: true, microphone: true });
  t.same(effectivePolicy({ groups: ['kaigi', 'madoguchi'] }, groups, D), { ...D, audio: true, microphone: false }, 'the strictest group decides');
  t.same(effectivePolicy({ groups: ['madoguchi'], policy: { microphone: true } }, groups, D), { ...D, audio: true, microphone: true }, 'the user\'s own setting first');
  t.same(effectivePolicy({ groups: ['kaigi'], policy: { audio: false } }, groups, D), { ...D, audio: false, microphone: true });
  t.same(effectivePolicy({ groups: [] }, groups, { ...D, audio: true }), { ...D, audio: true }, 'the gateway default when nobody sets it');
  t.end();
});

t.test('durations', (t) => {
  t.equal(parseDuration('30m'), 30 * 60_000);
  t.equal(parseDuration('8h'), 8 * 3600_000);
  t.equal(parseDuration('1.5h'), 90 * 60_000);
  t.equal(parseDuration('0'), 0);
  t.equal(parseDuration('90s'), 90_000);
  t.throws(() => parseDuration('5s'), /between/);
  t.throws(() => parseDuration('8 hours'));
  t.throws(() => parseDuration('30d'));
  t.end();
});

t.test('language: Japanese unless the browser prefers English', (t) => {
  t.equal(pickLang(undefined), 'ja');
  t.equal(pickLang(''), 'ja');
  t.equal(pickLang('ja,en-US;q=0.9,en;q=0.8'), 'ja');
  t.equal(pickLang('en-US,en;q=0.9,ja;q=0.8'), 'en');
  t.equal(pickLang('en-GB'), 'en');
  t.equal(pickLang('fr-FR,en;q=0.5'), 'en');
  t.equal(pickLang('fr-FR'), 'ja');
  t.equal(pickLang('en;q=0.5,ja;q=0.5'), 'ja', 'a tie goes to Japanese');
  t.equal(pickLang('en;q=0'), 'ja');
  t.end();
});

t.test('pages escape what they show', (t) => {
  t.equal(esc(`<a href="x">'&`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;');
  const html = loginPage('ja', { csrf: 'tok', error: 'badCredentials', userId: '"><script>alert(1)</script>' });
  t.notMatch(html, /<script>alert/);
  t.match(html, /IDまたはパスワードが違います/);
  t.match(loginPage('en', { csrf: 'tok', error: 'licenceFull' }), /The limit of concurrent connections has been reached/);
  t.match(loginPage('ja', { csrf: 'tok', error: 'licenceFull' }), /同時接続数の上限に達しています/);
  t.end();
});
