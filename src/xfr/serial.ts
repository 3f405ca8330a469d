/**
 * Serial policies (`serial-policy` in zone-options): a zone file edited without raising its SOA
 * serial is invisible to secondaries, which compare serials. With `increment`, `unixtime` or
 * `dateserial`, steerdns raises the serial it serves itself whenever the file's text changes,
 * and remembers what it served (state directory, `serials.json`) so that the serial never goes
 * back, across reloads and restarts. `keep` (the default) serves the file's serial as written.
 */
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { StateDir } from '../config/state.js';
import type { SerialPolicy } from '../config/zone-options.js';
import type { LoadedConfig } from '../snapshot/load.js';
import type { TransferSettings } from '../snapshot/snapshot.js';
import { ZoneSet } from '../zone/zoneset.js';
import type { Zone } from '../zone/zone.js';
import { serialNewer, serialOf } from './axfr.js';

const FILE = 'serials.json';
const KIND = 'serials/1';

/** What was served for a zone: its file's digest and the serial given to it. */
interface Served {
  readonly digest: string;
  readonly serial: number;
}

/** The serial after `last` that `policy` gives at `now`, never older than the file's own. */
export function nextSerial(policy: Exclude<SerialPolicy, 'keep'>, last: number | undefined, file: number, now: Date): number {
  let candidate: number;
  if (policy === 'increment') candidate = last === undefined ? file : (last + 1) >>> 0;
  else if (policy === 'unixtime') candidate = Math.floor(now.getTime() / 1000) >>> 0;
  else candidate = Number(now.toISOString().slice(0, 10).replace(/-/g, '')) * 100; // YYYYMMDD00
  // Never behind what was served or what the file says (RFC 1982 arithmetic).
  if (last !== undefined && !serialNewer(candidate, last)) candidate = (last + 1) >>> 0;
  if (serialNewer(file, candidate)) candidate = file;
  return candidate >>> 0;
}

function isServed(v: unknown): v is Record<string, Served> {
  return typeof v === 'object' && v !== null && Object.values(v).every((s) => typeof (s as Served)?.digest === 'string' && Number.isInteger((s as Served)?.serial));
}

/**
 * The configuration with each policy's serials: zones whose policy is not `keep` get the
 * serial last served while their file is unchanged, the next one when it changed.
 */
export function applySerialPolicies(config: LoadedConfig, settings: TransferSettings | undefined, state: StateDir | undefined, write: boolean, now = new Date()): { config: LoadedConfig; raised: { zone: string; file: number; serial: number }[]; problem?: string } {
  const policies = [...(settings?.zones ?? [])].filter(([, o]) => o.serialPolicy !== 'keep');
  if (policies.length === 0) return { config, raised: [] };
  const read = state?.readJson(FILE, KIND, (d) => (isServed(d) ? d : undefined));
  const served: Record<string, Served> = { ...(read?.value ?? {}) };
  const textOf = new Map<string, string>();
  for (const [file, text] of config.sources) if (file.endsWith('.zone')) textOf.set(basename(file).slice(0, -'.zone'.length).replace(/\.?$/, '.').toLowerCase(), text);
  const raised: { zone: string; file: number; serial: number }[] = [];
  const zones: Zone[] = [];
  for (const zone of config.zones.zones) {
    const options = settings!.zones.get(zone.origin.key);
    const text = textOf.get(zone.origin.key);
    if (!options || options.serialPolicy === 'keep' || text === undefined) {
      zones.push(zone);
      continue;
    }
    const digest = createHash('sha256').update(text).digest('hex');
    const before = served[zone.origin.key];
    const fileSerial = serialOf(zone);
    const unchanged = before !== undefined && before.digest === digest;
    const serial = unchanged ? before.serial : nextSerial(options.serialPolicy, before?.serial, fileSerial, now);
    served[zone.origin.key] = { digest, serial };
    if (!unchanged && serial !== fileSerial) raised.push({ zone: zone.origin.toString(), file: fileSerial, serial });
    zones.push(serial === fileSerial ? zone : zone.withSerial(serial));
  }
  let problem = read?.problem;
  try {
    if (write) state?.writeJson(FILE, KIND, served);
  } catch (e) {
    problem = `cannot keep the served serials in the state directory (${(e as Error).message}): a restart may serve older ones`;
  }
  if (zones.every((z, i) => z === [...config.zones.zones][i])) return { config, raised, problem };
  return { config: { ...config, zones: new ZoneSet(zones) }, raised, problem };
}
