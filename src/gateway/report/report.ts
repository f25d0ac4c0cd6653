/**
 * `tilecast-gateway report`: audit log in, report folder out
 * (index.html with inline SVG charts, plus CSV files).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readAuditFiles } from './auditReader';
import { type ReportLang, reportCsv, reportHtml } from './reportHtml';
import { computeUsage, type Usage } from './usage';

export interface ReportOptions {
  /** The audit files to read, oldest first (auditFiles(dataDir)). */
  auditFiles: readonly string[];
  from: string;
  to: string;
  outDir: string;
  /** Default +540 (Japan). */
  utcOffsetMinutes?: number;
  lang?: ReportLang;
  /** Cap to draw when the log does not say (no gateway.start before the range). */
  licences?: number;
  now?: number;
}

export async function writeReport(o: ReportOptions): Promise<{ usage: Usage; files: string[]; malformed: number }> {
  const now = o.now ?? Date.now();
  const { records, malformed } = await readAuditFiles(o.auditFiles);
  const usage = computeUsage(records, {
    from: o.from, to: o.to, utcOffsetMinutes: o.utcOffsetMinutes ?? 540, now, ...(o.licences !== undefined ? { licences: o.licences } : {}),
  });
  fs.mkdirSync(o.outDir, { recursive: true });
  const files: string[] = [];
  const put = (name: string, text: string) => {
    const f = path.join(o.outDir, name);
    fs.writeFileSync(f, text);
    files.push(f);
  };
  put('index.html', reportHtml(usage, { lang: o.lang ?? 'ja', generatedAt: now, malformed }));
  for (const [name, text] of Object.entries(reportCsv(usage))) put(name, text);
  return { usage, files, malformed };
}

/** Parses "+09:00", "-05:30", "+9" into minutes. */
export function parseUtcOffset(s: string): number {
  const m = /^([+-])(\d{1,2})(?::?(\d{2}))?$/.exec(s.trim());
  if (!m || Number(m[2]) > 14 || Number(m[3] ?? 0) > 59) throw new RangeError(`not a UTC offset: ${JSON.stringify(s)} (e.g. +09:00)`);
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0));
}
