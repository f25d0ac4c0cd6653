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

function run(title, cmd, args, parse) {
  console.log(`\n=== ${title}`);
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: process.env });
  const out = (r.stdout || '') + (r.stderr || '');
  process.stdout.write(out);
  const counts = parse(out, r.status);
  passed += counts.passed;
  failed += counts.failed;
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

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
