/**
 * Changes between versions of a zone, for incremental transfers (RFC 1995): what a new version
 * deleted and added, SOA aside, and a journal of them, bounded, oldest first.
 */
import type { Name } from '../wire/name.js';
import type { Rdata, RRset } from '../wire/record.js';
import { T } from '../wire/types.js';
import type { Zone } from './zone.js';

/** Changes kept per zone, and records over all of them, at most. */
export const MAX_CHANGES = 100;
export const MAX_RECORDS = 200_000;

/** One record of a difference. */
export interface JournalRecord {
  readonly owner: Name;
  readonly type: number;
  readonly ttl: number;
  readonly rdata: Rdata;
}

/** From one version of a zone to the next. */
export interface Change {
  readonly from: RRset; // the SOA before
  readonly to: RRset; // the SOA after
  readonly deleted: readonly JournalRecord[];
  readonly added: readonly JournalRecord[];
}

/** A zone's changes, oldest first. */
export type Journal = readonly Change[];

const keyOf = (owner: Name, type: number) => `${owner.key}|${type}`;

/** Every record of a zone but its SOA, by owner and type, each as its TTL and rdata. */
function records(zone: Zone): Map<string, RRset> {
  const out = new Map<string, RRset>();
  for (const rrset of zone.rrsets()) if (!(rrset.type === T.SOA && rrset.owner.key === zone.origin.key)) out.set(keyOf(rrset.owner, rrset.type), rrset);
  return out;
}

/** What changed from `before` to `after` (SOA aside): a TTL change is the set deleted and added again. */
export function difference(before: Zone, after: Zone): Change {
  const a = records(before);
  const b = records(after);
  const deleted: JournalRecord[] = [];
  const added: JournalRecord[] = [];
  const diff = (x: RRset, y: RRset | undefined, into: JournalRecord[]) => {
    for (const r of x.rdatas) {
      if (y && y.ttl === x.ttl && y.rdatas.some((s) => s.wire.equals(r.wire))) continue;
      into.push({ owner: x.owner, type: x.type, ttl: x.ttl, rdata: r });
    }
  };
  for (const [k, x] of a) diff(x, b.get(k), deleted);
  for (const [k, y] of b) diff(y, a.get(k), added);
  return { from: before.soa, to: after.soa, deleted, added };
}

/** The changes that lead from `serial` to the zone's current serial, or undefined when the journal does not reach back. */
export function changesSince(journal: Journal | undefined, serial: number, current: number): Change[] | undefined {
  if (!journal) return undefined;
  const start = journal.findIndex((c) => soaSerial(c.from) === serial);
  if (start < 0) return undefined;
  const chain = journal.slice(start);
  for (let i = 1; i < chain.length; i++) if (soaSerial(chain[i].from) !== soaSerial(chain[i - 1].to)) return undefined;
  return soaSerial(chain[chain.length - 1].to) === current ? chain : undefined;
}

export function soaSerial(soa: RRset): number {
  const w = soa.rdatas[0].wire;
  return w.readUInt32BE(w.length - 20);
}

/** The journal with `change` added, trimmed to the bounds. */
export function appended(journal: Journal | undefined, change: Change): Change[] {
  const out = [...(journal ?? []), change];
  let total = out.reduce((n, c) => n + c.deleted.length + c.added.length, 0);
  while (out.length > MAX_CHANGES || (out.length > 1 && total > MAX_RECORDS)) total -= out[0].deleted.length + out.shift()!.added.length;
  return out;
}

