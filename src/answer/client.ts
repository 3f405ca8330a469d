/**
 * The client as steering sees it: this node's location, the ECS subnet's and the resolver's
 * locations (looked up only when a load balancer asks), the key for hash steering, and the
 * ECS scope the decisions imply. Shared by the query path and explain.
 */
import type { ClientSubnet } from '../wire/ecs.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import type { ClientInfo } from '../lb/model.js';
import type { Location } from '../geo/location.js';
import type { Decisions } from './steered.js';

export interface LocatedClient {
  readonly client: ClientInfo;
  /** The widest network around the ECS subnet located like it, once looked up. */
  ecsPrefix(): number | undefined;
  /** The ECS subnet was looked up and not found (so another subnet might be found elsewhere). */
  ecsUnlocated(): boolean;
  readonly hashedOnEcs: boolean;
}

/**
 * What steering may know of the client, looked up only if a load balancer asks: the ECS
 * subnet's location (a SOURCE PREFIX-LENGTH of 0 means "do not locate me", RFC 7871 §7.1.2),
 * the resolver's location, and the key for hashing (the ECS subnet when given, else the
 * resolver's address).
 */
export function locateClient(snap: Snapshot, ecs: ClientSubnet | undefined, resolverAddress: string): LocatedClient {
  return new Located(snap, ecs, resolverAddress);
}

type Hit = { readonly location: Location; readonly prefixLength: number };

/** One object per query, with lazily filled fields (a class: object literals with getters are slow to make). */
class Located implements LocatedClient, ClientInfo {
  readonly pop: Location;
  readonly resolverAddress: string;
  readonly hashedOnEcs: boolean;
  private ecsHit: Hit | undefined | null = null;
  private resolverHit: Hit | undefined | null = null;
  private key: string | undefined;

  constructor(
    private readonly snap: Snapshot,
    private readonly subnetOption: ClientSubnet | undefined,
    resolverAddress: string,
  ) {
    this.pop = snap.pop;
    this.resolverAddress = resolverAddress;
    this.hashedOnEcs = subnetOption !== undefined && subnetOption.sourcePrefix > 0;
  }

  get client(): ClientInfo {
    return this;
  }

  get hashKey(): string {
    if (this.key === undefined) this.key = this.hashedOnEcs ? `${this.subnetOption!.address}/${this.subnetOption!.sourcePrefix}` : this.resolverAddress;
    return this.key;
  }

  get subnet(): ClientSubnet | undefined {
    return this.hashedOnEcs ? this.subnetOption : undefined;
  }

  get ecs(): Location | undefined {
    if (this.ecsHit === null) this.ecsHit = this.hashedOnEcs && this.snap.geo ? this.snap.geo.lookup(subnetKey(this.subnetOption!)) : undefined;
    return this.ecsHit?.location;
  }

  get resolver(): Location | undefined {
    if (this.resolverHit === null) this.resolverHit = this.snap.geo ? this.snap.geo.lookup(this.resolverAddress) : undefined;
    return this.resolverHit?.location;
  }

  ecsPrefix(): number | undefined {
    const hit = this.ecsHit;
    if (!hit || !this.subnetOption) return undefined;
    // gdnsd-style: the widest network with the same location, so caches can share the answer.
    const geo = this.snap.geo;
    return geo?.widestPrefix ? geo.widestPrefix(subnetKey(this.subnetOption), hit) : hit.prefixLength;
  }

  ecsUnlocated(): boolean {
    return this.hashedOnEcs && this.ecsHit === undefined;
  }
}

/** The subnet's address as the geo cache is keyed: IPv4 as a number (no string to hash), IPv6 as text. */
function subnetKey(subnet: ClientSubnet): string | number {
  return subnet.v4 >= 0 ? subnet.v4 : subnet.address;
}

/**
 * RFC 7871 §7.2.1: the SCOPE PREFIX-LENGTH says over how much of the client's address the
 * answer holds. 0 when no decision depended on the client subnet (static data, off/random
 * steering, a location taken from the resolver or this node); the source prefix when a hash
 * of the subnet decided, or when geo/proximity looked the subnet up and found nothing; else
 * the network that located the subnet, never more than the source prefix. An answer from DNS
 * persistence keyed on the resolver holds for every subnet behind that resolver: 0.
 */
export function ecsScope(ecs: ClientSubnet, located: LocatedClient, decisions: Decisions): number {
  let scope = 0;
  for (let i = 0; i < decisions.size; i++) {
    const d = decisions.decisionAt(i);
    if (d.persistence !== undefined && !d.persistence.fromEcs) continue;
    // Geo or proximity asked where the subnet is and the databases did not know: the answer
    // holds only for this subnet, since a neighbouring one might be located and steered.
    if (located.ecsUnlocated() && (d.policy === 'geo' || d.policy === 'proximity')) scope = ecs.sourcePrefix;
    if (!d.clientDependent) continue;
    if (d.clientHashed && located.hashedOnEcs) scope = ecs.sourcePrefix;
    else if (d.locationSource === 'ecs') scope = Math.max(scope, Math.min(ecs.sourcePrefix, located.ecsPrefix() ?? ecs.sourcePrefix));
  }
  return scope;
}
