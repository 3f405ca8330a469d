/**
 * The steering core: given a load balancer, a health view, what we know of the client and a
 * random source, decide which pool answers and with which origins. Pure: no sockets, timers,
 * clocks, globals or Math.random; the DNS layer turns the Decision into records, `explain.ts`
 * turns it into text. Follows the Cloudflare LB reference (cloudflare-lb.md) §1.1, §1.2, §2.2, §5, §6.
 *
 * Decisions taken where Cloudflare's documentation (and issue 3) are silent:
 * - Location: only geo and proximity resolve a location. Every other policy reports
 *   `locationSource: 'none'` and no `location`.
 * - Geo: `pop_pools` is keyed by the location's PoP when an operator override gave the
 *   client network one, else by this node's PoP (`client.pop.pop`). `country_pools` and `region_pools` are keyed by the country and region of the
 *   resolved location (ECS, resolver or PoP); the region is not re-derived from another
 *   source (ECS changes the region too, reference §1.1 ⚠️). A part the location lacks skips
 *   that map. Keys are compared as they are (upper case, as the loader and geo module write).
 * - Geo: the first existing, non-empty list is the only candidate list. When every pool in
 *   it is dropped the answer is the fallback pool, not `default_pools` (reference §5.1 ❓).
 * - Load shedding is evaluated only for pools that passed the health checks, in list order,
 *   and never when a pool answers as the fallback (a pool that is both a candidate and the
 *   fallback is shed as a candidate, then may still answer as the fallback). `random` sheds
 *   when `random() * 100 < default_percent`; `hash` sheds when
 *   `hashPercentile(client.hashKey, pool.name) < default_percent`, so each pool sheds its own
 *   slice of clients.
 * - A pool whose usable origin count meets `minimum_origins` but is 0 (minimum_origins 0)
 *   is dropped too: it could only answer NODATA.
 * - Ties (equal distance, equal RTT) go to the earlier pool in the list.
 * - The fallback pool: health ignored; its origins are the enabled ones with weight > 0, or
 *   all enabled ones when none has weight > 0. Fallback pool disabled: `fallback: true`,
 *   `pool: undefined`, no origins (NODATA). Fallback pool enabled with no enabled origin:
 *   `pool` set, no origins (NODATA).
 * - Origin steering `hash` uses weighted rendezvous hashing on `client.hashKey` with the
 *   origin's name as its identity (renaming an origin remaps its clients; readdressing it
 *   does not).
 * - Order of random draws, so that a seeded run is reproducible: one draw per candidate that
 *   passed health and has random shedding > 0 (in list order, for off/geo only up to the
 *   chosen pool), then one for the pool when random-like steering has two or more pools
 *   left, then one for the origin when weights differ and origin steering is not `hash`.
 *   Asking for a trace never changes the draws or the decision.
 * - `clientDependent` is true exactly when another client at the same PoP could have got
 *   another answer from the same health: geo with an ECS/resolver location that reached the
 *   country/region lookups (and the LB has country or region pools), proximity with an
 *   ECS/resolver location that has coordinates and two or more pools left, hash load
 *   shedding with 0 < percent < 100 on a pool that was evaluated, and hash origin steering
 *   that chose among unequal weights. Random steering is per query, not per client: false.
 * - `lb.enabled` is not looked at: a disabled load balancer is the DNS layer's business.
 * - `SteerOptions` (DNS persistence, persistence.ts): `hashKey` replaces `client.hashKey` for
 *   every hash, and `originHash` makes origin choice among unequal weights weighted rendezvous
 *   on that key whatever the pool's origin_steering says.
 */
import type { ClientInfo, HealthView, LoadBalancer, Origin, Pool, SteeringPolicy } from './model.js';
import type { Location } from '../geo/location.js';
import { greatCircleKm } from './geodesy.js';
import { hashPercentile, rendezvousPick } from './hash.js';
import { weightedChoice } from './random.js';

export type LocationSource = 'ecs' | 'resolver' | 'pop' | 'none';
export type PoolListName = 'pop_pools' | 'country_pools' | 'region_pools' | 'default_pools';

export interface PoolVerdict {
  readonly pool: Pool;
  readonly usable: boolean;
  /** e.g. 'disabled', 'critical: 0 of 2 origins healthy, minimum 1', 'shed by load_shedding (hash: ...)'. */
  readonly reason: string;
}

export interface Decision {
  /** The pool answering, or undefined for NODATA (fallback disabled / nothing usable). */
  readonly pool?: Pool;
  /** The origins to answer with (before the DNS layer filters by address family). Empty => NODATA. */
  readonly origins: readonly Origin[];
  /** The fallback step ran: no candidate pool was usable (pool is undefined if the fallback pool is disabled). */
  readonly fallback: boolean;
  /** The effective policy. */
  readonly policy: SteeringPolicy;
  /** The location used for the decision (geo and proximity only). */
  readonly location?: Location;
  readonly locationSource: LocationSource;
  /** Which list gave the candidates. */
  readonly poolList: PoolListName;
  /** True when the answer depended on the client's address: the DNS layer uses it for the ECS scope. */
  readonly clientDependent: boolean;
  /**
   * True when a hash of `client.hashKey` decided part of the answer (hash origin steering or
   * hash load shedding): the answer then depends on the whole key, not just its location.
   */
  readonly clientHashed: boolean;
  /** Set when the load balancer has persistence: the key and what the pin table did. */
  readonly persistence?: PersistenceOutcome;
  /** Filled only when asked (explain): every candidate pool with its verdict, in order, and notes. */
  readonly trace?: { readonly pools: readonly PoolVerdict[]; readonly notes: readonly string[] };
}

export interface PersistenceOutcome {
  /** The persistence key: "198.51.100.0/24", "AS64500". */
  readonly key: string;
  /** The key is the query's ECS subnet (the answer holds for that subnet only). */
  readonly fromEcs: boolean;
  /** hit: a pin answered; pinned: steered and pinned; repinned: a pin became unusable and was replaced; unpinned: steered, nothing pinned (fallback or NODATA). */
  readonly outcome: 'hit' | 'pinned' | 'repinned' | 'unpinned';
}

/** How `steer` hashes, for callers that key clients their own way (persistence). */
export interface SteerOptions {
  /** Replaces `client.hashKey` for hash load shedding and hash origin steering. */
  readonly hashKey?: string;
  /** Origins with unequal weights are chosen by weighted rendezvous on the key, whatever origin_steering says. */
  readonly originHash?: boolean;
}

const NO_OPTIONS: SteerOptions = {};

export interface PoolHealth {
  /** Origins that count: enabled, weight > 0 and, when the pool has a monitor, healthy. */
  healthyOrigins: number;
  usableOrigins: readonly Origin[];
  /** healthyOrigins < minimum_origins. */
  critical: boolean;
  monitored: boolean;
}

/**
 * Health of one pool as steering sees it (also for status pages). Does not look at
 * `pool.enabled`: report that separately.
 */
export function poolHealth(pool: Pool, health: HealthView): PoolHealth {
  const monitored = pool.monitor !== undefined;
  const n = countUsable(pool, health, monitored);
  const usableOrigins = usableOf(pool, health, monitored, n);
  return { healthyOrigins: n, usableOrigins, critical: n < pool.minimum_origins, monitored };
}

// Verdict codes of one candidate pool.
const OK = 0;
const DISABLED = 1;
const CRITICAL = 2;
const NO_ORIGINS = 3;
const SHED = 4;

/** Per-query scratch for what a helper learns besides its verdict code (one allocation). */
interface Scratch {
  healthy: number;
  /** Hash shedding bucket of the last pool examined, -1 when not hashed. */
  bucket: number;
  dependent: boolean;
  /** A hash of client.hashKey decided something (origin or shedding): the whole key matters. */
  hashed: boolean;
}

export function steer(lb: LoadBalancer, health: HealthView, client: ClientInfo, random: () => number, trace?: boolean, options: SteerOptions = NO_OPTIONS): Decision {
  const policy = lb.steering_policy;
  // The key is asked for only when a hash decides: building it costs a string per query.
  const key: HashKeySource = { options, client };
  const verdicts: PoolVerdict[] | undefined = trace ? [] : undefined;
  const notes: string[] | undefined = trace ? [] : undefined;
  const s: Scratch = { healthy: 0, bucket: -1, dependent: false, hashed: false };

  // 1. Location (reference §1.1).
  const locationSource = resolveLocationSource(lb, policy, client);
  const location = locationOf(client, locationSource);
  const clientLocation = locationSource === 'ecs' || locationSource === 'resolver';

  // 2. Candidate pools.
  let candidates = lb.default_pools;
  let poolList: PoolListName = 'default_pools';
  if (policy === 'geo' && location !== undefined) {
    // An operator override may place a client network at a PoP; otherwise this node's PoP.
    const popKey = location.pop ?? client.pop.pop;
    if (clientLocation && lb.pop_pools.size > 0) s.dependent = true;
    let list = popKey === undefined ? undefined : lb.pop_pools.get(popKey);
    if (list !== undefined && list.length > 0) {
      candidates = list;
      poolList = 'pop_pools';
    } else {
      if (clientLocation && (lb.country_pools.size > 0 || lb.region_pools.size > 0)) s.dependent = true;
      list = location.country === undefined ? undefined : lb.country_pools.get(location.country);
      if (list !== undefined && list.length > 0) {
        candidates = list;
        poolList = 'country_pools';
      } else {
        list = location.region === undefined ? undefined : lb.region_pools.get(location.region);
        if (list !== undefined && list.length > 0) {
          candidates = list;
          poolList = 'region_pools';
        }
      }
    }
    if (notes) notes.push(geoNote(lb, popKey, location, poolList));
  }

  // 3 and 4. Drop unusable pools and pick one.
  let chosen: Pool | undefined;
  if (policy === 'off' || policy === 'geo') {
    for (let i = 0; i < candidates.length; i++) {
      const pool = candidates[i];
      if (chosen !== undefined) {
        // Only for the trace: pools after the chosen one, by health alone (no random draw).
        if (verdicts) verdicts.push(standbyVerdict(pool, health, s));
        continue;
      }
      const code = examine(pool, health, key, random, s);
      if (verdicts) verdicts.push(verdictOf(pool, code, s));
      if (code === OK) chosen = pool;
    }
  } else {
    let kept: Pool[] | undefined;
    for (let i = 0; i < candidates.length; i++) {
      const pool = candidates[i];
      const code = examine(pool, health, key, random, s);
      if (verdicts) verdicts.push(verdictOf(pool, code, s));
      if (code === OK) (kept ??= []).push(pool);
    }
    if (kept !== undefined) {
      if (policy === 'proximity') {
        chosen = nearestPool(kept, location);
        // Even a location without coordinates counts: another subnet, located with them, could
        // be sent elsewhere, so the answer holds only for this one.
        if (clientLocation && kept.length > 1) s.dependent = true;
        if (notes) notes.push(proximityNote(kept, location));
      } else if (policy === 'dynamic_latency') {
        chosen = fastestPool(kept, health);
        if (notes) notes.push(latencyNote(kept, health));
      } else {
        // random, and least_outstanding_requests / least_connections, which have nothing to
        // count in DNS-only mode and degrade to weighted random (reference §1.2).
        chosen = kept.length === 1 ? kept[0] : (weightedPool(lb, kept, random) ?? kept[0]);
        if (notes) notes.push(weightsNote(lb, kept, policy));
      }
    }
  }

  // 5. Nothing left: the fallback pool, health ignored.
  let fallback = false;
  let usable: readonly Origin[];
  if (chosen !== undefined) {
    const monitored = chosen.monitor !== undefined;
    usable = usableOf(chosen, health, monitored, countUsable(chosen, health, monitored));
  } else {
    fallback = true;
    const fb = lb.fallback_pool;
    if (!fb.enabled) {
      if (notes) notes.push(`no candidate pool is usable and the fallback pool ${fb.name} is disabled: NODATA`);
      return finish(undefined, [], true, policy, location, locationSource, poolList, s, verdicts, notes);
    }
    chosen = fb;
    usable = fallbackOrigins(fb);
    if (notes) {
      notes.push(`no candidate pool is usable: answering from the fallback pool ${fb.name}, health ignored`);
      if (usable.length === 0) notes.push(`the fallback pool ${fb.name} has no enabled origin: NODATA`);
    }
  }

  // 6. Origins inside the pool (reference §5.3, §2.2).
  let origins = usable;
  if (usable.length > 1 && !equalWeights(usable)) {
    const how = options.originHash ? 'hash' : chosen.origin_steering.policy;
    let pick: Origin | undefined;
    if (how === 'hash') {
      pick = rendezvousPick(hashKeyOf(key), usable, originName, originWeight);
      s.dependent = true;
      s.hashed = true;
    } else {
      pick = weightedChoice(usable, originWeight, random);
    }
    if (pick !== undefined) origins = [pick];
    if (notes) {
      const by = options.originHash ? 'hash of the persistence key (weighted rendezvous)' : how === 'hash' ? 'hash of the client (weighted rendezvous)' : how === 'random' ? 'weighted random' : `weighted random (${how} has nothing to count in DNS-only mode)`;
      notes.push(`origins: weights differ, one of ${usable.length} usable chosen by origin_steering ${how}: ${by}`);
    }
  } else if (notes) {
    notes.push(usable.length > 1 ? `origins: all ${usable.length} usable origins have the same weight: answering with all of them` : `origins: ${usable.length} usable`);
  }
  return finish(chosen, origins, fallback, policy, location, locationSource, poolList, s, verdicts, notes);
}

function finish(
  pool: Pool | undefined,
  origins: readonly Origin[],
  fallback: boolean,
  policy: SteeringPolicy,
  location: Location | undefined,
  locationSource: LocationSource,
  poolList: PoolListName,
  s: Scratch,
  verdicts: PoolVerdict[] | undefined,
  notes: string[] | undefined,
): Decision {
  const d: Decision = { pool, origins, fallback, policy, location, locationSource, poolList, clientDependent: s.dependent, clientHashed: s.hashed };
  return verdicts && notes ? { ...d, trace: { pools: verdicts, notes } } : d;
}

/** Reference §1.1: which location geo and proximity use; other policies use none. */
function resolveLocationSource(lb: LoadBalancer, policy: SteeringPolicy, client: ClientInfo): LocationSource {
  if (policy !== 'geo' && policy !== 'proximity') return 'none';
  const prefer = lb.location_strategy.prefer_ecs;
  // Ask for the ECS location only when it may be used: the lookup costs, and the ECS scope
  // depends on whether the subnet was consulted.
  if ((prefer === 'always' || prefer === policy) && client.ecs !== undefined) return 'ecs';
  if (lb.location_strategy.mode === 'resolver_ip' && client.resolver !== undefined) return 'resolver';
  return 'pop';
}

function locationOf(client: ClientInfo, source: LocationSource): Location | undefined {
  switch (source) {
    case 'ecs': return client.ecs;
    case 'resolver': return client.resolver;
    case 'pop': return client.pop;
    case 'none': return undefined;
  }
}

function originInRotation(pool: Pool, origin: Origin, health: HealthView, monitored: boolean): boolean {
  // A monitored origin with no result yet (undefined) counts as down (reference §2.4).
  return origin.enabled && origin.weight > 0 && (!monitored || health.origin(pool, origin) === true);
}

function countUsable(pool: Pool, health: HealthView, monitored: boolean): number {
  let n = 0;
  const list = pool.origins;
  for (let i = 0; i < list.length; i++) if (originInRotation(pool, list[i], health, monitored)) n++;
  return n;
}

/** The usable origins; the pool's own array (no copy) when all of them are. */
function usableOf(pool: Pool, health: HealthView, monitored: boolean, count: number): readonly Origin[] {
  if (count === pool.origins.length) return pool.origins;
  const out: Origin[] = [];
  for (const o of pool.origins) if (originInRotation(pool, o, health, monitored)) out.push(o);
  return out;
}

function fallbackOrigins(pool: Pool): readonly Origin[] {
  let weighted = 0;
  for (const o of pool.origins) if (o.enabled && o.weight > 0) weighted++;
  if (weighted === pool.origins.length) return pool.origins;
  const out: Origin[] = [];
  for (const o of pool.origins) if (o.enabled && (weighted === 0 || o.weight > 0)) out.push(o);
  return out;
}

function equalWeights(origins: readonly Origin[]): boolean {
  const w = origins[0].weight;
  for (let i = 1; i < origins.length; i++) if (origins[i].weight !== w) return false;
  return true;
}

function originName(o: Origin): string {
  return o.name;
}

function originWeight(o: Origin): number {
  return o.weight;
}

/** Health checks only: disabled, critical, nothing usable. Sets s.healthy. */
function examineHealth(pool: Pool, health: HealthView, s: Scratch): number {
  s.bucket = -1;
  if (!pool.enabled) return DISABLED;
  const n = countUsable(pool, health, pool.monitor !== undefined);
  s.healthy = n;
  if (n < pool.minimum_origins) return CRITICAL;
  if (n === 0) return NO_ORIGINS;
  return OK;
}

/** Where the key for hashing comes from: the options' key, else the client's. */
interface HashKeySource {
  readonly options: SteerOptions;
  readonly client: ClientInfo;
}

function hashKeyOf(k: HashKeySource): string {
  return k.options.hashKey ?? k.client.hashKey;
}

/** Health, then load shedding (reference §6). */
function examine(pool: Pool, health: HealthView, key: HashKeySource, random: () => number, s: Scratch): number {
  const code = examineHealth(pool, health, s);
  if (code !== OK) return code;
  const pct = pool.load_shedding.default_percent;
  if (!(pct > 0)) return OK;
  if (pool.load_shedding.default_policy === 'random') return random() * 100 < pct ? SHED : OK;
  const bucket = hashPercentile(hashKeyOf(key), pool.name);
  s.bucket = bucket;
  if (pct < 100) {
    s.dependent = true;
    s.hashed = true;
  }
  return bucket < pct ? SHED : OK;
}

function weightOfPool(lb: LoadBalancer, pool: Pool): number {
  return lb.random_steering.pool_weights.get(pool.name) ?? lb.random_steering.default_weight;
}

/** Weighted random over the kept pools; undefined when every weight is 0. */
function weightedPool(lb: LoadBalancer, kept: readonly Pool[], random: () => number): Pool | undefined {
  let total = 0;
  for (let i = 0; i < kept.length; i++) {
    const w = weightOfPool(lb, kept[i]);
    if (w > 0) total += w;
  }
  if (!(total > 0)) return undefined;
  let r = random() * total;
  let last: Pool | undefined;
  for (let i = 0; i < kept.length; i++) {
    const w = weightOfPool(lb, kept[i]);
    if (!(w > 0)) continue;
    if (r < w) return kept[i];
    r -= w;
    last = kept[i];
  }
  return last; // rounding left r >= the last weight
}

function hasCoordinates(l: Location | undefined): l is Location & { latitude: number; longitude: number } {
  return l !== undefined && l.latitude !== undefined && l.longitude !== undefined;
}

/** Nearest pool with coordinates; pools without come after all pools with; no location coordinates: list order. */
function nearestPool(kept: readonly Pool[], location: Location | undefined): Pool {
  if (!hasCoordinates(location)) return kept[0];
  let best: Pool | undefined;
  let bestKm = Infinity;
  for (let i = 0; i < kept.length; i++) {
    const p = kept[i];
    if (p.latitude === undefined || p.longitude === undefined) continue;
    const km = greatCircleKm(location.latitude, location.longitude, p.latitude, p.longitude);
    if (km < bestKm) {
      bestKm = km;
      best = p;
    }
  }
  return best ?? kept[0];
}

/** Lowest smoothed RTT; pools without RTT come after all pools with; no RTT at all: list order. */
function fastestPool(kept: readonly Pool[], health: HealthView): Pool {
  let best: Pool | undefined;
  let bestRtt = Infinity;
  for (let i = 0; i < kept.length; i++) {
    const rtt = health.poolRtt(kept[i]);
    if (rtt !== undefined && rtt < bestRtt) {
      bestRtt = rtt;
      best = kept[i];
    }
  }
  return best ?? kept[0];
}

// ---- Trace text (only built when asked) ----

function healthText(pool: Pool, n: number): string {
  const total = pool.origins.length;
  return pool.monitor !== undefined ? `${n} of ${total} origins healthy` : `${n} of ${total} origins enabled with weight > 0`;
}

function keptText(pool: Pool, n: number): string {
  const total = pool.origins.length;
  return pool.monitor !== undefined ? `healthy (${n} of ${total} origins)` : `no monitor: health ignored (${n} of ${total} origins in rotation)`;
}

function sheddingText(pool: Pool, s: Scratch): string {
  const ls = pool.load_shedding;
  return ls.default_policy === 'hash'
    ? `hash: client bucket ${s.bucket} ${s.bucket < ls.default_percent ? '<' : '>='} ${ls.default_percent}%`
    : `random, ${ls.default_percent}%`;
}

function verdictOf(pool: Pool, code: number, s: Scratch): PoolVerdict {
  switch (code) {
    case DISABLED:
      return { pool, usable: false, reason: 'disabled' };
    case CRITICAL:
      return { pool, usable: false, reason: `critical: ${healthText(pool, s.healthy)}, minimum ${pool.minimum_origins}` };
    case NO_ORIGINS:
      return { pool, usable: false, reason: `no usable origins (${healthText(pool, s.healthy)})` };
    case SHED:
      return { pool, usable: false, reason: `shed by load_shedding (${sheddingText(pool, s)})` };
    default: {
      const kept = keptText(pool, s.healthy);
      const shedding = pool.load_shedding.default_percent > 0 ? `; not shed by load_shedding (${sheddingText(pool, s)})` : '';
      return { pool, usable: true, reason: kept + shedding };
    }
  }
}

function standbyVerdict(pool: Pool, health: HealthView, s: Scratch): PoolVerdict {
  const code = examineHealth(pool, health, s);
  if (code !== OK) return verdictOf(pool, code, s);
  const shedding = pool.load_shedding.default_percent > 0 ? ', load shedding not evaluated' : '';
  return { pool, usable: true, reason: `${keptText(pool, s.healthy)}; standby: an earlier pool answered${shedding}` };
}

function geoNote(lb: LoadBalancer, popKey: string | undefined, location: Location, list: PoolListName): string {
  const tried: string[] = [];
  tried.push(popKey === undefined ? 'pop_pools: this node has no PoP code' : `pop_pools[${popKey}]: ${lookupText(lb.pop_pools.get(popKey))}`);
  if (list !== 'pop_pools') {
    tried.push(location.country === undefined ? 'country_pools: location has no country' : `country_pools[${location.country}]: ${lookupText(lb.country_pools.get(location.country))}`);
    if (list !== 'country_pools') {
      tried.push(location.region === undefined ? 'region_pools: location has no region' : `region_pools[${location.region}]: ${lookupText(lb.region_pools.get(location.region))}`);
    }
  }
  return `geo: ${tried.join('; ')} => ${list}`;
}

function lookupText(list: readonly Pool[] | undefined): string {
  if (list === undefined) return 'no entry';
  if (list.length === 0) return 'empty, skipped';
  return `[${list.map((p) => p.name).join(', ')}]`;
}

function proximityNote(kept: readonly Pool[], location: Location | undefined): string {
  if (!hasCoordinates(location)) return 'proximity: the location has no coordinates: list order';
  const parts = kept.map((p) =>
    p.latitude === undefined || p.longitude === undefined
      ? `${p.name} no coordinates`
      : `${p.name} ${Math.round(greatCircleKm(location.latitude, location.longitude, p.latitude, p.longitude))} km`,
  );
  return `proximity: ${parts.join(', ')}`;
}

function latencyNote(kept: readonly Pool[], health: HealthView): string {
  const parts = kept.map((p) => {
    const rtt = health.poolRtt(p);
    return rtt === undefined ? `${p.name} no RTT` : `${p.name} ${rtt} ms`;
  });
  const none = kept.every((p) => health.poolRtt(p) === undefined);
  return `dynamic_latency: ${parts.join(', ')}${none ? ': no RTT data yet, list order' : ''}`;
}

function weightsNote(lb: LoadBalancer, kept: readonly Pool[], policy: SteeringPolicy): string {
  const weights = kept.map((p) => `${p.name} ${weightOfPool(lb, p)}`);
  const degraded = policy === 'random' ? '' : ` (${policy} has nothing to count in DNS-only mode: weighted random)`;
  const allZero = kept.every((p) => !(weightOfPool(lb, p) > 0));
  return `${policy}${degraded}: weights ${weights.join(', ')}${allZero && kept.length > 1 ? ': all 0, first in order' : ''}`;
}
