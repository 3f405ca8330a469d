/**
 * End to end, the HTTP API on loopback: liveness, readiness, status with live health, explain
 * as JSON, the token-protected reload, and clear JSON errors.
 */
import t from 'tap';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startApp, type App } from '../../src/app/app.js';
import { startApi, type RunningApi } from '../../src/api/http.js';
import { dataOf, query } from '../helpers/client.js';

const dir = mkdtempSync(join(tmpdir(), 'steerdns-api-'));
let app: App;
let api: RunningApi;
let noToken: RunningApi;
let backend: http.Server;

const zone = (www: string) => `$TTL 300\n@ SOA ns1 host 7 7200 900 1209600 60\n@ NS ns1\nns1 A 192.0.2.53\nwww A ${www}\n`;

async function call(path: string, init: RequestInit = {}, port = api.port) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, init);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

t.before(async () => {
  backend = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => backend.listen(0, '127.0.0.41', () => r()));
  const port = (backend.address() as { port: number }).port;
  writeFileSync(join(dir, 'example.com.zone'), zone('192.0.2.1'));
  writeFileSync(join(dir, 'example.com.lb.yaml'), `
monitors:
  - { name: up, type: http, interval: 60, timeout: 1, retries: 0 }
pools:
  - { name: main, monitor: up, origins: [{ name: a, address: 127.0.0.41, port: ${port} }, { name: b, address: 127.0.0.42, port: ${port} }] }
  - { name: spare, origins: [{ name: z, address: 192.0.2.99 }] }
load_balancers:
  - { name: app, default_pools: [main], fallback_pool: spare }
`);
  app = await startApp({ zonesDir: dir, listen: [{ host: '127.0.0.1', port: 0 }], log: pino({ level: 'silent' }), watchDebounceMs: 0 });
  api = await startApi({ host: '127.0.0.1', port: 0, token: 's3cret', app, log: pino({ level: 'silent' }) });
  noToken = await startApi({ host: '127.0.0.1', port: 0, app, log: pino({ level: 'silent' }) });
});

t.teardown(async () => {
  await api.close();
  await noToken.close();
  await app.close();
  await new Promise((r) => backend.close(r));
  rmSync(dir, { recursive: true, force: true });
});

t.test('healthz and readyz', async (t) => {
  t.same(await call('/healthz'), { status: 200, body: { status: 'ok' } });
  await app.health.whenFirstRoundDone();
  const ready = await call('/readyz');
  t.equal(ready.status, 200);
  t.equal(ready.body.ready, true);
  t.equal(ready.body.zones, 1);
});

t.test('status shows every pool and origin with its health and failure reason', async (t) => {
  const { status, body } = await call('/v1/status');
  t.equal(status, 200);
  t.same(body.zones, [{ name: 'example.com.', serial: 7, records: 4 }]);
  const pools = body.pools as { name: string; state: string; origins: { name: string; state: string; reason?: string; rttMs?: number }[] }[];
  const main = pools.find((p) => p.name === 'main');
  t.equal(main?.state, 'degraded', 'one of two origins is down');
  const a = main?.origins.find((o) => o.name === 'a');
  const b = main?.origins.find((o) => o.name === 'b');
  t.equal(a?.state, 'healthy');
  t.type(a?.rttMs, 'number');
  t.equal(b?.state, 'unhealthy');
  t.equal(b?.reason, 'TCP connection failed', "Cloudflare's vocabulary");
  const lbs = body.loadBalancers as { name: string; state: string }[];
  t.equal(lbs[0]?.state, 'degraded');
});

t.test('explain as JSON, with live health', async (t) => {
  const { status, body } = await call('/v1/explain?name=app.example.com&type=A&client=192.0.2.7');
  t.equal(status, 200);
  t.equal(body.rcode, 'NOERROR');
  t.same(body.answer, ['app.example.com. 30 IN A 127.0.0.41'], 'the unhealthy origin is left out');
  const d = body.decision as { pool: string; candidates: { pool: string; usable: boolean }[] };
  t.equal(d.pool, 'main');
  t.same(d.candidates.map((c) => c.pool), ['main']);
  t.equal((await call('/v1/explain')).status, 400, 'name is required');
  const bad = await call('/v1/explain?name=app.example.com&ecs=nonsense');
  t.equal(bad.status, 400);
  t.match(bad.body.error, /ecs "nonsense"/);
});

t.test('reload needs the bearer token', async (t) => {
  writeFileSync(join(dir, 'example.com.zone'), zone('192.0.2.2'));
  t.equal((await call('/v1/reload', { method: 'POST' })).status, 401, 'no token');
  t.equal((await call('/v1/reload', { method: 'POST', headers: { authorization: 'Bearer wrong!' } })).status, 401, 'wrong token');
  const refused = await call('/v1/reload', { method: 'POST', headers: { authorization: 'Bearer s3cret' } }, noToken.port);
  t.equal(refused.status, 403, 'no token configured: admin calls refused');
  const r = await query(app.server.addresses[0].port, 'udp', 'www.example.com', 'A');
  t.same(r.answers?.map(dataOf), ['192.0.2.1'], 'nothing reloaded yet');

  const ok = await call('/v1/reload', { method: 'POST', headers: { authorization: 'Bearer s3cret' } });
  t.equal(ok.status, 200);
  t.equal(ok.body.ok, true);
  const after = await query(app.server.addresses[0].port, 'udp', 'www.example.com', 'A');
  t.same(after.answers?.map(dataOf), ['192.0.2.2']);

  writeFileSync(join(dir, 'example.com.zone'), zone('192.0.2.300'));
  const broken = await call('/v1/reload', { method: 'POST', headers: { authorization: 'Bearer s3cret' } });
  t.equal(broken.status, 422, 'a refused reload');
  t.match(JSON.stringify(broken.body.problems), /192\.0\.2\.300/, 'with the problems');
});

t.test('errors are JSON with the right status', async (t) => {
  t.same(await call('/nope'), { status: 404, body: { error: 'no such endpoint: /nope' } });
  const wrong = await call('/v1/status', { method: 'POST' });
  t.equal(wrong.status, 405);
  t.match(wrong.body.error, /takes GET/);
});

t.test('metrics in the Prometheus text format', async (t) => {
  const port = app.server.addresses[0].port;
  await query(port, 'udp', 'app.example.com', 'A');
  await query(port, 'tcp', 'nope.example.com', 'A');
  const before = await (await fetch(`http://127.0.0.1:${api.port}/metrics`)).text();
  const count = (text: string, line: RegExp) => Number(text.split('\n').find((l) => line.test(l))?.split(' ').pop());
  await query(port, 'udp', 'nope.example.com', 'TXT');
  await query(port, 'udp', 'nope.example.com', 'TXT'); // the same question again: from the answer cache
  const res = await fetch(`http://127.0.0.1:${api.port}/metrics`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /text\/plain/);
  const text = await res.text();
  const value = (line: RegExp) => Number(text.split('\n').find((l) => line.test(l))?.split(' ').pop());
  t.ok(value(/^steerdns_queries_total\{transport="udp",qtype="A",rcode="NOERROR"\}/) >= 1, 'UDP NOERROR counted');
  t.ok(value(/^steerdns_queries_total\{transport="tcp",qtype="A",rcode="NXDOMAIN"\}/) >= 1, 'TCP NXDOMAIN counted');
  t.ok(value(/^steerdns_steering_decisions_total\{load_balancer="app\.example\.com\.",pool="main"\}/) >= 1, 'decision counted');
  t.equal(value(/^steerdns_origin_healthy\{pool="main",origin="a"\}/), 1);
  t.equal(value(/^steerdns_origin_healthy\{pool="main",origin="b"\}/), 0);
  t.equal(value(/^steerdns_pool_state\{pool="main",state="degraded"\}/), 1);
  t.ok(value(/^steerdns_reloads_total\{result="ok"\}/) >= 1, 'the reload above was counted');
  t.ok(value(/^steerdns_answer_seconds_count\{transport="udp"\}/) >= 1, 'latency observed');
  t.ok(value(/^steerdns_probes_total\{monitor="up",result="ok"\}/) >= 1, 'passing probe rounds counted');
  t.ok(value(/^steerdns_probes_total\{monitor="up",result="TCP connection failed"\}/) >= 1, 'failures counted by reason');
  t.ok(value(/^steerdns_probe_rtt_seconds_count\{monitor="up"\}/) >= 1, 'probe RTT observed');
  t.match(text, /steerdns_geo_cache_hit_ratio/);
  t.match(text, /steerdns_persistence_pins 0/);
  const hits = /^steerdns_answer_cache_hits_total /;
  const misses = /^steerdns_answer_cache_misses_total /;
  t.ok(value(hits) >= count(before, hits) + 1, 'the repeated question was answered from the answer cache');
  t.ok(value(misses) >= count(before, misses) + 1, 'the first one was not');
  t.ok(value(/^steerdns_answer_cache_entries /) >= 1, 'and is kept');
  const txt = /^steerdns_queries_total\{transport="udp",qtype="TXT",rcode="NXDOMAIN"\}/;
  t.equal(value(txt) - (count(before, txt) || 0), 2, 'cached answers are counted like the others');
});

t.test('admin overrides: disable a pool or an origin, kept across reloads until cleared', async (t) => {
  const port = app.server.addresses[0].port;
  const post = (path: string, token = 's3cret') => call(path, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  const answer = async () => (await query(port, 'udp', 'app.example.com', 'A')).answers?.map(dataOf);
  /** A re-enabled pool or origin is probed again at once (disabled ones are not probed). */
  const eventually = async (want: unknown[]) => {
    const t0 = Date.now();
    let got = await answer();
    while (JSON.stringify(got) !== JSON.stringify(want) && Date.now() - t0 < 5000) {
      await new Promise((r) => setTimeout(r, 100));
      got = await answer();
    }
    return got;
  };
  t.same(await answer(), ['127.0.0.41']);
  t.equal((await post('/v1/pools/main/disable', 'wrong!')).status, 401, 'admin only');

  const off = await post('/v1/pools/main/disable');
  t.equal(off.status, 200);
  t.same(await answer(), ['192.0.2.99'], 'main disabled: the fallback pool answers');
  const status = await call('/v1/status');
  t.same(status.body.overrides, [{ pool: 'main', enabled: false }], 'shown in status');

  writeFileSync(join(dir, 'example.com.zone'), zone('192.0.2.3'));
  t.equal((await post('/v1/reload')).status, 200);
  t.same(await answer(), ['192.0.2.99'], 'the override survives a reload');

  t.equal((await post('/v1/pools/main/clear')).status, 200);
  t.same(await eventually(['127.0.0.41']), ['127.0.0.41'], 'cleared: back to the configuration once probed again');

  t.equal((await post('/v1/pools/main/origins/a/disable')).status, 200);
  t.same(await answer(), ['192.0.2.99'], 'its only healthy origin disabled: the pool is critical, the fallback answers');
  t.equal((await post('/v1/pools/main/origins/a/clear')).status, 200);
  t.same(await eventually(['127.0.0.41']), ['127.0.0.41']);

  const missing = await post('/v1/pools/nope/disable');
  t.equal(missing.status, 404);
  t.match(missing.body.error, /no pool named "nope"/);
  t.equal((await post('/v1/pools/main/origins/nope/enable')).status, 404);
});

t.test('status says which server, changes list the latest state changes, history the traffic', async (t) => {
  await app.health.whenFirstRoundDone();
  const { body } = await call('/v1/status');
  const server = body.server as { id?: string; version: string; uptimeSeconds: number; startedAt: string };
  t.match(server.version, /^\d+\.\d+\.\d+/);
  t.type(server.uptimeSeconds, 'number');
  const lbs = body.loadBalancers as { name: string; policy: string; ttl: number }[];
  t.match(lbs[0], { name: 'app.example.com.', policy: 'off', ttl: 30 });
  const pools = body.pools as { name: string; minimumOrigins: number; monitor?: string }[];
  t.match(pools.find((p) => p.name === 'main'), { minimumOrigins: 1, monitor: 'up' });
  const changes = (await call('/v1/changes')).body.changes as { kind: string; name: string; old?: string; new: string; reason?: string; at: string }[];
  const b = changes.find((c) => c.kind === 'origin' && c.name === 'b');
  t.match(b, { old: 'unknown', new: 'unhealthy', reason: 'TCP connection failed' }, 'the origin that went down');
  t.ok(changes.some((c) => c.kind === 'load_balancer' && c.name === 'app.example.com.'), 'the load balancer');
  t.ok(Date.parse(changes[0].at) >= Date.parse(changes[changes.length - 1].at), 'newest first');
  const history = (await call('/v1/history')).body;
  t.equal(history.intervalSeconds, 5);
  t.ok(Array.isArray(history.times) && Array.isArray(history.loadBalancers) && Array.isArray(history.pools));
});
