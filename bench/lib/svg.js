// Small SVG charts for the benchmarks, no dependencies: grouped bars (bitrate
// per workload and engine), step CDFs (latency per workload) and line charts
// over time (memory in the soak benchmark).
'use strict';

const COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];
const esc = (s) => String(s).replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]);

/** groups: [{ label, values: { series: number } }], log-scaled y. */
function barChart({ title, unit, groups, series }) {
  const W = 760, H = 360, L = 70, B = 60, T = 40, R = 20;
  const max = Math.max(...groups.flatMap((g) => series.map((s) => g.values[s] ?? 0)), 1);
  const min = Math.max(0.001, Math.min(...groups.flatMap((g) => series.map((s) => g.values[s] || max))) / 2);
  const y = (v) => T + (H - T - B) * (1 - (Math.log10(Math.max(v, min)) - Math.log10(min)) / (Math.log10(max * 1.2) - Math.log10(min)));
  const gw = (W - L - R) / groups.length, bw = (gw * 0.8) / series.length;
  let out = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`;
  out += `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`;
  for (let d = Math.floor(Math.log10(min)); d <= Math.ceil(Math.log10(max * 1.2)); d++) {
    const v = 10 ** d;
    if (v < min || v > max * 1.2) continue;
    out += `<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/><text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${v >= 1 ? v : v.toFixed(3)}</text>`;
  }
  out += `<text x="14" y="${(H - B + T) / 2}" transform="rotate(-90 14 ${(H - B + T) / 2})" text-anchor="middle">${esc(unit)} (log)</text>`;
  groups.forEach((g, gi) => {
    series.forEach((s, si) => {
      const v = g.values[s];
      if (v === undefined) return;
      const x = L + gi * gw + gw * 0.1 + si * bw;
      out += `<rect x="${x}" y="${y(v)}" width="${bw - 2}" height="${H - B - y(v)}" fill="${COLOURS[si % COLOURS.length]}"><title>${esc(`${g.label} ${s}: ${v.toFixed(3)} ${unit}`)}</title></rect>`;
    });
    out += `<text x="${L + gi * gw + gw / 2}" y="${H - B + 16}" text-anchor="middle">${esc(g.label)}</text>`;
  });
  series.forEach((s, si) => {
    out += `<rect x="${L + si * 170}" y="${H - 24}" width="12" height="12" fill="${COLOURS[si % COLOURS.length]}"/><text x="${L + si * 170 + 16}" y="${H - 14}">${esc(s)}</text>`;
  });
  return `${out}</svg>\n`;
}

/** curves: [{ label, values: number[] }] -> empirical CDFs, linear x up to the largest p99. */
function cdfChart({ title, unit, curves }) {
  const W = 760, H = 360, L = 60, B = 50, T = 40, R = 20;
  const sorted = curves.map((c) => ({ ...c, values: [...c.values].sort((a, b) => a - b) })).filter((c) => c.values.length);
  const xmax = Math.max(1, ...sorted.map((c) => c.values[Math.floor(c.values.length * 0.99)] ?? 0)) * 1.1;
  const x = (v) => L + ((W - L - R) * Math.min(v, xmax)) / xmax;
  const y = (p) => T + (H - T - B) * (1 - p);
  let out = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`;
  out += `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`;
  for (let p = 0; p <= 1.001; p += 0.25) out += `<line x1="${L}" x2="${W - R}" y1="${y(p)}" y2="${y(p)}" stroke="#ddd"/><text x="${L - 6}" y="${y(p) + 4}" text-anchor="end">${p.toFixed(2)}</text>`;
  for (let i = 0; i <= 5; i++) out += `<text x="${x((xmax * i) / 5)}" y="${H - B + 16}" text-anchor="middle">${((xmax * i) / 5).toFixed(0)}</text>`;
  out += `<text x="${(W + L) / 2}" y="${H - 12}" text-anchor="middle">${esc(unit)}</text>`;
  sorted.forEach((c, ci) => {
    const pts = c.values.map((v, i) => `${x(v).toFixed(1)},${y((i + 1) / c.values.length).toFixed(1)}`);
    out += `<polyline fill="none" stroke="${COLOURS[ci % COLOURS.length]}" stroke-width="2" points="${x(c.values[0])},${y(0)} ${pts.join(' ')}"/>`;
    out += `<rect x="${W - R - 180}" y="${T + ci * 16}" width="12" height="12" fill="${COLOURS[ci % COLOURS.length]}"/><text x="${W - R - 164}" y="${T + ci * 16 + 10}">${esc(c.label)}</text>`;
  });
  return `${out}</svg>\n`;
}

/** A readable step (1, 2, 5 × 10^n) for about `n` grid lines over `span`. */
function niceStep(span, n = 6) {
  const raw = span / n;
  const p = 10 ** Math.floor(Math.log10(raw || 1));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
}

/**
 * Lines over a shared linear x: series [{ label, points: [[x, y]], dash? }] on
 * the left axis; optional `right` { label, series } on a second axis (e.g. a
 * count); optional `marks` [{ x, label }] as vertical rules (e.g. end of warm-up).
 */
function lineChart({ title, xLabel, yLabel, series, right = null, marks = [] }) {
  const W = 900, H = 430, L = 70, B = 80, T = 40, R = right ? 60 : 20;
  const all = [...series, ...(right ? right.series : [])].flatMap((s) => s.points);
  const xmin = Math.min(...all.map((p) => p[0])), xmax = Math.max(...all.map((p) => p[0]), xmin + 1e-9);
  const range = (ss) => {
    const ys = ss.flatMap((s) => s.points.map((p) => p[1]));
    const lo = Math.min(0, ...ys), hi = Math.max(...ys, lo + 1e-9) * 1.05;
    return [lo, hi];
  };
  const [ylo, yhi] = range(series);
  const [rlo, rhi] = right ? range(right.series) : [0, 1];
  const x = (v) => L + ((W - L - R) * (v - xmin)) / (xmax - xmin);
  const y = (v) => T + (H - T - B) * (1 - (v - ylo) / (yhi - ylo));
  const yr = (v) => T + (H - T - B) * (1 - (v - rlo) / (rhi - rlo));
  let out = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`;
  out += `<rect width="${W}" height="${H}" fill="white"/><text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`;
  const ys = niceStep(yhi - ylo);
  for (let v = Math.ceil(ylo / ys) * ys; v <= yhi; v += ys) out += `<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/><text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${+v.toFixed(6)}</text>`;
  const xs = niceStep(xmax - xmin, 10);
  for (let v = Math.ceil(xmin / xs) * xs; v <= xmax; v += xs) out += `<line x1="${x(v)}" x2="${x(v)}" y1="${T}" y2="${H - B}" stroke="#eee"/><text x="${x(v)}" y="${H - B + 16}" text-anchor="middle">${+v.toFixed(6)}</text>`;
  if (right) {
    const rs = niceStep(rhi - rlo, 5);
    for (let v = Math.ceil(rlo / rs) * rs; v <= rhi; v += rs) out += `<text x="${W - R + 6}" y="${yr(v) + 4}">${+v.toFixed(6)}</text>`;
    out += `<text x="${W - 12}" y="${(H - B + T) / 2}" transform="rotate(90 ${W - 12} ${(H - B + T) / 2})" text-anchor="middle">${esc(right.label)}</text>`;
  }
  out += `<text x="${(W + L - R) / 2}" y="${H - B + 32}" text-anchor="middle">${esc(xLabel)}</text>`;
  out += `<text x="14" y="${(H - B + T) / 2}" transform="rotate(-90 14 ${(H - B + T) / 2})" text-anchor="middle">${esc(yLabel)}</text>`;
  for (const m of marks) out += `<line x1="${x(m.x)}" x2="${x(m.x)}" y1="${T}" y2="${H - B}" stroke="#888" stroke-dasharray="4 3"/><text x="${x(m.x) + 4}" y="${T + 12}" fill="#555">${esc(m.label)}</text>`;
  const draw = (s, i, ys) => {
    const c = s.colour ?? COLOURS[i % COLOURS.length];
    const pts = s.points.map((p) => `${x(p[0]).toFixed(1)},${ys(p[1]).toFixed(1)}`).join(' ');
    return `<polyline fill="none" stroke="${c}" stroke-width="${s.width ?? 1.5}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} points="${pts}"><title>${esc(s.label)}</title></polyline>`;
  };
  series.forEach((s, i) => (out += draw(s, i, y)));
  if (right) right.series.forEach((s, i) => (out += draw({ colour: '#999', ...s }, series.length + i, yr)));
  const legend = [...series.map((s, i) => [s, s.colour ?? COLOURS[i % COLOURS.length]]), ...(right ? right.series.map((s) => [s, s.colour ?? '#999']) : [])];
  legend.forEach(([s, c], i) => {
    const lx = L + (i % 4) * 200, ly = H - 26 + Math.floor(i / 4) * 16 - (legend.length > 4 ? 0 : -16);
    out += `<line x1="${lx}" x2="${lx + 14}" y1="${ly - 4}" y2="${ly - 4}" stroke="${c}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/><text x="${lx + 18}" y="${ly}">${esc(s.label)}</text>`;
  });
  return `${out}</svg>\n`;
}

module.exports = { barChart, cdfChart, lineChart };
