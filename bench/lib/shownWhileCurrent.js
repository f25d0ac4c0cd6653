// Squares shown while still current: seen on the viewer before the drawer painted the next one.
// "Squares shown" alone also counts a stale square: one a viewer puts up after the host's screen
// has already moved on, as vncviewer does when it plays back a queue of old updates one by one
// after a stall (each visible for a millisecond or two, and seconds late). Counting only the
// squares seen while they were still on the host's screen tells that playback from showing the
// user what is there now. latency.js reports both; this works on its raw record, so saved runs
// (--from-json) count alike.
'use strict';

/**
 * Of one run's raw record (paints [code, ms before drawing, ms after XSync], sightings [code, ms]),
 * { shown, current, stale }: squares seen at all, seen before the next square's paint (after XSync;
 * the last square has no next), and seen only after it. A sighting before its square's drawing began
 * is a misread and counts for nothing, as in latency.js's measure().
 */
function shownWhileCurrent(raw) {
  const paints = raw.paints;
  const index = new Map(paints.map(([code], i) => [code, i]));
  const firstSight = new Map();
  for (const [code, t] of raw.sightings) {
    const i = index.get(code);
    if (i === undefined || firstSight.has(code) || t < paints[i][1]) continue;
    firstSight.set(code, t);
  }
  let current = 0;
  for (const [code, t] of firstSight) {
    const next = paints[index.get(code) + 1];
    if (!next || t < next[2]) current++;
  }
  return { shown: firstSight.size, current, stale: firstSight.size - current };
}

/** The same over a result row's raw runs (one raw record, or an array of them for --runs N), summed. */
function rowShownWhileCurrent(row) {
  const runs = Array.isArray(row.raw) ? row.raw : [row.raw];
  const each = runs.map(shownWhileCurrent);
  return { shown: each.reduce((n, c) => n + c.shown, 0), current: each.reduce((n, c) => n + c.current, 0), stale: each.reduce((n, c) => n + c.stale, 0), runs: each };
}

module.exports = { shownWhileCurrent, rowShownWhileCurrent };
