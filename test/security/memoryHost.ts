// Host for memory.test.ts, in a child process of its own so its memory figures
// are the host's alone (forked with --expose-gc). Serves a still 1920×1080
// scene; answers { cmd: 'sample' } over IPC with its memory after a forced GC.
import { createHost } from '../../src/host/host';
import { PushSource } from '../../src/source/pushSource';
import { loadScene } from '../../src/source/sceneSource';

// V8's count of memory native code reported with AdjustExternalMemory, which
// process.memoryUsage().external leaves out on Node 20 (the benchmarks' probe;
// null when it cannot be built: no C compiler or Node headers).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const probe = require('../../bench/lib/mallocProbe') as {
  load(): unknown;
  v8External(): number;
  info(trim?: boolean): { inUse: number; mmapped: number; free: number } | null;
  reason(): string | null;
};

async function main(): Promise<void> {
  const source = new PushSource();
  source.push(loadScene('document'));
  const host = await createHost({ source, fps: 30, maxViewers: 64, maxConnectionsPerIp: 128, maxUnauthenticated: 128 });
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('memoryHost needs --expose-gc');
  process.on('message', async (msg: { cmd: string }) => {
    if (msg.cmd === 'sample') {
      // Native finalizers run after the collection that found their objects: collect, let them run, collect again.
      gc();
      await new Promise((r) => setTimeout(r, 200));
      gc();
      const m = process.memoryUsage();
      const reported = probe.load() ? probe.v8External() - m.arrayBuffers : null;
      const sessions = host.viewers().map((v) => host.session(v.id)!);
      process.send!({
        rss: m.rss, external: m.external, arrayBuffers: m.arrayBuffers, heapTotal: m.heapTotal, reported, probe: probe.reason(), malloc: probe.info(),
        viewers: sessions.length, inflight: sessions.reduce((n, s) => n + s.flow.stats().inflightUpdates, 0),
        encoderBytes: sessions.reduce((n, s) => n + s.encoder.memoryBytes, 0),
      });
    } else if (msg.cmd === 'close') {
      void host.close().then(() => process.exit(0));
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ ready: true, port: host.port });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
