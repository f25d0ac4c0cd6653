// The npm package as users get it. A copy of the checkout (its tracked and
// unignored files, as a fresh clone has them) is packed with `npm pack`, which
// runs prepare (tsc, viewer bundle) and prepack (scripts/prebuild.js: the
// linux-x64 prebuild and its libturbojpeg, and the win32-x64 cross-build). The tarball is checked against a
// size budget and a list of what must and must not ship, then installed into
// an empty project with --omit=dev and with no compiler on PATH (no g++, cc,
// make or python3: the prebuild must load, nothing may compile), and used
// there: `npm start`'s job ending byte-identical, JPEG available, X11Source on
// Xvfb byte-exact against the X server's own image, the browser viewer page
// and bundle served and painting the exact screen in Chromium.
//
// Packing copies the tree so the checkout's build/ and dist/ are never rebuilt
// under other tests. Named .slow.ts, not .test.ts: `npm test` runs it as its own
// stage after the tap suite, with a longer timeout (scripts/test.js); alone:
// npx tap --timeout=1500 test/integration/package/packedInstall.slow.ts
import t from 'tap';
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { loadScene } from '../../../src/source/sceneSource';
import { firstDifference } from '../../helpers';
import { serverImage, skipWithoutX, startXvfb } from '../../xserver';
import { PACKAGE_BUDGET, INSTALL_BUDGET } from './budget';

const root = path.join(__dirname, '..', '..', '..');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const COMPILERS = ['g++', 'gcc', 'cc', 'c++', 'clang', 'clang++', 'make', 'python3', 'python'];

const mingw = spawnSync(process.env.MINGW_CXX || 'x86_64-w64-mingw32-g++-posix', ['--version'], { stdio: 'ignore' }).status === 0;
if (!mingw && process.env.CI) throw new Error('CI packs the win32-x64 prebuild: install g++-mingw-w64-x86-64-posix');
const skipX = skipWithoutX();
const skipBrowser = fs.existsSync(CHROMIUM) ? false : `Debian chromium not installed at ${CHROMIUM}`;
if (skipBrowser && process.env.CI) throw new Error(skipBrowser);
const skipPlatform = process.platform === 'linux' && process.arch === 'x64' ? false : 'prebuilds are made on linux-x64 only';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tilecast-pack-'));
t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));

/** The checkout as a clone would have it (plus uncommitted edits), with the dev tree linked in. */
function copyCheckout(dest: string): void {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' })
    .split('\0').filter((f) => f && fs.existsSync(path.join(root, f)));
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(dest, f)), { recursive: true });
    fs.copyFileSync(path.join(root, f), path.join(dest, f));
  }
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dest, 'node_modules'));
}

/** A PATH with node, npm and a shell only: what an office PC without build tools has. */
function bareBin(dir: string): string {
  fs.mkdirSync(dir);
  const npmCli = fs.realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim());
  fs.symlinkSync(process.execPath, path.join(dir, 'node'));
  fs.symlinkSync(npmCli, path.join(dir, 'npm'));
  fs.symlinkSync(path.join(path.dirname(npmCli), 'npx-cli.js'), path.join(dir, 'npx'));
  for (const tool of ['sh', 'env']) fs.symlinkSync(execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(), path.join(dir, tool));
  return dir;
}

function bareEnv(bin: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: bin, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR, LANG: 'C.UTF-8', ...extra };
}

function treeBytes(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) n += treeBytes(p);
    else if (e.isFile()) n += fs.statSync(p).size;
  }
  return n;
}

const mib = (n: number) => `${(n / 1048576).toFixed(2)} MiB`;

t.test('packed tarball: contents and budget; installs and runs in an empty project with no compiler', { skip: skipPlatform }, async (t) => {
  const src = path.join(work, 'src');
  copyCheckout(src);
  const packed = spawnSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: src, encoding: 'utf8', maxBuffer: 64 << 20 });
  t.equal(packed.status, 0, `npm pack succeeds${packed.status ? `: ${packed.stderr.slice(-2000)}` : ''}`);
  if (packed.status !== 0) return;
  const info = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('[')))[0] as {
    filename: string; size: number; unpackedSize: number; entryCount: number; files: { path: string }[];
  };
  const files = info.files.map((f) => f.path);

  t.test('what ships', async (t) => {
    for (const f of ['LICENSE', 'licenses/libjpeg-turbo.md', 'package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts',
      'dist/testing/index.js', 'dist/browser/tilecast-viewer.js', 'dist/browser/index.html', 'bin/tilecast-gateway.js',
      'prebuilds/linux-x64/tilecast.napi.glibc.node', 'prebuilds/linux-x64/libturbojpeg.so.0', 'prebuilds/linux-x64/LICENSE.libjpeg-turbo.md',
      'assets/scenes/desktop.tcf.gz', 'assets/scenes/japanese.tcf.gz', 'binding.gyp', 'native/codec/jpeg_lib.cc', 'examples/host.js', 'docs/api.md']) {
      t.ok(files.includes(f), `ships ${f}`);
    }
    // Windows PCs install the mingw cross-build (scripts/prebuild.js makes it where mingw-w64 is; CI has it).
    if (mingw) {
      t.ok(files.includes('prebuilds/win32-x64/tilecast.napi.node'), 'ships the win32-x64 prebuild');
      const pe = path.join(src, 'prebuilds', 'win32-x64', 'tilecast.napi.node');
      t.equal(fs.existsSync(pe) && fs.readFileSync(pe).subarray(0, 2).toString('latin1'), 'MZ', 'a Windows (PE) binary');
    } else t.comment('no mingw-w64 here: the tarball has no win32-x64 prebuild');
    const unwanted = files.filter((f) => /^(native\/(tests|fuzz)\/|build\/|src\/|test\/|bench\/|scripts\/|\.ci\/)|\.map$|\.tcf$/.test(f));
    t.same(unwanted, [], 'no test or fuzz builds, sources of the TS, tests, benches or source maps');
    t.comment(`tarball ${info.filename}: ${mib(info.size)} packed, ${mib(info.unpackedSize)} unpacked, ${info.entryCount} files ` +
      `(budget ${mib(PACKAGE_BUDGET.packedBytes)}, ${mib(PACKAGE_BUDGET.unpackedBytes)}, ${PACKAGE_BUDGET.files} files)`);
    t.ok(info.size <= PACKAGE_BUDGET.packedBytes, `packed size ${info.size} within budget ${PACKAGE_BUDGET.packedBytes}`);
    t.ok(info.unpackedSize <= PACKAGE_BUDGET.unpackedBytes, `unpacked size ${info.unpackedSize} within budget ${PACKAGE_BUDGET.unpackedBytes}`);
    t.ok(info.entryCount <= PACKAGE_BUDGET.files, `file count ${info.entryCount} within budget ${PACKAGE_BUDGET.files}`);
  });

  // The empty project, installed the way an office PC without build tools would.
  const bin = bareBin(path.join(work, 'bin'));
  const noCompiler = spawnSync('sh', ['-c', COMPILERS.map((c) => `command -v ${c}`).join('; ')], { env: bareEnv(bin), encoding: 'utf8' });
  t.equal(noCompiler.stdout.trim(), '', `no compiler or build tool reachable on the bare PATH (${COMPILERS.join(', ')})`);
  const project = path.join(work, 'project');
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'empty-project', version: '1.0.0', private: true }));
  const install = spawnSync('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', path.join(work, info.filename)], {
    cwd: project, env: bareEnv(bin), encoding: 'utf8', timeout: 600_000,
  });
  t.equal(install.status, 0, `npm install of the tarball succeeds with no compiler on PATH${install.status ? `: ${(install.stdout + install.stderr).slice(-3000)}` : ''}`);
  if (install.status !== 0) return;
  const pkgDir = path.join(project, 'node_modules', 'tilecast');
  t.notOk(fs.existsSync(path.join(pkgDir, 'build')), 'nothing was compiled at install (no build/ in the installed package)');

  t.test('install footprint', async (t) => {
    const tree = spawnSync('npm', ['ls', '--all', '--omit=dev', '--parseable'], { cwd: project, env: bareEnv(bin), encoding: 'utf8' });
    const packages = tree.stdout.trim().split('\n').slice(1).map((p) => path.relative(path.join(project, 'node_modules'), p).replace(/\\/g, '/'));
    const bytes = treeBytes(path.join(project, 'node_modules'));
    t.comment(`install adds ${packages.length} packages (${packages.join(', ')}), ${mib(bytes)} in node_modules ` +
      `(budget ${INSTALL_BUDGET.packages} packages, ${mib(INSTALL_BUDGET.bytes)})`);
    t.ok(packages.length <= INSTALL_BUDGET.packages, `${packages.length} packages within budget ${INSTALL_BUDGET.packages}`);
    t.ok(bytes <= INSTALL_BUDGET.bytes, `${bytes} bytes within budget ${INSTALL_BUDGET.bytes}`);
    t.same(packages.filter((p) => /cmake-js|axios|jpeg-turbo|node-gyp$|typescript|esbuild/.test(p)), [], 'no build tool or HTTP client in the tree');
  });

  const inProject = path.join(project, 'inProject.js');
  fs.copyFileSync(path.join(__dirname, 'inProject.js'), inProject);

  t.test("npm start's job from the installed package ends byte-identical", async (t) => {
    const out = execFileSync('node', [path.join(pkgDir, 'examples', 'local-session.js'), '--fast', '--snapshot', path.join(work, 'snap.png')], {
      cwd: project, env: bareEnv(bin), encoding: 'utf8', timeout: 300_000,
    });
    t.match(out, /viewer framebuffer equals host screen: yes \(byte-identical\)/);
    t.match(out, /captured 86 frames/);
  });

  t.test('the prebuild loads with JPEG; X11Source grabs Xvfb exactly', { skip: skipX }, async (t) => {
    const xvfb = await startXvfb(320, 200);
    t.teardown(() => xvfb.close());
    const out = path.join(work, 'checks.json');
    execFileSync('node', [inProject, 'checks', out], { cwd: project, env: bareEnv(bin, { DISPLAY: xvfb.display }), encoding: 'utf8', timeout: 120_000 });
    const r = JSON.parse(fs.readFileSync(out, 'utf8'));
    t.equal(r.jpegUnavailable, null, 'JPEG available from the libturbojpeg shipped in the prebuild');
    t.equal(r.hasBuildDir, false, 'the addon in use is the prebuild');
    t.same(r.x11, { width: 320, height: 200 });
    const want = serverImage(xvfb);
    t.equal(firstDifference(fs.readFileSync(`${out}.x11.bgra`), want.data, want.width), null, "X11Source's frame equals the X server's image");
  });

  t.test('the browser viewer: page and bundle served, and the screen painted exactly in Chromium', { skip: skipBrowser }, async (t) => {
    const proc: ChildProcess = spawn('node', [inProject, 'serve'], { cwd: project, env: bareEnv(bin), stdio: ['ignore', 'pipe', 'inherit'] });
    t.teardown(() => void proc.kill('SIGTERM'));
    const wsUrl = await new Promise<string>((resolve, reject) => {
      let buf = '';
      proc.stdout!.on('data', (d) => {
        buf += d;
        const m = buf.match(/READY (\S+)/);
        if (m) resolve(m[1]!);
      });
      proc.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
    });
    const httpUrl = wsUrl.replace(/^ws/, 'http');
    const page = await fetch(httpUrl);
    t.equal(page.status, 200);
    t.match(await page.text(), /<script type="module" src="\.\/start\.js">/);
    const bundle = await fetch(new URL('tilecast-viewer.js', httpUrl));
    t.equal(bundle.headers.get('content-type'), 'text/javascript; charset=utf-8');
    t.ok(Buffer.from(await bundle.arrayBuffer()).equals(fs.readFileSync(path.join(pkgDir, 'dist', 'browser', 'tilecast-viewer.js'))), 'the bundle served is the packaged one');

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    t.teardown(() => browser.close());
    const tab = await browser.newPage({ viewport: { width: 800, height: 600 } });
    await tab.goto(httpUrl);
    const scene = loadScene('desktop');
    const want = Buffer.alloc(scene.width * scene.height * 4);
    for (let i = 0; i < want.length; i += 4) [want[i], want[i + 1], want[i + 2], want[i + 3]] = [scene.data[i + 2]!, scene.data[i + 1]!, scene.data[i]!, 255];
    let diff: string | null = 'never painted';
    for (const end = Date.now() + 30_000; Date.now() < end && diff !== null;) {
      await new Promise((r) => setTimeout(r, 200));
      const b64 = await tab.evaluate(async () => {
        const viewer = (window as any).tilecastViewer;
        if (!viewer?.stats.width) return '';
        const d = (await viewer.readCanvas()).data as Uint8ClampedArray;
        let s = '';
        for (let i = 0; i < d.length; i += 0x8000) s += String.fromCharCode(...d.subarray(i, i + 0x8000));
        return btoa(s);
      });
      if (b64) diff = firstDifference(Buffer.from(b64, 'base64'), want, scene.width);
    }
    t.equal(diff, null, "the page's canvas equals the scene byte for byte");
  });

  // Where no prebuild matches (here: told it is musl), install builds from source with
  // the compilers on PATH; without any libturbojpeg 3 JPEG is off and everything is lossless.
  t.test('source-build fallback, and lossless only without libturbojpeg', async (t) => {
    const fallback = path.join(work, 'fallback');
    fs.mkdirSync(fallback);
    fs.writeFileSync(path.join(fallback, 'package.json'), JSON.stringify({ name: 'fallback-project', version: '1.0.0', private: true }));
    const env = { ...process.env, LIBC: 'musl' };
    const r = spawnSync('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', '--foreground-scripts', path.join(work, info.filename)], {
      cwd: fallback, env, encoding: 'utf8', timeout: 600_000,
    });
    t.equal(r.status, 0, `npm install builds from source${r.status ? `: ${(r.stdout + r.stderr).slice(-3000)}` : ''}`);
    const dir = path.join(fallback, 'node_modules', 'tilecast');
    t.ok(fs.existsSync(path.join(dir, 'build', 'Release', 'tilecast.node')), 'the addon was compiled at install');
    fs.copyFileSync(path.join(__dirname, 'inProject.js'), path.join(fallback, 'inProject.js'));
    const out = path.join(work, 'fallback.json');
    execFileSync('node', [path.join(fallback, 'inProject.js'), 'checks', out], { cwd: fallback, env: bareEnv(bin), timeout: 120_000 });
    t.equal(JSON.parse(fs.readFileSync(out, 'utf8')).jpegUnavailable, null, "the source build uses the package's libturbojpeg");

    fs.rmSync(path.join(dir, 'prebuilds'), { recursive: true });
    const system = spawnSync('sh', ['-c', 'ldconfig -p | grep -q "libturbojpeg.so.0 "']);
    execFileSync('node', [path.join(fallback, 'inProject.js'), 'checks', out], { cwd: fallback, env: bareEnv(bin), timeout: 120_000 });
    t.match(JSON.parse(fs.readFileSync(out, 'utf8')).jpegUnavailable, system.status === 0 ? /JPEG unavailable, lossless only: the libturbojpeg found lacks the TurboJPEG 3 API/ : /JPEG unavailable, lossless only: no libturbojpeg/,
      'without libturbojpeg 3: a clear reason');
    const start = execFileSync('node', [path.join(dir, 'examples', 'local-session.js'), '--fast', '--snapshot', path.join(work, 'snap2.png')], {
      cwd: fallback, env: bareEnv(bin), encoding: 'utf8', timeout: 300_000,
    });
    t.match(start, /viewer framebuffer equals host screen: yes \(byte-identical\)/, 'lossless only still ends byte-identical');
  });

  t.test("the README's ten-line host and viewer, as written there", async (t) => {
    const readme = fs.readFileSync(path.join(pkgDir, 'README.md'), 'utf8');
    for (const name of ['host', 'viewer']) {
      const block = new RegExp(`\`\`\`js\n(// ${name}\\.js\n[\\s\\S]*?)\`\`\``).exec(readme);
      t.ok(block, `README has the ${name} sample`);
      fs.writeFileSync(path.join(project, `${name}.js`), block![1]!);
    }
    const env = bareEnv(bin, { TILECAST_PASSWORD: 'lab-only' });
    const host = spawn('node', ['host.js'], { cwd: project, env, stdio: ['ignore', 'pipe', 'inherit'] });
    t.teardown(() => void host.kill('SIGTERM'));
    let out = '';
    host.stdout!.on('data', (d) => (out += d));
    await new Promise<void>((resolve, reject) => {
      host.stdout!.on('data', () => /open http:/.test(out) && resolve());
      host.once('exit', (code) => reject(new Error(`host.js exited ${code}: ${out}`)));
    });
    const viewer = spawnSync('node', ['viewer.js'], { cwd: project, env, encoding: 'utf8', timeout: 60_000 });
    t.equal(viewer.status, 0, `viewer.js exits 0${viewer.status ? `: ${viewer.stderr}` : ''}`);
    t.same([...fs.readFileSync(path.join(project, 'screen.png')).subarray(1, 4)], [0x50, 0x4e, 0x47], 'screen.png written');
    const refused = spawnSync('node', ['viewer.js'], { cwd: project, env: { ...env, TILECAST_PASSWORD: 'wrong' }, encoding: 'utf8', timeout: 60_000 });
    t.equal(refused.status, 1, 'a wrong password: exit 1');
    t.match(refused.stderr, /^ERR_UNAUTHORIZED host refused the credentials \(HTTP 401\)/);
  });

  t.test('npx tilecast-gateway from the installed package', async (t) => {
    const r = spawnSync('npx', ['--no-install', 'tilecast-gateway', '--help'], { cwd: project, env: bareEnv(bin), encoding: 'utf8', timeout: 60_000 });
    t.equal(r.status, 0, `exits 0${r.status ? `: ${r.stderr}` : ''}`);
    t.match(r.stdout, /serve/);
  });
});
