#!/usr/bin/env node
// Cross-builds the addon for Windows x64 with mingw-w64 on Linux:
//   node scripts/build-win.js  ->  build/win32-x64/tilecast.node
//
// The sources, defines and Windows libraries come from binding.gyp (its
// OS=='win' condition), so this build and `npm install` on Windows with MSVC
// compile the same files. Links -static (libstdc++, libgcc, winpthread inside
// the .node: otherwise Windows Node fails with a bare "Module not found")
// against an import library for node.exe made with dlltool from
// node-api-headers' def file plus the zlib functions node.exe also exports.
// Needs Debian's g++-mingw-w64-x86-64-posix (the posix thread model: the win32
// one lacks std::mutex, which node-addon-api uses).
'use strict';
const { spawnSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');
const outDir = path.join(root, 'build', 'win32-x64');
const objDir = path.join(outDir, 'obj');
const CXX = process.env.MINGW_CXX || 'x86_64-w64-mingw32-g++-posix';
const DLLTOOL = process.env.MINGW_DLLTOOL || 'x86_64-w64-mingw32-dlltool';

function fail(msg) {
  console.error(`build-win: ${msg}`);
  process.exit(1);
}

function have(cmd) {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Sources, defines and libraries of binding.gyp's target with the OS=='win' condition applied. */
function gypTarget() {
  const gyp = JSON.parse(fs.readFileSync(path.join(root, 'binding.gyp'), 'utf8'));
  const t = gyp.targets[0];
  const out = { sources: [...t.sources], defines: [...(t.defines || [])], libraries: [] };
  for (const [cond, ifTrue, ifFalse] of t.conditions || []) {
    const branch = cond === "OS=='win'" ? ifTrue : ifFalse;
    if (!branch) continue;
    out.sources.push(...(branch.sources || []));
    out.defines.push(...(branch.defines || []));
    out.libraries.push(...(branch.libraries || []));
  }
  // MSVC names (d3d11.lib) to mingw's -l flags.
  out.libraries = out.libraries.map((l) => (l.endsWith('.lib') ? `-l${l.slice(0, -4)}` : l));
  return out;
}

/** zlib.h for the zlib that node.exe exports: Node's own headers (the Node that runs this script). */
function nodeIncludeDir() {
  const candidates = [
    path.join(path.dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ];
  const dir = candidates.find((d) => fs.existsSync(path.join(d, 'zlib.h')));
  if (!dir) fail(`zlib.h not found in Node's headers (looked in ${candidates.join(', ')})`);
  return dir;
}

function newerThan(target, deps) {
  if (!fs.existsSync(target)) return false;
  const t = fs.statSync(target).mtimeMs;
  return deps.every((d) => fs.existsSync(d) && fs.statSync(d).mtimeMs <= t);
}

/** Dependencies from gcc's -MMD file (make syntax), or null when there is none. */
function depsOf(depFile) {
  if (!fs.existsSync(depFile)) return null;
  const text = fs.readFileSync(depFile, 'utf8').replace(/\\\n/g, ' ');
  const colon = text.indexOf(': ');
  return text.slice(colon + 2).split(/\s+/).filter(Boolean);
}

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited with ${code}`))));
  });
}

async function main() {
  if (!have(CXX)) fail(`${CXX} not found (Debian: apt-get install g++-mingw-w64-x86-64-posix)`);
  const target = gypTarget();
  const napiInclude = require('node-addon-api').include_dir.replace(/^"|"$/g, '');
  const napiHeaders = path.dirname(require.resolve('node-api-headers/package.json'));
  fs.mkdirSync(objDir, { recursive: true });

  // Import library for node.exe: N-API plus the zlib functions.
  const importLib = path.join(outDir, 'libnode.a');
  const apiDef = path.join(napiHeaders, 'def', 'node_api.def');
  const zlibDef = path.join(__dirname, 'win', 'node-zlib.def');
  if (!newerThan(importLib, [apiDef, zlibDef, __filename])) {
    const combined = path.join(outDir, 'node.def');
    const apiText = fs.readFileSync(apiDef, 'utf8');
    const zlibNames = fs.readFileSync(zlibDef, 'utf8').split('\n').map((l) => l.trim())
      .filter((l) => l && !l.startsWith(';') && l !== 'EXPORTS' && !l.startsWith('LIBRARY'));
    fs.writeFileSync(combined, `${apiText.trimEnd()}\n${zlibNames.join('\n')}\n`);
    await run(DLLTOOL, ['-d', combined, '-l', importLib, '-D', 'node.exe']);
  }

  const flags = [
    '-std=c++17', '-O3', '-Wall', '-Wextra', '-fexceptions',
    `-I${napiInclude}`, `-I${path.join(napiHeaders, 'include')}`, `-I${nodeIncludeDir()}`,
    ...target.defines.map((d) => `-D${d}`), '-DBUILDING_NODE_EXTENSION', '-DNODE_GYP_MODULE_NAME=tilecast',
  ];
  const jobs = [];
  const objects = [];
  for (const src of target.sources) {
    const obj = path.join(objDir, src.replace(/[\\/]/g, '_').replace(/\.cc$/, '.o'));
    const dep = obj.replace(/\.o$/, '.d');
    objects.push(obj);
    const deps = depsOf(dep);
    if (deps && newerThan(obj, [...deps, __filename])) continue;
    jobs.push([CXX, [...flags, '-MMD', '-MF', dep, '-c', path.join(root, src), '-o', obj]]);
  }
  const parallel = Math.max(1, Math.min(jobs.length, Number(process.env.JOBS) || os.availableParallelism?.() || 2));
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const [cmd, args] = jobs[next++];
      console.log(`  CXX ${path.relative(root, args[args.length - 3])}`);
      await run(cmd, args);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));

  const out = path.join(outDir, 'tilecast.node');
  if (jobs.length > 0 || !newerThan(out, [...objects, importLib])) {
    console.log(`  LINK ${path.relative(root, out)}`);
    await run(CXX, ['-shared', '-static', '-s', '-o', out, ...objects, importLib, ...target.libraries]);
  }
  console.log(`build-win: ${path.relative(root, out)} (${fs.statSync(out).size} bytes)`);
}

main().catch((err) => fail(err.message));
