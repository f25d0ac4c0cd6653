/**
 * Inline SVG charts for the usage report, no dependencies, linear axes (the
 * bench's charts in bench/lib/svg.js are log-scaled bars and CDFs, a poor
 * fit for counts and hours): a step chart over time with a dashed limit line
 * (concurrent sessions against the licence cap), vertical bars per day and
 * horizontal bars per name (hours per user or PC).
 */

const esc = (s: unknown) => String(s).replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!);
const BLUE = '#1f77b4';
const RED = '#d62728';
const FONT = 'font-family="sans-serif" font-size="11"';

/** A readable step (1, 2, 5 × 10^n) for about `n` grid lines over `span`. */
export function niceStep(span: number, n = 5): number {
  const raw = span / n || 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) < 10 ? 1 : 0);
}

function yGrid(W: number, L: number, R: number, y: (v: number) => number, max: number, integer: boolean): string {
  const step = integer ? Math.max(1, Math.round(niceStep(max))) : niceStep(max);
  let out = '';
  for (let v = 0; v <= max + 1e-9; v += step) out += `<line x1="${L}" x2="${W - R}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e3e3e3"/><text x="${L - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${fmt(v)}</text>`;
  return out;
}

export interface StepChartOptions {
  title: string;
  /** [time ms, value] steps: the value holds until the next point. */
  points: Array<[number, number]>;
  /** Dashed limit as steps too (the licence cap); may be empty. */
  limit: Array<[number, number]>;
  limitLabel: string;
  seriesLabel: string;
  start: number;
  end: number;
  /** Label for a time tick. */
  tick: (t: number) => string;
  /** Tick times (e.g. local midnights). */
  ticks: number[];
}

export function stepChart(o: StepChartOptions): string {
  const W = 900, H = 320, L = 50, R = 20, T = 36, B = 56;
  const max = Math.max(1, ...o.points.map((p) => p[1]), ...o.limit.map((p) => p[1])) * 1.1;
  const x = (t: number) => L + ((W - L - R) * (t - o.start)) / (o.end - o.start);
  const y = (v: number) => T + (H - T - B) * (1 - v / max);
  const path = (pts: Array<[number, number]>) => {
    let d = '';
    pts.forEach(([t, v], i) => {
      const next = i + 1 < pts.length ? pts[i + 1]![0] : o.end;
      d += `${i ? 'L' : 'M'}${x(t).toFixed(1)},${y(v).toFixed(1)}H${x(next).toFixed(1)}`;
    });
    return d;
  };
  let out = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" ${FONT} role="img" aria-label="${esc(o.title)}">`;
  out += `<rect width="${W}" height="${H}" fill="white"/><text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(o.title)}</text>`;
  out += yGrid(W, L, R, y, max, true);
  const every = Math.max(1, Math.ceil(o.ticks.length / 16));
  o.ticks.forEach((t, i) => {
    out += `<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${T}" y2="${H - B}" stroke="#f0f0f0"/>`;
    if (i % every === 0) out += `<text x="${x(t).toFixed(1)}" y="${H - B + 14}" text-anchor="middle">${esc(o.tick(t))}</text>`;
  });
  if (o.points.length) out += `<path d="${path(o.points)}" fill="none" stroke="${BLUE}" stroke-width="1.5"/>`;
  if (o.limit.length) out += `<path d="${path(o.limit)}" fill="none" stroke="${RED}" stroke-width="1.5" stroke-dasharray="6 4"/>`;
  out += `<line x1="${L}" x2="${L + 16}" y1="${H - 16}" y2="${H - 16}" stroke="${BLUE}" stroke-width="2"/><text x="${L + 20}" y="${H - 12}">${esc(o.seriesLabel)}</text>`;
  if (o.limit.length) out += `<line x1="${L + 220}" x2="${L + 236}" y1="${H - 16}" y2="${H - 16}" stroke="${RED}" stroke-width="2" stroke-dasharray="6 4"/><text x="${L + 240}" y="${H - 12}">${esc(o.limitLabel)}</text>`;
  return `${out}</svg>`;
}

/** Vertical bars, one per label (days). */
export function columnChart(o: { title: string; unit: string; bars: Array<{ label: string; value: number }>; colour?: string; integer?: boolean }): string {
  const W = 900, H = 300, L = 50, R = 20, T = 36, B = 56;
  const max = Math.max(1, ...o.bars.map((b) => b.value)) * 1.1;
  const y = (v: number) => T + (H - T - B) * (1 - v / max);
  const bw = (W - L - R) / Math.max(1, o.bars.length);
  let out = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" ${FONT} role="img" aria-label="${esc(o.title)}">`;
  out += `<rect width="${W}" height="${H}" fill="white"/><text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(o.title)}</text>`;
  out += yGrid(W, L, R, y, max, o.integer ?? false);
  out += `<text x="12" y="${(H - B + T) / 2}" transform="rotate(-90 12 ${(H - B + T) / 2})" text-anchor="middle">${esc(o.unit)}</text>`;
  const every = Math.max(1, Math.ceil(o.bars.length / 16));
  o.bars.forEach((b, i) => {
    const x0 = L + i * bw;
    out += `<rect x="${(x0 + bw * 0.1).toFixed(1)}" y="${y(b.value).toFixed(1)}" width="${(bw * 0.8).toFixed(1)}" height="${(H - B - y(b.value)).toFixed(1)}" fill="${o.colour ?? BLUE}"><title>${esc(`${b.label}: ${fmt(b.value)} ${o.unit}`)}</title></rect>`;
    if (i % every === 0) out += `<text x="${(x0 + bw / 2).toFixed(1)}" y="${H - B + 14}" text-anchor="middle">${esc(b.label)}</text>`;
  });
  return `${out}</svg>`;
}

/** Horizontal bars, one per name (the first `limit`; the CSV has them all). */
export function barList(o: { title: string; unit: string; bars: Array<{ label: string; value: number }>; limit?: number }): string {
  const bars = o.bars.slice(0, o.limit ?? 30);
  const W = 900, L = 200, R = 70, T = 36, row = 18;
  const H = T + Math.max(1, bars.length) * row + 20;
  const max = Math.max(1e-9, ...bars.map((b) => b.value));
  const x = (v: number) => L + ((W - L - R) * v) / max;
  let out = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" ${FONT} role="img" aria-label="${esc(o.title)}">`;
  out += `<rect width="${W}" height="${H}" fill="white"/><text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(o.title)}</text>`;
  bars.forEach((b, i) => {
    const yy = T + i * row;
    out += `<text x="${L - 6}" y="${yy + 12}" text-anchor="end">${esc(b.label.length > 30 ? `${b.label.slice(0, 29)}…` : b.label)}</text>`;
    out += `<rect x="${L}" y="${yy + 2}" width="${(x(b.value) - L).toFixed(1)}" height="${row - 5}" fill="${BLUE}"/>`;
    out += `<text x="${(x(b.value) + 4).toFixed(1)}" y="${yy + 12}">${esc(`${fmt(b.value)} ${o.unit}`)}</text>`;
  });
  return `${out}</svg>`;
}
