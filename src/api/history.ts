/**
 * Traffic over the last minutes, for the status page's charts: the steering decisions per load
 * balancer and per pool, read from the same figures /metrics reads (with workers, the sum of
 * theirs) every few seconds and kept in a fixed ring of samples, so memory stays bounded
 * however long the server runs. Rates are computed from neighbouring samples when asked for.
 */
import type { TallyData } from './query-tally.js';

/** One sample: when, and the running totals since start. */
interface Sample {
  readonly at: number;
  /** Load balancer name -> decisions so far. */
  readonly loadBalancers: ReadonlyMap<string, number>;
  /** Pool name -> decisions that chose it so far (over every load balancer). */
  readonly pools: ReadonlyMap<string, number>;
}

export interface Series {
  readonly name: string;
  /** Per interval, per second; one value per entry of `times` (the interval ending then). */
  readonly perSecond: readonly number[];
}

export interface TrafficSeries {
  readonly intervalSeconds: number;
  /** End of each interval, milliseconds since the epoch, oldest first. */
  readonly times: readonly number[];
  /** Queries answered by steering, per second, per load balancer. */
  readonly loadBalancers: readonly Series[];
  /** Answers from each pool, per second. */
  readonly pools: readonly Series[];
}

export const HISTORY_INTERVAL_MS = 5000;
/** 15 minutes of samples at the default interval. */
export const HISTORY_WINDOW_MS = 15 * 60_000;

export class TrafficHistory {
  private readonly ring: Sample[] = [];
  private next = 0;
  /** Samples kept: one more than the intervals shown, since each rate needs two. */
  readonly capacity: number;

  /** `intervalMs` 0: nothing is sampled (the series stay empty). */
  constructor(readonly intervalMs = HISTORY_INTERVAL_MS, windowMs = HISTORY_WINDOW_MS) {
    this.capacity = intervalMs > 0 ? Math.max(2, Math.ceil(windowMs / intervalMs) + 1) : 2;
  }

  /** Records the totals of `tally` as of `at`. */
  sample(at: number, tally: TallyData): void {
    const loadBalancers = new Map<string, number>();
    const pools = new Map<string, number>();
    for (const [lb, byPool] of tally.decisions) {
      let sum = 0;
      for (const [pool, n] of byPool) {
        sum += n;
        if (pool !== 'none') pools.set(pool, (pools.get(pool) ?? 0) + n);
      }
      loadBalancers.set(lb, (loadBalancers.get(lb) ?? 0) + sum);
    }
    const s: Sample = { at, loadBalancers, pools };
    if (this.ring.length < this.capacity) this.ring.push(s);
    else this.ring[this.next] = s;
    this.next = (this.next + 1) % this.capacity;
  }

  /** The samples, oldest first. */
  private samples(): Sample[] {
    const n = this.ring.length;
    if (n < this.capacity) return [...this.ring];
    return [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
  }

  /**
   * Rates per second between neighbouring samples. A name that appears later counts as 0
   * before; a total that went down (a worker replaced) counts as 0 for that interval.
   */
  series(): TrafficSeries {
    const samples = this.samples();
    const times: number[] = [];
    const rates = (pick: (s: Sample) => ReadonlyMap<string, number>): Series[] => {
      const names = new Set<string>();
      for (const s of samples) for (const name of pick(s).keys()) names.add(name);
      return [...names].sort().map((name) => {
        const perSecond: number[] = [];
        for (let i = 1; i < samples.length; i++) {
          const seconds = (samples[i].at - samples[i - 1].at) / 1000;
          const delta = (pick(samples[i]).get(name) ?? 0) - (pick(samples[i - 1]).get(name) ?? 0);
          perSecond.push(seconds > 0 && delta > 0 ? Math.round((delta / seconds) * 100) / 100 : 0);
        }
        return { name, perSecond };
      });
    };
    for (let i = 1; i < samples.length; i++) times.push(samples[i].at);
    return { intervalSeconds: this.intervalMs / 1000, times, loadBalancers: rates((s) => s.loadBalancers), pools: rates((s) => s.pools) };
  }
}
