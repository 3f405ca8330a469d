/**
 * End to end, health-driven failover: real HTTP backends on loopback addresses, the real
 * server with its health monitors (interval 1 s), and DNS answers that move to the next pool
 * when the primary's origins go down, come back when they recover, and reach the fallback
 * when everything is down.
 */
import t, { type Test } from 'tap';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startApp, type App } from '../../src/app/app.js';
import { dataOf, query } from '../helpers/client.js';

interface Backend { address: string; port: number; server?: http.Server }

function listen(b: Backend): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = http.createServer((req, res) => {
      res.writeHead(req.url === '/health' ? 200 : 404);
      res.end('ok');
    });
    server.once('error', reject);
    server.listen(b.port, b.address, () => {
      b.port = (server.address() as { port: number }).port;
      b.server = server;
      resolve();
    });
  });
}

function stop(b: Backend): Promise<void> {
  const s = b.server;
  b.server = undefined;
  if (!s) return Promise.resolve();
  s.closeAllConnections();
  return new Promise((r) => s.close(() => r()));
}

const backends: Backend[] = ['127.0.0.21', '127.0.0.22', '127.0.0.23'].map((address) => ({ address, port: 0 }));
let app: App;
let dir: string;

async function answers(): Promise<string[]> {
  const r = await query(app.server.addresses[0].port, 'udp', 'web.example.com', 'A');
  return (r.answers ?? []).map((a) => String(dataOf(a))).sort();
}

/** Polls until the answer equals `want`; returns the time it took, or fails after `limitMs`. */
async function until(t: Test, want: string[], limitMs: number, what: string): Promise<number> {
  const t0 = Date.now();
  let got: string[] = [];
  while (Date.now() - t0 < limitMs) {
    got = await answers();
    if (JSON.stringify(got) === JSON.stringify(want)) {
      const took = Date.now() - t0;
      t.pass(`${what}: ${want.join(' ')} after ${took} ms`);
      return took;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  t.fail(`${what}: still ${got.join(' ') || 'empty'} after ${limitMs} ms, wanted ${want.join(' ')}`);
  return -1;
}

t.before(async () => {
  for (const b of backends) await listen(b);
  dir = mkdtempSync(join(tmpdir(), 'steerdns-failover-'));
  writeFileSync(join(dir, 'example.com.zone'), '$TTL 300\n@ SOA ns1 host 1 7200 900 1209600 60\n@ NS ns1\nns1 A 192.0.2.53\n');
  const [a, b, c] = backends;
  writeFileSync(join(dir, 'example.com.lb.yaml'), `
monitors:
  - { name: up, type: http, path: /health, interval: 1, timeout: 1, retries: 0 }
pools:
  - name: primary
    monitor: up
    origins:
      - { name: a, address: ${a.address}, port: ${a.port} }
      - { name: b, address: ${b.address}, port: ${b.port} }
  - name: secondary
    monitor: up
    origins:
      - { name: c, address: ${c.address}, port: ${c.port} }
  - name: last-resort
    origins:
      - { name: z, address: 192.0.2.99 }
load_balancers:
  - { name: web, default_pools: [primary, secondary], fallback_pool: last-resort }
`);
  app = await startApp({ zonesDir: dir, listen: [{ host: '127.0.0.1', port: 0 }], log: pino({ level: 'silent' }) });
  t.same(app.loaded.problems.filter((p) => p.severity === 'error'), []);
  await app.health.whenFirstRoundDone();
});

t.teardown(async () => {
  await app?.close();
  for (const b of backends) await stop(b);
  rmSync(dir, { recursive: true, force: true });
});

// Bound from the README: interval x (consecutive_down or 1) + (retries + 1) x timeout = 2 s;
// allow for the interval's jitter and a probe round in flight.
const LIMIT = 4000;

t.test('the answer follows health', async (t) => {
  const [a, b, c] = backends;
  await until(t, [a.address, b.address], 2000, 'all up: the primary pool, both origins');
  await stop(a);
  await until(t, [b.address], LIMIT, 'one primary origin down: only the healthy one');
  await stop(b);
  await until(t, [c.address], LIMIT, 'the primary pool critical: the secondary pool');
  await listen(a);
  await listen(b);
  await until(t, [a.address, b.address], LIMIT, 'the primary recovers: back to it');
  await stop(a);
  await stop(b);
  await stop(c);
  await until(t, ['192.0.2.99'], LIMIT, 'everything down: the fallback pool');
});
