/**
 * Health as plain data, by pool and origin name: the primary probes and sends it to the workers,
 * which read it against their own copy of the configuration. A pool or origin the data does not
 * name (a worker that loaded a newer configuration a moment early) counts as not yet probed.
 */
import type { HealthView, LbConfig, Pool } from '../lb/model.js';

export interface HealthData {
  /** pool name -> [smoothed RTT in ms or null, [origin name, healthy (true/false) or null while unknown][]]. */
  readonly pools: readonly (readonly [string, number | null, readonly (readonly [string, boolean | null])[]])[];
}

export function healthData(lb: LbConfig, view: HealthView): HealthData {
  const pools: [string, number | null, [string, boolean | null][]][] = [];
  for (const pool of lb.pools.values()) {
    pools.push([pool.name, view.poolRtt(pool) ?? null, pool.origins.map((o) => [o.name, view.origin(pool, o) ?? null])]);
  }
  return { pools };
}

export function viewOf(data: HealthData): HealthView {
  const pools = new Map<string, { rtt: number | null; origins: Map<string, boolean | null> }>();
  for (const [name, rtt, origins] of data.pools) pools.set(name, { rtt, origins: new Map(origins) });
  // Unmonitored pools are healthy whatever the data says: health is ignored for them.
  const unknown = (pool: Pool) => (pool.monitor ? undefined : true);
  return {
    origin(pool, origin) {
      const state = pools.get(pool.name)?.origins.get(origin.name);
      return state === undefined ? unknown(pool) : (state ?? undefined);
    },
    poolRtt(pool) {
      return pools.get(pool.name)?.rtt ?? undefined;
    },
  };
}
