// The gateway's pieces as separate processes, for the multi-process tests: the
// gateway CLI and server (bin/tilecast-gateway.js), office PCs dialling out
// (examples/host.js --relay), the JSON login a script or Node viewer uses, and
// the audit log's text.
import type { Browser, Page } from 'playwright-core';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import { until } from '../../helpers';
import { auditFiles } from '../../../src/gateway/audit';

export const auditText = (dataDir: string) => auditFiles(dataDir).map((f) => fs.readFileSync(f, 'utf8')).join('');

export const ROOT = path.join(__dirname, '..', '..', '..');
export interface Proc {
  proc: ChildProcess;
  out: () => string;
  exited: Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function startProc(args: string[], env: NodeJS.ProcessEnv = process.env): Proc {
  const proc = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return {
    proc,
    out: () => out,
    exited,
    kill: async (signal = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await exited;
    },
  };
}

export function cli(dataDir: string, args: string[], input?: string): string {
  return execFileSync(process.execPath, [path.join(ROOT, 'bin', 'tilecast-gateway.js'), '--data-dir', dataDir, ...args], { input, encoding: 'utf8', cwd: ROOT });
}

export async function startGatewayProc(dataDir: string, listen: string): Promise<{ proc: Proc; url: string; port: number }> {
  const proc = startProc([path.join(ROOT, 'bin', 'tilecast-gateway.js'), '--data-dir', dataDir, 'serve', '--listen', listen, '--licences', '2']);
  await until(() => /serving https:\/\/\S+/.test(proc.out()), `the gateway to serve (output: ${proc.out()})`, 30_000);
  const url = /serving (https:\/\/\S+)/.exec(proc.out())![1]!.replace(/\/$/, '');
  return { proc, url, port: Number(new URL(url).port) };
}

export function startPcProc(args: string[], hostId: string, secretFile: string, gatewayPort: number, dataDir: string, env?: NodeJS.ProcessEnv): Proc {
  return startProc([path.join(ROOT, 'examples', 'host.js'), ...args, '--relay', `wss://127.0.0.1:${gatewayPort}`, '--host-id', hostId,
    '--secret-file', secretFile, '--relay-ca', path.join(dataDir, 'cert.pem'), '--fps', '30'], env);
}

/** POST /api/login (JSON): the token a script or the Node viewer uses, or the HTTP status. */
export function apiLogin(port: number, ca: Buffer, user: string, password: string): Promise<{ status: number; body: { token?: string; error?: string } }> {
  const body = JSON.stringify({ user, password });
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, servername: 'localhost', ca, rejectUnauthorized: false, method: 'POST', path: '/api/login', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let s = '';
      res.on('data', (d) => (s += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: s ? JSON.parse(s) : {} }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Logs in through the gateway's login form in a fresh browser context (the page after submitting). */
export async function browserLogin(browser: Browser, base: string, user: string, password: string, locale = 'ja-JP'): Promise<Page> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, locale, viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.fill('input[name=user]', user);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  return page;
}
