#!/usr/bin/env node
// Runs the fuzz targets (docs/fuzzing.md): builds the libFuzzer targets, writes
// the seed corpus from real encoder output, runs every target at once, and
// ends with "N passed, N failed": one pass per target that ran clean, one fail
// per target that found something (its input is saved under
// native/fuzz/out/crashes/<target>/).
//
//   node native/fuzz/run.js [--seconds=600] [--targets=decoder,moves,protocol]   (npm run fuzz)
//   node native/fuzz/run.js --short        60 s per native target, a bounded JS run (npm test)
//
// TILECAST_FUZZ_SECONDS overrides the time per target. Without clang (and its
// libFuzzer runtime) the native targets are skipped, unless CI is set: then
// that is a failure.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const here = __dirname;
const root = path.join(here, '..', '..');
const outDir = path.join(here, 'out');
const args = Object.fromEntries(process.argv.slice(2).map((a) => {
  const m = /^--([\w-]+)(?:=(.*))?$/.exec(a);
  if (!m) throw new Error(`unknown argument ${a}`);
  return [m[1], m[2] ?? true];
}));
const short = Boolean(args.short);
const seconds = Number(process.env.TILECAST_FUZZ_SECONDS || args.seconds || (short ? 60 : 600));
const targets = String(args.targets || 'decoder,moves,protocol').split(',');
const ci = Boolean(process.env.CI);

let passed = 0;
let failed = 0;
const log = (s) => console.log(s);

function crashesOf(name) {
  const dir = path.join(outDir, 'crashes', name);
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => !f.endsWith('.txt')).map((f) => path.join(dir, f)) : [];
}

/** Runs a command, collecting output; resolves { status, out }. */
function run(cmd, argv, env) {
  return new Promise((resolve) => {
    const p = spawn(cmd, argv, { cwd: here, env: { ...process.env, ...env } });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('close', (status, signal) => resolve({ status: status ?? 128, signal, out }));
  });
}

// libFuzzer options per target: bounded input size and memory; one slow input (25 s) is a finding.
const NATIVE = {
  decoder: { bin: 'decoder_fuzz', maxLen: 40000 },
  moves: { bin: 'moves_fuzz', maxLen: 512 },
};

async function runNative(name, turbojpeg) {
  const t = NATIVE[name];
  const corpus = path.join(outDir, 'corpus', name);
  const grown = path.join(outDir, 'grown', name); // what the fuzzer adds (kept between runs, gitignored)
  const seeds = path.join(here, 'seeds', name);
  const crashes = path.join(outDir, 'crashes', name);
  for (const d of [corpus, grown, crashes]) fs.mkdirSync(d, { recursive: true });
  const before = new Set(crashesOf(name));
  const dirs = [grown, corpus, ...(fs.existsSync(seeds) ? [seeds] : [])];
  const r = await run(path.join(outDir, 'bin', t.bin), [
    `-max_total_time=${seconds}`, `-max_len=${t.maxLen}`, '-timeout=25', '-rss_limit_mb=2048', '-print_final_stats=1',
    // The short run (npm test, CI) starts from a fixed seed, so what it explores does not change from run to run.
    ...(short ? ['-seed=1'] : []),
    `-artifact_prefix=${crashes}/`, ...dirs,
  ], { TILECAST_TURBOJPEG: turbojpeg, ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=1', UBSAN_OPTIONS: 'print_stacktrace=1' });
  fs.writeFileSync(path.join(outDir, `${name}.log`), r.out);
  const last = [...r.out.matchAll(/^#(\d+)\s+(?:DONE|pulse|NEW|REDUCE|INITED)\s+cov: (\d+) ft: (\d+).*?exec\/s: (\d+)/gm)].pop();
  const eps = /stat::average_exec_per_sec:\s+(\d+)/.exec(r.out);
  const stats = last ? `${last[1]} execs, cov ${last[2]}, ft ${last[3]}, ${eps ? eps[1] : last[4]} exec/s` : 'no stats';
  const fresh = crashesOf(name).filter((f) => !before.has(f));
  if (r.status === 0 && fresh.length === 0) {
    log(`ok   ${name}: ${seconds} s, ${stats}`);
    passed++;
  } else {
    const why = (/^\*\*\* invariant failed.*$/m.exec(r.out) || /^==\d+==ERROR: .*$/m.exec(r.out) || /^SUMMARY: .*$/m.exec(r.out) || [`exit ${r.status}`])[0];
    log(`FAIL ${name}: ${stats}\n     ${why}\n     artifact: ${fresh.join(', ') || '(none)'}\n     log: ${path.join(outDir, `${name}.log`)}`);
    log(`     reproduce: TILECAST_TURBOJPEG=${turbojpeg} ${path.join(outDir, 'bin', t.bin)} ${fresh[0] || '<input>'}`);
    failed++;
  }
}

async function runProtocol() {
  const grown = path.join(outDir, 'grown', 'protocol');
  const crashes = path.join(outDir, 'crashes', 'protocol');
  fs.mkdirSync(grown, { recursive: true });
  const before = new Set(crashesOf('protocol'));
  // The short run is bounded by iterations (deterministic: seeded RNG, coverage is deterministic);
  // the long one by time.
  const bound = short ? ['-runs=20000', `-max_total_time=${seconds}`] : [`-max_total_time=${seconds}`];
  const seeds = path.join(here, 'seeds', 'protocol');
  const r = await run(process.execPath, [path.join(here, 'protocol_fuzz.js'), ...bound, '-seed=1', `-artifact_dir=${crashes}`,
    ...(short ? [] : [grown]), path.join(outDir, 'corpus', 'protocol'), ...(fs.existsSync(seeds) ? [seeds] : [])]);
  fs.writeFileSync(path.join(outDir, 'protocol.log'), r.out);
  const done = /^#(\d+)\s+DONE (.*)$/m.exec(r.out);
  const fresh = crashesOf('protocol').filter((f) => !before.has(f));
  if (r.status === 0 && fresh.length === 0) {
    log(`ok   protocol: ${done ? `${done[1]} execs, ${done[2]}` : 'no stats'}`);
    passed++;
  } else {
    const why = (/^==FINDING== .*$/m.exec(r.out) || [r.out.split('\n').slice(-8).join('\n')])[0];
    log(`FAIL protocol: ${why}\n     artifact: ${fresh.join(', ') || '(none)'}\n     reproduce: node native/fuzz/protocol_fuzz.js ${fresh[0] || '<input>'}`);
    failed++;
  }
}

async function main() {
  const t0 = Date.now();
  fs.mkdirSync(outDir, { recursive: true });
  // The seed corpus needs the built package (dist and the addon).
  const corpus = spawnSync(process.execPath, [path.join(here, 'make-corpus.js')], { cwd: root, encoding: 'utf8' });
  process.stdout.write(corpus.stdout + corpus.stderr);
  if (corpus.status !== 0) {
    log('FAIL corpus: make-corpus.js failed (is the package built? npm run build)');
    failed++;
  }
  const jobs = [];
  const native = targets.filter((t) => NATIVE[t]);
  if (native.length) {
    const make = spawnSync('make', ['-s', '-C', here, ...native.map((t) => `out/bin/${NATIVE[t].bin}`)], { encoding: 'utf8' });
    const turbojpeg = spawnSync('make', ['-s', '-C', here, 'print-turbojpeg'], { encoding: 'utf8' }).stdout.trim();
    if (make.status === 2 && /clang\+\+ not found/.test(make.stdout + make.stderr)) {
      if (ci) {
        log(`FAIL native targets: clang++ (16 or later, with libFuzzer) is missing and CI is set (.ci/run installs clang-16 and libclang-rt-16-dev)`);
        failed++;
      } else {
        log(`skip native targets (${native.join(', ')}): clang++ with libFuzzer is not installed (Debian: apt-get install clang-16 libclang-rt-16-dev)`);
      }
    } else if (make.status !== 0) {
      process.stdout.write(make.stdout + make.stderr);
      log('FAIL native targets: build failed');
      failed++;
    } else {
      for (const t of native) jobs.push(runNative(t, turbojpeg));
    }
  }
  if (targets.includes('protocol')) jobs.push(runProtocol());
  await Promise.all(jobs);
  log(`fuzz: ${Math.round((Date.now() - t0) / 1000)} s`);
  log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
});
