import t from 'tap';
import * as net from 'node:net';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DeliveryTrace } from '../../../src/emulator/deliveryTrace';
import { LinkEmulator } from '../../../src/emulator/linkEmulator';
import { rng } from '../../helpers';

t.test('trace parsing, looping and lookup', async (t) => {
  const tr = new DeliveryTrace([0, 3, 3, 10]);
  t.equal(tr.periodMs, 10);
  t.same([0, 1, 2, 3, 4, 5].map((n) => tr.timeOf(n)), [0, 3, 3, 10, 10, 13]);
  t.equal(tr.firstAtOrAfter(4), 3);
  t.equal(tr.firstAtOrAfter(11), 5);
  t.throws(() => new DeliveryTrace([5, 4]));
  t.throws(() => new DeliveryTrace([0]));
  t.ok(Math.abs(DeliveryTrace.constant(12).meanMbps - 12) < 0.1);
});

t.test('shared LTE traces load (if present)', async (t) => {
  const file = path.join(__dirname, '..', '..', '..', '..', 'shared', 'traces', 'ATT-LTE-driving.down');
  if (!fs.existsSync(file)) {
    t.comment(`shared traces missing at ${file}: skipping the real-trace check`);
    return;
  }
  const tr = DeliveryTrace.load(file);
  t.equal(tr.times.length, 338895);
  t.equal(tr.periodMs, 786112);
});

t.test('bytes cross the emulated link intact and in order, both ways', async (t) => {
  // An echo server behind the emulator.
  const server = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const emu = await LinkEmulator.start({
    targetPort: (server.address() as net.AddressInfo).port,
    down: { trace: DeliveryTrace.constant(40), delayMs: 5, queueBytes: 64 * 1024 },
    up: { trace: new DeliveryTrace([1, 1, 2, 5]), delayMs: 3, queueBytes: 16 * 1024 },
  });
  const random = rng(4);
  const payload = Buffer.from(Array.from({ length: 300_000 }, () => (random() * 256) | 0));
  const client = net.connect(emu.port, '127.0.0.1');
  const received: Buffer[] = [];
  let got = 0;
  const done = new Promise<void>((resolve) => {
    client.on('data', (d) => {
      received.push(d);
      got += d.length;
      if (got >= payload.length) resolve();
    });
  });
  client.write(payload);
  await done;
  t.equal(Buffer.compare(Buffer.concat(received), payload), 0);
  client.destroy();
  await emu.close();
  server.close();
});

t.test('measurement hooks: connection epochs (pinned or at open) and bytes queued per direction', async (t) => {
  const server = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const targetPort = (server.address() as net.AddressInfo).port;
  const trace = DeliveryTrace.constant(40);
  const run = async (epoch?: number) => {
    const epochs: number[] = [];
    const queued = { down: 0, up: 0 };
    const emu = await LinkEmulator.start({
      targetPort, epoch, down: { trace }, up: { trace },
      onConnection: (e) => epochs.push(e),
      onQueued: (e) => {
        queued[e.direction] += e.bytes;
        if (e.epoch !== epochs[0]) t.fail('onQueued carries its connection\'s epoch');
      },
    });
    const before = performance.now();
    const client = net.connect(emu.port, '127.0.0.1');
    const payload = Buffer.alloc(10_000, 7);
    let got = 0;
    await new Promise<void>((resolve) => {
      client.on('data', (d) => { got += d.length; if (got >= payload.length) resolve(); });
      client.write(payload);
    });
    client.destroy();
    await emu.close();
    return { epochs, queued, before };
  };
  const own = await run();
  t.equal(own.epochs.length, 1, 'one connection');
  t.ok(own.epochs[0]! >= own.before, 'by default the epoch is the connection\'s open');
  t.same(own.queued, { down: 10_000, up: 10_000 }, 'every byte counted once each way');
  const pinned = await run(1234.5);
  t.same(pinned.epochs, [1234.5], 'a pinned epoch is every connection\'s trace time 0');
  server.close();
});
