// The example commands as a person runs them: real --help, one-line errors for
// wrong options, viewer.js taking the http:// URL the host prints, a refused
// password ending the viewer with a clear message and exit 1, and `npm start`'s
// --link list / one-direction traces. (They run against dist/: `npm run build`.)
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_TRACES_DIR } from '../../src/emulator/linkTraces';
import { until } from '../helpers';

const root = path.join(__dirname, '..', '..');
const example = (name: string) => path.join(root, 'examples', name);
const run = (name: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [example(name), ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });

for (const name of ['local-session.js', 'host.js', 'viewer.js']) {
  t.test(`${name}: --help and a wrong option`, async (t) => {
    const help = run(name, ['--help']);
    t.equal(help.status, 0);
    t.match(help.stdout, /\n  -h, --help +this text\n/);
    t.notMatch(help.stdout, /require\(|'use strict'/, 'help text, not source');
    const wrong = run(name, ['--no-such-option']);
    t.equal(wrong.status, 2);
    t.equal(wrong.stderr, "Unknown option '--no-such-option' (--help lists the options)\n", 'one line, no stack trace');
  });
}

t.test('viewer.js: http:// URL accepted; a wrong password is a clear message and exit 1', async (t) => {
  const host = spawn(process.execPath, [example('host.js'), '--scene', '--listen', '127.0.0.1:0', '--password', 'pw'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DISPLAY: '' } });
  t.teardown(() => void host.kill('SIGTERM'));
  let out = '';
  host.stdout!.on('data', (d) => (out += d));
  await until(() => /browser viewer: (http:\/\/\S+)/.test(out), 'the host to listen');
  const httpUrl = /browser viewer: (http:\/\/\S+)/.exec(out)![1]!;
  t.match(httpUrl, /\?password=…$/, 'the host prints the URL for browsers');

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilecast-ex-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const ok = run('viewer.js', [httpUrl, '--password', 'pw', '--exit-after', '3', '--out', dir]);
  t.equal(ok.status, 0, `the viewer exits 0${ok.status ? `: ${ok.stderr}` : ''}`);
  t.match(ok.stdout, /^connecting to ws:\/\/127\.0\.0\.1:\d+\/\n/, 'http:// turned into ws://, placeholder password dropped');
  t.match(ok.stdout, /screen 1920x1080/);
  t.match(ok.stdout, /first picture \d+ ms after connecting/, 'first latency measured from the connect');
  t.equal(fs.readdirSync(dir).filter((f) => f.endsWith('.png')).length, 1);

  const bad = run('viewer.js', [httpUrl.replace(/\?.*/, ''), '--password', 'wrong', '--exit-after', '20'], { LANG: 'ja_JP.UTF-8' });
  t.equal(bad.status, 1, 'non-zero exit');
  t.match(bad.stderr, /^接続が拒否されました。パスワード（またはユーザー）が正しくないか、接続が許可されていません: host refused the credentials \(HTTP 401\)/);
  t.notMatch(bad.stdout, /updates\/s/, 'no stats after the refusal');
  const badEn = run('viewer.js', [httpUrl.replace(/\?.*/, ''), '--password', 'wrong'], { LANG: 'en_US.UTF-8' });
  t.match(badEn.stderr, /^The host refused the connection: wrong password \(or user\), or not allowed/);
  await until(() => /\[audit\].* refused /.test(out), 'the host to log the refusal');
});

const haveTraces = fs.existsSync(DEFAULT_TRACES_DIR);
if (!haveTraces && process.env.CI) throw new Error(`LTE traces missing: ${DEFAULT_TRACES_DIR} (../shared/traces beside the checkout)`);
t.test('npm start --link: list, a missing trace, a one-direction trace', { skip: haveTraces ? false : `LTE traces missing: ${DEFAULT_TRACES_DIR}` }, async (t) => {
  const list = run('local-session.js', ['--link', 'list']);
  t.equal(list.status, 0);
  t.match(list.stdout, /ATT-LTE-driving\s+down \+ up\n/);
  t.match(list.stdout, /TMobile-LTE-driving\s+down only \(used both ways\)\n/);
  const missing = run('local-session.js', ['--link', 'no-such-trace']);
  t.equal(missing.status, 1);
  t.match(missing.stderr, /^npm start: no link trace "no-such-trace": looked for .*no-such-trace\.down, .*no-such-trace\.up \(--link list shows/);
  const one = run('local-session.js', ['--fast', '--link', 'TMobile-LTE-driving', '--snapshot', path.join(os.tmpdir(), `tilecast-ex-${process.pid}.png`)]);
  fs.rmSync(path.join(os.tmpdir(), `tilecast-ex-${process.pid}.png`), { force: true });
  t.equal(one.status, 0, `ends byte-identical${one.status ? `: ${one.stdout}${one.stderr}` : ''}`);
  t.match(one.stdout, /link: TMobile-LTE-driving has a downlink trace only: TMobile-LTE-driving\.down is used for both directions/);
  const byPath = run('local-session.js', ['--fast', '--link', path.join(DEFAULT_TRACES_DIR, 'Verizon-LTE-short.up'), '--snapshot', path.join(os.tmpdir(), `tilecast-ex2-${process.pid}.png`)]);
  fs.rmSync(path.join(os.tmpdir(), `tilecast-ex2-${process.pid}.png`), { force: true });
  t.equal(byPath.status, 0, 'a trace given by path');
  t.notMatch(byPath.stdout, /used for both/, 'a pair: both directions');
});
