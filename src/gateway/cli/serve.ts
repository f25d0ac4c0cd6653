/**
 * `serve`: the gateway on an HTTPS server — pages and relay on one port.
 * `startGateway()` is the same without argv, for tests and embedding.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import { type AddressInfo, isIP } from 'node:net';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { AuthConfig } from '../auth';
import { loadOrMakeCertificate } from '../certificate';
import { Gateway, type GatewayOptions } from '../gateway';
import { parseDuration } from '../policy';
import { UsageError } from './common';

export interface StartOptions extends GatewayOptions {
  /** Address and port; port 0 picks a free one. Default 0.0.0.0:8443. */
  host?: string;
  port?: number;
  certFile?: string;
  keyFile?: string;
  /** Extra names for the self-signed certificate (what PCs and browsers type). */
  hostnames?: string[];
}

export interface RunningGateway {
  gateway: Gateway;
  server: https.Server;
  /** https://host:port */
  url: string;
  /** PEM of the certificate served (PCs pin it as their `ca` when self-signed). */
  cert: string;
  certPath: string;
  certCreated: boolean;
  close(): Promise<void>;
}

export function packageVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export async function startGateway(o: StartOptions): Promise<RunningGateway> {
  const gateway = await Gateway.create(o);
  if (!gateway.viewerBuilt) {
    await gateway.close();
    throw new Error('the browser viewer bundle (dist/browser/tilecast-viewer.js) is missing: run `npm run build`');
  }
  const tls = loadOrMakeCertificate(o.dataDir, { ...(o.certFile ? { certFile: o.certFile } : {}), ...(o.keyFile ? { keyFile: o.keyFile } : {}), ...(o.hostnames ? { names: o.hostnames } : {}) });
  const server = https.createServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' });
  gateway.attach(server);
  const host = o.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 8443, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  gateway.audit.write({ type: 'gateway.start', licences: gateway.auth.config.licences, listen: `${host}:${addr.port}`, version: packageVersion() });
  let closed = false;
  return {
    gateway, server, url: `https://${shown}:${addr.port}`, cert: tls.cert, certPath: tls.certPath, certCreated: tls.created,
    async close() {
      if (closed) return;
      closed = true;
      gateway.audit.write({ type: 'gateway.stop' });
      await gateway.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export function parseListen(s: string): { host: string; port: number } {
  const m = /^(?:(?:\[([^\]]+)\]|([^:]*)):)?(\d{1,5})$/.exec(s);
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw new UsageError(`--listen takes [address:]port, e.g. 0.0.0.0:8443 (got ${JSON.stringify(s)})`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

function int(v: string | undefined, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} takes an integer ${min}..${max} (got ${JSON.stringify(v)})`);
  return n;
}

function ms(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  try {
    return parseDuration(v);
  } catch (err) {
    throw new UsageError(`--${name}: ${(err as Error).message}`);
  }
}

/** Signals within this time of the one that started the stop are copies of it, not a second request. */
export const SAME_REQUEST_MS = 1000;

export async function serveCommand(dataDir: string, args: string[], out: (s: string) => void): Promise<void> {
  const { values: v } = parseArgs({
    args,
    options: {
      listen: { type: 'string', default: '0.0.0.0:8443' },
      licences: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      hostname: { type: 'string', multiple: true },
      'user-failure-limit': { type: 'string' },
      'ip-failure-limit': { type: 'string' },
      lockout: { type: 'string' },
      'token-ttl': { type: 'string' },
      'login-max': { type: 'string' },
      'idle-timeout': { type: 'string' },
      'max-session': { type: 'string' },
      'view-only': { type: 'boolean' },
      audio: { type: 'boolean' },
      microphone: { type: 'boolean' },
      'trust-proxy': { type: 'string', multiple: true },
    },
  });
  const trustedProxies = (v['trust-proxy'] ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  for (const a of trustedProxies) if (isIP(a) === 0) throw new UsageError(`--trust-proxy takes IP addresses (got ${JSON.stringify(a)})`);
  const { host, port } = parseListen(v.listen!);
  const lockMs = ms(v.lockout, 'lockout');
  const auth: Partial<AuthConfig> = {};
  const licences = int(v.licences, 'licences', 1, 100_000);
  if (licences !== undefined) auth.licences = licences;
  const userLimit = int(v['user-failure-limit'], 'user-failure-limit', 1, 1000);
  const ipLimit = int(v['ip-failure-limit'], 'ip-failure-limit', 1, 100_000);
  if (userLimit !== undefined || lockMs !== undefined) auth.userLockout = { limit: userLimit ?? 5, windowMs: lockMs ?? 900_000, lockMs: lockMs ?? 900_000 };
  if (ipLimit !== undefined || lockMs !== undefined) auth.ipLockout = { limit: ipLimit ?? 30, windowMs: lockMs ?? 900_000, lockMs: lockMs ?? 900_000 };
  const tokenTtl = ms(v['token-ttl'], 'token-ttl');
  const loginMax = ms(v['login-max'], 'login-max');
  if (tokenTtl) auth.tokenTtlMs = tokenTtl;
  if (loginMax) auth.loginMaxMs = loginMax;
  const idle = ms(v['idle-timeout'], 'idle-timeout');
  const maxSession = ms(v['max-session'], 'max-session');
  const running = await startGateway({
    dataDir, host, port, auth,
    ...(trustedProxies.length ? { relay: { trustedProxies } } : {}),
    defaultPolicy: { ...(idle !== undefined ? { idleTimeoutMs: idle } : {}), ...(maxSession !== undefined ? { maxSessionMs: maxSession } : {}), ...(v['view-only'] ? { viewOnly: true } : {}),
      ...(v.audio ? { audio: true } : {}), ...(v.microphone ? { microphone: true } : {}) },
    ...(v.cert ? { certFile: v.cert } : {}), ...(v.key ? { keyFile: v.key } : {}), ...(v.hostname ? { hostnames: v.hostname } : {}),
  });
  const fp = new crypto.X509Certificate(running.cert).fingerprint256;
  const cfg = running.gateway.auth.config;
  out(`tilecast gateway ${packageVersion()} serving ${running.url} (data: ${path.resolve(dataDir)})`);
  out(`licences: ${cfg.licences}; lockout: ${cfg.userLockout.limit} failures per ID / ${cfg.ipLockout.limit} per address in ${cfg.userLockout.windowMs / 60000} min → ${cfg.userLockout.lockMs / 60000} min`);
  out(`certificate: ${running.certPath}${running.certCreated ? ' (self-signed, made now)' : ''}; SHA-256 ${fp}`);
  // --hostname only shapes a certificate being made: say so when the existing one lacks a name.
  const x509 = new crypto.X509Certificate(running.cert);
  for (const name of v.hostname ?? []) {
    const ok = /^[\d.]+$|:/.test(name) ? x509.checkIP(name) : x509.checkHost(name);
    if (!ok) out(`warning: the certificate does not name ${name}; delete cert.pem and key.pem in the data dir to make a new one (PCs pinning the old one need the new cert.pem)`);
  }
  out(`audit log: ${running.gateway.audit.file}`);
  out(`process: pid ${process.pid}, node ${process.version} ${process.execArgv.join(' ') || '(no flags)'}`);
  await new Promise<void>((resolve) => {
    // The first signal stops cleanly; another one later quits at once (a close can wait on a stuck
    // connection). Signals that come together are one request: a terminal's Ctrl-C reaches this
    // process and bin/tilecast-gateway.js's launcher, which passes its copy on, and some senders
    // signal twice (timeout(1): the process, then its group).
    let stoppedAt: number | null = null;
    const stop = (why: string) => {
      if (stoppedAt !== null) return;
      stoppedAt = performance.now();
      out(`${why}: stopping (again to quit at once)`);
      running.close().then(resolve, resolve);
    };
    const signalled = (sig: NodeJS.Signals) => {
      if (stoppedAt === null || performance.now() - stoppedAt < SAME_REQUEST_MS) return stop(sig);
      out(`${sig} again: quitting now, without waiting for connections to close`);
      process.exit(128 + os.constants.signals[sig]);
    };
    process.on('SIGINT', signalled);
    process.on('SIGTERM', signalled);
    // Started by bin/tilecast-gateway.js's launcher (an IPC channel): if the launcher goes, even by
    // SIGKILL, stop too rather than linger holding the port.
    if (process.channel) {
      process.channel.unref();
      process.once('disconnect', () => stop('launcher exited'));
    }
  });
}
