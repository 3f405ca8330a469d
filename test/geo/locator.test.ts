/**
 * The GeoLocator: the shipped database, databases in order, overrides before databases, the
 * prefix length that an ECS scope may claim, broken files, bad input and the cache.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { Reader, type Response } from 'maxmind';
import { DEFAULT_GEO_DATABASE, openGeoLocator, type GeoLocator, type GeoResult } from '../../src/geo/locator.js';
import { centroidOf } from '../../src/geo/centroids.js';
import { writeMmdb } from '../helpers/mmdb-writer.js';
import { cityDb, countryDb, flatDb, writeDb } from '../fixtures/geo/databases.js';

const FIXTURES = new URL('../fixtures/geo/', import.meta.url).pathname;
const OVERRIDES = `${FIXTURES}overrides.yaml`;
const BROKEN = `${FIXTURES}not-a-database.mmdb`;

const dir = t.testdir({});
const CITY = writeDb(dir, 'city.mmdb', cityDb());
const COUNTRY = writeDb(dir, 'country.mmdb', countryDb());
const FLAT = writeDb(dir, 'flat.mmdb', flatDb());
const V4ONLY = writeDb(dir, 'v4.mmdb', writeMmdb({ ipVersion: 4, networks: [{ network: '0.0.0.0/1', data: { country_code: 'NZ' } }, { network: '128.0.0.0/1', data: { country_code: 'NZ' } }] }));

async function open(opts: Parameters<typeof openGeoLocator>[0]): Promise<GeoLocator> {
  const { locator, problems } = await openGeoLocator(opts);
  if (problems.length > 0) throw new Error(JSON.stringify(problems));
  return locator;
}

/** [source, country, region, pop, prefix length] or undefined. */
function brief(r: GeoResult | undefined): unknown[] | undefined {
  return r && [r.source, r.location.country, r.location.region, r.location.pop, r.prefixLength];
}

t.test('the shipped database (stable entries)', async (t) => {
  t.ok(isAbsolute(DEFAULT_GEO_DATABASE));
  t.ok(existsSync(DEFAULT_GEO_DATABASE), DEFAULT_GEO_DATABASE);
  const geo = await open({});
  const us = centroidOf('US');
  const cases: [string, string, string][] = [
    ['8.8.8.8', 'US', 'ENAM'], // Google Public DNS
    ['1.1.1.1', 'AU', 'OC'], // APNIC's research prefix, registered in Australia
    ['133.1.1.1', 'JP', 'NEAS'], // 133.0.0.0/8, Japanese universities since 1997
    ['2001:4860:4860::8888', 'US', 'ENAM'], // Google Public DNS over IPv6
    ['2001:7fd::1', 'NL', 'WEU'], // K-root, RIPE NCC
  ];
  for (const [ip, country, region] of cases) {
    const r = geo.lookup(ip);
    t.match(r, { source: 'database', location: { country, region } }, ip);
    const max = ip.includes(':') ? 128 : 32;
    t.ok(r && r.prefixLength >= 8 && r.prefixLength <= max, `${ip}: prefix length ${r?.prefixLength}`);
    t.ok(r && r.location.latitude !== undefined && r.location.longitude !== undefined, `${ip}: centroid coordinates`);
  }
  t.same(geo.lookup('8.8.8.8')?.location, { country: 'US', region: 'ENAM', latitude: us?.latitude, longitude: us?.longitude });
  t.equal(geo.lookup('10.0.0.1'), undefined, 'private addresses are not located');
  t.equal(geo.lookup('::1'), undefined);
  const mapped = geo.lookup('::ffff:8.8.8.8');
  t.equal(mapped?.location.country, 'US', 'IPv4-mapped IPv6 is looked up as IPv4');
  t.equal(mapped?.prefixLength, (geo.lookup('8.8.8.8')?.prefixLength ?? 0) + 96, '...with the prefix length in IPv6 terms');
});

t.test('layouts through the locator', async (t) => {
  const geo = await open({ databases: [CITY, FLAT] });
  t.same(geo.lookup('192.0.2.1'), { source: 'database', prefixLength: 25, location: { country: 'US', region: 'WNAM', latitude: 37.7749, longitude: -122.4194 } });
  t.same(brief(geo.lookup('2001:db8:1::1')), ['database', 'CA', 'WNAM', undefined, 48]);
  t.same(brief(geo.lookup('100.64.0.1')), ['database', 'FR', 'WEU', undefined, 16], 'no country in the City database: the flat one answers');
  t.ok(Object.isFrozen(geo.lookup('192.0.2.1')));
});

t.test('databases are tried in order; the prefix covers what every database consulted said', async (t) => {
  const cityFirst = await open({ databases: [CITY, COUNTRY] });
  t.same(brief(cityFirst.lookup('192.0.2.1')), ['database', 'US', 'WNAM', undefined, 25]);
  t.same(brief(cityFirst.lookup('198.51.100.1')), ['database', 'GB', 'WEU', undefined, 24]);
  // City has nothing in 198.51.101.0/24 but does in 198.51.100.0/24: Country's /23 may not be claimed.
  t.same(brief(cityFirst.lookup('198.51.101.1')), ['database', 'JP', 'NEAS', undefined, 24]);
  t.same(brief(cityFirst.lookup('2001:db8:2::1')), ['database', 'GB', 'WEU', undefined, 47]);

  const countryFirst = await open({ databases: [COUNTRY, CITY] });
  t.same(brief(countryFirst.lookup('192.0.2.1')), ['database', 'DE', 'WEU', undefined, 24]);
  t.same(brief(countryFirst.lookup('198.51.100.1')), ['database', 'JP', 'NEAS', undefined, 23]);
  t.same(brief(countryFirst.lookup('2001:db8:8000::1')), ['database', 'GB', 'WEU', undefined, 33], 'Country has no record in the other /33: City answers');
  t.equal(countryFirst.lookup('192.0.3.1'), undefined);

  const none = await open({ databases: [] });
  t.equal(none.lookup('192.0.2.1'), undefined, 'no databases: nothing is located');
});

t.test('an IPv4-only database is not asked about IPv6', async (t) => {
  const geo = await open({ databases: [V4ONLY, CITY] });
  t.same(brief(geo.lookup('192.0.2.1')), ['database', 'NZ', 'OC', undefined, 1]);
  t.same(brief(geo.lookup('2001:db8::1')), ['database', 'GB', 'WEU', undefined, 48]);
});

t.test('overrides beat databases; longest prefix wins', async (t) => {
  const geo = await open({ databases: [CITY], overridesFile: OVERRIDES });
  const de = centroidOf('DE');
  t.same(geo.lookup('10.2.3.4'), { source: 'override', prefixLength: 15, location: { country: 'DE', region: 'WEU', pop: 'FRA', latitude: de?.latitude, longitude: de?.longitude } }, '10.0.0.0/8, narrowed to leave 10.1.0.0/16 out');
  t.same(brief(geo.lookup('10.200.0.1')), ['override', 'DE', 'WEU', 'FRA', 9]);
  t.same(geo.lookup('10.1.2.3'), { source: 'override', prefixLength: 16, location: { pop: 'SJC' } }, 'the /16 inside the /8: a PoP only');
  t.same(geo.lookup('192.0.2.53'), { source: 'override', prefixLength: 32, location: { region: 'WNAM', latitude: 37.4, longitude: -122.1 } }, 'beats the City database');
  t.same(brief(geo.lookup('192.0.2.64')), ['override', 'JP', 'NEAS', undefined, 26]);
  t.same(brief(geo.lookup('fd12::1')), ['override', 'DE', 'WEU', 'FRA', 8]);
  t.same(brief(geo.lookup('2001:db8:53::1')), ['override', undefined, 'WNAM', undefined, 48]);
  t.same(brief(geo.lookup('::ffff:10.1.0.1')), ['override', undefined, undefined, 'SJC', 112], 'IPv4-mapped: the IPv4 override, prefix + 96');
  t.equal(geo.lookup('10.1.2.3'), geo.lookup('10.1.2.3'), 'the same object from the cache');
});

t.test('database answers are narrowed to leave more specific overrides out', async (t) => {
  const geo = await open({ databases: [CITY], overridesFile: OVERRIDES });
  // City: 192.0.2.0/25 is US-CA; overrides take 192.0.2.53/32 and 192.0.2.64/26 out of it.
  t.same(brief(geo.lookup('192.0.2.0')), ['database', 'US', 'WNAM', undefined, 27], '192.0.2.32/27 holds the /32');
  t.same(brief(geo.lookup('192.0.2.52')), ['database', 'US', 'WNAM', undefined, 32], 'next to the /32');
  t.same(brief(geo.lookup('192.0.2.128')), ['database', 'US', 'ENAM', undefined, 26], 'no override nearby: the database network');
  t.same(brief(geo.lookup('2001:db8:52::1')), ['database', 'GB', 'WEU', undefined, 48]);
  t.same(brief(geo.lookup('2001:db8:1::1')), ['database', 'CA', 'WNAM', undefined, 48]);
});

t.test('broken files are problems naming them; the locator answers from the rest', async (t) => {
  const missing = `${dir}/missing.mmdb`;
  const { locator, problems } = await openGeoLocator({ databases: [BROKEN, missing, CITY], overridesFile: `${dir}/missing.yaml` });
  t.match(problems, [
    { file: BROKEN, line: 0, severity: 'error', message: /^not a valid MaxMind DB \(\.mmdb\) file: / },
    { file: missing, line: 0, severity: 'error', message: /^cannot read the geolocation database: .*ENOENT/ },
    { file: `${dir}/missing.yaml`, line: 0, severity: 'error', message: /^cannot read the overrides file: / },
  ]);
  t.equal(problems.length, 3);
  t.same(brief(locator.lookup('192.0.2.1')), ['database', 'US', 'WNAM', undefined, 25]);

  const bad = writeDb(dir, 'bad.yaml', Buffer.from('overrides:\n  - networks: [10.0.0.0/8]\n    country: DE\n  - networks: [10.1.0.0/33]\n    pop: AMS\n'));
  const withBad = await openGeoLocator({ databases: [CITY], overridesFile: bad });
  t.match(withBad.problems, [{ file: bad, line: 4, severity: 'error', message: /^overrides\[1\]\.networks\[0\]: / }]);
  t.same(brief(withBad.locator.lookup('10.1.0.1')), ['override', 'DE', 'WEU', undefined, 8], 'the valid entry loaded');

  // Valid metadata, but the data pointers lead past the end of the file: the reader throws on lookup.
  const corrupt = writeMmdb({ ipVersion: 4, networks: [{ network: '192.0.2.0/24', data: { country_code: 'DE' } }] });
  const nodes = new Reader<Response>(corrupt).metadata.nodeCount;
  for (let i = 0; i < nodes * 6; i += 3) if (corrupt.readUIntBE(i, 3) > nodes) corrupt.writeUIntBE(0xfff000, i, 3);
  const withCorrupt = await open({ databases: [writeDb(dir, 'corrupt.mmdb', corrupt), CITY] });
  t.same(brief(withCorrupt.lookup('192.0.2.1')), ['database', 'US', 'WNAM', undefined, 32], 'skipped on lookup; the answer claims only the address');

  const gz = writeDb(dir, 'db.mmdb.gz', Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]));
  const gzipped = await openGeoLocator({ databases: [gz] });
  t.match(gzipped.problems, [{ file: gz, message: /gzip/ }]);
});

t.test('bad input: undefined, never a throw', async (t) => {
  const geo = await open({ databases: [CITY], overridesFile: OVERRIDES });
  const inputs: unknown[] = ['', 'junk', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '::g', '1::2::3', '192.0.2.1/24', ' 192.0.2.1', 'example.com', undefined, null, -1, 1.5, 2 ** 32, NaN, {}];
  for (const input of inputs) {
    // Deliberately wrong types, as a careless caller might pass them.
    t.equal(geo.lookup(input as string), undefined, JSON.stringify(input));
  }
  t.equal(geo.stats().entries, 0, 'junk is not cached');
  t.same(brief(geo.lookup('fe80::1%eth0')), undefined, 'a zone index is fine (not located)');
});

t.test('an IPv4 address as a number is located like its text, in an entry of its own', async (t) => {
  const geo = await open({ databases: [CITY], overridesFile: OVERRIDES });
  for (const ip of ['192.0.2.1', '198.51.100.1', '8.8.8.8', '10.0.0.1', '0.0.0.0', '255.255.255.255']) {
    const n = ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
    const hit = geo.lookup(n);
    t.same(hit, geo.lookup(ip), ip);
    if (hit) t.equal(geo.widestPrefix(n, hit), geo.widestPrefix(ip, hit), `${ip}: the same widest prefix`);
  }
  t.equal(geo.stats().entries, 12, 'numbers and strings are separate keys');
});

t.test('cache: hits, misses, negatives, bounded size', async (t) => {
  const geo = await open({ databases: [CITY], cacheSize: 10 });
  t.same(geo.stats(), { entries: 0, capacity: 10, hits: 0, misses: 0 });
  geo.lookup('192.0.2.1');
  geo.lookup('192.0.2.1');
  geo.lookup('192.0.2.1');
  geo.lookup('100.64.0.1');
  geo.lookup('100.64.0.1');
  t.same(geo.stats(), { entries: 2, capacity: 10, hits: 3, misses: 2 }, 'a negative answer is cached too');
  for (let i = 0; i < 100; i++) geo.lookup(`198.51.100.${i}`);
  const s = geo.stats();
  t.equal(s.entries, 10, 'never more than the capacity');
  t.equal(s.misses, 102);
  t.same(brief(geo.lookup('198.51.100.99')), ['database', 'GB', 'WEU', undefined, 24]);
  t.equal(geo.stats().hits, 4, 'the most recent entries stay');
  geo.lookup('192.0.2.1');
  t.equal(geo.stats().misses, 103, 'the oldest were evicted');

  const byDefault = await open({ databases: [] });
  t.equal(byDefault.stats().capacity, 100_000);
  await t.rejects(openGeoLocator({ databases: [], cacheSize: 0 }), RangeError);
  await t.rejects(openGeoLocator({ databases: [], cacheSize: 1.5 }), RangeError);
});
