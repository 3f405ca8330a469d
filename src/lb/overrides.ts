/**
 * Runtime overrides from the admin API: pools and origins enabled or disabled by hand, kept
 * across reloads until cleared. They are applied by building a new, immutable load-balancing
 * configuration in which the overridden objects carry the forced `enabled`, so steering and
 * health monitors need no special case.
 */
import type { LbConfig, LoadBalancer, Origin, Pool } from './model.js';

export interface Override {
  readonly pool: string;
  /** Absent: the override is on the pool itself. */
  readonly origin?: string;
  readonly enabled: boolean;
}

/** Overrides keyed by "pool" or "pool/origin". */
export type Overrides = ReadonlyMap<string, Override>;

export function overrideKey(pool: string, origin?: string): string {
  return origin === undefined ? pool : `${pool}/${origin}`;
}

/** Overrides keyed as the app keeps them, from a list (a worker's copy of its primary's). */
export function overridesOf(list: readonly Override[]): Map<string, Override> {
  return new Map(list.map((o) => [overrideKey(o.pool, o.origin), o]));
}

/** The configuration with overrides applied; the same object when none applies. */
export function applyOverrides(cfg: LbConfig, overrides: Overrides): LbConfig {
  if (overrides.size === 0) return cfg;
  const replaced = new Map<Pool, Pool>();
  const pools = new Map<string, Pool>();
  for (const [name, pool] of cfg.pools) {
    const own = overrides.get(overrideKey(name));
    let changed = own !== undefined && own.enabled !== pool.enabled;
    const origins = pool.origins.map((o): Origin => {
      const ov = overrides.get(overrideKey(name, o.name));
      if (ov === undefined || ov.enabled === o.enabled) return o;
      changed = true;
      return Object.freeze({ ...o, enabled: ov.enabled });
    });
    const next = changed ? Object.freeze({ ...pool, enabled: own?.enabled ?? pool.enabled, origins: Object.freeze(origins) }) : pool;
    pools.set(name, next);
    if (next !== pool) replaced.set(pool, next);
  }
  if (replaced.size === 0) return cfg;
  const swap = (p: Pool): Pool => replaced.get(p) ?? p;
  const list = (l: readonly Pool[]) => Object.freeze(l.map(swap));
  const map = (m: ReadonlyMap<string, readonly Pool[]>) => new Map([...m].map(([k, l]) => [k, list(l)] as const));
  const loadBalancers = new Map<string, LoadBalancer>();
  for (const [key, lb] of cfg.loadBalancers) {
    loadBalancers.set(key, Object.freeze({
      ...lb,
      default_pools: list(lb.default_pools),
      fallback_pool: swap(lb.fallback_pool),
      region_pools: map(lb.region_pools),
      country_pools: map(lb.country_pools),
      pop_pools: map(lb.pop_pools),
    }));
  }
  return Object.freeze({ monitors: cfg.monitors, pools, loadBalancers });
}
