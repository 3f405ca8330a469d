/**
 * The client as steering sees it: this node's location, the ECS subnet's and the resolver's
 * locations (looked up only when a load balancer asks), the key for hash steering, and the
 * ECS scope the decisions imply. Shared by the query path and explain.
 */
import type { ClientSubnet } from './ecs.js';
import type { Snapshot } from '../config/snapshot.js';
import type { ClientInfo, LoadBalancer, Location } from '../lb/model.js';
import type { Decision } from '../lb/steer.js';

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
  const useEcs = ecs !== undefined && ecs.sourcePrefix > 0;
  let ecsHit: { readonly location: Location; readonly prefixLength: number } | undefined | null = null;
  let resolverHit: { readonly location: Location } | undefined | null = null;
  const geo = snap.geo;
  const client: ClientInfo = {
    pop: snap.pop,
    hashKey: useEcs ? `${ecs.address}/${ecs.sourcePrefix}` : resolverAddress,
    resolverAddress,
    subnet: useEcs ? { address: ecs.address, prefix: ecs.sourcePrefix } : undefined,
    get ecs() {
      if (ecsHit === null) ecsHit = useEcs && geo ? geo.lookup(ecs.address) : undefined;
      return ecsHit?.location;
    },
    get resolver() {
      if (resolverHit === null) resolverHit = geo ? geo.lookup(resolverAddress) : undefined;
      return resolverHit?.location;
    },
  };
  const ecsPrefix = (): number | undefined => {
    if (!ecsHit || !ecs) return undefined;
    // gdnsd-style: the widest network with the same location, so caches can share the answer.
    return geo?.widestPrefix ? geo.widestPrefix(ecs.address, ecsHit) : ecsHit.prefixLength;
  };
  return { client, ecsPrefix, ecsUnlocated: () => useEcs && ecsHit === undefined, hashedOnEcs: useEcs };
}

/**
 * RFC 7871 §7.2.1: the SCOPE PREFIX-LENGTH says over how much of the client's address the
 * answer holds. 0 when no decision depended on the client subnet (static data, off/random
 * steering, a location taken from the resolver or this node); the source prefix when a hash
 * of the subnet decided, or when geo/proximity looked the subnet up and found nothing; else
 * the network that located the subnet, never more than the source prefix. An answer from DNS
 * persistence keyed on the resolver holds for every subnet behind that resolver: 0.
 */
export function ecsScope(ecs: ClientSubnet, located: LocatedClient, decisions: ReadonlyMap<LoadBalancer, Decision>): number {
  let scope = 0;
  for (const d of decisions.values()) {
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
