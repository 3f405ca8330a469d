/**
 * Operator overrides: the YAML format and every validation message (file, line, field path),
 * the compiled locations, longest-prefix matching checked against ip-cidr's own containment,
 * the exclusion prefix, and the allocation-free address parser.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import IPCIDR from 'ip-cidr';
import { loadOverrides, parseOverrides, type OverrideMatch } from '../../src/geo/overrides.js';
import { parseAddress } from '../../src/wire/ip.js';
import { centroidOf } from '../../src/geo/centroids.js';

const FIXTURE = new URL('../fixtures/geo/overrides.yaml', import.meta.url).pathname;
const FILE = 'test.geo.yaml';

function match(text: string, ip: string): OverrideMatch {
  const { table, problems } = parseOverrides(text, FILE);
  if (problems.length > 0) throw new Error(JSON.stringify(problems));
  const family = ip.includes(':') ? 6 : 4;
  const words = new Uint32Array(4);
  parseAddress(ip, family, words);
  const out: OverrideMatch = { override: undefined, exclusion: 0 };
  table.match(family, words, out);
  return out;
}

t.test('the fixture: networks, locations and defaults', async (t) => {
  const { table, problems } = parseOverrides(readFileSync(FIXTURE, 'utf8'), FIXTURE);
  t.same(problems, []);
  const de = centroidOf('DE');
  const jp = centroidOf('JP');
  t.same(
    table.overrides.map((o) => [o.network, o.family, o.prefixLength, o.line, o.location]),
    [
      ['10.0.0.0/8', 4, 8, 4, { country: 'DE', region: 'WEU', pop: 'FRA', latitude: de?.latitude, longitude: de?.longitude }],
      ['fd00::/8', 6, 8, 4, { country: 'DE', region: 'WEU', pop: 'FRA', latitude: de?.latitude, longitude: de?.longitude }],
      ['10.1.0.0/16', 4, 16, 9, { pop: 'SJC' }],
      ['192.0.2.53/32', 4, 32, 12, { region: 'WNAM', latitude: 37.4, longitude: -122.1 }],
      ['2001:db8:53::/48', 6, 48, 12, { region: 'WNAM', latitude: 37.4, longitude: -122.1 }],
      ['192.0.2.64/26', 4, 26, 17, { country: 'JP', region: 'NEAS', latitude: jp?.latitude, longitude: jp?.longitude }],
    ],
  );
  t.equal(table.overrides[0].location, table.overrides[1].location, 'one frozen location per entry');
  t.ok(Object.isFrozen(table.overrides[0].location));
  t.equal(table.size, 6);
  t.ok(table.covers(4) && table.covers(6));
});

t.test('country, region, pop and coordinates', async (t) => {
  const one = (entry: string) => {
    const { table, problems } = parseOverrides(`overrides:\n  - networks: [192.0.2.0/24]\n${entry}`, FILE);
    t.same(problems, [], entry);
    return table.overrides[0]?.location;
  };
  t.same(one('    country: US\n    region: WNAM\n'), { country: 'US', region: 'WNAM', latitude: 37.09, longitude: -95.71 }, 'an explicit region beats the country default');
  t.same(one('    country: us\n    latitude: 40\n    longitude: -74\n'), { country: 'US', region: 'ENAM', latitude: 40, longitude: -74 }, 'explicit coordinates beat the centroid');
  t.same(one('    region: weu\n'), { region: 'WEU' }, 'region alone, case-insensitive');
  t.same(one('    pop: lhr1\n'), { pop: 'LHR1' }, 'pop alone, upper-cased');
  t.same(one('    latitude: 0\n    longitude: 0\n'), { latitude: 0, longitude: 0 }, 'coordinates alone, zero is a value');
  t.same(one('    country: XK\n'), { country: 'XK', region: 'WEU', latitude: 42.6, longitude: 20.9 });
});

t.test('empty and trivial files', async (t) => {
  for (const text of ['', '# nothing\n', 'overrides:\n', 'overrides: []\n', '{}\n']) {
    const { table, problems } = parseOverrides(text, FILE);
    t.same(problems, [], JSON.stringify(text));
    t.equal(table.size, 0);
    t.notOk(table.covers(4) || table.covers(6));
  }
});

/** Each validation message: the YAML, the line and the message (with its field path). */
const ERRORS: [string, string, number, RegExp][] = [
  ['invalid YAML', 'overrides:\n  - networks: [10.0.0.0/8\n', 3, /^invalid YAML: /],
  ['top level not a mapping', '- networks: [10.0.0.0/8]\n', 1, /^the top level must be a mapping/],
  ['unknown top-level field', 'overides: []\n', 1, /^overides: unknown field \(did you mean "overrides"\?\)$/],
  ['overrides not a list', 'overrides:\n  networks: [10.0.0.0/8]\n', 1, /^overrides: must be a list, got a mapping$/],
  ['entry not a mapping', 'overrides:\n  - 10.0.0.0/8\n', 2, /^overrides\[0\]: must be a mapping, got the string "10.0.0.0\/8"$/],
  ['unknown entry field', 'overrides:\n  - networks: [10.0.0.0/8]\n    country: DE\n    contry: DE\n', 4, /^overrides\[0\]\.contry: unknown field \(did you mean "country"\?\)$/],
  ['networks missing', 'overrides:\n  - country: DE\n', 2, /^overrides\[0\]\.networks: required$/],
  ['networks not a list', 'overrides:\n  - networks: 10.0.0.0/8\n    country: DE\n', 2, /^overrides\[0\]\.networks: must be a list, got the string "10.0.0.0\/8"$/],
  ['networks empty', 'overrides:\n  - networks: []\n    country: DE\n', 2, /^overrides\[0\]\.networks: must list at least one network$/],
  ['network not a string', 'overrides:\n  - networks:\n      - 10\n    country: DE\n', 3, /^overrides\[0\]\.networks\[0\]: must be a CIDR network such as 192\.0\.2\.0\/24 or 2001:db8::\/32, got 10$/],
  ['address without a prefix', 'overrides:\n  - networks: [192.0.2.1]\n    country: DE\n', 2, /^overrides\[0\]\.networks\[0\]: "192\.0\.2\.1" is not a CIDR network: write 192\.0\.2\.1\/32 for a single address$/],
  ['IPv6 address without a prefix', 'overrides:\n  - networks: [10.0.0.0/8, "2001:db8::1"]\n    country: DE\n', 2, /^overrides\[0\]\.networks\[1\]: .*write 2001:db8::1\/128 for a single address$/],
  ['zone index', 'overrides:\n  - networks: ["fe80::%eth0/64"]\n    country: DE\n', 2, /^overrides\[0\]\.networks\[0\]: "fe80::%eth0\/64": a zone index/],
  ['embedded IPv4', 'overrides:\n  - networks: ["::ffff:10.0.0.0/104"]\n    country: DE\n', 2, /^overrides\[0\]\.networks\[0\]: .*write IPv4 networks in dotted form/],
  ['prefix too long', 'overrides:\n  - networks: [10.0.0.0/33]\n    country: DE\n', 2, /^overrides\[0\]\.networks\[0\]: "10\.0\.0\.0\/33" is not a valid IPv4 or IPv6 CIDR network$/],
  ['IPv6 prefix too long', 'overrides:\n  - networks: ["2001:db8::/129"]\n    country: DE\n', 2, /"2001:db8::\/129" is not a valid IPv4 or IPv6 CIDR network$/],
  ['short IPv4', 'overrides:\n  - networks: [10.0.0/8]\n    country: DE\n', 2, /"10\.0\.0\/8" is not a valid/],
  ['leading zero in the prefix', 'overrides:\n  - networks: [10.0.0.0/08]\n    country: DE\n', 2, /"10\.0\.0\.0\/08" is not a valid/],
  ['bad IPv6', 'overrides:\n  - networks: ["gggg::/16"]\n    country: DE\n', 2, /"gggg::\/16" is not a valid/],
  ['host bits', 'overrides:\n  - networks: [10.0.0.1/8]\n    country: DE\n', 2, /^overrides\[0\]\.networks\[0\]: "10\.0\.0\.1\/8" has bits set beyond the \/8 prefix: the network is 10\.0\.0\.0\/8$/],
  ['IPv6 host bits', 'overrides:\n  - networks: ["2001:DB8::1/32"]\n    country: DE\n', 2, /has bits set beyond the \/32 prefix: the network is 2001:db8::\/32$/],
  ['duplicate network', 'overrides:\n  - networks: [10.0.0.0/8]\n    country: DE\n  - networks:\n      - "2001:db8::/32"\n      - 2001:0db8:0::/32\n    pop: FRA\n', 6, /^overrides\[1\]\.networks\[1\]: 2001:db8::\/32 is already listed at line 5$/],
  ['country not a string', 'overrides:\n  - networks: [10.0.0.0/8]\n    country: 49\n', 3, /^overrides\[0\]\.country: must be a string, got 49$/],
  ['unknown country', 'overrides:\n  - networks: [10.0.0.0/8]\n    country: ZZ\n', 3, /^overrides\[0\]\.country: "ZZ" is not an ISO 3166-1 alpha-2 country code in the region table$/],
  ['UK for GB', 'overrides:\n  - networks: [10.0.0.0/8]\n    country: UK\n', 3, /^overrides\[0\]\.country: "UK" .* \(did you mean "GB"\?\)$/],
  ['unknown region', 'overrides:\n  - networks: [10.0.0.0/8]\n    region: EU\n', 3, /^overrides\[0\]\.region: "EU" is not a region: expected one of WNAM ENAM/],
  ['bad pop', 'overrides:\n  - networks: [10.0.0.0/8]\n    pop: FRANKFURT\n', 3, /^overrides\[0\]\.pop: "FRANKFURT" is not a PoP code: expected 3 or 4 letters or digits/],
  ['pop not a string', 'overrides:\n  - networks: [10.0.0.0/8]\n    pop: 123\n', 3, /^overrides\[0\]\.pop: must be a string, got 123$/],
  ['latitude out of range', 'overrides:\n  - networks: [10.0.0.0/8]\n    latitude: 91\n    longitude: 0\n', 3, /^overrides\[0\]\.latitude: must be a number from -90 to 90, got 91$/],
  ['latitude not a number', 'overrides:\n  - networks: [10.0.0.0/8]\n    latitude: "50"\n    longitude: 0\n', 3, /^overrides\[0\]\.latitude: must be a number from -90 to 90, got the string "50"$/],
  ['longitude out of range', 'overrides:\n  - networks: [10.0.0.0/8]\n    latitude: 0\n    longitude: -180.5\n', 4, /^overrides\[0\]\.longitude: must be a number from -180 to 180, got -180.5$/],
  ['latitude without longitude', 'overrides:\n  - networks: [10.0.0.0/8]\n    country: DE\n    latitude: 50\n', 4, /^overrides\[0\]\.latitude: longitude must be given too$/],
  ['longitude without latitude', 'overrides:\n  - networks: [10.0.0.0/8]\n    longitude: 8\n', 3, /^overrides\[0\]\.longitude: latitude must be given too$/],
  ['an entry that sets nothing', 'overrides:\n  - networks: [10.0.0.0/8]\n', 2, /^overrides\[0\]: sets nothing: give at least one of country, region, pop, or latitude and longitude$/],
];

for (const [name, text, line, message] of ERRORS) {
  t.test(`error: ${name}`, async (t) => {
    const { table, problems } = parseOverrides(text, FILE);
    t.equal(problems.length, 1, JSON.stringify(problems));
    t.match(problems[0], { file: FILE, line, severity: 'error' });
    t.match(problems[0]?.message, message);
    t.equal(table.overrides.filter((o) => o.line === line).length, 0, 'the entry is left out');
  });
}

t.test('an entry with errors is dropped, the others are kept', async (t) => {
  const text = 'overrides:\n  - networks: [10.0.0.0/8, 10.0.0.0/33]\n    country: DE\n  - networks: [172.16.0.0/12]\n    pop: AMS\n  - networks: [192.168.0.0/16]\n    country: ZZ\n';
  const { table, problems } = parseOverrides(text, FILE);
  t.same(problems.map((p) => p.line), [2, 7]);
  t.same(table.overrides.map((o) => o.network), ['172.16.0.0/12']);
});

t.test('loadOverrides: an unreadable file is a problem naming it', async (t) => {
  const missing = '/nonexistent/steerdns/overrides.yaml';
  const { table, problems } = await loadOverrides(missing);
  t.equal(table.size, 0);
  t.match(problems, [{ file: missing, line: 0, severity: 'error', message: /^cannot read the overrides file: .*ENOENT/ }]);
  const ok = await loadOverrides(FIXTURE);
  t.same(ok.problems, []);
  t.equal(ok.table.size, 6);
});

t.test('longest prefix wins; the exclusion prefix keeps more specific networks out', async (t) => {
  const text = 'overrides:\n  - networks: [10.0.0.0/8]\n    pop: AAA\n  - networks: [10.1.0.0/16]\n    pop: BBB\n  - networks: [10.1.2.0/24]\n    pop: CCC\n  - networks: ["2001:db8::/32"]\n    pop: DDD\n  - networks: ["2001:db8:0:1::/64"]\n    pop: EEE\n  - networks: [0.0.0.0/0]\n    pop: ALL\n';
  const at = (ip: string) => {
    const m = match(text, ip);
    return [m.override?.location.pop, m.override?.prefixLength, m.exclusion];
  };
  t.same(at('10.1.2.3'), ['CCC', 24, 0]);
  t.same(at('10.1.3.3'), ['BBB', 16, 24], '10.1.3.0/24 is the widest network around it without 10.1.2.0/24');
  t.same(at('10.1.128.1'), ['BBB', 16, 17]);
  t.same(at('10.2.0.1'), ['AAA', 8, 15], '10.2.0.0/15 leaves 10.1.0.0/16 out');
  t.same(at('10.255.255.255'), ['AAA', 8, 9]);
  t.same(at('11.0.0.1'), ['ALL', 0, 8], '0.0.0.0/0 matches everything');
  t.same(at('2001:db8::1'), ['DDD', 32, 64]);
  t.same(at('2001:db8:0:1:ffff::1'), ['EEE', 64, 0]);
  t.same(at('2001:db8:8000::'), ['DDD', 32, 33]);
  t.same(at('2001:db9::'), [undefined, undefined, 32], 'no match: the /32 next door stays out');
  t.same(at('::'), [undefined, undefined, 3]);
});

/** A deterministic pseudo-random generator (xorshift32), so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

const v4Text = (w: number): string => [24, 16, 8, 0].map((s) => (w >>> s) & 255).join('.');
const v6Text = (ws: readonly number[]): string => ws.flatMap((w) => [(w >>> 16).toString(16), (w & 0xffff).toString(16)]).join(':');
const prefixOf = (cidr: string): number => Number(cidr.slice(cidr.indexOf('/') + 1));
const mask = (w: number, bits: number): number => (bits <= 0 ? 0 : bits >= 32 ? w >>> 0 : (w & ~(0xffffffff >>> bits)) >>> 0);

t.test('matching agrees with ip-cidr containment, and the exclusion prefix is exact (random)', async (t) => {
  const next = rng(0x5eed);
  let checked = 0;
  let matched = 0;
  for (let round = 0; round < 12; round++) {
    // Networks clustered under 10.0.0.0/8 and 2001:db8::/32 so that they nest and overlap.
    const v4: string[] = [];
    const v6: string[] = [];
    for (let i = 0; i < 12; i++) {
      const p4 = 8 + (next() % 25);
      const v4net = `${v4Text(mask((0x0a000000 | (next() & 0x00ffffff)) >>> 0, p4))}/${p4}`;
      if (!v4.includes(v4net)) v4.push(v4net);
      const p6 = 32 + (next() % 97);
      const words = [0x20010db8, next(), next(), next()].map((w, k) => mask(w, p6 - 32 * k));
      const v6net = `${new URL(`http://[${v6Text(words)}]/`).hostname.slice(1, -1)}/${p6}`;
      if (!v6.includes(v6net)) v6.push(v6net);
    }
    const nets = [...v4, ...v6];
    const text = `overrides:\n${nets.map((n, i) => `  - networks: ["${n}"]\n    pop: P${String(i).padStart(2, '0')}\n`).join('')}`;
    const { table, problems } = parseOverrides(text, FILE);
    t.same(problems, []);
    const cidrs = nets.map((n) => new IPCIDR(n));
    for (let k = 0; k < 50; k++) {
      const v6 = k % 2 === 1;
      const base = v6 ? [0x20010db8, next(), next(), next()] : [(0x0a000000 | (next() & 0x00ffffff)) >>> 0];
      // Half of the addresses inside a random network, to hit matches often.
      const near = nets[(next() % nets.length)];
      let ip = v6 ? v6Text(base) : v4Text(base[0]);
      if (k % 4 < 2 && near.includes(':') === v6) ip = new IPCIDR(near).start<string>();
      const family = v6 ? 6 : 4;
      const words = new Uint32Array(4);
      parseAddress(ip, family, words);
      const out: OverrideMatch = { override: undefined, exclusion: 0 };
      table.match(family, words, out);
      const containing = nets.filter((_, i) => cidrs[i].contains(ip)).sort((a, b) => prefixOf(b) - prefixOf(a));
      t.equal(out.override?.network, containing[0], `${ip}: longest match`);
      if (out.override) matched++;
      // Exactness: the block of `exclusion` bits around ip holds no override network that
      // misses ip, and one bit shorter it would.
      const won = out.override?.prefixLength ?? 0;
      const crowded = (len: number): boolean => {
        const block = new IPCIDR(`${ip}/${len}`);
        return cidrs.some((c) => c.address.v4 === !v6 && !c.contains(ip) && c.address.subnetMask >= len && block.contains(c.start<string>()));
      };
      t.ok(out.exclusion <= (v6 ? 128 : 32));
      if (out.exclusion > won) {
        t.notOk(crowded(out.exclusion), `${ip}: /${out.exclusion} is clear`);
        t.ok(crowded(out.exclusion - 1), `${ip}: /${out.exclusion - 1} is not`);
      } else {
        t.notOk(crowded(won), `${ip}: the winning network is clear`);
      }
      checked++;
    }
  }
  t.equal(checked, 600);
  t.ok(matched > 200, `${matched} of the addresses matched an override`);
});

t.test('parseAddress: the forms net.isIP accepts', async (t) => {
  const words = new Uint32Array(4);
  const v6 = (ip: string): string => {
    parseAddress(ip, 6, words);
    return [...words].map((w) => w.toString(16).padStart(8, '0')).join(' ');
  };
  parseAddress('192.0.2.255', 4, words);
  t.equal(words[0], 0xc00002ff);
  parseAddress('255.255.255.255', 4, words);
  t.equal(words[0], 0xffffffff);
  parseAddress('0.0.0.0', 4, words);
  t.equal(words[0], 0);
  t.equal(v6('::'), '00000000 00000000 00000000 00000000');
  t.equal(v6('::1'), '00000000 00000000 00000000 00000001');
  t.equal(v6('1::'), '00010000 00000000 00000000 00000000');
  t.equal(v6('2001:DB8::8:800:200C:417A'), '20010db8 00000000 00080800 200c417a');
  t.equal(v6('2001:db8:0:0:1:0:0:1'), '20010db8 00000000 00010000 00000001');
  t.equal(v6('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), 'ffffffff ffffffff ffffffff ffffffff');
  t.equal(v6('::ffff:192.0.2.1'), '00000000 00000000 0000ffff c0000201');
  t.equal(v6('64:ff9b::198.51.100.7'), '0064ff9b 00000000 00000000 c6336407');
  t.equal(v6('1:2:3:4:5:6:1.2.3.4'), '00010002 00030004 00050006 01020304');
  t.equal(v6('fe80::1%eth0'), 'fe800000 00000000 00000000 00000001');
  t.equal(v6('1:2:3:4:5:6:7::'), '00010002 00030004 00050006 00070000');
  t.equal(v6('::2:3:4:5:6:7:8'), '00000002 00030004 00050006 00070008');
  // Against ip-cidr's parser, at random.
  const next = rng(42);
  for (let i = 0; i < 200; i++) {
    const ws = [next(), next(), next(), next()].map((w, k) => (i % 3 === 0 && k > 1 ? 0 : w));
    const text = new URL(`http://[${v6Text(ws)}]/`).hostname.slice(1, -1);
    parseAddress(text, 6, words);
    const want = BigInt(IPCIDR.formatIP<bigint>(IPCIDR.createAddress(text), { type: 'bigInteger' }));
    t.equal((BigInt(words[0]) << 96n) | (BigInt(words[1]) << 64n) | (BigInt(words[2]) << 32n) | BigInt(words[3]), want, text);
  }
});
