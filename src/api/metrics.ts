/**
 * Prometheus metrics (prom-client): counters updated per query by the server's observer, and
 * gauges read at scrape time from health, the geolocation cache and the persistence table, so
 * the query path does no more than a few counter increments.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { HealthMonitor } from '../health/monitor.js';
import type { PinTable } from '../lb/persistence.js';
import type { Monitor } from '../lb/model.js';
import type { RoundResult } from '../health/state.js';
import type { ResponseInfo } from '../dns/respond.js';
import { typeToText } from '../dns/types.js';
import type { GeoLocator } from '../geo/locator.js';

/** Query types with their own label; everything else is "other", to bound cardinality. */
const QTYPES = new Set(['A', 'AAAA', 'CNAME', 'MX', 'NS', 'SOA', 'SRV', 'TXT', 'PTR', 'CAA', 'DS', 'ANY', 'HTTPS', 'SVCB']);
const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

export class Metrics {
  readonly registry = new Registry();
  private readonly queries = new Counter({ name: 'steerdns_queries_total', help: 'Queries answered, by transport, query type and rcode', labelNames: ['transport', 'qtype', 'rcode'] as const, registers: [this.registry] });
  private readonly dropped = new Counter({ name: 'steerdns_queries_dropped_total', help: 'Messages dropped without an answer (not a query, too short)', labelNames: ['transport'] as const, registers: [this.registry] });
  private readonly latency = new Histogram({
    name: 'steerdns_answer_seconds',
    help: 'Time from a query decoded to its answer encoded',
    labelNames: ['transport'] as const,
    buckets: [0.00001, 0.00002, 0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01],
    registers: [this.registry],
  });
  private readonly truncated = new Counter({ name: 'steerdns_responses_truncated_total', help: 'UDP responses sent with TC set', registers: [this.registry] });
  private readonly ecs = new Counter({ name: 'steerdns_ecs_queries_total', help: 'Queries carrying an EDNS Client Subnet option', registers: [this.registry] });
  private readonly decisions = new Counter({ name: 'steerdns_steering_decisions_total', help: 'Steering decisions by load balancer and chosen pool ("none" for NODATA)', labelNames: ['load_balancer', 'pool'] as const, registers: [this.registry] });
  private readonly fallbacks = new Counter({ name: 'steerdns_fallback_answers_total', help: 'Decisions answered from the fallback pool', labelNames: ['load_balancer'] as const, registers: [this.registry] });
  private readonly probes = new Counter({ name: 'steerdns_probes_total', help: 'Health probe rounds by monitor and result ("ok" or the failure reason)', labelNames: ['monitor', 'result'] as const, registers: [this.registry] });
  private readonly probeRtt = new Histogram({
    name: 'steerdns_probe_rtt_seconds',
    help: 'Round-trip time of passing health probe rounds',
    labelNames: ['monitor'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly reloads = new Counter({ name: 'steerdns_reloads_total', help: 'Configuration reloads by result', labelNames: ['result'] as const, registers: [this.registry] });

  constructor(app: { readonly health: HealthMonitor; readonly persistence: PinTable }, geo: GeoLocator | undefined) {
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
    // Zero series for the common rcodes, so rates exist before the first error.
    for (const rcode of RCODES) for (const transport of ['udp', 'tcp']) this.queries.inc({ transport, qtype: 'A', rcode }, 0);
  }

  /** The health monitor's per-round observer. */
  probe = (monitor: Monitor, round: RoundResult): void => {
    this.probes.inc({ monitor: monitor.name, result: round.ok ? 'ok' : (round.reason ?? 'Other Failure') });
    if (round.ok) this.probeRtt.observe({ monitor: monitor.name }, round.rttMs / 1000);
  };

  /** The server's per-query observer. */
  observe = (info: ResponseInfo, transport: 'udp' | 'tcp', seconds: number): void => {
    if (!info.response) {
      this.dropped.inc({ transport });
      return;
    }
    const type = info.question ? typeToText(info.question.qtype) : 'none';
    const rcode = info.rcode === undefined ? 'none' : (RCODES[info.rcode] ?? (info.rcode === 16 ? 'BADVERS' : String(info.rcode)));
    this.queries.inc({ transport, qtype: QTYPES.has(type) ? type : 'other', rcode });
    this.latency.observe({ transport }, seconds);
    if (info.truncated) this.truncated.inc();
    if (info.ecs) this.ecs.inc();
    if (info.decisions) {
      for (const [lb, d] of info.decisions) {
        this.decisions.inc({ load_balancer: lb.name.toString(), pool: d.pool?.name ?? 'none' });
        if (d.fallback) this.fallbacks.inc({ load_balancer: lb.name.toString() });
      }
    }
  };

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
