// Login: one answer for every wrong credential, lockouts per ID and per
// address, TOTP (required for admins, no replay), the licence cap at login,
// tokens that expire, renew and die with logout. Fake clock, real FileStore.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AuditLog } from '../../../src/gateway/audit';
import { type AuthConfig, Authenticator, DEFAULT_AUTH, normalizeUserId } from '../../../src/gateway/auth';
import { FileStore } from '../../../src/gateway/fileStore';
import { hashPassword } from '../../../src/gateway/passwords';
import type { UserRecord } from '../../../src/gateway/store';
import { TokenSigner } from '../../../src/gateway/tokens';
import { generateTotpSecret, totpCode } from '../../../src/gateway/totp';

const FAST = { ln: 10, r: 8, p: 1 };
const MIN = 60_000;

async function setup(t: { teardown(fn: () => void): void }, config: Partial<AuthConfig> = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tc-auth-'));
  const clock = { now: Date.UTC(2026, 11, 1, 0, 0, 0) };
  const now = () => clock.now;
  const store = await FileStore.open(path.join(dir, 'store.json'), { now });
  const audit = new AuditLog(dir, now);
  t.teardown(() => {
    audit.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const auth = new Authenticator(store, audit, new TokenSigner(Buffer.alloc(32, 3)), { ...DEFAULT_AUTH, scrypt: FAST, licences: 2, ...config }, now);
  const addUser = async (id: string, password: string, extra: Partial<UserRecord> = {}) => {
    await store.createUser({ id, displayName: id, passwordHash: await hashPassword(password, FAST), role: 'user', groups: [], pcs: ['pc1'], disabled: false, createdAt: 0, ...extra });
  };
  const auditLines = () => fs.readFileSync(audit.file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const auditText = () => fs.readFileSync(audit.file, 'utf8');
  return { store, auth, clock, addUser, auditLines, auditText };
}

const IP = '203.0.113.5';

t.test('a good login gives a token for the user; bad ones all get the same answer and are audited', async (t) => {
  const { auth, addUser, auditLines, auditText } = await setup(t);
  await addUser('yamada', 'correct horse');
  await addUser('suzuki', 'correct horse', { disabled: true });
  const ok = await auth.login({ userId: 'yamada', password: 'correct horse', ip: IP });
  t.equal(ok.ok, true);
  if (!ok.ok) return;
  const a = await auth.authenticate(ok.token);
  t.equal(a?.user.id, 'yamada');
  for (const [userId, password] of [['yamada', 'wrong'], ['nobody', 'correct horse'], ['suzuki', 'correct horse'], ['', '']]) {
    t.same(await auth.login({ userId: userId!, password: password!, ip: IP }), { ok: false, error: 'bad-credentials' }, `${userId}/${password}`);
  }
  const lines = auditLines();
  t.same(lines.map((l) => l.type), ['login.ok', 'login.failed', 'login.failed', 'login.failed', 'login.failed']);
  t.same(lines.slice(1).map((l) => [l.userTried, l.reason, l.ip]), [['yamada', 'bad-credentials', IP], ['nobody', 'bad-credentials', IP], ['suzuki', 'disabled', IP], ['', 'bad-credentials', IP]]);
  t.notMatch(auditText(), /correct horse|wrong/, 'no password in the audit log');
  t.notMatch(auditText(), new RegExp(ok.token.split('.').pop()!), 'no token in the audit log');
});

t.test('IDs typed in full width or capitals are the same ID', async (t) => {
  const { auth, addUser } = await setup(t);
  await addUser('yamada', 'correct horse');
  t.equal(normalizeUserId(' ＹａｍａＤＡ '), 'yamada');
  t.equal((await auth.login({ userId: 'ＹＡＭＡＤＡ', password: 'correct horse', ip: IP })).ok, true);
});

t.test('per-ID lockout: 5 failures lock the ID (even for the right password), for 15 minutes', async (t) => {
  const { auth, addUser, clock, auditLines } = await setup(t);
  await addUser('yamada', 'correct horse');
  for (let i = 0; i < 5; i++) t.equal((await auth.login({ userId: 'yamada', password: `guess${i}`, ip: `198.51.100.${i}` })).ok, false);
  t.same(await auth.login({ userId: 'yamada', password: 'correct horse', ip: IP }), { ok: false, error: 'locked' }, 'locked: the password is not even checked');
  t.ok(auditLines().some((l) => l.type === 'login.lockout' && l.key === 'user' && l.userTried === 'yamada'), 'the lockout is audited');
  clock.now += 15 * MIN - 1;
  t.same(await auth.login({ userId: 'yamada', password: 'correct horse', ip: IP }), { ok: false, error: 'locked' });
  clock.now += 1;
  t.equal((await auth.login({ userId: 'yamada', password: 'correct horse', ip: IP })).ok, true, 'unlocked after 15 minutes');
});

t.test('unknown IDs lock like real ones (no enumeration through the lockout)', async (t) => {
  const { auth } = await setup(t);
  for (let i = 0; i < 5; i++) await auth.login({ userId: 'ghost', password: 'x', ip: `198.51.100.${i}` });
  t.same(await auth.login({ userId: 'ghost', password: 'x', ip: IP }), { ok: false, error: 'locked' });
});

t.test('per-address lockout: many IDs from one address', async (t) => {
  const { auth, addUser } = await setup(t, { ipLockout: { limit: 4, windowMs: 15 * MIN, lockMs: 15 * MIN } });
  await addUser('yamada', 'correct horse');
  for (let i = 0; i < 4; i++) await auth.login({ userId: `user${i}`, password: 'x', ip: IP });
  t.same(await auth.login({ userId: 'yamada', password: 'correct horse', ip: IP }), { ok: false, error: 'locked' });
  // IPv6 addresses count by /64.
  t.same(await auth.login({ userId: 'yamada', password: 'correct horse', ip: '::ffff:203.0.113.5' }), { ok: false, error: 'locked' }, 'IPv4-mapped is the same address');
  t.equal((await auth.login({ userId: 'yamada', password: 'correct horse', ip: '203.0.113.6' })).ok, true, 'another address is not locked');
});

t.test('TOTP: required for admins, checked when set, a code works once', async (t) => {
  const { auth, addUser, clock, auditLines } = await setup(t);
  await addUser('boss', 'correct horse', { role: 'admin' });
  t.same(await auth.login({ userId: 'boss', password: 'correct horse', ip: IP }), { ok: false, error: 'bad-credentials' }, 'an admin without TOTP cannot sign in');
  t.equal(auditLines().at(-1)?.reason, 'totp-required');
  const secret = generateTotpSecret();
  await addUser('tanaka', 'correct horse', { totpSecret: secret });
  t.same(await auth.login({ userId: 'tanaka', password: 'correct horse', ip: IP }), { ok: false, error: 'bad-credentials' }, 'no code');
  t.same(await auth.login({ userId: 'tanaka', password: 'correct horse', totp: '000000', ip: IP }), { ok: false, error: 'bad-credentials' }, 'wrong code');
  const code = totpCode(secret, clock.now);
  t.equal((await auth.login({ userId: 'tanaka', password: 'correct horse', totp: code.replace(/(...)/, '$1 '), ip: IP })).ok, true, 'right code (spaces ignored)');
  t.same(await auth.login({ userId: 'tanaka', password: 'correct horse', totp: code, ip: IP }), { ok: false, error: 'bad-credentials' }, 'the same code again is refused');
  clock.now += 30_000;
  t.equal((await auth.login({ userId: 'tanaka', password: 'correct horse', totp: totpCode(secret, clock.now), ip: IP })).ok, true, 'the next code works');
});

t.test('licence cap at login: users refused when full, admins let in (to kick)', async (t) => {
  const { auth, addUser, store, auditLines } = await setup(t);
  await addUser('yamada', 'correct horse');
  const secret = generateTotpSecret();
  await addUser('boss', 'correct horse', { role: 'admin', totpSecret: secret });
  await store.acquireLicence(2, { user: 'a', hostId: 'pc1' }, 0);
  await store.acquireLicence(2, { user: 'b', hostId: 'pc2' }, 0);
  t.same(await auth.login({ userId: 'yamada', password: 'correct horse', ip: IP }), { ok: false, error: 'licence-full' });
  t.same(auditLines().at(-1), { time: auditLines().at(-1)!.time, type: 'licence.refused', user: 'yamada', ip: IP, at: 'login', cap: 2 });
  t.same(await auth.login({ userId: 'yamada', password: 'wrong', ip: IP }), { ok: false, error: 'bad-credentials' }, 'a wrong password learns nothing about the cap');
  await addUser('a', 'correct horse');
  t.equal((await auth.login({ userId: 'a', password: 'correct horse', ip: IP })).ok, true, 'a user holding a licence may sign in on a second device');
  t.equal((await auth.login({ userId: 'boss', password: 'correct horse', totp: totpCode(secret, Date.UTC(2026, 11, 1)), ip: IP })).ok, true);
});

t.test('tokens: expire, renew past half-life up to the login\'s end, die with logout', async (t) => {
  const { auth, addUser, clock, auditLines } = await setup(t, { tokenTtlMs: 60 * MIN, loginMaxMs: 90 * MIN });
  await addUser('yamada', 'correct horse');
  const r = await auth.login({ userId: 'yamada', password: 'correct horse', ip: IP });
  if (!r.ok) return t.fail('login');
  let a = await auth.authenticate(r.token);
  t.equal(auth.renew(a!), null, 'fresh token: no renewal');
  clock.now += 31 * MIN;
  a = await auth.authenticate(r.token);
  const renewed = auth.renew(a!);
  t.ok(renewed, 'past half its life: renewed');
  clock.now += 30 * MIN; // 61 min after login
  t.equal(await auth.authenticate(r.token), null, 'the old token expired');
  a = await auth.authenticate(renewed!);
  t.ok(a, 'the renewed one is valid');
  t.equal(a!.claims.expiresAt, Date.UTC(2026, 11, 1) + 90 * MIN, 'renewed only up to the login\'s absolute end');
  t.equal(auth.renew(a!), null, 'nothing to renew at the end');
  await auth.logout(a!, IP);
  t.equal(await auth.authenticate(renewed!), null, 'a token replayed after logout is refused');
  t.equal(auditLines().at(-1)?.type, 'logout');
});

t.test('a disabled or removed user\'s token stops working', async (t) => {
  const { auth, addUser, store } = await setup(t);
  await addUser('yamada', 'correct horse');
  const r = await auth.login({ userId: 'yamada', password: 'correct horse', ip: IP });
  if (!r.ok) return t.fail('login');
  await store.updateUser('yamada', { disabled: true });
  t.equal(await auth.authenticate(r.token), null);
  await store.updateUser('yamada', { disabled: false });
  t.ok(await auth.authenticate(r.token));
  await store.removeUser('yamada');
  t.equal(await auth.authenticate(r.token), null);
});

t.test('an older hash is upgraded at the next good login', async (t) => {
  const { auth, addUser, store } = await setup(t, { scrypt: { ln: 11, r: 8, p: 1 } });
  await addUser('yamada', 'correct horse'); // made with ln=10
  t.equal((await auth.login({ userId: 'yamada', password: 'correct horse', ip: IP })).ok, true);
  for (let i = 0; i < 100 && !(await store.getUser('yamada'))!.passwordHash.includes('ln=11'); i++) await new Promise((r) => setTimeout(r, 20));
  t.match((await store.getUser('yamada'))!.passwordHash, /^scrypt\$ln=11,/);
  t.equal((await auth.login({ userId: 'yamada', password: 'correct horse', ip: IP })).ok, true, 'still the same password');
});
