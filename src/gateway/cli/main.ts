/**
 * tilecast-gateway: the example gateway app's command line
 * (bin/tilecast-gateway.js calls `main`). docs/gateway.md walks through it.
 */
import { parseArgs } from 'node:util';
import * as path from 'node:path';
import { auditFiles } from '../audit';
import { parseUtcOffset, writeReport } from '../report/report';
import { type Ctx, DEFAULT_DATA_DIR, UsageError, closeCtx, openCtx } from './common';
import { pcCommand } from './pcCommands';
import { packageVersion, serveCommand } from './serve';
import { groupCommand, userCommand } from './userCommands';

export const HELP = `tilecast-gateway — login, licences, audit and reports in front of office PCs that dial out

Usage: tilecast-gateway <command> [options]      (every command takes --data-dir DIR,
                                                 default $TILECAST_GATEWAY_DATA or ./gateway-data)
Server
  serve [--listen [ADDR:]PORT]        HTTPS pages + relay on one port (default 0.0.0.0:8443)
        [--licences N]                concurrent sessions allowed (default 10)
        [--cert FILE --key FILE]      your certificate; default: self-signed, made on first start
                                      in the data dir (cert.pem: give it to the PCs as --relay-ca)
        [--hostname NAME]...          extra names for the self-signed certificate
        [--user-failure-limit N]      failed logins per ID before a lockout (default 5)
        [--ip-failure-limit N]        failed logins per client address (default 30)
        [--lockout 15m]               counting window and lock length (default 15m)
        [--token-ttl 1h]              session cookie lifetime, renewed while a page is open
        [--login-max 12h]             a login ends after this whatever happens
        [--idle-timeout 30m]          default policy: end sessions without input (0: never)
        [--max-session 0]             default policy: longest session (0: no limit)
        [--view-only]                 default policy: view only
        [--audio] [--microphone]      default policy: may hear the PC's sound / send the microphone
                                      (both off unless given; the PC must enable audio too)
        [--trust-proxy ADDR[,ADDR]]   reverse proxies in front: take the client's address from
                                      their X-Forwarded-For (lockouts, audit)
Users
  user add ID [--name NAME] [--role user|admin] [--groups G1,G2] [--pcs PC1,PC2]
              [--password-stdin | --generate] [--totp]   (admins always get TOTP)
  user passwd ID [--password-stdin | --generate]   new password; ends the user's logins
  user assign ID PC... [--add | --remove]           the PCs the user may open
  user totp ID [--disable]                          new TOTP secret (or turn it off)
  user policy ID [--view-only true|false] [--audio true|false] [--microphone true|false]
              [--idle-timeout 30m] [--max-session 8h] [--clear]
  user disable|enable|unlock|remove ID
  user list
  group policy NAME [--view-only …] [--audio …] [--microphone …] [--idle-timeout …] [--max-session …] [--clear]
  group list
PCs
  pc add HOST-ID [--name NAME]     prints the PC's secret once
  pc rotate HOST-ID                new secret (also takes a revoked PC back)
  pc revoke HOST-ID                refused from now on; a running gateway drops it
  pc list
Reports
  report --from YYYY-MM-DD --to YYYY-MM-DD --out DIR [--utc-offset +09:00] [--lang ja|en]
         [--licences N]           index.html (SVG charts) + CSV files from the audit log

Passwords are never taken from the command line: they are asked on the terminal
(no echo), read from stdin with --password-stdin, or generated with --generate.
`;

function positiveInt(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} takes a positive integer (got ${JSON.stringify(v)})`);
  return n;
}

/** Takes out --data-dir, which may come anywhere: the data dir, and the rest (command first). */
export function splitDataDir(argv: readonly string[]): { dataDir: string; rest: string[] } {
  let dataDir = DEFAULT_DATA_DIR;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--data-dir') dataDir = argv[++i] ?? dataDir;
    else if (a.startsWith('--data-dir=')) dataDir = a.slice('--data-dir='.length);
    else rest.push(a);
  }
  return { dataDir, rest };
}

/** Runs one command; resolves to the exit code. */
export async function main(argv: string[], out: (s: string) => void = console.log): Promise<number> {
  const { dataDir, rest } = splitDataDir(argv);
  const [command, sub, ...args] = rest;
  try {
    if (!command || command === 'help' || command === '--help' || command === '-h' || rest.includes('--help') || rest.includes('-h')) {
      out(HELP);
      return 0;
    }
    if (command === '--version' || command === 'version') {
      out(packageVersion());
      return 0;
    }
    if (command === 'serve') {
      await serveCommand(dataDir, [sub, ...args].filter((x): x is string => x !== undefined), out);
      return 0;
    }
    if (command === 'report') {
      const { values: v } = parseArgs({
        args: [sub, ...args].filter((x): x is string => x !== undefined),
        options: { from: { type: 'string' }, to: { type: 'string' }, out: { type: 'string' }, 'utc-offset': { type: 'string', default: '+09:00' }, lang: { type: 'string', default: 'ja' }, licences: { type: 'string' } },
      });
      if (!v.from || !v.to || !v.out) throw new UsageError('report needs --from, --to and --out');
      if (v.lang !== 'ja' && v.lang !== 'en') throw new UsageError('--lang is ja or en');
      const r = await writeReport({
        auditFiles: auditFiles(dataDir), from: v.from, to: v.to, outDir: v.out, utcOffsetMinutes: parseUtcOffset(v['utc-offset']!), lang: v.lang,
        ...(v.licences ? { licences: positiveInt(v.licences, '--licences') } : {}),
      });
      const tot = r.usage.totals;
      out(`${v.from} – ${v.to}: ${tot.sessions} sessions, ${tot.hours.toFixed(1)} h, ${tot.users} users, peak ${r.usage.peak.sessions} concurrent, ${tot.failedLogins} failed logins${r.malformed ? `; ${r.malformed} unreadable audit line(s) skipped` : ''}`);
      for (const f of r.files) out(`  ${f}`);
      return 0;
    }
    if (command !== 'user' && command !== 'group' && command !== 'pc') throw new UsageError(`unknown command ${JSON.stringify(command)} (try --help)`);
    const ctx: Ctx = await openCtx(dataDir, out);
    try {
      if (command === 'user') await userCommand(ctx, sub, args);
      else if (command === 'group') await groupCommand(ctx, sub, args);
      else await pcCommand(ctx, sub, args);
    } finally {
      await closeCtx(ctx);
    }
    return 0;
  } catch (err) {
    const e = err as Error & { code?: string };
    // parseArgs' own errors (unknown option, missing value) are usage errors too.
    const usage = err instanceof UsageError || e.code?.startsWith('ERR_PARSE_ARGS') || err instanceof RangeError;
    console.error(`tilecast-gateway: ${e.message}${usage ? '' : `\n${e.stack ?? ''}`}`);
    return usage ? 2 : 1;
  }
}
