/**
 * The command line as users run it: the compiled `dist/cli.js` (built by `npm test`), `check`
 * output and exit status, and `serve` answering over UDP and TCP until SIGTERM.
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { query } from '../helpers/client.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
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
  const child = spawn(process.execPath, [CLI, 'serve', '--zones', DEMO, '--listen', '127.0.0.1:0', '--api', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    lines.on('line', (l) => {
      const j = JSON.parse(l) as { msg: string; port?: number };
      if (j.msg === 'listening on UDP and TCP' && j.port) resolve(j.port);
    });
    child.once('exit', () => reject(new Error('server exited before listening')));
  });
  for (const transport of ['udp', 'tcp'] as const) {
    const r = await query(port, transport, 'example.com', 'SOA');
    t.equal(r.rcode, 'NOERROR', transport);
    t.equal(r.answers?.[0].type, 'SOA');
  }
  const code = await new Promise<number | null>((resolve) => {
    child.once('exit', (c) => resolve(c));
    child.kill('SIGTERM');
  });
  clearTimeout(killer);
  t.equal(code, 0, 'clean exit on SIGTERM');
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
