// docs/api.md names every public export of the 'tilecast' and 'tilecast/testing'
// entries (values and types), so the reference cannot silently fall behind.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '..', '..', '..');
const doc = fs.readFileSync(path.join(root, 'docs', 'api.md'), 'utf8');

/** Names exported by an entry file: `export { A, B as C }`, `export type { … }`, `export * as ns`. */
function exportedNames(file: string): string[] {
  const text = fs.readFileSync(path.join(root, file), 'utf8');
  const names: string[] = [];
  for (const m of text.matchAll(/^export\s+(?:type\s+)?\{([^}]*)\}/gm)) {
    for (const part of m[1]!.split(',')) {
      const name = part.trim().split(/\s+as\s+/).pop()!.trim();
      if (name) names.push(name);
    }
  }
  for (const m of text.matchAll(/^export\s+\*\s+as\s+(\w+)/gm)) names.push(m[1]!);
  return names;
}

for (const entry of ['src/index.ts', 'src/testing/index.ts']) {
  t.test(`every export of ${entry} is in docs/api.md`, async (t) => {
    const names = exportedNames(entry);
    t.ok(names.length > 10, `found the exports (${names.length})`);
    t.same(names.filter((n) => !doc.includes(`\`${n}\``)), [], 'exports not named (in backticks) on the page');
  });
}
