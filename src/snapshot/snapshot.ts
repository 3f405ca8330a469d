/**
 * The immutable state every query is answered from: zones, load balancers, health, this
 * node's location and the addresses of hostname origins. Reloads and health changes build a
 * new Snapshot and swap it in whole; a query reads the current one once and uses only it.
 */
import type { Rdata } from '../wire/record.js';
import type { ZoneSet } from '../zone/zoneset.js';
import type { Journal } from '../zone/changes.js';
import type { Name } from '../wire/name.js';
import type { HealthView, LbConfig } from '../lb/model.js';
import type { Location } from '../geo/location.js';
import type { PinTable } from '../lb/persistence.js';
import type { AsnLookup } from '../geo/asn.js';
import type { ServerCookies } from '../wire/server-cookies.js';
import type { HostnameAddresses } from '../lb/hostnames.js';
import type { Keyring } from '../wire/tsig.js';
import type { ZoneOptions } from '../config/zone-options.js';

/** Where an address is (src/geo/locator.ts); `prefixLength` is the network that decided. */
export interface Geolocation {
  /** `ip`: text, or an IPv4 address as an unsigned 32-bit number. */
  lookup(ip: string | number): { readonly location: Location; readonly prefixLength: number } | undefined;
  /** The widest network around `ip` over which every lookup gives `hit`'s location. */
  widestPrefix?(ip: string | number, hit: { readonly location: Location; readonly prefixLength: number }): number;
}

/** Zone transfers: the TSIG keys and each zone's transfer settings (src/config/zone-options.ts). */
export interface TransferSettings {
  readonly keyring: Keyring;
  /** By zone apex key; a zone without an entry has the defaults (nobody may transfer it). */
  readonly zones: ReadonlyMap<string, ZoneOptions>;
}

/** Which server this is, for NSID (RFC 5001) and CHAOS TXT queries (RFC 4892). */
export interface Identity {
  /** id.server., hostname.bind. and the NSID option. */
  readonly serverId: string;
  /** version.server. and version.bind.; undefined: those are refused. */
  readonly version?: string;
}

export interface Snapshot {
  readonly zones: ZoneSet;
  readonly lb: LbConfig;
  readonly health: HealthView;
  /** This node's identity (the "PoP" of Cloudflare's location strategy). */
  readonly pop: Location;
  readonly hostnames: HostnameAddresses;
  /** Locates ECS subnets and resolver addresses; without it only this node's location is known. */
  readonly geo?: Geolocation;
  /** The random source for weighted choices: Math.random in production, seeded in tests. */
  readonly random: () => number;
  /** The resolver's autonomous system, for persistence keyed on `resolver_network`. */
  readonly asn?: AsnLookup;
  /**
   * Pinned persistence choices. State, not configuration: built once by the app and carried
   * from snapshot to snapshot. Without it, load balancers with persistence steer as usual.
   */
  readonly persistence?: PinTable;
  /**
   * Makes and checks DNS server cookies (RFC 7873, RFC 9018). State like `persistence`: one
   * per process, carried from snapshot to snapshot. Without it, COOKIE options are ignored.
   */
  readonly cookies?: ServerCookies;
  /** Without it, NSID is not sent and CHAOS queries are refused. */
  readonly identity?: Identity;
  /** Without it, transfers are refused and signed queries get BADKEY. */
  readonly transfer?: TransferSettings;
  /** Each zone's journal of versions, by apex key: IXFR answers from it (src/zone/changes.ts). */
  readonly journals?: ReadonlyMap<string, Journal>;
}
