/**
 * The configuration part: the zones directory loaded at start, and reloaded on request, one
 * reload at a time. A reload that would stop serving something served now (a zone or load
 * balancer lost to an error) is refused and the previous configuration stays.
 */
import type { Location } from '../geo/location.js';
import type { Logger } from '../log.js';
import type { StateDir } from '../config/state.js';
import { LastGoodFiles } from '../snapshot/last-good.js';
import { loadConfig, losses, type LoadedConfig, type ReloadResult } from '../snapshot/load.js';
import type { Part } from './part.js';

export class Configuration implements Part {
  private loaded: LoadedConfig | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly lastGood: LastGoodFiles | undefined;

  constructor(
    private readonly dir: string,
    /** This node's location, for the start-up log line. */
    private readonly pop: Location,
    private readonly log: Logger,
    /** Told of every reload's outcome (metrics). */
    private readonly onReload: (result: 'ok' | 'refused') => void,
    /** Serves an accepted configuration (the app tells its parts). */
    private readonly accept: (config: LoadedConfig) => void,
    /** Where last good copies of the files are kept; none: a broken file at start is left out. */
    state?: StateDir,
    /**
     * A worker's: its primary loads the same files, logs their problems once and keeps the
     * last good copies; this one reads the copies and logs at debug level.
     */
    private readonly worker = false,
    /** Applied to every configuration loaded, before it is served (serial policies). */
    private readonly adjust: (config: LoadedConfig) => LoadedConfig = (c) => c,
  ) {
    this.lastGood = state && new LastGoodFiles(state);
  }

  /** The level to log at: as given, or debug in a worker, whose primary says the same once. */
  private readonly at = (level: 'error' | 'warn' | 'info'): 'error' | 'warn' | 'info' | 'debug' => (this.worker ? 'debug' : level);

  /** The configuration served, or undefined before the first load. */
  get served(): LoadedConfig | undefined {
    return this.loaded;
  }

  /** The configuration being served. */
  get current(): LoadedConfig {
    if (!this.loaded) throw new Error('the configuration is read before it was loaded');
    return this.loaded;
  }

  start(): void {
    const { log, pop } = this;
    const at = this.at;
    // Nothing is served yet: a file with errors is served from its last good copy where there is one.
    const loaded = this.adjust(loadConfig(this.dir, this.lastGood));
    for (const p of loaded.problems) log[at(p.severity === 'error' ? 'error' : 'warn')]({ file: p.file, line: p.line }, p.message);
    for (const d of loaded.degraded) {
      if (d.lastGood) log[at('error')]({ file: d.file, lastGood: d.lastGood.toISOString(), error: d.error }, 'file has errors: serving its last good copy instead; fix the file and reload');
      else log[at('error')]({ file: d.file, error: d.error }, 'file has errors and no last good copy: what it holds is not served; fix the file and reload');
    }
    for (const z of loaded.zones.zones) log[at('info')]({ zone: z.origin.toString(), rrsets: z.rrsetCount }, 'zone loaded');
    log[at('info')]({ loadBalancers: loaded.lb.loadBalancers.size, pools: loaded.lb.pools.size, monitors: loaded.lb.monitors.size, pop, digest: short(loaded.digest) }, 'load balancing configured');
    if (loaded.zones.size === 0) log[at('error')]({ zones: this.dir }, 'no zone could be loaded; every query will be refused');
    this.loaded = loaded;
    this.saveLastGood(loaded);
  }

  /** Keeps the files of an accepted configuration that loaded without errors as their last good copies. */
  private saveLastGood(config: LoadedConfig): void {
    if (!this.lastGood || this.worker) return;
    try {
      const saved = this.lastGood.save(config.sources);
      if (saved.length > 0) this.log.debug({ files: saved }, 'last good copies saved');
    } catch (err) {
      this.log.warn({ err }, 'cannot save last good copies of the configuration in the state directory');
    }
  }

  /** Loads the zones directory again and serves it if nothing served now would be lost. Reloads run in order. */
  reload(reason = 'requested'): Promise<ReloadResult> {
    const run = this.queue.then(() => this.reloadNow(reason));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private reloadNow(reason: string): ReloadResult {
    const loaded = loadConfig(this.dir);
    for (const p of loaded.problems) this.log[this.at(p.severity === 'error' ? 'error' : 'warn')]({ file: p.file, line: p.line, reload: true }, p.message);
    const counts = { zones: loaded.zones.size, loadBalancers: loaded.lb.loadBalancers.size };
    const lost = losses(this.current, loaded);
    if (lost.length > 0) {
      this.onReload('refused');
      this.log.error({ reason, lost }, 'reload refused: it would stop serving what is served now; the previous configuration stays');
      return { ok: false, problems: loaded.problems, ...counts };
    }
    // Only a configuration that will be served raises serials and enters the journal.
    const next = this.adjust(loaded);
    // One swap for zones and load balancers; health follows with a view for the new pools,
    // which keeps the state of origins that still exist. Overrides stay in force.
    this.accept(next);
    this.loaded = next;
    this.saveLastGood(next);
    this.onReload('ok');
    this.log.info({ reason, ...counts, problems: next.problems.length, digest: short(next.digest) }, 'configuration reloaded');
    return { ok: true, problems: next.problems, ...counts };
  }
}

/** The first 12 hex digits of a configuration digest: enough to tell instances apart, short enough to read. */
export function short(digest: string): string {
  return digest.slice(0, 12);
}

