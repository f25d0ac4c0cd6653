// The benches' percentile: the sample at floor(p% × n) of an ascending array (NaN when empty).
// One definition, so figures of different benches, and tools that recompute a bench's figures
// from its raw record (latency-shown-cost.js), read alike.
'use strict';

/** The p-th percentile (0-100) of `sorted` (ascending). */
const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);

module.exports = { pct };
