/**
 * Loads the zones directory as a whole: zone files, then the `*.lb.yaml` load balancers that
 * live in those zones. Load-balanced names become names of their zones (so their parents are
 * empty non-terminals and other types at them are NODATA, not NXDOMAIN).
 */
import { loadLbDir } from '../lb/config.js';
import type { LbConfig } from '../lb/model.js';
import type { Name } from '../wire/name.js';
import { loadZonesDir } from '../zone/loader.js';
import type { Problem } from '../config/problem.js';
import { ZoneSet } from '../zone/zoneset.js';

export interface LoadedConfig {
  readonly zones: ZoneSet;
  readonly lb: LbConfig;
  readonly problems: readonly Problem[];
  /** Zone files with errors, not served. */
  readonly failedZones: readonly string[];
}

export function loadConfig(dir: string): LoadedConfig {
  const z = loadZonesDir(dir);
  const l = loadLbDir(dir, z.zones);
  return { zones: withLoadBalancerNames(z.zones, l.config), lb: l.config, problems: [...z.problems, ...l.problems], failedZones: z.failed };
}

function withLoadBalancerNames(zones: ZoneSet, lb: LbConfig): ZoneSet {
  const byZone = new Map<string, Name[]>();
  for (const b of lb.loadBalancers.values()) {
    if (!b.enabled) continue; // a disabled load balancer leaves only the static records
    const list = byZone.get(b.zone.key) ?? [];
    list.push(b.name);
    byZone.set(b.zone.key, list);
  }
  return new ZoneSet([...zones.zones].map((z) => (byZone.has(z.origin.key) ? z.withNames(byZone.get(z.origin.key)!) : z)));
}

/** Hostname origins that must be resolved outside: those not inside a zone served here. */
export function externalHostnames(cfg: LoadedConfig): Name[] {
  const out = new Map<string, Name>();
  for (const pool of cfg.lb.pools.values()) {
    for (const o of pool.origins) {
      if (o.address.kind === 'hostname' && !cfg.zones.find(o.address.name)) out.set(o.address.name.key, o.address.name);
    }
  }
  return [...out.values()];
}

/** What a reload did. */
export interface ReloadResult {
  /** True when the new configuration is being served. */
  readonly ok: boolean;
  readonly problems: readonly Problem[];
  readonly zones: number;
  readonly loadBalancers: number;
}

/**
 * What a new configuration would stop serving: zones and load balancers served now that it
 * lacks while it has errors (so their absence is a failure, not an edit that removed them).
 */
export function losses(current: LoadedConfig, next: LoadedConfig): string[] {
  if (!next.problems.some((p) => p.severity === 'error')) return [];
  const lost: string[] = [];
  for (const z of current.zones.zones) if (![...next.zones.zones].some((n) => n.origin.key === z.origin.key)) lost.push(`zone ${z.origin}`);
  for (const key of current.lb.loadBalancers.keys()) if (!next.lb.loadBalancers.has(key)) lost.push(`load balancer ${key}`);
  return lost;
}
