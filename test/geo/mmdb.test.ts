/**
 * Database records -> Location in both layouts, through databases written by the test writer
 * and read back by maxmind's Reader (which also checks the writer), with prefix lengths at
 * network edges.
 */
import t from 'tap';
import { Reader, type Response } from 'maxmind';
import { locationFromRecord, subdivisionCode } from '../../src/geo/mmdb.js';
import { centroidOf } from '../../src/geo/centroids.js';
import { uint16, uint32, uint64, writeMmdb } from '../helpers/mmdb-writer.js';
import { cityDb, countryDb, flatDb } from '../fixtures/geo/databases.js';

/** [country, region, latitude, longitude, prefix length] for an address, or [undefined, prefix]. */
function locate(reader: Reader<Response>, ip: string): unknown[] {
  const [record, prefix] = reader.getWithPrefixLength(ip);
  const l = record === null ? undefined : locationFromRecord(record);
  return l ? [l.country, l.region, l.latitude, l.longitude, prefix] : [undefined, prefix];
}

const centroid = (cc: string): [number, number] => {
  const c = centroidOf(cc);
  if (!c) throw new Error(`no centroid for ${cc}`);
  return [c.latitude, c.longitude];
};

t.test('the writer: metadata and values round-trip through maxmind', async (t) => {
  const db = writeMmdb({
    ipVersion: 6,
    databaseType: 'Test-Types',
    description: { en: 'types', de: 'Typen' },
    languages: ['en', 'de'],
    buildEpoch: 1_718_000_000,
    networks: [
      { network: '192.0.2.0/24', data: { s: 'ü€', d: -1.5, u16: uint16(65535), u32: uint32(4_000_000_000), u64: uint64(2n ** 40n), zero: uint32(0), yes: true, no: false, a: ['x', 2.5, { m: 'n' }], long: 'x'.repeat(300) } },
    ],
  });
  const r = new Reader<Response>(db);
  t.equal(r.metadata.binaryFormatMajorVersion, 2);
  t.equal(r.metadata.binaryFormatMinorVersion, 0);
  t.equal(r.metadata.ipVersion, 6);
  t.equal(r.metadata.recordSize, 24);
  t.equal(r.metadata.databaseType, 'Test-Types');
  t.same(r.metadata.description, { en: 'types', de: 'Typen' });
  t.same(r.metadata.languages, ['en', 'de']);
  t.equal(r.metadata.buildEpoch.getTime(), 1_718_000_000_000);
  const [record, prefix] = r.getWithPrefixLength('192.0.2.77');
  t.equal(prefix, 24);
  t.same(record, { s: 'ü€', d: -1.5, u16: 65535, u32: 4_000_000_000, u64: 2 ** 40, zero: 0, yes: true, no: false, a: ['x', 2.5, { m: 'n' }], long: 'x'.repeat(300) });
  t.same(r.getWithPrefixLength('192.0.3.0'), [null, 24], 'outside: no record, the empty network the tree ends in');
});

t.test('the writer: IPv4-only trees', async (t) => {
  const r = new Reader<Response>(writeMmdb({ ipVersion: 4, networks: [{ network: '10.0.0.0/8', data: { country_code: 'DE' } }, { network: '10.1.0.0/16', data: { country_code: 'FR' } }] }));
  t.equal(r.metadata.ipVersion, 4);
  t.same(r.getWithPrefixLength('10.0.0.1'), [{ country_code: 'DE' }, 16], 'the /8 split around the /16');
  t.same(r.getWithPrefixLength('10.128.0.1'), [{ country_code: 'DE' }, 9]);
  t.same(r.getWithPrefixLength('10.1.255.255'), [{ country_code: 'FR' }, 16]);
  t.same(r.getWithPrefixLength('11.0.0.0'), [null, 8]);
  t.throws(() => writeMmdb({ ipVersion: 4, networks: [{ network: '2001:db8::/32', data: {} }] }), /IPv4 database/);
});

t.test('GeoIP2 City layout: subdivisions, coordinates, fallbacks, network edges', async (t) => {
  const r = new Reader<Response>(cityDb());
  t.equal(r.metadata.databaseType, 'GeoIP2-City');
  t.same(locate(r, '192.0.2.0'), ['US', 'WNAM', 37.7749, -122.4194, 25], 'US-CA is WNAM: first address');
  t.same(locate(r, '192.0.2.127'), ['US', 'WNAM', 37.7749, -122.4194, 25], 'last address of the /25');
  t.same(locate(r, '192.0.2.128'), ['US', 'ENAM', 40.7128, -74.006, 26], 'US-NY is ENAM: first address of the /26');
  t.same(locate(r, '192.0.2.191'), ['US', 'ENAM', 40.7128, -74.006, 26]);
  t.same(locate(r, '192.0.2.192'), ['US', 'ENAM', 37.751, -97.822, 26], 'no subdivision: the US default, coordinates from the record');
  t.same(locate(r, '192.0.2.255'), ['US', 'ENAM', 37.751, -97.822, 26]);
  t.same(locate(r, '198.51.100.9'), ['GB', 'WEU', 51.5, -0.12, 24]);
  t.same(locate(r, '203.0.113.1'), ['JP', 'NEAS', ...centroid('JP'), 24], 'registered_country when country is missing; centroid');
  t.same(locate(r, '100.64.0.1'), [undefined, 10], 'a record without a country gives no location');
  t.same(locate(r, '100.127.255.255'), [undefined, 10]);
  t.same(locate(r, '192.0.1.255'), [undefined, 23], 'no record: the empty network is 192.0.0.0/23');
  t.same(locate(r, '192.0.3.0'), [undefined, 24]);
  t.same(locate(r, '2001:db8::'), ['GB', 'WEU', 53.48, -2.24, 48], 'IPv6: the /32 split around the /48 next to it');
  t.same(locate(r, '2001:db8:2::1'), ['GB', 'WEU', 53.48, -2.24, 47]);
  t.same(locate(r, '2001:db8:8000::1'), ['GB', 'WEU', 53.48, -2.24, 33]);
  t.same(locate(r, '2001:db8:1::'), ['CA', 'WNAM', 49.28, -123.12, 48], 'CA-BC is WNAM');
  t.same(locate(r, '2001:db8:1:ffff:ffff:ffff:ffff:ffff'), ['CA', 'WNAM', 49.28, -123.12, 48]);
  t.same(locate(r, '2001:db9::1'), [undefined, 32]);
});

t.test('GeoIP2 Country layout: no coordinates, so the country centroid', async (t) => {
  const r = new Reader<Response>(countryDb());
  t.same(locate(r, '192.0.2.1'), ['DE', 'WEU', ...centroid('DE'), 24], 'country wins over registered_country');
  t.same(locate(r, '198.51.100.0'), ['JP', 'NEAS', ...centroid('JP'), 23]);
  t.same(locate(r, '198.51.101.255'), ['JP', 'NEAS', ...centroid('JP'), 23]);
  t.same(locate(r, '2001:db8:7fff::1'), ['US', 'ENAM', ...centroid('US'), 33]);
  t.same(locate(r, '2001:db8:8000::1'), [undefined, 33]);
});

t.test('ip-location-db flat layout: state names, string coordinates', async (t) => {
  const r = new Reader<Response>(flatDb());
  t.same(locate(r, '192.0.2.0'), ['US', 'WNAM', 34.0522, -118.2437, 24], 'state1 "California"');
  t.same(locate(r, '198.51.100.255'), ['US', 'ENAM', 40.7128, -74.006, 24], 'state1 "New York"');
  t.same(locate(r, '203.0.113.7'), ['CA', 'ENAM', 46.81, -71.21, 24], 'state1 "Québec", numeric coordinates');
  t.same(locate(r, '100.64.255.255'), ['FR', 'WEU', ...centroid('FR'), 16], 'country only, lower case');
  t.same(locate(r, '2001:db8::1'), ['AU', 'OC', ...centroid('AU'), 32], 'empty coordinate strings: centroid');
  t.same(locate(r, '100.65.0.1'), [undefined, 16], 'empty record');
});

t.test('records: layout detected per record, odd values', async (t) => {
  const cases: [unknown, unknown][] = [
    [{ country_code: 'DE', latitude: 50, longitude: 8 }, { country: 'DE', region: 'WEU', latitude: 50, longitude: 8 }],
    [{ country: { iso_code: 'DE' }, location: { latitude: 50, longitude: 8 } }, { country: 'DE', region: 'WEU', latitude: 50, longitude: 8 }],
    [{ country: { iso_code: 'us' }, subdivisions: [{ iso_code: 'wa' }] }, { country: 'US', region: 'WNAM', latitude: 37.09, longitude: -95.71 }],
    [{ country: {}, registered_country: { iso_code: 'BR' } }, { country: 'BR', region: 'SSAM', latitude: -14.24, longitude: -51.93 }],
    [{ country_code: 'US', state1: 'texas' }, { country: 'US', region: 'ENAM', latitude: 37.09, longitude: -95.71 }],
    [{ country_code: 'US', state1: 'Atlantis' }, { country: 'US', region: 'ENAM', latitude: 37.09, longitude: -95.71 }],
    [{ country_code: 'US', state1: 'OR' }, { country: 'US', region: 'WNAM', latitude: 37.09, longitude: -95.71 }],
    [{ country_code: 'DE', latitude: 91, longitude: 8 }, { country: 'DE', region: 'WEU', latitude: 51.17, longitude: 10.45 }],
    [{ country_code: 'DE', latitude: 50 }, { country: 'DE', region: 'WEU', latitude: 51.17, longitude: 10.45 }],
    [{ country_code: 'DE', latitude: 'north', longitude: '8' }, { country: 'DE', region: 'WEU', latitude: 51.17, longitude: 10.45 }],
    [{ country_code: 'XK' }, { country: 'XK', region: 'WEU', latitude: 42.6, longitude: 20.9 }],
  ];
  for (const [record, want] of cases) t.same(locationFromRecord(record), want, JSON.stringify(record));
  for (const record of [null, 'US', 42, [], {}, { country_code: '' }, { country_code: 'EU' }, { country_code: 'USA' }, { country_code: 7 }, { country: 'US' }, { continent: { code: 'EU' } }, { registered_country: { iso_code: 'ZZ' } }]) {
    t.equal(locationFromRecord(record), undefined, JSON.stringify(record));
  }
  t.ok(Object.isFrozen(locationFromRecord({ country_code: 'DE' })));
});

t.test('subdivision names -> codes', async (t) => {
  t.equal(subdivisionCode('US', 'California'), 'CA');
  t.equal(subdivisionCode('US', 'new york'), 'NY');
  t.equal(subdivisionCode('US', 'District of Columbia'), 'DC');
  t.equal(subdivisionCode('US', 'Puerto Rico'), 'PR');
  t.equal(subdivisionCode('US', 'ca'), 'CA', 'already a code');
  t.equal(subdivisionCode('US', 'Atlantis'), undefined);
  t.equal(subdivisionCode('CA', 'British Columbia'), 'BC');
  t.equal(subdivisionCode('CA', 'Quebec'), 'QC');
  t.equal(subdivisionCode('CA', 'Newfoundland and Labrador'), 'NL');
  t.equal(subdivisionCode('DE', 'Bavaria'), undefined, 'countries that are not split');
});
