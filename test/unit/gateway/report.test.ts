// Usage report numbers from a fixed audit log (exact counts and hours), and
// the files `report` writes.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseAuditText } from '../../../src/gateway/report/auditReader';
import { computeUsage, dayStart } from '../../../src/gateway/report/usage';
import { csvCell, toCsv } from '../../../src/gateway/report/csv';
import { parseUtcOffset, writeReport } from '../../../src/gateway/report/report';
import { AuditLog, auditFiles } from '../../../src/gateway/audit';

const Z = (s: string) => Date.parse(`2026-11-${s}Z`);
const iso = (s: string) => new Date(Z(s)).toISOString();
let n = 0;
const session = (user: string, hostId: string, start: string, end: string | null, o: { paired?: boolean; bytes?: number } = {}) => {
  const id = `s${++n}`;
  const lines = [{ time: iso(start), type: 'session.start', id, user, hostId, ip: '10.0.0.1', viewOnly: false, startedAt: iso(start) }];
  if (end !== null) {
    lines.push({
      time: iso(end), type: 'session.end', id, user, hostId, ip: '10.0.0.1', startedAt: iso(start), endedAt: iso(end), durationMs: Z(end) - Z(start),
      bytesToViewer: o.bytes ?? 1000, bytesToHost: 200, paired: o.paired ?? true, reason: 'viewer closed',
    } as never);
  }
  return lines;
};

// Days are Japan days (UTC+9): 2026-11-02 JST = 11-01T15:00Z .. 11-02T15:00Z.
const records = [
  { time: iso('01T14:00:00'), type: 'gateway.start', licences: 3, listen: ':8443', version: '0.1.0' },
  { time: iso('01T14:59:00'), type: 'login.failed', userTried: 'x', ip: '1.1.1.1', reason: 'bad-credentials' }, // before the range
  ...session('alice', 'pc1', '01T14:30:00', '01T16:00:00'), // A: 1 h inside, started before: not counted
  ...session('alice', 'pc1', '02T00:00:00', '02T02:00:00'), // B: 2 h
  ...session('bob', 'pc2', '02T01:00:00', '02T04:30:00'), // C: 3.5 h
  ...session('carol', 'pc1', '02T01:30:00', '02T01:30:00', { paired: false }), // D: never reached the PC
  ...session('carol', 'pc3', '02T02:00:00', '02T03:00:00'), // J: starts as B ends
  ...session('bob', 'pc2', '02T14:00:00', null), // E: cut by the restart at 16:00Z
  { time: iso('02T16:00:00'), type: 'gateway.start', licences: 4, listen: ':8443', version: '0.1.0' },
  ...session('alice', 'pc1', '03T00:00:00', '03T01:00:00', { bytes: 5000 }), // F: 1 h
  ...session('eve', 'pc5', '03T10:00:00', null), // I: still running at `now`
  ...session('carol', 'pc3', '03T14:30:00', '03T16:00:00'), // G: 0.5 h inside
  ...session('dave', 'pc4', '03T15:30:00', '03T16:00:00'), // H: after the range
  { time: iso('02T03:00:00'), type: 'login.failed', userTried: 'alice', ip: '1.1.1.1', reason: 'bad-credentials' },
  { time: iso('02T03:01:00'), type: 'login.failed', userTried: '=cmd', ip: '1.1.1.1', reason: 'bad-credentials' },
  { time: iso('02T03:02:00'), type: 'login.lockout', key: 'user', userTried: 'alice', ip: '1.1.1.1', until: iso('02T03:17:00') },
  { time: iso('03T05:00:00'), type: 'login.failed', userTried: 'bob', ip: '2.2.2.2', reason: 'locked' },
  { time: iso('03T06:00:00'), type: 'licence.refused', user: 'frank', ip: '3.3.3.3', at: 'login', cap: 4 },
];
const text = `${records.map((r) => JSON.stringify(r)).join('\n')}\nnot json\n{"type":"torn`;
const opts = { from: '2026-11-02', to: '2026-11-03', utcOffsetMinutes: 540, now: Z('04T00:00:00') };

t.test('the audit reader skips what is not a record', (t) => {
  const r = parseAuditText(text);
  t.equal(r.records.length, records.length);
  t.equal(r.malformed, 2);
  t.end();
});

t.test('usage: exact counts, hours and concurrency', (t) => {
  const u = computeUsage(parseAuditText(text).records, opts);
  t.equal(u.start, Z('01T15:00:00'));
  t.equal(u.end, Z('03T15:00:00'));
  t.same(u.days.map((d) => [d.day, d.sessions, d.hours, d.peak, d.users, d.failedLogins, d.lockouts, d.licenceRefusals]), [
    ['2026-11-02', 4, 8.5, 2, 3, 2, 1, 0],
    ['2026-11-03', 3, 7.5, 2, 4, 1, 0, 1],
  ]);
  t.same(u.totals, { sessions: 7, hours: 16, users: 4, pcs: 4, failedLogins: 3, lockouts: 1, licenceRefusals: 1 });
  t.same(u.perUser, [
    { user: 'bob', sessions: 2, hours: 5.5, bytes: 1200 }, // E was cut: its bytes are unknown
    { user: 'eve', sessions: 1, hours: 5, bytes: 0 },
    { user: 'alice', sessions: 2, hours: 4, bytes: 1200 + 5200 },
    { user: 'carol', sessions: 2, hours: 1.5, bytes: 2400 },
  ]);
  t.same(u.perPc, [{ hostId: 'pc2', sessions: 2, hours: 5.5 }, { hostId: 'pc5', sessions: 1, hours: 5 }, { hostId: 'pc1', sessions: 2, hours: 4 }, { hostId: 'pc3', sessions: 2, hours: 1.5 }]);
  t.same(u.concurrency, [
    [Z('01T15:00:00'), 1], [Z('01T16:00:00'), 0], [Z('02T00:00:00'), 1], [Z('02T01:00:00'), 2], [Z('02T02:00:00'), 2], [Z('02T03:00:00'), 1],
    [Z('02T04:30:00'), 0], [Z('02T14:00:00'), 1], [Z('02T16:00:00'), 0], [Z('03T00:00:00'), 1], [Z('03T01:00:00'), 0], [Z('03T10:00:00'), 1], [Z('03T14:30:00'), 2],
  ]);
  t.same(u.peak, { sessions: 2, at: Z('02T01:00:00') });
  t.same(u.cap, [[Z('01T15:00:00'), 3], [Z('02T16:00:00'), 4]]);
  const e = u.sessions.find((s) => s.user === 'bob' && s.start === Z('02T14:00:00'));
  t.equal(e?.end, Z('02T16:00:00'), 'a session without an end record ends at the next gateway start');
  t.equal(e?.reason, 'gateway restarted (no end record)');
  t.equal(u.sessions.find((s) => s.user === 'eve')?.reason, 'still running');
  t.notOk(u.sessions.some((s) => s.user === 'dave'), 'sessions after the range are left out');
  t.end();
});

t.test('a range with nothing in it', (t) => {
  const u = computeUsage(parseAuditText(text).records, { ...opts, from: '2026-10-01', to: '2026-10-01', licences: 7 });
  t.same(u.totals, { sessions: 0, hours: 0, users: 0, pcs: 0, failedLogins: 0, lockouts: 0, licenceRefusals: 0 });
  t.same(u.concurrency, [[dayStart('2026-10-01', 540), 0]]);
  t.same(u.cap, [[dayStart('2026-10-01', 540), 7]], 'the cap from the option when the log does not say');
  t.end();
});

t.test('dates and offsets are validated', (t) => {
  t.throws(() => computeUsage([], { ...opts, from: '2026-11-31' }), /no such date/);
  t.throws(() => computeUsage([], { ...opts, from: '2026/11/01' }), /YYYY-MM-DD/);
  t.throws(() => computeUsage([], { ...opts, from: '2026-11-04' }), /before/);
  t.equal(parseUtcOffset('+09:00'), 540);
  t.equal(parseUtcOffset('-05:30'), -330);
  t.equal(parseUtcOffset('+9'), 540);
  t.throws(() => parseUtcOffset('JST'));
  t.end();
});

t.test('CSV: BOM, quoting, formulas defused', (t) => {
  t.equal(csvCell('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
  t.equal(csvCell('-1+2'), "'-1+2");
  t.equal(csvCell(-1.5), '-1.50', 'numbers are numbers');
  t.equal(csvCell('山田, 太郎'), '"山田, 太郎"');
  t.equal(toCsv(['a', 'b'], [[1, 'x']]), '\uFEFFa,b\r\n1,x\r\n');
  t.end();
});

t.test('writeReport: index.html with SVG charts and the CSV files', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tc-report-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  // The same records as an older version's audit.log followed by monthly files: read oldest first, as one log.
  const lines = text.split('\n');
  const third = Math.floor(lines.length / 3);
  fs.writeFileSync(path.join(dir, 'audit.log'), lines.slice(0, third).join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'audit-2026-11.log'), lines.slice(third, 2 * third).join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'audit-2026-12.log'), lines.slice(2 * third).join('\n'));
  fs.writeFileSync(path.join(dir, 'audit-notes.log'), 'not an audit file\n');
  t.same(auditFiles(dir).map((f) => path.basename(f)), ['audit.log', 'audit-2026-11.log', 'audit-2026-12.log']);
  const out = path.join(dir, 'out');
  const r = await writeReport({ auditFiles: auditFiles(dir), from: opts.from, to: opts.to, outDir: out, now: opts.now });
  t.same(fs.readdirSync(out).sort(), ['concurrency.csv', 'daily.csv', 'index.html', 'pcs.csv', 'sessions.csv', 'users.csv']);
  t.equal(r.malformed, 2);
  const html = fs.readFileSync(path.join(out, 'index.html'), 'utf8');
  t.equal((html.match(/<svg /g) ?? []).length, 6, 'six charts');
  t.match(html, /同時接続数の推移とライセンス上限/);
  t.notMatch(html, /<script/i);
  const daily = fs.readFileSync(path.join(out, 'daily.csv'), 'utf8');
  t.equal(daily, '\uFEFFdate,sessions,hours,peak_concurrent,users,failed_logins,lockouts,licence_refusals\r\n2026-11-02,4,8.50,2,3,2,1,0\r\n2026-11-03,3,7.50,2,4,1,0,1\r\n');
  const sessions = fs.readFileSync(path.join(out, 'sessions.csv'), 'utf8').split('\r\n');
  t.equal(sessions[1], 's1,2026-11-01 23:30:00,2026-11-02 01:00:00,90,alice,pc1,10.0.0.1,1200,viewer closed', 'times at UTC+09:00');
  t.equal(sessions.length, 1 + 8 + 1, 'header, eight sessions overlapping the range, final CRLF');
  const en = await writeReport({ auditFiles: auditFiles(dir), from: opts.from, to: opts.to, outDir: path.join(dir, 'en'), now: opts.now, lang: 'en' });
  t.match(fs.readFileSync(en.files[0]!, 'utf8'), /Concurrent sessions and the licence cap/);
});

t.test('AuditLog: one file per UTC month, mode 0600; a new month starts a new file', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tc-audit-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const clock = { now: Date.UTC(2026, 10, 30, 23, 59, 59) };
  const log = new AuditLog(dir, () => clock.now);
  t.teardown(() => log.close());
  log.write({ type: 'gateway.stop' });
  t.equal(path.basename(log.file), 'audit-2026-11.log');
  clock.now += 1000;
  log.write({ type: 'gateway.stop' });
  t.equal(path.basename(log.file), 'audit-2026-12.log');
  t.same(auditFiles(dir).map((f) => path.basename(f)), ['audit-2026-11.log', 'audit-2026-12.log']);
  for (const f of auditFiles(dir)) {
    t.equal(fs.readFileSync(f, 'utf8').trim().split('\n').length, 1);
    t.equal(fs.statSync(f).mode & 0o777, 0o600);
  }
  t.same(auditFiles(path.join(dir, 'missing')), [], 'no data dir yet: no files');
});
