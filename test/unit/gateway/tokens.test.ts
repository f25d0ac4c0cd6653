// Session tokens and CSRF tokens: expiry, tampering, key separation, the key file.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KEY_FILE, TokenSigner, loadOrCreateKey } from '../../../src/gateway/tokens';

const key = Buffer.alloc(32, 7);
const signer = new TokenSigner(key);
const claims = { sessionId: 'AAAAAAAAAAAAAAAAAAAAAA', user: '山田.taro', expiresAt: 10_000 };

t.test('a signed token verifies until it expires', (t) => {
  const tok = signer.sign(claims);
  t.same(signer.verify(tok, 0), claims);
  t.same(signer.verify(tok, 9_999), claims);
  t.equal(signer.verify(tok, 10_000), null, 'expired at expiresAt');
  t.equal(signer.verify(tok, 20_000), null);
  t.end();
});

t.test('any change to a token is refused', (t) => {
  const tok = signer.sign(claims);
  const parts = tok.split('.');
  const forged = [
    [parts[0], parts[1], Buffer.from('admin').toString('base64url'), parts[3], parts[4]].join('.'), // other user
    [parts[0], parts[1], parts[2], '99999999', parts[4]].join('.'), // longer life
    [parts[0], 'BBBBBBBBBBBBBBBBBBBBBB', parts[2], parts[3], parts[4]].join('.'), // other session
    tok.slice(0, -1) + (tok.endsWith('A') ? 'B' : 'A'), // mac
    `${tok}.x`, '', 'v1....', 'x'.repeat(600),
  ];
  for (const f of forged) t.equal(signer.verify(f, 0), null, f.slice(0, 40));
  t.equal(signer.verify(undefined, 0), null);
  t.equal(new TokenSigner(Buffer.alloc(32, 8)).verify(tok, 0), null, 'another gateway key');
  t.end();
});

t.test('CSRF tokens are bound to purpose and binding and differ from session MACs', (t) => {
  const c = signer.csrf('form', 'sess1');
  t.equal(signer.checkCsrf('form', 'sess1', c), true);
  t.equal(signer.checkCsrf('form', 'sess2', c), false);
  t.equal(signer.checkCsrf('login', 'sess1', c), false);
  t.equal(signer.checkCsrf('form', 'sess1', undefined), false);
  t.equal(signer.checkCsrf('form', 'sess1', c.slice(1)), false);
  t.end();
});

t.test('the key file is made once with mode 0600 and then reused', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tc-key-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const k1 = loadOrCreateKey(dir);
  t.equal(k1.length, 32);
  if (process.platform !== 'win32') t.equal(fs.statSync(path.join(dir, KEY_FILE)).mode & 0o777, 0o600);
  t.same(loadOrCreateKey(dir), k1);
  fs.writeFileSync(path.join(dir, KEY_FILE), 'short');
  t.throws(() => loadOrCreateKey(dir), /32 bytes/);
  t.end();
});
