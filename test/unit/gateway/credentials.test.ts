// Password hashes, TOTP (RFC 6238 vectors) and host secrets.
import t from 'tap';
import { burnPasswordCheck, generatePassword, hashPassword, needsRehash, verifyPassword } from '../../../src/gateway/passwords';
import { base32Decode, base32Encode, hotp, otpauthUri, totpCode, verifyTotp } from '../../../src/gateway/totp';
import { generateHostSecret, hashHostSecret, verifyHostSecret } from '../../../src/gateway/hostSecrets';

// Cheap parameters for the tests (the default costs ~32 MiB and ~0.1 s a hash).
const FAST = { ln: 10, r: 8, p: 1 };

t.test('passwords: scrypt with the parameters in the hash', async (t) => {
  const h = await hashPassword('正しいパスワード', FAST);
  t.match(h, /^scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  t.equal(await verifyPassword('正しいパスワード', h), true);
  t.equal(await verifyPassword('正しいパスワーど', h), false);
  t.equal(await verifyPassword('', h), false);
  t.not(await hashPassword('same', FAST), await hashPassword('same', FAST), 'a fresh salt each time');
  t.equal(needsRehash(h), true, 'older parameters than the default');
  t.equal(needsRehash(h, FAST), false);
  // NFC: the same text typed as composed or decomposed kana matches.
  const h2 = await hashPassword('が', FAST);
  t.equal(await verifyPassword('か\u3099', h2), true);
});

t.test('passwords: malformed or out-of-bounds stored hashes never match', async (t) => {
  const h = await hashPassword('pw', FAST);
  t.equal(await verifyPassword('pw', h.replace('ln=10', 'ln=30')), false, 'N beyond the bound is not even tried');
  t.equal(await verifyPassword('pw', 'plain'), false);
  t.equal(await verifyPassword('pw', h.slice(0, -2)), false, 'a truncated hash');
  t.equal(await verifyPassword('x'.repeat(2000), h), false, 'over-long input refused');
  await t.rejects(hashPassword('x'.repeat(2000), FAST));
  t.equal(await burnPasswordCheck('pw'), false);
});

t.test('generated passwords', (t) => {
  const p = generatePassword();
  t.equal(p.length, 16);
  t.match(p, /^[A-HJ-NP-Za-km-z2-9]+$/);
  t.end();
});

t.test('base32 round trip (RFC 4648 vectors)', (t) => {
  const vectors: Array<[string, string]> = [['', ''], ['f', 'MY'], ['fo', 'MZXQ'], ['foo', 'MZXW6'], ['foob', 'MZXW6YQ'], ['fooba', 'MZXW6YTB'], ['foobar', 'MZXW6YTBOI']];
  for (const [plain, enc] of vectors) {
    t.equal(base32Encode(Buffer.from(plain)), enc);
    t.equal(base32Decode(enc).toString(), plain);
    t.equal(base32Decode(`${enc.toLowerCase()}======`).toString(), plain, 'lower case and padding accepted');
  }
  t.throws(() => base32Decode('MZ1'));
  t.end();
});

t.test('TOTP: RFC 6238 appendix B vectors (SHA-1, 8 digits)', (t) => {
  const secret = Buffer.from('12345678901234567890');
  const vectors: Array<[number, string]> = [
    [59, '94287082'], [1111111109, '07081804'], [1111111111, '14050471'],
    [1234567890, '89005924'], [2000000000, '69279037'], [20000000000, '65353130'],
  ];
  for (const [time, code] of vectors) {
    t.equal(hotp(secret, Math.floor(time / 30), 8), code, `T=${time}`);
    t.equal(totpCode(base32Encode(secret), time * 1000), code.slice(2), `T=${time}, 6 digits`);
  }
  t.end();
});

t.test('TOTP: RFC 4226 appendix D HOTP vectors', (t) => {
  const secret = Buffer.from('12345678901234567890');
  const want = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
  want.forEach((code, i) => t.equal(hotp(secret, i), code, `count ${i}`));
  t.end();
});

t.test('TOTP: ±1 step window, nothing wider, malformed codes refused', (t) => {
  const secret = base32Encode(Buffer.from('12345678901234567890'));
  const now = 1111111111 * 1000; // step 37037037
  const step = Math.floor(1111111111 / 30);
  t.equal(verifyTotp(secret, totpCode(secret, now), now), step);
  t.equal(verifyTotp(secret, totpCode(secret, now - 30_000), now), step - 1);
  t.equal(verifyTotp(secret, totpCode(secret, now + 30_000), now), step + 1);
  t.equal(verifyTotp(secret, totpCode(secret, now - 60_000), now), null);
  t.equal(verifyTotp(secret, totpCode(secret, now + 60_000), now), null);
  t.equal(verifyTotp(secret, '12345', now), null);
  t.equal(verifyTotp(secret, '1234567', now), null);
  t.equal(verifyTotp(secret, 'abcdef', now), null);
  t.equal(verifyTotp('not base32!', '123456', now), null);
  t.end();
});

t.test('otpauth URI', (t) => {
  t.equal(otpauthUri('Tilecast Gateway', 'yamada@city', 'JBSWY3DPEHPK3PXP'),
    'otpauth://totp/Tilecast%20Gateway:yamada%40city?secret=JBSWY3DPEHPK3PXP&issuer=Tilecast%20Gateway&algorithm=SHA1&digits=6&period=30');
  t.end();
});

t.test('host secrets: only a hash is kept, compared in full', (t) => {
  const s = generateHostSecret();
  t.match(s, /^[A-Za-z0-9_-]{43}$/);
  const h = hashHostSecret(s);
  t.notOk(h.includes(s));
  t.equal(verifyHostSecret(s, h), true);
  t.equal(verifyHostSecret(`${s}x`, h), false);
  t.equal(verifyHostSecret(s.slice(1), h), false);
  t.equal(verifyHostSecret(s, 'sha256$short'), false);
  t.equal(verifyHostSecret(s, ''), false);
  t.not(generateHostSecret(), s);
  t.end();
});
