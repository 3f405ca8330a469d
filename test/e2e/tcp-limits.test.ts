/**
 * TCP limits beyond the global cap (protocol.test.ts): per client address, at the cap the
 * client's own connection idle longest makes room and nobody else's is touched; and a
 * connection, however busy, ends after its lifetime with every answer it asked for sent.
 */
import t from 'tap';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { buildQuery, decode, frame, query, unframe } from '../helpers/client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const ZONES = fileURLToPath(new URL('../fixtures/e2e/', import.meta.url));

let server: TestServer;
t.before(async () => {
  server = await startTestServer(ZONES, { maxConnections: 100, maxPerClient: 3, maxLifetimeMs: 600, idleTimeoutMs: 5000 });
});
t.teardown(() => server.close());

/** A connection from `from` (any 127/8 address is this machine's). */
async function open(from: string): Promise<{ socket: net.Socket; gone: Promise<void> }> {
  const socket = net.connect({ port: server.port, host: '127.0.0.1', localAddress: from });
  await new Promise((r) => socket.once('connect', r));
  return { socket, gone: new Promise<void>((r) => socket.once('close', () => r())) };
}

const closedWithin = (c: { gone: Promise<void> }, ms: number) => Promise.race([c.gone.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

t.test('per client: at the cap the client\'s own idlest connection goes, other clients keep theirs', async (t) => {
  const other = await open('127.0.0.3');
  const mine = [await open('127.0.0.2')];
  await new Promise((r) => setTimeout(r, 20));
  mine.push(await open('127.0.0.2'), await open('127.0.0.2'));
  const fourth = await open('127.0.0.2');
  t.equal(await closedWithin(mine[0], 1000), true, 'the first (idle longest) connection of 127.0.0.2 was closed');
  t.equal(await closedWithin(mine[1], 100), false, 'its others stay');
  t.equal(await closedWithin(other, 100), false, 'another client\'s connection is untouched');
  fourth.socket.write(frame(buildQuery('www.example.com', 'A', { id: 9 })));
  const reply = await new Promise<Buffer>((r) => fourth.socket.once('data', r));
  t.equal(decode(reply.subarray(2)).rcode, 'NOERROR', 'the new connection is answered');
  for (const c of [other, ...mine, fourth]) c.socket.destroy();
});

t.test('a connection ends after its lifetime, with every answer it asked for', async (t) => {
  const c = await open('127.0.0.4');
  const s = c.socket;
  const chunks: Buffer[] = [];
  s.on('data', (c) => chunks.push(c));
  const t0 = Date.now();
  let sent = 0;
  // Busy: a query every 50 ms, so the idle timeout never fires.
  const timer = setInterval(() => {
    if (s.destroyed || s.writableEnded) return;
    s.write(frame(buildQuery('www.example.com', 'A', { id: sent++ })));
  }, 50);
  await c.gone;
  clearInterval(timer);
  const lived = Date.now() - t0;
  t.ok(lived >= 550 && lived < 3000, `closed after its lifetime (${lived} ms)`);
  const answered = unframe(Buffer.concat(chunks)).length;
  t.ok(answered >= sent - 1 && answered > 5, `the queries sent before the end were answered (${answered} of ${sent}; one may cross the close)`);
  const after = await query(server.port, 'tcp', 'www.example.com', 'A');
  t.equal(after.rcode, 'NOERROR', 'a new connection is served as usual');
});
