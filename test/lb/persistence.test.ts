/**
 * DNS persistence: key derivation (each kind, masks for IPv4, IPv6 and IPv4-mapped IPv6, ECS
 * source 0), stability, movement on failure and return after the ttl, expiry on an injected
 * clock, agreement between independent tables, weights over many keys, pins surviving origin
 * set changes, and the memory bound with a million keys.
 */
import t from 'tap';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { ClientInfo, HealthView, LoadBalancer, Persistence, Pool } from '../../src/lb/model.js';
import { maskAddress } from '../../src/wire/ip.js';
import { ipv4KeyNumber, ipv4NetworkNumber, persistenceKey, persistentDecision, PinTable } from '../../src/lb/persistence.js';
import { type AsnLookup } from '../../src/geo/asn.js';
import type { Decision } from '../../src/lb/steer.js';
import { client, health, lb, origin, pool, poolsDown } from '../helpers/lb.js';

const P: Persistence = { ttl: 3600, key: 'ecs', mask_v4: 24, mask_v6: 56 };
const withKey = (key: Persistence['key'], over: Partial<Persistence> = {}): Persistence => ({ ...P, key, ...over });

/**
 * Dotted-quad text as an unsigned 32-bit number, as an ECS option carries it; -1 for IPv6 and
 * for text no option could carry (some tests use keys such as 10.1.300.0 as plain labels).
 */
function v4Number(address: string): number {
  const octets = address.split('.').map(Number);
  if (address.includes(':') || octets.length !== 4 || octets.some((o) => !(o >= 0 && o <= 255))) return -1;
  return octets.reduce((n, o) => n * 256 + o, 0);
}

/** A client seen from resolver `resolver`, with an ECS subnet when given. */
function from(resolver: string, subnet?: string): ClientInfo {
  if (subnet === undefined) return client({ hashKey: resolver, resolverAddress: resolver });
  const [address, prefix] = subnet.split('/');
  return client({ hashKey: subnet, resolverAddress: resolver, subnet: { address, sourcePrefix: Number(prefix), v4: v4Number(address) } });
}

t.test('keys', async (t) => {
  t.test('ecs: the subnet when the query has one, else the resolver masked', async (t) => {
    t.same(persistenceKey(P, from('192.0.2.53', '198.51.100.0/24')), { key: '198.51.100.0/24', fromEcs: true });
    t.same(persistenceKey(P, from('192.0.2.53', '2001:db8:0:0:0:0:0:0/32')), { key: '2001:db8:0:0:0:0:0:0/32', fromEcs: true });
    t.same(persistenceKey(P, from('192.0.2.53')), { key: '192.0.2.0/24', fromEcs: false }, 'no ECS');
    // locateClient leaves `subnet` out for source 0; a subnet of prefix 0 is treated the same.
    t.same(persistenceKey(P, client({ hashKey: '192.0.2.53', resolverAddress: '192.0.2.53', subnet: { address: '0.0.0.0', sourcePrefix: 0, v4: 0 } })), { key: '192.0.2.0/24', fromEcs: false }, 'ECS source 0 falls back');
  });
  t.test('resolver: the masked resolver address, ECS ignored', async (t) => {
    t.same(persistenceKey(withKey('resolver'), from('192.0.2.53', '198.51.100.0/24')), { key: '192.0.2.0/24', fromEcs: false });
    t.same(persistenceKey(withKey('resolver', { mask_v4: 32 }), from('192.0.2.53')), { key: '192.0.2.53/32', fromEcs: false });
    t.same(persistenceKey(withKey('resolver'), from('2001:db8:1234:56ff::53')), { key: '2001:db8:1234:5600::/56', fromEcs: false });
    t.same(persistenceKey(withKey('resolver'), from('::ffff:192.0.2.53')), { key: '192.0.2.0/24', fromEcs: false }, 'IPv4-mapped');
  });
  t.test('resolver_network: the ASN when the database knows the resolver, else the masked address', async (t) => {
    const asked: string[] = [];
    const asn: AsnLookup = { lookup: (ip) => (asked.push(ip), ip.startsWith('192.0.2.') ? 64500 : undefined) };
    const p = withKey('resolver_network');
    t.same(persistenceKey(p, from('192.0.2.53'), asn), { key: 'AS64500', fromEcs: false });
    t.same(persistenceKey(p, from('192.0.2.200'), asn), { key: 'AS64500', fromEcs: false }, 'another egress address of the same network');
    t.same(persistenceKey(p, from('::ffff:192.0.2.9'), asn), { key: 'AS64500', fromEcs: false }, 'mapped addresses are looked up as IPv4');
    t.same(persistenceKey(p, from('203.0.113.5', '198.51.100.0/24'), asn), { key: '203.0.113.0/24', fromEcs: false }, 'not in the database');
    t.same(persistenceKey(p, from('203.0.113.5')), { key: '203.0.113.0/24', fromEcs: false }, 'no database');
    t.same(asked, ['192.0.2.53', '192.0.2.200', '192.0.2.9', '203.0.113.5']);
  });
  t.test('masks', async (t) => {
    const cases: [string, number, number, string][] = [
      ['192.0.2.255', 24, 56, '192.0.2.0/24'],
      ['192.0.2.255', 20, 56, '192.0.0.0/20'],
      ['192.0.2.255', 25, 56, '192.0.2.128/25'],
      ['192.0.2.255', 32, 56, '192.0.2.255/32'],
      ['192.0.2.255', 0, 56, '0.0.0.0/0'],
      ['::ffff:192.0.2.255', 24, 56, '192.0.2.0/24'],
      ['::FFFF:192.0.2.255', 16, 56, '192.0.0.0/16'],
      ['2001:db8:1234:56ff:1:2:3:4', 24, 56, '2001:db8:1234:5600::/56'],
      ['2001:DB8:1234:56FF::1', 24, 48, '2001:db8:1234::/48'],
      ['2001:db8:1234:56ff::1', 24, 60, '2001:db8:1234:56f0::/60'],
      ['2001:db8::1', 24, 128, '2001:db8::1/128'],
      ['2001:db8::1', 24, 0, '::/0'],
      ['fe80::1%eth0', 24, 64, 'fe80::/64'],
      ['2001:0:0:1:0:0:0:1', 24, 128, '2001:0:0:1::1/128'],
      ['::1', 24, 128, '::1/128'],
      ['64:ff9b::192.0.2.1', 24, 128, '64:ff9b::c000:201/128'],
      ['not an address', 24, 56, 'not an address'],
    ];
    for (const [ip, v4, v6, want] of cases) t.equal(maskAddress(ip, v4, v6), want, `${ip} /${v4} /${v6}`);
  });
});

// Two pools with unequal origin weights, random steering 3:1 between them.
function weightedLb(extra: { east?: Pool } = {}): LoadBalancer {
  const east = extra.east ?? pool('east', { origins: [origin('e1', '192.0.2.1', { weight: 1 }), origin('e2', '192.0.2.2', { weight: 0.5 }), origin('e3', '192.0.2.3', { weight: 0.25 })] });
  const west = pool('west', { origins: [origin('w1', '198.51.100.1', { weight: 1 }), origin('w2', '198.51.100.2', { weight: 0.2 })] });
  const fb = pool('fb', { monitored: false, origins: [origin('f1', '203.0.113.1')] });
  return { ...lb({ name: 'app.example.com.', policy: 'random', default_pools: [east, west], fallback_pool: fb, pool_weights: { east: 0.75, west: 0.25 } }), persistence: P };
}

/** A clock the test moves, in milliseconds. */
function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

const answer = (d: Decision) => `${d.pool?.name}:${d.origins.map((o) => o.name).join(',')}`;

function ask(l: LoadBalancer, table: PinTable, h: HealthView, c: ClientInfo, asn?: AsnLookup): Decision {
  return persistentDecision(l, l.persistence!, table, h, c, asn);
}

t.test('the same key gets the same pool and origins, query after query', async (t) => {
  const l = weightedLb();
  const table = new PinTable({ now: clock().now });
  const h = health();
  for (const subnet of ['198.51.100.0/24', '203.0.113.0/24', '192.0.2.0/25']) {
    const first = ask(l, table, h, from('192.0.2.53', subnet));
    t.equal(first.persistence?.outcome, 'pinned');
    t.equal(first.origins.length, 1, 'one origin: weights differ');
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const d = ask(l, table, h, from(`10.0.${i % 7}.1`, subnet));
      seen.add(answer(d));
      t.equal(d.persistence?.outcome, 'hit');
    }
    t.same([...seen], [answer(first)], `${subnet}: one answer`);
  }
  t.equal(table.size, 3);
  t.same({ hits: table.hits, misses: table.misses, repins: table.repins }, { hits: 600, misses: 3, repins: 0 });
});

t.test('ECS scope: the decision depends on the subnet only when the key is the subnet', async (t) => {
  const table = new PinTable({ now: clock().now });
  const l = weightedLb();
  for (const d of [ask(l, table, health(), from('192.0.2.53', '198.51.100.0/24')), ask(l, table, health(), from('192.0.2.53', '198.51.100.0/24'))]) {
    t.same([d.clientDependent, d.clientHashed, d.persistence?.fromEcs], [true, true, true]);
  }
  const byResolver = { ...l, persistence: withKey('resolver') };
  for (let i = 0; i < 2; i++) {
    const d = ask(byResolver, table, health(), from('192.0.2.53', '198.51.100.0/24'));
    t.same([d.clientDependent, d.clientHashed, d.persistence?.fromEcs], [false, false, false]);
  }
});

t.test('movement on failure, and return only after the ttl', async (t) => {
  const l = weightedLb();
  const c = clock();
  const table = new PinTable({ now: c.now });
  const who = from('192.0.2.53', '198.51.100.0/24');
  const first = ask(l, table, health(), who);
  const pinnedPool = first.pool!.name;
  const pinnedOrigin = first.origins[0].name;

  // The pinned origin goes down: the client moves and is re-pinned.
  const down = health({ down: [`${pinnedPool}/${pinnedOrigin}`] });
  const moved = ask(l, table, down, who);
  t.equal(moved.persistence?.outcome, 'repinned');
  t.not(moved.origins[0].name, pinnedOrigin, 'moved off the failed origin');
  t.equal(ask(l, table, down, who).persistence?.outcome, 'hit', 'the new pin holds');

  // The origin comes back: the client stays on its new pin until the ttl ends...
  c.t += 3599_000;
  const stays = ask(l, table, health(), who);
  t.equal(answer(stays), answer(moved), 'stays on the new pin');
  t.equal(stays.persistence?.outcome, 'hit');
  // ...then steering runs again and, being deterministic, gives the original choice back.
  c.t += 1000;
  const back = ask(l, table, health(), who);
  t.equal(back.persistence?.outcome, 'pinned');
  t.equal(answer(back), answer(first), 'back where it started');
  t.same({ hits: table.hits, misses: table.misses, repins: table.repins }, { hits: 2, misses: 2, repins: 1 });
});

t.test('a pool that becomes disabled or critical moves its pins', async (t) => {
  const l = weightedLb();
  const table = new PinTable({ now: clock().now });
  // Find a key pinned to east.
  let who: ClientInfo | undefined;
  for (let i = 0; i < 100 && !who; i++) {
    const c = from('192.0.2.53', `10.${i}.0.0/16`);
    if (ask(l, table, health(), c).pool?.name === 'east') who = c;
  }
  t.ok(who, 'some key lands on east');
  const east = l.default_pools[0];
  const critical = ask(l, table, health({ down: poolsDown(east) }), who!);
  t.equal(critical.pool?.name, 'west', 'east critical: moved to west');
  t.equal(critical.persistence?.outcome, 'repinned');

  const disabled = { ...l, default_pools: [{ ...east, enabled: false }, l.default_pools[1]] };
  t.equal(ask(disabled, table, health(), who!).pool?.name, 'west', 'still west (pinned there)');
});

t.test('a pin\'s answer is kept for its load balancer and health view, and checked again under new ones', async (t) => {
  const l = weightedLb();
  const table = new PinTable({ now: clock().now });
  const h = health();
  const who = from('192.0.2.53', '198.51.100.0/24');
  const first = ask(l, table, h, who);
  const second = ask(l, table, h, who);
  t.equal(second.persistence?.outcome, 'hit');
  t.equal(ask(l, table, h, who), second, 'the same decision again, not rebuilt');
  t.equal(table.hits, 2, 'still counted as a hit');
  const pinned = l.default_pools.find((p) => p.name === first.pool?.name)!;
  const moved = ask(l, table, health({ down: poolsDown(pinned) }), who);
  t.not(moved.pool?.name, pinned.name, 'a new view with the pinned pool down: moved');
  t.equal(moved.persistence?.outcome, 'repinned');
  const otherLb = { ...l };
  t.not(ask(otherLb, table, h, who), second, 'another load balancer object (a reload) is checked afresh');
});

t.test('fallback answers are not pinned', async (t) => {
  const l = weightedLb();
  const table = new PinTable({ now: clock().now });
  const allDown = health({ down: poolsDown(...l.default_pools) });
  const d = ask(l, table, allDown, from('192.0.2.53'));
  t.equal(d.fallback, true);
  t.equal(d.persistence?.outcome, 'unpinned');
  t.equal(table.size, 0);
  t.equal(ask(l, table, health(), from('192.0.2.53')).fallback, false, 'back to the candidates as soon as they recover');
});

t.test('expiry on the injected clock', async (t) => {
  const l = { ...weightedLb(), persistence: { ...P, ttl: 60 } };
  const c = clock();
  const table = new PinTable({ now: c.now });
  const who = from('192.0.2.53', '198.51.100.0/24');
  ask(l, table, health(), who);
  c.t += 59_999;
  t.equal(ask(l, table, health(), who).persistence?.outcome, 'hit', 'live just before the ttl');
  c.t += 1;
  t.equal(table.get(l.name.key, '198.51.100.0/24'), undefined, 'expired at exactly ttl');
  t.equal(table.size, 0, 'the expired pin is deleted');
  t.equal(ask(l, table, health(), who).persistence?.outcome, 'pinned');
});

t.test('two independent instances agree without sharing state', async (t) => {
  // Separate objects, as two processes loading the same configuration would have.
  const a = weightedLb();
  const b = weightedLb();
  const ta = new PinTable({ now: clock(5).now });
  const tb = new PinTable({ now: clock(9_999_999).now });
  const down = health({ down: ['east/e1'] });
  let differ = 0;
  const answers = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const who = from(`192.0.2.${i % 250}`, `10.${i >> 8}.${i & 0xff}.0/24`);
    const x = answer(ask(a, ta, health(), who));
    // Instance b answers its first query for the key later, after instance a answered many others.
    if (x !== answer(ask(b, tb, health(), who))) differ++;
    answers.add(x);
    const xd = answer(ask(a, ta, down, who));
    if (xd !== answer(ask(b, tb, down, who))) differ++;
  }
  t.equal(differ, 0, 'identical answers, healthy and with an origin down');
  t.ok(answers.size >= 5, `the keys spread over ${answers.size} answers`);
});

t.test('weights hold over many keys (20,000 keys)', async (t) => {
  const l = weightedLb();
  const table = new PinTable({ now: clock().now });
  const counts = new Map<string, number>();
  const N = 20_000;
  for (let i = 0; i < N; i++) {
    const d = ask(l, table, health(), from('192.0.2.53', `10.${(i >> 8) & 0xff}.${i & 0xff}.0/24`));
    const k = answer(d);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  // Pool east 3/4, west 1/4; inside east 1 : 0.5 : 0.25, inside west 1 : 0.2.
  const want: Record<string, number> = {
    'east:e1': 0.75 * (1 / 1.75), 'east:e2': 0.75 * (0.5 / 1.75), 'east:e3': 0.75 * (0.25 / 1.75),
    'west:w1': 0.25 * (1 / 1.2), 'west:w2': 0.25 * (0.2 / 1.2),
  };
  for (const [k, share] of Object.entries(want)) {
    const got = (counts.get(k) ?? 0) / N;
    t.ok(Math.abs(got - share) < 0.015, `${k}: ${got.toFixed(4)} ~ ${share.toFixed(4)}`);
  }
});

t.test('a pin survives a change of the origin set until its ttl ends', async (t) => {
  const l = weightedLb();
  const c = clock();
  const table = new PinTable({ now: c.now });
  const keys = Array.from({ length: 500 }, (_, i) => from('192.0.2.53', `10.1.${i}.0/24`));
  const before = keys.map((k) => answer(ask(l, table, health(), k)));
  // A heavy new origin that would win most rendezvous draws.
  const east = l.default_pools[0];
  const grown = weightedLb({ east: { ...east, origins: [...east.origins, origin('e4', '192.0.2.4', { weight: 1 })] } });
  const after = keys.map((k) => answer(ask(grown, table, health(), k)));
  t.same(after, before, 'every pin holds');
  const fresh = Array.from({ length: 500 }, (_, i) => answer(ask(grown, table, health(), from('192.0.2.53', `10.2.${i}.0/24`))));
  t.ok(fresh.includes('east:e4'), 'new keys do reach the new origin');
  c.t += 3600_000;
  const later = keys.map((k) => answer(ask(grown, table, health(), k)));
  t.ok(later.some((a) => a === 'east:e4'), 'after the ttl, some old keys move to it');
  // Rendezvous: only moves to the new origin, never between old ones.
  t.ok(later.every((a, i) => a === before[i] || a === 'east:e4'), 'keys that move go to the new origin only');
});

t.test('the table is bounded: a million keys into 100,000 entries', async (t) => {
  const table = new PinTable({ maxEntries: 100_000, now: () => 0 });
  const origins = ['e1'];
  const insert = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      table.set('app.example.com.', `10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}/32`, { pool: 'east', origins, poolList: 'default_pools', expires: 1 });
    }
  };
  const gc = exposeGc();
  const heap = () => (gc(), process.memoryUsage().heapUsed / 2 ** 20);
  const empty = heap();
  insert(0, 200_000);
  const full = heap();
  insert(200_000, 1_000_000);
  const after = heap();
  t.equal(table.size, 100_000, 'size stays at the bound');
  t.ok(full - empty < 64, `100,000 pins hold ${(full - empty).toFixed(1)} MB (bound 64 MB)`);
  t.ok(after - full < 8, `800,000 more keys add ${(after - full).toFixed(1)} MB (bound 8 MB)`);
  t.ok(table.get('app.example.com.', '10.15.66.63/32'), 'the newest key is kept');
  t.equal(table.get('app.example.com.', '10.0.0.0/32'), undefined, 'the oldest key was evicted');
  t.throws(() => new PinTable({ maxEntries: 0 }), RangeError);
});

t.test('a key read as a number is the number its text is stored by, and finds the same pin', async (t) => {
  let x = 777;
  const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  const octets = (n: number) => `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
  const asn: AsnLookup = { lookup: (ip) => (ip.startsWith('192.') ? 64500 : undefined) };
  let numbered = 0;
  for (let i = 0; i < 5_000; i++) {
    const prefix = next() % 33;
    const net = prefix === 0 ? 0 : (next() & ((0xffffffff << (32 - prefix)) >>> 0)) >>> 0;
    const resolver = [octets(next()), '::ffff:' + octets(next()), '2001:db8::53', '01.2.3.4', 'not an address', '192.0.2.53'][next() % 6];
    const subnet = next() % 3 === 0 ? undefined : next() % 4 === 0 ? { address: '2001:db8::', sourcePrefix: 32, v4: -1 } : { address: octets(net), sourcePrefix: prefix, v4: net };
    const p = withKey((['ecs', 'resolver', 'resolver_network'] as const)[next() % 3], { mask_v4: next() % 33 });
    const who = client({ hashKey: resolver, resolverAddress: resolver, subnet });
    const withAsn = next() % 2 === 0 ? asn : undefined;
    const expected = ipv4NetworkNumber(persistenceKey(p, who, withAsn).key);
    const got = ipv4KeyNumber(p, who, withAsn);
    // The number may be missing where the text has one (an IPv4-mapped resolver): then the
    // text path finds the pin. It must never be a different number.
    if (got !== -1 && got !== expected) t.fail(`${JSON.stringify({ p, resolver, subnet })}: ${got} != ${expected}`);
    if (got !== -1) numbered++;
  }
  t.ok(numbered > 1_000, `${numbered} of 5,000 keys read as numbers, each equal to its text's`);
  const table = new PinTable({ now: () => 0 });
  table.set('a.example.com.', '198.51.100.0/24', { pool: 'a', origins: ['e1'], poolList: 'default_pools', expires: 1 });
  t.equal(table.getIpv4('a.example.com.', ipv4NetworkNumber('198.51.100.0/24'))?.pool, 'a', 'the pin set by text, found by number');
  t.equal(table.getIpv4('b.example.com.', ipv4NetworkNumber('198.51.100.0/24')), undefined, 'under its own load balancer only');
  // Past 2^15 load balancer names, pins are keyed by text; the number still finds them.
  for (let i = 0; i < 2 ** 15; i++) table.get(`lb${i}.example.com.`, '192.0.2.0/24');
  table.set('late.example.com.', '198.51.100.0/24', { pool: 'late', origins: ['e1'], poolList: 'default_pools', expires: 1 });
  t.equal(table.getIpv4('late.example.com.', ipv4NetworkNumber('198.51.100.0/24'))?.pool, 'late', 'a load balancer keyed by text: found by number too');
});

t.test('IPv4 network keys are stored by number: one number per network, other keys as text', async (t) => {
  const seen = new Map<number, string>();
  let outOfRange = 0;
  let x = 12345;
  for (let i = 0; i < 20_000; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const prefix = i % 33;
    const key = `${x >>> 24}.${(x >>> 16) & 0xff}.${(x >>> 8) & 0xff}.${x & 0xff}/${prefix}`;
    const n = ipv4NetworkNumber(key);
    if (!(n >= 0 && n < 2 ** 38)) outOfRange++;
    const other = seen.get(n);
    if (other !== undefined && other !== key) t.fail(`${key} and ${other} share ${n}`);
    seen.set(n, key);
  }
  t.equal(outOfRange, 0, '20,000 random networks: each a number below 2^38, and no two alike');
  t.equal(ipv4NetworkNumber('0.0.0.0/0'), 0);
  t.equal(ipv4NetworkNumber('255.255.255.255/32'), (2 ** 32 - 1) * 64 + 32);
  for (const text of ['', '1.2.3.4', '1.2.3/24', '1.2.3.4.5/24', '01.2.3.4/24', '1.2.3.4/033', '1.2.3.4/33', '256.1.1.1/8', '1.2.3.4/', '/24', '1..3.4/24', '::1/64', 'AS64500', '1.2.3.4/24 ']) {
    t.equal(ipv4NetworkNumber(text), -1, JSON.stringify(text));
  }

  const table = new PinTable({ now: () => 0 });
  const pin = (pool: string) => ({ pool, origins: ['e1'], poolList: 'default_pools' as const, expires: 1 });
  table.set('a.example.com.', '198.51.100.0/24', pin('a'));
  table.set('b.example.com.', '198.51.100.0/24', pin('b'));
  table.set('a.example.com.', '2001:db8::/56', pin('a6'));
  table.set('a.example.com.', 'AS64500', pin('as'));
  t.equal(table.get('a.example.com.', '198.51.100.0/24')?.pool, 'a');
  t.equal(table.get('b.example.com.', '198.51.100.0/24')?.pool, 'b', 'each load balancer has its own pins');
  t.equal(table.get('a.example.com.', '198.51.100.0/25'), undefined, 'the prefix length is part of the key');
  t.equal(table.get('a.example.com.', '2001:db8::/56')?.pool, 'a6');
  t.equal(table.get('a.example.com.', 'AS64500')?.pool, 'as');
  table.delete('a.example.com.', '198.51.100.0/24');
  t.equal(table.get('a.example.com.', '198.51.100.0/24'), undefined, 'deleted');
  t.equal(table.size, 3);
});

/** A full garbage collection, so heap numbers count what is retained, not what awaits collection. */
function exposeGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}
