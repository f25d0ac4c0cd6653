// A host mounted on an embedding app's own HTTP server (noServer + handleUpgrade).
import t from 'tap';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { connectViewer } from '../../src/client/viewerClient';
import { createHost } from '../../src/host/host';
import { PushSource } from '../../src/source/pushSource';
import { base, exact, frameN, upgradeStatus } from '../security/hostile';

t.test('an app serves its own pages and mounts the host on a path of its server', async (t) => {
  const source = new PushSource();
  source.push(base);
  const host = await createHost({ source, noServer: true, authorize: ({ request }) => request.headers.authorization === 'Bearer app-token-1234' && { user: 'carol' } });
  t.throws(() => host.port, { code: 'ERR_INVALID_ARG' }, 'no port of its own');
  const server = http.createServer((_req, res) => res.end('the app\'s own page'));
  server.on('upgrade', (req, socket, head) => {
    if (req.url?.startsWith('/desk/stream')) return host.handleUpgrade(req, socket, head);
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  t.teardown(async () => {
    await host.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  const page = await fetch(`http://127.0.0.1:${port}/`);
  t.equal(await page.text(), 'the app\'s own page');
  t.equal(await upgradeStatus(`ws://127.0.0.1:${port}/desk/stream`), 401, 'the host\'s authorisation still runs');
  t.equal(await upgradeStatus(`ws://127.0.0.1:${port}/other`), 404, 'other paths are the app\'s');
  const viewer = connectViewer(`ws://127.0.0.1:${port}/desk/stream`, { headers: { authorization: 'Bearer app-token-1234' }, reconnect: false });
  t.teardown(() => viewer.close());
  t.equal(await exact(viewer, base), null);
  source.push(frameN(4));
  t.equal(await exact(viewer, frameN(4)), null);
  t.equal(host.viewers()[0]?.user, 'carol');
});
