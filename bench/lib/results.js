// Where benchmarks write: bench/results/<name>, or <stem>-quick.<ext> for a
// --quick run (git-ignored), so smoke runs never overwrite reported figures.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const DIR = path.join(__dirname, '..', 'results');

function writeResult(name, content, quick) {
  fs.mkdirSync(DIR, { recursive: true });
  const file = quick ? name.replace(/(\.[^.]+)$/, '-quick$1') : name;
  fs.writeFileSync(path.join(DIR, file), typeof content === 'string' ? content : `${JSON.stringify(content, (k, v) => (v === Infinity ? 'Infinity' : v), 2)}\n`);
  return file;
}

module.exports = { writeResult };
