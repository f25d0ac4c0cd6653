/**
 * Reads the audit log back (audit.ts writes it): one JSON record per line,
 * streamed, so a year of records does not have to fit in one string. Lines
 * that are not a record (a torn last line after a crash, hand edits) are
 * counted and skipped, never fatal: a report must still come out.
 */
import * as fs from 'node:fs';
import * as readline from 'node:readline';
import type { AuditRecord } from '../audit';

export interface AuditRead {
  records: AuditRecord[];
  malformed: number;
}

/** Parses audit-log text (for tests and small logs). */
export function parseAuditText(text: string): AuditRead {
  const out: AuditRead = { records: [], malformed: 0 };
  for (const line of text.split('\n')) add(out, line);
  return out;
}

/** Reads the files in order (auditFiles() gives them oldest first). */
export async function readAuditFiles(files: readonly string[]): Promise<AuditRead> {
  const out: AuditRead = { records: [], malformed: 0 };
  for (const file of files) {
    const rl = readline.createInterface({ input: fs.createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
    for await (const line of rl) add(out, line);
  }
  return out;
}

function add(out: AuditRead, line: string): void {
  if (!line.trim()) return;
  try {
    const r = JSON.parse(line) as AuditRecord;
    if (r && typeof r === 'object' && typeof r.type === 'string' && typeof r.time === 'string' && Number.isFinite(Date.parse(r.time))) out.records.push(r);
    else out.malformed++;
  } catch {
    out.malformed++;
  }
}
