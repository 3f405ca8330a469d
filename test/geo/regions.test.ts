/**
 * The country -> region table: every shipped row is valid, every ISO 3166-1 country maps to a
 * region, known mappings, the US/Canada subdivision split, and the parser's errors.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { REGIONS } from '../../src/geo/location.js';
import { isCountryCode, parseRegionTable, REGION_TABLE_URL, regionOf, regionTable } from '../../src/geo/regions.js';

/** ISO 3166-1 alpha-2, all 249 officially assigned codes (the oracle for completeness). */
const ISO_3166_1 = `AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY
BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA
GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG
KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW
MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD
SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA
VC VE VG VI VN VU WF WS YE YT ZA ZM ZW`.split(/\s+/);

t.test('the shipped CSV: every row valid, comments and a header', async (t) => {
  const text = readFileSync(REGION_TABLE_URL, 'utf8');
  t.ok(text.startsWith('#'), 'starts with comments explaining the approximation');
  t.match(text, /approximation/i);
  t.doesNotThrow(() => parseRegionTable(text));
  let rows = 0;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || line === 'country,subdivision,region') continue;
    rows++;
    t.match(line, /^[A-Z]{2},[A-Z0-9]{0,3},[A-Z]+$/, line);
    t.ok((REGIONS as readonly string[]).includes(line.split(',')[2]), `${line}: a region code`);
  }
  t.equal(regionTable().regions.size, rows, 'one entry per row, no duplicates');
});

t.test('every ISO 3166-1 country maps to a region', async (t) => {
  t.equal(ISO_3166_1.length, 249);
  const missing = ISO_3166_1.filter((c) => regionOf(c) === undefined);
  t.same(missing, []);
  for (const c of ISO_3166_1) t.ok(isCountryCode(c), c);
  t.equal(regionOf('XK'), 'WEU', 'Kosovo, used by GeoIP databases');
});

t.test('known mappings', async (t) => {
  const cases: [string, string][] = [
    ['DE', 'WEU'], ['GB', 'WEU'], ['ES', 'WEU'], ['SE', 'WEU'], ['GR', 'WEU'], ['RS', 'WEU'],
    ['PL', 'EEU'], ['RU', 'EEU'], ['UA', 'EEU'], ['KZ', 'EEU'],
    ['TR', 'ME'], ['IR', 'ME'], ['AE', 'ME'], ['IL', 'ME'],
    ['EG', 'NAF'], ['MA', 'NAF'], ['NG', 'SAF'], ['ZA', 'SAF'], ['KE', 'SAF'],
    ['IN', 'SAS'], ['PK', 'SAS'], ['SG', 'SEAS'], ['ID', 'SEAS'], ['JP', 'NEAS'], ['CN', 'NEAS'], ['KR', 'NEAS'],
    ['AU', 'OC'], ['NZ', 'OC'], ['FJ', 'OC'],
    ['MX', 'ENAM'], ['PR', 'ENAM'], ['JM', 'ENAM'], ['PA', 'ENAM'],
    ['CO', 'NSAM'], ['VE', 'NSAM'], ['PE', 'NSAM'], ['BR', 'SSAM'], ['AR', 'SSAM'], ['CL', 'SSAM'],
    ['US', 'ENAM'], ['CA', 'ENAM'],
  ];
  for (const [country, region] of cases) t.equal(regionOf(country), region, country);
});

t.test('US states and Canadian provinces split between WNAM and ENAM', async (t) => {
  const cases: [string, string, string][] = [
    ['US', 'CA', 'WNAM'], ['US', 'WA', 'WNAM'], ['US', 'CO', 'WNAM'], ['US', 'AK', 'WNAM'], ['US', 'HI', 'WNAM'],
    ['US', 'NY', 'ENAM'], ['US', 'TX', 'ENAM'], ['US', 'IL', 'ENAM'], ['US', 'FL', 'ENAM'], ['US', 'DC', 'ENAM'],
    ['US', 'GU', 'OC'], ['US', 'PR', 'ENAM'],
    ['CA', 'BC', 'WNAM'], ['CA', 'AB', 'WNAM'], ['CA', 'YT', 'WNAM'], ['CA', 'ON', 'ENAM'], ['CA', 'QC', 'ENAM'], ['CA', 'SK', 'ENAM'],
  ];
  for (const [country, sub, region] of cases) t.equal(regionOf(country, sub), region, `${country}-${sub}`);
  const states = [...regionTable().regions.keys()].filter((k) => k.startsWith('US-'));
  t.equal(states.length, 57, '50 states, DC and 6 outlying areas');
  t.equal([...regionTable().regions.keys()].filter((k) => k.startsWith('CA-')).length, 13, '10 provinces and 3 territories');
});

t.test('lookups: case, prefixes, unknown subdivisions and countries', async (t) => {
  t.equal(regionOf('us', 'ca'), 'WNAM');
  t.equal(regionOf('US', 'US-CA'), 'WNAM', 'a full ISO 3166-2 code');
  t.equal(regionOf('US', 'ZZ'), 'ENAM', 'unknown subdivision: the country default');
  t.equal(regionOf('US', ''), 'ENAM');
  t.equal(regionOf('FR', 'IDF'), 'WEU', 'countries that are not split ignore the subdivision');
  t.equal(regionOf('ZZ'), undefined);
  t.equal(regionOf('US-CA'), undefined);
  t.equal(regionOf(''), undefined);
  t.ok(isCountryCode('jp'));
  t.notOk(isCountryCode('UK'));
  t.notOk(isCountryCode('EU'));
  t.notOk(isCountryCode('USA'));
});

t.test('parser errors name the line', async (t) => {
  const H = 'country,subdivision,region\n';
  const cases: [string, RegExp][] = [
    ['# only comments\n', /x\.csv: no header line/],
    ['country,region\n', /x\.csv:1: expected the header/],
    [`${H}FR,WEU\n`, /x\.csv:2: expected 3 columns/],
    [`${H}fr,,WEU\n`, /x\.csv:2: country "fr" is not an upper-case/],
    [`${H}US,C-A,WNAM\n`, /x\.csv:2: subdivision "C-A"/],
    [`${H}FR,,EU\n`, /x\.csv:2: region "EU" is not one of/],
    [`${H}FR,,WEU\n# dup\nFR,,EEU\n`, /x\.csv:4: FR is listed twice/],
    [`${H}US,CA,WNAM\n`, /x\.csv:2: US-CA needs a row for its country US/],
  ];
  for (const [text, error] of cases) t.throws(() => parseRegionTable(text, 'x.csv'), error, JSON.stringify(text));
  t.same([...parseRegionTable(`\r\n# c\r\n${H.trim()}\r\nUS,,ENAM\r\n US , CA , WNAM \r\n`).regions], [['US', 'ENAM'], ['US-CA', 'WNAM']], 'CRLF and spaces');
});
