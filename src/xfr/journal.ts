/**
 * The journal of a zone's versions in the state directory (`journal/<zone>json`, written
 * atomically), for IXFR after a restart and for workers: the changes themselves are
 * src/zone/changes.ts.
 */
import type { StateDir } from '../config/state.js';
import { Name } from '../wire/name.js';
import type { RRset } from '../wire/record.js';
import { checkWire } from '../wire/rdata.js';
import { T } from '../wire/types.js';
import { appended, difference, type Journal, type JournalRecord } from '../zone/changes.js';
import type { LoadedConfig } from '../snapshot/load.js';
import type { Logger } from '../log.js';
import type { Zone } from '../zone/zone.js';
import { serialNewer, serialOf } from './axfr.js';

const KIND = 'journal/1';

// ---- In the state directory ----

type RecordJson = [string, number, number, string];
interface ChangeJson {
  from: [number, string];
  to: [number, string];
  deleted: RecordJson[];
  added: RecordJson[];
}

const fileOf = (zone: Name) => `journal/${zone.key}json`;

function recordJson(r: JournalRecord): RecordJson {
  return [r.owner.key, r.type, r.ttl, r.rdata.wire.toString('base64')];
}

function recordOf(j: RecordJson): JournalRecord {
  const wire = Buffer.from(j[3], 'base64');
  return { owner: Name.fromText(j[0]), type: j[1], ttl: j[2], rdata: { wire, names: checkWire(j[1], wire) } };
}

function soaOf(zone: Name, [ttl, hex]: [number, string]): RRset {
  const wire = Buffer.from(hex, 'base64');
  return { owner: zone, type: T.SOA, ttl, rdatas: [{ wire, names: checkWire(T.SOA, wire) }] };
}

export function writeJournal(state: StateDir, zone: Name, journal: Journal): void {
  const data: ChangeJson[] = journal.map((c) => ({
    from: [c.from.ttl, c.from.rdatas[0].wire.toString('base64')],
    to: [c.to.ttl, c.to.rdatas[0].wire.toString('base64')],
    deleted: c.deleted.map(recordJson),
    added: c.added.map(recordJson),
  }));
  state.writeJson(fileOf(zone), KIND, data);
}

/** The journal kept for `zone`, or a problem (a damaged file is ignored: IXFR then sends whole zones). */
export function readJournal(state: StateDir, zone: Name): { journal?: Journal; problem?: string } {
  const read = state.readJson(fileOf(zone), KIND, (d) => (Array.isArray(d) ? (d as ChangeJson[]) : undefined));
  if (!read.value) return { problem: read.problem };
  try {
    return { journal: read.value.map((c) => ({ from: soaOf(zone, c.from), to: soaOf(zone, c.to), deleted: c.deleted.map(recordOf), added: c.added.map(recordOf) })) };
  } catch (e) {
    return { problem: `${state.file(fileOf(zone))}: ${(e as Error).message}; ignored` };
  }
}

/** Whether `after` is a newer version of `before` worth a journal entry. */
export function isNewVersion(before: Zone | undefined, after: Zone): before is Zone {
  return before !== undefined && before.origin.key === after.origin.key && serialNewer(serialOf(after), serialOf(before));
}

/**
 * The journals for `next`: with `previous` (a reload), each zone's journal with the change
 * from the version served to the new one when its serial went up (written when `write`);
 * else (a start, or a worker) each zone's journal as kept.
 */
export function journalsFor(next: LoadedConfig, previous: LoadedConfig | undefined, state: StateDir | undefined, write: boolean, log: Logger): Map<string, Journal> {
  const out = new Map<string, Journal>();
  for (const zone of next.zones.zones) {
    const before = previous?.zones.find(zone.origin);
    let journal: Journal | undefined = previous?.journals?.get(zone.origin.key);
    if (journal === undefined && state) {
      const read = readJournal(state, zone.origin);
      if (read.problem && write) log.warn(read.problem);
      journal = read.journal;
    }
    if (write && isNewVersion(before, zone)) {
      journal = appended(journal, difference(before, zone));
      try {
        if (state) writeJournal(state, zone.origin, journal);
      } catch (err) {
        log.warn({ err, zone: zone.origin.toString() }, 'cannot write the journal; IXFR after a restart will send the whole zone');
      }
    }
    if (journal && journal.length > 0) out.set(zone.origin.key, journal);
  }
  return out;
}
