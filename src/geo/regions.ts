/**
 * Country (and US/Canadian subdivision) -> Cloudflare load-balancing region, from the editable
 * table `country-regions.csv` that sits beside this module (copied into dist/geo/ by the build).
 * The table is our approximation of Cloudflare's mapping; see the comments in the CSV.
 */
import { readFileSync } from 'node:fs';
import { csvRows } from './csv.js';
import { REGIONS, type Region } from './location.js';

export const REGION_TABLE_URL = new URL('./country-regions.csv', import.meta.url);

export interface RegionTable {
  /** Keyed `CC` for a country's default and `CC-SUB` for a subdivision, upper case. */
  readonly regions: ReadonlyMap<string, Region>;
}

export class RegionTableError extends Error {}

const HEADER = 'country,subdivision,region';
const REGION_SET: ReadonlySet<string> = new Set(REGIONS);

/**
 * Parses the CSV text. Throws RegionTableError naming the line for a malformed row, an unknown
 * region, a duplicate row, or a subdivision whose country has no row of its own.
 */
export function parseRegionTable(text: string, file = 'country-regions.csv'): RegionTable {
  const regions = new Map<string, Region>();
  const subdivisions: { key: string; country: string; line: number }[] = [];
  for (const { cols, at, line } of csvRows(text, file, HEADER, (m) => new RegionTableError(m))) {
    const [country, sub, region] = cols;
    if (!/^[A-Z]{2}$/.test(country)) throw new RegionTableError(`${at}: country "${country}" is not an upper-case ISO 3166-1 alpha-2 code`);
    if (sub !== '' && !/^[A-Z0-9]{1,3}$/.test(sub)) throw new RegionTableError(`${at}: subdivision "${sub}" is not an ISO 3166-2 code without the country prefix`);
    if (!REGION_SET.has(region)) throw new RegionTableError(`${at}: region "${region}" is not one of ${REGIONS.join(' ')}`);
    const key = sub === '' ? country : `${country}-${sub}`;
    if (regions.has(key)) throw new RegionTableError(`${at}: ${key} is listed twice`);
    regions.set(key, region as Region);
    if (sub !== '') subdivisions.push({ key, country, line });
  }
  for (const s of subdivisions) {
    if (!regions.has(s.country)) throw new RegionTableError(`${file}:${s.line}: ${s.key} needs a row for its country ${s.country}`);
  }
  return { regions };
}

let table: RegionTable | undefined;

/** The shipped table, read on first use. */
export function regionTable(): RegionTable {
  table ??= parseRegionTable(readFileSync(REGION_TABLE_URL, 'utf8'), REGION_TABLE_URL.pathname);
  return table;
}

/**
 * The region of a country (ISO 3166-1 alpha-2), refined by an ISO 3166-2 subdivision code
 * (`CA`, or `US-CA`) where the table splits the country. Case-insensitive; undefined when
 * the country is unknown. Unknown subdivisions give the country's default.
 */
export function regionOf(country: string, subdivision?: string): Region | undefined {
  if (country.length !== 2) return undefined;
  const regions = regionTable().regions;
  let cc = country;
  if (!regions.has(cc)) {
    cc = country.toUpperCase();
    if (!regions.has(cc)) return undefined;
  }
  if (subdivision) {
    let sub = subdivision.toUpperCase();
    if (sub.startsWith(cc + '-')) sub = sub.slice(cc.length + 1);
    const r = regions.get(`${cc}-${sub}`);
    if (r) return r;
  }
  return regions.get(cc);
}

/** True for a country code the region table knows (case-insensitive). */
export function isCountryCode(code: string): boolean {
  return code.length === 2 && regionTable().regions.has(code.toUpperCase());
}
