// Per-user audio policy at the gateway, every piece its own process: the
// gateway (bin/tilecast-gateway.js serve), an office PC dialling out with its
// sound and microphone enabled (examples/host.js --audio --microphone, on a
// PulseAudio server of the test's own), and Node viewers logged in through the
// JSON API. A user granted sound and microphone hears the PC and talks to it;
// a user without the grant asks for both and gets neither (the relay strips the
// capabilities from the HELLO), and a forged microphone frame ends that
// session. The audit records the grants and when sound and microphone were used.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import WebSocket from 'ws';
import { connectViewer, type ViewerClient } from '../../../src/client/viewerClient';
import { Capability, PROTOCOL_VERSION, Reason } from '../../../src/protocol/constants';
import { decodeMessage, encodeMessage, type CloseMessage, type Message } from '../../../src/protocol/messages';
import { pulseUnavailableReason, startPulseServer } from '../../../src/testing/pulseServer';
import { until } from '../../helpers';
import { ROOT, apiLogin, auditText, browserLogin, cli, startGatewayProc, startPcProc, type Proc } from './procs';

const builtCli = fs.existsSync(path.join(ROOT, 'dist', 'gateway', 'cli', 'main.js'));
if (!builtCli && process.env.CI) throw new Error('dist/ not built (npm run build)');
const skip = pulseUnavailableReason() ?? (builtCli ? false : 'dist/ not built (npm run build)');

const CHROMIUM = '/usr/bin/chromium';
const noChromium = fs.existsSync(CHROMIUM) ? null : `${CHROMIUM} missing (Debian: chromium)`;

const PASSWORD = { kaigi: 'kaigi-pass-12345', madoguchi: 'madoguchi-pass-123' };

interface AuditLine {
  type: string;
  user?: string;
  audio?: boolean | { firstAt: string; lastAt: string; frames: number };
  microphone?: boolean | { firstAt: string; lastAt: string; frames: number };
  reason?: string;
}
const audits = (data: string): AuditLine[] => auditText(data).split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditLine);

t.test('the gateway grants sound and microphone per user and enforces it in the relay', { skip, timeout: 180_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilecast-gw-audio-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const data = path.join(dir, 'data');
  const procs: Proc[] = [];
  t.teardown(async () => {
    for (const p of procs) await p.kill('SIGKILL');
  });
  const pulse = await startPulseServer();
  t.teardown(() => pulse.stop());

  const secret = /secret \(shown once[^:]*: (\S+)/.exec(cli(data, ['pc', 'add', 'soumu-1', '--name', '総務課 1']))![1]!;
  fs.writeFileSync(path.join(dir, 'soumu-1.secret'), secret, { mode: 0o600 });
  cli(data, ['user', 'add', 'kaigi', '--pcs', 'soumu-1', '--groups', 'meetings', '--password-stdin'], `${PASSWORD.kaigi}\n`);
  cli(data, ['user', 'add', 'madoguchi', '--pcs', 'soumu-1', '--groups', 'meetings', '--password-stdin'], `${PASSWORD.madoguchi}\n`);
  // The group may hear and talk; madoguchi's own policy takes both away again.
  cli(data, ['group', 'policy', 'meetings', '--audio', 'true', '--microphone', 'true']);
  cli(data, ['user', 'policy', 'madoguchi', '--audio', 'false', '--microphone', 'false']);
  t.throws(() => cli(data, ['user', 'policy', 'kaigi', '--audio', 'yes']), /--audio takes true or false/);

  const gw = await startGatewayProc(data, '127.0.0.1:0');
  procs.push(gw.proc);
  const ca = fs.readFileSync(path.join(data, 'cert.pem'));
  const pc = startPcProc(['--scene', '--audio', '--microphone'], 'soumu-1', path.join(dir, 'soumu-1.secret'), gw.port, data, { ...process.env, PULSE_SERVER: pulse.server });
  procs.push(pc);
  await until(() => /online at the gateway/.test(pc.out()), `the PC online (${pc.out()})`, 30_000);
  t.match(pc.out(), /audio: the PC's sound to viewers, viewers' microphone to the PC/);

  const viewerUrl = `wss://127.0.0.1:${gw.port}/tilecast/viewer?host=soumu-1`;
  const open = async (user: keyof typeof PASSWORD): Promise<ViewerClient> => {
    const login = await apiLogin(gw.port, ca, user, PASSWORD[user]);
    t.equal(login.status, 200, `${user} logged in`);
    const v = connectViewer(viewerUrl, { headers: { authorization: `Bearer ${login.body.token}` }, ca, rejectUnauthorized: false, reconnect: false, audio: true, microphone: true });
    v.on('error', () => {});
    t.teardown(() => v.close());
    return v;
  };

  // Granted: the PC's sound arrives, the microphone is accepted.
  const kaigi = await open('kaigi');
  const kaigiHello = await new Promise<number>((r) => kaigi.once('hello', (h) => r(h.capabilities)));
  t.equal(kaigiHello & (Capability.AUDIO | Capability.MICROPHONE), Capability.AUDIO | Capability.MICROPHONE, 'kaigi: the PC grants sound and microphone');
  let heard = 0;
  kaigi.on('audio', () => heard++);
  await until(() => heard >= 25, 'half a second of the PC\'s sound (silence: DTX frames)', 30_000);
  let micSent = 0;
  for (let i = 0; i < 10; i++) if (kaigi.sendMicrophonePcm(new Int16Array(960))) micSent++;
  t.equal(micSent, 10, 'kaigi may talk');
  kaigi.close();
  await until(() => audits(data).some((a) => a.type === 'session.end' && a.user === 'kaigi'), 'kaigi\'s session end audited', 30_000);

  // Not granted: the same request gets neither, and no sound comes while the PC plays for kaigi's successor.
  const madoguchi = await open('madoguchi');
  const madoguchiHello = await new Promise<number>((r) => madoguchi.once('hello', (h) => r(h.capabilities)));
  t.equal(madoguchiHello & (Capability.AUDIO | Capability.MICROPHONE), 0, 'madoguchi: the relay stripped sound and microphone from the request');
  let leaked = 0;
  madoguchi.on('audio', () => leaked++);
  await new Promise((r) => setTimeout(r, 1500));
  t.equal(leaked, 0, 'no sound reaches madoguchi');
  t.equal(madoguchi.sendMicrophone({ sampleRate: 48000, channels: 1, seq: 0, captureTime: Date.now(), payload: new Uint8Array([0xf8, 0xff, 0xfe]) }), false, 'the viewer knows it may not talk');
  madoguchi.close();
  await until(() => audits(data).filter((a) => a.type === 'session.end' && a.user === 'madoguchi').length === 1, 'madoguchi\'s session end audited', 30_000);

  // A forged viewer that asks for the microphone and sends AUDIO anyway: the relay ends the session with a reason.
  const forged = await apiLogin(gw.port, ca, 'madoguchi', PASSWORD.madoguchi);
  const ws = new WebSocket(viewerUrl, { headers: { authorization: `Bearer ${forged.body.token}` }, ca, rejectUnauthorized: false, perMessageDeflate: false });
  const received: Message[] = [];
  ws.on('message', (d: Buffer) => received.push(decodeMessage(d)));
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  await new Promise<void>((resolve, reject) => (ws.once('open', () => resolve()), ws.once('error', reject)));
  ws.send(encodeMessage({ type: 'hello', minVersion: 1, maxVersion: PROTOCOL_VERSION, capabilities: Capability.AUDIO | Capability.MICROPHONE, software: 'forged' }));
  await until(() => received.some((m) => m.type === 'hello'), 'the PC\'s HELLO', 15_000);
  const hostHello = received.find((m) => m.type === 'hello') as Extract<Message, { type: 'hello' }>;
  t.equal(hostHello.capabilities & (Capability.AUDIO | Capability.MICROPHONE), 0, 'the PC granted nothing audio to the forged HELLO');
  ws.send(encodeMessage({ type: 'audio', codec: 'opus', sampleRate: 48000, channels: 1, seq: 0, captureTime: Date.now(), payload: new Uint8Array([0xf8, 0xff, 0xfe]) }));
  t.equal(await closed, 4000 + Reason.PROTOCOL_ERROR, 'the relay closed the forged session');
  const bye = received.find((m): m is CloseMessage => m.type === 'bye');
  t.match(bye?.message, /microphone is not permitted/, 'with the reason in its BYE');
  t.equal(received.filter((m) => m.type === 'audio').length, 0, 'and no sound before that');

  await until(() => audits(data).filter((a) => a.type === 'session.end' && a.user === 'madoguchi').length === 2, 'the forged session\'s end audited', 30_000);
  const log = audits(data);
  const starts = log.filter((a) => a.type === 'session.start');
  t.same(starts.map((a) => [a.user, a.audio, a.microphone]), [['kaigi', true, true], ['madoguchi', false, false], ['madoguchi', false, false]], 'session.start records the grants');
  const kaigiEnd = log.find((a) => a.type === 'session.end' && a.user === 'kaigi')!;
  const use = kaigiEnd.audio as { firstAt: string; lastAt: string; frames: number };
  t.ok(use && use.frames >= 25 && Date.parse(use.lastAt) >= Date.parse(use.firstAt), `kaigi's sound use audited (${JSON.stringify(use)})`);
  t.same((kaigiEnd.microphone as { frames: number } | undefined)?.frames, 10, 'kaigi\'s ten microphone frames audited');
  const [plain, forgedEnd] = log.filter((a) => a.type === 'session.end' && a.user === 'madoguchi');
  t.equal(plain!.audio, undefined, 'madoguchi used no sound');
  t.equal(plain!.microphone, undefined, 'nor microphone');
  t.match(forgedEnd!.reason, /microphone not permitted/);

  // The gateway's own viewer page: kaigi's browser plays the PC's sound (the page asks for it and the
  // audio worklet is served); madoguchi's page does not ask at all.
  if (noChromium) {
    if (process.env.CI) throw new Error(noChromium);
    return void t.comment(`browser leg skipped: ${noChromium}`);
  }
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--autoplay-policy=no-user-gesture-required', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'] });
  t.teardown(() => browser.close());
  const page = await browserLogin(browser, gw.url, 'kaigi', PASSWORD.kaigi);
  await page.waitForURL('**/pcs');
  await page.goto(`${gw.url}/view/soumu-1`);
  await page.waitForFunction(() => (window as any).tilecastViewer?.stats?.state === 'connected', undefined, { timeout: 30_000 });
  await page.evaluate(() => (window as any).tilecastViewer.audio.start());
  await page.waitForFunction(() => (window as any).tilecastViewer.audio.stats().playback?.played > 10, undefined, { timeout: 30_000 });
  t.pass('kaigi\'s browser plays the PC\'s sound through the gateway');
  t.equal(await page.evaluate(() => (window as any).tilecastViewer.audio.state().microphoneGranted), true, 'and may turn the microphone on');
  const other = await browserLogin(browser, gw.url, 'madoguchi', PASSWORD.madoguchi);
  await other.waitForURL('**/pcs');
  await other.goto(`${gw.url}/view/soumu-1`);
  await other.waitForFunction(() => (window as any).tilecastViewer?.stats?.state === 'connected', undefined, { timeout: 30_000 });
  t.equal(await other.evaluate(() => (window as any).tilecastViewer.audio), null, 'madoguchi\'s page asks for no sound');
});
