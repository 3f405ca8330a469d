/**
 * The set of zones served: finds the most specific zone for a name, so that a parent and a
 * delegated child can both be served here.
 */
import type { Name } from '../wire/name.js';
import { T } from '../wire/types.js';
import type { Zone } from './zone.js';

export class ZoneSet {
  private readonly byApex: ReadonlyMap<string, Zone>;

  constructor(zones: readonly Zone[]) {
    this.byApex = new Map(zones.map((z) => [z.origin.key, z]));
  }

  get zones(): IterableIterator<Zone> {
    return this.byApex.values();
  }

  get size(): number {
    return this.byApex.size;
  }

  /**
   * The deepest zone containing `name`. For DS at a child's apex the parent answers when it
   * is served here too (RFC 4035 §3.1.4.1: DS lives on the parent side of the cut).
   */
  find(name: Name, qtype = 0): Zone | undefined {
    const keys = name.suffixKeys();
    let first: Zone | undefined;
    for (let i = 0; i < keys.length; i++) {
      const zone = this.byApex.get(keys[i]);
      if (!zone) continue;
      if (i === 0 && qtype === T.DS) {
        first = zone;
        continue;
      }
      return zone;
    }
    return first;
  }
}
