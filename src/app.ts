/**
 * The running nameserver as `steerdns serve` starts it: configuration loaded once, hostname
 * origins kept resolved, health monitors probing, the snapshot store that health changes swap
 * into, and the UDP/TCP listeners answering from it. Tests start this same thing in-process.
 */
import { watch, type FSWatcher } from 'node:fs';
import { localStats, Metrics, type QueryStats } from './api/metrics.js';
import { externalHostnames, loadConfig, type LoadedConfig } from './snapshot/load.js';
import type { Problem } from './config/problem.js';
import { applyOverrides, overrideKey, overridesOf, type Override, type Overrides } from './lb/overrides.js';
import type { Snapshot } from './snapshot/snapshot.js';
import { SnapshotStore } from './snapshot/store.js';
import { AnswerCache, DEFAULT_ANSWER_CACHE_SIZE } from './answer/answer-cache.js';
import { randomCookieSecrets, ServerCookies, type CookieSecrets } from './wire/server-cookies.js';
import { viewOf, type HealthData } from './health/data.js';
import { rdataText } from './wire/present.js';
import { T, typeToText } from './wire/types.js';
import { HealthMonitor } from './health/monitor.js';
import { openGeoLocator, type GeoLocator, type GeoOptions } from './geo/locator.js';
import { openAsnDatabase } from './geo/asn.js';
import { icmpUnavailable } from './health/icmp-check.js';
import { probeFor, targetFor } from './health/probes.js';
import { DEFAULT_HOSTNAME_OPTIONS, HostnameCache } from './lb/hostnames.js';
import { ALL_HEALTHY, type Origin } from './lb/model.js';
import { type Location } from './geo/location.js';
import { PinTable } from './lb/persistence.js';
import { type AsnLookup } from './geo/asn.js';
import type { Logger } from './log.js';
import { startServer, type ListenAddress, type RunningServer } from './server/server.js';
import type { TcpOptions } from './server/tcp.js';
import { ResponseRateLimiter, type RrlOptions } from './server/rrl.js';

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
  /** Listen with the port shared by several processes (cluster workers). */
  readonly sharedPorts?: boolean;
  /** With `health: 'remote'`: the health to answer with from the first query (the primary's). */
  readonly initialHealth?: HealthData;
  /** Runtime overrides in force from the first query (a worker: its primary's). */
  readonly initialOverrides?: readonly Override[];
  /** Where /metrics reads the query path's figures (a primary: its workers'); default this process's. */
  readonly queryStats?: () => Promise<QueryStats>;
  /** Reasons, besides zones and health, that this instance is not ready yet (workers starting). */
  readonly notReady?: () => readonly string[];
  /** Clock of the pin table in milliseconds (tests). */
  readonly now?: () => number;
  /** Reload when files in the zones directory change, after this quiet time (ms); 0 = do not watch. */
  readonly watchDebounceMs?: number;
  /** Log cache statistics this often (ms); default 15 minutes, 0 = never. */
  readonly statsIntervalMs?: number;
}

export interface ReloadResult {
  /** True when the new configuration is being served. */
  readonly ok: boolean;
  readonly problems: readonly Problem[];
  readonly zones: number;
  readonly loadBalancers: number;
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
  close(): Promise<void>;
}

export async function startApp(opts: AppOptions): Promise<App> {
  const { log } = opts;
  const loaded = loadConfig(opts.zonesDir);
  for (const p of loaded.problems) log[p.severity === 'error' ? 'error' : 'warn']({ file: p.file, line: p.line }, p.message);
  for (const z of loaded.zones.zones) log.info({ zone: z.origin.toString(), rrsets: z.rrsetCount }, 'zone loaded');
  log.info({ loadBalancers: loaded.lb.loadBalancers.size, pools: loaded.lb.pools.size, monitors: loaded.lb.monitors.size, pop: opts.pop ?? {} }, 'load balancing configured');
  if (loaded.zones.size === 0) log.error({ zones: opts.zonesDir }, 'no zone could be loaded; every query will be refused');

  const icmp = await icmpUnavailable(loaded.lb);
  if (icmp) log.error({ monitors: icmp.monitors.map((m) => m.name), detail: icmp.detail }, 'ICMP monitors cannot run on this system; their origins stay unhealthy');

  const geo = await openGeoLocator(opts.geo);
  for (const p of geo.problems) log[p.severity === 'error' ? 'error' : 'warn']({ file: p.file, line: p.line }, p.message);

  let asn: AsnLookup | undefined;
  if (opts.asnDatabase !== undefined) {
    const opened = await openAsnDatabase(opts.asnDatabase);
    for (const p of opened.problems) log.error({ file: p.file }, p.message);
    asn = opened.asn;
  }
  // State beside the snapshot: every snapshot swapped in (health, reload) carries the same table.
  const persistence = new PinTable({ maxEntries: opts.persistenceMaxEntries, now: opts.now });
  const cookies = new ServerCookies(opts.cookieSecrets ?? randomCookieSecrets());
  const rotation = (opts.cookieRotateMs ?? 0) > 0 ? setInterval(() => {
    cookies.rotate(randomCookieSecrets().current);
    opts.onCookieRotate?.(cookies.current);
    log.info('DNS cookie secret rotated');
  }, opts.cookieRotateMs) : undefined;
  rotation?.unref();

  const hostnames = new HostnameCache(log, { ...DEFAULT_HOSTNAME_OPTIONS, servers: opts.resolvers });
  hostnames.track(externalHostnames(loaded));
  const snapshot: Snapshot = { zones: loaded.zones, lb: loaded.lb, health: ALL_HEALTHY, pop: opts.pop ?? {}, hostnames, random: opts.random ?? Math.random, geo: geo.locator, asn, persistence, cookies };
  const store = new SnapshotStore(snapshot);
  // Overrides handed over at start (a worker's primary's) are in force before the first query.
  const initialOverrides = overridesOf(opts.initialOverrides ?? []);
  if (initialOverrides.size > 0) store.replace({ ...store.current, lb: applyOverrides(loaded.lb, initialOverrides) });

  /** Where to probe an origin: its IP, or the addresses its hostname has now. */
  const resolveAddresses = (origin: Origin): readonly string[] | undefined => {
    const a = origin.address;
    if (a.kind !== 'hostname') return [a.ip];
    const zone = store.current.zones.find(a.name);
    if (!zone) return hostnames.addresses(a.name);
    const out: string[] = [];
    for (const type of [T.A, T.AAAA]) {
      const r = zone.lookup(a.name, type);
      if (r.kind === 'answer') for (const rdata of r.rrset.rdatas) out.push(rdataText(type, rdata));
    }
    return out;
  };
  // Metrics read health at scrape time; the monitor, made next, reports each round to them.
  const cacheSize = opts.answerCacheSize ?? DEFAULT_ANSWER_CACHE_SIZE;
  const answerCache = cacheSize > 0 ? new AnswerCache(cacheSize) : undefined;
  const metrics = new Metrics({ get health() { return health; }, persistence, answerCache }, geo.locator, opts.queryStats);
  const health: HealthMonitor = new HealthMonitor({
    probe: (target, signal) => probeFor(target.monitor.type)(target, signal),
    targetFor,
    resolveAddresses,
    onChange: (view) => store.setHealth(view),
    onRound: metrics.probe,
    log,
    concurrency: opts.probeConcurrency,
  });
  const remoteHealth = opts.health === 'remote';
  if (!remoteHealth) {
    // Monitored origins count as down until their first result; the view starts that way.
    store.setHealth(health.view());
    health.start(loaded.lb);
  } else {
    // The primary's view, or monitored origins down until it says otherwise.
    store.setHealth(viewOf(opts.initialHealth ?? { pools: [] }));
  }

  let server: RunningServer;
  try {
    const rrl = opts.listen.length > 0 ? rateLimiter(opts.rrl, log) : undefined; // a primary with workers answers nothing
    server = await startServer({ listen: opts.listen, snapshot: () => store.current, log, tcp: opts.tcp, observe: metrics.observe, answerCache, rrl, shared: opts.sharedPorts });
  } catch (err) {
    health.stop();
    hostnames.stop();
    throw err;
  }
  let current = loaded;
  let overrides = initialOverrides;
  let queue: Promise<unknown> = Promise.resolve();
  /** Swaps in `cfg` with the overrides applied: one snapshot, then health for it. */
  const swapIn = (cfg: LoadedConfig): void => {
    const lb = applyOverrides(cfg.lb, overrides);
    hostnames.track(externalHostnames(cfg));
    store.replace({ ...store.current, zones: cfg.zones, lb });
    health.update(lb);
  };
  const setOverride = (pool: string, origin: string | undefined, enabled: boolean | undefined): boolean => {
    const p = current.lb.pools.get(pool);
    if (!p || (origin !== undefined && !p.origins.some((o) => o.name === origin))) return false;
    const next = new Map(overrides);
    const key = overrideKey(pool, origin);
    if (enabled === undefined) next.delete(key);
    else next.set(key, { pool, origin, enabled });
    overrides = next;
    swapIn(current);
    log.info({ pool, origin, enabled: enabled ?? 'as configured' }, 'runtime override set');
    return true;
  };
  const reloadNow = (reason: string): ReloadResult => {
    const next = loadConfig(opts.zonesDir);
    for (const p of next.problems) log[p.severity === 'error' ? 'error' : 'warn']({ file: p.file, line: p.line, reload: true }, p.message);
    const counts = { zones: next.zones.size, loadBalancers: next.lb.loadBalancers.size };
    const lost = losses(current, next);
    if (lost.length > 0) {
      metrics.reloads.inc({ result: 'refused' });
      log.error({ reason, lost }, 'reload refused: it would stop serving what is served now; the previous configuration stays');
      return { ok: false, problems: next.problems, ...counts };
    }
    // One swap for zones and load balancers; health follows with a view for the new pools,
    // which keeps the state of origins that still exist. Overrides stay in force.
    swapIn(next);
    current = next;
    metrics.reloads.inc({ result: 'ok' });
    log.info({ reason, ...counts, problems: next.problems.length }, 'configuration reloaded');
    return { ok: true, problems: next.problems, ...counts };
  };
  // Reloads run one at a time, in order.
  const reload = (reason = 'requested'): Promise<ReloadResult> => {
    const run = queue.then(() => reloadNow(reason));
    queue = run.catch(() => undefined);
    return run;
  };
  const stats = logStatsEvery(opts.statsIntervalMs ?? 15 * 60_000, log, geo.locator, persistence);
  const watcher = watchDirectory(opts.zonesDir, opts.watchDebounceMs ?? 1000, () => void reload('files changed').catch((err) => log.error({ err }, 'reload failed')), log);

  return {
    server,
    store,
    health,
    persistence,
    metrics,
    get loaded() {
      return current;
    },
    reload,
    get overrides() {
      return overrides;
    },
    setOverride,
    replaceOverrides: (list) => {
      overrides = overridesOf(list);
      swapIn(current);
    },
    setHealthData: (data) => store.setHealth(viewOf(data)),
    queryStats: () => localStats(metrics.tally, answerCache, geo.locator, persistence),
    notReady: () => opts.notReady?.() ?? [],
    cookies,
    close: async () => {
      clearInterval(stats);
      clearInterval(rotation);
      watcher?.close();
      health.stop();
      hostnames.stop();
      await server.close();
    },
  };
}

/**
 * What a new configuration would stop serving: zones and load balancers served now that it
 * lacks while it has errors (so their absence is a failure, not an edit that removed them).
 */
function losses(current: LoadedConfig, next: LoadedConfig): string[] {
  if (!next.problems.some((p) => p.severity === 'error')) return [];
  const lost: string[] = [];
  for (const z of current.zones.zones) if (![...next.zones.zones].some((n) => n.origin.key === z.origin.key)) lost.push(`zone ${z.origin}`);
  for (const key of current.lb.loadBalancers.keys()) if (!next.lb.loadBalancers.has(key)) lost.push(`load balancer ${key}`);
  return lost;
}

/** The response rate limiter for `opts`, logging each client network it starts limiting; none when off. */
function rateLimiter(opts: RrlOptions | undefined, log: Logger): ResponseRateLimiter | undefined {
  if (!opts) return undefined;
  const rrl = new ResponseRateLimiter(opts, {
    onLimited: (e) => log.warn({ network: e.network, class: e.kind, name: e.name || undefined, qtype: e.qtype ? typeToText(e.qtype) : undefined, rate: e.rate, logOnly: opts.logOnly || undefined, suppressed: e.suppressed || undefined }, 'response rate limiting a client network'),
  });
  return rrl.enabled ? rrl : undefined;
}

/** Periodic line with the geolocation cache's size and hit rate and the persistence table's. */
function logStatsEvery(ms: number, log: Logger, geo: GeoLocator, pins: PinTable): NodeJS.Timeout | undefined {
  if (ms <= 0) return undefined;
  const rate = (hits: number, misses: number) => (hits + misses === 0 ? null : Math.round((1000 * hits) / (hits + misses)) / 10);
  const timer = setInterval(() => {
    const g = geo.stats();
    log.info(
      {
        geoCache: { entries: g.entries, capacity: g.capacity, hits: g.hits, misses: g.misses, hitRatePercent: rate(g.hits, g.misses) },
        persistence: { pins: pins.size, hits: pins.hits, misses: pins.misses, repins: pins.repins },
      },
      'cache statistics',
    );
  }, ms);
  timer.unref();
  return timer;
}

/** Calls `onChange` once things have been quiet for `debounceMs` after a change in `dir`. */
function watchDirectory(dir: string, debounceMs: number, onChange: () => void, log: Logger): FSWatcher | undefined {
  if (debounceMs <= 0) return undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const watcher = watch(dir, { persistent: false }, () => {
      clearTimeout(timer);
      timer = setTimeout(onChange, debounceMs);
      timer.unref();
    });
    watcher.on('error', (err) => log.warn({ err, dir }, 'cannot watch the zones directory; reload with SIGHUP'));
    return watcher;
  } catch (err) {
    log.warn({ err, dir }, 'cannot watch the zones directory; reload with SIGHUP');
    return undefined;
  }
}
