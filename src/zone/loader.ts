/**
 * Loads every `*.zone` file of the zones directory into a ZoneSet. The file name (without
 * `.zone`) is the initial origin; the zone's apex is where its SOA is. A file with any error
 * is not served; the others still are.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Name, NameError } from '../wire/name.js';
import { T } from '../wire/types.js';
import { parseZoneFile } from './parser.js';
import type { Problem } from '../config/problem.js';
import { compileZone, type Zone } from './zone.js';
import { ZoneSet } from './zoneset.js';

export interface LoadResult {
  readonly zones: ZoneSet;
  readonly problems: readonly Problem[];
  /** Files that had errors and are not served. */
  readonly failed: readonly string[];
  /** The zone each failed file is named after (origin key -> file). */
  readonly failedOrigins: ReadonlyMap<string, string>;
  /** Files that had errors and are served from the text `fallback` gave. */
  readonly replaced: readonly string[];
  /** The text of each file loaded without errors, as it was read. */
  readonly sources: ReadonlyMap<string, string>;
}

/**
 * Loads the zone files of `dir`. `fallback(path)` may give the text to load instead of a file
 * that has errors (its last good copy); a file loaded from it is listed in `replaced`.
 */
export function loadZonesDir(dir: string, fallback?: (path: string) => string | undefined): LoadResult {
  const problems: Problem[] = [];
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.zone')).sort();
  } catch (e) {
    problems.push({ file: dir, line: 0, severity: 'error', message: `cannot read the zones directory: ${(e as Error).message}` });
    return { zones: new ZoneSet([]), problems, failed: [], failedOrigins: new Map(), replaced: [], sources: new Map() };
  }
  if (files.length === 0) problems.push({ file: dir, line: 0, severity: 'error', message: 'no zone files (*.zone) in the zones directory: nothing to serve' });
  const zones: Zone[] = [];
  const failed: string[] = [];
  const servedBy = new Map<string, string>();
  const replaced: string[] = [];
  const sources = new Map<string, string>();
  for (const f of files) {
    const path = join(dir, f);
    const text = readZoneText(path, problems);
    let result: { zone?: Zone; problems: Problem[] } = text === undefined ? { problems: [] } : loadZoneFile(path, text);
    problems.push(...result.problems);
    if (result.zone) sources.set(path, text!);
    const saved = result.zone ? undefined : fallback?.(path);
    if (saved !== undefined) {
      const again = loadZoneFile(path, saved);
      if (again.zone) {
        result = again;
        replaced.push(path);
      }
    }
    if (!result.zone) {
      failed.push(path);
      continue;
    }
    const other = servedBy.get(result.zone.origin.key);
    if (other) {
      problems.push({ file: path, line: 0, severity: 'error', message: `zone ${result.zone.origin} is already loaded from ${other}` });
      failed.push(path);
      continue;
    }
    servedBy.set(result.zone.origin.key, path);
    zones.push(result.zone);
  }
  const failedOrigins = new Map<string, string>();
  for (const path of failed) {
    const stem = basename(path).replace(/\.zone$/, '');
    try {
      failedOrigins.set(Name.fromText(stem.endsWith('.') ? stem : stem + '.').key, path);
    } catch (e) {
      if (!(e instanceof NameError)) throw e;
    }
  }
  return { zones: new ZoneSet(zones), problems, failed, failedOrigins, replaced, sources };
}

function readZoneText(path: string, problems: Problem[]): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    problems.push({ file: path, line: 0, severity: 'error', message: `cannot read zone file: ${(e as Error).message}` });
    return undefined;
  }
}

/** Loads one zone file, or `text` given for it. */
export function loadZoneFile(path: string, text?: string): { zone?: Zone; problems: Problem[] } {
  const stem = basename(path).replace(/\.zone$/, '');
  let origin: Name;
  try {
    origin = Name.fromText(stem.endsWith('.') ? stem : stem + '.');
  } catch (e) {
    if (!(e instanceof NameError)) throw e;
    return { problems: [{ file: path, line: 0, severity: 'error', message: `file name "${stem}" is not a domain name: ${e.message}` }] };
  }
  const parsed = parseZoneFile(path, origin, text);
  // The file name names the zone; a file whose SOA sits elsewhere (say "$ORIGIN example.com."
  // in "example.zone") is the zone of its first SOA.
  const soas = parsed.records.filter((r) => r.type === T.SOA);
  const apex = soas.length === 0 || soas.some((r) => r.owner.key === origin.key) ? origin : soas[0].owner;
  const compiled = compileZone(apex, parsed.records, path);
  const problems = [...parsed.problems, ...compiled.problems];
  if (problems.some((p) => p.severity === 'error')) return { problems };
  return { zone: compiled.zone, problems };
}
