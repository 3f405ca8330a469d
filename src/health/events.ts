/**
 * State changes as the health monitor announces them (an origin up or down, a pool or a load
 * balancer changing state or the pools it answers from), and a bounded list of the latest for
 * the status page: the same changes the monitor logs, once each, without parsing logs.
 */

export type ChangeKind = 'origin' | 'pool' | 'load_balancer';

export interface StateChange {
  /** Milliseconds since the epoch (the monitor's clock). */
  readonly at: number;
  readonly kind: ChangeKind;
  /** The origin, pool or load balancer name. */
  readonly name: string;
  /** The pools an origin belongs to. */
  readonly pools?: readonly string[];
  /** Undefined: the first state known. */
  readonly old?: string;
  readonly new: string;
  /** An origin's failure reason (Cloudflare's words) and detail; a load balancer's answering pools. */
  readonly reason?: string;
  readonly detail?: string;
  readonly answering?: readonly string[];
  /** The log line's message: what a person reads. */
  readonly message: string;
}

/** The latest `capacity` changes, newest first; older ones fall off. */
export class RecentChanges {
  private readonly ring: StateChange[] = [];
  private next = 0;

  constructor(readonly capacity = 50) {}

  add(change: StateChange): void {
    if (this.ring.length < this.capacity) this.ring.push(change);
    else this.ring[this.next] = change;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Newest first. */
  list(): StateChange[] {
    const n = this.ring.length;
    const out: StateChange[] = [];
    for (let i = 1; i <= n; i++) out.push(this.ring[(this.next - i + n) % n]);
    return out;
  }
}
