/**
 * A and AAAA at a load balancer's own name are written straight from encoded records
 * (respond.ts answerDirect, steered.ts directRecords). The bytes must be those the general
 * path writes: random queries (random case, header flags, opcodes, classes, EDNS or not, EDNS
 * versions, sizes, DO, ECS of both families, cookies, UDP and TCP) under several health
 * views, to load balancers with IP origins, an address chosen twice, more records than 512
 * octets hold, hostname origins, NODATA, geo steering with ECS and persistence. Each side gets
 * its own seeded random source and pin table, started alike, so both steer alike; a spy on
 * directRecords counts the direct answers, so the test knows the direct path was taken.
 */
import t, { type Test } from 'tap';
import { loadConfig } from '../../src/snapshot/load.js';
import type { Snapshot } from '../../src/snapshot/snapshot.js';
import { ServerCookies, randomCookieSecrets } from '../../src/wire/server-cookies.js';
import type * as RespondModule from '../../src/answer/respond.js';
import * as steered from '../../src/answer/steered.js';
import { Name } from '../../src/wire/name.js';
import { T } from '../../src/wire/types.js';
import { openGeoLocator } from '../../src/geo/locator.js';
import type { HealthView } from '../../src/lb/model.js';
import { PinTable } from '../../src/lb/persistence.js';
import { mulberry32 } from '../../src/lb/random.js';
import { client, health, lb as makeLb, origin, pool } from '../helpers/lb.js';
import { encodeQuery, randomEcs, randomCase, type QuerySpec } from '../helpers/mutate.js';

const ZONE = `$ORIGIN example.test.
$TTL 300
@ SOA ns1 hostmaster 1 7200 900 1209600 60
@ NS ns1
ns1 A 192.0.2.53
dup TXT "a load balancer built in the test, whose pool has an address twice"
target A 192.0.2.70
target AAAA 2001:db8::70
`;

const many = Array.from({ length: 40 }, (_, i) => `{ name: m${i}, address: "2001:db8::${(i + 1).toString(16)}" }`).join(', ');
const LBS = `monitors:
  - { name: tcp, type: tcp, port: 80 }
pools:
  - { name: a, monitor: tcp, origins: [{ name: a1, address: 192.0.2.1 }, { name: a2, address: 192.0.2.2, weight: 0.5 }] }
  - { name: b, monitor: tcp, origins: [{ name: b1, address: 198.51.100.1 }, { name: b6, address: "2001:db8::1" }, { name: b2, address: 198.51.100.2 }] }
  - { name: same, origins: [{ name: s1, address: 203.0.113.5 }, { name: s2, address: 203.0.113.6 }] }
  - { name: many, origins: [${many}] }
  - { name: h, origins: [{ name: h1, address: target.example.test, flatten_cname: false }] }
  - { name: hf, origins: [{ name: hf1, address: target.example.test }, { name: hf2, address: 192.0.2.3 }] }
load_balancers:
  - { name: example.test., default_pools: [a, b], fallback_pool: b, ttl: 45 }
  - { name: rand, steering_policy: random, default_pools: [a, b, same], fallback_pool: a }
  - { name: same, default_pools: [same], fallback_pool: same }
  - { name: many, default_pools: [many], fallback_pool: many }
  - { name: cname, default_pools: [h], fallback_pool: h }
  - { name: flat, default_pools: [hf], fallback_pool: hf }
  - { name: v4only, default_pools: [a], fallback_pool: a }
  - { name: geo, steering_policy: geo, default_pools: [a, b], fallback_pool: b, region_pools: { WEU: [b, a], ENAM: [a] }, country_pools: { JP: [same] }, location_strategy: { prefer_ecs: always, mode: resolver_ip } }
  - { name: sticky, steering_policy: random, default_pools: [a, b, same], fallback_pool: a, persistence: { ttl: 60, key: ecs } }
`;

const NAMES = ['example.test', 'rand.example.test', 'same.example.test', 'many.example.test', 'cname.example.test', 'flat.example.test', 'v4only.example.test', 'geo.example.test', 'sticky.example.test', 'dup.example.test'];

const dir = t.testdir({ 'example.test.zone': ZONE, 'example.test.lb.yaml': LBS });
const loaded = loadConfig(dir);
// The loader refuses an address twice in a pool; a pool built by hand can have it, and both
// ways must still answer it once.
const twice = pool('twice', { monitored: false, origins: [origin('t1', '203.0.113.9'), origin('t2', '203.0.113.9'), origin('t3', '203.0.113.10')] });
const dupLb = { ...makeLb({ name: 'dup.example.test.', default_pools: [twice] }), zone: Name.fromText('example.test.') };
const lbConfig = { ...loaded.lb, loadBalancers: new Map([...loaded.lb.loadBalancers, [dupLb.name.key, dupLb]]) };

/** respond.js with directRecords counted: how many queries the direct path answered. */
async function spied(t: Test): Promise<{ mod: typeof RespondModule; direct: () => number }> {
  let direct = 0;
  const mod = await t.mockImport<typeof RespondModule>('../../src/answer/respond.js', {
    '../../src/answer/steered.js': {
      ...steered,
      directRecords: (...args: Parameters<typeof steered.directRecords>) => {
        const r = steered.directRecords(...args);
        if (r !== undefined) direct++;
        return r;
      },
    },
  });
  return { mod, direct: () => direct };
}

t.test('the loader had no problems', async (t) => {
  t.same(loaded.problems.filter((p) => p.severity === 'error'), []);
});

t.test('encoded records: IP origins of the family, none for NODATA', async (t) => {
  const snap: Snapshot = { zones: loaded.zones, lb: lbConfig, health: health(), pop: {}, hostnames: { get: () => undefined }, random: mulberry32(1) };
  const records = (name: string, qtype: number, view: HealthView = health()) => {
    const lb = lbConfig.loadBalancers.get(Name.fromText(`${name}.`).key)!;
    return steered.directRecords({ snap: { ...snap, health: view }, client: client(), decisions: new steered.Decisions() }, lb, qtype)?.map((r) => r.toString('hex'));
  };
  // Pointer to offset 12, type, class IN, TTL 45, RDLENGTH 4, 192.0.2.1 / 192.0.2.2.
  const apex = records('example.test', T.A);
  t.ok(apex && apex.length === 1 && ['c00c000100010000002d0004c0000201', 'c00c000100010000002d0004c0000202'].includes(apex[0]), `one of pool a's addresses: ${apex}`);
  t.same(records('same.example.test', T.A), ['c00c00010001000000' + '1e0004cb007105', 'c00c00010001000000' + '1e0004cb007106'], 'both addresses (default TTL 30)');
  t.equal(records('many.example.test', T.AAAA)?.length, 40);
  t.equal(records('cname.example.test', T.A), undefined, 'a hostname origin goes the general way');
  t.equal(records('v4only.example.test', T.AAAA), undefined, 'no address of the family: NODATA, the general way');
  t.same(records('example.test', T.A, health({ down: ['a/a1', 'a/a2'] }))?.length, 2, 'pool b: its two IPv4 addresses');
  t.same(records('dup.example.test', T.A), ['c00c00010001000000' + '1e0004cb007109', 'c00c00010001000000' + '1e0004cb00710a'], 'an address chosen twice answers once');
});

t.test('direct answers are the bytes the general path writes', async (t) => {
  const { mod, direct } = await spied(t);
  const loc = await openGeoLocator({});
  t.same(loc.problems, []);
  const secrets = randomCookieSecrets();
  const views = [health(), health({ down: ['a/a1'] }), health({ down: ['a/a1', 'a/a2'] }), health({ down: ['a/a1', 'a/a2', 'b/b1', 'b/b6', 'b/b2'] })];
  const side = () => ({ random: mulberry32(99), persistence: new PinTable({ now: () => 1_000_000 }) });
  const fast = side();
  const general = side();
  const snap = (view: HealthView, s: ReturnType<typeof side>): Snapshot => ({
    zones: loaded.zones, lb: lbConfig, health: view, pop: {}, hostnames: { get: () => undefined }, geo: loc.locator,
    cookies: new ServerCookies(secrets, () => 1_700_000_000), ...s,
  });
  const rand = mulberry32(20261124);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)];
  let compared = 0;
  for (let i = 0; i < 5_000; i++) {
    // RD, CD, AD and Z bits at random; now and then opcode STATUS (NOTIMP).
    const flags = (rand() < 0.7 ? 0x0100 : 0) | (rand() < 0.2 ? 0x0010 : 0) | (rand() < 0.2 ? 0x0020 : 0) | (rand() < 0.05 ? 0x0040 : 0) | (rand() < 0.03 ? 0x1000 : 0);
    const qclass = rand() < 0.85 ? 1 : pick([3, 254, 255]); // CH, NONE, ANY
    const spec: QuerySpec = { id: i & 0xffff, flags, labels: randomCase(rand, pick(NAMES)), qtype: rand() < 0.5 ? T.A : T.AAAA, qclass };
    if (rand() < 0.8) {
      const options: Buffer[] = [];
      if (rand() < 0.7) options.push(rand() < 0.8 ? randomEcs(rand) : randomV4Ecs(rand));
      if (rand() < 0.2) options.push(Buffer.from([0, 10, 0, 8, ...Array.from({ length: 8 }, () => Math.floor(rand() * 256))]));
      spec.edns = { udpSize: pick([512, 1232, 4096, 600]), version: rand() < 0.05 ? 1 : 0, dnssecOk: rand() < 0.3, options };
    }
    const msg = encodeQuery(spec);
    const view = pick(views);
    const tcp = rand() < 0.1;
    const address = pick(['192.0.2.1', '2001:db8::1', '81.2.69.160', '133.11.0.1']);
    const a = mod.respond(snap(view, fast), msg, tcp, address);
    const b = mod.respondInGeneral(snap(view, general), msg, tcp, address);
    if (!a.response || !b.response || !a.response.equals(b.response) || a.truncated !== b.truncated || a.rcode !== b.rcode) {
      t.fail(`${msg.toString('hex')} (${tcp ? 'tcp' : 'udp'} from ${address}): ${a.response?.toString('hex')} != ${b.response?.toString('hex')}`);
      return;
    }
    t.same(decided(a.decisions), decided(b.decisions));
    compared++;
  }
  t.ok(direct() > 1_500, `${compared} responses identical, ${direct()} of them answered directly`);
});

/** The load balancers and pools a response was decided with, in order. */
function decided(ds: steered.Decisions | undefined): string[] {
  return Array.from({ length: ds?.size ?? 0 }, (_, i) => `${ds!.loadBalancerAt(i).name.key} ${ds!.decisionAt(i).pool?.name}`);
}

/** ECS from networks the shipped database places in several countries and regions. */
function randomV4Ecs(rand: () => number): Buffer {
  const nets = [[81, 2, 69], [133, 11, 0], [8, 8, 8], [185, 1, 74], [1, 1, 1], [203, 0, 113]];
  const n = nets[Math.floor(rand() * nets.length)];
  return Buffer.from([0, 8, 0, 7, 0, 1, 24, 0, ...n]);
}
