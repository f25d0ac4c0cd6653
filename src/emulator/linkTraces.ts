/**
 * Finding the Mahimahi traces for a link: by name in a traces folder
 * (`ATT-LTE-driving` → ATT-LTE-driving.down + .up), or by path (a pair's base,
 * either file of a pair, or one trace file). A trace with only one direction
 * (TMobile-LTE-driving has no .up, the .pps files are one direction each) is
 * used for both, and the result says so. Used by `npm start -- --link` and the
 * benchmarks; the traces themselves live in ../shared/traces beside a checkout.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ErrorCodes, TilecastError } from '../errors';
import { DeliveryTrace } from './deliveryTrace';

/** Where a checkout keeps the traces: ../shared/traces beside the repository. */
export const DEFAULT_TRACES_DIR = path.join(__dirname, '..', '..', '..', 'shared', 'traces');

/** Single-direction trace files (Mahimahi format, one timestamp per line). */
const SINGLE_EXTENSIONS = ['.pps'];

export interface LinkTraces {
  /** The name shown to people: a trace name, or the path given. */
  name: string;
  down: DeliveryTrace;
  up: DeliveryTrace;
  downFile: string;
  upFile: string;
  /** Set when one direction's trace serves both: what was done, in a sentence. */
  note: string | null;
}

export interface TraceListing {
  name: string;
  down: boolean;
  up: boolean;
}

/** The traces in `dir`: pairs by base name (with the directions present) and single-direction files. */
export function listLinkTraces(dir = DEFAULT_TRACES_DIR): TraceListing[] {
  if (!fs.existsSync(dir)) throw missingDir(dir);
  const byName = new Map<string, TraceListing>();
  for (const file of fs.readdirSync(dir).sort()) {
    const ext = path.extname(file);
    if (ext === '.down' || ext === '.up') {
      const name = file.slice(0, -ext.length);
      const entry = byName.get(name) ?? { name, down: false, up: false };
      entry[ext === '.down' ? 'down' : 'up'] = true;
      byName.set(name, entry);
    } else if (SINGLE_EXTENSIONS.includes(ext)) {
      byName.set(file, { name: file, down: /down/i.test(file), up: /up/i.test(file) || !/down/i.test(file) });
    }
  }
  return [...byName.values()];
}

/**
 * The traces for `spec`: a name in `dir`, or a path. Throws ERR_INVALID_ARG
 * naming every file looked for when none is there.
 */
export function loadLinkTraces(spec: string, dir = DEFAULT_TRACES_DIR): LinkTraces {
  if (typeof spec !== 'string' || spec === '') throw new TilecastError(ErrorCodes.INVALID_ARG, 'link trace must be a name or a path');
  const byPath = spec.includes('/') || spec.includes(path.sep) || fs.existsSync(spec);
  const given = byPath ? path.resolve(spec) : path.join(dir, spec);
  const ext = path.extname(given);
  const base = ext === '.down' || ext === '.up' ? given.slice(0, -ext.length) : given;
  const pair = { down: `${base}.down`, up: `${base}.up` };
  const has = { down: fs.existsSync(pair.down), up: fs.existsSync(pair.up) };
  const name = byPath ? spec : spec.replace(/\.(down|up)$/, '');
  if (has.down && has.up) return loaded(name, pair.down, pair.up, null);
  const single = has.down ? pair.down : has.up ? pair.up : isFile(given) ? given : null;
  if (!single) {
    if (!byPath && !fs.existsSync(dir)) throw missingDir(dir);
    throw new TilecastError(ErrorCodes.INVALID_ARG,
      `no link trace ${JSON.stringify(spec)}: looked for ${pair.down}, ${pair.up}${ext && ext !== '.down' && ext !== '.up' ? ` and ${given}` : ''}` +
      ` (--link list shows the traces in ${dir})`);
  }
  const which = single === pair.down ? 'a downlink trace only' : single === pair.up ? 'an uplink trace only' : 'one trace file';
  return loaded(name, single, single, `${name} has ${which}: ${path.basename(single)} is used for both directions`);
}

function loaded(name: string, downFile: string, upFile: string, note: string | null): LinkTraces {
  const down = DeliveryTrace.load(downFile);
  return { name, down, up: upFile === downFile ? down : DeliveryTrace.load(upFile), downFile, upFile, note };
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function missingDir(dir: string): TilecastError {
  return new TilecastError(ErrorCodes.INVALID_ARG,
    `the traces folder ${dir} is missing (a checkout keeps the LTE traces in ../shared/traces beside it; or pass a trace file's path)`);
}
