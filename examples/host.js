#!/usr/bin/env node
// A tilecast host: captures an X display, or on Windows the desktop (DXGI, GDI
// fallback), or plays the embedded scene desktop, and serves it to viewers over
// WebSocket, with input injected through XTEST (SendInput on Windows).
// `node examples/host.js --help` lists the options.
'use strict';
const fs = require('node:fs');
const crypto = require('node:crypto');
const { X11Source, X11InputSink, WindowsSource, WindowsInputSink, InputRouter, createHost, dialRelay, viewerPage } = require('tilecast');
const { SceneSource } = require('tilecast/testing');
const { parseCommandLine, fail } = require('./lib/cli');

const HELP = `node examples/host.js [options]

Serves a screen to tilecast viewers: an X display (MIT-SHM capture, XTEST
input), on Windows the desktop (DXGI Desktop Duplication, GDI fallback;
SendInput), or without either the embedded scene desktop. The browser viewer is
served at / (open http://HOST:PORT/?password=… in Chrome); examples/viewer.js
is the Node viewer. Viewers authenticate with HTTP Basic (any user name, the
password) or ?password=; the user name goes into the audit log.

Screen
  --display :N           the X display to capture (default $DISPLAY)
  --scene                the embedded scene desktop even when $DISPLAY is set (or on Windows)
  --monitor N            Windows: the monitor to capture (default: the primary)
  --capture-backend B    Windows: auto (default: DXGI, else GDI), dxgi or gdi
  --view-only            do not inject viewers' input
  --fps N                capture rate cap (default 60 capturing X11 or Windows, 30 the scene)
Sound (Linux: the logged-in user's PulseAudio or PipeWire session; Windows: WASAPI)
  --audio                send what the PC plays to viewers that ask for it
  --audio-device D       what to record (Linux: a Pulse source; Windows: an output,
                         recorded in loopback, or an input, by id or part of its name;
                         default: what the PC plays on its default output)
  --microphone           viewers' microphones reach the PC's apps: Linux, as a new
                         source ("tilecast microphone"); Windows, played into a
                         virtual audio cable (e.g. VB-CABLE) whose output apps pick
  --microphone-device D  Windows: that cable's input (default: the first known one)
Listening (direct connections)
  --listen ADDR:PORT     default 127.0.0.1:8765 (0.0.0.0:8765 for other machines)
  --password PW          required from viewers (default $TILECAST_PASSWORD; without
                         one anyone who can reach the port may connect)
  --tls-cert FILE --tls-key FILE
                         serve wss:// and https:// (plain ws:// with a password is
                         for a lab only: the password crosses the network readably)
  --max-viewers N        default 8
Through a gateway (no listening port; docs/gateway.md)
  --relay wss://GW:8443  dial out to a tilecast gateway
  --host-id ID           this PC's id at the gateway (\`pc add\`)
  --secret-file FILE     its secret (or $TILECAST_HOST_SECRET)
  --relay-ca FILE        pin the gateway's certificate (its cert.pem)
  -h, --help             this text

Examples
  node examples/host.js --scene
  node examples/host.js --display :0 --listen 0.0.0.0:8765 --password s3cret --tls-cert cert.pem --tls-key key.pem
  node examples/host.js --display :0 --relay wss://gw.city.example.jp:8443 --host-id soumu-042 \\
       --secret-file soumu-042.secret --relay-ca cert.pem
`;

const { values: args } = parseCommandLine(HELP, {
  display: { type: 'string' },
  scene: { type: 'boolean', default: false },
  listen: { type: 'string', default: '127.0.0.1:8765' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  password: { type: 'string', default: process.env.TILECAST_PASSWORD },
  'view-only': { type: 'boolean', default: false },
  fps: { type: 'string' },
  'max-viewers': { type: 'string', default: '8' },
  relay: { type: 'string' },
  'host-id': { type: 'string' },
  'secret-file': { type: 'string' },
  'relay-ca': { type: 'string' },
  monitor: { type: 'string' },
  'capture-backend': { type: 'string' },
  audio: { type: 'boolean', default: false },
  microphone: { type: 'boolean', default: false },
  'audio-device': { type: 'string' },
  'microphone-device': { type: 'string' },
});

function parseListen(s) {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(s);
  if (!m) throw new Error(`--listen must be address:port, got ${s}`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port: Number(m[3]) };
}

/** Constant-time password check from HTTP Basic or ?password=. */
function authorizer(password) {
  if (!password) return undefined;
  const want = crypto.createHash('sha256').update(password).digest();
  const same = (given) => crypto.timingSafeEqual(crypto.createHash('sha256').update(given).digest(), want);
  return ({ request }) => {
    const auth = request.headers.authorization ?? '';
    if (auth.startsWith('Basic ')) {
      const [user, ...rest] = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':');
      if (same(rest.join(':'))) return { user: user || 'anonymous' };
    }
    const url = new URL(request.url ?? '/', 'http://host');
    const given = url.searchParams.get('password');
    return given !== null && same(given) ? { user: url.searchParams.get('user') || 'anonymous' } : false;
  };
}

const windows = process.platform === 'win32' && !args.scene;
const monitor = args.monitor === undefined ? -1 : Number(args.monitor);

async function openSource() {
  if (windows) {
    const source = await WindowsSource.open({ backend: args['capture-backend'] ?? 'auto', monitor });
    console.log(`capturing the Windows desktop: ${source.width}x${source.height}, ${source.backend === 'dxgi' ? 'DXGI Desktop Duplication' : 'GDI (polling)'}` +
      (source.fallbackReason ? ` (${source.fallbackReason})` : ''));
    return { source, display: 'windows' };
  }
  const display = args.display ?? (args.scene ? undefined : process.env.DISPLAY);
  if (display) {
    const source = await X11Source.open({ display });
    const f = source.features;
    console.log(`capturing X display ${display}: ${source.width}x${source.height}, ` +
      `${f.sharedMemory ? 'MIT-SHM' : 'XGetImage'}, ${f.damage ? 'XDamage hints' : 'polling'}, ` +
      `${f.cursor ? 'XFixes cursor' : 'no cursor shape'}, ${f.resizeEvents ? 'RandR' : 'no resize events'}`);
    return { source, display };
  }
  console.log('no X display (pass --display or set $DISPLAY): serving the embedded scene desktop');
  return { source: new SceneSource({ realtime: true, loops: 1_000_000 }), display: null };
}

async function main() {
  const { host: address, port } = parseListen(args.listen);
  const { source, display } = await openSource();
  const tls = args['tls-cert'] ? { cert: fs.readFileSync(args['tls-cert']), key: fs.readFileSync(args['tls-key'] ?? '') } : undefined;
  const relayed = args.relay !== undefined;
  // Audio is off unless asked for; the microphone is a separate switch.
  const audio = args.audio || args.microphone
    ? { sound: args.audio, microphone: args.microphone, device: args['audio-device'], microphoneDevice: args['microphone-device'] }
    : undefined;
  const fps = args.fps === undefined ? undefined : Number(args.fps); // the host's default depends on the source
  const host = await createHost(relayed
    ? { source, noServer: true, fps, maxViewers: Number(args['max-viewers']), audio }
    : {
      source, host: address, port, tls, fps, maxViewers: Number(args['max-viewers']), audio,
      authorize: authorizer(args.password),
      httpHandler: viewerPage(), // the browser viewer at /
    });
  host.on('error', (err) => console.error('host error:', err.message));
  if (audio) {
    if (host.audioUnavailableReason) console.error(`audio disabled: ${host.audioUnavailableReason}`);
    else {
      if (host.microphoneUnavailableReason) console.error(`microphone disabled: ${host.microphoneUnavailableReason}`);
      const mic = args.microphone && !host.microphoneUnavailableReason;
      console.log(`audio: ${args.audio ? 'the PC\'s sound to viewers' : 'no sound'}${mic ? ', viewers\' microphone to the PC' : ''}`);
      if (mic) {
        host.prepareMicrophone().then((name) => name && console.log(process.platform === 'win32'
          ? `viewers' voice plays into ${name}; the PC's apps pick that cable's output as their microphone`
          : `microphone source for the PC's apps: ${name} ("tilecast-microphone")`));
      }
    }
  }
  let link = null;
  if (relayed) {
    const secret = (args['secret-file'] ? fs.readFileSync(args['secret-file'], 'utf8') : process.env.TILECAST_HOST_SECRET ?? '').trim();
    if (!args['host-id'] || !secret) throw new Error('--relay needs --host-id and --secret-file (or $TILECAST_HOST_SECRET)');
    link = dialRelay(host, { url: args.relay, hostId: args['host-id'], secret, ca: args['relay-ca'] ? fs.readFileSync(args['relay-ca']) : undefined });
    link.on('online', () => console.log(`online at the gateway ${args.relay} as ${args['host-id']}`));
    link.on('offline', (e) => console.log(`gateway connection lost (${e.reason}); retrying in ${(e.retryInMs / 1000).toFixed(1)} s`));
    link.on('error', (err) => console.error(`gateway: ${err.message}`));
  }
  host.on('audit', (e) => console.log(`[audit] ${new Date(e.at).toISOString()} ${e.type} viewer=${e.viewerId ?? '-'} user=${e.user ?? '-'} from=${e.remoteAddress}` +
    (e.durationMs !== undefined ? ` ${(e.durationMs / 1000).toFixed(1)} s` : '') + (e.bytesSent !== undefined ? ` ${(e.bytesSent / 1e6).toFixed(2)} MB` : '') + (e.reason ? ` (${e.reason})` : '')));

  let sink = null;
  if (display && !args['view-only']) {
    try {
      sink = windows ? WindowsInputSink.open({ monitor }) : X11InputSink.open({ display });
      new InputRouter(sink).attach(host);
      console.log(windows ? 'input: SendInput' : `input: XTEST injection on ${display}`);
    } catch (err) {
      console.error(`input disabled: ${err.message}`);
    }
  } else {
    host.on('input', (e) => { if (e.message.type === 'key' && e.message.down) console.log(`[input] viewer ${e.viewerId} key ${e.message.code} (${display ? 'view-only' : 'scene: not injected'})`); });
  }
  if (!relayed) {
    console.log(`serving ${host.url}${args.password ? ' (password required)' : ''}`);
    console.log(`browser viewer: ${host.url.replace(/^ws/, 'http')}${args.password ? '?password=…' : ''}`);
  }

  const stats = setInterval(() => {
    for (const v of host.viewers()) {
      console.log(`viewer ${v.id}: ${v.updatesSent} updates, ${(v.bytesSent / 1e6).toFixed(2)} MB, ` +
        `RTT ${v.flow.minRttMs === null ? '-' : v.flow.minRttMs.toFixed(0)} ms, rate ${((v.flow.deliveryRateBps ?? 0) * 8 / 1e3).toFixed(0)} kbit/s, quality level ${v.quality.level}, link stalls ${v.flow.stalls}`);
    }
    const c = host.captureStats;
    if (host.viewers().length) console.log(`capture: ${c.framesCaptured} frames (${c.framesChanged} changed), ${c.framesEarly} captured early on idle links`);
  }, 10_000);
  stats.unref();

  const shutdown = async () => {
    clearInterval(stats);
    link?.close();
    await host.close();
    sink?.close();
    source.close();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((err) => fail(`host: ${err.message}`));
