/**
 * The country-centroid table: a point for every country of the region table, values in
 * range and roughly where the country is, and the parser's errors.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { CENTROID_TABLE_URL, centroidOf, centroidTable, parseCentroidTable } from '../../src/geo/centroids.js';
import { regionTable } from '../../src/geo/regions.js';

t.test('the shipped CSV says what it is', async (t) => {
  const text = readFileSync(CENTROID_TABLE_URL, 'utf8');
  t.ok(text.startsWith('#'), 'starts with comments');
  t.match(text, /APPROXIMATION/i);
  t.doesNotThrow(() => parseCentroidTable(text));
});

t.test('every country of the region table has a centroid, and nothing else does', async (t) => {
  const countries = [...regionTable().regions.keys()].filter((k) => !k.includes('-'));
  t.equal(countries.length, 250, '249 ISO 3166-1 codes and XK');
  t.same(countries.filter((c) => !centroidOf(c)), []);
  t.same([...centroidTable().keys()].filter((c) => !countries.includes(c)), []);
});

t.test('values in range', async (t) => {
  for (const [country, p] of centroidTable()) {
    t.ok(Number.isFinite(p.latitude) && Math.abs(p.latitude) <= 90, `${country} latitude ${p.latitude}`);
    t.ok(Number.isFinite(p.longitude) && Math.abs(p.longitude) <= 180, `${country} longitude ${p.longitude}`);
    t.ok(Object.isFrozen(p));
  }
});

t.test('points are where the countries are (rough boxes)', async (t) => {
  // [country, south, north, west, east]
  const boxes: [string, number, number, number, number][] = [
    ['US', 25, 49, -125, -67], ['CA', 42, 83, -141, -52], ['MX', 14, 33, -118, -86], ['BR', -34, 5, -74, -34],
    ['AR', -55, -21, -74, -53], ['GB', 49, 61, -9, 2], ['FR', 42, 51, -5, 8], ['DE', 47, 55, 5, 15], ['RU', 41, 82, 27, 180],
    ['CN', 18, 54, 73, 135], ['IN', 6, 36, 68, 98], ['JP', 24, 46, 122, 146], ['AU', -44, -10, 113, 154],
    ['NZ', -48, -34, 166, 179], ['ZA', -35, -22, 16, 33], ['EG', 22, 32, 24, 37], ['NG', 4, 14, 2, 15], ['SG', 1.1, 1.5, 103.6, 104.1],
  ];
  for (const [cc, s, n, w, e] of boxes) {
    const p = centroidOf(cc);
    t.ok(p && p.latitude >= s && p.latitude <= n && p.longitude >= w && p.longitude <= e, `${cc} ${JSON.stringify(p)}`);
  }
  t.equal(centroidOf('ZZ'), undefined);
  t.equal(centroidOf('us'), undefined, 'callers pass upper case');
});

t.test('parser errors name the line', async (t) => {
  const H = 'country,latitude,longitude\n';
  const cases: [string, RegExp][] = [
    ['# only comments\n', /x\.csv: no header line/],
    ['country,lat,lon\n', /x\.csv:1: expected the header/],
    [`${H}FR,46\n`, /x\.csv:2: expected 3 columns/],
    [`${H}fr,46,2\n`, /x\.csv:2: country "fr" is not an upper-case/],
    [`${H}FR,91,2\n`, /x\.csv:2: latitude "91" is not a number of degrees from -90 to 90/],
    [`${H}FR,north,2\n`, /x\.csv:2: latitude "north"/],
    [`${H}FR,46,-180.5\n`, /x\.csv:2: longitude "-180.5" is not a number of degrees from -180 to 180/],
    [`${H}FR,46,\n`, /x\.csv:2: longitude ""/],
    [`${H}FR,46,2\nFR,46,3\n`, /x\.csv:3: FR is listed twice/],
  ];
  for (const [text, error] of cases) t.throws(() => parseCentroidTable(text, 'x.csv'), error, JSON.stringify(text));
  t.same([...parseCentroidTable(`# c\r\n${H.trim()}\r\n FR , 46.2 , 2.2 # France\r\n\r\nUS,37,-95.5\r\n`)], [['FR', { latitude: 46.2, longitude: 2.2 }], ['US', { latitude: 37, longitude: -95.5 }]], 'CRLF, spaces and comments');
});
