// The addon tunes glibc's malloc once at load (native/util/allocator_tuning.cc), unless told not to.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { allocatorTuningApplied } from '../../../src/native/binding';

const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
const skip = process.platform === 'linux' && header?.glibcVersionRuntime ? false : 'not glibc';

t.test('applied at load on glibc: a fixed mmap threshold and a bounded arena count', { skip }, async (t) => {
  t.match(allocatorTuningApplied(), /^glibc malloc: mmap threshold 2 MiB, arena max \d+$/);
});

t.test('TILECAST_MALLOC_TUNING=0 leaves malloc alone', { skip }, async (t) => {
  const compiled = path.join(__dirname, '..', '..', '..', 'dist', 'native', 'binding.js');
  if (!fs.existsSync(compiled)) return void t.comment('dist/ not built (npm run build): not checked');
  const run = (value: string | undefined) => {
    const env = { ...process.env };
    if (value === undefined) delete env.TILECAST_MALLOC_TUNING;
    else env.TILECAST_MALLOC_TUNING = value;
    const r = spawnSync(process.execPath, ['-e', `console.log(JSON.stringify(require(${JSON.stringify(compiled)}).allocatorTuningApplied()))`], { encoding: 'utf8', env });
    return r.status === 0 ? JSON.parse(r.stdout.trim()) : `failed: ${r.stderr}`;
  };
  t.equal(run('0'), '');
  t.match(run(undefined), /^glibc malloc: mmap threshold/);
});
