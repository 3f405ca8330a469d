/**
 * Health as plain data, by pool and origin name: the primary probes and sends it to the workers,
 * which read it against their own copy of the configuration. A pool or origin the data does not
 * name (a worker that loaded a newer configuration a moment early) counts as not yet probed;
 * steering never asks about origins of unmonitored pools.
 */
import type { HealthView, LbConfig } from '../lb/model.js';
import { SnapshotHealthView, type PoolHealthEntry } from './view.js';

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

/** The view a worker answers from: the same immutable kind the primary's monitor publishes. */
export function viewOf(data: HealthData): HealthView {
  const pools = new Map<string, PoolHealthEntry>();
  for (const [name, rtt, origins] of data.pools) {
    pools.set(name, { origins: new Map(origins.map(([o, healthy]) => [o, healthy ?? undefined])), rttMs: rtt ?? undefined });
  }
  return new SnapshotHealthView(pools);
}
