// What the office PC plays during the audio benchmark, in a child process of
// its own (forked by bench/audio.js): the pactl calls that play each piece
// fork a process, and a fork from the bench's process (host, link emulator
// and viewer, a large heap) stalls its event loop for 50–100 ms every piece,
// which no real PC's media player does to the host.
//
//   parent -> child { cmd: 'close', id }
//   child  -> parent { type: 'ready' }
//
// The programme: a continuous chord with a little noise (no silence, so DTX
// saves nothing: the worst case for kbit/s), as 5 s pieces played by the
// sound server itself (no client underruns), a new one every 4.9 s (the
// server's sample cache takes a few MB at most; the overlap mixes, never a gap).
'use strict';
const { play, toneBurst } = require('tilecast/testing');
const { serve } = require('./child');

const { server } = JSON.parse(process.argv[2]);

function programme(ms) {
  const a = toneBurst(440, ms, 48000, 2, 0.2);
  const b = toneBurst(660, ms, 48000, 2, 0.15);
  let seed = 1;
  for (let i = 0; i < a.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    a[i] = Math.max(-32768, Math.min(32767, a[i] + b[i] + ((seed >>> 16) % 600) - 300));
  }
  return a;
}

const piece = programme(5000);
void (async () => {
  for (;;) {
    const at = performance.now();
    await play(server, piece, { sampleRate: 48000, channels: 2 });
    await new Promise((r) => setTimeout(r, Math.max(0, 4900 - (performance.now() - at))));
  }
})();

serve({
  // What the server already plays ends with its piece; nothing more starts.
  close() {
    setImmediate(() => process.exit(0));
    return {};
  },
});
process.send({ type: 'ready' });
