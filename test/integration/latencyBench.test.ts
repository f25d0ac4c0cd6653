// The glass-to-glass latency bench (bench/latency.js --quick) measures what it
// claims: every square the drawer painted is read back from the viewers'
// screens (Chromium with tilecast's viewer or noVNC, vncviewer) and the Node viewer's framebuffer with the
// right code, in order, never before it was painted, at scale 1; the counts
// agree; over LTE the bytes and link floor are there. No timing is asserted.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_TRACES_DIR } from '../../src/emulator/linkTraces';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const tigervnc = require('../../bench/lib/tigervnc');
// eslint-disable-next-line @typescript-eslint/no-var-requires
const probe = require('../../bench/lib/latencyProbe');
// eslint-disable-next-line @typescript-eslint/no-var-requires
const novnc = require('../../bench/lib/novnc');

const root = path.join(__dirname, '..', '..');
const missing: string | null = tigervnc.unavailable() ?? probe.unavailable();
if (missing && process.env.CI) throw new Error(`latency bench: ${missing}`);
const noNoVnc: string | null = novnc.unavailable();
if (noNoVnc && process.env.CI) throw new Error(`latency bench: ${noNoVnc}`);
const haveTraces = fs.existsSync(path.join(DEFAULT_TRACES_DIR, 'ATT-LTE-driving.down'));
const SQUARES = 8;

interface Row {
  row: string; link: string; load: string; error?: string; painted: number; shown: number; shownWhileCurrent?: number; wrongCodes: number; backwards: number;
  neverCaughtUp: number; samples: number[]; where?: { scale: number }; floor: unknown; bytesPerSquare: number | null;
  latency: { p50: number; p95: number; p99: number }; runs?: { p50: number; shown: number; painted: number }[];
}

/** Runs the bench in --quick mode with `args`; its rows. */
function runQuick(t: Test, args: string[]): Row[] {
  const r = spawnSync(process.execPath, [path.join(root, 'bench', 'latency.js'), '--quick', '--squares', String(SQUARES), ...args], { cwd: root, encoding: 'utf8', timeout: 280_000 });
  t.equal(r.status, 0, `bench exit status (stderr: ${r.stderr.slice(-2000)})`);
  return JSON.parse(fs.readFileSync(path.join(root, 'bench', 'results', 'latency-quick.json'), 'utf8')).results;
}

/** Every row read each square back right, in order, at scale 1; over LTE, bytes and the floor are there. */
function checkRows(t: Test, rows: Row[]): void {
  for (const x of rows) {
    const name = `${x.row} ${x.link}`;
    t.notOk(x.error, `${name}: ran`);
    t.equal(x.painted, SQUARES, `${name}: every square painted`);
    t.equal(x.wrongCodes, 0, `${name}: no code seen that was not painted, or before its paint`);
    t.equal(x.backwards, 0, `${name}: codes appear in order`);
    t.ok(x.shown >= 1 && x.shown <= x.painted, `${name}: shown ${x.shown} of ${x.painted}`);
    t.equal(x.samples.length, x.shown, `${name}: one latency per square shown`);
    t.ok(Number.isInteger(x.shownWhileCurrent) && x.shownWhileCurrent! <= x.shown, `${name}: shown while current ${x.shownWhileCurrent} of ${x.shown}`);
    t.equal(x.neverCaughtUp, 0, `${name}: the newest square reached the viewer`);
    t.equal(x.where?.scale, 1, `${name}: the viewer shows the host's pixels at scale 1`);
    if (x.link === 'lte') {
      t.ok(x.floor, `${name}: link floor computed`);
      t.ok((x.bytesPerSquare ?? 0) > 0, `${name}: bytes the server sent for a square counted (${x.bytesPerSquare})`);
    }
  }
}

t.test('latency bench --quick: squares read back with the right codes, counts consistent', { skip: missing ?? false, timeout: 290_000 }, async (t) => {
  const rows = runQuick(t, []);
  const links = haveTraces ? ['loopback', 'lte'] : ['loopback'];
  const expected = links.flatMap((link) => ['tilecast-browser', 'tilecast-node', 'tigervnc-lossless'].map((row) => `${row} ${link} idle`));
  t.same(rows.map((x) => `${x.row} ${x.link} ${x.load}`), expected, 'one row per viewer and link');
  checkRows(t, rows);
});

// The browser-based peer (TigerVNC's server read by noVNC in the same Chromium) is a full-run row only; this keeps it working.
t.test('latency bench, noVNC row: squares read back from noVNC in Chromium', { skip: missing ?? noNoVnc ?? false, timeout: 150_000 }, async (t) => {
  const rows = runQuick(t, ['--links', 'loopback', '--systems', 'novnc']);
  t.same(rows.map((x) => `${x.row} ${x.link} ${x.load}`), ['novnc loopback idle'], 'one noVNC row');
  checkRows(t, rows);
});

// --runs N: each row is run N times and its squares pooled; each run's own figures are kept beside.
t.test('latency bench --runs 2: a row pools the squares of both runs', { skip: missing ?? false, timeout: 150_000 }, async (t) => {
  const rows = runQuick(t, ['--links', 'loopback', '--systems', 'tilecast-node', '--runs', '2']);
  t.same(rows.map((x) => `${x.row} ${x.link} ${x.load}`), ['tilecast-node loopback idle'], 'one row for both runs');
  const x = rows[0];
  if (!x) return;
  t.notOk(x.error, 'ran');
  t.equal(x.painted, 2 * SQUARES, 'the squares of both runs painted');
  t.equal(x.runs?.length, 2, 'each run kept');
  t.same(x.runs?.map((r) => r.painted), [SQUARES, SQUARES], 'each run painted its squares');
  t.equal(x.shown, (x.runs ?? []).reduce((n, r) => n + r.shown, 0), 'shown: the sum of the runs');
  t.equal(x.samples.length, x.shown, 'one latency per square shown, over both runs');
  const sorted = [...x.samples].sort((a, b) => a - b);
  const p50 = sorted[Math.floor(sorted.length / 2)] ?? NaN;
  t.ok(Math.abs(x.latency.p50 - p50) <= 0.005, `p50 over the pooled squares (${x.latency.p50} vs ${p50}; samples keep 2 decimals)`);
  t.equal(x.wrongCodes, 0, 'no misread in either run');
  const md = fs.readFileSync(path.join(root, 'bench', 'results', 'latency-quick.md'), 'utf8');
  t.match(md, /2 runs of each row/, 'the report says the rows pool 2 runs');
  t.match(md, /Each run on its own/, 'and lists each run');
});

t.test('the Node-side square decoder reads what latprobe.c draws, and rejects a mixed square', async (t) => {
  const { SQUARE, decodeSquare } = probe;
  const width = 80;
  const paint = (fb: Buffer, n: number, rows?: [number, number]) => {
    const checkOf = (v: number) => ((v * 23) + 7 + (v >> 5) * 11) & 31;
    const bits = (n & 0x7ff) | (checkOf(n & 0x7ff) << SQUARE.counterBits);
    for (let i = 0; i < 16; i++) {
      const y0 = SQUARE.bar + Math.floor(i / 4) * SQUARE.ch;
      if (rows && (y0 < rows[0] || y0 >= rows[1])) continue;
      for (let y = y0; y < y0 + SQUARE.ch; y++) fb.fill((bits >> i) & 1 ? 255 : 0, (y * width + (i % 4) * SQUARE.cw) * 4, (y * width + (i % 4) * SQUARE.cw + SQUARE.cw) * 4);
    }
  };
  const fb = Buffer.alloc(width * 64 * 4);
  for (const n of [0, 1, 2, 255, 360, 2047]) {
    paint(fb, n);
    t.equal(decodeSquare(fb, width, 0, 0), n, `code ${n}`);
  }
  paint(fb, 1000);
  paint(fb, 1001, [0, 36]); // the top half updated, the bottom half still the old square
  t.equal(decodeSquare(fb, width, 0, 0), -1, 'a half-updated square is no code');
  fb.fill(128);
  t.equal(decodeSquare(fb, width, 0, 0), -1, 'grey is no code');
});

// 250 ms is 15 frames of 60 Hz: without the offsets every square would meet a browser's frame clock at one phase.
t.test('the paint schedule meets a 60 Hz frame clock at every phase', async (t) => {
  const frame = 1000 / 60;
  const offsets = Array.from({ length: 360 }, (_, i) => probe.paintOffset(i + 1, frame) as number);
  t.ok(offsets.every((o) => o >= 0 && o < frame), 'each offset within one frame');
  const bins = new Array(8).fill(0);
  for (let n = 1; n <= 360; n++) bins[Math.floor(((((n - 1) * 250 + offsets[n - 1]!) % frame) / frame) * 8)]++;
  t.ok(bins.every((b) => b >= 25), `phases against the frame clock spread over all eighths of a frame: ${bins.join(', ')}`);
  t.equal(probe.paintOffset(7, 0), 0, '--jitter 0 is the plain grid');
});

// bench/latency-shown-cost.js reads the raw runs of a committed result: measured, it must give the bench's own figures.
t.test('latency-shown-cost: from the raw runs, the bench\'s own figures; each square added costs', async (t) => {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { shownCost } = require('../../bench/latency-shown-cost');
  const json = JSON.parse(fs.readFileSync(path.join(root, 'bench', 'results', 'latency-lte-scroll-runs.json'), 'utf8'));
  const browser = json.results.find((r: Row) => r.row === 'tilecast-browser');
  const tiger = json.results.find((r: Row) => r.row === 'tigervnc-lossless');
  const c = shownCost(json.results);
  t.equal(c.runs, 5, 'five runs read');
  const [measured] = c.steps;
  t.equal(measured.added, 0, 'the first step adds nothing');
  t.equal(measured.shown, browser.shown, 'squares shown as the bench counted them');
  // The raw record keeps times to 0.01 ms, the bench computed from the full ones: a difference of two roundings.
  t.ok(Math.abs(measured.p50 - browser.latency.p50) <= 0.011, `p50 as the bench computed it (${measured.p50} vs ${browser.latency.p50})`);
  t.ok(Math.abs(measured.p95 - browser.latency.p95) <= 0.011, `p95 as the bench computed it (${measured.p95} vs ${browser.latency.p95})`);
  t.ok(c.candidates > 0, `the Node viewer showed squares the browser did not (${c.candidates})`);
  t.ok(c.steps.every((s: { added: number; shown: number }) => s.shown === browser.shown + s.added), 'each step shows the squares added');
  t.ok(c.steps.some((s: { shown: number }) => s.shown === tiger.shown), 'a step at TigerVNC\'s count');
  t.ok(c.steps.every((s: { p95: number }, i: number) => i === 0 || s.p95 >= c.steps[i - 1].p95), 'p95 never falls as late squares are added');
  t.throws(() => shownCost([browser]), /needs the rows/, 'a JSON without the Node and TigerVNC rows is refused');
});

// Squares shown while current (bench/lib/shownWhileCurrent.js): seen before the next square was painted.
t.test('shownWhileCurrent: a square seen after the next one was painted is stale; counts agree with the bench\'s own', async (t) => {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { shownWhileCurrent, rowShownWhileCurrent } = require('../../bench/lib/shownWhileCurrent');
  // Paints [code, before drawing, after XSync]; sightings [code, t].
  const raw = {
    paints: [[1, 0, 1], [2, 250, 251], [3, 500, 501], [4, 750, 751]],
    sightings: [[0, -50], [1, 30], [1, 31], [3, 240], [2, 400], [3, 520], [4, 760]],
  };
  // 1 at 30: current. 2 at 400, before 3's paint (501): current. 3 at 240 is before its drawing
  // began (a misread, not counted); its first real sight, 520, is before 4's paint (751): current.
  t.same(shownWhileCurrent(raw), { shown: 4, current: 4, stale: 0 }, 'all current');
  const late = { paints: raw.paints, sightings: [[1, 300], [2, 510], [4, 800]] };
  t.same(shownWhileCurrent(late), { shown: 3, current: 1, stale: 2 }, '1 seen after 2 was painted, 2 after 3: stale; the last square is current once seen');
  t.same(shownWhileCurrent({ paints: raw.paints, sightings: [[1, 250.99]] }), { shown: 1, current: 1, stale: 0 }, 'seen just before the next paint\'s XSync stamp: current');
  t.same(shownWhileCurrent({ paints: raw.paints, sightings: [[1, 251]] }), { shown: 1, current: 0, stale: 1 }, 'seen at it: stale');
  // The committed runs: the helper's "shown" is the bench's, row by row, and over pooled runs.
  for (const file of ['latency.json', 'latency-settle-runs.json']) {
    const json = JSON.parse(fs.readFileSync(path.join(root, 'bench', 'results', file), 'utf8'));
    const rows = json.results.filter((r: Row & { raw?: unknown }) => !r.error && r.raw);
    t.ok(rows.length > 0, `${file}: rows with their raw record`);
    const disagree = rows.filter((r: Row) => rowShownWhileCurrent(r).shown !== r.shown).map((r: Row) => `${r.row} ${r.link} ${r.load}`);
    t.same(disagree, [], `${file}: squares shown as the bench counted them, in every row`);
    t.ok(rows.every((r: Row) => rowShownWhileCurrent(r).current <= r.shown), `${file}: never more current than shown`);
  }
});
