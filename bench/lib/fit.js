// Least-squares fits for the memory benchmarks.
'use strict';

/** y = a + b·x; returns { slope, intercept, n }. */
function linearFit(xs, ys) {
  const n = xs.length;
  if (n < 2) return { slope: NaN, intercept: NaN, n };
  const mx = xs.reduce((s, v) => s + v, 0) / n, my = ys.reduce((s, v) => s + v, 0) / n;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  const slope = sxx > 0 ? sxy / sxx : NaN;
  return { slope, intercept: my - slope * mx, n };
}

/**
 * y = a + b·t + c·v (two regressors, e.g. time and connected viewers): the
 * time slope with the viewer count held fixed. Returns { slopeT, perV, intercept, n }.
 */
function fit2(ts, vs, ys) {
  const n = ts.length;
  const m = (a) => a.reduce((s, v) => s + v, 0) / n;
  const mt = m(ts), mv = m(vs), my = m(ys);
  let stt = 0, svv = 0, stv = 0, sty = 0, svy = 0;
  for (let i = 0; i < n; i++) {
    const dt = ts[i] - mt, dv = vs[i] - mv, dy = ys[i] - my;
    stt += dt * dt;
    svv += dv * dv;
    stv += dt * dv;
    sty += dt * dy;
    svy += dv * dy;
  }
  const det = stt * svv - stv * stv;
  // The viewer count did not vary (or too few samples): no separate viewer term, and no error estimate.
  if (!(Math.abs(det) > 1e-12)) return { ...linearFit(ts, ys), slopeT: linearFit(ts, ys).slope, perV: NaN, seT: NaN, rho: NaN, n };
  const slopeT = (sty * svv - svy * stv) / det;
  const perV = (svy * stt - sty * stv) / det;
  const intercept = my - slopeT * mt - perV * mv;
  // Standard error of slopeT. Samples a second apart are not independent (memory moves in slow
  // waves): the residuals' lag-1 autocorrelation ρ shrinks the sample count to n(1-ρ)/(1+ρ).
  const resid = ts.map((t, i) => ys[i] - intercept - slopeT * t - perV * vs[i]);
  const rss = resid.reduce((s, r) => s + r * r, 0);
  let lag = 0;
  for (let i = 1; i < n; i++) lag += resid[i] * resid[i - 1];
  const rho = Math.min(0.99, Math.max(0, rss > 0 ? lag / rss : 0));
  const nEff = Math.max(4, (n * (1 - rho)) / (1 + rho));
  const seT = Math.sqrt(((rss / Math.max(1, n - 3)) * svv) / det) * Math.sqrt(n / nEff);
  return { slopeT, perV, intercept, seT, rho, n };
}

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};

module.exports = { linearFit, fit2, median };
