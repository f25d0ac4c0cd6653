// glibc allocator statistics, malloc_trim and V8's count of natively reported
// external memory for the memory benchmarks: builds
// mallocProbe.c with the system C compiler against Node's headers into the OS
// temp folder on first use. Without a compiler or headers it says why (reason()).
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

let mod = null;
let why = null;

function headers() {
  const candidates = [
    path.join(path.dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
    path.join(os.homedir(), '.cache', 'node-gyp', process.versions.node, 'include', 'node'),
  ];
  return candidates.find((d) => fs.existsSync(path.join(d, 'node_api.h'))) ?? null;
}

function load() {
  if (mod || why) return mod;
  const inc = headers();
  if (!inc) return ((why = 'node_api.h not found (install Node headers)'), null);
  const src = path.join(__dirname, 'mallocProbe.c');
  const tag = require('node:crypto').createHash('sha1').update(fs.readFileSync(src)).digest('hex').slice(0, 8);
  const out = path.join(os.tmpdir(), `tilecast-malloc-probe-${process.versions.node}-${process.arch}-${tag}.node`);
  if (!fs.existsSync(out)) {
    const tmp = `${out}.${process.pid}.tmp`;
    const r = spawnSync('cc', ['-O2', '-shared', '-fPIC', `-I${inc}`, '-o', tmp, src], { encoding: 'utf8' });
    if (r.status !== 0) return ((why = `cc failed: ${(r.error?.message ?? r.stderr).trim().slice(0, 300)}`), null);
    fs.renameSync(tmp, out);
  }
  try {
    const m = { exports: {} };
    process.dlopen(m, out);
    mod = m.exports;
  } catch (err) {
    why = `cannot load ${out}: ${err.message}`;
  }
  return mod;
}

/** mallinfo2 figures (bytes); with trim, after malloc_trim(0). */
function info(trim = false) {
  return load() ? mod.info(trim) : null;
}

/**
 * V8's count of memory native code reported with napi_adjust_external_memory
 * (NaN without the probe). Node 20's process.memoryUsage().external leaves it out.
 */
function v8External() {
  return load() ? mod.v8External() : NaN;
}

module.exports = { load, info, v8External, reason: () => why };
