// bin/tilecast-gateway.js `serve` restarts Node with the relay's young-generation
// flags (src/relay/nodeFlags.ts) unless the user sized it; signals reach the
// gateway, which stops once however many arrive, and the launcher ends as it does.
import t from 'tap';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RELAY_NODE_FLAGS, youngGenerationConfigured } from '../../../src/relay/nodeFlags';

const BIN = path.resolve(__dirname, '../../../bin/tilecast-gateway.js');

t.test('youngGenerationConfigured: a semi-space flag in execArgv or NODE_OPTIONS, either spelling', async (t) => {
  t.notOk(youngGenerationConfigured([], ''));
  t.notOk(youngGenerationConfigured(['--expose-gc'], '--max-old-space-size=512'));
  t.ok(youngGenerationConfigured(['--max-semi-space-size=32'], ''));
  t.ok(youngGenerationConfigured([], '--trace-warnings --min_semi_space_size=8'));
  t.ok(youngGenerationConfigured(RELAY_NODE_FLAGS, undefined));
});

function serve(t: { teardown(fn: () => void): void }, nodeArgs: string[]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tc-launcher-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // tap's own loader flags must not count as the user's
  delete env.TILECAST_GATEWAY_NODE_FLAGS_APPLIED;
  const proc = spawn(process.execPath, [...nodeArgs, BIN, '--data-dir', dir, 'serve', '--listen', '127.0.0.1:0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) => proc.once('exit', (code, signal) => r({ code, signal })));
  t.teardown(() => void proc.kill('SIGKILL'));
  const ready = new Promise<{ pid: number; flags: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no process line in 30 s: ${out}`)), 30_000);
    proc.stdout.on('data', () => {
      const m = /process: pid (\d+), node \S+ (.*)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ pid: Number(m[1]), flags: m[2]! });
      }
    });
  });
  return { proc, out: () => out, exited, ready };
}

t.test('serve runs the gateway in a Node started with RELAY_NODE_FLAGS; SIGTERM twice stops it once, cleanly', async (t) => {
  const g = serve(t, []);
  const { pid, flags } = await g.ready;
  t.not(pid, g.proc.pid, 'the gateway is a child of the launcher');
  for (const f of RELAY_NODE_FLAGS) t.ok(flags.includes(f), `the gateway runs with ${f}`);
  g.proc.kill('SIGTERM');
  g.proc.kill('SIGTERM');
  const end = await g.exited;
  t.same(end, { code: 0, signal: null }, 'the launcher exits 0 when the gateway stopped cleanly');
  t.equal(g.out().match(/SIGTERM: stopping/g)?.length, 1, 'the gateway stopped once');
  t.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'the gateway process is gone');
});

t.test('a user who sized the young generation keeps their flags and a single process', async (t) => {
  const g = serve(t, ['--max-semi-space-size=32']);
  const { pid, flags } = await g.ready;
  t.equal(pid, g.proc.pid, 'no restart');
  t.equal(flags, '--max-semi-space-size=32');
  g.proc.kill('SIGINT');
  t.same(await g.exited, { code: 0, signal: null });
});

t.test('a launcher killed outright takes the gateway with it', async (t) => {
  const g = serve(t, []);
  const { pid } = await g.ready;
  g.proc.kill('SIGKILL');
  await g.exited;
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  t.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'the gateway stopped when its launcher died');
});
