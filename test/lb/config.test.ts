/**
 * Loading `*.lb.yaml`: a full example with every field, defaults, steering policy resolution,
 * load balancer names, one case per error and warning message (severity, file, line, field
 * path), dropping objects with errors and what refers to them, invalid YAML, directories.
 */
import t, { type Test } from 'tap';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Name } from '../../src/wire/name.js';
import { loadLbDir, loadLbTexts, type LbLoadResult } from '../../src/lb/config.js';
import type { Monitor, Origin } from '../../src/lb/model.js';
import { parseZone } from '../../src/zone/parser.js';
import type { Problem } from '../../src/config/problem.js';
import { compileZone, type Zone } from '../../src/zone/zone.js';
import { ZoneSet } from '../../src/zone/zoneset.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/lb/', import.meta.url));

function zone(origin: string, body: string): Zone {
  const apex = Name.fromText(origin);
  const head = '$TTL 300\n@ SOA ns1 host 1 2 3 4 60\n@ NS ns1\nns1 A 192.0.2.53\n';
  const parsed = parseZone(head + body, { file: `${origin}zone`, origin: apex });
  const compiled = compileZone(apex, parsed.records, `${origin}zone`);
  if (!compiled.zone) throw new Error(`fixture zone ${origin}: ${JSON.stringify(compiled.problems)}`);
  return compiled.zone;
}

const ZONES = new ZoneSet([
  zone('example.com.', [
    'www A 192.0.2.80', 'www AAAA 2001:db8::80', 'blog CNAME www', 'txt TXT "hello"', '*.apps A 192.0.2.100',
    'dev NS ns1.dev', 'ns1.dev A 203.0.113.53', 'child NS ns1.child', 'ns1.child A 203.0.113.54', '',
  ].join('\n')),
  zone('child.example.com.', ''),
  zone('example.org.', ''),
]);

const FILE = 'zones/example.com.lb.yaml';

function load(text: string, file = FILE): LbLoadResult {
  return loadLbTexts([{ file, text }], ZONES);
}

/** The 1-based line of the first line of `text` containing `needle`. */
function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`"${needle}" is not in the fixture`);
  return i + 1;
}

const lbKey = (text: string) => Name.fromText(text).key;
/** Drops `source` so that objects compare by value. */
function plain<T extends { source: unknown }>(o: T): Omit<T, 'source'> {
  const { source: _source, ...rest } = o;
  return rest;
}

t.test('a full example in two files, every field set, loaded from a directory', async (t) => {
  const dir = join(FIXTURES, 'full');
  const r = loadLbDir(dir, ZONES);
  t.same(r.problems, []);
  const { monitors, pools, loadBalancers } = r.config;
  t.same([...monitors.keys()], ['web-https', 'tcp-443']);
  t.same([...pools.keys()], ['us-east', 'eu-west', 'ap-ne']);
  t.same([...loadBalancers.keys()], ['lb.example.com.', '*.svc.example.com.']);

  const web = monitors.get('web-https')!;
  t.same(plain(web), {
    name: 'web-https', type: 'https', description: 'Web health', method: 'HEAD', path: '/health', port: 8443,
    timeout: 3, retries: 1, interval: 15, expected_codes: '2xx,301', expected_body: 'ok', follow_redirects: true,
    allow_insecure: true, consecutive_up: 2, consecutive_down: 3, header: { Host: ['www.example.com'], 'X-Check': ['a', 'b'] },
  } satisfies Omit<Monitor, 'source'>);
  t.same(web.source, { file: join(dir, 'shared.lb.yaml'), line: 4 });
  t.equal(monitors.get('tcp-443')!.method, 'connection_established');

  const usEast = pools.get('us-east')!;
  t.equal(usEast.monitor, web, 'the pool holds the monitor object');
  t.same(plain({ ...usEast, origins: [], monitor: undefined }), {
    name: 'us-east', description: 'Virginia', enabled: true, minimum_origins: 2, monitor: undefined,
    origin_steering: { policy: 'hash' }, latitude: 39, longitude: -77.5,
    load_shedding: { default_percent: 10, default_policy: 'hash' }, check_regions: ['ENAM', 'WNAM'], origins: [],
  });
  t.same(usEast.origins.map(plain), [
    { name: 'use1-a', address: { kind: 'ipv4', ip: '192.0.2.10' }, addressText: '192.0.2.10', enabled: true, weight: 0.5, port: 8443, header: { Host: ['www.example.com'] }, flatten_cname: true },
    { name: 'use1-b', address: { kind: 'ipv6', ip: '2001:db8::10' }, addressText: '2001:DB8:0::10', enabled: true, weight: 1, port: 0, header: {}, flatten_cname: true },
    { name: 'use1-c', address: { kind: 'hostname', name: Name.fromText('app.example.net.') }, addressText: 'app.example.net', enabled: false, weight: 1, port: 0, header: {}, flatten_cname: false },
  ] satisfies Omit<Origin, 'source'>[]);
  const euWest = pools.get('eu-west')!;
  t.equal(euWest.check_regions, null);
  t.same(euWest.origins[0].header, { Host: ['eu.example.com'] }, 'a single Host string becomes a list');
  t.equal(pools.get('ap-ne')!.enabled, false);
  t.equal(pools.get('ap-ne')!.monitor, undefined);

  const lb = loadBalancers.get('lb.example.com.')!;
  const apNe = pools.get('ap-ne')!;
  t.equal(lb.name.toString(), 'lb.example.com.');
  t.equal(lb.zone.key, 'example.com.');
  t.same(
    { description: lb.description, enabled: lb.enabled, ttl: lb.ttl, steering_policy: lb.steering_policy, location_strategy: lb.location_strategy },
    { description: 'Main site', enabled: true, ttl: 60, steering_policy: 'geo', location_strategy: { prefer_ecs: 'always', mode: 'resolver_ip' } },
  );
  t.ok(lb.default_pools[0] === usEast && lb.default_pools[1] === euWest && lb.default_pools.length === 2);
  t.equal(lb.fallback_pool, euWest);
  t.same([...lb.region_pools], [['WEU', [euWest, usEast]], ['ENAM', [usEast]]]);
  t.same([...lb.country_pools], [['JP', [apNe]], ['GB', [euWest]]], 'country codes upper-cased');
  t.same([...lb.pop_pools], [['FRA', [euWest]]], 'PoP codes upper-cased');
  t.same({ d: lb.random_steering.default_weight, w: [...lb.random_steering.pool_weights] }, { d: 0.5, w: [['us-east', 0.7]] });
  t.same(lb.source, { file: join(dir, 'example.com.lb.yaml'), line: 3 });
  const svc = loadBalancers.get('*.svc.example.com.')!;
  t.equal(svc.enabled, false);
  t.equal(svc.steering_policy, 'off');
});

t.test('the model is frozen', async (t) => {
  const { config } = loadLbDir(join(FIXTURES, 'full'), ZONES);
  const lb = config.loadBalancers.get('lb.example.com.')!;
  const pool = config.pools.get('us-east')!;
  for (const o of [config, lb, lb.default_pools, lb.random_steering, lb.location_strategy, pool, pool.origins, pool.origins[0],
    pool.origins[0].address, pool.origin_steering, pool.load_shedding, pool.check_regions, pool.monitor, pool.monitor!.header]) {
    t.ok(Object.isFrozen(o));
  }
});

t.test('defaults (reference §8)', async (t) => {
  const r = load(`
monitors:
  - name: http
  - name: tcp
    type: tcp
    port: 22
  - name: ping
    type: icmp_ping
pools:
  - name: p
    origins: [{ name: a, address: 192.0.2.1 }]
load_balancers:
  - name: www2
    default_pools: [p]
    fallback_pool: p
`);
  t.same(r.problems, []);
  t.same(plain(r.config.monitors.get('http')!), {
    name: 'http', type: 'http', description: '', method: 'GET', path: '/', port: 0, timeout: 5, retries: 2, interval: 60,
    expected_codes: '200', expected_body: '', follow_redirects: false, allow_insecure: false, consecutive_up: 0,
    consecutive_down: 0, header: {},
  });
  t.equal(r.config.monitors.get('tcp')!.method, 'connection_established');
  t.equal(r.config.monitors.get('ping')!.method, '', 'no method for types that have none');
  const pool = r.config.pools.get('p')!;
  t.same(plain({ ...pool, origins: [] }), {
    name: 'p', description: '', enabled: true, minimum_origins: 1, origin_steering: { policy: 'random' },
    load_shedding: { default_percent: 0, default_policy: 'random' }, check_regions: null, origins: [],
  });
  t.notOk('monitor' in pool || 'latitude' in pool || 'longitude' in pool);
  t.same(plain(pool.origins[0]), {
    name: 'a', address: { kind: 'ipv4', ip: '192.0.2.1' }, addressText: '192.0.2.1', enabled: true, weight: 1, port: 0,
    header: {}, flatten_cname: true,
  });
  const lb = r.config.loadBalancers.get('www2.example.com.')!;
  t.same(
    { d: lb.description, e: lb.enabled, ttl: lb.ttl, p: lb.steering_policy, ls: lb.location_strategy, r: lb.region_pools.size + lb.country_pools.size + lb.pop_pools.size, dw: lb.random_steering.default_weight, pw: lb.random_steering.pool_weights.size },
    { d: '', e: true, ttl: 30, p: 'off', ls: { prefer_ecs: 'proximity', mode: 'pop' }, r: 0, dw: 1, pw: 0 },
  );
  t.test('null means "not given": the default applies', async (t) => {
    const r = load('pools:\n  - name: p\n    description:\n    load_shedding: ~\n    origins: [{ name: a, address: 192.0.2.1, weight: null }]\n');
    t.same(r.problems, []);
    t.equal(r.config.pools.get('p')!.description, '');
    t.equal(r.config.pools.get('p')!.origins[0].weight, 1);
  });
});

const POOLS = `pools:
  - { name: p, origins: [{ name: a, address: 192.0.2.1 }] }
  - { name: q, origins: [{ name: a, address: 192.0.2.2 }] }
`;

t.test('steering_policy "" resolves to geo when a region, country or PoP map is set, else off', async (t) => {
  const cases: [string, string][] = [
    ['', 'off'],
    ['steering_policy: ""', 'off'],
    ['region_pools: { WEU: [q] }', 'geo'],
    ['country_pools: { FR: [q] }', 'geo'],
    ['pop_pools: { CDG: [q] }', 'geo'],
    ['region_pools: {}', 'off'],
    ['steering_policy: random\n    region_pools: { WEU: [q] }', 'random'],
    ['steering_policy: dynamic_latency', 'dynamic_latency'],
  ];
  for (const [extra, policy] of cases) {
    const r = load(`${POOLS}load_balancers:\n  - name: www2\n    default_pools: [p]\n    fallback_pool: p\n    ${extra}\n`);
    t.same(r.problems, [], extra);
    t.equal(r.config.loadBalancers.get('www2.example.com.')?.steering_policy, policy, extra || '(not set)');
  }
});

t.test('load balancer names: relative to the zone the file is named after, absolute otherwise', async (t) => {
  const cases: { file: string; name: string; key: string; zone: string; text?: string }[] = [
    { file: 'example.com.lb.yaml', name: 'www2', key: 'www2.example.com.', zone: 'example.com.' },
    { file: 'example.com.lb.yaml', name: 'Shop.Example.COM', key: 'shop.example.com.', zone: 'example.com.', text: 'Shop.Example.COM.' },
    { file: 'example.com.lb.yaml', name: 'www2.example.com.', key: 'www2.example.com.', zone: 'example.com.' },
    { file: 'example.com.lb.yaml', name: 'example.com', key: 'example.com.', zone: 'example.com.' },
    { file: 'example.com.lb.yaml', name: '*.svc', key: '*.svc.example.com.', zone: 'example.com.' },
    { file: 'example.com.lb.yaml', name: '*', key: '*.example.com.', zone: 'example.com.' },
    { file: 'example.com.lb.yaml', name: 'www.example.org', key: 'www.example.org.example.com.', zone: 'example.com.' },
    { file: 'example.com.lb.yaml', name: 'www.example.org.', key: 'www.example.org.', zone: 'example.org.' },
    { file: 'example.com.lb.yaml', name: 'a.child', key: 'a.child.example.com.', zone: 'child.example.com.' },
    { file: 'child.example.com.lb.yaml', name: 'a', key: 'a.child.example.com.', zone: 'child.example.com.' },
    { file: 'example.org.lb.yaml', name: 'www.example.com', key: 'www.example.com.example.org.', zone: 'example.org.' },
    { file: 'global.lb.yaml', name: 'www2.example.com', key: 'www2.example.com.', zone: 'example.com.' },
    { file: 'global.lb.yaml', name: '*.svc.example.org.', key: '*.svc.example.org.', zone: 'example.org.' },
    { file: 'example.net.lb.yaml', name: 'x.example.org', key: 'x.example.org.', zone: 'example.org.' },
  ];
  for (const c of cases) {
    const r = load(`${POOLS}load_balancers:\n  - { name: "${c.name}", default_pools: [p], fallback_pool: p }\n`, `zones/${c.file}`);
    t.same(r.problems, [], `${c.file}: ${c.name}`);
    const lb = r.config.loadBalancers.get(c.key);
    t.equal(lb?.zone.key, c.zone, `${c.file}: ${c.name} -> ${c.key} in ${c.zone}`);
    if (c.text) t.equal(lb?.name.toString(), c.text, 'case is kept');
  }
});

interface Case {
  name: string;
  text: string;
  /** Text on the line the problem points at (first match), or the line number. */
  at: string | number;
  message: string;
  file?: string;
  /** Objects that must not be loaded (errors) or must be loaded (warnings): `pool:p`, `lb:www2.example.com.`. */
  objects?: string[];
}

function has(r: LbLoadResult, object: string): boolean {
  const [kind, name] = object.split(':');
  if (kind === 'monitor') return r.config.monitors.has(name);
  if (kind === 'pool') return r.config.pools.has(name);
  return r.config.loadBalancers.has(name);
}

function check(t: Test, severity: Problem['severity'], c: Case): void {
  const file = c.file ?? FILE;
  const r = load(c.text, file);
  const line = typeof c.at === 'number' ? c.at : lineOf(c.text, c.at);
  const found = r.problems.find((p) => p.message === c.message);
  t.ok(found, `message: ${c.message}`) || t.comment(r.problems.map((p) => `${p.line} ${p.severity} ${p.message}`).join('\n'));
  if (found) t.same(found, { file, line, severity, message: c.message });
  for (const o of c.objects ?? []) t.equal(has(r, o), severity === 'warning', `${o} ${severity === 'error' ? 'dropped' : 'loaded'}`);
  if (severity === 'warning') t.same(r.problems.filter((p) => p.severity === 'error'), [], 'no errors');
}

const LB = (fields: string) => `${POOLS}load_balancers:\n  - name: www2\n    default_pools: [p]\n    fallback_pool: p\n${fields}`;
const POOL = (fields: string, origins = '    origins: [{ name: a, address: 192.0.2.1 }]\n') => `pools:\n  - name: p\n${fields}${origins}`;
const ORIGIN = (fields: string) => `pools:\n  - name: p\n    origins:\n      - name: a\n        address: 192.0.2.1\n${fields}`;
const MONITOR = (fields: string) => `monitors:\n  - name: m\n${fields}`;

const ERRORS: Case[] = [
  // The file as a whole.
  { name: 'invalid YAML', text: 'pools:\n  - name: p\n    origins: [{ name: a\n  - name: q\n', at: 4, message: 'invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]' },
  { name: 'duplicate key is invalid YAML', text: 'pools: []\npools: []\n', at: 2, message: 'invalid YAML: Map keys must be unique' },
  { name: 'top level not a mapping', text: '- name: p\n', at: 1, message: 'the top level must be a mapping with monitors, pools and load_balancers' },
  { name: 'unknown top-level field', text: 'pool:\n  - name: p\n', at: 'pool:', message: 'pool: unknown field (did you mean "pools"?)' },
  { name: 'top-level list is not a list', text: 'pools: { name: p }\n', at: 'pools', message: 'pools: must be a list, got a mapping' },
  // Generic field types.
  { name: 'object is not a mapping', text: 'pools:\n  - p\n', at: '- p', message: 'pools[0]: must be a mapping, got the string "p"' },
  { name: 'unknown field', text: POOL('    colour: blue\n'), at: 'colour', message: 'pools[0].colour: unknown field', objects: ['pool:p'] },
  { name: 'unknown field with a hint', text: ORIGIN('        wieght: 1\n'), at: 'wieght', message: 'pools[0].origins[0].wieght: unknown field (did you mean "weight"?)', objects: ['pool:p'] },
  { name: 'required field missing', text: 'pools:\n  - name: p\n    description: no origins\n', at: '- name: p', message: 'pools[0].origins: required', objects: ['pool:p'] },
  { name: 'string expected', text: POOL('    description: 12\n'), at: 'description', message: 'pools[0].description: must be a string, got 12', objects: ['pool:p'] },
  { name: 'boolean expected', text: POOL('    enabled: yes\n'), at: 'enabled', message: 'pools[0].enabled: must be true or false, got the string "yes"', objects: ['pool:p'] },
  { name: 'number out of range', text: ORIGIN('        weight: 2\n'), at: 'weight', message: 'pools[0].origins[0].weight: must be a number from 0 to 1, got 2', objects: ['pool:p'] },
  { name: 'number given as a string', text: LB('    ttl: "30"\n'), at: 'ttl', message: 'load_balancers[0].ttl: must be an integer from 0 to 86400, got the string "30"', objects: ['lb:www2.example.com.'] },
  { name: 'integer expected', text: MONITOR('    interval: 1.5\n'), at: 'interval', message: 'monitors[0].interval: must be an integer of at least 1, got 1.5', objects: ['monitor:m'] },
  { name: 'not a number', text: POOL('    latitude: .nan\n    longitude: 0\n'), at: 'latitude', message: 'pools[0].latitude: must be a number from -90 to 90, got .nan', objects: ['pool:p'] },
  { name: 'enum', text: MONITOR('    type: ldap\n'), at: 'type', message: 'monitors[0].type: must be one of "http", "https", "tcp", "smtp", "icmp_ping", "udp_icmp", got the string "ldap"', objects: ['monitor:m'] },
  { name: 'mapping expected', text: POOL('    origin_steering: random\n'), at: 'origin_steering', message: 'pools[0].origin_steering: must be a mapping, got the string "random"', objects: ['pool:p'] },
  { name: 'non-string key', text: LB('    region_pools: { [WEU]: [p] }\n'), at: 'region_pools', message: 'load_balancers[0].region_pools: keys must be plain strings, got a list', objects: ['lb:www2.example.com.'] },
  { name: 'unknown alias', text: LB('    region_pools: { WEU: *nope }\n'), at: 'region_pools', message: 'load_balancers[0].region_pools.WEU: unknown alias *nope', objects: ['lb:www2.example.com.'] },
  // Names and references.
  { name: 'object name syntax', text: 'pools:\n  - name: us east\n    origins: [{ name: a, address: 192.0.2.1 }]\n', at: 'us east', message: 'pools[0].name: must be letters, digits, "-" and "_" only, got "us east"' },
  { name: 'empty reference', text: POOL('    monitor: ""\n'), at: 'monitor', message: 'pools[0].monitor: must not be empty', objects: ['pool:p'] },
  { name: 'duplicate pool name', text: `${POOLS}  - { name: p, origins: [{ name: b, address: 192.0.2.9 }] }\n`, at: 'address: 192.0.2.9', message: `pools[2].name: pool "p" is already defined at ${FILE}:2` },
  { name: 'duplicate load balancer', text: `${LB('')}  - { name: www2.example.com., default_pools: [q], fallback_pool: q }\n`, at: 'default_pools: [q]', message: `load_balancers[1].name: load balancer www2.example.com. is already defined at ${FILE}:5` },
  { name: 'missing pool', text: `${POOLS}load_balancers:\n  - name: www2\n    default_pools: [p, us-wset]\n    fallback_pool: p\n`, at: 'us-wset', message: 'load_balancers[0].default_pools[1]: no pool named "us-wset"', objects: ['lb:www2.example.com.'] },
  { name: 'missing pool with a hint', text: LB('    region_pools: { WEU: [P] }\n'), at: 'region_pools', message: 'load_balancers[0].region_pools.WEU[0]: no pool named "P" (did you mean "p"?)', objects: ['lb:www2.example.com.'] },
  { name: 'missing monitor', text: POOL('    monitor: nope\n'), at: 'monitor', message: 'pools[0].monitor: no monitor named "nope"', objects: ['pool:p'] },
  { name: 'monitor with errors', text: `${MONITOR('    timeout: 0\n')}${POOL('    monitor: m\n')}`, at: '- name: m', message: 'monitors[0]: monitor "m" is not loaded, and so neither is pool "p", which uses it', objects: ['pool:p', 'monitor:m'] },
  { name: 'pool_weights names a missing pool', text: LB('    random_steering: { pool_weights: { r: 0.5 } }\n'), at: 'random_steering', message: 'load_balancers[0].random_steering.pool_weights.r: no pool named "r" (did you mean "p"?)', objects: ['lb:www2.example.com.'] },
  // Monitors.
  { name: 'port required for tcp', text: MONITOR('    type: tcp\n'), at: '- name: m', message: 'monitors[0].port: required (1 to 65535) for tcp monitors', objects: ['monitor:m'] },
  { name: 'port 0 for udp_icmp', text: MONITOR('    type: udp_icmp\n    port: 0\n'), at: 'port', message: 'monitors[0].port: required (1 to 65535) for udp_icmp monitors', objects: ['monitor:m'] },
  { name: 'empty expected_codes', text: MONITOR('    expected_codes: ""\n'), at: 'expected_codes', message: 'monitors[0].expected_codes: must list at least one status code for http monitors', objects: ['monitor:m'] },
  { name: 'bad expected_codes', text: MONITOR('    expected_codes: 2xx,20\n'), at: 'expected_codes', message: 'monitors[0].expected_codes: must be 3-digit status codes or classes such as 2xx, separated by commas, got "2xx,20"', objects: ['monitor:m'] },
  { name: 'HTTP method', text: MONITOR('    method: get\n'), at: 'method', message: 'monitors[0].method: must be an upper-case HTTP method such as GET or HEAD, got "get"', objects: ['monitor:m'] },
  { name: 'tcp method', text: MONITOR('    type: tcp\n    port: 22\n    method: GET\n'), at: 'method', message: 'monitors[0].method: must be "connection_established" for tcp monitors', objects: ['monitor:m'] },
  { name: 'path', text: MONITOR('    path: health\n'), at: 'path', message: 'monitors[0].path: must start with "/", got "health"', objects: ['monitor:m'] },
  { name: 'header name', text: MONITOR('    header: { "X Bad": [a] }\n'), at: 'header', message: 'monitors[0].header["X Bad"]: is not a valid HTTP header name', objects: ['monitor:m'] },
  { name: 'header values', text: MONITOR('    header: { X-A: [] }\n'), at: 'header', message: 'monitors[0].header.X-A: must be a string or a non-empty list of strings, got a list', objects: ['monitor:m'] },
  // Pools and origins.
  { name: 'latitude without longitude', text: POOL('    latitude: 10\n'), at: 'latitude', message: 'pools[0].latitude: longitude must be given too', objects: ['pool:p'] },
  { name: 'longitude without latitude', text: POOL('    longitude: 10\n'), at: 'longitude', message: 'pools[0].longitude: latitude must be given too', objects: ['pool:p'] },
  { name: 'check_regions', text: POOL('    check_regions: [WEU, EU]\n'), at: 'check_regions', message: 'pools[0].check_regions[1]: must be a region code (WNAM ENAM WEU EEU NSAM SSAM OC ME NAF SAF SAS SEAS NEAS) or ALL_REGIONS, got the string "EU"', objects: ['pool:p'] },
  { name: 'no origins', text: POOL('    origins: []\n', ''), at: 'origins', message: 'pools[0].origins: must list at least one origin', objects: ['pool:p'] },
  { name: 'empty origin name', text: 'pools:\n  - name: p\n    origins: [{ name: "", address: 192.0.2.1 }]\n', at: 'origins', message: 'pools[0].origins[0].name: must not be empty', objects: ['pool:p'] },
  { name: 'duplicate origin name', text: ORIGIN('      - { name: a, address: 192.0.2.2 }\n'), at: '192.0.2.2', message: 'pools[0].origins[1].name: origin name "a" is already used by pools[0].origins[0] (line 4)', objects: ['pool:p'] },
  { name: 'duplicate address', text: ORIGIN('      - { name: b, address: "2001:db8::1" }\n      - { name: c, address: "2001:DB8:0::1" }\n'), at: 'name: c', message: 'pools[0].origins[2].address: address 2001:DB8:0::1 is already used by pools[0].origins[1] (line 6)', objects: ['pool:p'] },
  { name: 'duplicate hostname', text: ORIGIN('      - { name: b, address: App.Example.net }\n      - { name: c, address: app.example.net. }\n'), at: 'name: c', message: 'pools[0].origins[2].address: address app.example.net. is already used by pools[0].origins[1] (line 6)', objects: ['pool:p'] },
  { name: 'address not an address', text: 'pools:\n  - name: p\n    origins: [{ name: a, address: 192.0.2 }]\n', at: 'origins', message: 'pools[0].origins[0].address: must be an IPv4 address, an IPv6 address or a hostname: "192.0.2": the last label must not be all digits', objects: ['pool:p'] },
  { name: 'address with a bad label', text: 'pools:\n  - name: p\n    origins: [{ name: a, address: "-x.example.net" }]\n', at: 'origins', message: 'pools[0].origins[0].address: must be an IPv4 address, an IPv6 address or a hostname: "-x.example.net": label "-x" must be letters, digits, "-" and "_", not starting or ending with "-"', objects: ['pool:p'] },
  { name: 'wildcard origin', text: 'pools:\n  - name: p\n    origins: [{ name: a, address: "*.example.net" }]\n', at: 'origins', message: 'pools[0].origins[0].address: must be an IPv4 address, an IPv6 address or a hostname: "*.example.net": "*" is only allowed as the whole leftmost label of a load balancer name', objects: ['pool:p'] },
  { name: 'IPv6 zone index', text: 'pools:\n  - name: p\n    origins: [{ name: a, address: "fe80::1%eth0" }]\n', at: 'origins', message: 'pools[0].origins[0].address: must be an IPv4 address, an IPv6 address or a hostname: "fe80::1%eth0": label "fe80::1%eth0" must be letters, digits, "-" and "_", not starting or ending with "-"', objects: ['pool:p'] },
  { name: 'label too long', text: `pools:\n  - name: p\n    origins: [{ name: a, address: ${'a'.repeat(64)}.example.net }]\n`, at: 'origins', message: `pools[0].origins[0].address: must be an IPv4 address, an IPv6 address or a hostname: "${'a'.repeat(64)}.example.net": label longer than 63 octets`, objects: ['pool:p'] },
  { name: 'empty label', text: 'pools:\n  - name: p\n    origins: [{ name: a, address: "a..example.net" }]\n', at: 'origins', message: 'pools[0].origins[0].address: must be an IPv4 address, an IPv6 address or a hostname: "a..example.net" has an empty label', objects: ['pool:p'] },
  { name: 'origin header other than Host', text: ORIGIN('        header: { X-Other: a }\n'), at: 'header', message: 'pools[0].origins[0].header.X-Other: only the Host header can be set here', objects: ['pool:p'] },
  // Load balancers.
  { name: 'name not a hostname', text: `${POOLS}load_balancers:\n  - { name: "www..x", default_pools: [p], fallback_pool: p }\n`, at: 'www..x', message: 'load_balancers[0].name: must be a hostname: "www..x" has an empty label' },
  { name: 'wildcard not leftmost', text: `${POOLS}load_balancers:\n  - { name: "a.*.apps", default_pools: [p], fallback_pool: p }\n`, at: 'a.*', message: 'load_balancers[0].name: must be a hostname: "a.*.apps": "*" is only allowed as the whole leftmost label' },
  { name: 'name outside the zones', text: `${POOLS}load_balancers:\n  - { name: www.example.net., default_pools: [p], fallback_pool: p }\n`, at: 'example.net', message: 'load_balancers[0].name: www.example.net. is not inside a zone served here' },
  { name: 'relative-looking name in a global file', file: 'zones/global.lb.yaml', text: `${POOLS}load_balancers:\n  - { name: www2, default_pools: [p], fallback_pool: p }\n`, at: 'www2', message: 'load_balancers[0].name: www2. is not inside a zone served here (names are absolute here: the file is not named <zone>.lb.yaml after a zone served here)' },
  { name: 'name below a delegation', text: `${POOLS}load_balancers:\n  - { name: www.dev, default_pools: [p], fallback_pool: p }\n`, at: 'www.dev', message: 'load_balancers[0].name: www.dev.example.com. is at or below the delegation to dev.example.com. in zone example.com.: queries for it are referred, never answered here' },
  { name: 'steering policy', text: LB('    steering_policy: failover\n'), at: 'steering_policy', message: 'load_balancers[0].steering_policy: must be one of "off", "geo", "random", "dynamic_latency", "proximity", "least_outstanding_requests", "least_connections", "", got the string "failover"', objects: ['lb:www2.example.com.'] },
  { name: 'empty default_pools', text: `${POOLS}load_balancers:\n  - { name: www2, default_pools: [], fallback_pool: p }\n`, at: 'www2', message: 'load_balancers[0].default_pools: must list at least one pool', objects: ['lb:www2.example.com.'] },
  { name: 'fallback_pool missing', text: `${POOLS}load_balancers:\n  - { name: www2, default_pools: [p] }\n`, at: 'www2', message: 'load_balancers[0].fallback_pool: required', objects: ['lb:www2.example.com.'] },
  { name: 'region code', text: LB('    region_pools: { EU: [p] }\n'), at: 'region_pools', message: 'load_balancers[0].region_pools.EU: is not a region code (WNAM ENAM WEU EEU NSAM SSAM OC ME NAF SAF SAS SEAS NEAS)', objects: ['lb:www2.example.com.'] },
  { name: 'country code', text: LB('    country_pools: { UK: [p] }\n'), at: 'country_pools', message: 'load_balancers[0].country_pools.UK: is not an ISO 3166-1 alpha-2 country code known to the region table', objects: ['lb:www2.example.com.'] },
  { name: 'PoP code', text: LB('    pop_pools: { FRANKFURT: [p] }\n'), at: 'pop_pools', message: 'load_balancers[0].pop_pools.FRANKFURT: is not a PoP code (3 or 4 letters or digits, such as FRA)', objects: ['lb:www2.example.com.'] },
  { name: 'the same code twice', text: LB('    pop_pools:\n      FRA: [p]\n      fra: [q]\n'), at: 'fra:', message: 'load_balancers[0].pop_pools.fra: FRA is already listed as "FRA"', objects: ['lb:www2.example.com.'] },
  { name: 'location strategy', text: LB('    location_strategy: { prefer_ecs: sometimes }\n'), at: 'location_strategy', message: 'load_balancers[0].location_strategy.prefer_ecs: must be one of "always", "never", "proximity", "geo", got the string "sometimes"', objects: ['lb:www2.example.com.'] },
];

t.test('errors: one per message, with severity, file, line and field path; the object is dropped', async (t) => {
  for (const c of ERRORS) t.test(c.name, async (t) => check(t, 'error', c));
});

const WARNINGS: Case[] = [
  { name: 'YAML warning', text: POOL('    description: !custom hi\n'), at: 'description', message: 'YAML: Unresolved tag: !custom', objects: ['pool:p'] },
  { name: 'probe_zone', text: MONITOR('    probe_zone: example.com\n'), at: 'probe_zone', message: 'monitors[0].probe_zone: has no effect: probes are sent from this server, not through a zone', objects: ['monitor:m'] },
  { name: 'HTTP fields on a tcp monitor', text: MONITOR('    type: tcp\n    port: 22\n    path: /x\n'), at: 'path', message: 'monitors[0].path: is ignored for tcp monitors', objects: ['monitor:m'] },
  { name: 'method on smtp', text: MONITOR('    type: smtp\n    port: 25\n    method: GET\n'), at: 'method', message: 'monitors[0].method: is ignored for smtp monitors', objects: ['monitor:m'] },
  { name: 'port on icmp_ping', text: MONITOR('    type: icmp_ping\n    port: 7\n'), at: 'port', message: 'monitors[0].port: is ignored for icmp_ping monitors', objects: ['monitor:m'] },
  { name: 'minimum_origins above the origin count', text: `${MONITOR('')}${POOL('    monitor: m\n    minimum_origins: 2\n')}`, at: 'minimum_origins', message: "pools[0].minimum_origins: 2 is more than the pool's 1 origin(s): the pool is always critical", objects: ['pool:p'] },
  { name: 'notifications', text: POOL('    notification_email: ops@example.com\n'), at: 'notification_email', message: 'pools[0].notification_email: has no effect: steerdns sends no notifications', objects: ['pool:p'] },
  { name: 'pool networks', text: POOL('    health_sources: [regional, global]\n'), at: 'health_sources', message: 'pools[0].health_sources: has no effect: not supported by steerdns', objects: ['pool:p'] },
  { name: 'counting origin steering', text: POOL('    origin_steering: { policy: least_connections }\n'), at: 'origin_steering', message: 'pools[0].origin_steering.policy: least_connections counts connections, which a DNS-only load balancer never sees: origins are chosen as with random', objects: ['pool:p'] },
  { name: 'session shedding', text: POOL('    load_shedding: { session_percent: 20, session_policy: hash }\n'), at: 'load_shedding', message: 'pools[0].load_shedding.session_percent: has no effect: it sheds sessions with affinity, which DNS-only load balancing does not have', objects: ['pool:p'] },
  { name: 'virtual network', text: ORIGIN('        virtual_network_id: a5624d4e-044a-4ff0-b3e1-e2465353d4b4\n'), at: 'virtual_network_id', message: 'pools[0].origins[0].virtual_network_id: has no effect: DNS-only load balancers answer with public addresses only', objects: ['pool:p'] },
  { name: 'counting steering policy', text: LB('    steering_policy: least_outstanding_requests\n'), at: 'steering_policy', message: 'load_balancers[0].steering_policy: least_outstanding_requests needs request or connection counts, which a DNS-only load balancer does not have: it behaves as random', objects: ['lb:www2.example.com.'] },
  { name: 'proxied', text: LB('    proxied: true\n'), at: 'proxied', message: 'load_balancers[0].proxied: true has no effect: steerdns answers as a DNS-only ("gray cloud") load balancer', objects: ['lb:www2.example.com.'] },
  { name: 'session affinity', text: LB('    session_affinity: cookie\n'), at: 'session_affinity', message: 'load_balancers[0].session_affinity: has no effect: it applies to proxied load balancing only', objects: ['lb:www2.example.com.'] },
  { name: 'adaptive routing', text: LB('    adaptive_routing: { failover_across_pools: true }\n'), at: 'adaptive_routing', message: 'load_balancers[0].adaptive_routing: has no effect: it applies to proxied load balancing only', objects: ['lb:www2.example.com.'] },
  { name: 'rules', text: LB('    rules:\n      - { name: r, condition: "true" }\n'), at: 'rules', message: 'load_balancers[0].rules: has no effect: not supported by steerdns', objects: ['lb:www2.example.com.'] },
  { name: 'pool listed twice', text: `${POOLS}load_balancers:\n  - name: www2\n    default_pools: [p, q, p]\n    fallback_pool: p\n`, at: 'default_pools', message: 'load_balancers[0].default_pools[2]: pool "p" is already listed; the repeat is ignored', objects: ['lb:www2.example.com.'] },
  { name: 'pool weight never used', text: LB('    random_steering:\n      pool_weights:\n        q: 0.5\n'), at: 'q: 0.5', message: 'load_balancers[0].random_steering.pool_weights.q: pool "q" is not in default_pools: its weight is never used', objects: ['lb:www2.example.com.'] },
  { name: 'static A and AAAA', text: `${POOLS}load_balancers:\n  - { name: www, default_pools: [p], fallback_pool: p }\n`, at: 'name: www', message: 'load_balancers[0].name: load balancer www.example.com. takes precedence over the static A, AAAA record(s) at this name', objects: ['lb:www.example.com.'] },
  { name: 'static CNAME', text: `${POOLS}load_balancers:\n  - { name: blog, default_pools: [p], fallback_pool: p }\n`, at: 'name: blog', message: 'load_balancers[0].name: load balancer blog.example.com. takes precedence over the static CNAME record(s) at this name', objects: ['lb:blog.example.com.'] },
  { name: 'static wildcard', text: `${POOLS}load_balancers:\n  - { name: "*.apps", default_pools: [p], fallback_pool: p }\n`, at: 'name: "*.apps"', message: 'load_balancers[0].name: load balancer *.apps.example.com. takes precedence over the static A record(s) at this name', objects: ['lb:*.apps.example.com.'] },
  {
    name: 'CNAME answers at the apex', objects: ['lb:example.com.'],
    text: 'pools:\n  - name: p\n    origins: [{ name: a, address: app.example.net, flatten_cname: false }]\nload_balancers:\n  - { name: example.com, default_pools: [p], fallback_pool: p }\n',
    at: 'name: example.com', message: 'load_balancers[0].name: example.com. is a zone apex, where a CNAME cannot be answered: origin "a" (app.example.net) of pool "p" is flattened to its addresses despite flatten_cname: false',
  },
  {
    name: 'proximity without coordinates', objects: ['lb:www2.example.com.'],
    text: `pools:\n  - { name: p, latitude: 1, longitude: 2, origins: [{ name: a, address: 192.0.2.1 }] }\n  - { name: q, origins: [{ name: a, address: 192.0.2.1 }] }\n  - { name: r, origins: [{ name: a, address: 192.0.2.1 }] }\nload_balancers:\n  - name: www2\n    steering_policy: proximity\n    default_pools: [p, q, r]\n    fallback_pool: p\n`,
    at: 'steering_policy', message: 'load_balancers[0].steering_policy: proximity steering needs pool coordinates: pool(s) "q", "r" have no latitude/longitude and are tried last',
  },
];

t.test('warnings: one per message; the object is still loaded', async (t) => {
  for (const c of WARNINGS) t.test(c.name, async (t) => check(t, 'warning', c));
});

t.test('no warning for a static TXT beside a load balancer, or for inert proxied-only fields as the API exports them', async (t) => {
  const r = load(LB([
    '    proxied: false', '    session_affinity: none', '    session_affinity_ttl: 0', '    session_affinity_attributes: { samesite: "", headers: [] }',
    '    adaptive_routing: { failover_across_pools: false }', '    rules: []', '    pool_sets: []', '    networks: []',
    '    id: 699d98642c564d2e855e9661899b7252', '    created_on: "2024-01-01T00:00:00Z"', '    modified_on: "2024-01-01T00:00:00Z"', '    zone_name: example.com', '',
  ].join('\n')).replace('name: www2', 'name: txt'));
  t.same(r.problems, []);
  t.ok(r.config.loadBalancers.has('txt.example.com.'));
});

t.test('objects with errors are dropped with what refers to them; the valid rest loads', async (t) => {
  const text = `monitors:
  - { name: bad-monitor, timeout: -1 }
  - { name: good-monitor }
pools:
  - { name: uses-bad-monitor, monitor: bad-monitor, origins: [{ name: a, address: 192.0.2.1 }] }
  - { name: bad-pool, origins: [{ name: a, address: 192.0.2.1, weight: 5 }] }
  - { name: good, monitor: good-monitor, origins: [{ name: a, address: 192.0.2.1 }] }
load_balancers:
  - { name: a, default_pools: [uses-bad-monitor], fallback_pool: good }
  - { name: b, default_pools: [good], fallback_pool: bad-pool }
  - { name: c, default_pools: [good], fallback_pool: good, ttl: -5 }
  - { name: d, default_pools: [good], fallback_pool: good }
`;
  const r = load(text);
  t.same([...r.config.monitors.keys()], ['good-monitor']);
  t.same([...r.config.pools.keys()], ['good']);
  t.same([...r.config.loadBalancers.keys()], ['d.example.com.']);
  t.same(r.problems.map((p) => [p.line, p.message]), [
    [2, 'monitors[0].timeout: must be an integer of at least 1, got -1'],
    [2, 'monitors[0]: monitor "bad-monitor" is not loaded, and so neither is pool "uses-bad-monitor", which uses it'],
    [5, 'pools[0]: pool "uses-bad-monitor" is not loaded, and so neither is load balancer a.example.com., which uses it'],
    [6, 'pools[1].origins[0].weight: must be a number from 0 to 1, got 5'],
    [6, 'pools[1]: pool "bad-pool" is not loaded, and so neither is load balancer b.example.com., which uses it'],
    [11, 'load_balancers[2].ttl: must be an integer from 0 to 86400, got -5'],
  ]);
  t.ok(r.problems.every((p) => p.severity === 'error' && p.file === FILE));
});

t.test('invalid YAML loads nothing from that file; other files still load, and refer across files', async (t) => {
  const r = loadLbTexts([
    { file: 'zones/a.lb.yaml', text: POOLS },
    { file: 'zones/example.com.lb.yaml', text: 'load_balancers:\n  - { name: ok, default_pools: [p], fallback_pool: p }\n' },
    { file: 'zones/example.org.lb.yaml', text: 'load_balancers:\n  - { name: www, default_pools: [p], fallback_pool: p }\n  - name: [\n' },
  ], ZONES);
  t.same(r.problems.map((p) => [p.file, p.line, p.severity]), [['zones/example.org.lb.yaml', 4, 'error']]);
  t.match(r.problems[0].message, /^invalid YAML: /);
  t.same([...r.config.loadBalancers.keys()], ['ok.example.com.']);
  t.same([...r.config.pools.keys()], ['p', 'q']);
});

t.test('duplicate names across files name both places; the first one wins', async (t) => {
  const r = loadLbTexts([
    { file: 'zones/a.lb.yaml', text: 'monitors:\n  - name: m\n    path: /a\n' },
    { file: 'zones/b.lb.yaml', text: '# b\nmonitors:\n  - name: m\n    path: /b\n' },
  ], ZONES);
  t.same(r.problems, [{ file: 'zones/b.lb.yaml', line: 3, severity: 'error', message: 'monitors[0].name: monitor "m" is already defined at zones/a.lb.yaml:2' }]);
  t.equal(r.config.monitors.get('m')?.path, '/a');
});

t.test('empty files, comment-only files and empty lists are fine', async (t) => {
  for (const text of ['', '# nothing\n', 'monitors:\npools: []\nload_balancers: ~\n', '---\n']) {
    const r = load(text);
    t.same(r.problems, [], JSON.stringify(text));
    t.equal(r.config.pools.size + r.config.monitors.size + r.config.loadBalancers.size, 0);
  }
});

t.test('aliases are followed; problems point at where the alias is used', async (t) => {
  const r = load(`${POOLS}load_balancers:\n  - name: www2\n    default_pools: &both [p, q]\n    fallback_pool: p\n    region_pools: { WEU: *both }\n`);
  t.same(r.problems, []);
  t.same([...r.config.loadBalancers.get('www2.example.com.')!.region_pools.get('WEU')!].map((p) => p.name), ['p', 'q']);
  const bad = load(`${POOLS}load_balancers:\n  - name: www2\n    default_pools: [p]\n    fallback_pool: p\n    description: &t 30\n    ttl: *t\n    enabled: *t\n`);
  t.same(bad.problems.map((p) => [p.line, p.message]), [
    [8, 'load_balancers[0].description: must be a string, got 30'],
    [10, 'load_balancers[0].enabled: must be true or false, got 30'],
  ]);
});

t.test('expected_codes accepts a bare number and normalizes spacing and case', async (t) => {
  const r = load(MONITOR('    expected_codes: 200\n  - name: n\n    expected_codes: " 2XX , 301"\n'));
  t.same(r.problems, []);
  t.equal(r.config.monitors.get('m')?.expected_codes, '200');
  t.equal(r.config.monitors.get('n')?.expected_codes, '2xx,301');
});

t.test('directories', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'steerdns-lb-'));
  writeFileSync(join(dir, 'b.lb.yaml'), POOLS);
  writeFileSync(join(dir, 'a.lb.yaml'), 'load_balancers:\n  - { name: www2.example.com, default_pools: [p], fallback_pool: q }\n');
  writeFileSync(join(dir, 'example.com.zone'), 'not read here\n');
  mkdirSync(join(dir, 'c.lb.yaml'));
  const r = loadLbDir(dir, ZONES);
  t.equal(r.config.loadBalancers.get('www2.example.com.')?.fallback_pool.name, 'q', 'a load balancer may come before its pools');
  t.same(r.problems.map((p) => [p.file, p.line, p.severity]), [[join(dir, 'c.lb.yaml'), 0, 'error']]);
  t.match(r.problems[0].message, /^cannot read the file: /);

  const missing = loadLbDir(join(dir, 'nope'), ZONES);
  t.same(missing.problems.map((p) => [p.file, p.line, p.severity]), [[join(dir, 'nope'), 0, 'error']]);
  t.match(missing.problems[0].message, /^cannot read the directory: /);
  t.equal(missing.config.loadBalancers.size, 0);
});

t.test('one bad origin address is one error, and one line naming what it takes with it', async (t) => {
  const text = `pools:
  - name: p1
    origins:
      - { name: a, address: 10.0.0.300 }
  - { name: p2, origins: [{ name: b, address: 192.0.2.1 }] }
load_balancers:
  - { name: web, default_pools: [p1, p2], fallback_pool: p2 }
  - { name: api, default_pools: [p1], fallback_pool: p1 }
  - { name: www2, default_pools: [p2], fallback_pool: p1 }
`;
  const r = load(text);
  t.same([...r.config.loadBalancers.keys()], []);
  t.same(r.problems.map((p) => [p.line, p.message]), [
    [4, 'pools[0].origins[0].address: must be an IPv4 address, an IPv6 address or a hostname: "10.0.0.300": the last label must not be all digits'],
    [2, 'pools[0]: pool "p1" is not loaded, and so neither are load balancer web.example.com., load balancer api.example.com., load balancer www2.example.com., which use it'],
  ].sort((a, b) => (a[0] as number) - (b[0] as number)));
});
