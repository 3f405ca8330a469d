/**
 * Without a configured secret the server draws its own and replaces it on a timer: a cookie
 * made before one rotation still verifies (the previous secret is kept), not after two; the
 * running server hands out cookies of the new secret at once.
 */
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { startApp } from '../../src/app/app.js';
import type { CookieSecrets } from '../../src/wire/server-cookies.js';
import { buildQuery, cookieOf, decode, sendUdp } from '../helpers/client.js';

const ZONES = fileURLToPath(new URL('../fixtures/e2e/', import.meta.url));
const CLIENT = Buffer.from('0102030405060708', 'hex');

async function serverCookie(port: number, sent: Buffer): Promise<Buffer> {
  return cookieOf(decode((await sendUdp(port, buildQuery('www.example.com', 'A', { edns: { cookie: sent } })))!))!;
}

t.test('a drawn cookie secret rotates, the previous one accepted for one more period', async (t) => {
  const rotations: CookieSecrets[] = [];
  const app = await startApp({ zonesDir: ZONES, listen: [{ host: '127.0.0.1', port: 0 }], log: pino({ level: 'silent' }), watchDebounceMs: 0, statsIntervalMs: 0, cookieRotateMs: 300, onCookieRotate: (s) => rotations.push(s) });
  t.teardown(() => app.close());
  const port = app.server.addresses[0].port;
  const first = await serverCookie(port, CLIENT);
  const verifies = (cookie: Buffer) => app.cookies.answer({ client: CLIENT, server: cookie.subarray(8) }, '127.0.0.1').valid;
  t.equal(verifies(first), true, 'valid when made');
  while (rotations.length < 1) await new Promise((r) => setTimeout(r, 50));
  t.equal(verifies(first), true, 'still valid after one rotation: the previous secret is kept');
  t.same(rotations[0].previous, app.cookies.current.previous, 'the hook sees the secrets in force');
  const second = await serverCookie(port, first);
  t.not(second.subarray(8).toString('hex'), first.subarray(8).toString('hex'), 'a cookie of the old secret is replaced by one of the new');
  while (rotations.length < 2) await new Promise((r) => setTimeout(r, 50));
  t.equal(verifies(first), false, 'invalid after two');
  t.equal(verifies(second), true, 'the one made after the first rotation is still good');
});
