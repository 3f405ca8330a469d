/**
 * The steering core, table-driven: every policy, every fallback path, location strategy,
 * geo list precedence, load shedding, proximity, dynamic latency, origin selection, and the
 * weights checked statistically with a seeded random source.
 */
import t from 'tap';
import { steer, poolHealth, type Decision, type LocationSource, type PoolListName } from '../../src/lb/steer.js';
import { hashPercentile } from '../../src/lb/hash.js';
import { mulberry32 } from '../../src/lb/random.js';
import { ALL_HEALTHY, type ClientInfo, type HealthView, type LoadBalancer, type PreferEcs, type LocationMode, type SteeringPolicy, type OriginSteeringPolicy, type Pool } from '../../src/lb/model.js';
import { client, FRA, health, IAD, lb, NRT, origin, pool, poolsDown, SYD, tally } from '../helpers/lb.js';

/** Draws that must not happen. */
function noRandom(): number {
  throw new Error('unexpected random draw');
}

interface Summary {
  pool?: string;
  origins: string[];
  fallback: boolean;
  locationSource: LocationSource;
  poolList: PoolListName;
  clientDependent: boolean;
}

function summary(d: Decision): Summary {
  return {
    pool: d.pool?.name,
    origins: d.origins.map((o) => o.name),
    fallback: d.fallback,
    locationSource: d.locationSource,
    poolList: d.poolList,
    clientDependent: d.clientDependent,
  };
}

interface Row {
  readonly name: string;
  readonly lb: LoadBalancer;
  readonly health?: HealthView;
  readonly client?: ClientInfo;
  readonly random?: () => number;
  /** Matched with t.match: a subset of the summary; arrays may hold patterns. */
  readonly want: { readonly [K in keyof Summary]?: unknown };
}

/** tap's Test type (assembled from plugins): the argument of a subtest callback. */
type Test = Parameters<Parameters<typeof t.test>[0]>[0];

function runTable(t: Test, rows: readonly Row[]): void {
  for (const row of rows) {
    const d = steer(row.lb, row.health ?? ALL_HEALTHY, row.client ?? client(), row.random ?? mulberry32(1));
    t.match(summary(d), row.want, row.name);
    // A trace never changes the decision.
    const traced = steer(row.lb, row.health ?? ALL_HEALTHY, row.client ?? client(), row.random ?? mulberry32(1), true);
    t.same(summary(traced), summary(d), `${row.name} (traced)`);
  }
}

// Pools at their real places; eu-west is nearest FRA, us-east nearest IAD, ap-ne nearest NRT.
const eu = pool('eu-west', { latitude: 50.1, longitude: 8.7 });
const us = pool('us-east', { latitude: 39.0, longitude: -77.5 });
const ap = pool('ap-ne', { latitude: 35.7, longitude: 139.7 });
const fb = pool('fallback', { latitude: -33.9, longitude: 151.2 });
const pools3 = [eu, us, ap];

t.test('off: first usable pool in list order, and what makes a pool unusable', async (t) => {
  const base = lb({ policy: 'off', default_pools: pools3, fallback_pool: fb });
  const withPools = (...p: Parameters<typeof pool>[]): LoadBalancer => lb({ policy: 'off', default_pools: [...p.map((a) => pool(...a)), us], fallback_pool: fb });
  runTable(t, [
    {
      name: 'all healthy: the first pool, all its origins',
      lb: base,
      random: noRandom,
      want: { pool: 'eu-west', origins: ['eu-west-a', 'eu-west-b'], fallback: false, locationSource: 'none', poolList: 'default_pools', clientDependent: false },
    },
    { name: 'first pool all down: the next', lb: base, health: health({ down: poolsDown(eu) }), want: { pool: 'us-east', fallback: false } },
    { name: 'one origin down: still the first pool, without it', lb: base, health: health({ down: ['eu-west/eu-west-a'] }), want: { pool: 'eu-west', origins: ['eu-west-b'] } },
    { name: 'unknown health counts as down', lb: base, health: health({ unknown: poolsDown(eu) }), want: { pool: 'us-east' } },
    { name: 'unknown origin is left out of the answer', lb: base, health: health({ unknown: ['eu-west/eu-west-b'] }), want: { pool: 'eu-west', origins: ['eu-west-a'] } },
    { name: 'disabled pool skipped', lb: withPools(['p', { enabled: false }]), want: { pool: 'us-east' } },
    {
      name: 'minimum_origins 2 with one origin down: critical',
      lb: withPools(['p', { minimum_origins: 2 }]),
      health: health({ down: ['p/p-a'] }),
      want: { pool: 'us-east' },
    },
    {
      name: 'minimum_origins 2, both up: kept',
      lb: withPools(['p', { minimum_origins: 2 }]),
      want: { pool: 'p', origins: ['p-a', 'p-b'] },
    },
    {
      name: 'pool without monitor ignores health',
      lb: withPools(['p', { monitored: false }]),
      health: health({ down: ['p/p-a', 'p/p-b'] }),
      want: { pool: 'p', origins: ['p-a', 'p-b'] },
    },
    {
      name: 'pool without monitor ignores unknown health',
      lb: withPools(['p', { monitored: false }]),
      health: health({ unknown: ['p/p-a', 'p/p-b'] }),
      want: { pool: 'p', origins: ['p-a', 'p-b'] },
    },
    {
      name: 'pool without monitor still needs enabled origins',
      lb: withPools(['p', { monitored: false, origins: [origin('x', '192.0.2.1', { enabled: false })] }]),
      want: { pool: 'us-east' },
    },
    {
      name: 'disabled origins do not count and are not answered',
      lb: withPools(['p', { minimum_origins: 2, origins: [origin('x', '192.0.2.1'), origin('y', '192.0.2.2', { enabled: false }), origin('z', '192.0.2.3')] }]),
      want: { pool: 'p', origins: ['x', 'z'] },
    },
    {
      name: 'disabled origin makes the pool critical',
      lb: withPools(['p', { minimum_origins: 2, origins: [origin('x', '192.0.2.1'), origin('y', '192.0.2.2', { enabled: false })] }]),
      want: { pool: 'us-east' },
    },
    {
      name: 'weight 0 origins do not count and are not answered',
      lb: withPools(['p', { origins: [origin('x', '192.0.2.1', { weight: 0 }), origin('y', '192.0.2.2')] }]),
      want: { pool: 'p', origins: ['y'] },
    },
    {
      name: 'only weight 0 origins: critical',
      lb: withPools(['p', { origins: [origin('x', '192.0.2.1', { weight: 0 }), origin('y', '192.0.2.2', { weight: 0 })] }]),
      want: { pool: 'us-east' },
    },
    {
      name: 'minimum_origins 0 and nothing up: dropped (it could only answer NODATA)',
      lb: withPools(['p', { minimum_origins: 0 }]),
      health: health({ down: ['p/p-a', 'p/p-b'] }),
      want: { pool: 'us-east' },
    },
  ]);
});

t.test('fallback paths', async (t) => {
  const allDown = health({ down: poolsDown(eu, us, ap, fb) });
  runTable(t, [
    {
      name: 'all pools critical: the fallback pool, health ignored',
      lb: lb({ policy: 'off', default_pools: pools3, fallback_pool: fb }),
      health: allDown,
      want: { pool: 'fallback', origins: ['fallback-a', 'fallback-b'], fallback: true, clientDependent: false },
    },
    {
      name: 'all pools disabled: the fallback pool',
      lb: lb({ policy: 'random', default_pools: [pool('x', { enabled: false }), pool('y', { enabled: false })], fallback_pool: fb }),
      random: noRandom,
      want: { pool: 'fallback', fallback: true },
    },
    {
      name: 'the fallback pool is also a (critical) candidate: it answers as fallback',
      lb: lb({ policy: 'off', default_pools: [eu, us], fallback_pool: us }),
      health: allDown,
      want: { pool: 'us-east', origins: ['us-east-a', 'us-east-b'], fallback: true },
    },
    {
      name: 'fallback pool disabled too: no pool, no origins (NODATA)',
      lb: lb({ policy: 'off', default_pools: pools3, fallback_pool: pool('fb-off', { enabled: false }) }),
      health: allDown,
      want: { pool: undefined, origins: [], fallback: true },
    },
    {
      name: 'fallback pool disabled but a candidate is up: the candidate',
      lb: lb({ policy: 'off', default_pools: pools3, fallback_pool: pool('fb-off', { enabled: false }) }),
      health: health({ down: poolsDown(eu) }),
      want: { pool: 'us-east', fallback: false },
    },
    {
      name: 'fallback: disabled and weight 0 origins left out',
      lb: lb({
        policy: 'off',
        default_pools: [eu],
        fallback_pool: pool('fb2', { origins: [origin('off', '192.0.2.1', { enabled: false }), origin('w0', '192.0.2.2', { weight: 0 }), origin('ok', '192.0.2.3')] }),
      }),
      health: allDown,
      want: { pool: 'fb2', origins: ['ok'], fallback: true },
    },
    {
      name: 'fallback: every enabled origin has weight 0: all enabled ones',
      lb: lb({
        policy: 'off',
        default_pools: [eu],
        fallback_pool: pool('fb3', { origins: [origin('w0', '192.0.2.1', { weight: 0 }), origin('off', '192.0.2.2', { enabled: false, weight: 0 }), origin('w0b', '192.0.2.3', { weight: 0 })] }),
      }),
      health: allDown,
      want: { pool: 'fb3', origins: ['w0', 'w0b'], fallback: true },
    },
    {
      name: 'fallback: no enabled origin: the pool, no origins (NODATA)',
      lb: lb({ policy: 'off', default_pools: [eu], fallback_pool: pool('fb4', { origins: [origin('off', '192.0.2.1', { enabled: false })] }) }),
      health: allDown,
      want: { pool: 'fb4', origins: [], fallback: true },
    },
    {
      name: 'geo: every pool of the matched list down goes to the fallback, not to default_pools',
      lb: lb({ policy: 'geo', default_pools: [us], country_pools: { DE: [eu] }, fallback_pool: fb }),
      health: health({ down: poolsDown(eu) }),
      want: { pool: 'fallback', fallback: true, poolList: 'country_pools' },
    },
    {
      name: 'fallback pool is never shed',
      lb: lb({ policy: 'off', default_pools: [eu], fallback_pool: pool('fb5', { shed: { percent: 100, policy: 'random' } }) }),
      health: allDown,
      want: { pool: 'fb5', fallback: true },
    },
    {
      name: 'every policy falls back the same way',
      lb: lb({ policy: 'dynamic_latency', default_pools: pools3, fallback_pool: fb }),
      health: allDown,
      want: { pool: 'fallback', fallback: true },
    },
  ]);
  for (const policy of ['off', 'geo', 'random', 'dynamic_latency', 'proximity', 'least_outstanding_requests', 'least_connections'] as const) {
    const d = steer(lb({ policy, default_pools: pools3, fallback_pool: fb }), allDown, client(), mulberry32(3));
    t.equal(d.pool?.name, 'fallback', `${policy}: all critical -> fallback`);
  }
});

t.test('geo: pop_pools > country_pools > region_pools > default_pools', async (t) => {
  const maps = { pop_pools: { FRA: [ap] }, country_pools: { DE: [us] }, region_pools: { WEU: [fb] } };
  const geo = (o: Partial<Parameters<typeof lb>[0]>): LoadBalancer => lb({ policy: 'geo', default_pools: [eu], fallback_pool: fb, ...o });
  const ecsJP: ClientInfo = client({ ecs: NRT, hashKey: '203.0.113.9' });
  runTable(t, [
    { name: 'PoP entry wins', lb: geo(maps), want: { pool: 'ap-ne', poolList: 'pop_pools', locationSource: 'pop', clientDependent: false } },
    { name: 'no PoP entry: country', lb: geo({ ...maps, pop_pools: { LAX: [ap] } }), want: { pool: 'us-east', poolList: 'country_pools' } },
    { name: 'empty PoP list skipped: country', lb: geo({ ...maps, pop_pools: { FRA: [] } }), want: { pool: 'us-east', poolList: 'country_pools' } },
    { name: 'no country entry: region', lb: geo({ ...maps, pop_pools: {}, country_pools: { FR: [us] } }), want: { pool: 'fallback', poolList: 'region_pools', fallback: false } },
    { name: 'empty country list skipped: region', lb: geo({ ...maps, pop_pools: {}, country_pools: { DE: [] } }), want: { pool: 'fallback', poolList: 'region_pools' } },
    { name: 'no region entry: default', lb: geo({ region_pools: { ENAM: [us] } }), want: { pool: 'eu-west', poolList: 'default_pools' } },
    { name: 'empty region list skipped: default', lb: geo({ region_pools: { WEU: [] } }), want: { pool: 'eu-west', poolList: 'default_pools' } },
    { name: 'node without a PoP code: country', lb: geo(maps), client: client({ pop: { country: 'DE', region: 'WEU' } }), want: { pool: 'us-east', poolList: 'country_pools' } },
    { name: 'location without country or region: default', lb: geo({ ...maps, pop_pools: {} }), client: client({ pop: { pop: 'FRA' } }), want: { pool: 'eu-west', poolList: 'default_pools' } },
    {
      name: 'ECS country (prefer_ecs always) for country_pools',
      lb: geo({ country_pools: { JP: [ap], DE: [us] }, location_strategy: { prefer_ecs: 'always' } }),
      client: ecsJP,
      want: { pool: 'ap-ne', poolList: 'country_pools', locationSource: 'ecs', clientDependent: true },
    },
    {
      name: 'ECS region is used for region_pools too',
      lb: geo({ region_pools: { NEAS: [ap], WEU: [us] }, location_strategy: { prefer_ecs: 'geo' } }),
      client: ecsJP,
      want: { pool: 'ap-ne', poolList: 'region_pools', locationSource: 'ecs', clientDependent: true },
    },
    {
      name: 'an ECS location placed at a PoP (by an operator override) keys pop_pools',
      lb: geo({ pop_pools: { NRT: [ap], FRA: [us] }, country_pools: { JP: [ap] }, location_strategy: { prefer_ecs: 'always' } }),
      client: ecsJP,
      want: { pool: 'ap-ne', poolList: 'pop_pools', locationSource: 'ecs', clientDependent: true },
    },
    {
      name: 'an ECS location without a PoP: pop_pools key off this node\'s PoP',
      lb: geo({ pop_pools: { NRT: [ap], FRA: [us] }, country_pools: { JP: [ap] }, location_strategy: { prefer_ecs: 'always' } }),
      client: client({ ecs: { country: 'JP', region: 'NEAS' }, hashKey: '203.0.113.9' }),
      want: { pool: 'us-east', poolList: 'pop_pools', locationSource: 'ecs', clientDependent: true },
    },
    {
      name: 'ECS location with only pop_pools configured: client-dependent (another subnet may be placed at LAX)',
      lb: geo({ pop_pools: { LAX: [ap] }, location_strategy: { prefer_ecs: 'always' } }),
      client: ecsJP,
      want: { pool: 'eu-west', poolList: 'default_pools', locationSource: 'ecs', clientDependent: true },
    },
    {
      name: 'ECS location that falls through to default_pools is still client-dependent',
      lb: geo({ country_pools: { US: [us] }, location_strategy: { prefer_ecs: 'always' } }),
      client: ecsJP,
      want: { pool: 'eu-west', poolList: 'default_pools', clientDependent: true },
    },
    {
      name: 'geo with default strategy (prefer_ecs proximity, mode pop) ignores ECS',
      lb: geo({ country_pools: { JP: [ap], DE: [us] } }),
      client: ecsJP,
      want: { pool: 'us-east', locationSource: 'pop', clientDependent: false },
    },
    {
      name: 'mode resolver_ip: the resolver\'s country',
      lb: geo({ country_pools: { JP: [ap], US: [us] }, location_strategy: { prefer_ecs: 'never', mode: 'resolver_ip' } }),
      client: client({ ecs: NRT, resolver: IAD }),
      want: { pool: 'us-east', locationSource: 'resolver', clientDependent: true },
    },
    {
      name: 'first healthy pool of the matched list',
      lb: geo({ country_pools: { DE: [us, ap] } }),
      health: health({ down: poolsDown(us) }),
      want: { pool: 'ap-ne', poolList: 'country_pools' },
    },
  ]);
});

t.test('location strategy: prefer_ecs x mode x policy x what is known', async (t) => {
  // Each location points at another pool: ECS -> ap-ne (Tokyo), resolver -> us-east, PoP -> eu-west.
  const ecs = NRT;
  const resolver = IAD;
  const poolFor: Record<string, string> = { ecs: 'ap-ne', resolver: 'us-east', pop: 'eu-west' };
  const prefers: PreferEcs[] = ['always', 'never', 'proximity', 'geo'];
  const modes: LocationMode[] = ['pop', 'resolver_ip'];
  const policies: SteeringPolicy[] = ['geo', 'proximity', 'off', 'random', 'dynamic_latency'];
  let cases = 0;
  for (const prefer_ecs of prefers) {
    for (const mode of modes) {
      for (const policy of policies) {
        for (const hasEcs of [true, false]) {
          for (const hasResolver of [true, false]) {
            const balancer = lb({
              policy,
              default_pools: [ap, us, eu],
              fallback_pool: fb,
              country_pools: policy === 'geo' ? { JP: [ap], US: [us], DE: [eu] } : undefined,
              location_strategy: { prefer_ecs, mode },
            });
            const c = client({ ecs: hasEcs ? ecs : undefined, resolver: hasResolver ? resolver : undefined });
            const d = steer(balancer, ALL_HEALTHY, c, mulberry32(9));
            let want: LocationSource;
            if (policy !== 'geo' && policy !== 'proximity') want = 'none';
            else if (hasEcs && (prefer_ecs === 'always' || prefer_ecs === policy)) want = 'ecs';
            else if (mode === 'resolver_ip' && hasResolver) want = 'resolver';
            else want = 'pop';
            const label = `prefer_ecs ${prefer_ecs}, mode ${mode}, ${policy}, ECS ${hasEcs}, resolver ${hasResolver}`;
            const ok =
              d.locationSource === want &&
              d.location === (want === 'ecs' ? ecs : want === 'resolver' ? resolver : want === 'pop' ? FRA : undefined) &&
              d.clientDependent === (want === 'ecs' || want === 'resolver') &&
              (want === 'none' || d.pool?.name === poolFor[want]);
            t.ok(ok, label, ok ? {} : { found: summary(d), wanted: want });
            cases++;
          }
        }
      }
    }
  }
  t.equal(cases, 160);

  runTable(t, [
    {
      name: 'Cloudflare defaults: proximity uses ECS when available',
      lb: lb({ policy: 'proximity', default_pools: [eu, us, ap], fallback_pool: fb }),
      client: client({ ecs: NRT, resolver: IAD }),
      want: { pool: 'ap-ne', locationSource: 'ecs', clientDependent: true },
    },
    {
      name: 'Cloudflare defaults: geo uses the responding PoP',
      lb: lb({ policy: 'geo', default_pools: [eu], country_pools: { JP: [ap], DE: [us] }, fallback_pool: fb }),
      client: client({ ecs: NRT, resolver: IAD }),
      want: { pool: 'us-east', locationSource: 'pop', clientDependent: false },
    },
    {
      name: 'reference architecture order (proximity, resolver_ip): ECS -> resolver -> PoP; no ECS: resolver',
      lb: lb({ policy: 'proximity', default_pools: [eu, us, ap], fallback_pool: fb, location_strategy: { mode: 'resolver_ip' } }),
      client: client({ resolver: IAD }),
      want: { pool: 'us-east', locationSource: 'resolver', clientDependent: true },
    },
    {
      name: 'other policies: no location, not client-dependent',
      lb: lb({ policy: 'off', default_pools: [eu, us, ap], fallback_pool: fb, location_strategy: { prefer_ecs: 'always', mode: 'resolver_ip' } }),
      client: client({ ecs: NRT, resolver: IAD }),
      want: { pool: 'eu-west', locationSource: 'none', clientDependent: false },
    },
  ]);
});

t.test('proximity', async (t) => {
  const noCoords = pool('nowhere');
  const prox = (pools: Parameters<typeof lb>[0]['default_pools']): LoadBalancer => lb({ policy: 'proximity', default_pools: pools, fallback_pool: fb });
  runTable(t, [
    { name: 'PoP FRA: eu-west', lb: prox([us, ap, eu]), client: client({ pop: FRA }), want: { pool: 'eu-west', locationSource: 'pop', clientDependent: false } },
    { name: 'PoP IAD: us-east', lb: prox([eu, ap, us]), client: client({ pop: IAD }), want: { pool: 'us-east' } },
    { name: 'PoP NRT: ap-ne', lb: prox([eu, us, ap]), client: client({ pop: NRT }), want: { pool: 'ap-ne' } },
    { name: 'SYD: ap-ne (nearer than eu and us)', lb: prox([eu, us, ap]), client: client({ pop: SYD }), want: { pool: 'ap-ne' } },
    { name: 'nearest down: the next nearest', lb: prox([us, ap, eu]), client: client({ pop: FRA }), health: health({ down: poolsDown(eu) }), want: { pool: 'us-east' } },
    { name: 'pools without coordinates come after pools with', lb: prox([noCoords, ap]), client: client({ pop: FRA }), want: { pool: 'ap-ne' } },
    {
      name: 'pools without coordinates: used when no pool with coordinates is left',
      lb: prox([noCoords, ap]),
      health: health({ down: poolsDown(ap) }),
      want: { pool: 'nowhere' },
    },
    { name: 'no pool has coordinates: list order', lb: prox([noCoords, pool('elsewhere')]), want: { pool: 'nowhere' } },
    { name: 'location without coordinates: list order', lb: prox([us, eu]), client: client({ pop: { pop: 'FRA', country: 'DE' } }), want: { pool: 'us-east' } },
    {
      name: 'ECS location without coordinates: list order, yet client-dependent (another subnet may have them)',
      lb: prox([us, eu]),
      client: client({ ecs: { country: 'JP' } }),
      want: { pool: 'us-east', locationSource: 'ecs', clientDependent: true },
    },
    {
      name: 'ECS with only one pool left: not client-dependent',
      lb: prox([us, eu]),
      client: client({ ecs: NRT }),
      health: health({ down: poolsDown(us) }),
      want: { pool: 'eu-west', locationSource: 'ecs', clientDependent: false },
    },
    { name: 'ECS with a choice: client-dependent', lb: prox([us, eu]), client: client({ ecs: IAD }), want: { pool: 'us-east', clientDependent: true } },
    {
      name: 'equal distance: the earlier pool',
      lb: prox([pool('twin-1', { latitude: 10, longitude: 10 }), pool('twin-2', { latitude: 10, longitude: 10 })]),
      want: { pool: 'twin-1' },
    },
  ]);
});

t.test('dynamic_latency', async (t) => {
  const dyn = lb({ policy: 'dynamic_latency', default_pools: pools3, fallback_pool: fb });
  runTable(t, [
    { name: 'lowest RTT', lb: dyn, health: health({ rtt: { 'eu-west': 80, 'us-east': 20, 'ap-ne': 50 } }), random: noRandom, want: { pool: 'us-east', clientDependent: false, locationSource: 'none' } },
    { name: 'lowest RTT pool down: next lowest', lb: dyn, health: health({ rtt: { 'eu-west': 80, 'us-east': 20, 'ap-ne': 50 }, down: poolsDown(us) }), want: { pool: 'ap-ne' } },
    { name: 'pools without RTT come after pools with', lb: dyn, health: health({ rtt: { 'ap-ne': 300 } }), want: { pool: 'ap-ne' } },
    { name: 'no RTT at all: list order', lb: dyn, health: health(), want: { pool: 'eu-west' } },
    { name: 'no RTT, first down: list order', lb: dyn, health: health({ down: poolsDown(eu) }), want: { pool: 'us-east' } },
    { name: 'equal RTT: the earlier pool', lb: dyn, health: health({ rtt: { 'eu-west': 30, 'us-east': 10, 'ap-ne': 10 } }), want: { pool: 'us-east' } },
  ]);
});

t.test('random, least_outstanding_requests, least_connections: weighted by random_steering', async (t) => {
  const n = 20000;
  const cases: Array<{ name: string; policy: SteeringPolicy; weights?: Record<string, number>; default_weight?: number; down?: string[]; want: Record<string, number> }> = [
    { name: 'equal default weights', policy: 'random', want: { 'eu-west': 1 / 3, 'us-east': 1 / 3, 'ap-ne': 1 / 3 } },
    { name: 'pool_weights over default_weight', policy: 'random', weights: { 'us-east': 0.7 }, default_weight: 0.2, want: { 'eu-west': 0.2 / 1.1, 'us-east': 0.7 / 1.1, 'ap-ne': 0.2 / 1.1 } },
    { name: 'weight 0 never chosen', policy: 'random', weights: { 'ap-ne': 0 }, want: { 'eu-west': 0.5, 'us-east': 0.5, 'ap-ne': 0 } },
    { name: 'unusable pools leave the draw', policy: 'random', weights: { 'eu-west': 0.1, 'us-east': 0.3, 'ap-ne': 0.6 }, down: poolsDown(eu), want: { 'eu-west': 0, 'us-east': 1 / 3, 'ap-ne': 2 / 3 } },
    { name: 'least_outstanding_requests degrades to weighted random', policy: 'least_outstanding_requests', weights: { 'eu-west': 0.6, 'us-east': 0.3, 'ap-ne': 0.1 }, want: { 'eu-west': 0.6, 'us-east': 0.3, 'ap-ne': 0.1 } },
    { name: 'least_connections degrades to weighted random', policy: 'least_connections', weights: { 'eu-west': 0.1, 'us-east': 0.3, 'ap-ne': 0.6 }, want: { 'eu-west': 0.1, 'us-east': 0.3, 'ap-ne': 0.6 } },
  ];
  for (const c of cases) {
    const balancer = lb({ policy: c.policy, default_pools: pools3, fallback_pool: fb, pool_weights: c.weights, default_weight: c.default_weight });
    const random = mulberry32(20240601);
    const h = health({ down: c.down });
    const cl = client();
    let dependent = false;
    const counts = tally(n, () => {
      const d = steer(balancer, h, cl, random);
      if (d.clientDependent || d.locationSource !== 'none') dependent = true;
      return d.pool!.name;
    });
    for (const [name, p] of Object.entries(c.want)) {
      const share = (counts.get(name) ?? 0) / n;
      // 20,000 draws: one standard deviation is at most 0.0035; 0.02 is over 5.
      if (p === 0) t.equal(share, 0, `${c.name}: ${name} never`);
      else t.ok(Math.abs(share - p) < 0.02, `${c.name}: ${name} ${share.toFixed(3)} ~ ${p.toFixed(3)}`);
    }
    t.notOk(dependent, `${c.name}: not client-dependent`);
  }
  runTable(t, [
    {
      name: 'all weights 0: first in order, no draw',
      lb: lb({ policy: 'random', default_pools: pools3, fallback_pool: fb, default_weight: 0 }),
      random: () => 0.99,
      want: { pool: 'eu-west' },
    },
    {
      name: 'one pool left: no draw',
      lb: lb({ policy: 'random', default_pools: pools3, fallback_pool: fb }),
      health: health({ down: poolsDown(eu, us) }),
      random: noRandom,
      want: { pool: 'ap-ne' },
    },
  ]);
});

t.test('load shedding', async (t) => {
  const n = 20000;
  t.test('random: sheds default_percent of queries to the next pool', async (t) => {
    const shedEu = pool('eu-shed', { shed: { percent: 30, policy: 'random' } });
    const balancer = lb({ policy: 'off', default_pools: [shedEu, us], fallback_pool: fb });
    const random = mulberry32(77);
    const counts = tally(n, () => steer(balancer, ALL_HEALTHY, client(), random).pool!.name);
    const share = (counts.get('us-east') ?? 0) / n;
    t.ok(Math.abs(share - 0.3) < 0.02, `shed share ${share}`);
    t.notOk(steer(balancer, ALL_HEALTHY, client(), mulberry32(1)).clientDependent, 'random shedding is not client-dependent');
  });

  t.test('hash: deterministic per client, default_percent of the hash space', async (t) => {
    const shedEu = pool('eu-hash', { shed: { percent: 40, policy: 'hash' } });
    const balancer = lb({ policy: 'off', default_pools: [shedEu, us], fallback_pool: fb });
    let shed = 0;
    let mismatched = 0;
    let unstable = 0;
    let independent = 0;
    const keys = 5000;
    for (let i = 0; i < keys; i++) {
      const key = `2001:db8::${i.toString(16)}`;
      const a = steer(balancer, ALL_HEALTHY, client({ hashKey: key }), mulberry32(i));
      const b = steer(balancer, ALL_HEALTHY, client({ hashKey: key }), mulberry32(i + 1));
      if (a.pool !== b.pool) unstable++;
      if (!a.clientDependent) independent++;
      const isShed = a.pool!.name === 'us-east';
      if (isShed) shed++;
      if (isShed !== hashPercentile(key, 'eu-hash') < 40) mismatched++;
    }
    t.equal(unstable, 0, 'same key, same answer whatever the random source');
    t.equal(mismatched, 0, 'shed exactly when the client bucket is below the percentage');
    t.equal(independent, 0, 'client-dependent');
    t.ok(Math.abs(shed / keys - 0.4) < 0.03, `shed share ${shed / keys}`);
  });

  runTable(t, [
    {
      name: 'random 0%: never shed, no draw',
      lb: lb({ policy: 'off', default_pools: [pool('p0', { shed: { percent: 0, policy: 'random' } }), us], fallback_pool: fb }),
      random: noRandom,
      want: { pool: 'p0' },
    },
    {
      name: 'random 100%: always shed',
      lb: lb({ policy: 'off', default_pools: [pool('p100', { shed: { percent: 100, policy: 'random' } }), us], fallback_pool: fb }),
      random: () => 0.999,
      want: { pool: 'us-east', clientDependent: false },
    },
    {
      name: 'hash 100%: always shed, not client-dependent',
      lb: lb({ policy: 'off', default_pools: [pool('h100', { shed: { percent: 100, policy: 'hash' } }), us], fallback_pool: fb }),
      want: { pool: 'us-east', clientDependent: false },
    },
    {
      name: 'every pool shed: the fallback',
      lb: lb({ policy: 'random', default_pools: [pool('s1', { shed: { percent: 100, policy: 'random' } }), pool('s2', { shed: { percent: 100, policy: 'hash' } })], fallback_pool: fb }),
      want: { pool: 'fallback', fallback: true },
    },
    {
      name: 'a pool that is also the fallback: shed as a candidate, answers as the fallback',
      lb: lb({ policy: 'off', default_pools: [pool('both', { shed: { percent: 100, policy: 'random' } })], fallback_pool: pool('both', { shed: { percent: 100, policy: 'random' } }) }),
      want: { pool: 'both', fallback: true },
    },
    {
      name: 'hash shedding on a pool never reached (off, first pool answers): not client-dependent',
      lb: lb({ policy: 'off', default_pools: [eu, pool('later', { shed: { percent: 50, policy: 'hash' } })], fallback_pool: fb }),
      want: { pool: 'eu-west', clientDependent: false },
    },
    {
      name: 'shedding is not evaluated for a critical pool (no draw)',
      lb: lb({ policy: 'off', default_pools: [pool('crit', { shed: { percent: 50, policy: 'random' } }), us], fallback_pool: fb }),
      health: health({ down: ['crit/crit-a', 'crit/crit-b'] }),
      random: noRandom,
      want: { pool: 'us-east' },
    },
  ]);
});

t.test('origins inside the chosen pool', async (t) => {
  const three = (steering: OriginSteeringPolicy, w: [number, number, number]): Pool =>
    pool(`p-${steering}`, {
      steering,
      origins: [origin('o1', '192.0.2.1', { weight: w[0] }), origin('o2', '2001:db8::2', { weight: w[1] }), origin('o3', 'app.example.net', { weight: w[2] })],
    });
  const single = (p: Pool): LoadBalancer => lb({ policy: 'off', default_pools: [p], fallback_pool: fb });

  runTable(t, [
    { name: 'equal weights: all of them in configuration order', lb: single(three('random', [1, 1, 1])), random: noRandom, want: { origins: ['o1', 'o2', 'o3'], clientDependent: false } },
    { name: 'equal weights below 1: all of them', lb: single(three('random', [0.5, 0.5, 0.5])), random: noRandom, want: { origins: ['o1', 'o2', 'o3'] } },
    { name: 'equal weights with hash steering: all, not client-dependent', lb: single(three('hash', [1, 1, 1])), want: { origins: ['o1', 'o2', 'o3'], clientDependent: false } },
    { name: 'unequal weights: one origin', lb: single(three('random', [1, 0.5, 0.5])), want: { origins: [/^o[123]$/] } },
    { name: 'equal among the usable ones (weight 0 left out): all usable', lb: single(three('random', [0.5, 0, 0.5])), random: noRandom, want: { origins: ['o1', 'o3'] } },
    {
      name: 'unequal weights but only one usable: that one, no hash dependency',
      lb: single(three('hash', [1, 0.5, 0.2])),
      health: health({ down: ['p-hash/o1', 'p-hash/o2'] }),
      want: { origins: ['o3'], clientDependent: false },
    },
    { name: 'unequal weights, hash: one origin, client-dependent', lb: single(three('hash', [1, 0.5, 0.2])), random: noRandom, want: { origins: [/^o[123]$/] , clientDependent: true } },
  ]);
  t.equal(
    steer(single(three('random', [1, 0.5, 0.5])), ALL_HEALTHY, client(), mulberry32(1)).origins.length,
    1,
    'exactly one origin when weights differ',
  );

  const n = 20000;
  for (const steering of ['random', 'least_outstanding_requests', 'least_connections'] as const) {
    const balancer = single(three(steering, [1, 0.5, 0.25]));
    const random = mulberry32(4242);
    const counts = tally(n, () => steer(balancer, ALL_HEALTHY, client(), random).origins[0].name);
    const want: Record<string, number> = { o1: 4 / 7, o2: 2 / 7, o3: 1 / 7 };
    for (const [name, p] of Object.entries(want)) {
      const share = (counts.get(name) ?? 0) / n;
      t.ok(Math.abs(share - p) < 0.02, `${steering}: ${name} ${share.toFixed(3)} ~ ${p.toFixed(3)}`);
    }
  }

  t.test('hash: stable per client, weighted over clients, minimal remapping', async (t) => {
    const p = three('hash', [1, 0.5, 0.25]);
    const balancer = single(p);
    const keys = Array.from({ length: 10000 }, (_, i) => `198.51.100.${i % 256}/${i}`);
    const first = keys.map((k) => steer(balancer, ALL_HEALTHY, client({ hashKey: k }), noRandom).origins[0].name);
    const again = keys.map((k) => steer(balancer, ALL_HEALTHY, client({ hashKey: k }), noRandom).origins[0].name);
    t.same(again, first, 'same key, same origin');
    const share = (name: string): number => first.filter((x) => x === name).length / keys.length;
    t.ok(Math.abs(share('o1') - 4 / 7) < 0.03, `o1 ${share('o1')}`);
    t.ok(Math.abs(share('o2') - 2 / 7) < 0.03, `o2 ${share('o2')}`);
    t.ok(Math.abs(share('o3') - 1 / 7) < 0.03, `o3 ${share('o3')}`);
    // o2 goes down: only o2's clients move.
    const h = health({ down: ['p-hash/o2'] });
    const after = keys.map((k) => steer(balancer, h, client({ hashKey: k }), noRandom).origins[0].name);
    let moved = 0;
    let wrongly = 0;
    after.forEach((x, i) => {
      if (first[i] === 'o2') moved++;
      else if (x !== first[i]) wrongly++;
    });
    t.equal(wrongly, 0, 'clients of o1 and o3 stay');
    t.ok(after.every((x) => x !== 'o2'), 'nobody gets the down origin');
    t.ok(moved > 0);
  });
});

t.test('poolHealth', async (t) => {
  const p = pool('ph', { minimum_origins: 2, origins: [origin('a', '192.0.2.1'), origin('b', '192.0.2.2', { enabled: false }), origin('c', '192.0.2.3', { weight: 0 }), origin('d', '192.0.2.4')] });
  const r = poolHealth(p, health({ unknown: ['ph/d'] }));
  t.match(r, { healthyOrigins: 1, critical: true, monitored: true });
  t.same(r.usableOrigins.map((o) => o.name), ['a']);
  const u = poolHealth(pool('pu', { monitored: false }), health({ down: ['pu/pu-a', 'pu/pu-b'] }));
  t.match(u, { healthyOrigins: 2, critical: false, monitored: false });
  const all = pool('pa');
  t.equal(poolHealth(all, ALL_HEALTHY).usableOrigins, all.origins, 'all usable: the pool\'s own array, no copy');
});

t.test('trace', async (t) => {
  const balancer = lb({
    policy: 'off',
    default_pools: [
      pool('off-pool', { enabled: false }),
      pool('crit', { minimum_origins: 2 }),
      pool('shed', { shed: { percent: 100, policy: 'hash' } }),
      pool('plain', { monitored: false }),
      pool('later'),
    ],
    fallback_pool: fb,
  });
  const h = health({ down: ['crit/crit-a'] });
  t.equal(steer(balancer, h, client(), mulberry32(1)).trace, undefined, 'no trace unless asked');
  const d = steer(balancer, h, client(), mulberry32(1), true);
  t.ok(d.trace);
  t.same(
    d.trace!.pools.map((v) => [v.pool.name, v.usable]),
    [['off-pool', false], ['crit', false], ['shed', false], ['plain', true], ['later', true]],
  );
  const reasons = d.trace!.pools.map((v) => v.reason);
  t.equal(reasons[0], 'disabled');
  t.equal(reasons[1], 'critical: 1 of 2 origins healthy, minimum 2');
  t.match(reasons[2], /^shed by load_shedding \(hash: client bucket \d+ < 100%\)$/);
  t.match(reasons[3], /^no monitor: health ignored/);
  t.match(reasons[4], /^healthy \(2 of 2 origins\); standby/);
  t.equal(d.pool?.name, 'plain');
  t.ok(d.trace!.notes.some((n) => /same weight/.test(n)), 'origin note');

  const fbd = steer(lb({ policy: 'off', default_pools: [eu], fallback_pool: pool('fbx', { enabled: false }) }), health({ down: poolsDown(eu) }), client(), mulberry32(1), true);
  t.ok(fbd.trace!.notes.some((n) => /fallback pool fbx is disabled: NODATA/.test(n)));
  const geo = steer(lb({ policy: 'geo', default_pools: [eu], country_pools: { DE: [us] }, pop_pools: { LAX: [ap] }, fallback_pool: fb }), ALL_HEALTHY, client(), mulberry32(1), true);
  t.ok(geo.trace!.notes.some((n) => n === 'geo: pop_pools[FRA]: no entry; country_pools[DE]: [us-east] => country_pools'), geo.trace!.notes.join(' | '));
});

t.test('pure: no Math.random', async (t) => {
  const real = Math.random;
  Math.random = noRandom;
  try {
    const balancer = lb({ policy: 'random', default_pools: [pool('a', { shed: { percent: 50, policy: 'random' }, origins: [origin('x', '192.0.2.1'), origin('y', '192.0.2.2', { weight: 0.5 })] }), us], fallback_pool: fb });
    for (let i = 0; i < 100; i++) steer(balancer, ALL_HEALTHY, client(), mulberry32(i), i % 2 === 0);
    t.pass('the random source is the parameter');
  } finally {
    Math.random = real;
  }
});
