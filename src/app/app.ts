/**
 * The running nameserver as `steerdns serve` starts it, put together from its parts in
 * start-up order (each in its own file here, with a start, a say in each new configuration
 * and a stop). Tests start this same thing in-process.
 */
import { localStats, Metrics, type QueryStats } from '../api/metrics.js';
import { AnswerCache, DEFAULT_ANSWER_CACHE_SIZE } from '../answer/answer-cache.js';
import type { GeoOptions } from '../geo/locator.js';
import type { Location } from '../geo/location.js';
import { viewOf, type HealthData } from '../health/data.js';
import type { HealthMonitor } from '../health/monitor.js';
import { probeFor, targetFor } from '../health/probes.js';
import { DEFAULT_HOSTNAME_OPTIONS, HostnameCache } from '../lb/hostnames.js';
import { ALL_HEALTHY } from '../lb/model.js';
import { applyOverrides, type Override, type Overrides } from '../lb/overrides.js';
import { PinTable } from '../lb/persistence.js';
import type { Logger } from '../log.js';
import type { BindMode } from '../server/listen.js';
import type { RrlOptions } from '../server/rrl.js';
import type { ListenAddress, RunningServer } from '../server/server.js';
import type { TcpOptions } from '../server/tcp.js';
import { externalHostnames, type LoadedConfig, type ReloadResult } from '../snapshot/load.js';
import type { SnapshotStore } from '../snapshot/store.js';
import type { Identity, TransferSettings } from '../snapshot/snapshot.js';
import type { CookieSecrets, ServerCookies } from '../wire/server-cookies.js';
import { Configuration } from './configuration.js';
import { CookieRotation } from './cookies.js';
import { Geolocation } from './geolocation.js';
import { Health, probeAddresses } from './health.js';
import { cacheStatistics, directoryWatch, trafficSampler } from './housekeeping.js';
import { HISTORY_INTERVAL_MS, TrafficHistory } from '../api/history.js';
import { RecentChanges } from '../health/events.js';
import { Listeners } from './listeners.js';
import { startParts, stopParts, type Part } from './part.js';
import { RuntimeOverrides } from './overrides.js';
import { Snapshots } from './snapshots.js';
import { Transfers } from './transfers.js';
import { applySerialPolicies } from '../xfr/serial.js';
import { journalsFor } from '../xfr/journal.js';
import { StateDir } from '../config/state.js';

export type { ReloadResult };

export interface AppOptions {
  readonly zonesDir: string;
  readonly listen: readonly ListenAddress[];
  readonly log: Logger;
  readonly pop?: Location;
  readonly tcp?: Partial<TcpOptions>;
  /** Resolvers (HOST:PORT) for hostname origins outside our zones; default: the system's. */
  readonly resolvers?: readonly string[];
  /** Random source for weighted choices (seeded in tests). */
  readonly random?: () => number;
  /** Concurrent probe attempts across all monitors. */
  readonly probeConcurrency?: number;
  /** Geolocation databases, overrides and cache size (default: the shipped country database). */
  readonly geo?: GeoOptions;
  /** ASN mmdb for persistence keyed on `resolver_network`. */
  readonly asnDatabase?: string;
  /** Pins kept for DNS persistence (default 100,000). */
  readonly persistenceMaxEntries?: number;
  /** Entries per generation of the answer cache (default 10,000); 0 turns it off. */
  readonly answerCacheSize?: number;
  /** Response rate limiting of UDP responses (--rrl ...); default off. */
  readonly rrl?: RrlOptions;
  /** DNS Cookies secrets (--cookie-secret); default: a random one for this process. */
  readonly cookieSecrets?: CookieSecrets;
  /** Draw a new random cookie secret this often (ms), the previous one still accepted; 0: never (a configured secret). */
  readonly cookieRotateMs?: number;
  /** Told of each rotation (a primary passes the secrets on to its workers). */
  readonly onCookieRotate?: (secrets: CookieSecrets) => void;
  /**
   * Where health comes from: `probe` (default) runs the monitors here; `remote` runs none and
   * takes what `setHealthData` is given (a worker, fed by the primary that probes).
   */
  readonly health?: 'probe' | 'remote';
  /** How the sockets are bound (src/server/listen.ts): a cluster worker's `shared` or `reuseport`; default `exclusive`. */
  readonly bind?: BindMode;
  /** With `health: 'remote'`: the health to answer with from the first query (the primary's). */
  readonly initialHealth?: HealthData;
  /** Runtime overrides in force from the first query (a worker: its primary's). */
  readonly initialOverrides?: readonly Override[];
  /** Where /metrics reads the query path's figures (a primary: its workers'); default this process's. */
  readonly queryStats?: () => Promise<QueryStats>;
  /** Reasons, besides zones and health, that this instance is not ready yet (workers starting). */
  readonly notReady?: () => readonly string[];
  /**
   * The state directory: runtime overrides, last known health and last good copies of the
   * files are kept there across restarts. Undefined: nothing is kept (a worker, tests).
   */
  readonly stateDir?: string;
  /** A worker's app: it reads the state directory (last good copies) and writes nothing there. */
  readonly worker?: boolean;
  /** Open the listeners once the first health round is done, or after this long at most (ms); 0 or undefined: at once. */
  readonly startupWaitMs?: number;
  /** NSID and CHAOS identity (src/answer/identity.ts); undefined: NSID not sent, CHAOS refused. */
  readonly identity?: Identity;
  /** TSIG keys and per-zone transfer settings (allow-transfer, notify); undefined: transfers refused. */
  readonly transfer?: TransferSettings;
  /** Clock of the pin table in milliseconds (tests). */
  readonly now?: () => number;
  /** Reload when files in the zones directory change, after this quiet time (ms); 0 = do not watch. */
  readonly watchDebounceMs?: number;
  /** Log cache statistics this often (ms); default 15 minutes, 0 = never. */
  readonly statsIntervalMs?: number;
  /** Sample traffic for the status page's charts this often (ms); default 5 s; 0 = never (a worker never does). */
  readonly historyIntervalMs?: number;
}

export interface App {
  readonly server: RunningServer;
  readonly store: SnapshotStore;
  readonly health: HealthMonitor;
  readonly persistence: PinTable;
  readonly metrics: Metrics;
  /** The configuration being served (replaced by each successful reload). */
  readonly loaded: LoadedConfig;
  /** Loads the zones directory again and swaps it in if nothing served now would be lost. */
  reload(reason?: string): Promise<ReloadResult>;
  /** Runtime overrides from the admin API, kept across reloads until cleared. */
  readonly overrides: Overrides;
  /**
   * Forces a pool (or an origin of it) enabled or disabled, or clears that override
   * (`enabled` undefined). Returns false when no such pool or origin is configured.
   */
  setOverride(pool: string, origin: string | undefined, enabled: boolean | undefined): boolean;
  /** Replaces every override at once (a worker following its primary). */
  replaceOverrides(list: readonly Override[]): void;
  /** Health from the primary (with `health: 'remote'`). */
  setHealthData(data: HealthData): void;
  /** What this process's query path has done (metrics; a worker reports it to the primary). */
  queryStats(): QueryStats;
  /** Reasons, besides zones and health, that this instance is not ready yet. */
  notReady(): readonly string[];
  /** DNS Cookies: the server cookie secrets (state beside the snapshot, like the pins). */
  readonly cookies: ServerCookies;
  /** The last 50 state changes the health monitor announced (the status page). */
  readonly changes: RecentChanges;
  /** Steering decisions per load balancer and pool over the last 15 minutes (the status page). */
  readonly history: TrafficHistory;
  /** When this app started (ms since the epoch). */
  readonly startedAt: number;
  close(): Promise<void>;
}

/** The state directory, made if missing; one that cannot be made is logged, and nothing is kept across restarts. */
function openStateDir(path: string | undefined, log: Logger, readOnly = false): StateDir | undefined {
  if (path === undefined) return undefined;
  const state = new StateDir(path);
  if (readOnly) return state;
  try {
    state.ensure();
    return state;
  } catch (err) {
    log.error({ err: (err as Error).message }, 'no state directory: overrides, health and last good files will not survive a restart');
    return undefined;
  }
}

export async function startApp(opts: AppOptions): Promise<App> {
  const { log } = opts;
  const startedAt = Date.now();
  const changes = new RecentChanges(50);
  const history = new TrafficHistory(opts.worker ? 0 : (opts.historyIntervalMs ?? HISTORY_INTERVAL_MS));
  const pins = new PinTable({ maxEntries: opts.persistenceMaxEntries, now: opts.now });
  const cacheSize = opts.answerCacheSize ?? DEFAULT_ANSWER_CACHE_SIZE;
  const answerCache = cacheSize > 0 ? new AnswerCache(cacheSize) : undefined;
  const hostnames = new HostnameCache(log, { ...DEFAULT_HOSTNAME_OPTIONS, servers: opts.resolvers });
  /** Tells every part, in order, of the configuration now served. */
  const serve = (config: LoadedConfig): void => {
    const served = { config, lb: applyOverrides(config.lb, overrides.current) };
    for (const p of parts) p.serve?.(served);
  };

  const state = openStateDir(opts.stateDir, log, opts.worker);
  // Serial policies raise the SOA serial of changed zone files (the primary keeps what it served; a worker reads it).
  const withSerials = (loaded: LoadedConfig): LoadedConfig => {
    const r = applySerialPolicies(loaded, opts.transfer, state, !opts.worker);
    if (r.problem) log.warn(r.problem);
    if (!opts.worker) for (const x of r.raised) log.info(x, 'serving a serial raised by the serial policy');
    return r.config;
  };
  // Journals of zone versions for IXFR: the primary adds each new version and keeps them; a worker reads them.
  const withJournals = (loaded: LoadedConfig): LoadedConfig => {
    if (!opts.transfer || opts.transfer.zones.size === 0) return loaded;
    return { ...loaded, journals: journalsFor(loaded, config.served, state, !opts.worker, log) };
  };
  const config = new Configuration(opts.zonesDir, opts.pop ?? {}, log, (result) => metrics.reloads.inc({ result }), serve, state, opts.worker, (loaded) => withJournals(withSerials(loaded)));
  // What the state directory keeps is the primary's to write; a worker follows its primary.
  const kept = opts.worker ? undefined : state;
  const geo = new Geolocation(opts.geo, opts.asnDatabase, log);
  const cookies = new CookieRotation(opts.cookieSecrets, opts.cookieRotateMs ?? 0, opts.onCookieRotate, log);
  const overrides = new RuntimeOverrides(opts.initialOverrides, () => config.current, () => serve(config.current), log, kept);
  const snapshots = new Snapshots(() => ({
    zones: config.current.zones,
    lb: applyOverrides(config.current.lb, overrides.current),
    health: ALL_HEALTHY,
    pop: opts.pop ?? {},
    hostnames,
    random: opts.random ?? Math.random,
    geo: geo.locator,
    asn: geo.asn,
    // State beside the configuration: every snapshot swapped in (health, reload) carries the same.
    persistence: pins,
    cookies: cookies.cookies,
    identity: opts.identity,
    transfer: opts.transfer,
    journals: config.current.journals,
  }));
  const health = new Health(
    opts.health ?? 'probe',
    {
      probe: (target, signal) => probeFor(target.monitor.type)(target, signal),
      targetFor,
      resolveAddresses: probeAddresses(() => snapshots.store.current, hostnames),
      onChange: (view) => snapshots.store.setHealth(view),
      onRound: (monitor, round) => metrics.probe(monitor, round),
      onStateChange: (change) => changes.add(change),
      log,
      concurrency: opts.probeConcurrency,
    },
    () => config.current.lb,
    opts.initialHealth,
    kept,
  );
  // Metrics read health, pins, caches and geolocation when scraped.
  const metrics = new Metrics({ health: health.monitor, persistence: pins, answerCache, get geo() { return geo.locator; }, degraded: () => config.current.degraded, digest: () => config.current.digest }, opts.queryStats);
  const listeners = new Listeners(
    { listen: opts.listen, snapshot: () => snapshots.store.current, log, tcp: opts.tcp, observe: metrics.observe, answerCache, bind: opts.bind },
    opts.rrl,
    { when: () => health.monitor.whenFirstRoundDone(), startupWaitMs: opts.startupWaitMs ?? 0, pending: () => health.monitor.firstRoundPending() },
  );

  // A worker's primary notifies; the worker only answers transfers.
  const transfers: Part = opts.worker ? {} : new Transfers(opts.transfer, () => config.current, log);

  // In start-up order; they stop in reverse.
  const parts: Part[] = [
    config, // the zones directory, loaded
    geo, // databases that locate clients
    cookies, // server cookie secrets, rotated
    overrides, // pools and origins forced on or off through the API, restored
    { // hostname origins outside our zones, resolved in the background
      start: () => hostnames.track(externalHostnames(config.current)),
      serve: (s) => hostnames.track(externalHostnames(s.config)),
      stop: () => hostnames.stop(),
    },
    snapshots, // the store queries read, made from all of the above
    health, // monitors probing (or the primary's health)
    listeners, // UDP and TCP, answering
    transfers, // NOTIFY to secondaries when a zone's serial changes
    // a log line with the caches' figures now and then, and reloads when the zones directory changes
    cacheStatistics(opts.statsIntervalMs ?? 15 * 60_000, log, () => geo.locator, pins),
    directoryWatch(opts.zonesDir, opts.watchDebounceMs ?? 1000, () => void config.reload('files changed').catch((err) => log.error({ err }, 'reload failed')), log),
    trafficSampler(history, () => metrics.queryStats(), log), // the status page's charts
  ];
  await startParts(parts);

  return {
    server: listeners.server,
    store: snapshots.store,
    health: health.monitor,
    persistence: pins,
    metrics,
    get loaded() {
      return config.current;
    },
    reload: (reason) => config.reload(reason),
    get overrides() {
      return overrides.current;
    },
    setOverride: (pool, origin, enabled) => overrides.set(pool, origin, enabled),
    replaceOverrides: (list) => overrides.replace(list),
    setHealthData: (data) => snapshots.store.setHealth(viewOf(data)),
    queryStats: () => localStats(metrics.tally, answerCache, geo.locator, pins),
    notReady: () => opts.notReady?.() ?? [],
    cookies: cookies.cookies,
    changes,
    history,
    startedAt,
    close: () => stopParts(parts),
  };
}
