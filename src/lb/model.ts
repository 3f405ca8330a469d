/**
 * The load-balancing model, after loading and validation: monitors, pools with their origins
 * (Cloudflare calls them endpoints), and load balancers, with Cloudflare's field names. Pool
 * references are already resolved to objects, so the query path never looks names up.
 * Everything here is immutable once built.
 */
import type { Name } from '../wire/name.js';
import type { Location, Region } from '../geo/location.js';

export const STEERING_POLICIES = ['off', 'geo', 'random', 'dynamic_latency', 'proximity', 'least_outstanding_requests', 'least_connections'] as const;
export type SteeringPolicy = (typeof STEERING_POLICIES)[number];

export const ORIGIN_STEERING_POLICIES = ['random', 'hash', 'least_outstanding_requests', 'least_connections'] as const;
export type OriginSteeringPolicy = (typeof ORIGIN_STEERING_POLICIES)[number];

export const MONITOR_TYPES = ['http', 'https', 'tcp', 'smtp', 'icmp_ping', 'udp_icmp'] as const;
export type MonitorType = (typeof MONITOR_TYPES)[number];

export const PREFER_ECS = ['always', 'never', 'proximity', 'geo'] as const;
export type PreferEcs = (typeof PREFER_ECS)[number];
export const LOCATION_MODES = ['pop', 'resolver_ip'] as const;
export type LocationMode = (typeof LOCATION_MODES)[number];

/** Where an object was declared, for messages. */
export interface Source {
  readonly file: string;
  readonly line: number;
}

export interface Monitor {
  readonly name: string;
  readonly type: MonitorType;
  readonly description: string;
  readonly method: string;
  readonly path: string;
  /** 0 = the protocol default (80 for http, 443 for https). */
  readonly port: number;
  /** Seconds. */
  readonly timeout: number;
  readonly retries: number;
  /** Seconds. */
  readonly interval: number;
  readonly expected_codes: string;
  readonly expected_body: string;
  readonly follow_redirects: boolean;
  readonly allow_insecure: boolean;
  readonly consecutive_up: number;
  readonly consecutive_down: number;
  readonly header: Readonly<Record<string, readonly string[]>>;
  readonly source: Source;
}

export type OriginAddress =
  | { readonly kind: 'ipv4' | 'ipv6'; readonly ip: string }
  | { readonly kind: 'hostname'; readonly name: Name };

export interface Origin {
  readonly name: string;
  readonly address: OriginAddress;
  /** The address as written in the configuration. */
  readonly addressText: string;
  readonly enabled: boolean;
  /** 0..1; 0 takes the origin out of rotation. */
  readonly weight: number;
  /** 0 = the protocol default. Used for monitors and as the SRV port. */
  readonly port: number;
  readonly header: Readonly<Record<string, readonly string[]>>;
  /** Hostname origins: answer with their addresses (true) or a CNAME to them (false). */
  readonly flatten_cname: boolean;
  readonly source: Source;
}

export interface LoadShedding {
  /** 0..100: share of queries (random) or of the client hash space (hash) steered away. */
  readonly default_percent: number;
  readonly default_policy: 'random' | 'hash';
}

export interface Pool {
  readonly name: string;
  readonly description: string;
  readonly enabled: boolean;
  readonly minimum_origins: number;
  /** Without a monitor, health is ignored for this pool. */
  readonly monitor?: Monitor;
  readonly origin_steering: { readonly policy: OriginSteeringPolicy };
  readonly latitude?: number;
  readonly longitude?: number;
  readonly load_shedding: LoadShedding;
  /** Accepted for compatibility; a single node probes from where it is. */
  readonly check_regions: readonly string[] | null;
  readonly origins: readonly Origin[];
  readonly source: Source;
}

export interface LocationStrategy {
  readonly prefer_ecs: PreferEcs;
  readonly mode: LocationMode;
}

export const PERSISTENCE_KEYS = ['ecs', 'resolver', 'resolver_network'] as const;
export type PersistenceKeyKind = (typeof PERSISTENCE_KEYS)[number];

/**
 * DNS persistence (beyond Cloudflare, see docs/load-balancing.md#dns-persistence): the same
 * client key gets the same pool and origins for `ttl` seconds while they stay usable.
 */
export interface Persistence {
  /** Seconds a pin lasts, 1..604800. */
  readonly ttl: number;
  /** What identifies a client: its ECS subnet, its resolver's address or its resolver's network. */
  readonly key: PersistenceKeyKind;
  /** Prefix lengths that mask a resolver's address into a key (0..32, 0..128). */
  readonly mask_v4: number;
  readonly mask_v6: number;
}

export interface LoadBalancer {
  /** The hostname answered; may be a wildcard (`*.apps.example.com.`). */
  readonly name: Name;
  /** The apex of the zone served here that contains `name`. */
  readonly zone: Name;
  readonly description: string;
  readonly enabled: boolean;
  /** Seconds. */
  readonly ttl: number;
  /** The effective policy: "" in the configuration is already resolved to geo or off. */
  readonly steering_policy: SteeringPolicy;
  readonly default_pools: readonly Pool[];
  readonly fallback_pool: Pool;
  readonly region_pools: ReadonlyMap<string, readonly Pool[]>;
  readonly country_pools: ReadonlyMap<string, readonly Pool[]>;
  readonly pop_pools: ReadonlyMap<string, readonly Pool[]>;
  readonly random_steering: { readonly default_weight: number; readonly pool_weights: ReadonlyMap<string, number> };
  readonly location_strategy: LocationStrategy;
  /** Off when absent. */
  readonly persistence?: Persistence;
  readonly source: Source;
}

export interface LbConfig {
  readonly monitors: ReadonlyMap<string, Monitor>;
  readonly pools: ReadonlyMap<string, Pool>;
  /** Keyed by the load balancer name's key (lower case, trailing dot). */
  readonly loadBalancers: ReadonlyMap<string, LoadBalancer>;
}

export const EMPTY_LB_CONFIG: LbConfig = { monitors: new Map(), pools: new Map(), loadBalancers: new Map() };

/** This node's identity: where Cloudflare would use "the data centre that answered". */
export interface PopIdentity extends Location {
  readonly pop?: string;
}

/**
 * What steering knows about the client. `ecs` and `resolver` are the locations found for the
 * EDNS Client Subnet and the resolver's address (undefined when absent or not found); `pop`
 * is this node's own location. `hashKey` identifies the client for hash steering.
 */
export interface ClientInfo {
  readonly pop: Location;
  readonly ecs?: Location;
  readonly resolver?: Location;
  readonly hashKey: string;
  /** The resolver's address as the query arrived from it (persistence keys). */
  readonly resolverAddress?: string;
  /**
   * The ECS subnet when the query carried one with a source prefix > 0 (persistence keys):
   * its address as text, its source prefix, and an IPv4 address as an unsigned 32-bit number
   * (-1 for IPv6), which lets a pin be found without making the key's text.
   */
  readonly subnet?: { readonly address: string; readonly sourcePrefix: number; readonly v4: number };
}

/**
 * Health as steering sees it; replaced as a whole when anything changes, so one query sees
 * one consistent view. `origin` is undefined while a monitored origin has no result yet.
 */
export interface HealthView {
  origin(pool: Pool, origin: Origin): boolean | undefined;
  /** Smoothed monitor round-trip time of the pool in milliseconds, if known. */
  poolRtt(pool: Pool): number | undefined;
}

/** Until monitors run, every origin is healthy and no RTT is known. */
export const ALL_HEALTHY: HealthView = {
  origin: () => true,
  poolRtt: () => undefined,
};
