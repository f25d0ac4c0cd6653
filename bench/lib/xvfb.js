// A private Xvfb for benchmarks and the workload recorder.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');

/** Starts Xvfb on a free display; resolves { proc, display } once it accepts connections. */
function startXvfb(width, height, extraArgs = []) {
  return new Promise((resolve, reject) => {
    const proc = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', `${width}x${height}x24`, '-nolisten', 'tcp', ...extraArgs], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
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
