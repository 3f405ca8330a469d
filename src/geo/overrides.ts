/**
 * Operator overrides: networks pinned to a country, region, PoP and/or coordinates, checked
 * before any database (private networks, known resolvers). Read from a YAML file:
 *
 *   overrides:
 *     - networks: [10.0.0.0/8, fd00::/8]
 *       country: DE        # region and coordinates default from the country
 *       pop: FRA
 *     - networks: [192.0.2.53/32]
 *       region: WNAM
 *       latitude: 37.4
 *       longitude: -122.1
 *
 * CIDRs are parsed strictly when loading (wire/ip.ts); lookups match against precompiled 32-bit words,
 * longest prefix first, without allocating.
 */
import { readFile } from 'node:fs/promises';
import { isMap, LineCounter, parseDocument } from 'yaml';
import { REGIONS, type Location, type Region } from './location.js';
import { FileScope, list, num, obj, str, type Field, type Obj } from '../config/yaml.js';
import type { Problem } from '../config/problem.js';
import { IpError, parseCidr, type CidrNetwork } from '../wire/ip.js';
import { centroidOf } from './centroids.js';
import { isCountryCode, regionOf } from './regions.js';

/** One network of an override entry, compiled. */
export interface GeoOverride {
  /** The network in canonical form (`10.0.0.0/8`, `2001:db8::/32`). */
  readonly network: string;
  readonly family: 4 | 6;
  readonly prefixLength: number;
  /** Frozen; shared by every network of the entry. */
  readonly location: Location;
  /** Where the network was written. */
  readonly line: number;
}

/** Filled by `OverrideTable.match`, reused by the caller so matching allocates nothing. */
export interface OverrideMatch {
  /** The most specific override containing the address, if any. */
  override: GeoOverride | undefined;
  /**
   * The shortest prefix length around the address whose network contains no override network
   * that does not contain the address (0 when there is none): an answer that depends on the
   * address holds for that network at most, whatever decided it.
   */
  exclusion: number;
}

const ENTRY_FIELDS = ['networks', 'country', 'region', 'pop', 'latitude', 'longitude'];
const POP = /^[A-Za-z0-9]{3,4}$/;
const REGION_SET: ReadonlySet<string> = new Set(REGIONS);
/** Codes people write that ISO 3166-1 spells otherwise. */
const COUNTRY_HINTS: Readonly<Record<string, string>> = { UK: 'GB', EL: 'GR' };

/** Longest-prefix matching over compiled networks; immutable once built. */
export class OverrideTable {
  readonly overrides: readonly GeoOverride[];
  private readonly v4: readonly GeoOverride[];
  private readonly v4Words: Uint32Array;
  private readonly v6: readonly GeoOverride[];
  private readonly v6Words: Uint32Array;

  constructor(networks: readonly CompiledNetwork[]) {
    this.overrides = networks.map((n) => n.override);
    // Most specific first: the first network containing an address is the longest match.
    const byPrefix = (a: CompiledNetwork, b: CompiledNetwork): number => b.override.prefixLength - a.override.prefixLength;
    const v4 = networks.filter((n) => n.override.family === 4).sort(byPrefix);
    const v6 = networks.filter((n) => n.override.family === 6).sort(byPrefix);
    this.v4 = v4.map((n) => n.override);
    this.v6 = v6.map((n) => n.override);
    this.v4Words = Uint32Array.from(v4.map((n) => n.words[0]));
    this.v6Words = Uint32Array.from(v6.flatMap((n) => n.words));
  }

  get size(): number {
    return this.overrides.length;
  }

  /** True when some override is of this address family (else matching can be skipped). */
  covers(family: 4 | 6): boolean {
    return (family === 4 ? this.v4 : this.v6).length > 0;
  }

  /** `address` as filled by parseAddress: word 0 for IPv4, words 0-3 for IPv6. */
  match(family: 4 | 6, address: Uint32Array, out: OverrideMatch): void {
    out.override = undefined;
    out.exclusion = 0;
    if (family === 4) {
      const a = address[0];
      const nets = this.v4Words;
      for (let i = 0; i < nets.length; i++) {
        const o = this.v4[i];
        const common = Math.clz32(a ^ nets[i]);
        if (common >= o.prefixLength) {
          out.override = o;
          return;
        }
        if (common + 1 > out.exclusion) out.exclusion = common + 1;
      }
      return;
    }
    const nets = this.v6Words;
    for (let i = 0; i < this.v6.length; i++) {
      const o = this.v6[i];
      let common = 128;
      for (let k = 0; k < 4; k++) {
        const x = address[k] ^ nets[4 * i + k];
        if (x !== 0) {
          common = 32 * k + Math.clz32(x);
          break;
        }
      }
      if (common >= o.prefixLength) {
        out.override = o;
        return;
      }
      if (common + 1 > out.exclusion) out.exclusion = common + 1;
    }
  }
}

export const NO_OVERRIDES = new OverrideTable([]);

/** The overrides of a file with the problems found; entries with errors are left out. */
export interface OverridesResult {
  readonly table: OverrideTable;
  readonly problems: Problem[];
}

/** Reads and parses an overrides file; an unreadable file is one error problem (line 0). */
export async function loadOverrides(file: string): Promise<OverridesResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    return { table: NO_OVERRIDES, problems: [{ file, line: 0, severity: 'error', message: `cannot read the overrides file: ${(e as Error).message}` }] };
  }
  return parseOverrides(text, file);
}

/** Parses the YAML text of an overrides file. Problems name the file, line and field path. */
export function parseOverrides(text: string, file: string): OverridesResult {
  const problems: Problem[] = [];
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) problems.push({ file, line: lines.linePos(e.pos[0]).line, severity: 'error', message: `invalid YAML: ${e.message}` });
    return { table: NO_OVERRIDES, problems };
  }
  for (const w of doc.warnings) problems.push({ file, line: lines.linePos(w.pos[0]).line, severity: 'warning', message: `YAML: ${w.message}` });
  const scope = new FileScope(file, doc, lines, problems);
  const top = scope.field(doc.contents, '', 1);
  if (top.isNull) return { table: NO_OVERRIDES, problems };
  if (!isMap(top.node)) {
    problems.push({ file, line: top.line, severity: 'error', message: 'the top level must be a mapping with a list of overrides' });
    return { table: NO_OVERRIDES, problems };
  }
  const o = obj(top);
  o?.checkFields(['overrides']);
  const listField = o?.get('overrides');
  const entries = (listField && list(listField)) || [];
  const networks: CompiledNetwork[] = [];
  const seen = new Map<string, number>();
  for (const entry of entries) readEntry(entry, networks, seen);
  return { table: new OverrideTable(networks), problems };
}

/** An override with its network as 32-bit words (IPv4: one word), for the table. */
interface CompiledNetwork {
  readonly override: GeoOverride;
  readonly words: readonly number[];
}

/** A network as read, before the entry's location is known. */
interface NetworkText {
  readonly network: string;
  readonly family: 4 | 6;
  readonly prefixLength: number;
  readonly words: readonly number[];
  readonly line: number;
}

function readEntry(f: Field, out: CompiledNetwork[], seen: Map<string, number>): void {
  const o = obj(f);
  if (!o) return;
  const before = f.scope.errors;
  o.checkFields(ENTRY_FIELDS);
  const networks = readNetworks(o, seen);
  const location = readLocation(o);
  if (f.scope.errors !== before || !networks || !location) return;
  for (const n of networks) {
    const override: GeoOverride = Object.freeze({ network: n.network, family: n.family, prefixLength: n.prefixLength, location, line: n.line });
    out.push({ override, words: n.words });
  }
}

function readNetworks(o: Obj, seen: Map<string, number>): NetworkText[] | undefined {
  const f = o.required('networks');
  if (!f) return undefined;
  const items = list(f);
  if (!items) return undefined;
  if (items.length === 0) return f.error('must list at least one network');
  const out: NetworkText[] = [];
  for (const item of items) {
    const n = readNetwork(item);
    if (!n) continue;
    const earlier = seen.get(n.network);
    if (earlier !== undefined) {
      item.error(`${n.network} is already listed at line ${earlier}`);
      continue;
    }
    seen.set(n.network, n.line);
    out.push(n);
  }
  return out;
}

/** One CIDR, strictly: what ip-cidr accepts, minus host bits, zone indexes and mapped IPv4. */
function readNetwork(f: Field): NetworkText | undefined {
  const text = typeof f.scalar === 'string' ? f.scalar : undefined;
  if (text === undefined) return f.error(`must be a CIDR network such as 192.0.2.0/24 or 2001:db8::/32, got ${f.isNull ? 'null' : describeValue(f)}`);
  let n: CidrNetwork;
  try {
    n = parseCidr(text);
  } catch (e) {
    if (e instanceof IpError) return f.error(e.message);
    throw e;
  }
  return { network: n.text, family: n.family, prefixLength: n.prefix, words: [...n.words], line: f.line };
}

function describeValue(f: Field): string {
  const v = f.scalar;
  if (v === undefined) return 'a mapping or list';
  return typeof v === 'number' ? String(v) : JSON.stringify(v);
}

function readLocation(o: Obj): Location | undefined {
  const countryField = o.get('country');
  const regionField = o.get('region');
  const popField = o.get('pop');
  const latField = o.get('latitude');
  const lonField = o.get('longitude');

  let country: string | undefined;
  if (countryField) {
    const v = str(countryField);
    if (v !== undefined) {
      const cc = v.toUpperCase();
      if (isCountryCode(cc)) country = cc;
      else {
        const hint = COUNTRY_HINTS[cc];
        countryField.error(`"${v}" is not an ISO 3166-1 alpha-2 country code in the region table${hint ? ` (did you mean "${hint}"?)` : ''}`);
      }
    }
  }
  let region: Region | undefined;
  if (regionField) {
    const v = str(regionField);
    if (v !== undefined) {
      if (REGION_SET.has(v.toUpperCase())) region = v.toUpperCase() as Region;
      else regionField.error(`"${v}" is not a region: expected one of ${REGIONS.join(' ')}`);
    }
  }
  let pop: string | undefined;
  if (popField) {
    const v = str(popField);
    if (v !== undefined) {
      if (POP.test(v)) pop = v.toUpperCase();
      else popField.error(`"${v}" is not a PoP code: expected 3 or 4 letters or digits, such as FRA`);
    }
  }
  const latitude = latField ? num(latField, -90, 90, false) : undefined;
  const longitude = lonField ? num(lonField, -180, 180, false) : undefined;
  if (latField && !lonField) latField.error('longitude must be given too');
  if (lonField && !latField) lonField.error('latitude must be given too');
  if (!countryField && !regionField && !popField && !latField && !lonField) {
    o.self.error('sets nothing: give at least one of country, region, pop, or latitude and longitude');
    return undefined;
  }

  const location: { country?: string; region?: Region; pop?: string; latitude?: number; longitude?: number } = {};
  if (country !== undefined) location.country = country;
  const r = region ?? (country !== undefined ? regionOf(country) : undefined);
  if (r !== undefined) location.region = r;
  if (pop !== undefined) location.pop = pop;
  const point = latitude !== undefined && longitude !== undefined ? { latitude, longitude } : country !== undefined ? centroidOf(country) : undefined;
  if (point) {
    location.latitude = point.latitude;
    location.longitude = point.longitude;
  }
  return Object.freeze(location);
}
