/**
 * Where a client address is: operator overrides first, then mmdb databases in order (first
 * record with a country wins), behind an LRU cache keyed by the address (callers pass ECS
 * addresses already masked, so one client network is one entry). An IPv4 address may be given
 * as a number, which is how the query path passes ECS subnets: a number key costs no string
 * hash per lookup, which on a large cache is most of a lookup's cost.
 *
 * `prefixLength` is the length of the network over which the answer is known to be the same:
 * the deciding override's or database network's, made longer where needed so that the network
 * contains no more specific override and no part of an earlier database that said something
 * else. That is what an ECS scope may claim.
 */
import { regionTable } from './regions.js';
import { centroidTable } from './centroids.js';
import { isIP } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { LRUCache } from 'lru-cache';
import maxmind, { type Reader, type Response } from 'maxmind';
import type { Location } from './location.js';
import type { Problem } from '../config/problem.js';
import { locationFromRecord } from './mmdb.js';
import { widestUniformPrefix } from './scope.js';
import { loadOverrides, NO_OVERRIDES, type GeoOverride, type OverrideMatch, type OverrideTable } from './overrides.js';
import { ipv4Text, parseAddress } from '../wire/ip.js';

export interface GeoResult {
  /** country (upper case), region, latitude/longitude (database, else country centroid); pop only from overrides. */
  readonly location: Location;
  /** Bits of the address that decided (IPv4 lengths for IPv4 addresses); see the module comment. */
  readonly prefixLength: number;
  readonly source: 'override' | 'database';
}

export interface GeoStats {
  readonly entries: number;
  readonly capacity: number;
  readonly hits: number;
  readonly misses: number;
}

export interface GeoLocator {
  /**
   * Synchronous and cached; undefined for an address nothing locates and for anything not an
   * IP address. `ip` is text, or an IPv4 address as an unsigned 32-bit number.
   */
  lookup(ip: string | number): GeoResult | undefined;
  /**
   * The widest network around `ip` (given `hit = lookup(ip)`) over which every lookup gives
   * the same location (src/geo/scope.ts); cached like lookups.
   */
  widestPrefix(ip: string | number, hit: GeoResult): number;
  stats(): GeoStats;
}

export interface GeoOptions {
  /** mmdb paths, tried in order; default: the shipped country database. */
  readonly databases?: readonly string[];
  /** YAML file of overrides (see overrides.ts). */
  readonly overridesFile?: string;
  /** Cache entries; default 100000. */
  readonly cacheSize?: number;
}

/** The CC0 ip-location-db country database that ships as an npm dependency. */
export const DEFAULT_GEO_DATABASE: string = join(
  dirname(createRequire(import.meta.url).resolve('@ip-location-db/geo-whois-asn-country-mmdb/package.json')),
  'geo-whois-asn-country.mmdb',
);

export const DEFAULT_GEO_CACHE_SIZE = 100_000;

/**
 * Opens the databases and the overrides file. An unreadable or invalid file is an error
 * problem naming it; the locator works with whatever loaded (possibly nothing).
 */
export async function openGeoLocator(opts: GeoOptions = {}): Promise<{ locator: GeoLocator; problems: Problem[] }> {
  const cacheSize = opts.cacheSize ?? DEFAULT_GEO_CACHE_SIZE;
  if (!Number.isInteger(cacheSize) || cacheSize < 1) throw new RangeError(`cacheSize must be a positive integer, got ${cacheSize}`);
  const problems: Problem[] = [];
  // Load the data tables now, so that no lookup on the query path ever reads a file.
  regionTable();
  centroidTable();
  const databases: Database[] = [];
  for (const path of opts.databases ?? [DEFAULT_GEO_DATABASE]) {
    const db = await openDatabase(path, problems);
    if (db) databases.push(db);
  }
  let overrides = NO_OVERRIDES;
  if (opts.overridesFile !== undefined) {
    const loaded = await loadOverrides(opts.overridesFile);
    overrides = loaded.table;
    problems.push(...loaded.problems);
  }
  return { locator: new CachedLocator(databases, overrides, cacheSize), problems };
}

interface Database {
  readonly path: string;
  readonly reader: Reader<Response>;
  /** An IPv4-only tree cannot answer for IPv6 addresses (walking it with 128 bits gives nonsense). */
  readonly ipv6: boolean;
  /** Locations per decoded record: the reader's own cache hands back the same record objects. */
  readonly locations: WeakMap<object, Location | null>;
}

async function openDatabase(path: string, problems: Problem[]): Promise<Database | undefined> {
  try {
    const reader = await maxmind.open<Response>(path);
    const m = reader.metadata;
    if (m.binaryFormatMajorVersion !== 2 || (m.ipVersion !== 4 && m.ipVersion !== 6) || !(m.nodeCount > 0)) {
      throw new Error(`unsupported metadata (format ${m.binaryFormatMajorVersion}, ip_version ${m.ipVersion}, node_count ${m.nodeCount})`);
    }
    return { path, reader, ipv6: m.ipVersion === 6, locations: new WeakMap() };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    // File system errors carry a code; anything else is the reader failing on the contents.
    const message = err.code ? `cannot read the geolocation database: ${err.message}` : `not a valid MaxMind DB (.mmdb) file: ${err.message}`;
    problems.push({ file: path, line: 0, severity: 'error', message });
    return undefined;
  }
}

/** What is known of one address: where it is (undefined: nowhere), and once asked, the widest uniform prefix. */
interface CacheValue {
  readonly result: GeoResult | undefined;
  widest?: number;
}

/** `::ffff:` + 7 characters of dotted IPv4 at least. */
const MAPPED_PREFIX = 7;

class CachedLocator implements GeoLocator {
  private readonly cache: LRUCache<string | number, CacheValue>;
  /** The entry of the last lookup: ECS scope asks about the address just located. */
  private lastIp: string | number | undefined;
  private lastValue: CacheValue | undefined;
  private hits = 0;
  private misses = 0;
  // Scratch space for one lookup at a time (JavaScript runs one at a time).
  private readonly words = new Uint32Array(4);
  private readonly match: OverrideMatch = { override: undefined, exclusion: 0 };
  /** The result of each override at its own prefix length, built once. */
  private readonly overrideResults = new Map<GeoOverride, GeoResult>();

  constructor(
    private readonly databases: readonly Database[],
    private readonly overrides: OverrideTable,
    private readonly capacity: number,
  ) {
    this.cache = new LRUCache<string | number, CacheValue>({ max: capacity });
    for (const o of overrides.overrides) {
      this.overrideResults.set(o, Object.freeze({ location: o.location, prefixLength: o.prefixLength, source: 'override' }));
    }
  }

  lookup(ip: string | number): GeoResult | undefined {
    let value = this.cache.get(ip);
    if (value !== undefined) {
      this.hits++;
    } else {
      this.misses++;
      const text = addressText(ip);
      const family = text === undefined ? 0 : isIP(text);
      // Not cached: junk input must not evict real client networks.
      if (family === 0) return undefined;
      value = { result: this.resolve(text!, family === 4 ? 4 : 6) };
      this.cache.set(ip, value);
    }
    this.lastIp = ip;
    this.lastValue = value;
    return value.result;
  }

  widestPrefix(ip: string | number, hit: GeoResult): number {
    const value = this.lastIp === ip ? this.lastValue : this.cache.peek(ip);
    if (value?.widest !== undefined) return value.widest;
    const text = addressText(ip);
    const family = text === undefined ? 0 : isIP(text);
    // Walks use uncached lookups, so that they neither evict clients nor skew the hit rate.
    const p = family === 0 ? hit.prefixLength : widestUniformPrefix((a) => this.resolve(a, family === 4 ? 4 : 6), text!, hit);
    if (value && value.result === hit) value.widest = p;
    return p;
  }

  stats(): GeoStats {
    return { entries: this.cache.size, capacity: this.capacity, hits: this.hits, misses: this.misses };
  }

  private resolve(ip: string, family: 4 | 6): GeoResult | undefined {
    let address = ip;
    let bits = family === 4 ? 32 : 128;
    // Dual-stack sockets report IPv4 resolvers as ::ffff:a.b.c.d (RFC 4291 §2.5.5.2): look up the
    // IPv4 address, and give the prefix length back in IPv6 terms (+96).
    let shift = 0;
    if (family === 6 && isMappedV4(ip)) {
      address = ip.slice(MAPPED_PREFIX);
      family = 4;
      bits = 32;
      shift = 96;
    }
    let prefix = 0;
    if (this.overrides.covers(family)) {
      parseAddress(address, family, this.words);
      this.overrides.match(family, this.words, this.match);
      prefix = this.match.exclusion;
      const o = this.match.override;
      if (o) {
        const own = this.overrideResults.get(o);
        if (own && prefix <= o.prefixLength && shift === 0) return own;
        return Object.freeze({ location: o.location, prefixLength: Math.max(prefix, o.prefixLength) + shift, source: 'override' });
      }
    }
    for (const db of this.databases) {
      if (family === 6 && !db.ipv6) continue;
      let record: Response | null;
      let length: number;
      try {
        [record, length] = db.reader.getWithPrefixLength(address);
      } catch {
        // A corrupt database: skip it, and claim nothing wider than the address itself.
        prefix = bits;
        continue;
      }
      if (length > prefix) prefix = length;
      if (record === null) continue;
      const location = this.locationOf(db, record);
      if (location) return Object.freeze({ location, prefixLength: prefix + shift, source: 'database' });
    }
    return undefined;
  }

  private locationOf(db: Database, record: Response): Location | undefined {
    // Records are maps in every layout we read; anything else cannot be a WeakMap key.
    if (typeof record !== 'object') return undefined;
    let location = db.locations.get(record);
    if (location === undefined) {
      location = locationFromRecord(record) ?? null;
      db.locations.set(record, location);
    }
    return location ?? undefined;
  }
}

/** Text of an address given as text or as an IPv4 number; undefined for anything else. */
function addressText(ip: string | number): string | undefined {
  if (typeof ip === 'string') return ip;
  if (typeof ip !== 'number' || !Number.isInteger(ip) || ip < 0 || ip > 0xffffffff) return undefined;
  return ipv4Text(ip);
}

function isMappedV4(ip: string): boolean {
  return (ip.startsWith('::ffff:') || ip.startsWith('::FFFF:')) && ip.includes('.', MAPPED_PREFIX) && !ip.includes('%');
}
