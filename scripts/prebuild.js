#!/usr/bin/env node
// Makes the prebuilt binary shipped in the npm package (run by `npm pack` /
// `npm publish` through "prepack"): a clean Release build of the addon, copied
// to prebuilds/<platform>-<arch>/tilecast.napi[.<libc>].node — the
// node-gyp-build layout, so `npm install tilecast` loads it without a compiler
// and builds from source only where no prebuild matches. N-API: one binary per
// platform and CPU serves every Node >= 20.
//
// Beside it goes libturbojpeg.so.0 (libjpeg-turbo 3, the TurboJPEG 3 API the
// JPEG path dlopens; taken from the @julusian/jpeg-turbo devDependency's
// prebuilt library) with its licence, so users' installs need no JPEG package.
//
// Prebuilds made here: linux-x64 (glibc), the platform CI runs on, and
// win32-x64 cross-built with mingw-w64 (scripts/build-win.js) when its
// compiler is installed (Debian: g++-mingw-w64-x86-64-posix; CI has it), so
// Windows PCs install with no compiler either; without mingw it says so and
// keeps any win32-x64 prebuild already there. Other platforms' binaries
// (later darwin) are dropped into prebuilds/ the same way and are kept.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.join(__dirname, '..');
const tuple = `${process.platform}-${process.arch}`;
const libc = process.platform === 'linux' ? (fs.existsSync('/etc/alpine-release') ? 'musl' : 'glibc') : '';
const outDir = path.join(root, 'prebuilds', tuple);
const addonName = ['tilecast', 'napi', libc, 'node'].filter(Boolean).join('.');

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
}

/** npm's own node-gyp (npm puts it on PATH for scripts), else the one in node_modules. */
function nodeGyp() {
  try {
    return [process.execPath, require.resolve('node-gyp/bin/node-gyp.js')];
  } catch {
    return ['node-gyp'];
  }
}

/** Drops symbols the loader does not need (a third of the addon's size); skipped where strip is missing. */
function strip(file) {
  const r = spawnSync('strip', ['--strip-unneeded', file], { stdio: 'inherit' });
  if (r.error) console.log(`prebuild: strip not found, ${path.basename(file)} keeps its symbols`);
  else if (r.status !== 0) throw new Error(`strip ${file} failed`);
}

function turboJpeg() {
  if (process.platform !== 'linux' || libc !== 'glibc') return null;
  const dir = path.dirname(require.resolve('@julusian/jpeg-turbo/package.json'));
  const file = path.join(dir, 'prebuilds', `jpeg-turbo-linux-${process.arch}`, 'libturbojpeg.so.0');
  if (!fs.existsSync(file)) throw new Error(`no libturbojpeg for linux-${process.arch} in @julusian/jpeg-turbo (${file})`);
  return file;
}

// Node's own headers when they ship with it (no download), unless npm already says where.
const nodeDir = path.join(path.dirname(process.execPath), '..');
const headers = !process.env.npm_config_nodedir && fs.existsSync(path.join(nodeDir, 'include', 'node', 'node_api.h'));
const [gyp, ...gypArgs] = nodeGyp();
run(gyp, [...gypArgs, 'rebuild', '--release', ...(headers ? [`--nodedir=${nodeDir}`] : [])]);
fs.rmSync(outDir, { recursive: true, force: true });
fs.mkdirSync(outDir, { recursive: true });
const addon = path.join(outDir, addonName);
fs.copyFileSync(path.join(root, 'build', 'Release', 'tilecast.node'), addon);
strip(addon);
const jpeg = turboJpeg();
if (jpeg) {
  const lib = path.join(outDir, 'libturbojpeg.so.0');
  fs.copyFileSync(jpeg, lib);
  strip(lib);
  fs.copyFileSync(path.join(root, 'licenses', 'libjpeg-turbo.md'), path.join(outDir, 'LICENSE.libjpeg-turbo.md'));
}
for (const f of fs.readdirSync(outDir)) {
  console.log(`prebuild: prebuilds/${tuple}/${f} (${(fs.statSync(path.join(outDir, f)).size / 1024).toFixed(0)} KiB)`);
}
windowsPrebuild();

/** prebuilds/win32-x64/tilecast.napi.node from the mingw cross-build (no turbojpeg.dll: Windows hosts code lossless). */
function windowsPrebuild() {
  if (tuple === 'win32-x64') return; // made above, natively
  const cxx = process.env.MINGW_CXX || 'x86_64-w64-mingw32-g++-posix';
  if (spawnSync(cxx, ['--version'], { stdio: 'ignore' }).status !== 0) {
    console.log(`prebuild: ${cxx} not found (Debian: g++-mingw-w64-x86-64-posix): no new win32-x64 prebuild; Windows installs use one already in prebuilds/ or build with MSVC`);
    return;
  }
  run(process.execPath, [path.join(root, 'scripts', 'build-win.js')]);
  const dir = path.join(root, 'prebuilds', 'win32-x64');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'tilecast.napi.node');
  fs.copyFileSync(path.join(root, 'build', 'win32-x64', 'tilecast.node'), file);
  const stripped = spawnSync(cxx.replace(/g\+\+(-posix)?$/, 'strip'), ['--strip-unneeded', file], { stdio: 'inherit' });
  if (stripped.error || stripped.status !== 0) console.log('prebuild: mingw strip failed or missing; the Windows addon keeps its symbols');
  console.log(`prebuild: prebuilds/win32-x64/tilecast.napi.node (${(fs.statSync(file).size / 1024).toFixed(0)} KiB)`);
}
