/**
 * Which of tilecast's two languages a user gets. Japanese comes first (the
 * users are Japanese municipal staff); English only when the user's own
 * preference puts some English ahead of any Japanese. One rule for the browser
 * viewer (navigator.languages) and the gateway (the Accept-Language header).
 */

export type Lang = 'ja' | 'en';

const primary = (tag: string): string => tag.trim().toLowerCase().split('-')[0] ?? '';

/** From a preference list, most wanted first (navigator.languages). */
export function langFromList(languages: readonly string[]): Lang {
  for (const tag of languages) {
    const p = primary(tag);
    if (p === 'ja') return 'ja';
    if (p === 'en') return 'en';
  }
  return 'ja';
}

/**
 * From an Accept-Language header: its ranges by weight, highest first (q=0
 * means "not this one"); between Japanese and English of equal weight,
 * Japanese. Only the first 512 characters are read.
 */
export function langFromAcceptLanguage(header: string | undefined): Lang {
  const ranges: Array<{ tag: string; q: number }> = [];
  for (const part of (header ?? '').slice(0, 512).split(',')) {
    const [tag = '', ...params] = part.split(';');
    const qp = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith('q='));
    const q = qp === undefined ? 1 : Number(qp.slice(2));
    if (Number.isFinite(q) && q > 0) ranges.push({ tag, q });
  }
  const ja = (tag: string) => (primary(tag) === 'ja' ? 1 : 0);
  ranges.sort((a, b) => b.q - a.q || ja(b.tag) - ja(a.tag));
  return langFromList(ranges.map((r) => r.tag));
}
