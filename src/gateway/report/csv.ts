/**
 * CSV for spreadsheet users: UTF-8 with a BOM (so Excel in Japan reads the
 * Japanese correctly), CRLF line ends, RFC 4180 quoting, and cells that a
 * spreadsheet would run as a formula (=, +, -, @ first) defused with a
 * leading apostrophe: user names tried at failed logins are attacker-chosen.
 */

export function csvCell(v: unknown): string {
  let s = v === null || v === undefined ? '' : typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : String(v);
  if (typeof v !== 'number' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(header: string[], rows: unknown[][]): string {
  return `\uFEFF${[header, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n')}\r\n`;
}

/** "YYYY-MM-DD HH:MM:SS" at the offset. */
export function localTime(t: number, utcOffsetMinutes: number): string {
  return new Date(t + utcOffsetMinutes * 60_000).toISOString().slice(0, 19).replace('T', ' ');
}

export function offsetLabel(utcOffsetMinutes: number): string {
  const sign = utcOffsetMinutes < 0 ? '-' : '+';
  const a = Math.abs(utcOffsetMinutes);
  return `UTC${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}
