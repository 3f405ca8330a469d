/**
 * Loading `persistence` on a load balancer: absent = off, defaults, every field set, and one
 * case per error with file, line and field path (the load balancer is dropped).
 */
import t from 'tap';
import { Name } from '../../src/wire/name.js';
import { loadLbTexts } from '../../src/lb/config.js';
import { parseZone } from '../../src/zone/parser.js';
import { compileZone } from '../../src/zone/zone.js';
import { ZoneSet } from '../../src/zone/zoneset.js';

const apex = Name.fromText('example.com.');
const parsed = parseZone('$TTL 300\n@ SOA ns1 host 1 2 3 4 60\n@ NS ns1\nns1 A 192.0.2.53\n', { file: 'example.com.zone', origin: apex });
const ZONES = new ZoneSet([compileZone(apex, parsed.records, 'example.com.zone').zone!]);
const FILE = 'zones/example.com.lb.yaml';
const KEY = Name.fromText('www2.example.com.').key;

const text = (fields: string) =>
  `pools:\n  - { name: p, origins: [{ name: a, address: 192.0.2.1 }] }\nload_balancers:\n  - name: www2\n    default_pools: [p]\n    fallback_pool: p\n${fields}`;
const load = (fields: string) => loadLbTexts([{ file: FILE, text: text(fields) }], ZONES);

t.test('absent, defaults, every field', async (t) => {
  t.equal(load('').config.loadBalancers.get(KEY)!.persistence, undefined, 'absent: off');
  t.equal(load('    persistence: ~\n').config.loadBalancers.get(KEY)!.persistence, undefined, 'null: off');
  t.same(load('    persistence: {}\n').config.loadBalancers.get(KEY)!.persistence, { ttl: 3600, key: 'ecs', mask_v4: 24, mask_v6: 56 }, 'defaults');
  const full = load('    persistence:\n      ttl: 604800\n      key: resolver_network\n      mask_v4: 0\n      mask_v6: 128\n');
  t.same(full.problems, []);
  t.same(full.config.loadBalancers.get(KEY)!.persistence, { ttl: 604800, key: 'resolver_network', mask_v4: 0, mask_v6: 128 });
  t.ok(Object.isFrozen(full.config.loadBalancers.get(KEY)!.persistence));
  t.equal(load('    persistence: { key: resolver, ttl: 1, mask_v4: 32, mask_v6: 0 }\n').problems.length, 0);
});

const ERRORS: [string, string, string][] = [
  ['not a mapping', '    persistence: true\n', 'load_balancers[0].persistence: must be a mapping, got true'],
  ['unknown field', '    persistence:\n      ttl: 60\n      mask: 24\n', 'load_balancers[0].persistence.mask: unknown field'],
  ['unknown field with a hint', '    persistence:\n      mask_v5: 24\n', 'load_balancers[0].persistence.mask_v5: unknown field (did you mean "mask_v4"?)'],
  ['ttl 0', '    persistence:\n      ttl: 0\n', 'load_balancers[0].persistence.ttl: must be an integer from 1 to 604800, got 0'],
  ['ttl too long', '    persistence:\n      ttl: 604801\n', 'load_balancers[0].persistence.ttl: must be an integer from 1 to 604800, got 604801'],
  ['ttl fraction', '    persistence:\n      ttl: 1.5\n', 'load_balancers[0].persistence.ttl: must be an integer from 1 to 604800, got 1.5'],
  ['ttl as a string', '    persistence:\n      ttl: "60"\n', 'load_balancers[0].persistence.ttl: must be an integer from 1 to 604800, got the string "60"'],
  ['key', '    persistence:\n      key: client\n', 'load_balancers[0].persistence.key: must be one of "ecs", "resolver", "resolver_network", got the string "client"'],
  ['mask_v4 too long', '    persistence:\n      mask_v4: 33\n', 'load_balancers[0].persistence.mask_v4: must be an integer from 0 to 32, got 33'],
  ['mask_v4 negative', '    persistence:\n      mask_v4: -1\n', 'load_balancers[0].persistence.mask_v4: must be an integer from 0 to 32, got -1'],
  ['mask_v6 too long', '    persistence:\n      mask_v6: 129\n', 'load_balancers[0].persistence.mask_v6: must be an integer from 0 to 128, got 129'],
  ['mask_v6 fraction', '    persistence:\n      mask_v6: 56.5\n', 'load_balancers[0].persistence.mask_v6: must be an integer from 0 to 128, got 56.5'],
];

t.test('errors: file, line, field path; the load balancer is dropped', async (t) => {
  for (const [name, fields, message] of ERRORS) {
    t.test(name, async (t) => {
      const r = load(fields);
      const lines = text(fields).split('\n');
      const field = message.split(':')[0].split('.').pop()!;
      const line = lines.findIndex((l) => l.includes(`${field}:`)) + 1;
      t.same(r.problems, [{ file: FILE, line, severity: 'error', message }]);
      t.notOk(r.config.loadBalancers.has(KEY), 'dropped');
    });
  }
});
