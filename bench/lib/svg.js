// Two small SVG charts for the session benchmark, no dependencies: grouped bars
// (bitrate per workload and engine) and step CDFs (latency per workload).
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

module.exports = { barChart, cdfChart };
