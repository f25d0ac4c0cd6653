/**
 * Shared bits of the CLI: the data dir, opening the store and audit log, list
 * options, reading a password without echo (never from argv: it would show
 * in `ps` and the shell history).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AuditLog } from '../audit';
import { FileStore } from '../fileStore';
import { STORE_FILE } from '../gateway';
import { MAX_PASSWORD_BYTES } from '../passwords';

export const DEFAULT_DATA_DIR = process.env.TILECAST_GATEWAY_DATA || './gateway-data';

export class UsageError extends Error {}

export interface Ctx {
  dataDir: string;
  store: FileStore;
  audit: AuditLog;
  /** Who did it, for the audit log. */
  actor: string;
  out: (line: string) => void;
}

export async function openCtx(dataDir: string, out: (line: string) => void = console.log): Promise<Ctx> {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    // no passwd entry (containers)
  }
  return { dataDir, store: await FileStore.open(path.join(dataDir, STORE_FILE)), audit: new AuditLog(dataDir), actor: `cli:${user}`, out };
}

export async function closeCtx(ctx: Ctx): Promise<void> {
  await ctx.store.close();
  ctx.audit.close();
}

export function list(v: string | undefined): string[] {
  return (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

export const MIN_PASSWORD_CHARS = 8;

export function checkNewPassword(p: string): string {
  if ([...p].length < MIN_PASSWORD_CHARS) throw new UsageError(`the password must have at least ${MIN_PASSWORD_CHARS} characters`);
  if (Buffer.byteLength(p) > MAX_PASSWORD_BYTES) throw new UsageError(`the password must have at most ${MAX_PASSWORD_BYTES} bytes`);
  return p;
}

/** One line from stdin (for --password-stdin: scripts pipe it in). */
export async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) {
    chunks.push(c as Buffer);
    if (Buffer.concat(chunks).includes(0x0a) || Buffer.concat(chunks).length > 4096) break;
  }
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

/** Asks on the terminal without echo. */
export function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) throw new UsageError('no terminal to ask for the password: use --password-stdin or --generate');
  return new Promise((resolve, reject) => {
    process.stderr.write(question);
    let value = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (s: string) => {
      for (const ch of s) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new UsageError('cancelled'));
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

export async function askNewPassword(): Promise<string> {
  const a = checkNewPassword(await promptHidden('New password: '));
  const b = await promptHidden('Again: ');
  if (a !== b) throw new UsageError('the two passwords differ');
  return a;
}
