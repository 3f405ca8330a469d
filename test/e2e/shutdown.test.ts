/**
 * Closing the server in-process: idle TCP connections are closed at once, so a close with
 * nothing in flight stays fast; a client that does not read its answers is cut at the grace
 * deadline. (The drain of pipelined queries on SIGTERM is in cli.test.ts.)
 */
import t from 'tap';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { buildQuery } from '../helpers/client.js';
import { startTestServer } from '../helpers/server.js';

const ZONES = fileURLToPath(new URL('../fixtures/e2e/', import.meta.url));

async function connect(port: number): Promise<net.Socket> {
  const s = net.connect({ port, host: '127.0.0.1' });
  s.on('error', () => {});
  await new Promise((r) => s.once('connect', r));
  return s;
}

t.test('an idle connection does not hold up close()', async (t) => {
  const server = await startTestServer(ZONES);
  const idle = await connect(server.port);
  const ended = new Promise((r) => idle.once('end', r));
  const t0 = Date.now();
  await server.close();
  t.ok(Date.now() - t0 < 1000, `closed in ${Date.now() - t0} ms`);
  await ended;
  t.pass('the client saw the connection end (FIN)');
  idle.destroy();
});

t.test('a client that never reads is cut at the grace deadline', async (t) => {
  const server = await startTestServer(ZONES, { shutdownGraceMs: 300 });
  const stuck = await connect(server.port);
  stuck.pause(); // never read: ~20 MB of answers cannot all be written
  const q = buildQuery('huge.example.com', 'TXT');
  const frame = Buffer.concat([Buffer.from([0, q.length]), q]);
  stuck.write(Buffer.concat(Array.from({ length: 2000 }, () => frame)));
  await new Promise((r) => setTimeout(r, 200));
  const t0 = Date.now();
  await server.close();
  const took = Date.now() - t0;
  t.ok(took >= 250 && took < 2000, `close() waited for the grace deadline, not longer (${took} ms)`);
  stuck.destroy();
});
