// A LinkEmulator in a child process of its own (forked by bench/audio.js), as
// a real network is: its delivery timers then keep the trace's time however
// busy the host's or the viewer's event loop is.
//
//   argv[2]: { targetPort, down: { trace, delayMs, queueBytes }, up: { ... } }, traces as file paths
//   parent -> child { cmd: 'close', id }
//   child  -> parent { type: 'ready', port }
//                    { type: 'connection', epoch } (trace time 0, wall-clock ms)
'use strict';
const { LinkEmulator, DeliveryTrace } = require('tilecast/testing');
const { serve } = require('./child');

const opts = JSON.parse(process.argv[2]);

(async () => {
  const side = (d) => ({ ...d, trace: DeliveryTrace.load(d.trace) });
  const emu = await LinkEmulator.start({
    targetPort: opts.targetPort,
    down: side(opts.down),
    up: side(opts.up),
    onConnection: (epoch) => process.send({ type: 'connection', epoch: performance.timeOrigin + epoch }),
  });
  serve({
    async close() {
      await emu.close();
      setImmediate(() => process.exit(0));
      return {};
    },
  });
  process.send({ type: 'ready', port: emu.port });
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
