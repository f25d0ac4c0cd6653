/**
 * The usage report page (one self-contained HTML file with inline SVG, no
 * script) and its CSV files, from computed Usage.
 */
import { barList, columnChart, stepChart } from './charts';
import { localTime, offsetLabel, toCsv } from './csv';
import type { Usage } from './usage';
import type { Lang } from '../../i18n/language';

export type ReportLang = Lang;

const L = {
  title: ['リモート接続 利用状況報告', 'Remote access usage report'],
  period: ['対象期間', 'Period'],
  generated: ['作成日時', 'Generated'],
  summary: ['概要', 'Summary'],
  sessions: ['接続回数', 'Sessions'],
  hours: ['利用時間（時間）', 'Hours of use'],
  users: ['利用者数', 'Users'],
  pcs: ['利用PC数', 'PCs used'],
  peak: ['最大同時接続数', 'Peak concurrent sessions'],
  licences: ['ライセンス数（同時接続上限）', 'Licences (concurrent cap)'],
  failedLogins: ['ログイン失敗', 'Failed logins'],
  lockouts: ['ロックアウト', 'Lockouts'],
  licenceRefusals: ['上限による接続拒否', 'Refused at the licence cap'],
  concurrentChart: ['同時接続数の推移とライセンス上限', 'Concurrent sessions and the licence cap'],
  concurrent: ['同時接続数', 'Concurrent sessions'],
  cap: ['ライセンス上限', 'Licence cap'],
  perDay: ['日別接続回数', 'Sessions per day'],
  hoursPerDay: ['日別利用時間', 'Hours per day'],
  perUser: ['利用者別利用時間', 'Hours per user'],
  perPc: ['PC別利用時間', 'Hours per PC'],
  failedPerDay: ['日別ログイン失敗回数', 'Failed logins per day'],
  daily: ['日別集計', 'Daily figures'],
  day: ['日付', 'Date'],
  times: ['回', 'sessions'],
  h: ['時間', 'h'],
  count: ['回', 'count'],
  user: ['利用者', 'User'],
  pc: ['PC', 'PC'],
  files: ['CSVファイル', 'CSV files'],
  topNote: ['上位30件を表示（全件はCSV）', 'Top 30 shown (all in the CSV)'],
  malformed: ['読み取れなかった監査ログの行', 'Unreadable audit log lines'],
  none: ['期間内の接続はありません', 'No sessions in this period'],
} as const;

const esc = (s: unknown) => String(s).replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!);
const h2 = (v: number) => v.toFixed(1);

export const CSV_FILES = ['daily.csv', 'sessions.csv', 'users.csv', 'pcs.csv', 'concurrency.csv'] as const;

export function reportCsv(u: Usage): Record<(typeof CSV_FILES)[number], string> {
  const off = offsetLabel(u.utcOffsetMinutes);
  return {
    'daily.csv': toCsv(['date', 'sessions', 'hours', 'peak_concurrent', 'users', 'failed_logins', 'lockouts', 'licence_refusals'],
      u.days.map((d) => [d.day, d.sessions, d.hours, d.peak, d.users, d.failedLogins, d.lockouts, d.licenceRefusals])),
    'sessions.csv': toCsv(['session_id', `start (${off})`, `end (${off})`, 'minutes', 'user', 'pc', 'client_ip', 'bytes', 'end_reason'],
      u.sessions.map((s) => [s.id, localTime(s.start, u.utcOffsetMinutes), localTime(s.end, u.utcOffsetMinutes), (s.end - s.start) / 60_000, s.user, s.hostId, s.ip, s.bytes, s.reason])),
    'users.csv': toCsv(['user', 'sessions', 'hours', 'bytes'], u.perUser.map((x) => [x.user, x.sessions, x.hours, x.bytes])),
    'pcs.csv': toCsv(['pc', 'sessions', 'hours'], u.perPc.map((x) => [x.hostId, x.sessions, x.hours])),
    'concurrency.csv': toCsv([`time (${off})`, 'concurrent_sessions'], u.concurrency.map(([t, n]) => [localTime(t, u.utcOffsetMinutes), n])),
  };
}

export function reportHtml(u: Usage, o: { lang: ReportLang; generatedAt: number; malformed: number }): string {
  const i = o.lang === 'en' ? 1 : 0;
  const tx = (k: keyof typeof L) => L[k][i];
  const off = offsetLabel(u.utcOffsetMinutes);
  const ticks = u.days.map((_, k) => u.start + k * 86_400_000);
  const capNow = u.cap.length ? u.cap[u.cap.length - 1]![1] : null;
  const summary: Array<[string, string]> = [
    [tx('sessions'), String(u.totals.sessions)],
    [tx('hours'), h2(u.totals.hours)],
    [tx('users'), String(u.totals.users)],
    [tx('pcs'), String(u.totals.pcs)],
    [tx('peak'), `${u.peak.sessions}${u.peak.at !== null ? ` (${localTime(u.peak.at, u.utcOffsetMinutes)})` : ''}`],
    [tx('licences'), capNow === null ? '-' : String(capNow)],
    [tx('failedLogins'), String(u.totals.failedLogins)],
    [tx('lockouts'), String(u.totals.lockouts)],
    [tx('licenceRefusals'), String(u.totals.licenceRefusals)],
  ];
  if (o.malformed) summary.push([tx('malformed'), String(o.malformed)]);
  const days = u.days.map((d) => ({ label: d.day.slice(5), value: d.sessions }));
  const charts = [
    stepChart({
      title: tx('concurrentChart'), points: u.concurrency, limit: u.cap, limitLabel: tx('cap'), seriesLabel: tx('concurrent'),
      start: u.start, end: u.end, ticks, tick: (t) => localTime(t, u.utcOffsetMinutes).slice(5, 10),
    }),
    columnChart({ title: tx('perDay'), unit: tx('times'), bars: days, integer: true }),
    columnChart({ title: tx('hoursPerDay'), unit: tx('h'), bars: u.days.map((d) => ({ label: d.day.slice(5), value: d.hours })), colour: '#2ca02c' }),
    `<p class="note">${esc(tx('topNote'))}</p>`,
    barList({ title: tx('perUser'), unit: tx('h'), bars: u.perUser.map((x) => ({ label: x.user, value: x.hours })) }),
    barList({ title: tx('perPc'), unit: tx('h'), bars: u.perPc.map((x) => ({ label: x.hostId, value: x.hours })) }),
    columnChart({ title: tx('failedPerDay'), unit: tx('count'), bars: u.days.map((d) => ({ label: d.day.slice(5), value: d.failedLogins })), colour: '#d62728', integer: true }),
  ];
  const dailyRows = u.days.map((d) => `<tr><td>${d.day}</td><td>${d.sessions}</td><td>${h2(d.hours)}</td><td>${d.peak}</td><td>${d.users}</td><td>${d.failedLogins}</td><td>${d.lockouts}</td><td>${d.licenceRefusals}</td></tr>`).join('\n');
  return `<!doctype html>
<html lang="${o.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(tx('title'))} ${esc(u.from)} – ${esc(u.to)}</title>
<style>
body{font-family:system-ui,"Hiragino Sans","Yu Gothic UI","Meiryo",sans-serif;margin:24px;color:#1d2129}
table{border-collapse:collapse;margin:8px 0 24px}
th,td{border:1px solid #ccc;padding:4px 10px;text-align:right}
th:first-child,td:first-child{text-align:left}
svg{display:block;max-width:100%;height:auto;margin:12px 0}
.note{color:#666;font-size:.9em}
@media print{svg{page-break-inside:avoid}}
</style>
</head>
<body>
<h1>${esc(tx('title'))}</h1>
<p>${esc(tx('period'))}: ${esc(u.from)} – ${esc(u.to)} (${off})<br>${esc(tx('generated'))}: ${esc(localTime(o.generatedAt, u.utcOffsetMinutes))}</p>
<h2>${esc(tx('summary'))}</h2>
<table>${summary.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>
${u.totals.sessions === 0 ? `<p class="note">${esc(tx('none'))}</p>` : ''}
${charts.join('\n')}
<h2>${esc(tx('daily'))}</h2>
<table><thead><tr><th>${esc(tx('day'))}</th><th>${esc(tx('sessions'))}</th><th>${esc(tx('hours'))}</th><th>${esc(tx('peak'))}</th><th>${esc(tx('users'))}</th><th>${esc(tx('failedLogins'))}</th><th>${esc(tx('lockouts'))}</th><th>${esc(tx('licenceRefusals'))}</th></tr></thead>
<tbody>
${dailyRows}
</tbody></table>
<h2>${esc(tx('files'))}</h2>
<ul>${CSV_FILES.map((f) => `<li><a href="${f}">${f}</a></li>`).join('')}</ul>
</body>
</html>
`;
}
