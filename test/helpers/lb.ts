/**
 * Builders for load-balancing model objects in tests: plain objects with the loader's
 * defaults (Cloudflare's), so a test states only what it is about.
 */
import { Name } from '../../src/wire/name.js';
import type { ClientInfo, HealthView, LoadBalancer, LocationStrategy, Monitor, Origin, OriginSteeringPolicy, Pool, SteeringPolicy } from '../../src/lb/model.js';
import type { Location } from '../../src/geo/location.js';

const SOURCE = { file: 'test.lb.yaml', line: 1 };

export function monitor(name = 'mon', over: Partial<Monitor> = {}): Monitor {
  return {
    name,
    type: 'http',
    description: '',
    method: 'GET',
    path: '/',
    port: 0,
    timeout: 5,
    retries: 2,
    interval: 60,
    expected_codes: '200',
    expected_body: '',
    follow_redirects: false,
    allow_insecure: false,
    consecutive_up: 0,
    consecutive_down: 0,
    header: {},
    source: SOURCE,
    ...over,
  };
}

/** An origin; the address kind is guessed from the text (":" IPv6, dotted digits IPv4, else hostname). */
export function origin(name: string, address: string, over: Partial<Origin> = {}): Origin {
  const kind = address.includes(':') ? 'ipv6' : /^[0-9.]+$/.test(address) ? 'ipv4' : 'hostname';
  return {
    name,
    address: kind === 'hostname' ? { kind, name: Name.fromText(address.endsWith('.') ? address : address + '.') } : { kind, ip: address },
    addressText: address,
    enabled: true,
    weight: 1,
    port: 0,
    header: {},
    flatten_cname: true,
    source: SOURCE,
    ...over,
  };
}

export interface PoolOptions extends Partial<Omit<Pool, 'origin_steering' | 'load_shedding'>> {
  readonly steering?: OriginSteeringPolicy;
  /** Load shedding percent and policy. */
  readonly shed?: { readonly percent: number; readonly policy: 'random' | 'hash' };
  /** A monitor is attached unless `monitored: false` (health then ignored). */
  readonly monitored?: boolean;
}

let addressCounter = 0;

/**
 * A pool. `origins` defaults to two origins named `<pool>-a`, `<pool>-b` with distinct
 * documentation addresses. Monitored by default.
 */
export function pool(name: string, opts: PoolOptions = {}): Pool {
  const { steering, shed, monitored, ...over } = opts;
  const origins = over.origins ?? [origin(`${name}-a`, nextAddress()), origin(`${name}-b`, nextAddress())];
  return {
    name,
    description: '',
    enabled: true,
    minimum_origins: 1,
    monitor: monitored === false ? undefined : monitor(),
    origin_steering: { policy: steering ?? 'random' },
    load_shedding: { default_percent: shed?.percent ?? 0, default_policy: shed?.policy ?? 'random' },
    check_regions: null,
    source: SOURCE,
    ...over,
    origins,
  };
}

function nextAddress(): string {
  addressCounter++;
  return `192.0.2.${addressCounter % 250 + 1}`;
}

export interface LbOptions {
  readonly name?: string;
  readonly policy?: SteeringPolicy;
  readonly default_pools: readonly Pool[];
  /** Defaults to the last default pool. */
  readonly fallback_pool?: Pool;
  readonly region_pools?: Record<string, readonly Pool[]>;
  readonly country_pools?: Record<string, readonly Pool[]>;
  readonly pop_pools?: Record<string, readonly Pool[]>;
  readonly default_weight?: number;
  readonly pool_weights?: Record<string, number>;
  readonly location_strategy?: Partial<LocationStrategy>;
  readonly ttl?: number;
  readonly enabled?: boolean;
}

export function lb(o: LbOptions): LoadBalancer {
  const geoMaps = [o.region_pools, o.country_pools, o.pop_pools].some((m) => m !== undefined && Object.keys(m).length > 0);
  const name = Name.fromText(o.name ?? 'www.example.com.');
  return {
    name,
    zone: Name.fromText('example.com.'),
    description: '',
    enabled: o.enabled ?? true,
    ttl: o.ttl ?? 30,
    steering_policy: o.policy ?? (geoMaps ? 'geo' : 'off'),
    default_pools: o.default_pools,
    fallback_pool: o.fallback_pool ?? o.default_pools[o.default_pools.length - 1],
    region_pools: new Map(Object.entries(o.region_pools ?? {})),
    country_pools: new Map(Object.entries(o.country_pools ?? {})),
    pop_pools: new Map(Object.entries(o.pop_pools ?? {})),
    random_steering: { default_weight: o.default_weight ?? 1, pool_weights: new Map(Object.entries(o.pool_weights ?? {})) },
    location_strategy: { prefer_ecs: 'proximity', mode: 'pop', ...o.location_strategy },
    source: SOURCE,
  };
}

export interface HealthOptions {
  /** "pool/origin" keys reported down. */
  readonly down?: readonly string[];
  /** "pool/origin" keys with no result yet. */
  readonly unknown?: readonly string[];
  /** Pool name -> smoothed RTT in ms. */
  readonly rtt?: Record<string, number>;
}

/** A health view: every origin up unless listed. */
export function health(o: HealthOptions = {}): HealthView {
  const down = new Set(o.down ?? []);
  const unknown = new Set(o.unknown ?? []);
  const rtt = new Map(Object.entries(o.rtt ?? {}));
  return {
    origin(p: Pool, og: Origin): boolean | undefined {
      const key = `${p.name}/${og.name}`;
      if (unknown.has(key)) return undefined;
      return !down.has(key);
    },
    poolRtt: (p: Pool) => rtt.get(p.name),
  };
}

/** Every origin of the listed pools is down. */
export function poolsDown(...pools: Pool[]): string[] {
  return pools.flatMap((p) => p.origins.map((o) => `${p.name}/${o.name}`));
}

export const FRA: Location = { pop: 'FRA', country: 'DE', region: 'WEU', latitude: 50.03, longitude: 8.56 };
export const IAD: Location = { pop: 'IAD', country: 'US', region: 'ENAM', latitude: 38.94, longitude: -77.46 };
export const NRT: Location = { pop: 'NRT', country: 'JP', region: 'NEAS', latitude: 35.77, longitude: 140.39 };
export const SYD: Location = { country: 'AU', region: 'OC', latitude: -33.87, longitude: 151.21 };

export function client(o: Partial<ClientInfo> = {}): ClientInfo {
  return { pop: FRA, hashKey: '198.51.100.7', ...o };
}

/** Counts how often each key comes out of `n` runs. */
export function tally(n: number, run: () => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const k = run();
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}
