/**
 * The audit log: one JSON object per line, appended to one file per month in
 * the data dir, `audit-YYYY-MM.log` by the record's UTC time (mode 0600), so
 * no file grows without end and a city can archive finished months. It is both
 * the record a city keeps and the only input of the usage report (report/),
 * which reads every audit file in the data dir; so every event a report counts
 * is here with the fields it needs; `report/auditReader.ts` reads these same
 * types back. (`audit.log`, one file, is what earlier versions wrote: still read.)
 *
 * Never written: passwords, TOTP codes, session tokens, host secrets. The user
 * name tried at a failed login is written (cut to 64 characters): that is
 * what an administrator needs to see a guessing attack.
 *
 * Lines are written with O_APPEND, one write each, so the CLI (admin actions)
 * and the server can append to the same file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The file earlier versions appended everything to. */
export const LEGACY_AUDIT_FILE = 'audit.log';
const MONTHLY = /^audit-(\d{4})-(\d{2})\.log$/;

/** The file a record stamped `time` (epoch ms) goes to. */
export function auditFileName(time: number): string {
  const d = new Date(time);
  return `audit-${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}.log`;
}

/** Every audit file in `dataDir`, oldest first (the legacy file, then month by month). */
export function auditFiles(dataDir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dataDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const monthly = names.filter((n) => MONTHLY.test(n)).sort();
  return [...(names.includes(LEGACY_AUDIT_FILE) ? [LEGACY_AUDIT_FILE] : []), ...monthly].map((n) => path.join(dataDir, n));
}

export type LoginFailReason = 'bad-credentials' | 'locked' | 'disabled' | 'totp-required' | 'rate-limited';

export type AuditEvent =
  | { type: 'gateway.start'; licences: number; listen: string; version: string }
  | { type: 'gateway.stop' }
  | { type: 'login.ok'; user: string; ip: string; session: string }
  | { type: 'login.failed'; userTried: string; ip: string; reason: LoginFailReason }
  | { type: 'login.lockout'; key: 'user' | 'ip'; userTried: string; ip: string; until: string }
  | { type: 'logout'; user: string; ip: string; session: string }
  | { type: 'licence.refused'; user: string; ip: string; at: 'login' | 'viewer'; hostId?: string; cap: number }
  | { type: 'viewer.refused'; user: string | null; ip: string; hostId: string | null; reason: string }
  | { type: 'session.start'; id: string; user: string; hostId: string; ip: string; viewOnly: boolean; audio: boolean; microphone: boolean; startedAt: string }
  | {
      type: 'session.end'; id: string; user: string; hostId: string; ip: string; startedAt: string; endedAt: string;
      durationMs: number; bytesToViewer: number; bytesToHost: number; paired: boolean; reason: string;
      /** Present when the PC's sound / the viewer's microphone went through the session: first and last frame, frames. */
      audio?: AuditedMediaUse; microphone?: AuditedMediaUse;
    }
  | { type: 'pc.online'; hostId: string; ip: string }
  | { type: 'pc.offline'; hostId: string; reason: string }
  | { type: 'relay.refused'; reason: string; ip: string; hostId?: string; user?: string; suppressed?: number }
  | { type: 'admin'; actor: string; action: string; target: string; detail?: string };

export interface AuditedMediaUse {
  firstAt: string;
  lastAt: string;
  frames: number;
}

export type AuditRecord = AuditEvent & { time: string };

const MAX_FIELD = 256;

/** Strings cut to a bounded length: attacker-chosen names must not bloat the log. */
function bounded(e: AuditEvent): AuditEvent {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) out[k] = typeof v === 'string' ? v.slice(0, k === 'userTried' ? 64 : MAX_FIELD) : v;
  return out as AuditEvent;
}

export class AuditLog {
  private fd: number | null = null;
  private fdName = '';

  /** `now` stamps records (tests pass a fixed clock). */
  constructor(readonly dataDir: string, private readonly now: () => number = Date.now) {}

  /** This month's file: where the next record goes. */
  get file(): string {
    return path.join(this.dataDir, auditFileName(this.now()));
  }

  /**
   * Appends one record. Synchronous on purpose: an audit record must be in the
   * file before the action it records is answered (a login, a kick), and a
   * line is far smaller than a disk block.
   */
  write(e: AuditEvent): AuditRecord {
    const now = this.now();
    const rec = { time: new Date(now).toISOString(), ...bounded(e) } as AuditRecord;
    const name = auditFileName(now);
    if (name !== this.fdName) {
      this.close(); // a new month
      this.fd = fs.openSync(path.join(this.dataDir, name), 'a', 0o600);
      this.fdName = name;
    }
    fs.writeSync(this.fd!, `${JSON.stringify(rec)}\n`);
    return rec;
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
    this.fdName = '';
  }
}
