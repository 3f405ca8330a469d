/**
 * Per-query counting for the metrics, in plain numbers: prom-client hashes its labels on every
 * increment, which costs more than answering a cached query, so the query path only adds to
 * the tallies here and the registry reads them when /metrics is scraped.
 */
import type { LoadBalancer } from '../lb/model.js';
import { typeToText } from '../dns/types.js';

/** Query types with their own label; everything else is "other", to bound cardinality. */
const QTYPES = new Set(['A', 'AAAA', 'CNAME', 'MX', 'NS', 'SOA', 'SRV', 'TXT', 'PTR', 'CAA', 'DS', 'ANY', 'HTTPS', 'SVCB']);
const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

/** Answer-time buckets in seconds (upper bounds), as the histogram exports them. */
export const ANSWER_BUCKETS = [0.00001, 0.00002, 0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01];

export type Transport = 'udp' | 'tcp';
export const TRANSPORTS: readonly Transport[] = ['udp', 'tcp'];

export interface QueryLabels {
  readonly transport: Transport;
  readonly qtype: string;
  readonly rcode: string;
}

export class AnswerTimes {
  /** Per bucket (last: above every bound), not cumulative. */
  readonly counts = new Float64Array(ANSWER_BUCKETS.length + 1);
  sum = 0;
  count = 0;

  add(seconds: number): void {
    let i = 0;
    while (i < ANSWER_BUCKETS.length && seconds > ANSWER_BUCKETS[i]) i++;
    this.counts[i]++;
    this.sum += seconds;
    this.count++;
  }
}

export class QueryTally {
  /** Key: no question (bit 29), transport (bit 28), qtype (bits 12-27), rcode (bits 0-11). */
  private readonly queries = new Map<number, number>();
  readonly dropped = { udp: 0, tcp: 0 };
  readonly answerTimes = { udp: new AnswerTimes(), tcp: new AnswerTimes() };
  truncated = 0;
  ecs = 0;
  /** Per load balancer: decisions per pool name ("none" for NODATA), and fallback answers. */
  readonly decisions = new Map<LoadBalancer, { pools: Map<string, number>; fallbacks: number }>();

  /** `qtype` undefined: the message had no readable question. */
  query(transport: Transport, qtype: number | undefined, rcode: number): void {
    const key = (qtype === undefined ? 1 << 29 : (qtype & 0xffff) << 12) | (transport === 'tcp' ? 1 << 28 : 0) | (rcode & 0xfff);
    this.queries.set(key, (this.queries.get(key) ?? 0) + 1);
  }

  decision(lb: LoadBalancer, pool: string, fallback: boolean): void {
    let d = this.decisions.get(lb);
    if (!d) this.decisions.set(lb, (d = { pools: new Map(), fallbacks: 0 }));
    d.pools.set(pool, (d.pools.get(pool) ?? 0) + 1);
    if (fallback) d.fallbacks++;
  }

  /** Query counts with their labels; query types outside the common set add up under "other". */
  queryCounts(): { labels: QueryLabels; count: number }[] {
    const merged = new Map<string, { labels: QueryLabels; count: number }>();
    for (const [key, count] of this.queries) {
      const text = key & (1 << 29) ? 'none' : typeToText((key >>> 12) & 0xffff);
      const rcode = key & 0xfff;
      const labels: QueryLabels = {
        transport: key & (1 << 28) ? 'tcp' : 'udp',
        qtype: QTYPES.has(text) || text === 'none' ? text : 'other',
        rcode: RCODES[rcode] ?? (rcode === 16 ? 'BADVERS' : String(rcode)),
      };
      const id = `${labels.transport} ${labels.qtype} ${labels.rcode}`;
      const m = merged.get(id);
      if (m) m.count += count;
      else merged.set(id, { labels, count });
    }
    return [...merged.values()];
  }
}

export const COMMON_RCODES: readonly string[] = RCODES;
