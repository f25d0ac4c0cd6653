#!/usr/bin/env node
// `npm test`: type-check, native core tests under ASan/UBSan, a short fuzzing run, the tap suite,
// then the packed npm package installed into an empty project.
// Ends with one line "N passed, N failed" summing every stage.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
let passed = 0;
let failed = 0;
const failures = []; // "stage: test > subtest > assertion", repeated at the end where a log's tail shows it

// The failing tests named in a stage's output: tap's "not ok" lines under their subtest
// names, the native harness's "not ok - native: …" and CHECK lines, the fuzzer's FAIL lines.
function failuresIn(title, out) {
  const found = [];
  const subtests = [];
  for (const line of out.split('\n')) {
    const sub = /^(\s*)# Subtest: (.*)$/.exec(line);
    if (sub) {
      const depth = sub[1].length / 4;
      subtests.length = depth;
      subtests[depth] = sub[2];
      continue;
    }
    const notOk = /^(\s*)not ok \d+ - (.*?)(?: # time=.*)?$/.exec(line);
    if (notOk) {
      const depth = notOk[1].length / 4;
      // A parent's "not ok" repeats its failing child's; name only the innermost.
      const last = found[found.length - 1];
      const path = [...subtests.slice(0, depth), notOk[2]].join(' > ');
      if (!(last && last.startsWith(path + ' > '))) found.push(path);
      continue;
    }
    if (/^not ok - native: |^\s+\S+:\d+: CHECK(_EQ)?\(|^FAIL /.test(line)) found.push(line.trim());
  }
  return found.map((f) => `${title}: ${f}`);
}

function run(title, cmd, args, parse) {
  console.log(`\n=== ${title}`);
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: process.env });
  const out = (r.stdout || '') + (r.stderr || '');
  process.stdout.write(out);
  const counts = parse(out, r.status);
  passed += counts.passed;
  failed += counts.failed;
  failures.push(...failuresIn(title, out));
  if (r.status !== 0 && counts.failed === 0) failed += 1; // a crash or non-test failure still fails the run
}

// Stage 1: TypeScript, strict, sources and tests.
run('typecheck (tsc --noEmit)', process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.test.json'],
  (_out, status) => (status === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 }));

// Stage 2: the native core, standalone, with AddressSanitizer + UBSan (all SIMD paths, then forced scalar).
run('native tests (ASan/UBSan)', 'make', ['-s', '-C', 'native/tests'], (out) => {
  let p = 0, f = 0;
  for (const m of out.matchAll(/^(\d+) passed, (\d+) failed$/gm)) {
    p += Number(m[1]);
    f += Number(m[2]);
  }
  return { passed: p, failed: f };
});

// Stage 3: fuzzing, short: 60 s per libFuzzer target (native core, ASan/UBSan) and a
// bounded run of the protocol fuzzer; one pass per target that ran clean, one fail per
// finding (saved under native/fuzz/out/crashes/). Skipped without clang unless CI is set.
run('fuzz (short)', process.execPath, [path.join(root, 'native', 'fuzz', 'run.js'), '--short'], (out) => {
  const m = [...out.matchAll(/^(\d+) passed, (\d+) failed$/gm)].pop();
  return m ? { passed: Number(m[1]), failed: Number(m[2]) } : { passed: 0, failed: 1 };
});

// Stage 4: tap (unit and integration tests against the built addon).
run('tap', process.execPath, [path.join(root, 'node_modules', 'tap', 'dist', 'esm', 'run.mjs'), '--reporter=tap'], (out) => {
  const m = out.match(/# \{ total: (\d+), pass: (\d+)(?:, fail: (\d+))?/);
  if (!m) return { passed: 0, failed: 1 };
  return { passed: Number(m[2]), failed: Number(m[3] || 0) };
});

// Stage 5: the npm package as users get it (test/integration/package/packedInstall.slow.ts):
// npm pack, then an install into an empty project with no compiler, and the
// library used there. Its own stage: it packs (two native builds), so it needs
// more than tap's per-file timeout and runs best without the suite beside it.
run('packed package (npm pack, empty project, no compiler)', process.execPath, [path.join(root, 'node_modules', 'tap', 'dist', 'esm', 'run.mjs'),
  '--reporter=tap', '--timeout=1500', path.join('test', 'integration', 'package', 'packedInstall.slow.ts')], (out) => {
  const m = out.match(/# \{ total: (\d+), pass: (\d+)(?:, fail: (\d+))?/);
  if (!m) return { passed: 0, failed: 1 };
  return { passed: Number(m[2]), failed: Number(m[3] || 0) };
});

if (failures.length) {
  console.log(`\n=== failures (${failures.length})`);
  for (const f of failures.slice(0, 60)) console.log(`  ${f}`);
  if (failures.length > 60) console.log(`  … and ${failures.length - 60} more (search the log for "not ok")`);
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
