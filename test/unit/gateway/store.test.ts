// FileStore: atomic writes, two processes' worth of writers, the licence cap
// under concurrent acquires, lockouts, login sessions, TOTP replay marks.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileStore } from '../../../src/gateway/fileStore';
import { FileLock, writeFileAtomic } from '../../../src/gateway/atomicFile';
import type { UserRecord } from '../../../src/gateway/store';

function tmpdir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tc-store-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function user(id: string, extra: Partial<UserRecord> = {}): UserRecord {
  return { id, displayName: id, passwordHash: 'x', role: 'user', groups: [], pcs: [], disabled: false, createdAt: 1, ...extra };
}

t.test('users: create once, update, remove; file is 0600 and valid JSON after each write', async (t) => {
  const file = path.join(tmpdir(t), 'store.json');
  const s = await FileStore.open(file);
  t.equal(fs.existsSync(file), false, 'nothing written until something changes');
  t.equal(await s.createUser(user('yamada', { totpSecret: 'ABC', policy: { viewOnly: true } })), true);
  t.equal(await s.createUser(user('yamada')), false, 'an existing id is not overwritten');
  t.equal(await s.createUser(user('constructor')), true, 'ids that name Object.prototype members are plain ids');
  t.equal(await s.getUser('toString'), null);
  if (process.platform !== 'win32') t.equal(fs.statSync(file).mode & 0o777, 0o600);
  const u = await s.updateUser('yamada', { pcs: ['pc-1'], totpSecret: undefined, policy: undefined });
  t.same(u?.pcs, ['pc-1']);
  t.notOk(u && 'totpSecret' in u, 'undefined removes a field');
  t.notOk(u && 'policy' in u);
  t.equal(await s.updateUser('nobody', { disabled: true }), null);
  // Returned records are copies: changing them changes nothing stored.
  u!.pcs.push('pc-2');
  t.same((await s.getUser('yamada'))?.pcs, ['pc-1']);
  t.same((await s.listUsers()).map((x) => x.id), ['constructor', 'yamada']);
  t.equal(await s.removeUser('yamada'), true);
  t.equal(await s.removeUser('yamada'), false);
  JSON.parse(fs.readFileSync(file, 'utf8'));
  t.same(fs.readdirSync(path.dirname(file)).sort(), ['store.json'], 'no temp or lock file left behind');
});

t.test('two store objects on one file (serve + CLI) see and keep each other\'s writes', async (t) => {
  const file = path.join(tmpdir(t), 'store.json');
  const a = await FileStore.open(file);
  const b = await FileStore.open(file);
  await a.createUser(user('u0'));
  t.ok(await b.getUser('u0'), 'b sees a write made through a');
  const ops: Promise<unknown>[] = [];
  for (let i = 1; i <= 20; i++) ops.push((i % 2 ? a : b).createUser(user(`u${i}`)));
  await Promise.all(ops);
  const c = await FileStore.open(file);
  t.equal((await c.listUsers()).length, 21, 'interleaved writers lost nothing');
  const v1 = await a.version();
  await b.updateUser('u0', { disabled: true });
  t.not(await a.version(), v1, 'version changes when another writer changed the file');
  t.equal((await a.getUser('u0'))?.disabled, true);
});

t.test('a corrupt store is refused, not overwritten', async (t) => {
  const file = path.join(tmpdir(t), 'store.json');
  fs.writeFileSync(file, '{"format":1,"users":');
  await t.rejects(FileStore.open(file), /not valid JSON/);
  fs.writeFileSync(file, '{"users":{}}');
  await t.rejects(FileStore.open(file), /not a tilecast gateway store/);
  t.equal(fs.readFileSync(file, 'utf8'), '{"users":{}}');
});

t.test('writeFileAtomic: a failed rename leaves the old file whole and no temp file', async (t) => {
  const dir = tmpdir(t);
  const file = path.join(dir, 'f.json');
  await writeFileAtomic(file, 'old');
  const rename = fs.promises.rename;
  fs.promises.rename = async () => {
    throw Object.assign(new Error('simulated crash'), { code: 'EIO' });
  };
  t.teardown(() => void (fs.promises.rename = rename));
  await t.rejects(writeFileAtomic(file, 'new'), /simulated crash/);
  fs.promises.rename = rename;
  t.equal(fs.readFileSync(file, 'utf8'), 'old');
  t.same(fs.readdirSync(dir), ['f.json']);
});

t.test('FileLock: one holder at a time; a dead owner\'s lock is broken', async (t) => {
  const target = path.join(tmpdir(t), 'x');
  const lock = new FileLock(target, 10_000, 2_000);
  const release = await lock.acquire();
  let second = false;
  const p = lock.acquire().then((r) => ((second = true), r));
  await new Promise((r) => setTimeout(r, 30));
  t.equal(second, false, 'the second waits while the first holds it');
  await release();
  await (await p)();
  // A lock left by a process that no longer exists (pid 2^22+1 is beyond Linux's pid_max default range).
  fs.writeFileSync(`${target}.lock`, '4194305 deadbeef');
  const r3 = await lock.acquire();
  await r3();
  t.equal(fs.existsSync(`${target}.lock`), false);
});

t.test('licence cap is never exceeded under concurrent acquires; same user+PC shares one licence', async (t) => {
  const s = await FileStore.open(path.join(tmpdir(t), 'store.json'));
  const cap = 5;
  const got = await Promise.all(Array.from({ length: 50 }, (_, i) => s.acquireLicence(cap, { user: `u${i}`, hostId: `pc${i}` }, i)));
  const leases = got.filter((l) => l !== null);
  t.equal(leases.length, cap);
  t.equal(await s.licenceCount(), cap);
  t.equal(new Set(leases.map((l) => l!.id)).size, cap, 'distinct lease ids');
  // A second viewer of a holder's own PC (tab, reconnect) gets a lease but uses no further licence.
  const again = await s.acquireLicence(cap, { user: 'u0', hostId: 'pc0' }, 100);
  t.ok(again);
  t.equal(await s.licenceCount(), cap);
  t.equal(await s.acquireLicence(cap, { user: 'u0', hostId: 'pc99' }, 100), null, 'same user, other PC: a new licence');
  t.equal(await s.releaseLicence(leases[0]!.id), true);
  t.equal(await s.releaseLicence(leases[0]!.id), false, 'release is idempotent');
  t.equal(await s.licenceCount(), cap, 'u0/pc0 still held by its second lease');
  t.equal(await s.releaseLicence(again!.id), true);
  t.equal(await s.licenceCount(), cap - 1);
  // Race the freed place: exactly one of many wins.
  const race = await Promise.all(Array.from({ length: 20 }, (_, i) => s.acquireLicence(cap, { user: `v${i}`, hostId: 'pcX' }, 200)));
  t.equal(race.filter(Boolean).length, 1);
  t.equal((await s.listLicences()).length, cap);
  const restarted = await FileStore.open(s.file);
  t.equal(await restarted.licenceCount(), 0, 'a restart frees every lease');
});

t.test('lockout: N failures in the window lock the key; the lock expires; other keys unaffected', async (t) => {
  const file = path.join(tmpdir(t), 'store.json');
  const s = await FileStore.open(file, { now: () => 0 });
  const rule = { limit: 3, windowMs: 1000, lockMs: 5000 };
  t.same(await s.recordLoginFailure('user:a', rule, 0), { failures: 1, lockedUntil: null });
  t.same(await s.recordLoginFailure('user:a', rule, 10), { failures: 2, lockedUntil: null });
  t.same(await s.recordLoginFailure('user:a', rule, 20), { failures: 3, lockedUntil: 5020 });
  t.equal(await s.lockedUntil('user:a', 5019), 5020);
  t.equal(await s.lockedUntil('user:a', 5020), null);
  t.equal(await s.lockedUntil('user:b', 20), null);
  t.same(await s.recordLoginFailure('user:a', rule, 100), { failures: 3, lockedUntil: 5020 }, 'failures while locked do not extend the lock');
  t.same(await s.recordLoginFailure('user:a', rule, 6000), { failures: 1, lockedUntil: null }, 'after the lock a new window starts');
  t.same(await s.recordLoginFailure('user:c', rule, 0), { failures: 1, lockedUntil: null });
  t.same(await s.recordLoginFailure('user:c', rule, 1000), { failures: 1, lockedUntil: null }, 'failures outside the window do not add up');
  await s.clearLoginFailures('user:c');
  t.same(await s.recordLoginFailure('user:c', rule, 1001), { failures: 1, lockedUntil: null });
  // Concurrent failures are all counted (one atomic call each).
  const rule10 = { limit: 10, windowMs: 60_000, lockMs: 60_000 };
  const rs = await Promise.all(Array.from({ length: 10 }, () => s.recordLoginFailure('ip:1.2.3.4', rule10, 0)));
  t.same(rs.map((r) => r.failures).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  t.equal(await s.lockedUntil('ip:1.2.3.4', 1), 60_000);
  t.equal(await (await FileStore.open(file, { now: () => 0 })).lockedUntil('ip:1.2.3.4', 1), 60_000, 'a lock survives a restart');
});

t.test('login sessions: revoked and expired sessions are not returned', async (t) => {
  const s = await FileStore.open(path.join(tmpdir(t), 'store.json'));
  const base = { user: 'a', createdAt: 0, remoteAddress: '10.0.0.1', revoked: false };
  const far = Date.now() + 3600_000;
  await s.createLoginSession({ ...base, id: 's1', expiresAt: far });
  await s.createLoginSession({ ...base, id: 's2', expiresAt: far });
  await s.createLoginSession({ ...base, id: 's3', user: 'b', expiresAt: far });
  t.ok(await s.getLoginSession('s1', Date.now()));
  t.equal(await s.getLoginSession('s1', far), null, 'expired');
  t.equal(await s.revokeLoginSession('s1'), true);
  t.equal(await s.revokeLoginSession('s1'), false);
  t.equal(await s.getLoginSession('s1', Date.now()), null, 'revoked');
  t.equal(await s.revokeUserSessions('a'), 1);
  t.equal(await s.getLoginSession('s2', Date.now()), null);
  t.ok(await s.getLoginSession('s3', Date.now()), 'another user keeps theirs');
  await s.createUser(user('b'));
  await s.removeUser('b');
  t.equal(await s.getLoginSession('s3', Date.now()), null, 'removing a user revokes their sessions');
});

t.test('TOTP steps are claimed once and only forward', async (t) => {
  const s = await FileStore.open(path.join(tmpdir(t), 'store.json'));
  t.equal(await s.claimTotpStep('a', 100), true);
  t.equal(await s.claimTotpStep('a', 100), false, 'the same code again is a replay');
  t.equal(await s.claimTotpStep('a', 99), false, 'an older code is refused after a newer one');
  t.equal(await s.claimTotpStep('a', 101), true);
  t.equal(await s.claimTotpStep('b', 100), true, 'per user');
  const both = await Promise.all([s.claimTotpStep('c', 5), s.claimTotpStep('c', 5)]);
  t.same(both.sort(), [false, true], 'two concurrent logins with one code: one wins');
});

t.test('group policies and PCs', async (t) => {
  const s = await FileStore.open(path.join(tmpdir(t), 'store.json'));
  await s.setGroupPolicy('kyoiku', { viewOnly: true });
  t.same(await s.groupPolicies(), { kyoiku: { viewOnly: true } });
  await s.setGroupPolicy('kyoiku', null);
  t.same(await s.groupPolicies(), {});
  t.equal(await s.createPc({ id: 'pc-1', name: 'PC 1', secretHash: 'h', revoked: false, createdAt: 0 }), true);
  t.equal(await s.createPc({ id: 'pc-1', name: 'again', secretHash: 'h2', revoked: false, createdAt: 0 }), false);
  t.equal((await s.updatePc('pc-1', { revoked: true }))?.revoked, true);
  t.equal((await s.getPc('pc-1'))?.name, 'PC 1');
  t.equal(await s.updatePc('pc-2', { revoked: true }), null);
});
