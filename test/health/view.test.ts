/**
 * The immutable health view (answers by names, copy-on-write, old views unchanged), pool
 * entries and their RTT, and the pool and load balancer health states, checked against what
 * steering does with the same view.
 */
import t from 'tap';
import { entryChanged, loadBalancerState, poolEntry, poolsOf, poolState, SnapshotHealthView, type PoolHealthEntry, type PoolState } from '../../src/health/view.js';
import { steer } from '../../src/lb/steer.js';
import type { HealthView, Pool } from '../../src/lb/model.js';
import { ALL_HEALTHY } from '../../src/lb/model.js';
import { client, health, lb, origin, pool } from '../helpers/lb.js';

function entry(origins: Record<string, boolean | undefined>, rttMs?: number): PoolHealthEntry {
  const m = new Map(Object.entries(origins));
  return rttMs === undefined ? { origins: m } : { origins: m, rttMs };
}

t.test('SnapshotHealthView answers by pool and origin names', async (t) => {
  const p = pool('p', { origins: [origin('a', '192.0.2.1'), origin('b', '192.0.2.2'), origin('c', '192.0.2.3')] });
  const v = new SnapshotHealthView(new Map([['p', entry({ a: true, b: false, c: undefined }, 12.5)]]));
  t.equal(v.origin(p, p.origins[0]), true);
  t.equal(v.origin(p, p.origins[1]), false);
  t.equal(v.origin(p, p.origins[2]), undefined, 'unknown');
  t.equal(v.poolRtt(p), 12.5);
  // A reload makes new objects with the same names.
  const reloaded = pool('p', { origins: [origin('a', '192.0.2.1')] });
  t.equal(v.origin(reloaded, reloaded.origins[0]), true, 'new objects, same names');
  const other = pool('q');
  t.equal(v.origin(other, other.origins[0]), undefined, 'an unknown pool: undefined');
  t.equal(v.poolRtt(other), undefined);
  t.equal(SnapshotHealthView.EMPTY.origin(p, p.origins[0]), undefined, 'the empty view knows nothing');
  t.ok(Object.isFrozen(v));
});

t.test('withPools makes a new view and leaves the old one as it was', async (t) => {
  const p = pool('p', { origins: [origin('a', '192.0.2.1')] });
  const q = pool('q', { origins: [origin('a', '192.0.2.9')] });
  const v1 = new SnapshotHealthView(new Map([['p', entry({ a: true }, 10)], ['q', entry({ a: true })]]));
  const v2 = v1.withPools(new Map([['p', entry({ a: false })]]));
  const v3 = v2.withPools(new Map([['q', undefined]]));
  t.not(v1, v2);
  t.equal(v1.origin(p, p.origins[0]), true, 'old view keeps its answer');
  t.equal(v1.poolRtt(p), 10);
  t.equal(v2.origin(p, p.origins[0]), false);
  t.equal(v2.poolRtt(p), undefined);
  t.equal(v2.entry('q'), v1.entry('q'), 'untouched entries are shared');
  t.equal(v3.origin(q, q.origins[0]), undefined, 'removed');
  t.equal(v2.origin(q, q.origins[0]), true);
  t.same([...v3.poolNames()], ['p']);
});

t.test('poolEntry: enabled monitored origins; RTT = mean of healthy origins with weight > 0', async (t) => {
  const p = pool('p', {
    origins: [
      origin('a', '192.0.2.1'),
      origin('b', '192.0.2.2'),
      origin('c', '192.0.2.3', { weight: 0 }),
      origin('d', '192.0.2.4', { enabled: false }),
      origin('e', '192.0.2.5'),
      origin('f', '192.0.2.6'),
    ],
  });
  const h: Record<string, { healthy: boolean | undefined; rttMs?: number } | undefined> = {
    a: { healthy: true, rttMs: 10 },
    b: { healthy: true, rttMs: 20.33 },
    c: { healthy: true, rttMs: 1000 },
    d: { healthy: true, rttMs: 1000 },
    e: { healthy: false, rttMs: 1000 },
    f: undefined,
  };
  const e = poolEntry(p, (o) => h[o.name]);
  t.same([...e.origins], [['a', true], ['b', true], ['c', true], ['e', false]], 'disabled and unmonitored origins have no entry');
  t.equal(e.rttMs, 15.2, 'mean of a and b, rounded to 0.1 ms');
  t.equal(poolEntry(p, (o) => (o.name === 'e' ? { healthy: false, rttMs: 5 } : { healthy: undefined })).rttMs, undefined, 'no healthy origin: no RTT');
  t.equal(poolEntry(p, () => ({ healthy: true })).rttMs, undefined, 'healthy without RTT data');
});

t.test('entryChanged', async (t) => {
  const rows: [string, PoolHealthEntry | undefined, PoolHealthEntry, boolean][] = [
    ['no previous entry', undefined, entry({}), true],
    ['same', entry({ a: true, b: false }, 10), entry({ a: true, b: false }, 10), false],
    ['health changed', entry({ a: true }), entry({ a: false }), true],
    ['unknown -> healthy', entry({ a: undefined }), entry({ a: true }), true],
    ['origin added', entry({ a: true }), entry({ a: true, b: undefined }), true],
    ['origin renamed', entry({ a: true }), entry({ b: true }), true],
    ['first RTT', entry({ a: true }), entry({ a: true }, 10), true],
    ['RTT gone', entry({ a: true }, 10), entry({ a: true }), true],
    ['RTT +10 % exactly', entry({ a: true }, 100), entry({ a: true }, 110), false],
    ['RTT +10.1 %', entry({ a: true }, 100), entry({ a: true }, 110.1), true],
    ['RTT -9 %', entry({ a: true }, 100), entry({ a: true }, 91), false],
    ['RTT -20 %', entry({ a: true }, 100), entry({ a: true }, 80), true],
  ];
  for (const [name, a, b, want] of rows) t.equal(entryChanged(a, b, 0.1), want, name);
});

const three = (name: string, over: Partial<Pool> = {}): Pool =>
  pool(name, { origins: [origin(`${name}1`, '192.0.2.11'), origin(`${name}2`, '192.0.2.12'), origin(`${name}3`, '192.0.2.13')], ...over });

interface PoolRow {
  readonly name: string;
  readonly pool: Pool;
  readonly view: HealthView;
  readonly state: PoolState;
  readonly counts?: { healthy?: number; unhealthy?: number; unknown?: number; usableOrigins?: number; enabledOrigins?: number };
}

function poolRows(): PoolRow[] {
  const p = three('p');
  const min2 = three('p', { minimum_origins: 2 });
  const min0 = three('p', { minimum_origins: 0 });
  const weight0 = pool('p', { origins: [origin('p1', '192.0.2.11'), origin('p2', '192.0.2.12', { weight: 0 })] });
  const disabledOrigin = pool('p', { origins: [origin('p1', '192.0.2.11'), origin('p2', '192.0.2.12', { enabled: false })] });
  const none = pool('p', { origins: [origin('p1', '192.0.2.11', { enabled: false })] });
  return [
    { name: 'all healthy', pool: p, view: health(), state: 'healthy', counts: { healthy: 3, unhealthy: 0, unknown: 0, usableOrigins: 3 } },
    { name: 'one down, minimum 1', pool: p, view: health({ down: ['p/p1'] }), state: 'degraded', counts: { healthy: 2, unhealthy: 1 } },
    { name: 'one unknown, others healthy', pool: p, view: health({ unknown: ['p/p1'] }), state: 'degraded', counts: { healthy: 2, unknown: 1 } },
    { name: 'two down, minimum 2', pool: min2, view: health({ down: ['p/p1', 'p/p2'] }), state: 'critical', counts: { healthy: 1, usableOrigins: 1 } },
    { name: 'one down, minimum 2', pool: min2, view: health({ down: ['p/p3'] }), state: 'degraded' },
    { name: 'all down', pool: p, view: health({ down: ['p/p1', 'p/p2', 'p/p3'] }), state: 'critical' },
    { name: 'all down, minimum 0: nothing to answer with', pool: min0, view: health({ down: ['p/p1', 'p/p2', 'p/p3'] }), state: 'critical' },
    { name: 'no result yet for any origin', pool: p, view: SnapshotHealthView.EMPTY, state: 'unknown', counts: { unknown: 3, usableOrigins: 0 } },
    { name: 'some down, the rest unknown', pool: p, view: health({ down: ['p/p1'], unknown: ['p/p2', 'p/p3'] }), state: 'critical' },
    { name: 'no monitor: unmonitored, every origin counts (health ignored)', pool: three('p', { monitor: undefined }), view: health({ down: ['p/p1'] }), state: 'unmonitored', counts: { healthy: 3, usableOrigins: 3 } },
    { name: 'disabled pool', pool: three('p', { enabled: false }), view: health(), state: 'disabled' },
    { name: 'healthy weight-0 origin counts for the state, not for steering', pool: weight0, view: health(), state: 'healthy', counts: { healthy: 2, usableOrigins: 1 } },
    { name: 'only the weight-0 origin healthy', pool: weight0, view: health({ down: ['p/p1'] }), state: 'critical' },
    { name: 'disabled origins do not count', pool: disabledOrigin, view: health(), state: 'healthy', counts: { enabledOrigins: 1, healthy: 1 } },
    { name: 'no enabled origin', pool: none, view: health(), state: 'critical', counts: { enabledOrigins: 0 } },
  ];
}

t.test('poolState', async (t) => {
  for (const r of poolRows()) {
    const s = poolState(r.pool, r.view);
    t.equal(s.state, r.state, r.name);
    if (r.counts) t.match(s, r.counts, `${r.name}: counts`);
  }
});

t.test('poolState.usable is exactly what steering does with the pool', async (t) => {
  const fb = pool('fallback', { monitored: false });
  for (const r of poolRows()) {
    const d = steer(lb({ default_pools: [r.pool], fallback_pool: fb }), r.view, client(), () => 0);
    t.equal(poolState(r.pool, r.view).usable, d.pool?.name === r.pool.name && !d.fallback, r.name);
  }
});

t.test('poolState reports the pool RTT from the view', async (t) => {
  const p = three('p');
  t.equal(poolState(p, health({ rtt: { p: 42 } })).rttMs, 42);
  t.notOk('rttMs' in poolState(p, health()));
});

t.test('loadBalancerState', async (t) => {
  const a = three('a');
  const b = three('b');
  const c = three('c');
  const unmon = three('u', { monitor: undefined });
  const off = three('x', { enabled: false });
  const two = lb({ default_pools: [a, b] });
  const rows: [string, ReturnType<typeof lb>, HealthView, string, boolean][] = [
    ['all pools healthy', two, health(), 'healthy', false],
    ['one pool degraded', two, health({ down: ['a/a1'] }), 'degraded', false],
    ['first pool critical, second answers', two, health({ down: ['a/a1', 'a/a2', 'a/a3'] }), 'degraded', false],
    ['every default pool critical: the fallback answers', two, health({ down: ['a/a1', 'a/a2', 'a/a3', 'b/b1', 'b/b2', 'b/b3'] }), 'critical', true],
    ['nothing known yet', two, SnapshotHealthView.EMPTY, 'unknown', true],
    ['one pool known healthy, the other unknown', two, health({ unknown: ['b/b1', 'b/b2', 'b/b3'] }), 'degraded', false],
    ['one pool known critical, the other unknown: fallback', two, health({ down: ['a/a1', 'a/a2', 'a/a3'], unknown: ['b/b1', 'b/b2', 'b/b3'] }), 'critical', true],
    ['unmonitored pools only: unmonitored', lb({ default_pools: [unmon] }), ALL_HEALTHY, 'unmonitored', false],
    ['healthy plus an unmonitored usable pool', lb({ default_pools: [a, unmon] }), health(), 'healthy', false],
    ['a disabled pool is not ill health', lb({ default_pools: [off, a] }), health(), 'healthy', false],
    ['only disabled pools: the fallback answers', lb({ default_pools: [off], fallback_pool: a }), health(), 'critical', true],
    ['a degraded region pool makes the LB degraded', lb({ default_pools: [a], region_pools: { WEU: [c] } }), health({ down: ['c/c1'] }), 'degraded', false],
    ['a critical region pool, healthy defaults: degraded, not critical', lb({ default_pools: [a], region_pools: { WEU: [c] } }), health({ down: ['c/c1', 'c/c2', 'c/c3'] }), 'degraded', false],
    ['the fallback pool\'s own health is not counted', lb({ default_pools: [a], fallback_pool: c }), health({ down: ['c/c1', 'c/c2', 'c/c3'] }), 'healthy', false],
  ];
  for (const [name, l, v, want, fallback] of rows) {
    const s = loadBalancerState(l, v);
    t.equal(s.state, want, name);
    t.equal(s.fallback, fallback, `${name}: fallback`);
    // Same as steering: the fallback step runs exactly when no default pool is usable (for
    // clients steered by the default list: not geo ones).
    if (l.steering_policy !== 'geo') t.equal(steer(l, v, client(), () => 0).fallback, fallback, `${name}: steering agrees`);
  }
});

t.test('loadBalancerState counts pools by state', async (t) => {
  const a = three('a');
  const b = three('b');
  const s = loadBalancerState(lb({ default_pools: [a, b, a], region_pools: { WEU: [b] }, fallback_pool: b }), health({ down: ['b/b1'] }));
  t.equal(s.pools, 2, 'each pool once');
  t.same(s.states, { healthy: 1, degraded: 1, critical: 0, unknown: 0, unmonitored: 0, disabled: 0 });
  t.equal(s.fallbackPool, 'b');
  t.equal(s.usableDefaultPools, 3, 'per entry of default_pools');
  const geo = lb({ default_pools: [a], region_pools: { WEU: [b], ENAM: [] }, country_pools: { DE: [b, a] } });
  const down = health({ down: ['b/b1', 'b/b2', 'b/b3'] });
  t.same(loadBalancerState(geo, down).fallbackLists, ['region_pools[WEU]'], 'geo lists with no usable pool');
  t.equal(steer(geo, down, client({ pop: { region: 'WEU' } }), () => 0).fallback, true, 'steering sends WEU clients to the fallback');
  t.same(loadBalancerState(lb({ default_pools: [b] }), down).fallbackLists, ['default_pools']);
  t.same(poolsOf(lb({ default_pools: [a], pop_pools: { FRA: [b] } })).map((p) => p.name), ['a', 'b']);
});

t.test('loadBalancerState names the pools answering now, as steering picks them', async (t) => {
  const a = three('a');
  const b = three('b');
  const c = three('c');
  const down = (...pools: string[]) => health({ down: pools.flatMap((p) => [`${p}/${p}1`, `${p}/${p}2`, `${p}/${p}3`]) });
  const rows: [string, ReturnType<typeof lb>, HealthView, string[]][] = [
    ['failover: the first usable default pool', lb({ default_pools: [a, b], fallback_pool: c }), health(), ['a']],
    ['failover: the next one when the first is critical', lb({ default_pools: [a, b], fallback_pool: c }), down('a'), ['b']],
    ['failover: the fallback when none is usable', lb({ default_pools: [a, b], fallback_pool: c }), down('a', 'b'), ['c']],
    ['random: every usable default pool', lb({ default_pools: [a, b, c], policy: 'random' }), down('b'), ['a', 'c']],
  ];
  for (const [name, l, v, want] of rows) {
    const s = loadBalancerState(l, v);
    t.same(s.answering, want, name);
    if (l.steering_policy === 'off') t.same([steer(l, v, client(), () => 0).pool?.name], want, `${name}: steering agrees`);
  }
});
