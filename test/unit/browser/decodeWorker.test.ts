// The browser viewer's decode Worker loop (runDecodeWorker) when a framebuffer
// cannot be allocated: a real allocation failure in a memory-capped process.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';

const CHILD = path.join(__dirname, 'fixtures', 'decodeWorkerLowMemory.ts');
/** Address space the child may add once capped: room to work, not for a 1 GiB framebuffer. */
const HEADROOM_KIB = 512 * 1024;

/** Runs the child, capping its address space (prlimit, util-linux) once it has started. */
function runCapped(): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, CHILD], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '', err = '', capped = false;
    child.stdout.on('data', (d) => {
      out += d;
      const m = /^vm (\d+)\n/.exec(out);
      if (!m || capped) return;
      capped = true;
      out = out.slice(m[0].length);
      const cap = spawnSync('prlimit', ['--pid', String(child.pid), `--as=${(Number(m[1]) + HEADROOM_KIB) * 1024}`], { encoding: 'utf8' });
      if (cap.status !== 0) err += `prlimit: ${cap.stderr || cap.error}`;
      child.stdin.end('go\n');
    });
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

t.test('a screen too large for memory: the update says why, and the next resize works', { skip: process.platform !== 'linux' && 'needs /proc and prlimit' }, async (t) => {
  const { code, out, err } = await runCapped();
  t.equal(code, 0, `child ran, capped (${err.slice(0, 500)})`);
  const posted = JSON.parse(out) as Array<{ type: string; id: number; message?: string; dirty?: unknown; pixels?: number[] }>;
  t.equal(posted.length, 2, 'every update got an answer (the loop did not stop at the failed resize)');
  t.match(posted[0], { type: 'failed', id: 1, message: /^no memory for a 16384×16384 screen on this device \(.+\)$/ }, 'the first update fails saying why');
  t.same(posted[1], { type: 'applied', id: 2, dirty: { x: 0, y: 0, w: 4, h: 2 }, lossy: false, pixels: [0, 0, 255, 255, 0, 0, 255, 255], cacheNextId: null }, 'after a smaller resize, updates decode exactly again');
});
