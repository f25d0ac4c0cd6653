// A private Xvfb for benchmarks and the workload recorder.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');

/**
 * Starts Xvfb on a free display; resolves { proc, display } once it accepts
 * connections. -noreset: without it the server resets when its last client
 * leaves, and refuses connections until done (on a loaded machine, long after
 * a bench closed one client and opened the next).
 */
function startXvfb(width, height, extraArgs = []) {
  return new Promise((resolve, reject) => {
    const proc = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', `${width}x${height}x24`, '-nolisten', 'tcp', '-noreset', ...extraArgs.filter((a) => a !== '-noreset')], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
    proc.stdio[3].once('data', async (d) => {
      // The display number can arrive before the socket accepts connections.
      const n = d.toString().trim();
      for (let i = 0; i < 100 && !fs.existsSync(`/tmp/.X11-unix/X${n}`); i++) await new Promise((r) => setTimeout(r, 50));
      resolve({ proc, display: `:${n}` });
    });
    proc.once('exit', (code) => reject(new Error(`Xvfb exited with ${code}`)));
  });
}

module.exports = { startXvfb };
