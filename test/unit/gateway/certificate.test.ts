// The self-signed certificate parses, is signed by its own key, names what it
// should, and a TLS client that pins it (as an office PC does) connects.
import t from 'tap';
import * as crypto from 'node:crypto';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { makeSelfSigned } from '../../../src/gateway/certificate';

t.test('self-signed certificate', async (t) => {
  const now = new Date(Date.UTC(2026, 11, 1));
  const c = makeSelfSigned(['gw.city.example.jp', 'localhost', '127.0.0.1', '::1'], 30, now);
  const x = new crypto.X509Certificate(c.cert);
  t.equal(x.subject, 'CN=gw.city.example.jp');
  t.equal(x.subjectAltName, 'DNS:gw.city.example.jp, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
  t.ok(x.verify(x.publicKey), 'self-signed');
  t.ok(x.checkPrivateKey(crypto.createPrivateKey(c.key)), 'the key matches');
  t.ok(x.ca, 'CA:TRUE, so it can be pinned as a ca');
  t.equal(new Date(x.validTo).getTime(), now.getTime() + 30 * 86_400_000);
  // A real handshake with the certificate pinned, checking the host name.
  const live = makeSelfSigned(['localhost', '127.0.0.1']);
  const server = https.createServer({ cert: live.cert, key: live.key }, (_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    const body = await new Promise<string>((resolve, reject) => {
      https.get({ host: '127.0.0.1', port, servername: 'localhost', ca: live.cert, path: '/' }, (res) => {
        let s = '';
        res.on('data', (d) => (s += d));
        res.on('end', () => resolve(s));
      }).on('error', reject);
    });
    t.equal(body, 'ok', 'TLS with the pinned certificate');
    const refused = await new Promise<string>((resolve) => {
      https.get({ host: '127.0.0.1', port, servername: 'localhost', ca: c.cert, path: '/' }, () => resolve('connected')).on('error', (e) => resolve(e.message));
    });
    t.match(refused, /self.signed|unable to verify|certificate/i, 'another certificate pinned: refused');
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
