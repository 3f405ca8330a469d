/**
 * `--workers 2`, end to end with the real CLI: both workers answer on one port over UDP and
 * TCP, health is probed once (by the primary) and reaches every worker, reloads and runtime
 * overrides reach them, /metrics sums their counters, a worker that dies is replaced, and
 * SIGTERM drains and exits 0.
 */
import t, { type Test } from 'tap';
import http from 'node:http';
import net from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildQuery, dataOf, frame, query, unframe } from '../helpers/client.js';
import { startCli, type RunningCli } from '../helpers/cli.js';

let probes = 0;
let up = true;
const backend = http.createServer((req, res) => {
  probes++;
  res.writeHead(up && req.url === '/health' ? 200 : 503);
  res.end();
});
let dir: string;
let cli: RunningCli;

const zone = (www: string) => `$TTL 300\n@ SOA ns1 host 1 7200 900 1209600 60\n@ NS ns1\nns1 A 192.0.2.53\nwww A ${www}\n`;

t.before(async () => {
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
  const port = (backend.address() as net.AddressInfo).port;
  dir = mkdtempSync(join(tmpdir(), 'steerdns-workers-'));
  writeFileSync(join(dir, 'example.com.zone'), zone('192.0.2.1'));
  writeFileSync(join(dir, 'example.com.lb.yaml'), `
monitors:
  - { name: up, type: http, path: /health, interval: 1, timeout: 1, retries: 0 }
pools:
  - { name: main, monitor: up, origins: [{ name: a, address: 127.0.0.1, port: ${port} }] }
  - { name: backup, origins: [{ name: b, address: 192.0.2.99 }] }
load_balancers:
  - { name: web, default_pools: [main, backup], fallback_pool: backup }
`);
  cli = await startCli(dir, ['--workers', '2', '--api-token', 'tok'], 60_000);
});

t.teardown(async () => {
  if (cli?.child.exitCode === null) cli.child.kill('SIGKILL');
  backend.closeAllConnections();
  backend.close();
  rmSync(dir, { recursive: true, force: true });
});

async function web(transport: 'udp' | 'tcp' = 'udp'): Promise<string[]> {
  const r = await query(cli.port, transport, 'web.example.com', 'A');
  return (r.answers ?? []).map((a) => String(dataOf(a)));
}

async function until(t: Test, what: string, check: () => Promise<boolean>, limitMs = 5000): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < limitMs) {
    if (await check()) return void t.pass(`${what} (${Date.now() - t0} ms)`);
    await new Promise((r) => setTimeout(r, 100));
  }
  t.fail(`${what}: not within ${limitMs} ms`);
}

/** Every query of a batch, UDP and TCP, gets `want` (so whichever worker answers, it agrees). */
async function allAnswer(want: string[]): Promise<boolean> {
  const got = await Promise.all(Array.from({ length: 20 }, (_, i) => web(i % 2 ? 'tcp' : 'udp')));
  return got.every((g) => JSON.stringify(g) === JSON.stringify(want));
}

function workerPids(): number[] {
  const pid = cli.child.pid!;
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return children ? children.split(/\s+/).map(Number) : [];
}

async function metrics(): Promise<string> {
  return (await fetch(`http://127.0.0.1:${cli.apiPort}/metrics`)).text();
}

t.test('two workers answer on one port; health probed once reaches both', async (t) => {
  t.equal(workerPids().length, 2, 'two worker processes');
  await until(t, 'the monitored pool answers once the primary has probed it', () => allAnswer(['127.0.0.1']));
  const before = probes;
  await new Promise((r) => setTimeout(r, 3000));
  // One prober at interval 1 s makes about 3 requests in 3 s; three probers would make about 9.
  t.ok(probes - before <= 5, `probed once, not per worker (${probes - before} probes in 3 s)`);
  up = false;
  await until(t, 'every worker fails over when the primary sees the origin down', () => allAnswer(['192.0.2.99']));
  up = true;
  await until(t, 'and comes back', () => allAnswer(['127.0.0.1']));
});

t.test('/metrics sums the workers; /readyz counts them', async (t) => {
  const count = (text: string) => [...text.matchAll(/^steerdns_queries_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
  const before = count(await metrics());
  for (let i = 0; i < 30; i++) await query(cli.port, i % 2 ? 'tcp' : 'udp', 'www.example.com', 'A');
  t.equal(count(await metrics()) - before, 30, 'every query counted once, whichever worker answered');
  const ready = (await (await fetch(`http://127.0.0.1:${cli.apiPort}/readyz`)).json()) as { ready: boolean };
  t.equal(ready.ready, true);
});

t.test('reloads and runtime overrides reach every worker', async (t) => {
  writeFileSync(join(dir, 'example.com.zone'), zone('192.0.2.2'));
  cli.child.kill('SIGHUP');
  await until(t, 'a reload in the primary changes every worker\'s answers', async () => {
    const got = await Promise.all(Array.from({ length: 10 }, (_, i) => query(cli.port, i % 2 ? 'tcp' : 'udp', 'www.example.com', 'A')));
    return got.every((r) => r.answers?.length === 1 && dataOf(r.answers[0]) === '192.0.2.2');
  });
  const call = (path: string) => fetch(`http://127.0.0.1:${cli.apiPort}${path}`, { method: 'POST', headers: { authorization: 'Bearer tok' } });
  t.equal((await call('/v1/pools/main/disable')).status, 200);
  await until(t, 'a pool disabled over the API is skipped by every worker', () => allAnswer(['192.0.2.99']));
  t.equal((await call('/v1/pools/main/clear')).status, 200);
  await until(t, 'and used again once cleared', () => allAnswer(['127.0.0.1']));
});

t.test('a worker that dies is replaced, and its replacement agrees from its first answer', async (t) => {
  const count = (text: string) => [...text.matchAll(/^steerdns_queries_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
  const before = count(await metrics());
  const call = (path: string) => fetch(`http://127.0.0.1:${cli.apiPort}${path}`, { method: 'POST', headers: { authorization: 'Bearer tok' } });
  t.equal((await call('/v1/pools/backup/origins/b/disable')).status, 200);
  t.equal((await call('/v1/pools/main/disable')).status, 200);
  // main disabled, and backup's only origin too: the fallback (backup, whose overrides still apply) has none: NODATA.
  await until(t, 'an override in force everywhere', () => allAnswer([]));
  const [victim] = workerPids();
  process.kill(victim, 'SIGKILL');
  await until(t, 'two workers again', async () => workerPids().length === 2 && !workerPids().includes(victim), 8000);
  await until(t, 'the replacement is listening', async () => ((await (await fetch(`http://127.0.0.1:${cli.apiPort}/readyz`)).json()) as { ready: boolean }).ready, 8000);
  t.ok(await allAnswer([]), 'every answer, the new worker\'s included, already follows the override and the health');
  t.equal((await call('/v1/pools/main/clear')).status, 200);
  t.equal((await call('/v1/pools/backup/origins/b/clear')).status, 200);
  await until(t, 'answering as before', () => allAnswer(['127.0.0.1']));
  t.ok(count(await metrics()) >= before, 'query counters kept the dead worker\'s share');
});

t.test('SIGTERM: TCP queries already sent are answered, then every process exits 0', async (t) => {
  const sock = net.connect({ port: cli.port, host: '127.0.0.1' });
  await new Promise((r) => sock.once('connect', r));
  const chunks: Buffer[] = [];
  sock.on('data', (c) => chunks.push(c));
  const ended = new Promise((r) => sock.once('close', r));
  const frames = frame(...Array.from({ length: 50 }, (_, id) => buildQuery('www.example.com', 'A', { id })));
  const pids = workerPids();
  sock.write(frames, () => cli.child.kill('SIGTERM'));
  await ended;
  t.equal(unframe(Buffer.concat(chunks)).length, 50, 'every pipelined query answered before the connection ended');
  t.equal(await cli.exited, 0, 'the primary exits 0');
  const alive = pids.filter((p) => {
    try {
      process.kill(p, 0);
      return true;
    } catch {
      return false;
    }
  });
  t.same(alive, [], 'and no worker is left');
  const refused = await new Promise<string>((resolve) => {
    const s = net.connect({ port: cli.port, host: '127.0.0.1' });
    s.once('connect', () => resolve('connected'));
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
  t.equal(refused, 'ECONNREFUSED', 'the port is closed');
});
