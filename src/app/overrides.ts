/**
 * Runtime overrides: pools and origins forced enabled or disabled through the admin
 * API, kept across reloads until cleared. Each change serves the configuration again with the
 * overrides applied (src/lb/overrides.ts).
 */
import { overrideKey, overridesOf, type Override, type Overrides } from '../lb/overrides.js';
import type { Logger } from '../log.js';
import type { LoadedConfig } from '../snapshot/load.js';

export class RuntimeOverrides {
  private map: Overrides;

  constructor(
    /** In force from the first query (a worker: its primary's). */
    initial: readonly Override[],
    private readonly config: () => LoadedConfig,
    /** Serves the configuration again (the app tells its parts). */
    private readonly serveAgain: () => void,
    private readonly log: Logger,
  ) {
    this.map = overridesOf(initial);
  }

  get current(): Overrides {
    return this.map;
  }

  /**
   * Forces a pool (or an origin of it) enabled or disabled, or clears that override
   * (`enabled` undefined). False when no such pool or origin is configured.
   */
  set(pool: string, origin: string | undefined, enabled: boolean | undefined): boolean {
    const p = this.config().lb.pools.get(pool);
    if (!p || (origin !== undefined && !p.origins.some((o) => o.name === origin))) return false;
    const next = new Map(this.map);
    const key = overrideKey(pool, origin);
    if (enabled === undefined) next.delete(key);
    else next.set(key, { pool, origin, enabled });
    this.map = next;
    this.serveAgain();
    this.log.info({ pool, origin, enabled: enabled ?? 'as configured' }, 'runtime override set');
    return true;
  }

  /** Replaces every override at once (a worker following its primary). */
  replace(list: readonly Override[]): void {
    this.map = overridesOf(list);
    this.serveAgain();
  }
}
