/**
 * The configuration part: the zones directory loaded at start, and reloaded on request, one
 * reload at a time. A reload that would stop serving something served now (a zone or load
 * balancer lost to an error) is refused and the previous configuration stays.
 */
import type { Location } from '../geo/location.js';
import type { Logger } from '../log.js';
import { loadConfig, losses, type LoadedConfig, type ReloadResult } from '../snapshot/load.js';
import type { Part } from './part.js';

export class Configuration implements Part {
  private loaded: LoadedConfig | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly dir: string,
    /** This node's location, for the start-up log line. */
    private readonly pop: Location,
    private readonly log: Logger,
    /** Told of every reload's outcome (metrics). */
    private readonly onReload: (result: 'ok' | 'refused') => void,
    /** Serves an accepted configuration (the app tells its parts). */
    private readonly accept: (config: LoadedConfig) => void,
  ) {}

  /** The configuration being served. */
  get current(): LoadedConfig {
    if (!this.loaded) throw new Error('the configuration is read before it was loaded');
    return this.loaded;
  }

  start(): void {
    const { log, pop } = this;
    const loaded = loadConfig(this.dir);
    for (const p of loaded.problems) log[p.severity === 'error' ? 'error' : 'warn']({ file: p.file, line: p.line }, p.message);
    for (const z of loaded.zones.zones) log.info({ zone: z.origin.toString(), rrsets: z.rrsetCount }, 'zone loaded');
    log.info({ loadBalancers: loaded.lb.loadBalancers.size, pools: loaded.lb.pools.size, monitors: loaded.lb.monitors.size, pop }, 'load balancing configured');
    if (loaded.zones.size === 0) log.error({ zones: this.dir }, 'no zone could be loaded; every query will be refused');
    this.loaded = loaded;
  }

  /** Loads the zones directory again and serves it if nothing served now would be lost. Reloads run in order. */
  reload(reason = 'requested'): Promise<ReloadResult> {
    const run = this.queue.then(() => this.reloadNow(reason));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private reloadNow(reason: string): ReloadResult {
    const next = loadConfig(this.dir);
    for (const p of next.problems) this.log[p.severity === 'error' ? 'error' : 'warn']({ file: p.file, line: p.line, reload: true }, p.message);
    const counts = { zones: next.zones.size, loadBalancers: next.lb.loadBalancers.size };
    const lost = losses(this.current, next);
    if (lost.length > 0) {
      this.onReload('refused');
      this.log.error({ reason, lost }, 'reload refused: it would stop serving what is served now; the previous configuration stays');
      return { ok: false, problems: next.problems, ...counts };
    }
    // One swap for zones and load balancers; health follows with a view for the new pools,
    // which keeps the state of origins that still exist. Overrides stay in force.
    this.accept(next);
    this.loaded = next;
    this.onReload('ok');
    this.log.info({ reason, ...counts, problems: next.problems.length }, 'configuration reloaded');
    return { ok: true, problems: next.problems, ...counts };
  }
}
