/**
 * Holds the current Snapshot and swaps it atomically: a health change or a reload builds a new
 * Snapshot from the old one with one part replaced. Readers take `current` once per query.
 */
import type { HealthView } from '../lb/model.js';
import type { Snapshot } from './snapshot.js';

export class SnapshotStore {
  private snap: Snapshot;
  private readonly listeners: ((snap: Snapshot) => void)[] = [];

  constructor(initial: Snapshot) {
    this.snap = initial;
  }

  get current(): Snapshot {
    return this.snap;
  }

  /** A new snapshot with `health` replaced; zones and load balancers stay as they are. */
  setHealth(health: HealthView): void {
    this.replace({ ...this.snap, health });
  }

  replace(next: Snapshot): void {
    this.snap = next;
    for (const l of this.listeners) l(next);
  }

  /** Calls `listener` after every swap (the primary passes health and configuration on to its workers). */
  onSwap(listener: (snap: Snapshot) => void): void {
    this.listeners.push(listener);
  }
}
