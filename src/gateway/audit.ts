/**
 * The audit log: one JSON object per line, appended to `audit.log` in the
 * data dir (mode 0600). It is both the record a city keeps and the only input
 * of the usage report (report/), so every event a report counts is here with
 * the fields it needs; `report/auditReader.ts` reads these same types back.
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

export const AUDIT_FILE = 'audit.log';

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
  | { type: 'session.start'; id: string; user: string; hostId: string; ip: string; viewOnly: boolean; startedAt: string }
  | {
      type: 'session.end'; id: string; user: string; hostId: string; ip: string; startedAt: string; endedAt: string;
      durationMs: number; bytesToViewer: number; bytesToHost: number; paired: boolean; reason: string;
    }
  | { type: 'pc.online'; hostId: string; ip: string }
  | { type: 'pc.offline'; hostId: string; reason: string }
  | { type: 'relay.refused'; reason: string; ip: string; hostId?: string; user?: string; suppressed?: number }
  | { type: 'admin'; actor: string; action: string; target: string; detail?: string };

export type AuditRecord = AuditEvent & { time: string };

const MAX_FIELD = 256;

/** Strings cut to a bounded length: attacker-chosen names must not bloat the log. */
function bounded(e: AuditEvent): AuditEvent {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) out[k] = typeof v === 'string' ? v.slice(0, k === 'userTried' ? 64 : MAX_FIELD) : v;
  return out as AuditEvent;
}

export class AuditLog {
  readonly file: string;
  private fd: number | null = null;

  /** `now` stamps records (tests pass a fixed clock). */
  constructor(dataDir: string, private readonly now: () => number = Date.now) {
    this.file = path.join(dataDir, AUDIT_FILE);
  }

  /**
   * Appends one record. Synchronous on purpose: an audit record must be in the
   * file before the action it records is answered (a login, a kick), and a
   * line is far smaller than a disk block.
   */
  write(e: AuditEvent): AuditRecord {
    const rec = { time: new Date(this.now()).toISOString(), ...bounded(e) } as AuditRecord;
    this.fd ??= fs.openSync(this.file, 'a', 0o600);
    fs.writeSync(this.fd, `${JSON.stringify(rec)}\n`);
    return rec;
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}
