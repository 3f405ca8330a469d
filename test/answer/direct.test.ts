/**
 * A and AAAA at a load balancer's own name skip the zone walk (resolve.ts, directLoadBalancers).
 * Both ways must give the same Resolution: for load balancers at the apex, with IP and
 * hostname origins, with a CNAME answer, with NODATA (fallback disabled, no address of the
 * family), under a wildcard, beside static records and a static CNAME, and names below a
 * delegation or disabled, in random case,
 * under several health views, with the same seeded random source on each side.
 */
import t from 'tap';
import { loadConfig } from '../../src/snapshot/load.js';
import type { Snapshot } from '../../src/snapshot/snapshot.js';
import { Name } from '../../src/wire/name.js';
import { directLoadBalancers, resolve, resolveInZones, type Resolution } from '../../src/answer/resolve.js';
import { T } from '../../src/wire/types.js';
import type { HealthView } from '../../src/lb/model.js';
import { Decisions } from '../../src/answer/steered.js';
import { mulberry32 } from '../../src/lb/random.js';
import { client, health } from '../helpers/lb.js';

const ZONE = `$ORIGIN example.test.
$TTL 300
@ SOA ns1 hostmaster 1 7200 900 1209600 60
@ NS ns1
ns1 A 192.0.2.53
dev NS ns1.dev
ns1.dev A 192.0.2.54
both A 192.0.2.99
both TXT "static beside a load balancer"
alias CNAME elsewhere.example.net.
target A 192.0.2.70
target AAAA 2001:db8::70
`;

const LBS = `pools:
  - { name: a, origins: [{ name: a1, address: 192.0.2.1 }, { name: a2, address: 192.0.2.2, weight: 0.5 }] }
  - { name: b, origins: [{ name: b1, address: 198.51.100.1 }, { name: b6, address: "2001:db8::1" }] }
  - { name: h, origins: [{ name: h1, address: target.example.test, flatten_cname: false }] }
  - { name: hf, origins: [{ name: hf1, address: target.example.test }] }
  - { name: off, enabled: false, origins: [{ name: o1, address: 192.0.2.9 }] }
load_balancers:
  - { name: example.test., default_pools: [a, b], fallback_pool: b }
  - { name: rand, steering_policy: random, default_pools: [a, b], fallback_pool: a }
  - { name: cname, default_pools: [h], fallback_pool: h }
  - { name: flat, default_pools: [hf], fallback_pool: hf }
  - { name: nodata, default_pools: [a], fallback_pool: off }
  - { name: v4only, default_pools: [a], fallback_pool: a }
  - { name: "*.wild", default_pools: [b], fallback_pool: b }
  - { name: both, default_pools: [b], fallback_pool: b }
  - { name: alias, default_pools: [a], fallback_pool: a }
  - { name: disabled, enabled: false, default_pools: [a], fallback_pool: a }
`;

const dir = t.testdir({ 'example.test.zone': ZONE, 'example.test.lb.yaml': LBS });
const loaded = loadConfig(dir);

function snapshotWith(h: HealthView, seed: number): Snapshot {
  return { zones: loaded.zones, lb: loaded.lb, health: h, pop: {}, hostnames: { get: () => undefined }, random: mulberry32(seed) };
}

/** A Resolution as comparable data: rrsets by owner, type, TTL and rdata bytes. */
function plain(r: Resolution) {
  const section = (entries: Resolution['answer']) => entries.map((e) => [e.rrset.owner.key, e.rrset.type, e.ttl ?? e.rrset.ttl, e.rrset.rdatas.map((d) => d.wire.toString('hex'))]);
  return { rcode: r.rcode, aa: r.aa, answer: section(r.answer), authority: section(r.authority), additional: section(r.additional), required: r.requiredAdditional, wildcard: r.wildcard?.key };
}

function randomCase(text: string, rand: () => number): string {
  return [...text].map((c) => (rand() < 0.5 ? c.toUpperCase() : c)).join('');
}

t.test('the loader had no problems', async (t) => {
  t.same(loaded.problems.filter((p) => p.severity === 'error'), []);
});

t.test('which load balancers take the direct path', async (t) => {
  const direct = [...directLoadBalancers(snapshotWith(health(), 1)).keys()].sort();
  // The wildcard's own name, asked literally, is an exact match (RFC 4592 §2.2.1); names it
  // synthesizes are not in the map. A disabled load balancer leaves only the zone's data.
  t.same(direct, ['*.wild.example.test.', 'alias.example.test.', 'both.example.test.', 'cname.example.test.', 'example.test.', 'flat.example.test.', 'nodata.example.test.', 'rand.example.test.', 'v4only.example.test.'].sort());
});

t.test('the direct path and the zone walk give the same resolutions', async (t) => {
  const rand = mulberry32(20261124);
  const names = ['example.test', 'rand.example.test', 'cname.example.test', 'flat.example.test', 'nodata.example.test', 'v4only.example.test', 'x.dev.example.test', 'any.wild.example.test', '*.wild.example.test', 'both.example.test', 'alias.example.test', 'disabled.example.test', 'target.example.test'];
  const views = [health(), health({ down: ['a/a1', 'a/a2'] }), health({ down: ['a/a1', 'a/a2', 'b/b1', 'b/b6'] }), health({ down: ['a/a1'] })];
  let compared = 0;
  let mismatches = 0;
  for (let i = 0; i < 2_000; i++) {
    const qname = Name.fromText(`${randomCase(names[i % names.length], rand)}.`);
    const qtype = rand() < 0.5 ? T.A : T.AAAA;
    const view = views[Math.floor(rand() * views.length)];
    const who = client({ hashKey: `192.0.2.${i % 250}` });
    const seed = Math.floor(rand() * 2 ** 31);
    const a = resolve({ snap: snapshotWith(view, seed), client: who, decisions: new Decisions() }, qname, qtype);
    const b = resolveInZones({ snap: snapshotWith(view, seed), client: who, decisions: new Decisions() }, qname, qtype);
    if (JSON.stringify(plain(a)) !== JSON.stringify(plain(b))) {
      mismatches++;
      if (mismatches <= 3) t.same(plain(a), plain(b), `${qname} ${qtype}`);
    }
    compared++;
  }
  t.equal(mismatches, 0, `${compared} queries: the same answer both ways`);
});
