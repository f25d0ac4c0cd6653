// Password guessing against the authorisation hook: after N refusals from an
// address in a window, its upgrades get 429 without calling the hook, for a
// cool-down. Other addresses are unaffected; an honest viewer stays exact.
import t from 'tap';
import { connectViewer } from '../../src/client/viewerClient';
import { OTHER_IP, base, exact, frameN, startHost, upgradeStatus } from './hostile';

const GOOD = { authorization: 'Bearer good' };
const BAD = { authorization: 'Bearer guess' };

t.test('refused authorisations are rate limited per address: 429 without calling the hook', async (t) => {
  let calls = 0;
  const { source, host, audits } = await startHost({
    fps: 60,
    authorize: ({ request }) => {
      calls++;
      return request.headers.authorization === GOOD.authorization ? { user: 'k.tanaka' } : false;
    },
    authFailureLimit: 3,
    authFailureWindowMs: 60_000,
    authCooldownMs: 60_000,
  });
  const honest = connectViewer(host.url, { headers: GOOD, localAddress: OTHER_IP });
  t.equal(await exact(honest, base), null, 'honest viewer exact before the guessing');
  const callsBefore = calls;
  for (let i = 0; i < 3; i++) t.equal(await upgradeStatus(host.url, { headers: BAD }), 401, `guess ${i + 1}: 401`);
  t.equal(calls - callsBefore, 3, 'the hook saw the three guesses');
  for (let i = 0; i < 20; i++) t.equal(await upgradeStatus(host.url, { headers: BAD }), 429, `guess ${i + 4}: 429`);
  t.equal(calls - callsBefore, 3, 'the hook was not called during the cool-down');
  t.equal(await upgradeStatus(host.url, { headers: GOOD }), 429, 'even a right password waits out the cool-down (no oracle)');
  t.equal(calls - callsBefore, 3);
  t.equal(await upgradeStatus(host.url, { headers: GOOD, localAddress: OTHER_IP }), 101, 'another address is unaffected');
  t.ok(host.connectionStats().refused['authorisation rate limit']! >= 21, 'counted');
  t.ok(audits.some((a) => a.type === 'refused' && a.reason === 'authorisation rate limit'), 'audited');
  const next = frameN(3);
  source.push(next);
  t.equal(await exact(honest, next), null, 'the honest viewer stayed exact');
  honest.close();
  await host.close();
});

t.test('the cool-down ends; a success does not reset a guesser but accepted viewers are never limited', async (t) => {
  let calls = 0;
  const { host } = await startHost({
    authorize: ({ request }) => (calls++, request.headers.authorization === GOOD.authorization),
    authFailureLimit: 2,
    authFailureWindowMs: 60_000,
    authCooldownMs: 300,
  });
  t.equal(await upgradeStatus(host.url, { headers: BAD }), 401);
  t.equal(await upgradeStatus(host.url, { headers: BAD }), 401);
  t.equal(await upgradeStatus(host.url, { headers: GOOD }), 429, 'in cool-down');
  let status = 0;
  for (let i = 0; i < 100 && status !== 101; i++) {
    status = await upgradeStatus(host.url, { headers: GOOD });
    if (status !== 101) await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(status, 101, 'after the cool-down the right password gets in');
  await host.close();
});

t.test('the limit options are validated', async (t) => {
  for (const bad of [{ authFailureLimit: 0 }, { authCooldownMs: -1 }, { maxConnectionsPerIp: 0 }, { maxUnauthenticated: 1.5 }, { headersTimeoutMs: 10 }, { authFailureWindowMs: 'x' }]) {
    await t.rejects(startHost(bad as never), { code: 'ERR_INVALID_ARG' }, JSON.stringify(bad));
  }
});
