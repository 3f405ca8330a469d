/**
 * The snapshot part: the store every query reads its snapshot from. It is made at start from
 * the parts before it (configuration, geolocation, cookies, pins, hostnames), and each served
 * configuration swaps in a new snapshot with its zones and load balancers.
 */
import type { Snapshot } from '../snapshot/snapshot.js';
import { SnapshotStore } from '../snapshot/store.js';
import type { Part, Served } from './part.js';

export class Snapshots implements Part {
  private made: SnapshotStore | undefined;

  constructor(private readonly first: () => Snapshot) {}

  get store(): SnapshotStore {
    if (!this.made) throw new Error('the snapshot store is read before it was made');
    return this.made;
  }

  start(): void {
    this.made = new SnapshotStore(this.first());
  }

  serve(served: Served): void {
    this.store.replace({ ...this.store.current, zones: served.config.zones, lb: served.lb, journals: served.config.journals });
  }
}
