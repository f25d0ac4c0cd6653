/**
 * `user …` and `group …` subcommands: staff accounts, their PCs, TOTP and
 * policies. Every change is audited as an admin action; changes that take
 * access away (remove, disable, password reset, unassign) also end the
 * user's login sessions, and a running gateway cuts their live sessions
 * within its store check interval.
 */
import { parseArgs } from 'node:util';
import { normalizeUserId } from '../auth';
import { generatePassword, hashPassword } from '../passwords';
import { parseDuration } from '../policy';
import { GROUP_PATTERN, type Policy, type Role, USER_ID_PATTERN, type UserRecord } from '../store';
import { generateTotpSecret, otpauthUri } from '../totp';
import { type Ctx, UsageError, askNewPassword, checkNewPassword, list, readStdinLine } from './common';

export const TOTP_ISSUER = 'tilecast gateway';

async function newPassword(v: { 'password-stdin'?: boolean; generate?: boolean }, ctx: Ctx): Promise<string> {
  if (v.generate) {
    const p = generatePassword();
    ctx.out(`password (shown once): ${p}`);
    return p;
  }
  if (v['password-stdin']) return checkNewPassword(await readStdinLine());
  return askNewPassword();
}

function userIdArg(positionals: string[], what: string): string {
  const raw = positionals[0];
  if (!raw) throw new UsageError(`${what}: which user? (an ID)`);
  const id = normalizeUserId(raw);
  if (!USER_ID_PATTERN.test(id)) throw new UsageError(`user IDs are 1-64 letters, digits, . _ @ - (got ${JSON.stringify(raw)})`);
  return id;
}

async function mustGet(ctx: Ctx, id: string): Promise<UserRecord> {
  const u = await ctx.store.getUser(id);
  if (!u) throw new UsageError(`no user ${id}`);
  return u;
}

function showTotp(ctx: Ctx, id: string, secret: string): void {
  ctx.out(`TOTP secret for ${id} (shown once; enter it in an authenticator app): ${secret}`);
  ctx.out(`otpauth URI (for a QR code): ${otpauthUri(TOTP_ISSUER, id, secret)}`);
}

function parsePolicy(v: Record<string, string | boolean | undefined>): Policy {
  const p: Policy = {};
  if (v['view-only'] !== undefined) {
    if (v['view-only'] !== 'true' && v['view-only'] !== 'false') throw new UsageError('--view-only takes true or false');
    p.viewOnly = v['view-only'] === 'true';
  }
  for (const k of ['audio', 'microphone'] as const) {
    if (v[k] === undefined) continue;
    if (v[k] !== 'true' && v[k] !== 'false') throw new UsageError(`--${k} takes true or false`);
    p[k] = v[k] === 'true';
  }
  if (typeof v['idle-timeout'] === 'string') p.idleTimeoutMs = parseDuration(v['idle-timeout']);
  if (typeof v['max-session'] === 'string') p.maxSessionMs = parseDuration(v['max-session']);
  return p;
}

const policyOptions = {
  'view-only': { type: 'string' },
  audio: { type: 'string' },
  microphone: { type: 'string' },
  'idle-timeout': { type: 'string' },
  'max-session': { type: 'string' },
  clear: { type: 'boolean' },
} as const;

export async function userCommand(ctx: Ctx, sub: string | undefined, args: string[]): Promise<void> {
  const audit = (action: string, target: string, detail?: string) =>
    ctx.audit.write({ type: 'admin', actor: ctx.actor, action, target, ...(detail ? { detail } : {}) });
  switch (sub) {
    case 'add': {
      const { values: v, positionals } = parseArgs({
        args, allowPositionals: true,
        options: { name: { type: 'string' }, role: { type: 'string', default: 'user' }, groups: { type: 'string' }, pcs: { type: 'string' }, 'password-stdin': { type: 'boolean' }, generate: { type: 'boolean' }, totp: { type: 'boolean' } },
      });
      const id = userIdArg(positionals, 'user add');
      if (v.role !== 'user' && v.role !== 'admin') throw new UsageError('--role is user or admin');
      const groups = list(v.groups);
      for (const g of groups) if (!GROUP_PATTERN.test(g)) throw new UsageError(`bad group name ${JSON.stringify(g)}`);
      if (await ctx.store.getUser(id)) throw new UsageError(`user ${id} exists`);
      const password = await newPassword(v, ctx);
      // Admins must use TOTP: they get a secret at once.
      const totpSecret = v.role === 'admin' || v.totp ? generateTotpSecret() : undefined;
      const user: UserRecord = {
        id, displayName: v.name ?? id, passwordHash: await hashPassword(password), role: v.role as Role, groups, pcs: list(v.pcs), disabled: false,
        createdAt: Date.now(), ...(totpSecret ? { totpSecret } : {}),
      };
      if (!(await ctx.store.createUser(user))) throw new UsageError(`user ${id} exists`);
      audit('user add', id, `role=${user.role}${groups.length ? ` groups=${groups.join(',')}` : ''}${user.pcs.length ? ` pcs=${user.pcs.join(',')}` : ''}`);
      ctx.out(`added ${user.role} ${id}`);
      if (totpSecret) showTotp(ctx, id, totpSecret);
      return;
    }
    case 'remove': {
      const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
      const id = userIdArg(positionals, 'user remove');
      if (!(await ctx.store.removeUser(id))) throw new UsageError(`no user ${id}`);
      audit('user remove', id);
      ctx.out(`removed ${id}`);
      return;
    }
    case 'passwd': {
      const { values: v, positionals } = parseArgs({ args, allowPositionals: true, options: { 'password-stdin': { type: 'boolean' }, generate: { type: 'boolean' } } });
      const id = userIdArg(positionals, 'user passwd');
      await mustGet(ctx, id);
      const hash = await hashPassword(await newPassword(v, ctx));
      await ctx.store.updateUser(id, { passwordHash: hash });
      const n = await ctx.store.revokeUserSessions(id);
      await ctx.store.clearLoginFailures(`user:${id}`);
      audit('user passwd', id);
      ctx.out(`password of ${id} changed; ${n} login session(s) ended; lockout cleared`);
      return;
    }
    case 'assign': {
      const { values: v, positionals } = parseArgs({ args, allowPositionals: true, options: { add: { type: 'boolean' }, remove: { type: 'boolean' } } });
      const id = userIdArg(positionals, 'user assign');
      const pcs = positionals.slice(1).flatMap((p) => list(p));
      const u = await mustGet(ctx, id);
      for (const pc of pcs) if (!v.remove && !(await ctx.store.getPc(pc))) ctx.out(`warning: no PC ${pc} registered (yet)`);
      const next = v.add ? [...new Set([...u.pcs, ...pcs])] : v.remove ? u.pcs.filter((p) => !pcs.includes(p)) : [...new Set(pcs)];
      await ctx.store.updateUser(id, { pcs: next });
      audit('user assign', id, `pcs=${next.join(',')}`);
      ctx.out(`${id} may open: ${next.length ? next.join(', ') : '(no PC)'}`);
      return;
    }
    case 'disable':
    case 'enable': {
      const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
      const id = userIdArg(positionals, `user ${sub}`);
      await mustGet(ctx, id);
      await ctx.store.updateUser(id, { disabled: sub === 'disable' });
      if (sub === 'disable') await ctx.store.revokeUserSessions(id);
      audit(`user ${sub}`, id);
      ctx.out(`${id} ${sub}d`);
      return;
    }
    case 'unlock': {
      const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
      const id = userIdArg(positionals, 'user unlock');
      await ctx.store.clearLoginFailures(`user:${id}`);
      audit('user unlock', id);
      ctx.out(`login lockout of ${id} cleared`);
      return;
    }
    case 'totp': {
      const { values: v, positionals } = parseArgs({ args, allowPositionals: true, options: { disable: { type: 'boolean' } } });
      const id = userIdArg(positionals, 'user totp');
      const u = await mustGet(ctx, id);
      if (v.disable) {
        if (u.role === 'admin') throw new UsageError('admins must keep TOTP');
        await ctx.store.updateUser(id, { totpSecret: undefined });
        audit('user totp disable', id);
        ctx.out(`TOTP off for ${id}`);
        return;
      }
      const secret = generateTotpSecret();
      await ctx.store.updateUser(id, { totpSecret: secret });
      audit('user totp', id);
      showTotp(ctx, id, secret);
      return;
    }
    case 'policy': {
      const { values: v, positionals } = parseArgs({ args, allowPositionals: true, options: policyOptions });
      const id = userIdArg(positionals, 'user policy');
      const u = await mustGet(ctx, id);
      const policy = v.clear ? {} : { ...u.policy, ...parsePolicy(v) };
      await ctx.store.updateUser(id, { policy: Object.keys(policy).length ? policy : undefined });
      audit('user policy', id, JSON.stringify(policy));
      ctx.out(`${id} policy: ${JSON.stringify(policy)}`);
      return;
    }
    case 'list': {
      parseArgs({ args, options: {} });
      const users = await ctx.store.listUsers();
      ctx.out(['ID', 'NAME', 'ROLE', 'GROUPS', 'PCS', 'TOTP', 'STATE', 'POLICY'].join('\t'));
      for (const u of users) {
        ctx.out([u.id, u.displayName, u.role, u.groups.join(',') || '-', u.pcs.join(',') || '-', u.totpSecret ? 'yes' : 'no', u.disabled ? 'disabled' : 'active', u.policy ? JSON.stringify(u.policy) : '-'].join('\t'));
      }
      return;
    }
    default:
      throw new UsageError(`user: unknown subcommand ${JSON.stringify(sub ?? '')} (add, remove, passwd, assign, list, totp, policy, disable, enable, unlock)`);
  }
}

export async function groupCommand(ctx: Ctx, sub: string | undefined, args: string[]): Promise<void> {
  if (sub === 'list') {
    for (const [g, p] of Object.entries(await ctx.store.groupPolicies())) ctx.out(`${g}\t${JSON.stringify(p)}`);
    return;
  }
  if (sub !== 'policy') throw new UsageError('group: subcommands are policy and list');
  const { values: v, positionals } = parseArgs({ args, allowPositionals: true, options: policyOptions });
  const g = positionals[0] ?? '';
  if (!GROUP_PATTERN.test(g)) throw new UsageError(`group names are 1-64 letters, digits, . _ @ - (got ${JSON.stringify(g)})`);
  const groups = await ctx.store.groupPolicies();
  const policy = v.clear ? null : { ...(Object.hasOwn(groups, g) ? groups[g] : {}), ...parsePolicy(v) };
  await ctx.store.setGroupPolicy(g, policy && Object.keys(policy).length ? policy : null);
  ctx.audit.write({ type: 'admin', actor: ctx.actor, action: 'group policy', target: g, detail: JSON.stringify(policy) });
  ctx.out(`group ${g} policy: ${JSON.stringify(policy ?? {})}`);
}
