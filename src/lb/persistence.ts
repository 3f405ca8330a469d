/**
 * DNS persistence (issue 5, beyond Cloudflare's recipes in reference §1.3): the same client key
 * gets the same pool and origins for `persistence.ttl` seconds while they stay usable, and is
 * moved and re-pinned when they do not. Three parts:
 * - `persistenceKey`: who the client is (its ECS subnet, its resolver's masked address, or its
 *   resolver's network by ASN). Pure.
 * - `PinTable`: the pins, an LRU bounded in entries, expiring by each pin's own time. State,
 *   like a cache: it lives beside the immutable snapshot and survives health swaps.
 * - `persistentDecision`: a live pin answers; otherwise steering runs deterministically for the
 *   key (random source seeded from the key, origins by weighted rendezvous on the key), so that
 *   instances that share configuration and health agree without sharing state, and the result
 *   is pinned.
 *
 * Decisions taken where the issue is silent:
 * - The key is a network in "address/prefix" form (`ecs` uses the subnet as received, the
 *   resolver's address is masked to mask_v4/mask_v6; IPv4-mapped IPv6 is masked as IPv4), or
 *   "AS<number>" for resolver_network with an ASN database that knows the resolver.
 * - Fallback answers and NODATA are never pinned: they are emergencies, and a client should
 *   return to the candidate pools as soon as one recovers. A pin that is no longer usable is
 *   then deleted.
 * - A pin is checked against health only (pool enabled and not critical, every pinned origin
 *   enabled, weight > 0 and healthy if monitored); load shedding and pool weights are not
 *   re-evaluated while it lasts. Pins are stored by names, so they survive configuration
 *   reloads that keep the pool and origin names.
 * - Counters: each lookup counts once, as a hit (a pin answered), a miss (no live pin) or a
 *   repin (a live pin was unusable and was replaced or dropped).
 */
import { LRUCache } from 'lru-cache';
import type { AsnLookup } from '../geo/asn.js';
import { dottedDecimals, ipv4Number, ipv4Text, maskAddress, unmapped } from '../wire/ip.js';
import type { ClientInfo, HealthView, LoadBalancer, Origin, Persistence, Pool } from './model.js';
import { stableHash2 } from './hash.js';
import { mulberry32 } from './random.js';
import { poolHealth, steer, type Decision, type PoolListName } from './steer.js';

export interface PersistenceKey {
  readonly key: string;
  /** The key is the query's ECS subnet: the ECS scope of the answer is the source prefix. */
  readonly fromEcs: boolean;
}

/**
 * The persistence key of a client. `ecs`: the ECS subnet when the query had one with source
 * prefix > 0, else the resolver's address masked. `resolver`: the resolver's address masked.
 * `resolver_network`: "AS<n>" when an ASN database knows the resolver, else its masked address.
 */
export function persistenceKey(p: Persistence, client: ClientInfo, asn?: AsnLookup): PersistenceKey {
  const subnet = client.subnet;
  if (keyedOnEcs(p, client)) return { key: `${subnet!.address}/${subnet!.sourcePrefix}`, fromEcs: true };
  const resolver = client.resolverAddress ?? client.hashKey;
  if (p.key === 'resolver_network' && asn !== undefined) {
    const n = asn.lookup(unmapped(resolver));
    if (n !== undefined) return { key: `AS${n}`, fromEcs: false };
  }
  return { key: maskAddress(resolver, p.mask_v4, p.mask_v6), fromEcs: false };
}

/** The key is the query's ECS subnet (key `ecs` and a subnet with a source prefix > 0). */
function keyedOnEcs(p: Persistence, client: ClientInfo): boolean {
  return p.key === 'ecs' && client.subnet !== undefined && client.subnet.sourcePrefix > 0;
}

/** One pinned choice, by names so that it outlives configuration reloads. */
export interface Pin {
  readonly pool: string;
  readonly origins: readonly string[];
  readonly poolList: PoolListName;
  /** When the pin ends, on the table's clock (milliseconds). */
  readonly expires: number;
  /**
   * The answer this pin gave last, and under which load balancer object and health view: it
   * is given again while neither has changed, without checking the pin again (a reload or a
   * health change makes new objects). Kept by persistentDecision; no one else writes it.
   */
  held?: HeldAnswer;
}

interface HeldAnswer {
  readonly lb: LoadBalancer;
  readonly health: HealthView;
  readonly fromEcs: boolean;
  readonly decision: Decision;
}

export interface PinTableOptions {
  /** Entries kept at most (the least recently used go first); default 100,000. */
  readonly maxEntries?: number;
  /** Milliseconds; default Date.now. Tests pass their own. */
  readonly now?: () => number;
}

export const DEFAULT_PERSISTENCE_MAX_ENTRIES = 100_000;

/**
 * Pins per (load balancer, key), bounded in entries and so in memory. Entries are keyed by a
 * number where one fits: a fresh string key costs a hash of its text on every lookup, a number
 * does not, and IPv4 networks are by far the most common keys.
 */
export class PinTable {
  readonly maxEntries: number;
  readonly now: () => number;
  hits = 0;
  misses = 0;
  repins = 0;
  private readonly pins: LRUCache<string | number, Pin>;
  /** A small number per load balancer name ever pinned (names are few; reloads keep them). */
  private readonly lbIds = new Map<string, number>();

  constructor(opts: PinTableOptions = {}) {
    const max = opts.maxEntries ?? DEFAULT_PERSISTENCE_MAX_ENTRIES;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxEntries must be a positive integer, got ${max}`);
    this.maxEntries = max;
    this.now = opts.now ?? Date.now;
    this.pins = new LRUCache<string | number, Pin>({ max });
  }

  get size(): number {
    return this.pins.size;
  }

  /** The live pin of `key` under load balancer `lb` (its name's key); an expired one is deleted. */
  get(lb: string, key: string): Pin | undefined {
    return this.live(this.slot(lb, key));
  }

  /** get() for a key given as its ipv4NetworkNumber: the same pin, found without the key's text. */
  getIpv4(lb: string, network: number): Pin | undefined {
    const n = this.lbNumber(lb);
    return this.live(n < MAX_NUMERIC_LB ? n * 2 ** 38 + network : this.slot(lb, networkText(network)));
  }

  set(lb: string, key: string, pin: Pin): void {
    this.pins.set(this.slot(lb, key), pin);
  }

  delete(lb: string, key: string): void {
    this.pins.delete(this.slot(lb, key));
  }

  /**
   * The entry's key: (load balancer number x 2^38 + the IPv4 network's key number) when the key
   * is an IPv4 network and the number fits in 53 bits, else a string that a NUL separates
   * (a NUL occurs in neither a DNS name's key nor an address; numbers never equal strings).
   */
  private slot(lb: string, key: string): string | number {
    const n = this.lbNumber(lb);
    const v4 = n < MAX_NUMERIC_LB ? ipv4NetworkNumber(key) : -1;
    return v4 >= 0 ? n * 2 ** 38 + v4 : `${n}\u0000${key}`;
  }

  private lbNumber(lb: string): number {
    let n = this.lbIds.get(lb);
    if (n === undefined) {
      n = this.lbIds.size;
      this.lbIds.set(lb, n);
    }
    return n;
  }

  private live(slot: string | number): Pin | undefined {
    const pin = this.pins.get(slot);
    if (pin === undefined) return undefined;
    if (pin.expires > this.now()) return pin;
    this.pins.delete(slot);
    return undefined;
  }
}

/**
 * The ipv4NetworkNumber of the client's persistence key (persistenceKey), computed from numbers
 * and the resolver's address text without making a string; -1 when the key is not an IPv4
 * network or cannot be had that way (IPv6, an IPv4-mapped resolver, an ASN key).
 */
export function ipv4KeyNumber(p: Persistence, client: ClientInfo, asn: AsnLookup | undefined): number {
  const subnet = client.subnet;
  if (keyedOnEcs(p, client)) return subnet!.v4 >= 0 ? subnet!.v4 * 64 + subnet!.sourcePrefix : -1;
  if (p.key === 'resolver_network' && asn !== undefined) return -1;
  const address = ipv4Number(client.resolverAddress ?? client.hashKey);
  if (address < 0) return -1;
  const mask = p.mask_v4 === 0 ? 0 : (0xffffffff << (32 - p.mask_v4)) >>> 0;
  return ((address & mask) >>> 0) * 64 + p.mask_v4;
}

/** Load balancer numbers that leave room for 38 bits of network below them (2^15 x 2^38 = 2^53). */
const MAX_NUMERIC_LB = 2 ** 15;

/**
 * "a.b.c.d/p" (decimal octets without leading zeros, p 0-32) as address x 64 + p, a number
 * below 2^38; -1 for anything else. Reads the text in place: no string is made.
 */
export function ipv4NetworkNumber(key: string): number {
  const slash = key.indexOf('/');
  if (slash < 0) return -1;
  const address = dottedDecimals(key, 0, slash, 4, 255);
  const prefix = dottedDecimals(key, slash + 1, key.length, 1, 32);
  return address < 0 || prefix < 0 ? -1 : address * 64 + prefix;
}

/** The key text of an ipv4NetworkNumber. */
function networkText(network: number): string {
  const address = Math.floor(network / 64);
  return `${ipv4Text(address)}/${network % 64}`;
}

/**
 * The answer for a load balancer with persistence: the live pin when its pool and origins are
 * all still usable, else a deterministic steering decision for the key, pinned until now + ttl.
 */
export function persistentDecision(lb: LoadBalancer, p: Persistence, table: PinTable, health: HealthView, client: ClientInfo, asn?: AsnLookup, trace = false): Decision {
  const lbKey = lb.name.key;
  const fromEcs = keyedOnEcs(p, client);
  // An IPv4 network's pin is found by its number: the key's text is made only when needed.
  const network = ipv4KeyNumber(p, client, asn);
  let key = network >= 0 ? undefined : persistenceKey(p, client, asn).key;
  const pin = key === undefined ? table.getIpv4(lbKey, network) : table.get(lbKey, key);
  // The common case: the answer the pin gave last, under the same load balancer and health.
  const last = pin?.held;
  if (last !== undefined && last.lb === lb && last.health === health && last.fromEcs === fromEcs && !trace) {
    table.hits++;
    return last.decision;
  }
  key ??= persistenceKey(p, client, asn).key;
  if (pin !== undefined) {
    const held = pinnedChoice(lb, pin, health);
    if (held !== undefined) {
      table.hits++;
      const decision: Decision = {
        pool: held.pool,
        origins: held.origins,
        fallback: false,
        policy: lb.steering_policy,
        locationSource: 'none',
        poolList: pin.poolList,
        clientDependent: fromEcs,
        clientHashed: fromEcs,
        persistence: { key, fromEcs, outcome: 'hit' },
        ...(trace ? { trace: { pools: [], notes: [`persistence: key ${key} is pinned to pool ${pin.pool} (${pin.origins.join(', ')}), still usable`] } } : {}),
      };
      if (!trace) pin.held = { lb, health, fromEcs, decision };
      return decision;
    }
    table.repins++;
  } else {
    table.misses++;
  }
  // Seeded from (load balancer, key): every instance draws the same numbers for this client.
  const random = mulberry32(stableHash2(lbKey, key));
  const steered = steer(lb, health, client, random, trace, { hashKey: key, originHash: true });
  const note = `persistence: key ${key}, ${pin !== undefined ? 'its pin was no longer usable: steered again' : 'no pin yet'}; choices seeded from the key, so every instance agrees`;
  const d = steered.trace ? { ...steered, trace: { pools: steered.trace.pools, notes: [...steered.trace.notes, note] } } : steered;
  const pinnable = d.pool !== undefined && !d.fallback && d.origins.length > 0;
  if (pinnable) {
    table.set(lbKey, key, { pool: d.pool.name, origins: d.origins.map(originName), poolList: d.poolList, expires: table.now() + p.ttl * 1000 });
  } else if (pin !== undefined) {
    table.delete(lbKey, key);
  }
  const outcome = !pinnable ? 'unpinned' : pin !== undefined ? 'repinned' : 'pinned';
  return { ...d, clientDependent: fromEcs, clientHashed: fromEcs, persistence: { key, fromEcs, outcome } };
}

function originName(o: Origin): string {
  return o.name;
}

/** The pinned pool and origins when all are still there and usable under `health`. */
function pinnedChoice(lb: LoadBalancer, pin: Pin, health: HealthView): { pool: Pool; origins: readonly Origin[] } | undefined {
  const pool = poolsByName(lb).get(pin.pool);
  if (pool === undefined || !pool.enabled) return undefined;
  const ph = poolHealth(pool, health);
  if (ph.critical) return undefined;
  const usable = ph.usableOrigins;
  const origins: Origin[] = [];
  for (const name of pin.origins) {
    let found: Origin | undefined;
    for (let i = 0; i < usable.length; i++) if (usable[i].name === name) found = usable[i];
    if (found === undefined) return undefined;
    origins.push(found);
  }
  return { pool, origins };
}

/** Every pool a load balancer can answer from, by name; built once per load balancer object. */
const poolIndex = new WeakMap<LoadBalancer, ReadonlyMap<string, Pool>>();

function poolsByName(lb: LoadBalancer): ReadonlyMap<string, Pool> {
  let m = poolIndex.get(lb);
  if (m === undefined) {
    const index = new Map<string, Pool>();
    const add = (ps: readonly Pool[]) => {
      for (const pool of ps) index.set(pool.name, pool);
    };
    add(lb.default_pools);
    add([lb.fallback_pool]);
    for (const map of [lb.region_pools, lb.country_pools, lb.pop_pools]) for (const ps of map.values()) add(ps);
    m = index;
    poolIndex.set(lb, m);
  }
  return m;
}
