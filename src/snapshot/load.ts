/**
 * Loads the zones directory as a whole: zone files, then the `*.lb.yaml` load balancers that
 * live in those zones. Load-balanced names become names of their zones (so their parents are
 * empty non-terminals and other types at them are NODATA, not NXDOMAIN).
 */
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { loadLbDir } from '../lb/config.js';
import type { LbConfig } from '../lb/model.js';
import type { Name } from '../wire/name.js';
import { loadZonesDir } from '../zone/loader.js';
import type { Problem } from '../config/problem.js';
import { ZoneSet } from '../zone/zoneset.js';
import type { Journal } from '../zone/changes.js';

export interface LoadedConfig {
  readonly zones: ZoneSet;
  readonly lb: LbConfig;
  readonly problems: readonly Problem[];
  /** Zone files with errors, not served. */
  readonly failedZones: readonly string[];
  /** Files with errors served from their last good copy instead, or not at all. */
  readonly degraded: readonly DegradedFile[];
  /** The text of every file loaded without errors, as read (the next last good copies). */
  readonly sources: ReadonlyMap<string, string>;
  /**
   * SHA-256 over the files served (name and text, by name; a last good copy where it stands
   * in): the same on every instance serving the same files, whatever their order or times.
   */
  readonly digest: string;
  /** Each zone's journal of versions, for IXFR (src/xfr/journal.ts), by apex key; none kept: undefined. */
  readonly journals?: ReadonlyMap<string, Journal>;
}

export interface DegradedFile {
  readonly file: string;
  /** The file's first error. */
  readonly error: string;
  /** When its last good copy was saved; undefined when it has none and is not served. */
  readonly lastGood?: Date;
}

/** Where last good copies come from: the text saved for a file, and when. */
export interface LastGoodSource {
  get(file: string): { readonly text: string; readonly saved: Date } | undefined;
}

/**
 * Loads the zones directory. With `lastGood` (at start, when nothing else is served yet), a
 * file with errors is loaded from its last good copy instead and listed in `degraded`.
 */
export function loadConfig(dir: string, lastGood?: LastGoodSource): LoadedConfig {
  const fallback = lastGood && ((file: string) => lastGood.get(file)?.text);
  const z = loadZonesDir(dir, fallback);
  const l = loadLbDir(dir, z.zones, fallback, z.failedOrigins);
  const problems = [...z.problems, ...l.problems];
  const firstError = (file: string) => problems.find((p) => p.file === file && p.severity === 'error')?.message ?? 'errors';
  const degraded: DegradedFile[] = [];
  for (const file of [...z.replaced, ...(l.replaced ?? [])]) degraded.push({ file, error: firstError(file), lastGood: lastGood!.get(file)!.saved });
  for (const file of z.failed) degraded.push({ file, error: firstError(file) });
  const sources = new Map([...z.sources, ...(l.sources ?? [])]);
  const served = new Map(sources);
  for (const d of degraded) if (d.lastGood) served.set(d.file, lastGood!.get(d.file)!.text);
  return { zones: withLoadBalancerNames(z.zones, l.config), lb: l.config, problems, failedZones: z.failed, degraded, sources, digest: digestOf(served) };
}

function digestOf(files: ReadonlyMap<string, string>): string {
  const hash = createHash('sha256');
  for (const file of [...files.keys()].sort()) hash.update(`${basename(file)}\0${files.get(file)}\0`);
  return hash.digest('hex');
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
