/**
 * DNS Cookies with the real CLI (`dist/cli.js`): `--cookie-secret` is the RFC 9018 secret,
 * a bad one is a usage error, and with `--workers 2` every worker verifies the server cookies
 * the others make (the primary hands them one secret).
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildQuery, cookieOf, decode, sendTcp, sendUdp } from '../helpers/client.js';
import { CLI, startCli, type RunningCli } from '../helpers/cli.js';
import { addressOctets } from '../../src/wire/ip.js';
import { createServerCookie } from '../../src/wire/server-cookies.js';

const ZONES = fileURLToPath(new URL('../fixtures/e2e/', import.meta.url));
const CLIENT = Buffer.from('0011223344556677', 'hex');

const cookieQuery = (cookie: Buffer): Buffer => buildQuery('www.example.com', 'A', { id: 9, edns: { cookie } });

/** The server cookie of a response. */
function serverCookie(raw: Buffer | undefined): string | undefined {
  return raw && cookieOf(decode(raw))?.subarray(8).toString('hex');
}

async function stop(cli: RunningCli) {
  cli.child.kill('SIGTERM');
  await cli.exited;
}

t.test('--cookie-secret: server cookies are RFC 9018 ones made with it', async (t) => {
  const secret = 'e5e973e5a6b2a43f48e7dc849e37bfcf';
  const cli = await startCli(ZONES, ['--workers', '1', '--cookie-secret', secret]);
  t.teardown(() => stop(cli));
  const got = serverCookie(await sendUdp(cli.port, cookieQuery(CLIENT)));
  t.ok(got, 'a server cookie');
  const want = Buffer.alloc(16);
  createServerCookie(Buffer.from(secret, 'hex'), CLIENT, addressOctets('127.0.0.1'), Buffer.from(got!, 'hex').readUInt32BE(4), want, 0);
  t.equal(got, want.toString('hex'));
});

t.test('a malformed secret is a usage error', async (t) => {
  const flag = spawnSync(process.execPath, [CLI, 'serve', '--zones', ZONES, '--cookie-secret', 'abc'], { encoding: 'utf8' });
  t.equal(flag.status, 2);
  t.match(flag.stderr, /--cookie-secret: expected 32 hex digits/);
  const env = spawnSync(process.execPath, [CLI, 'serve', '--zones', ZONES], { encoding: 'utf8', env: { ...process.env, STEERDNS_COOKIE_SECRET: 'xyz' } });
  t.equal(env.status, 2);
  t.match(env.stderr, /\$STEERDNS_COOKIE_SECRET: expected 32 hex digits/);
});

t.test('--workers 2 without a secret: every worker accepts the server cookies of the others', async (t) => {
  const cli = await startCli(ZONES, ['--workers', '2'], 60_000);
  t.teardown(() => stop(cli));
  const first = serverCookie(await sendUdp(cli.port, cookieQuery(CLIENT)));
  t.ok(first, 'a server cookie');
  const full = Buffer.concat([CLIENT, Buffer.from(first!, 'hex')]);
  // Each TCP connection goes to the next worker in turn: 10 reach both.
  const replies: (string | undefined)[] = [];
  for (let i = 0; i < 10; i++) replies.push(serverCookie((await sendTcp(cli.port, [cookieQuery(full)], 1, '127.0.0.1', 10_000))[0]));
  t.same(new Set(replies), new Set([first]), 'the same server cookie back from every worker: valid in all');
});
