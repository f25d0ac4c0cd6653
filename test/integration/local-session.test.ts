// The README's main command, end to end: host and viewer over WebSocket on loopback.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

t.test('npm start: host serves the scene desktop over WebSocket, the viewer ends byte-identical', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilecast-it-'));
  const snapshot = path.join(dir, 'snap.png');
  const out = execFileSync(process.execPath, [path.join(__dirname, '..', '..', 'examples', 'local-session.js'), '--fast', '--snapshot', snapshot], {
    encoding: 'utf8',
  });
  t.match(out, /viewer framebuffer equals host screen: yes/);
  t.match(out, /captured 86 frames/);
  t.ok(fs.statSync(snapshot).size > 10000, 'snapshot written');
  fs.rmSync(dir, { recursive: true, force: true });
});
