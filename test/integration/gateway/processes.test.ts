// The gateway as a city runs it, every piece its own process: the gateway
// (bin/tilecast-gateway.js serve), two office PCs that dial out
// (examples/host.js --relay: one capturing a real X server with XTEST input,
// one on the scene desktop), Node viewers that log in through the JSON API, and
// real headless Chromium logging in through the page. Covers: typing into an
// xterm through the browser, the canvas pixel-exact with the X server's own
// image; wrong password; a PC not assigned (page and forged WebSocket URL);
// the licence cap freed when a viewer process is killed; a revoked PC; the
// gateway killed and restarted (PCs re-dial, the browser viewer reconnects and
// ends exact).
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { skipWithoutX, startClient, startXvfb, serverImage, x, type Xvfb } from '../../xserver';
import { until } from '../../helpers';
import { ROOT, apiLogin, auditText, browserLogin, cli, startGatewayProc, startPcProc, startProc, type Proc } from './procs';

const CHROMIUM = '/usr/bin/chromium';
const skipX = skipWithoutX();
const noChromium = !fs.existsSync(CHROMIUM);
if (noChromium && process.env.CI) throw new Error(`${CHROMIUM} missing (Debian: chromium)`);
const builtCli = fs.existsSync(path.join(ROOT, 'dist', 'gateway', 'cli', 'main.js'));
if (!builtCli && process.env.CI) throw new Error('dist/ not built (npm run build)');
const skip = skipX || (noChromium ? `${CHROMIUM} missing (Debian: chromium)` : false) || (builtCli ? false : 'dist/ not built (npm run build)');

const PASSWORD = { yamada: 'yamada-pass-1234', suzuki: 'suzuki-pass-1234', sato: 'sato-pass-12345' };

/** A Node viewer in its own process, logged in with a token: prints "painted" once it shows a frame. */
function viewerProc(gatewayPort: number, token: string, hostId: string, dataDir: string): Proc {
  const script = `
    const { connectViewer } = require(${JSON.stringify(ROOT)});
    const v = connectViewer('wss://127.0.0.1:${gatewayPort}/tilecast/viewer?host=${hostId}', { headers: { authorization: 'Bearer ' + process.env.TOKEN }, ca: require('fs').readFileSync(${JSON.stringify(path.join(dataDir, 'cert.pem'))}), rejectUnauthorized: false });
    let said = false;
    v.on('update', () => { if (!said) { said = true; console.log('painted'); } });
    v.on('hostClose', (m) => console.log('hostClose ' + m.reason + ' ' + m.message));
    setInterval(() => {}, 1000);`;
  return startProc(['-e', script], { ...process.env, TOKEN: token });
}

/** The viewer canvas as BGRA (the X server image's order), or null before it has a size. */
async function canvasBgra(page: Page): Promise<{ width: number; height: number; data: Buffer } | null> {
  const r = await page.evaluate(async () => {
    const viewer = (window as any).tilecastViewer;
    if (!viewer?.stats.width) return null;
    const c = (await viewer.readCanvas()) as ImageData;
    const d = c.data;
    let s = '';
    for (let i = 0; i < d.length; i += 0x8000) s += String.fromCharCode(...d.subarray(i, i + 0x8000));
    return { width: c.width, height: c.height, b64: btoa(s) };
  });
  if (!r) return null;
  const data = Buffer.from(r.b64, 'base64');
  for (let i = 0; i < data.length; i += 4) [data[i], data[i + 2]] = [data[i + 2]!, data[i]!];
  return { width: r.width, height: r.height, data };
}

/** Waits until the canvas equals the X server's image; returns null or where they differ. */
async function canvasMatchesX(page: Page, xs: Xvfb, ms = 40_000): Promise<string | null> {
  let last = 'no canvas';
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const want = serverImage(xs);
    const got = await canvasBgra(page);
    if (got && got.width === want.width && got.height === want.height) {
      const i = got.data.findIndex((b, k) => b !== want.data[k]);
      if (i < 0) return null;
      const px = i >> 2;
      last = `first difference at (${px % want.width}, ${Math.floor(px / want.width)})`;
    } else if (got) last = `canvas ${got.width}×${got.height}, screen ${want.width}×${want.height}`;
    await new Promise((r) => setTimeout(r, 300));
  }
  return last;
}

t.test('the gateway in separate processes: browser login, typing into an xterm, licences, revocation, restart', { skip, timeout: 400_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilecast-gw-proc-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const data = path.join(dir, 'data');
  const procs: Proc[] = [];
  t.teardown(async () => {
    for (const p of procs) await p.kill('SIGKILL');
  });

  // The administrator's first day: PCs and users with the CLI.
  const secrets: Record<string, string> = {};
  for (const [id, name] of [['soumu-1', '総務課 1'], ['kikaku-2', '企画課 2']] as const) {
    const out = cli(data, ['pc', 'add', id, '--name', name]);
    secrets[id] = /secret \(shown once[^:]*: (\S+)/.exec(out)![1]!;
    fs.writeFileSync(path.join(dir, `${id}.secret`), secrets[id]!, { mode: 0o600 });
  }
  cli(data, ['user', 'add', 'yamada', '--name', '山田 太郎', '--pcs', 'soumu-1', '--password-stdin'], `${PASSWORD.yamada}\n`);
  cli(data, ['user', 'add', 'suzuki', '--pcs', 'kikaku-2', '--password-stdin'], `${PASSWORD.suzuki}\n`);
  cli(data, ['user', 'add', 'sato', '--pcs', 'kikaku-2', '--password-stdin'], `${PASSWORD.sato}\n`);
  t.notMatch(fs.readFileSync(path.join(data, 'store.json'), 'utf8'), secrets['soumu-1']!, 'the PC secret is not stored, only its hash');

  let gw = await startGatewayProc(data, '127.0.0.1:0');
  procs.push(gw.proc);
  const ca = fs.readFileSync(path.join(data, 'cert.pem'));

  // Office PC 1: a real X server with an xterm, captured and driven through XTEST.
  const xs = await startXvfb(800, 600);
  t.teardown(() => xs.close());
  const typed = path.join(dir, 'typed.txt');
  const term = startClient(xs, 'xterm', ['-u8', '-geometry', '70x16+40+30', '-bg', '#fdf6e3', '-fg', '#073642', '-e', 'sh', '-c', `cat > ${typed}`]);
  t.teardown(() => term.stop());
  x(xs, 'xdotool', ['search', '--sync', '--onlyvisible', '--class', 'xterm']);
  const pc1 = startPcProc(['--display', xs.display], 'soumu-1', path.join(dir, 'soumu-1.secret'), gw.port, data, { ...process.env, DISPLAY: xs.display });
  // Office PC 2: the scene desktop.
  const pc2 = startPcProc(['--scene'], 'kikaku-2', path.join(dir, 'kikaku-2.secret'), gw.port, data);
  procs.push(pc1, pc2);
  await until(() => /online at the gateway/.test(pc1.out()) && /online at the gateway/.test(pc2.out()), `both PCs online (pc1: ${pc1.out()} pc2: ${pc2.out()})`, 30_000);
  t.notMatch(pc1.out() + gw.proc.out(), secrets['soumu-1']!, 'no secret in any log');

  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
  t.teardown(() => browser.close());

  // Wrong password: a clear message on the page, in Japanese.
  const wrong = await browserLogin(browser, gw.url, 'yamada', 'not-the-password');
  t.match(await wrong.textContent('.error'), 'IDまたはパスワードが違います');
  t.notMatch(wrong.url(), /password/, 'no password in the URL');
  await wrong.context().close();

  // yamada logs in, sees their PC online, opens it.
  const page = await browserLogin(browser, gw.url, 'yamada', PASSWORD.yamada);
  await page.waitForURL('**/pcs');
  const list = (await page.textContent('body'))!;
  t.match(list, '総務課 1');
  t.notMatch(list, '企画課 2', 'only their own PC is listed');
  await page.goto(`${gw.url}/view/soumu-1`);
  t.equal(await canvasMatchesX(page, xs), null, 'the canvas equals the X server\'s image');

  // Type into the xterm through the browser: keyboard focus follows the pointer (no window manager).
  const canvas = page.locator('canvas.tilecast-screen');
  const box = (await canvas.boundingBox())!;
  const scale = box.width / 800;
  await page.mouse.move(box.x + 200 * scale, box.y + 100 * scale);
  await until(() => x(xs, 'xdotool', ['getmouselocation']).startsWith('x:200 y:100'), 'the pointer over the xterm');
  await canvas.click({ position: { x: 200 * scale, y: 100 * scale } });
  await page.keyboard.type('echo 45 gateway');
  await page.keyboard.press('Enter');
  await until(() => fs.existsSync(typed) && fs.readFileSync(typed, 'utf8').includes('\n'), 'the typed line');
  t.equal(fs.readFileSync(typed, 'utf8'), 'echo 45 gateway\n', 'the xterm got exactly what was typed in the browser');
  t.equal(await canvasMatchesX(page, xs), null, 'the canvas equals the X server\'s image after typing');

  // A PC not assigned: the page refuses, and so does a forged WebSocket URL from the same logged-in page.
  const notMine = await page.context().newPage();
  const res = await notMine.goto(`${gw.url}/view/kikaku-2`);
  t.equal(res?.status(), 403, 'the viewer page of a PC not assigned is refused');
  const forged = await notMine.evaluate((u) => new Promise<string>((resolve) => {
    const ws = new WebSocket(u);
    ws.binaryType = 'arraybuffer';
    let got = 'nothing';
    ws.onmessage = (e) => (got = `message type 0x${new Uint8Array(e.data as ArrayBuffer)[0]!.toString(16)}`);
    ws.onclose = (e) => resolve(`${got}, close ${e.code}`);
  }), `${gw.url.replace('https:', 'wss:')}/tilecast/viewer?host=kikaku-2`);
  t.equal(forged, 'message type 0x3f, close 4003', 'a forged URL gets BYE UNAUTHORIZED and no pixel');
  await notMine.close();

  // Licence cap 2: yamada's browser holds one; suzuki's Node viewer a second; sato is refused until suzuki's viewer is killed.
  const suzuki = await apiLogin(gw.port, ca, 'suzuki', PASSWORD.suzuki);
  t.equal(suzuki.status, 200);
  const suzukiViewer = viewerProc(gw.port, suzuki.body.token!, 'kikaku-2', data);
  procs.push(suzukiViewer);
  await until(() => /painted/.test(suzukiViewer.out()), `suzuki's viewer paints (${suzukiViewer.out()})`, 30_000);
  const satoPage = await browserLogin(browser, gw.url, 'sato', PASSWORD.sato);
  t.match(await satoPage.textContent('.error'), '同時接続数の上限に達しています', 'the third concurrent user is refused');
  await suzukiViewer.kill('SIGKILL');
  await until(() => auditText(data).split('\n').some((l) => l.includes('"session.end"') && l.includes('"suzuki"')), 'suzuki\'s session end audited', 30_000);
  await satoPage.fill('input[name=password]', PASSWORD.sato);
  await satoPage.fill('input[name=user]', 'sato');
  await satoPage.click('button[type=submit]');
  await satoPage.waitForURL('**/pcs');
  t.pass('the licence came back when the viewer process was killed');
  await satoPage.context().close();

  // Kill the gateway and start it again on the same port: the PCs re-dial, the browser viewer comes back exact.
  // The crash is the gateway process's own (the launcher restarted Node with the relay's flags).
  const gwPid = Number(/process: pid (\d+)/.exec(gw.proc.out())?.[1]);
  t.ok(gwPid > 0 && gwPid !== gw.proc.proc.pid, 'the gateway runs in a process the launcher started');
  t.match(gw.proc.out(), /process: pid \d+, node \S+ .*--max-semi-space-size=64/, 'with the young generation the relay needs (RELAY_NODE_FLAGS)');
  process.kill(gwPid, 'SIGKILL');
  await gw.proc.exited;
  t.equal(gw.proc.proc.signalCode, 'SIGKILL', 'the launcher ends as the gateway did');
  x(xs, 'xdotool', ['type', '--delay', '20', 'during the outage']);
  gw = await startGatewayProc(data, `127.0.0.1:${gw.port}`);
  procs.push(gw.proc);
  await until(() => (pc1.out().match(/online at the gateway/g) ?? []).length >= 2, 'PC 1 dialled the restarted gateway', 40_000);
  t.equal(await canvasMatchesX(page, xs, 60_000), null, 'the browser viewer reconnected by itself and is exact again');

  // Revoke PC 1 while serving: its sessions end and it cannot come back.
  cli(data, ['pc', 'revoke', 'soumu-1']);
  await until(() => /credentials refused/.test(pc1.out()), `PC 1 refused after revocation (${pc1.out().slice(-400)})`, 30_000);
  const audit = auditText(data);
  t.match(audit, '"login.failed"', 'failed logins are audited');
  t.match(audit, '"licence.refused"', 'the licence refusal is audited');
  t.notMatch(audit, PASSWORD.yamada, 'no password in the audit log');
});
