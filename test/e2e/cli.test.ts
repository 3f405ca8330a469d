/**
 * The command line as users run it: the compiled `dist/cli.js` (built by `npm test`), `check`
 * output and exit status, `serve` answering over UDP and TCP until SIGTERM, and the drain of
 * TCP connections on SIGTERM.
 */
import t from 'tap';
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildQuery, decode, frame, query, unframe } from '../helpers/client.js';
import { CLI, startCli } from '../helpers/cli.js';

const E2E = fileURLToPath(new URL('../fixtures/e2e/', import.meta.url));
const DEMO = fileURLToPath(new URL('../../zones/', import.meta.url));

t.test('check: demo zones are clean', async (t) => {
  const r = spawnSync(process.execPath, [CLI, 'check', '--zones', DEMO], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stdout + r.stderr);
  t.match(r.stdout, /1 zone\(s\) OK: example\.com\./);
});

t.test('check: problems are printed as file:line and the exit status is 1', async (t) => {
  const r = spawnSync(process.execPath, [CLI, 'check', '--zones', E2E], { encoding: 'utf8' });
  t.equal(r.status, 1);
  t.match(r.stdout, /broken\.example\.zone:4: error: .*192\.0\.2\.300/);
  t.match(r.stdout, /2 zone\(s\) OK: .*; 1 failed/);
});

t.test('bad flags exit with status 2 and the usage', async (t) => {
  const r = spawnSync(process.execPath, [CLI, 'serve', '--listen', 'nonsense'], { encoding: 'utf8' });
  t.equal(r.status, 2);
  t.match(r.stderr, /--listen "nonsense"/);
  t.match(r.stderr, /usage:/);
});

t.test('serve answers over UDP and TCP and stops on SIGTERM', async (t) => {
  const { child, port, exited } = await startCli(DEMO);
  for (const transport of ['udp', 'tcp'] as const) {
    const r = await query(port, transport, 'example.com', 'SOA');
    t.equal(r.rcode, 'NOERROR', transport);
    t.equal(r.answers?.[0].type, 'SOA');
  }
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'clean exit on SIGTERM');
});

/** Everything the server sends on `socket` until it ends the connection. */
function readAll(socket: net.Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve, reject) => {
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
  });
}

async function connect(port: number): Promise<net.Socket> {
  const s = net.connect({ port, host: '127.0.0.1' });
  await new Promise((resolve, reject) => s.once('connect', resolve).once('error', reject));
  return s;
}

t.test('SIGTERM: pipelined TCP queries already sent are all answered, new connections are refused, exit 0', async (t) => {
  // One process: the refusal is immediate (with workers, see workers.test.ts).
  const { child, port, logged, exited } = await startCli(E2E, ['--workers', '1']);
  // A slow reader: 2000 queries with ~10 KB answers (20 MB), read only after the signal, so
  // the server is still draining it while the next connection is tried.
  const slow = await connect(port);
  const slowAll = readAll(slow);
  const firstAnswer = new Promise((r) => slow.once('data', r));
  slow.write(frame(...Array.from({ length: 2000 }, (_, id) => buildQuery('huge.example.com', 'TXT', { id }))));
  await firstAnswer;
  slow.pause();

  // A client that pipelines a few queries and has the server signalled right after.
  const quick = await connect(port);
  const quickAll = readAll(quick);
  const names = ['www.example.com', 'mail.example.com', 'nope.example.com', 'big.example.com', 'example.com'];
  quick.write(frame(...names.map((n, id) => buildQuery(n, n.startsWith('big') ? 'TXT' : 'A', { id }))), () => child.kill('SIGTERM'));

  await logged('shutting down');
  const quickReplies = unframe(await quickAll).map(decode);
  t.same(quickReplies.map((r) => r.id), [0, 1, 2, 3, 4], 'every pipelined query answered, in order, then the connection ended');
  t.same(quickReplies.map((r) => r.rcode), ['NOERROR', 'NOERROR', 'NXDOMAIN', 'NOERROR', 'NOERROR']);

  const refused = await new Promise<string>((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => resolve('connected'));
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
  t.equal(refused, 'ECONNREFUSED', 'a new TCP connection is refused once draining');
  t.equal(child.exitCode, null, 'still running: the slow reader is not done');

  slow.resume();
  const slowReplies = unframe(await slowAll).map(decode);
  t.equal(slowReplies.length, 2000, 'the slow reader gets every answer');
  t.ok(slowReplies.every((r, i) => r.id === i && r.rcode === 'NOERROR' && r.answers?.length), 'in order, complete');
  t.equal(await exited, 0, 'exit 0 once drained');
});

t.test('explain shows the decision and the records for a load-balanced name', async (t) => {
  const r = spawnSync(process.execPath, [CLI, 'explain', 'app.example.com', 'A', '--zones', DEMO, '--pop', 'FRA', '--pop-country', 'DE'], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /load balancer app\.example\.com\./);
  t.match(r.stdout, /steering policy: geo/);
  t.match(r.stdout, /region WEU/, 'the region comes from the PoP country');
  t.match(r.stdout, /pool list: region_pools/);
  t.match(r.stdout, /1\. eu-west .*<= chosen/);
  t.match(r.stdout, /answer:\n  app\.example\.com\. 30 IN A 198\.51\.100\.1[01]/);
  const plain = spawnSync(process.execPath, [CLI, 'explain', 'www.example.com', '--zones', DEMO], { encoding: 'utf8' });
  t.match(plain.stdout, /load balancer: none at this name: answered from the zone file/);
  t.match(plain.stdout, /www\.example\.com\. 300 IN A 192\.0\.2\.80/);
  const bad = spawnSync(process.execPath, [CLI, 'explain', 'app.example.com', 'A', '--zones', DEMO, '--client', 'not-an-ip'], { encoding: 'utf8' });
  t.equal(bad.status, 2);
  t.match(bad.stderr, /client "not-an-ip": not an IP address/);
});

t.test('explain shows the persistence key and the pin a fresh instance would take', async (t) => {
  const dir = fileURLToPath(new URL('../fixtures/persistence-e2e/', import.meta.url));
  const args = [CLI, 'explain', 'sticky.example.com', '--zones', dir, '--ecs', '198.51.100.0/24'];
  const first = spawnSync(process.execPath, args, { encoding: 'utf8' });
  t.equal(first.status, 0, first.stderr);
  t.match(first.stdout, /persistence: key 198\.51\.100\.0\/24, no pin yet; choices seeded from the key/);
  const again = spawnSync(process.execPath, args, { encoding: 'utf8' });
  const answer = (s: string) => s.slice(s.indexOf('answer:'));
  t.equal(answer(again.stdout), answer(first.stdout), 'deterministic: the same subnet gets the same answer from another process');
});
