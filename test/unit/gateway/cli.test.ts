// The command line, in process: users, PCs (the secret printed once, only
// its hash stored), policies, report; bad input is a usage error (exit 2).
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../../src/gateway/cli/main';
import { verifyHostSecret } from '../../../src/gateway/hostSecrets';
import { verifyPassword } from '../../../src/gateway/passwords';
import { auditFiles } from '../../../src/gateway/audit';

async function run(dir: string, ...args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const err = console.error;
  console.error = (s: string) => lines.push(s);
  try {
    const code = await main(['--data-dir', dir, ...args], (s) => lines.push(s));
    return { code, out: lines.join('\n') };
  } finally {
    console.error = err;
  }
}

t.test('users, PCs, policies and a report through the CLI', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tc-cli-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const store = () => JSON.parse(fs.readFileSync(path.join(dir, 'store.json'), 'utf8'));

  const help = await run(dir, '--help');
  t.equal(help.code, 0);
  t.match(help.out, /user add ID/);

  const pc = await run(dir, 'pc', 'add', 'soumu-042', '--name', '総務課 042');
  t.equal(pc.code, 0);
  const secret = /secret \(shown once[^:]*: (\S+)/.exec(pc.out)![1]!;
  t.notMatch(fs.readFileSync(path.join(dir, 'store.json'), 'utf8'), new RegExp(secret), 'the secret is not stored');
  t.ok(verifyHostSecret(secret, store().pcs['soumu-042'].secretHash), 'its hash is');
  t.equal((await run(dir, 'pc', 'add', 'soumu-042')).code, 2, 'an id is registered once');
  t.equal((await run(dir, 'pc', 'add', '../etc')).code, 2, 'bad host ids refused');

  const add = await run(dir, 'user', 'add', 'ＹＡＭＡＤＡ', '--name', '山田 太郎', '--pcs', 'soumu-042', '--groups', 'somu', '--generate');
  t.equal(add.code, 0);
  const password = /password \(shown once\): (\S+)/.exec(add.out)![1]!;
  const u = store().users.yamada;
  t.equal(u.displayName, '山田 太郎');
  t.same(u.pcs, ['soumu-042']);
  t.ok(await verifyPassword(password, u.passwordHash));
  t.notOk(u.totpSecret, 'no TOTP unless asked');

  const admin = await run(dir, 'user', 'add', 'boss', '--role', 'admin', '--generate');
  t.match(admin.out, /otpauth:\/\/totp\/tilecast%20gateway:boss\?secret=[A-Z2-7]{32}/, 'admins get TOTP at once');
  t.equal((await run(dir, 'user', 'totp', 'boss', '--disable')).code, 2, 'admins keep TOTP');

  t.equal((await run(dir, 'user', 'assign', 'yamada', 'pc-x', '--add')).code, 0);
  t.same(store().users.yamada.pcs, ['soumu-042', 'pc-x']);
  await run(dir, 'user', 'assign', 'yamada', 'pc-x', '--remove');
  t.same(store().users.yamada.pcs, ['soumu-042']);
  await run(dir, 'user', 'policy', 'yamada', '--idle-timeout', '15m', '--view-only', 'true');
  t.same(store().users.yamada.policy, { viewOnly: true, idleTimeoutMs: 900_000 });
  t.equal((await run(dir, 'user', 'policy', 'yamada', '--idle-timeout', '5s')).code, 2, 'out-of-range durations refused');
  await run(dir, 'group', 'policy', 'somu', '--max-session', '8h');
  t.same(store().groups, { somu: { maxSessionMs: 8 * 3600_000 } });
  await run(dir, 'user', 'disable', 'yamada');
  t.equal(store().users.yamada.disabled, true);
  const list = await run(dir, 'user', 'list');
  t.match(list.out, /yamada\t山田 太郎\tuser\tsomu\tsoumu-042\tno\tdisabled/);
  await run(dir, 'pc', 'revoke', 'soumu-042');
  t.equal(store().pcs['soumu-042'].revoked, true);
  t.match((await run(dir, 'pc', 'list')).out, /soumu-042\t総務課 042\trevoked\tyamada/);
  t.equal((await run(dir, 'user', 'add', 'x', '--password-stdin', '--bogus')).code, 2, 'unknown options are usage errors');
  t.equal((await run(dir, 'frobnicate')).code, 2);

  const audit = auditFiles(dir).map((f) => fs.readFileSync(f, 'utf8')).join('');
  t.match(audit, /"action":"pc add","target":"soumu-042"/);
  t.match(audit, /"action":"user disable","target":"yamada"/);
  t.notMatch(audit, new RegExp(password), 'no password in the audit log');
  t.notMatch(audit, new RegExp(secret), 'no PC secret in the audit log');

  const report = await run(dir, 'report', '--from', '2026-11-01', '--to', '2026-11-30', '--out', path.join(dir, 'r'));
  t.equal(report.code, 0);
  t.match(report.out, /0 sessions/);
  t.ok(fs.existsSync(path.join(dir, 'r', 'index.html')));
  t.equal((await run(dir, 'report', '--from', '2026-11-01')).code, 2, 'report needs --to and --out');
});
