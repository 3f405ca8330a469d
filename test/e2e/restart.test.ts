/**
 * What survives a restart, with the real CLI killed by SIGKILL and started again on the same
 * state directory: last good copies of broken files, runtime overrides, health known before,
 * and the listeners that wait for the first health round. Also: an address that cannot be
 * bound ends the process with one line, with and without workers.
 */
import t from 'tap';
import http from 'node:http';
import net from 'node:net';
import { spawnSync, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, startCli, type RunningCli } from '../helpers/cli.js';
import { dataOf, query } from '../helpers/client.js';

const PRIMARY = '127.0.0.31';
const FALLBACK = '192.0.2.99';

/** An HTTP health endpoint on PRIMARY whose answers take `delayMs`. */
const backend = { delayMs: 0, port: 0, server: undefined as http.Server | undefined };

t.before(async () => {
  const server = http.createServer((_req, res) => {
    setTimeout(() => res.writeHead(200).end('ok'), backend.delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, PRIMARY, resolve));
  backend.port = (server.address() as net.AddressInfo).port;
  backend.server = server;
});
t.teardown(() => {
  backend.server?.closeAllConnections();
  backend.server?.close();
});

const ZONE = '$TTL 300\n@ SOA ns1 host 1 7200 900 1209600 60\n@ NS ns1\nns1 A 192.0.2.53\nwww A 192.0.2.80\n';
const lbYaml = () => `
monitors:
  - { name: up, type: http, path: /health, interval: 1, timeout: 4, retries: 0 }
pools:
  - name: primary
    monitor: up
    origins:
      - { name: a, address: ${PRIMARY}, port: ${backend.port} }
  - name: last-resort
    origins:
      - { name: z, address: ${FALLBACK} }
load_balancers:
  - { name: web, default_pools: [primary], fallback_pool: last-resort, ttl: 5 }
`;

function zonesDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'steerdns-restart-'));
  writeFileSync(join(dir, 'example.com.zone'), ZONE);
  writeFileSync(join(dir, 'example.com.lb.yaml'), lbYaml());
  return dir;
}

const stateDir = () => mkdtempSync(join(tmpdir(), 'steerdns-restart-state-'));

async function kill(cli: RunningCli): Promise<void> {
  cli.child.kill('SIGKILL');
  await cli.exited;
}

async function web(cli: RunningCli): Promise<string[]> {
  const r = await query(cli.port, 'udp', 'web.example.com', 'A');
  return (r.answers ?? []).map((a) => String(dataOf(a)));
}

async function api(cli: RunningCli, path: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${cli.apiPort}${path}`, init);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Waits until the state directory's health.json says the primary origin is healthy. */
async function healthWritten(state: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      const j = JSON.parse(readFileSync(join(state, 'health.json'), 'utf8')) as { data: { pools: [string, number | null, [string, boolean | null][]][] } };
      if (j.data.pools.some(([p, , o]) => p === 'primary' && o.some(([n, h]) => n === 'a' && h === true))) return;
    } catch {
      // not written yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('health.json never said the primary was healthy');
}

t.test('a broken file at restart is served from its last good copy, and readiness says so', async (t) => {
  const zones = zonesDir();
  const state = stateDir();
  const first = await startCli(zones, ['--state-dir', state, '--workers', '1']);
  t.same((await query(first.port, 'udp', 'www.example.com', 'A')).answers?.map(dataOf), ['192.0.2.80']);
  await kill(first);

  appendFileSync(join(zones, 'example.com.zone'), 'broken IN A not-an-address\n');
  writeFileSync(join(zones, 'example.com.lb.yaml'), lbYaml().replace('fallback_pool: last-resort', 'fallback_pool: no-such-pool'));
  const second = await startCli(zones, ['--state-dir', state, '--workers', '1']);
  t.teardown(() => kill(second));
  const www = await query(second.port, 'udp', 'www.example.com', 'A');
  t.equal(www.rcode, 'NOERROR', 'the zone is served');
  t.same(www.answers?.map(dataOf), ['192.0.2.80'], 'from its last good copy');
  t.ok((await web(second)).length > 0, 'the load balancer answers (not NXDOMAIN): its file came from the last good copy too');
  const ready = await api(second, '/readyz');
  t.equal(ready.status, 200, 'ready: it serves');
  t.equal(ready.body.status, 'degraded');
  const reasons = (ready.body.reasons as string[]).join('\n');
  t.match(reasons, /example\.com\.zone: has errors .*serving its last good copy/);
  t.match(reasons, /example\.com\.lb\.yaml: has errors .*serving its last good copy/);
  const metrics = await (await fetch(`http://127.0.0.1:${second.apiPort}/metrics`)).text();
  t.match(metrics, /steerdns_config_file_degraded\{file="[^"]*example\.com\.zone",serving="last_good"\} 1/);

  // Workers read the same last good copies as their primary.
  const workers = await startCli(zones, ['--state-dir', state, '--workers', '2']);
  t.teardown(() => kill(workers));
  for (let i = 0; i < 4; i++) t.same((await query(workers.port, 'udp', 'www.example.com', 'A')).answers?.map(dataOf), ['192.0.2.80'], `with workers, query ${i + 1}`);

  // The same broken files with no last good copy: left out, and said so.
  const third = await startCli(zones, ['--state-dir', stateDir(), '--workers', '1']);
  t.teardown(() => kill(third));
  t.equal((await query(third.port, 'udp', 'www.example.com', 'A')).rcode, 'REFUSED', 'no copy: the zone is not served');
  const r3 = await api(third, '/readyz');
  t.match((r3.body.reasons as string[]).join('\n'), /example\.com\.zone: has errors .* no last good copy; not served/);
});

t.test('a runtime override survives a restart, and clearing it does too', async (t) => {
  const zones = zonesDir();
  const state = stateDir();
  const token = ['--api-token', 'secret', '--workers', '1', '--state-dir', state];
  const auth = { method: 'POST', headers: { authorization: 'Bearer secret' } };
  const first = await startCli(zones, token);
  t.same(await web(first), [PRIMARY]);
  t.equal((await api(first, '/v1/pools/primary/disable', auth)).status, 200);
  t.same(await web(first), [FALLBACK]);
  await kill(first);

  const second = await startCli(zones, token);
  t.same(await web(second), [FALLBACK], 'the pool is still disabled after SIGKILL and a restart');
  const status = await api(second, '/v1/status');
  t.match(status.body.overrides, [{ pool: 'primary', enabled: false }]);
  t.equal((await api(second, '/v1/pools/primary/clear', auth)).status, 200);
  await kill(second);

  const third = await startCli(zones, token);
  t.teardown(() => kill(third));
  t.same(await web(third), [PRIMARY], 'cleared, and that was kept too');
});

t.test('health known before a restart answers until the first probe round here', async (t) => {
  const zones = zonesDir();
  const state = stateDir();
  backend.delayMs = 0;
  const first = await startCli(zones, ['--state-dir', state, '--workers', '1']);
  t.same(await web(first), [PRIMARY]);
  await healthWritten(state);
  await kill(first);

  // Probes now take 2.5 s; the listeners stop waiting for them after 0.5 s.
  backend.delayMs = 2500;
  t.teardown(() => (backend.delayMs = 0));
  const restored = await startCli(zones, ['--state-dir', state, '--workers', '1', '--startup-wait', '0.5']);
  t.same(await web(restored), [PRIMARY], 'the first answer comes from the pool that was healthy before');
  await kill(restored);

  const fresh = await startCli(zones, ['--state-dir', stateDir(), '--workers', '1', '--startup-wait', '0.5']);
  t.same(await web(fresh), [FALLBACK], 'without the state: the fallback, until the first round');
  await kill(fresh);
});

t.test('the listeners wait for the first health round', async (t) => {
  backend.delayMs = 1500;
  t.teardown(() => (backend.delayMs = 0));
  const cli = await startCli(zonesDir(), ['--workers', '1', '--startup-wait', '5']);
  t.teardown(() => kill(cli));
  t.same(await web(cli), [PRIMARY], 'the very first answer already knows the primary is up');
});

/** Runs `serve` expecting it to fail; its exit code, stderr and how long it took. */
function failing(args: string[], asUser: string[] = []): Promise<{ code: number | null; stderr: string; ms: number }> {
  const t0 = Date.now();
  // As another user, through sh without NODE_OPTIONS: the test runner puts its hooks into every
  // child's environment, and they write where that user may not.
  const node = asUser.length > 0 ? ['sh', '-c', `unset NODE_OPTIONS; exec '${process.execPath}' "$@"`, 'sh'] : [process.execPath];
  const command = [...asUser, ...node, CLI, 'serve', '--api', 'off', '--no-watch', '--state-dir', stateDir(), ...args];
  const child = spawn(command[0], command.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) => child.once('exit', (code) => {
    clearTimeout(killer);
    resolve({ code, stderr, ms: Date.now() - t0 });
  }));
}

t.test('an address in use ends the process with one line, with and without workers', async (t) => {
  const taken = net.createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  t.teardown(() => taken.close());
  const port = (taken.address() as net.AddressInfo).port;
  for (const workers of ['1', '2']) {
    const r = await failing(['--zones', zonesDir(), '--listen', `127.0.0.1:${port}`, '--workers', workers, '--startup-wait', '0']);
    t.equal(r.code, 1, `--workers ${workers}: exit status 1`);
    t.ok(r.ms < 15_000, `--workers ${workers}: within seconds (${r.ms} ms)`);
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    t.match(r.stderr, `cannot listen on 127.0.0.1:${port} (TCP): the address is in use (EADDRINUSE)`);
  }
});

const AS_NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];

/** Why the EACCES test cannot run here, or false when it can. */
function whyNotAsNobody(): string | false {
  if (process.getuid?.() !== 0) return 'needs root, to run steerdns as user nobody';
  if (spawnSync('setpriv', ['--version']).error) return 'setpriv (util-linux) not installed';
  // As nobody: can it run this node (a pinned one may sit in a directory only root enters) and read the CLI?
  const probe = spawnSync(AS_NOBODY[0], [...AS_NOBODY.slice(1), 'sh', '-c', 'test -x "$0" && test -r "$1"', process.execPath, CLI]);
  if (probe.status !== 0) return `user nobody cannot run ${process.execPath} or read ${CLI}`;
  if (Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8')) <= 53) return 'unprivileged users may bind port 53 here';
  return false;
}

t.test('port 53 as an unprivileged user: the fix is in the message', { skip: whyNotAsNobody() }, async (t) => {
  const zones = zonesDir();
  spawnSync('chmod', ['-R', 'a+rX', zones]); // for nobody
  const r = await failing(['--zones', zones, '--listen', '127.0.0.1:53', '--workers', '1', '--startup-wait', '0'], AS_NOBODY);
  t.equal(r.code, 1);
  t.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  t.match(r.stderr, 'cannot listen on 127.0.0.1:53 (TCP): permission denied (EACCES)');
  t.match(r.stderr, 'CAP_NET_BIND_SERVICE');
  t.match(r.stderr, 'net.ipv4.ip_unprivileged_port_start');
});
