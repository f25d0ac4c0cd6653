/**
 * `pc …` subcommands: register office PCs (host id + secret, the secret
 * printed once and only its hash kept), revoke them, rotate a secret, list.
 * A running gateway drops a revoked PC's connection within its store check
 * interval.
 */
import { parseArgs } from 'node:util';
import { HOST_ID_PATTERN } from '../../relay/relayProtocol';
import { generateHostSecret, hashHostSecret } from '../hostSecrets';
import { type Ctx, UsageError } from './common';

function hostIdArg(positionals: string[], what: string): string {
  const id = positionals[0];
  if (!id) throw new UsageError(`${what}: which PC? (a host id)`);
  if (!HOST_ID_PATTERN.test(id)) throw new UsageError(`host ids are 1-64 letters, digits, . _ - starting with a letter or digit (got ${JSON.stringify(id)})`);
  return id;
}

function showSecret(ctx: Ctx, id: string, secret: string): void {
  ctx.out(`host id: ${id}`);
  ctx.out(`secret (shown once; keep it in a file readable only by the host's service account): ${secret}`);
  ctx.out('start the host on that PC with, e.g.:');
  ctx.out(`  node examples/host.js --display :0 --relay wss://<gateway>:8443 --host-id ${id} --secret-file ${id}.secret --relay-ca cert.pem`);
}

export async function pcCommand(ctx: Ctx, sub: string | undefined, args: string[]): Promise<void> {
  const audit = (action: string, target: string, detail?: string) =>
    ctx.audit.write({ type: 'admin', actor: ctx.actor, action, target, ...(detail ? { detail } : {}) });
  switch (sub) {
    case 'add': {
      const { values: v, positionals } = parseArgs({ args, allowPositionals: true, options: { name: { type: 'string' } } });
      const id = hostIdArg(positionals, 'pc add');
      const secret = generateHostSecret();
      const ok = await ctx.store.createPc({ id, name: v.name ?? id, secretHash: hashHostSecret(secret), revoked: false, createdAt: Date.now() });
      if (!ok) throw new UsageError(`PC ${id} exists (revoked ids are not reused; \`pc rotate\` gives an existing PC a new secret)`);
      audit('pc add', id, v.name);
      showSecret(ctx, id, secret);
      return;
    }
    case 'rotate': {
      const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
      const id = hostIdArg(positionals, 'pc rotate');
      const secret = generateHostSecret();
      // A rotated secret also un-revokes: it is how a revoked PC is taken back into service.
      if (!(await ctx.store.updatePc(id, { secretHash: hashHostSecret(secret), revoked: false }))) throw new UsageError(`no PC ${id}`);
      audit('pc rotate', id);
      showSecret(ctx, id, secret);
      return;
    }
    case 'revoke': {
      const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
      const id = hostIdArg(positionals, 'pc revoke');
      if (!(await ctx.store.updatePc(id, { revoked: true }))) throw new UsageError(`no PC ${id}`);
      audit('pc revoke', id);
      ctx.out(`revoked ${id}: it is refused from now on (a running gateway drops it within a few seconds)`);
      return;
    }
    case 'list': {
      parseArgs({ args, options: {} });
      ctx.out(['HOST ID', 'NAME', 'STATE', 'USERS'].join('\t'));
      const users = await ctx.store.listUsers();
      for (const pc of await ctx.store.listPcs()) {
        const who = users.filter((u) => u.pcs.includes(pc.id)).map((u) => u.id);
        ctx.out([pc.id, pc.name, pc.revoked ? 'revoked' : 'active', who.join(',') || '-'].join('\t'));
      }
      return;
    }
    default:
      throw new UsageError(`pc: unknown subcommand ${JSON.stringify(sub ?? '')} (add, revoke, rotate, list)`);
  }
}
