/**
 * What an operator reads: `steerdns status`, `/v1/status`, the configuration digest and its
 * metric, `check` without cascades, and logs by name and once with workers.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { CLI, startCli, type RunningCli } from '../helpers/cli.js';
import { query } from '../helpers/client.js';

const ZONE = '$TTL 300\n@ SOA ns1 host 1 7200 900 1209600 60\n@ NS ns1\nns1 A 192.0.2.53\nwww A 192.0.2.80\n';
// Nothing listens on 127.0.0.41:1: its monitor fails at once (connection refused).
const LB = `
monitors:
  - { name: up, type: tcp, port: 1, interval: 1, timeout: 1, retries: 0 }
pools:
  - name: primary
    monitor: up
    origins:
      - { name: a, address: 127.0.0.41 }
  - name: spare
    origins:
      - { name: z, address: 192.0.2.99 }
load_balancers:
  - { name: web, default_pools: [primary], fallback_pool: spare }
`;

function zonesDir(files: Record<string, string> = { 'example.com.zone': ZONE, 'example.com.lb.yaml': LB }): string {
  const dir = mkdtempSync(join(tmpdir(), 'steerdns-status-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const stop = async (cli: RunningCli) => {
  cli.child.kill('SIGKILL');
  await cli.exited;
};

async function status(cli: RunningCli): Promise<Record<string, unknown>> {
  return (await (await fetch(`http://127.0.0.1:${cli.apiPort}/v1/status`)).json()) as Record<string, unknown>;
}

t.test('status: the pools answering each load balancer, plain fields, the digest', async (t) => {
  const dir = zonesDir();
  const cli = await startCli(dir, ['--workers', '1']);
  t.teardown(() => stop(cli));
  const s = await status(cli);
  const lbs = s.loadBalancers as { name: string; answering: string[]; answeringSince: string; state: string }[];
  t.match(lbs, [{ name: 'web.example.com.', state: 'critical', answering: ['spare'] }]);
  t.ok(Date.parse(lbs[0].answeringSince) > 0, 'since when');
  const pools = s.pools as { name: string; state: string; origins: Record<string, unknown>[] }[];
  t.equal(pools.find((p) => p.name === 'spare')?.state, 'unmonitored', 'a pool without a monitor says so');
  const a = pools.find((p) => p.name === 'primary')!.origins[0];
  t.match(a, { name: 'a', state: 'unhealthy', monitor: 'up', probed: ['127.0.0.41'], reason: 'TCP connection failed' });
  t.match(a.detail, /ECONNREFUSED/);
  t.notOk('target' in a, 'no probe key as JSON text');

  // The digest: SHA-256 over the files by name, the same as computed here.
  const hash = createHash('sha256');
  for (const name of ['example.com.lb.yaml', 'example.com.zone']) hash.update(`${name}\0${readFileSync(join(dir, name), 'utf8')}\0`);
  const digest = hash.digest('hex');
  t.equal((s.config as { digest: string }).digest, digest);
  const metrics = await (await fetch(`http://127.0.0.1:${cli.apiPort}/metrics`)).text();
  t.match(metrics, `steerdns_config_info{digest="${digest.slice(0, 12)}"} 1`);

  // The terminal view says the same.
  const out = spawnSync(process.execPath, [CLI, 'status', '--api', `127.0.0.1:${cli.apiPort}`], { encoding: 'utf8' });
  t.equal(out.status, 0, out.stderr);
  t.match(out.stdout, `configuration ${digest.slice(0, 12)}`);
  t.match(out.stdout, /web\.example\.com\.\s+critical\s+spare \(fallback\)/);
  t.match(out.stdout, /a 127\.0\.0\.41\s+unhealthy\s+TCP connection failed: connect ECONNREFUSED/);
  t.match(out.stdout, /spare\s+unmonitored/);
});

t.test('status without a server says where it looked', async (t) => {
  const out = spawnSync(process.execPath, [CLI, 'status', '--api', '127.0.0.1:1'], { encoding: 'utf8' });
  t.equal(out.status, 1);
  t.match(out.stderr, 'cannot read the status from the API at 127.0.0.1:1');
});

t.test('check: a broken zone file is its own errors and one line for its load balancers; an empty directory is an error', async (t) => {
  const lbs = `${LB}  - { name: api, default_pools: [primary], fallback_pool: spare }\n  - { name: www2, default_pools: [spare], fallback_pool: spare }\n`;
  const dir = zonesDir({ 'example.com.zone': `${ZONE}broken IN A 300.1.1.1\n`, 'example.com.lb.yaml': lbs });
  const r = spawnSync(process.execPath, [CLI, 'check', '--zones', dir], { encoding: 'utf8' });
  t.equal(r.status, 1);
  const lines = r.stdout.trim().split('\n');
  t.equal(lines.filter((l) => l.includes('example.com.zone:6: error')).length, 1, 'the zone file\'s error');
  const lbLines = lines.filter((l) => l.includes('example.com.lb.yaml'));
  t.equal(lbLines.length, 1, `one line for the load balancers of that zone: ${lbLines.join(' | ')}`);
  t.match(lbLines[0], 'whose zone file');
  t.notMatch(r.stdout, 'not inside a zone served here');

  const empty = spawnSync(process.execPath, [CLI, 'check', '--zones', mkdtempSync(join(tmpdir(), 'steerdns-empty-'))], { encoding: 'utf8' });
  t.equal(empty.status, 1);
  t.match(empty.stdout, 'no zone files (*.zone) in the zones directory');
});

t.test('with workers, a file\'s warning is logged once; queries are logged with types and rcodes by name', async (t) => {
  // An NS target inside the zone without an address: a warning.
  const dir = zonesDir({ 'example.com.zone': `${ZONE}@ NS ns2\n` });
  const child = spawn(process.execPath, [CLI, 'serve', '--zones', dir, '--listen', '127.0.0.1:0', '--api', 'off', '--no-watch', '--workers', '2', '--log-level', 'debug', '--state-dir', mkdtempSync(join(tmpdir(), 'steerdns-st-'))], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => child.kill('SIGKILL'));
  const lines: { level: number; msg: string; qtype?: string; rcode?: string; port?: number }[] = [];
  let port = 0;
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const j = JSON.parse(line) as (typeof lines)[number];
      lines.push(j);
      if (j.msg === 'listening on UDP and TCP' && j.port) port = j.port;
      if (j.msg.startsWith('workers listening')) resolve();
    });
    child.once('exit', () => reject(new Error('steerdns exited')));
  });
  const warnings = lines.filter((l) => l.level === 40 && /ns2/.test(l.msg));
  t.equal(warnings.length, 1, 'said once, by the primary');
  await query(port, 'udp', 'www.example.com', 'AAAA');
  await query(port, 'udp', 'nope.example.com', 'A');
  for (let i = 0; i < 50 && lines.filter((l) => l.msg === 'query').length < 2; i++) await new Promise((r) => setTimeout(r, 50));
  const queries = lines.filter((l) => l.msg === 'query');
  t.match(queries, [{ qtype: 'AAAA', rcode: 'NOERROR' }, { qtype: 'A', rcode: 'NXDOMAIN' }]);
});
