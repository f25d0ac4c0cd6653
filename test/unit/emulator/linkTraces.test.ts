// Finding link traces by name or path; one direction serving both, said so.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_TRACES_DIR, listLinkTraces, loadLinkTraces } from '../../../src/emulator/linkTraces';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilecast-traces-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
fs.writeFileSync(path.join(dir, 'pair.down'), '0\n1\n2\n');
fs.writeFileSync(path.join(dir, 'pair.up'), '0\n5\n');
fs.writeFileSync(path.join(dir, 'downonly.down'), '0\n3\n');
fs.writeFileSync(path.join(dir, 'cell-up.pps'), '0\n4\n8\n');
fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a trace');

t.test('list: pairs with their directions, single-direction files', async (t) => {
  t.same(listLinkTraces(dir), [
    { name: 'cell-up.pps', down: false, up: true },
    { name: 'downonly', down: true, up: false },
    { name: 'pair', down: true, up: true },
  ]);
  t.throws(() => listLinkTraces(path.join(dir, 'nope')), { code: 'ERR_INVALID_ARG', message: /traces folder .*nope is missing/ });
});

t.test('by name, by path to either file of a pair, by base path', async (t) => {
  const byName = loadLinkTraces('pair', dir);
  t.same([byName.name, byName.down.periodMs, byName.up.periodMs, byName.note], ['pair', 2, 5, null]);
  const byFile = loadLinkTraces(path.join(dir, 'pair.up'), dir);
  t.same([byFile.downFile, byFile.upFile], [path.join(dir, 'pair.down'), path.join(dir, 'pair.up')]);
  t.equal(loadLinkTraces(path.join(dir, 'pair')).up.periodMs, 5, 'base path, no folder needed');
});

t.test('one direction is used for both, and the note says so', async (t) => {
  const one = loadLinkTraces('downonly', dir);
  t.equal(one.up, one.down, 'the same trace both ways');
  t.equal(one.note, 'downonly has a downlink trace only: downonly.down is used for both directions');
  const pps = loadLinkTraces(path.join(dir, 'cell-up.pps'));
  t.equal(pps.down.periodMs, 8);
  t.match(pps.note, /has one trace file: cell-up\.pps is used for both directions/);
});

t.test('missing: every file looked for, and where to list', async (t) => {
  t.throws(() => loadLinkTraces('nope', dir), {
    code: 'ERR_INVALID_ARG',
    message: `no link trace "nope": looked for ${path.join(dir, 'nope.down')}, ${path.join(dir, 'nope.up')} (--link list shows the traces in ${dir})`,
  });
  t.throws(() => loadLinkTraces('x', path.join(dir, 'nope')), { message: /traces folder .* is missing/ });
});

// The real traces beside the checkout: TMobile-LTE-driving has no .up (the case the issue hit).
const haveShared = fs.existsSync(DEFAULT_TRACES_DIR);
if (!haveShared && process.env.CI) throw new Error(`LTE traces missing: ${DEFAULT_TRACES_DIR} (../shared/traces beside the checkout)`);
t.test('the shared LTE traces', { skip: haveShared ? false : `LTE traces missing: ${DEFAULT_TRACES_DIR} (../shared/traces beside the checkout)` }, async (t) => {
  const list = listLinkTraces();
  t.same(list.find((e) => e.name === 'ATT-LTE-driving'), { name: 'ATT-LTE-driving', down: true, up: true });
  t.same(list.find((e) => e.name === 'TMobile-LTE-driving'), { name: 'TMobile-LTE-driving', down: true, up: false });
  t.match(loadLinkTraces('TMobile-LTE-driving').note, /downlink trace only: TMobile-LTE-driving\.down is used for both directions/);
});
