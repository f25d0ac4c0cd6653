/**
 * Usage numbers for a date range, from audit records alone (pure: no files,
 * no clock but the `now` passed in). What counts:
 *
 *  - A **session** is a relay session that reached the PC (`paired`); one
 *    that was refused or never answered used no screen time. Its interval is
 *    [startedAt, endedAt). A session with a start record but no end record
 *    was cut by a gateway restart: it ends at the next `gateway.start`, or is
 *    still running (ends at `now`) when there is none.
 *  - Sessions are **counted** on the day (and in the range) they start;
 *    **hours** are the part of each session inside the day (or range).
 *  - **Concurrent sessions** is the number of sessions open at each instant
 *    (one that ends at t and one that starts at t do not overlap); the peak
 *    per day includes sessions carried over from the day before.
 *  - Days are calendar days at `utcOffsetMinutes` (Japan: +540).
 */
import type { AuditRecord } from '../audit';

export interface UsageOptions {
  /** First day, YYYY-MM-DD. */
  from: string;
  /** Last day (inclusive), YYYY-MM-DD. */
  to: string;
  utcOffsetMinutes: number;
  /** For sessions still running (epoch ms). */
  now: number;
  /** The cap to draw when the log has no gateway.start record saying it. */
  licences?: number;
}

export interface SessionRow {
  id: string;
  user: string;
  hostId: string;
  ip: string;
  start: number;
  end: number;
  bytes: number;
  reason: string;
}

export interface DayRow {
  day: string;
  sessions: number;
  hours: number;
  peak: number;
  users: number;
  failedLogins: number;
  lockouts: number;
  licenceRefusals: number;
}

export interface Usage {
  from: string;
  to: string;
  start: number;
  end: number;
  utcOffsetMinutes: number;
  /** Sessions overlapping the range, by start time. */
  sessions: SessionRow[];
  days: DayRow[];
  perUser: Array<{ user: string; sessions: number; hours: number; bytes: number }>;
  perPc: Array<{ hostId: string; sessions: number; hours: number }>;
  /** Step function: [time, sessions open from then on]. First point at `start`. */
  concurrency: Array<[number, number]>;
  /** Step function of the licence cap ([time, cap]); empty when unknown. */
  cap: Array<[number, number]>;
  peak: { sessions: number; at: number | null };
  totals: { sessions: number; hours: number; users: number; pcs: number; failedLogins: number; lockouts: number; licenceRefusals: number };
}

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** Epoch ms of local midnight of `day` at the offset. */
export function dayStart(day: string, utcOffsetMinutes: number): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) throw new RangeError(`not a date (YYYY-MM-DD): ${JSON.stringify(day)}`);
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (new Date(t).toISOString().slice(0, 10) !== day) throw new RangeError(`no such date: ${day}`);
  return t - utcOffsetMinutes * 60_000;
}

export function dayOf(t: number, utcOffsetMinutes: number): string {
  return new Date(t + utcOffsetMinutes * 60_000).toISOString().slice(0, 10);
}

const overlap = (a0: number, a1: number, b0: number, b1: number) => Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));

/** Every paired session in the log with its interval (restarts close what they cut). */
export function sessionsOf(records: AuditRecord[], now: number): SessionRow[] {
  const open = new Map<string, SessionRow>();
  const done: SessionRow[] = [];
  for (const r of [...records].sort((a, b) => Date.parse(a.time) - Date.parse(b.time))) {
    const at = Date.parse(r.time);
    if (r.type === 'session.start') {
      open.set(r.id, { id: r.id, user: r.user, hostId: r.hostId, ip: r.ip, start: Date.parse(r.startedAt), end: NaN, bytes: 0, reason: '' });
    } else if (r.type === 'session.end') {
      open.delete(r.id);
      if (!r.paired) continue;
      done.push({ id: r.id, user: r.user, hostId: r.hostId, ip: r.ip, start: Date.parse(r.startedAt), end: Date.parse(r.endedAt), bytes: r.bytesToViewer + r.bytesToHost, reason: r.reason });
    } else if (r.type === 'gateway.start') {
      // The previous process died without ending these: they ended at the latest now.
      for (const s of open.values()) done.push({ ...s, end: Math.max(s.start, at), reason: 'gateway restarted (no end record)' });
      open.clear();
    }
  }
  for (const s of open.values()) done.push({ ...s, end: Math.max(s.start, now), reason: 'still running' });
  return done.filter((s) => Number.isFinite(s.start) && Number.isFinite(s.end)).sort((a, b) => a.start - b.start || a.id.localeCompare(b.id));
}

export function computeUsage(records: AuditRecord[], o: UsageOptions): Usage {
  const start = dayStart(o.from, o.utcOffsetMinutes);
  const end = dayStart(o.to, o.utcOffsetMinutes) + DAY;
  if (end <= start) throw new RangeError(`--to (${o.to}) is before --from (${o.from})`);
  const dayNames: string[] = [];
  for (let t = start; t < end; t += DAY) dayNames.push(dayOf(t, o.utcOffsetMinutes));
  const days = new Map<string, DayRow>(dayNames.map((d) => [d, { day: d, sessions: 0, hours: 0, peak: 0, users: 0, failedLogins: 0, lockouts: 0, licenceRefusals: 0 }]));
  const dayUsers = new Map<string, Set<string>>(dayNames.map((d) => [d, new Set()]));

  const sessions = sessionsOf(records, o.now).filter((s) => s.end > start && s.start < end);
  const perUser = new Map<string, { user: string; sessions: number; hours: number; bytes: number }>();
  const perPc = new Map<string, { hostId: string; sessions: number; hours: number }>();
  for (const s of sessions) {
    const inRange = s.start >= start;
    const hours = overlap(s.start, s.end, start, end) / HOUR;
    const u = perUser.get(s.user) ?? { user: s.user, sessions: 0, hours: 0, bytes: 0 };
    const p = perPc.get(s.hostId) ?? { hostId: s.hostId, sessions: 0, hours: 0 };
    u.hours += hours;
    p.hours += hours;
    if (inRange) u.sessions++, p.sessions++, (u.bytes += s.bytes);
    perUser.set(s.user, u);
    perPc.set(s.hostId, p);
    if (inRange) days.get(dayOf(s.start, o.utcOffsetMinutes))!.sessions++;
    for (let d0 = start; d0 < end; d0 += DAY) {
      const h = overlap(s.start, s.end, d0, d0 + DAY);
      if (h <= 0) continue;
      const day = dayOf(d0, o.utcOffsetMinutes);
      days.get(day)!.hours += h / HOUR;
      dayUsers.get(day)!.add(s.user);
    }
  }
  for (const [d, set] of dayUsers) days.get(d)!.users = set.size;

  // Concurrency: +1 at each start, -1 at each end; ends first on ties.
  const events: Array<[number, number]> = [];
  let level = 0;
  for (const s of sessions) {
    if (s.start < start) level++;
    else events.push([s.start, +1]);
    if (s.end < end) events.push([s.end, -1]);
  }
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const concurrency: Array<[number, number]> = [[start, level]];
  const peak = { sessions: level, at: level > 0 ? start : null as number | null };
  let dayIdx = 0;
  const bumpPeak = (day: string, n: number) => {
    const row = days.get(day)!;
    row.peak = Math.max(row.peak, n);
  };
  bumpPeak(dayNames[0]!, level);
  for (const [t, delta] of events) {
    // Carry the level into each day that begins before this event.
    while (dayIdx + 1 < dayNames.length && start + (dayIdx + 1) * DAY <= t) bumpPeak(dayNames[++dayIdx]!, level);
    level += delta;
    const last = concurrency[concurrency.length - 1]!;
    if (last[0] === t) last[1] = level;
    else concurrency.push([t, level]);
    bumpPeak(dayNames[dayIdx]!, level);
    if (level > peak.sessions) (peak.sessions = level), (peak.at = t);
  }
  while (dayIdx + 1 < dayNames.length) bumpPeak(dayNames[++dayIdx]!, level);

  // Login and licence events, by day.
  const cap: Array<[number, number]> = [];
  let capBefore: number | null = o.licences ?? null;
  for (const r of records) {
    const t = Date.parse(r.time);
    if (r.type === 'gateway.start') {
      if (t < start) capBefore = r.licences;
      else if (t < end) cap.push([t, r.licences]);
      continue;
    }
    if (t < start || t >= end) continue;
    const row = days.get(dayOf(t, o.utcOffsetMinutes))!;
    if (r.type === 'login.failed') row.failedLogins++;
    else if (r.type === 'login.lockout') row.lockouts++;
    else if (r.type === 'licence.refused') row.licenceRefusals++;
  }
  cap.sort((a, b) => a[0] - b[0]);
  // Unknown before the first gateway.start in the range: the line starts there.
  if (capBefore !== null) cap.unshift([start, capBefore]);

  const dayRows = [...days.values()];
  const sum = (f: (d: DayRow) => number) => dayRows.reduce((a, d) => a + f(d), 0);
  return {
    from: o.from, to: o.to, start, end, utcOffsetMinutes: o.utcOffsetMinutes, sessions, days: dayRows,
    perUser: [...perUser.values()].sort((a, b) => b.hours - a.hours || a.user.localeCompare(b.user)),
    perPc: [...perPc.values()].sort((a, b) => b.hours - a.hours || a.hostId.localeCompare(b.hostId)),
    concurrency, cap, peak,
    totals: {
      sessions: sum((d) => d.sessions), hours: sum((d) => d.hours), users: perUser.size, pcs: perPc.size,
      failedLogins: sum((d) => d.failedLogins), lockouts: sum((d) => d.lockouts), licenceRefusals: sum((d) => d.licenceRefusals),
    },
  };
}
