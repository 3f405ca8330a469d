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
import type { ResponseInfo } from '../dns/respond.js';
import type { GeoLocator } from '../geo/locator.js';
import type { AnswerCache } from '../dns/answer-cache.js';
import { ANSWER_BUCKETS, COMMON_RCODES, QueryTally, TRANSPORTS, type Transport } from './query-tally.js';


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

  constructor(app: { readonly health: HealthMonitor; readonly persistence: PinTable; readonly answerCache?: AnswerCache }, geo: GeoLocator | undefined) {
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
      name: 'steerdns_persistence_pins', help: 'Entries in the DNS persistence table', registers,
      collect() {
        this.set(app.persistence.size);
      },
    });
    new Gauge({
      name: 'steerdns_geo_cache_entries', help: 'Entries in the geolocation cache', registers,
      collect() {
        this.set(geo?.stats().entries ?? 0);
      },
    });
    new Gauge({
      name: 'steerdns_geo_cache_hit_ratio', help: 'Share of geolocation lookups answered from the cache since start', registers,
      collect() {
        const s = geo?.stats();
        this.set(s && s.hits + s.misses > 0 ? s.hits / (s.hits + s.misses) : 0);
      },
    });
    this.registerQueryMetrics(app.answerCache);
  }

  private registerQueryMetrics(cache: AnswerCache | undefined): void {
    const registers = [this.registry];
    const tally = this.tally;
    new Counter({
      name: 'steerdns_queries_total', help: 'Queries answered, by transport, query type and rcode', labelNames: ['transport', 'qtype', 'rcode'] as const, registers,
      collect() {
        this.reset();
        // Zero series for the common rcodes, so rates exist before the first error.
        for (const rcode of COMMON_RCODES) for (const transport of TRANSPORTS) this.inc({ transport, qtype: 'A', rcode }, 0);
        for (const { labels, count } of tally.queryCounts()) this.inc({ ...labels }, count);
      },
    });
    new Counter({
      name: 'steerdns_queries_dropped_total', help: 'Messages dropped without an answer (not a query, too short)', labelNames: ['transport'] as const, registers,
      collect() {
        this.reset();
        for (const transport of TRANSPORTS) this.inc({ transport }, tally.dropped[transport]);
      },
    });
    this.registry.registerMetric(answerTimeHistogram(tally));
    new Counter({
      name: 'steerdns_responses_truncated_total', help: 'UDP responses sent with TC set', registers,
      collect() {
        this.reset();
        this.inc(tally.truncated);
      },
    });
    new Counter({
      name: 'steerdns_ecs_queries_total', help: 'Queries carrying an EDNS Client Subnet option', registers,
      collect() {
        this.reset();
        this.inc(tally.ecs);
      },
    });
    new Counter({
      name: 'steerdns_steering_decisions_total', help: 'Steering decisions by load balancer and chosen pool ("none" for NODATA)', labelNames: ['load_balancer', 'pool'] as const, registers,
      collect() {
        this.reset();
        for (const [lb, d] of tally.decisions) for (const [pool, n] of d.pools) this.inc({ load_balancer: lb.name.toString(), pool }, n);
      },
    });
    new Counter({
      name: 'steerdns_fallback_answers_total', help: 'Decisions answered from the fallback pool', labelNames: ['load_balancer'] as const, registers,
      collect() {
        this.reset();
        for (const [lb, d] of tally.decisions) if (d.fallbacks > 0) this.inc({ load_balancer: lb.name.toString() }, d.fallbacks);
      },
    });
    new Counter({
      name: 'steerdns_answer_cache_hits_total', help: 'UDP queries answered from the answer cache', registers,
      collect() {
        this.reset();
        this.inc(cache?.hits ?? 0);
      },
    });
    new Counter({
      name: 'steerdns_answer_cache_misses_total', help: 'UDP queries looked up in the answer cache and resolved', registers,
      collect() {
        this.reset();
        this.inc(cache?.misses ?? 0);
      },
    });
    new Gauge({
      name: 'steerdns_answer_cache_entries', help: 'Answers held in the answer cache', registers,
      collect() {
        this.set(cache?.size ?? 0);
      },
    });
  }

  /** The health monitor's per-round observer. */
  probe = (monitor: Monitor, round: RoundResult): void => {
    this.probes.inc({ monitor: monitor.name, result: round.ok ? 'ok' : (round.reason ?? 'Other Failure') });
    if (round.ok) this.probeRtt.observe({ monitor: monitor.name }, round.rttMs / 1000);
  };

  /** The server's per-query observer: plain counting, no labels hashed. */
  observe = (info: ResponseInfo, transport: Transport, seconds: number): void => {
    const tally = this.tally;
    if (!info.response) {
      tally.dropped[transport]++;
      return;
    }
    tally.query(transport, info.question?.qtype, info.rcode ?? 0);
    tally.answerTimes[transport].add(seconds);
    if (info.truncated) tally.truncated++;
    if (info.ecs) tally.ecs++;
    if (info.decisions) for (const [lb, d] of info.decisions) tally.decision(lb, d.pool?.name ?? 'none', d.fallback);
  };

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/**
 * steerdns_answer_seconds as a registry entry that reads the tally's buckets when scraped
 * (prom-client's Histogram can only be fed one observation at a time).
 */
function answerTimeHistogram(tally: QueryTally): Metric {
  const name = 'steerdns_answer_seconds';
  const help = 'Time from a query received to its answer encoded';
  const get = async () => {
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
