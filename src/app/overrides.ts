/**
 * The runtime overrides part: pools and origins forced enabled or disabled through the admin
 * API, kept across reloads until cleared, and across restarts in the state directory
 * (`overrides.json`, written when one is set). Each change serves the configuration again
 * with the overrides applied (src/lb/overrides.ts).
 */
import type { StateDir } from '../config/state.js';
import { overrideKey, overridesOf, type Override, type Overrides } from '../lb/overrides.js';
import type { Logger } from '../log.js';
import type { LoadedConfig } from '../snapshot/load.js';
import type { Part } from './part.js';

const FILE = 'overrides.json';
const KIND = 'overrides/1';

export class RuntimeOverrides implements Part {
  private map: Overrides;

  constructor(
    /** In force from the first query (a worker: its primary's); undefined: restored from the state directory. */
    private readonly initial: readonly Override[] | undefined,
    private readonly config: () => LoadedConfig,
    /** Serves the configuration again (the app tells its parts). */
    private readonly serveAgain: () => void,
    private readonly log: Logger,
    /** Where they are kept across restarts; none: they last as long as the process. */
    private readonly state?: StateDir,
  ) {
    this.map = overridesOf(initial ?? []);
  }

  get current(): Overrides {
    return this.map;
  }

  /** Restores the overrides in force before a restart (those whose pool and origin still exist). */
  start(): void {
    if (this.initial !== undefined || !this.state) return;
    const read = this.state.readJson(FILE, KIND, overrideList);
    if (read.problem) this.log.warn(read.problem);
    if (!read.value) return;
    const kept = read.value.filter((o) => {
      if (this.exists(o.pool, o.origin)) return true;
      this.log.warn({ pool: o.pool, origin: o.origin, enabled: o.enabled }, 'runtime override not restored: no such pool or origin any more');
      return false;
    });
    this.map = overridesOf(kept);
    if (kept.length > 0) this.log.warn({ overrides: kept, since: read.written?.toISOString() }, 'runtime overrides restored from the state directory');
  }

  /**
   * Forces a pool (or an origin of it) enabled or disabled, or clears that override
   * (`enabled` undefined). False when no such pool or origin is configured.
   */
  set(pool: string, origin: string | undefined, enabled: boolean | undefined): boolean {
    if (!this.exists(pool, origin)) return false;
    const next = new Map(this.map);
    const key = overrideKey(pool, origin);
    if (enabled === undefined) next.delete(key);
    else next.set(key, { pool, origin, enabled });
    this.map = next;
    this.persist();
    this.serveAgain();
    this.log.info({ pool, origin, enabled: enabled ?? 'as configured' }, 'runtime override set');
    return true;
  }

  /** Replaces every override at once (a worker following its primary). */
  replace(list: readonly Override[]): void {
    this.map = overridesOf(list);
    this.persist();
    this.serveAgain();
  }

  private exists(pool: string, origin: string | undefined): boolean {
    const p = this.config().lb.pools.get(pool);
    return p !== undefined && (origin === undefined || p.origins.some((o) => o.name === origin));
  }

  private persist(): void {
    if (!this.state) return;
    try {
      this.state.writeJson(FILE, KIND, [...this.map.values()]);
    } catch (err) {
      this.log.error({ err }, 'cannot write the runtime overrides to the state directory; they will not survive a restart');
    }
  }
}

/** The overrides a state file holds, or undefined when it holds something else. */
function overrideList(data: unknown): Override[] | undefined {
  if (!Array.isArray(data)) return undefined;
  const out: Override[] = [];
  for (const o of data as unknown[]) {
    const v = o as Partial<Override> | null;
    if (typeof v !== 'object' || v === null || typeof v.pool !== 'string' || typeof v.enabled !== 'boolean' || (v.origin !== undefined && typeof v.origin !== 'string')) return undefined;
    out.push({ pool: v.pool, origin: v.origin, enabled: v.enabled });
  }
  return out;
}
