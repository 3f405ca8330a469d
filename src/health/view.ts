/**
 * The immutable health view steering reads, and the pool and load balancer health summaries
 * built on it for status pages and logs. Pure: no timers, no I/O.
 *
 * The view is keyed by pool name and origin name (stable across reloads, unlike the objects).
 * Each pool's part is an entry that is never changed once built; a change makes a new view
 * that shares the untouched entries with the old one, so an old view keeps its answers.
 *
 * States (cloudflare-lb.md §2.4), counted with `poolHealth` of src/lb/steer.ts so that a pool
 * reported usable here is one steering would answer from:
 * - pool: `disabled`; `unknown` (no monitor: health ignored; or monitored but no enabled
 *   origin has a result yet); `critical` (steering cannot use it: healthy origins with
 *   weight > 0 below `minimum_origins`, or none at all); `healthy` (every enabled origin
 *   healthy); `degraded` (otherwise: some enabled origin down or still unknown, but usable).
 * - load balancer, over the pools it references (default, region, country and PoP lists; the
 *   fallback pool only if listed there, since its health is ignored): `unknown` when every such
 *   pool is unknown or disabled; `critical` when no default pool is usable, so steering answers
 *   from the fallback (Cloudflare's definition; geo lists whose pools are all unusable send
 *   their clients to the fallback too, and are listed in `fallbackLists`, but only make the
 *   load balancer degraded); `healthy` when every enabled pool is
 *   healthy or unmonitored and usable; `degraded` otherwise. Disabled pools are an operator's
 *   choice, not ill health: they make neither degraded nor healthy.
 */
import type { HealthView, LoadBalancer, Origin, Pool } from '../lb/model.js';
import { poolHealth } from '../lb/steer.js';

/** One origin's contribution to a view. */
export interface OriginHealth {
  /** undefined while unknown. */
  readonly healthy: boolean | undefined;
  /** Smoothed RTT in milliseconds. */
  readonly rttMs?: number;
}

/** One pool's part of a view; never changed once built. */
export interface PoolHealthEntry {
  /** Origin name -> health, for the origins that are monitored. */
  readonly origins: ReadonlyMap<string, boolean | undefined>;
  /** Mean smoothed RTT of the healthy origins with weight > 0, rounded to 0.1 ms. */
  readonly rttMs?: number;
}

/**
 * The entry of one pool from its origins' health: enabled origins only (`healthOf` returns
 * undefined for an origin that is not monitored, which then has no entry).
 */
export function poolEntry(pool: Pool, healthOf: (origin: Origin) => OriginHealth | undefined): PoolHealthEntry {
  const origins = new Map<string, boolean | undefined>();
  let sum = 0;
  let n = 0;
  for (const o of pool.origins) {
    if (!o.enabled) continue;
    const h = healthOf(o);
    if (h === undefined) continue;
    origins.set(o.name, h.healthy);
    // Only origins steering answers with say how fast the pool is.
    if (h.healthy === true && o.weight > 0 && h.rttMs !== undefined) {
      sum += h.rttMs;
      n++;
    }
  }
  return n > 0 ? { origins, rttMs: Math.round((sum / n) * 10) / 10 } : { origins };
}

/**
 * Whether publishing `next` instead of `prev` is worth it: an origin's health changed, the RTT
 * appeared or vanished, or it moved by more than `rttTolerance` (a fraction of the old RTT).
 */
export function entryChanged(prev: PoolHealthEntry | undefined, next: PoolHealthEntry, rttTolerance: number): boolean {
  if (prev === undefined) return true;
  if (prev.origins.size !== next.origins.size) return true;
  for (const [name, healthy] of next.origins) {
    if (!prev.origins.has(name) || prev.origins.get(name) !== healthy) return true;
  }
  if (prev.rttMs === undefined || next.rttMs === undefined) return prev.rttMs !== next.rttMs;
  return Math.abs(next.rttMs - prev.rttMs) > rttTolerance * prev.rttMs;
}

/** A complete, immutable health view over plain maps. */
export class SnapshotHealthView implements HealthView {
  /** No pool known: every monitored origin is unknown (down), no RTT. */
  static readonly EMPTY = new SnapshotHealthView(new Map());

  readonly #pools: ReadonlyMap<string, PoolHealthEntry>;

  /** Takes ownership of `pools`: the caller must not change it afterwards. */
  constructor(pools: ReadonlyMap<string, PoolHealthEntry>) {
    this.#pools = pools;
    Object.freeze(this);
  }

  origin(pool: Pool, origin: Origin): boolean | undefined {
    return this.#pools.get(pool.name)?.origins.get(origin.name);
  }

  poolRtt(pool: Pool): number | undefined {
    return this.#pools.get(pool.name)?.rttMs;
  }

  entry(poolName: string): PoolHealthEntry | undefined {
    return this.#pools.get(poolName);
  }

  poolNames(): IterableIterator<string> {
    return this.#pools.keys();
  }

  /** A new view with these pools' entries replaced (undefined removes one); this one is unchanged. */
  withPools(changes: ReadonlyMap<string, PoolHealthEntry | undefined>): SnapshotHealthView {
    const next = new Map(this.#pools);
    for (const [name, entry] of changes) {
      if (entry === undefined) next.delete(name);
      else next.set(name, entry);
    }
    return new SnapshotHealthView(next);
  }
}

/** `unmonitored`: no monitor, every enabled origin counts as up; `unknown`: monitored, no result yet. */
export type PoolState = 'healthy' | 'degraded' | 'critical' | 'unknown' | 'unmonitored' | 'disabled';

export interface PoolSummary {
  readonly state: PoolState;
  readonly enabled: boolean;
  readonly monitored: boolean;
  /** Configured origins, enabled or not. */
  readonly origins: number;
  readonly enabledOrigins: number;
  /** Enabled origins reported healthy, whatever their weight (unmonitored: all enabled ones). */
  readonly healthy: number;
  /** Enabled monitored origins reported unhealthy. */
  readonly unhealthy: number;
  /** Enabled monitored origins with no result yet (they count as down). */
  readonly unknown: number;
  /** What steering counts (poolHealth): enabled, weight > 0 and healthy when monitored. */
  readonly usableOrigins: number;
  readonly minimumOrigins: number;
  /** Steering would answer from this pool as a candidate (load shedding aside). */
  readonly usable: boolean;
  readonly rttMs?: number;
}

export function poolState(pool: Pool, view: HealthView): PoolSummary {
  const ph = poolHealth(pool, view);
  const monitored = ph.monitored;
  let enabledOrigins = 0;
  let healthy = 0;
  let unhealthy = 0;
  let unknown = 0;
  for (const o of pool.origins) {
    if (!o.enabled) continue;
    enabledOrigins++;
    if (!monitored) {
      healthy++;
      continue;
    }
    const h = view.origin(pool, o);
    if (h === true) healthy++;
    else if (h === false) unhealthy++;
    else unknown++;
  }
  // The same test as steering's: below the minimum, or nothing to answer with.
  const usable = pool.enabled && !ph.critical && ph.healthyOrigins > 0;
  let state: PoolState;
  if (!pool.enabled) state = 'disabled';
  else if (!monitored) state = 'unmonitored';
  else if (enabledOrigins > 0 && unknown === enabledOrigins) state = 'unknown';
  else if (!usable) state = 'critical';
  else if (healthy === enabledOrigins) state = 'healthy';
  else state = 'degraded';
  const rttMs = view.poolRtt(pool);
  const summary: PoolSummary = {
    state,
    enabled: pool.enabled,
    monitored,
    origins: pool.origins.length,
    enabledOrigins,
    healthy,
    unhealthy,
    unknown,
    usableOrigins: ph.healthyOrigins,
    minimumOrigins: pool.minimum_origins,
    usable,
  };
  return rttMs === undefined ? summary : { ...summary, rttMs };
}

/** `unmonitored`: none of its pools has a monitor. */
export type LoadBalancerState = 'healthy' | 'degraded' | 'critical' | 'unknown' | 'unmonitored';

export interface LoadBalancerSummary {
  readonly state: LoadBalancerState;
  /** No default pool is usable: steering answers from the fallback pool. */
  readonly fallback: boolean;
  readonly fallbackPool: string;
  /** Pools the load balancer references (default, region, country, PoP lists), once each. */
  readonly pools: number;
  readonly usableDefaultPools: number;
  /**
   * Pool lists with no usable pool, whose clients get the fallback: `default_pools` (then
   * `fallback` is true) and geo entries such as `region_pools[WEU]` (empty entries are
   * skipped by steering and not listed).
   */
  readonly fallbackLists: readonly string[];
  /** Enabled origins of `pools` still waiting for their first result. */
  readonly unknownOrigins: number;
  /** Pool counts by state, over `pools`. */
  readonly states: Readonly<Record<PoolState, number>>;
  /**
   * The pools it answers from now, for a client no geo list applies to: the first usable
   * default pool under failover (steering off), every usable default pool under the other
   * policies (which one depends on the client or chance), the fallback pool when none is usable.
   */
  readonly answering: readonly string[];
}

/** The distinct pools a load balancer steers between (the fallback only when listed). */
export function poolsOf(lb: LoadBalancer): Pool[] {
  const seen = new Map<string, Pool>();
  const add = (list: readonly Pool[]): void => {
    for (const p of list) if (!seen.has(p.name)) seen.set(p.name, p);
  };
  add(lb.default_pools);
  for (const m of [lb.pop_pools, lb.country_pools, lb.region_pools]) for (const list of m.values()) add(list);
  return [...seen.values()];
}

export function loadBalancerState(lb: LoadBalancer, view: HealthView): LoadBalancerSummary {
  const states: Record<PoolState, number> = { healthy: 0, degraded: 0, critical: 0, unknown: 0, unmonitored: 0, disabled: 0 };
  const byName = new Map<string, PoolSummary>();
  let fine = 0;
  let unknownOrigins = 0;
  const pools = poolsOf(lb);
  for (const p of pools) {
    const s = poolState(p, view);
    byName.set(p.name, s);
    states[s.state]++;
    unknownOrigins += s.unknown;
    if (s.state === 'healthy' || (s.state === 'unmonitored' && s.usable)) fine++;
  }
  const usableDefaults = lb.default_pools.filter((p) => byName.get(p.name)?.usable === true).map((p) => p.name);
  const usableDefaultPools = usableDefaults.length;
  const fallback = usableDefaultPools === 0;
  const answering = fallback ? [lb.fallback_pool.name] : lb.steering_policy === 'off' ? usableDefaults.slice(0, 1) : usableDefaults;
  const fallbackLists: string[] = fallback ? ['default_pools'] : [];
  const geo: [string, ReadonlyMap<string, readonly Pool[]>][] = [['pop_pools', lb.pop_pools], ['country_pools', lb.country_pools], ['region_pools', lb.region_pools]];
  for (const [listName, map] of geo) {
    for (const [key, list] of map) {
      if (list.length > 0 && !list.some((p) => byName.get(p.name)?.usable === true)) fallbackLists.push(`${listName}[${key}]`);
    }
  }
  let state: LoadBalancerState;
  if (states.unknown > 0 && states.unknown + states.disabled === pools.length) state = 'unknown';
  else if (states.unmonitored > 0 && states.unmonitored + states.disabled === pools.length && !fallback) state = 'unmonitored';
  else if (fallback) state = 'critical';
  else if (fine === pools.length - states.disabled) state = 'healthy';
  else state = 'degraded';
  return { state, fallback, fallbackPool: lb.fallback_pool.name, pools: pools.length, usableDefaultPools, fallbackLists, unknownOrigins, states, answering };
}
