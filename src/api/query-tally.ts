/**
 * Per-query counting for the metrics, in plain numbers: prom-client hashes its labels on every
 * increment, which costs more than answering a cached query, so the query path only adds to
 * the tallies here and the registry reads them when /metrics is scraped.
 */
import type { LoadBalancer } from '../lb/model.js';
import { typeToText } from '../wire/types.js';

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

/** A tally as plain data: what a worker process reports to the primary, and what metrics read. */
export interface TallyData {
  /** [key, count]: see QueryTally.query() for the key. */
  readonly queries: readonly (readonly [number, number])[];
  readonly dropped: { readonly udp: number; readonly tcp: number };
  readonly answerTimes: { readonly udp: TimesData; readonly tcp: TimesData };
  readonly truncated: number;
  readonly ecs: number;
  /** UDP responses that response rate limiting dropped, and sent truncated (slipped). */
  readonly rrlDropped: number;
  readonly rrlSlipped: number;
  /** [load balancer name, [pool, count][], fallbacks]. */
  readonly decisions: readonly (readonly [string, readonly (readonly [string, number])[], number])[];
}

export interface TimesData {
  readonly counts: readonly number[];
  readonly sum: number;
  readonly count: number;
}

export class QueryTally {
  /** Key: no question (bit 29), transport (bit 28), qtype (bits 12-27), rcode (bits 0-11). */
  private readonly queries = new Map<number, number>();
  readonly dropped = { udp: 0, tcp: 0 };
  readonly answerTimes = { udp: new AnswerTimes(), tcp: new AnswerTimes() };
  truncated = 0;
  ecs = 0;
  rrlDropped = 0;
  rrlSlipped = 0;
  /**
   * Per load balancer, by its name's key (not the object: reloads and overrides make new ones,
   * and the old ones must not stay alive here): its name as written, decisions per pool name
   * ("none" for NODATA), and fallback answers.
   */
  readonly decisions = new Map<string, { name: string; pools: Map<string, number>; fallbacks: number }>();

  /** `qtype` undefined: the message had no readable question. */
  query(transport: Transport, qtype: number | undefined, rcode: number): void {
    const key = (qtype === undefined ? 1 << 29 : (qtype & 0xffff) << 12) | (transport === 'tcp' ? 1 << 28 : 0) | (rcode & 0xfff);
    this.queries.set(key, (this.queries.get(key) ?? 0) + 1);
  }

  decision(lb: LoadBalancer, pool: string, fallback: boolean): void {
    let d = this.decisions.get(lb.name.key);
    if (!d) this.decisions.set(lb.name.key, (d = { name: lb.name.toString(), pools: new Map(), fallbacks: 0 }));
    d.pools.set(pool, (d.pools.get(pool) ?? 0) + 1);
    if (fallback) d.fallbacks++;
  }

  data(): TallyData {
    const times = (t: AnswerTimes): TimesData => ({ counts: [...t.counts], sum: t.sum, count: t.count });
    return {
      queries: [...this.queries],
      dropped: { ...this.dropped },
      answerTimes: { udp: times(this.answerTimes.udp), tcp: times(this.answerTimes.tcp) },
      truncated: this.truncated,
      ecs: this.ecs,
      rrlDropped: this.rrlDropped,
      rrlSlipped: this.rrlSlipped,
      decisions: [...this.decisions.values()].map((d) => [d.name, [...d.pools], d.fallbacks] as const),
    };
  }
}

/** The sum of several tallies (the workers' and those of workers gone). */
export function mergeTallies(list: readonly TallyData[]): TallyData {
  const queries = new Map<number, number>();
  const decisions = new Map<string, { pools: Map<string, number>; fallbacks: number }>();
  const times = () => ({ counts: new Array<number>(ANSWER_BUCKETS.length + 1).fill(0), sum: 0, count: 0 });
  const answerTimes = { udp: times(), tcp: times() };
  const dropped = { udp: 0, tcp: 0 };
  let truncated = 0;
  let ecs = 0;
  let rrlDropped = 0;
  let rrlSlipped = 0;
  for (const t of list) {
    for (const [k, n] of t.queries) queries.set(k, (queries.get(k) ?? 0) + n);
    for (const tr of TRANSPORTS) {
      dropped[tr] += t.dropped[tr];
      const into = answerTimes[tr];
      t.answerTimes[tr].counts.forEach((n, i) => (into.counts[i] += n));
      into.sum += t.answerTimes[tr].sum;
      into.count += t.answerTimes[tr].count;
    }
    truncated += t.truncated;
    ecs += t.ecs;
    rrlDropped += t.rrlDropped;
    rrlSlipped += t.rrlSlipped;
    for (const [lb, pools, fallbacks] of t.decisions) {
      let d = decisions.get(lb);
      if (!d) decisions.set(lb, (d = { pools: new Map(), fallbacks: 0 }));
      for (const [pool, n] of pools) d.pools.set(pool, (d.pools.get(pool) ?? 0) + n);
      d.fallbacks += fallbacks;
    }
  }
  return { queries: [...queries], dropped, answerTimes, truncated, ecs, rrlDropped, rrlSlipped, decisions: [...decisions].map(([lb, d]) => [lb, [...d.pools], d.fallbacks] as const) };
}

/** Query counts with their labels; query types outside the common set add up under "other". */
export function queryCounts(tally: TallyData): { labels: QueryLabels; count: number }[] {
  const merged = new Map<string, { labels: QueryLabels; count: number }>();
  for (const [key, count] of tally.queries) {
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

export const COMMON_RCODES: readonly string[] = RCODES;
