/**
 * End to end, live reload: the real server reloads its zones directory on request and when
 * files change, swaps the new configuration in whole, refuses a reload that would stop serving
 * something (the old configuration keeps answering), and keeps the health of origins that
 * still exist.
 */
import t from 'tap';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startApp, type App } from '../../src/app/app.js';
import { dataOf, query } from '../helpers/client.js';

const dir = mkdtempSync(join(tmpdir(), 'steerdns-reload-'));
let app: App;
let backend: http.Server;
let backendPort = 0;

const zone = (serial: number, www: string, extra = '') =>
  `$TTL 300\n@ SOA ns1 host ${serial} 7200 900 1209600 60\n@ NS ns1\nns1 A 192.0.2.53\nwww A ${www}\n${extra}`;
const lbYaml = (extraPool = '') => `
monitors:
  - { name: up, type: http, path: /, interval: 60, timeout: 1, retries: 0 }
pools:
  - { name: main, monitor: up, origins: [{ name: a, address: 127.0.0.31, port: ${backendPort} }] }
  - { name: spare, origins: [{ name: z, address: 192.0.2.99 }] }
${extraPool}
load_balancers:
  - { name: app, default_pools: [main], fallback_pool: spare }
`;

async function answer(name: string, type = 'A'): Promise<string[]> {
  const r = await query(app.server.addresses[0].port, 'udp', name, type);
  return (r.answers ?? []).map((a) => (type === 'SOA' ? String((dataOf(a) as { serial: number }).serial) : String(dataOf(a))));
}

t.before(async () => {
  backend = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => backend.listen(0, '127.0.0.31', () => r()));
  backendPort = (backend.address() as { port: number }).port;
  writeFileSync(join(dir, 'example.com.zone'), zone(1, '192.0.2.1'));
  writeFileSync(join(dir, 'example.com.lb.yaml'), lbYaml());
  app = await startApp({ zonesDir: dir, listen: [{ host: '127.0.0.1', port: 0 }], log: pino({ level: 'silent' }), watchDebounceMs: 200 });
  await app.health.whenFirstRoundDone();
});

t.teardown(async () => {
  await app.close();
  await new Promise((r) => backend.close(r));
  rmSync(dir, { recursive: true, force: true });
});

t.test('a reload serves the new zone data and SOA serial as written', async (t) => {
  t.same(await answer('app.example.com'), ['127.0.0.31'], 'the monitored origin is healthy');
  writeFileSync(join(dir, 'example.com.zone'), zone(2, '192.0.2.2', 'new A 192.0.2.3\n'));
  const r = await app.reload('test');
  t.equal(r.ok, true);
  t.same(await answer('www.example.com'), ['192.0.2.2']);
  t.same(await answer('new.example.com'), ['192.0.2.3']);
  t.same(await answer('example.com', 'SOA'), ['2']);
  t.same(await answer('app.example.com'), ['127.0.0.31'], 'health carried over: the origin did not go back to unknown');
});

t.test('a broken file is refused and the previous configuration keeps answering', async (t) => {
  writeFileSync(join(dir, 'example.com.zone'), zone(3, '192.0.2.300'));
  const r = await app.reload('test');
  t.equal(r.ok, false, 'refused');
  const p = r.problems.find((p) => p.severity === 'error');
  t.match(p?.file, /example\.com\.zone$/);
  t.equal(p?.line, 5, 'the problem names the line');
  t.same(await answer('www.example.com'), ['192.0.2.2'], 'still the old data');
  t.same(await answer('example.com', 'SOA'), ['2']);

  writeFileSync(join(dir, 'example.com.lb.yaml'), lbYaml().replace('fallback_pool: spare', 'fallback_pool: nonexistent'));
  writeFileSync(join(dir, 'example.com.zone'), zone(3, '192.0.2.4'));
  const lb = await app.reload('test');
  t.equal(lb.ok, false, 'a load balancer that would be dropped by an error blocks the reload');
  t.same(await answer('www.example.com'), ['192.0.2.2'], 'nothing of that reload was applied');
  t.same(await answer('app.example.com'), ['127.0.0.31']);
});

t.test('a file that is broken from the start does not block later reloads', async (t) => {
  writeFileSync(join(dir, 'example.com.lb.yaml'), lbYaml());
  writeFileSync(join(dir, 'broken.example.zone'), '@ SOA oops\n');
  writeFileSync(join(dir, 'example.com.zone'), zone(4, '192.0.2.4'));
  const r = await app.reload('test');
  t.equal(r.ok, true, 'the broken new zone was never served, so nothing is lost');
  t.ok(r.problems.some((p) => p.file.endsWith('broken.example.zone')), 'its problems are still reported');
  t.same(await answer('www.example.com'), ['192.0.2.4']);
  rmSync(join(dir, 'broken.example.zone'));
});

t.test('a change in the zones directory is picked up by itself', async (t) => {
  writeFileSync(join(dir, 'example.com.zone'), zone(5, '192.0.2.5'));
  const t0 = Date.now();
  let got: string[] = [];
  while (Date.now() - t0 < 5000) {
    got = await answer('www.example.com');
    if (got[0] === '192.0.2.5') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.same(got, ['192.0.2.5'], `reloaded after ${Date.now() - t0} ms`);
});
