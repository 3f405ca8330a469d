/**
 * HTTPS/SVCB hints at a load balancer on the query path (steered.ts steeredService): the zone
 * file's records are cut once, and while a decision is a pool's whole list of IP origins the
 * finished records are reused, not rebuilt per query; a decision on part of a pool gets its own
 * hints. Records without steered hints (AliasMode, another target) are the zone's own rdata.
 */
import t from 'tap';
import { loadConfig } from '../../src/snapshot/load.js';
import type { Snapshot } from '../../src/snapshot/snapshot.js';
import { Name } from '../../src/wire/name.js';
import { resolveInZones } from '../../src/answer/resolve.js';
import { Decisions } from '../../src/answer/steered.js';
import { rdataToText } from '../../src/wire/rdata.js';
import { T } from '../../src/wire/types.js';
import type { HealthView } from '../../src/lb/model.js';
import { mulberry32 } from '../../src/lb/random.js';
import { client, health } from '../helpers/lb.js';

const ZONE = `$ORIGIN example.test.
$TTL 300
@ SOA ns1 hostmaster 1 7200 900 1209600 60
@ NS ns1
ns1 A 192.0.2.53
app HTTPS 1 . alpn=h2 ipv4hint=192.0.2.250
app HTTPS 2 other.example.net. alpn=h2 ipv4hint=198.51.100.9
alias HTTPS 0 app.example.test.
`;

const LBS = `monitors:
  - { name: m, type: tcp, port: 443 }
pools:
  - { name: a, monitor: m, origins: [{ name: a1, address: 192.0.2.1 }, { name: a2, address: 192.0.2.2 }, { name: a6, address: "2001:db8::1" }] }
load_balancers:
  - { name: app, default_pools: [a], fallback_pool: a }
  - { name: alias, default_pools: [a], fallback_pool: a }
`;

const dir = t.testdir({ 'example.test.zone': ZONE, 'example.test.lb.yaml': LBS });
const loaded = loadConfig(dir);

function ask(h: HealthView, name: string) {
  const snap: Snapshot = { zones: loaded.zones, lb: loaded.lb, health: h, pop: {}, hostnames: { get: () => undefined }, random: mulberry32(1) };
  const r = resolveInZones({ snap, client: client(), decisions: new Decisions() }, Name.fromText(name), T.HTTPS);
  return r.answer[0].rrset;
}

t.test('the loader had no problems', async (t) => {
  t.same(loaded.problems.filter((p) => p.severity === 'error'), []);
});

t.test('a whole pool: the finished records are reused across queries', async (t) => {
  const first = ask(health(), 'app.example.test.');
  const second = ask(health(), 'app.example.test.');
  t.same(first.rdatas.map((d) => rdataToText(T.HTTPS, d.wire)), [
    '1 . alpn="h2" ipv4hint=192.0.2.1,192.0.2.2 ipv6hint=2001:db8::1',
    '2 other.example.net. alpn="h2" ipv4hint=198.51.100.9',
  ]);
  t.equal(second.rdatas, first.rdatas, 'the same rdata list, not rebuilt');
  t.equal(first.ttl, 30, 'the load balancer\'s TTL');
});

t.test('part of a pool: hints of that decision', async (t) => {
  const r = ask(health({ down: ['a/a1', 'a/a6'] }), 'app.example.test.');
  t.same(r.rdatas.map((d) => rdataToText(T.HTTPS, d.wire)), [
    '1 . alpn="h2" ipv4hint=192.0.2.2',
    '2 other.example.net. alpn="h2" ipv4hint=198.51.100.9',
  ]);
  const whole = ask(health(), 'app.example.test.');
  t.same(rdataToText(T.HTTPS, whole.rdatas[0].wire), '1 . alpn="h2" ipv4hint=192.0.2.1,192.0.2.2 ipv6hint=2001:db8::1', 'the whole pool again');
});

t.test('nothing to steer: the zone\'s own rdata', async (t) => {
  const r = ask(health(), 'alias.example.test.');
  const zoneRdatas = loaded.zones.find(Name.fromText('alias.example.test.'))!.node('alias.example.test.')!.rrsets.get(T.HTTPS)!.rdatas;
  t.equal(r.rdatas, zoneRdatas, 'AliasMode only: the zone file\'s records as they are');
});
