/**
 * Prometheus metrics (prom-client): counters updated per query by the server's observer, and
 * gauges read at scrape time from health, the geolocation cache and the persistence table, so
 * the query path does no more than a few counter increments.
 */
import { Counter, Gauge, Histogram, Registry, type Metric } from 'prom-client';
import type { HealthMonitor } from '../health/monitor.js';
import type { PinTable } from '../lb/persistence.js';
import type { Monitor } from '../lb/model.js';
import type { RoundResult } from '../health/state.js';
import type { ResponseInfo } from '../answer/respond.js';
import type { GeoLocator } from '../geo/locator.js';
import type { AnswerCache } from '../answer/answer-cache.js';
import type { DegradedFile } from '../snapshot/load.js';
import { ANSWER_BUCKETS, COMMON_RCODES, mergeTallies, QueryTally, queryCounts, TRANSPORTS, type TallyData, type Transport } from './query-tally.js';

/** What the query path has done, as /metrics reports it. */
export interface QueryStats {
  readonly tally: TallyData;
  readonly answerCache: { readonly hits: number; readonly misses: number; readonly entries: number };
  readonly geo: { readonly entries: number; readonly hits: number; readonly misses: number };
  readonly pins: number;
}

/** This process's own figures. */
export function localStats(tally: QueryTally, cache: AnswerCache | undefined, geo: GeoLocator | undefined, pins: PinTable): QueryStats {
  const g = geo?.stats();
  return {
    tally: tally.data(),
    answerCache: { hits: cache?.hits ?? 0, misses: cache?.misses ?? 0, entries: cache?.size ?? 0 },
    geo: { entries: g?.entries ?? 0, hits: g?.hits ?? 0, misses: g?.misses ?? 0 },
    pins: pins.size,
  };
}

/** The sum of several processes' figures. */
export function mergeStats(list: readonly QueryStats[]): QueryStats {
  const sum = (f: (s: QueryStats) => number) => list.reduce((n, s) => n + f(s), 0);
  return {
    tally: mergeTallies(list.map((s) => s.tally)),
    answerCache: { hits: sum((s) => s.answerCache.hits), misses: sum((s) => s.answerCache.misses), entries: sum((s) => s.answerCache.entries) },
    geo: { entries: sum((s) => s.geo.entries), hits: sum((s) => s.geo.hits), misses: sum((s) => s.geo.misses) },
    pins: sum((s) => s.pins),
  };
}

/** What the metrics read when scraped (getters are fine: they are read each time). */
export interface MetricsSources {
  readonly health: HealthMonitor;
  readonly persistence: PinTable;
  readonly answerCache?: AnswerCache;
  readonly geo?: GeoLocator;
  /** Files served from their last good copy, or not at all. */
  readonly degraded?: () => readonly DegradedFile[];
  /** The digest of the configuration served (LoadedConfig.digest). */
  readonly digest?: () => string;
}

export class Metrics {
  readonly registry = new Registry();
  /** What the query path counts; read into the metrics below at scrape time. */
  readonly tally = new QueryTally();
  private readonly probes = new Counter({ name: 'steerdns_probes_total', help: 'Health probe rounds by monitor and result ("ok" or the failure reason)', labelNames: ['monitor', 'result'] as const, registers: [this.registry] });
  private readonly probeRtt = new Histogram({
    name: 'steerdns_probe_rtt_seconds',
    help: 'Round-trip time of passing health probe rounds',
    labelNames: ['monitor'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly reloads = new Counter({ name: 'steerdns_reloads_total', help: 'Configuration reloads by result', labelNames: ['result'] as const, registers: [this.registry] });

  /**
   * `stats` gives the query path's figures when /metrics is scraped: by default this process's
   * own (tally, answer cache, geolocation cache, pins); with workers, the sum of theirs.
   */
  constructor(app: MetricsSources, stats?: () => Promise<QueryStats>) {
    this.stats = stats ?? (async () => localStats(this.tally, app.answerCache, app.geo, app.persistence));
    const registers = [this.registry];
    new Gauge({
      name: 'steerdns_origin_healthy', help: 'Origin health: 1 healthy, 0 unhealthy or no result yet (monitored origins only)', labelNames: ['pool', 'origin'] as const, registers,
      collect() {
        this.reset();
        for (const p of app.health.status().pools) for (const o of p.originStatus) if (o.state === 'healthy' || o.state === 'unhealthy' || o.state === 'unknown') this.set({ pool: p.name, origin: o.name }, o.state === 'healthy' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'steerdns_origin_rtt_seconds', help: 'Smoothed probe round-trip time of healthy origins', labelNames: ['pool', 'origin'] as const, registers,
      collect() {
        this.reset();
        for (const p of app.health.status().pools) for (const o of p.originStatus) if (o.rttMs !== undefined) this.set({ pool: p.name, origin: o.name }, o.rttMs / 1000);
      },
    });
    new Gauge({
      name: 'steerdns_pool_state', help: 'Pool state: 1 for the current state', labelNames: ['pool', 'state'] as const, registers,
      collect() {
        this.reset();
        for (const p of app.health.status().pools) this.set({ pool: p.name, state: p.state }, 1);
      },
    });
    new Gauge({
      name: 'steerdns_load_balancer_fallback', help: 'A load balancer answering from its fallback pool (no default pool usable): 1, else 0; set with or without queries', labelNames: ['load_balancer'] as const, registers,
      collect() {
        this.reset();
        for (const lb of app.health.status().loadBalancers) this.set({ load_balancer: lb.name }, lb.fallback ? 1 : 0);
      },
    });
    new Gauge({
      name: 'steerdns_config_file_degraded', help: 'A configuration file with errors: 1 per file, served from its last good copy (serving="last_good") or not at all (serving="none")', labelNames: ['file', 'serving'] as const, registers,
      collect() {
        this.reset();
        for (const d of app.degraded?.() ?? []) this.set({ file: d.file, serving: d.lastGood ? 'last_good' : 'none' }, 1);
      },
    });
    new Gauge({
      name: 'steerdns_config_info', help: 'The configuration served: its digest (the first 12 hex digits of SHA-256 over the files), 1; differing digests across instances mean drift', labelNames: ['digest'] as const, registers,
      collect() {
        this.reset();
        const digest = app.digest?.();
        if (digest) this.set({ digest: digest.slice(0, 12) }, 1);
      },
    });
    this.registerQueryMetrics();
  }

  /** The query path's figures as /metrics reads them (with workers, the sum of theirs): the status page's history. */
  queryStats(): Promise<QueryStats> {
    return this.current();
  }

  /** One gathering per scrape, shared by every metric that reads it. */
  private gathered: { at: number; stats: Promise<QueryStats> } | undefined;
  private readonly stats: () => Promise<QueryStats>;

  private current(): Promise<QueryStats> {
    const now = Date.now();
    if (!this.gathered || now - this.gathered.at > 250) this.gathered = { at: now, stats: this.stats() };
    return this.gathered.stats;
  }

  private registerQueryMetrics(): void {
    const registers = [this.registry];
    const current = () => this.current();
    // One number each, read from the gathered figures when scraped.
    const level = (name: string, help: string, read: (s: QueryStats) => number) =>
      new Gauge({ name, help, registers, async collect() { this.set(read(await current())); } });
    const total = (name: string, help: string, read: (s: QueryStats) => number) =>
      new Counter({ name, help, registers, async collect() { const n = read(await current()); this.reset(); this.inc(n); } });

    level('steerdns_persistence_pins', 'Entries in the DNS persistence table (all workers)', (s) => s.pins);
    level('steerdns_geo_cache_entries', 'Entries in the geolocation cache (all workers)', (s) => s.geo.entries);
    level('steerdns_geo_cache_hit_ratio', 'Share of geolocation lookups answered from the cache since start', ({ geo: g }) => (g.hits + g.misses > 0 ? g.hits / (g.hits + g.misses) : 0));
    level('steerdns_answer_cache_entries', 'Answers held in the answer cache', (s) => s.answerCache.entries);
    total('steerdns_responses_truncated_total', 'UDP responses sent with TC set', (s) => s.tally.truncated);
    total('steerdns_rrl_dropped_total', 'UDP responses dropped by response rate limiting (with --rrl-log-only: that would have been)', (s) => s.tally.rrlDropped);
    total('steerdns_rrl_slipped_total', 'UDP responses slipped by response rate limiting: sent truncated, or BADCOOKIE (with --rrl-log-only: that would have been)', (s) => s.tally.rrlSlipped);
    total('steerdns_ecs_queries_total', 'Queries carrying an EDNS Client Subnet option', (s) => s.tally.ecs);
    total('steerdns_answer_cache_hits_total', 'UDP queries answered from the answer cache', (s) => s.answerCache.hits);
    total('steerdns_answer_cache_misses_total', 'UDP queries looked up in the answer cache and resolved', (s) => s.answerCache.misses);
    this.registry.registerMetric(answerTimeHistogram(async () => (await current()).tally));

    new Counter({
      name: 'steerdns_queries_total', help: 'Queries answered (or held back by response rate limiting: see steerdns_rrl_*), by transport, query type and rcode', labelNames: ['transport', 'qtype', 'rcode'] as const, registers,
      async collect() {
        const { tally } = await current();
        this.reset();
        // Zero series for the common rcodes, so rates exist before the first error.
        for (const rcode of COMMON_RCODES) for (const transport of TRANSPORTS) this.inc({ transport, qtype: 'A', rcode }, 0);
        for (const { labels, count } of queryCounts(tally)) this.inc({ ...labels }, count);
      },
    });
    new Counter({
      name: 'steerdns_queries_dropped_total', help: 'Messages dropped without an answer (not a query, too short)', labelNames: ['transport'] as const, registers,
      async collect() {
        const { tally } = await current();
        this.reset();
        for (const transport of TRANSPORTS) this.inc({ transport }, tally.dropped[transport]);
      },
    });
    new Counter({
      name: 'steerdns_steering_decisions_total', help: 'Steering decisions by load balancer and chosen pool ("none" for NODATA)', labelNames: ['load_balancer', 'pool'] as const, registers,
      async collect() {
        const { tally } = await current();
        this.reset();
        for (const [lb, pools] of tally.decisions) for (const [pool, n] of pools) this.inc({ load_balancer: lb, pool }, n);
      },
    });
    new Counter({
      name: 'steerdns_fallback_answers_total', help: 'Decisions answered from the fallback pool', labelNames: ['load_balancer'] as const, registers,
      async collect() {
        const { tally } = await current();
        this.reset();
        for (const [lb, , fallbacks] of tally.decisions) if (fallbacks > 0) this.inc({ load_balancer: lb }, fallbacks);
      },
    });
  }

  /** The health monitor's per-round observer. */
  probe = (monitor: Monitor, round: RoundResult): void => {
    this.probes.inc({ monitor: monitor.name, result: round.ok ? 'ok' : (round.reason ?? 'Other Failure') });
    if (round.ok) this.probeRtt.observe({ monitor: monitor.name }, round.rttMs / 1000);
  };

  /** The server's per-query observer: plain counting, no labels hashed. */
  observe = (info: ResponseInfo, transport: Transport, seconds: number, limited?: 'drop' | 'slip'): void => {
    const tally = this.tally;
    if (limited === 'drop') tally.rrlDropped++;
    else if (limited === 'slip') tally.rrlSlipped++;
    if (!info.response) {
      tally.dropped[transport]++;
      return;
    }
    tally.query(transport, info.question?.qtype, info.rcode ?? 0);
    tally.answerTimes[transport].add(seconds);
    if (info.truncated) tally.truncated++;
    if (info.ecs) tally.ecs++;
    const taken = info.decisions;
    if (taken) {
      for (let i = 0; i < taken.size; i++) {
        const d = taken.decisionAt(i);
        tally.decision(taken.loadBalancerAt(i), d.pool?.name ?? 'none', d.fallback);
      }
    }
  };

  text(): Promise<string> {
    this.gathered = undefined; // a new scrape gathers afresh
    return this.registry.metrics();
  }
}

/**
 * steerdns_answer_seconds as a registry entry that reads the tally's buckets when scraped
 * (prom-client's Histogram can only be fed one observation at a time).
 */
function answerTimeHistogram(read: () => Promise<TallyData>): Metric {
  const name = 'steerdns_answer_seconds';
  const help = 'Time from a query received to its answer encoded';
  const get = async () => {
    const tally = await read();
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const transport of TRANSPORTS) {
      const t = tally.answerTimes[transport];
      let cumulative = 0;
      ANSWER_BUCKETS.forEach((le, i) => {
        cumulative += t.counts[i];
        values.push({ labels: { transport, le }, value: cumulative, metricName: `${name}_bucket` });
      });
      values.push({ labels: { transport, le: '+Inf' }, value: t.count, metricName: `${name}_bucket` });
      values.push({ labels: { transport }, value: t.sum, metricName: `${name}_sum` });
      values.push({ labels: { transport }, value: t.count, metricName: `${name}_count` });
    }
    return { name, help, type: 'histogram', aggregator: 'sum', values };
  };
  // The registry only calls get(); prom-client's Metric type names its own classes, hence the cast.
  return { name, help, type: 'histogram', aggregator: 'sum', get, reset: () => undefined } as unknown as Metric;
}
