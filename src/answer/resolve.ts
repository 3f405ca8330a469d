/**
 * The authoritative answer algorithm (RFC 1034 §4.3.2, RFC 2308, RFC 4592, RFC 6604): turns a
 * question into an rcode, the AA flag and the three sections, following CNAME chains inside
 * the zones served here. Knows nothing of the wire; `respond.ts` writes the result.
 */
import { Name, NameError } from '../wire/name.js';
import { isSteeredType, steeredAddresses, steeredAnswer, steeredService, type SteeringContext } from './steered.js';
import { RCODE, T } from '../wire/types.js';
import type { Zone } from '../zone/zone.js';
import type { RRset } from '../wire/record.js';
import type { LbConfig, LoadBalancer } from '../lb/model.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import type { ZoneSet } from '../zone/zoneset.js';

export interface SectionEntry {
  readonly rrset: RRset;
  /** TTL to write when it differs from the RRset's (the SOA in negative answers). */
  readonly ttl?: number;
}

export interface Resolution {
  readonly rcode: number;
  readonly aa: boolean;
  readonly answer: readonly SectionEntry[];
  readonly authority: readonly SectionEntry[];
  readonly additional: readonly SectionEntry[];
  /** Additional records that must fit or the response is truncated (in-domain glue, RFC 9471). */
  readonly requiredAdditional: number;
  /** The wildcard (`*.<closest encloser>`) that synthesized the answer for the query name, if one did. */
  readonly wildcard?: Name;
}

/** A chain longer than this is treated as a loop (BIND and Knot use similar small bounds). */
const MAX_CNAME_CHAIN = 16;

const REFUSED: Resolution = { rcode: RCODE.REFUSED, aa: false, answer: [], authority: [], additional: [], requiredAdditional: 0 };

export function resolve(ctx: SteeringContext, qname: Name, qtype: number): Resolution {
  if (qtype === T.A || qtype === T.AAAA) {
    const lb = directLoadBalancers(ctx.snap).get(qname.key);
    if (lb !== undefined) {
      const s = steeredAnswer(ctx, lb, qname, qtype);
      // A CNAME to follow or a NODATA with its SOA: the general path below (the decision is kept).
      if (s.kind === 'rrset') return { rcode: RCODE.NOERROR, aa: true, answer: [{ rrset: s.rrset }], authority: NONE, additional: NONE, requiredAdditional: 0 };
    }
  }
  return resolveInZones(ctx, qname, qtype);
}

const NONE: readonly SectionEntry[] = [];

/**
 * Load balancers whose own name, asked for A or AAAA, the zone walk would hand straight to
 * steering: the name's node is an exact match in the deepest zone served for it. Their A and
 * AAAA queries skip the walk, since no CNAME of the zone file, referral, wildcard or
 * additional record can take part (exported for the test that checks both ways agree).
 * Worked out once per (zones, load balancers) pair, on the first query that needs it.
 */
export function directLoadBalancers(snap: Snapshot): ReadonlyMap<string, LoadBalancer> {
  let d = directByConfig.get(snap.lb);
  if (d === undefined || d.zones !== snap.zones) {
    const names = new Map<string, LoadBalancer>();
    for (const lb of snap.lb.loadBalancers.values()) {
      if (!lb.enabled) continue;
      const r = snap.zones.find(lb.name, T.A)?.lookup(lb.name, T.A);
      if (r && (r.kind === 'answer' || r.kind === 'cname' || r.kind === 'nodata') && !r.wildcard && r.node.name.key === lb.name.key) names.set(lb.name.key, lb);
    }
    d = { zones: snap.zones, names };
    directByConfig.set(snap.lb, d);
  }
  return d.names;
}

const directByConfig = new WeakMap<LbConfig, { readonly zones: ZoneSet; readonly names: ReadonlyMap<string, LoadBalancer> }>();

/** The zone walk (RFC 1034 §4.3.2): every query but the direct ones above. */
export function resolveInZones(ctx: SteeringContext, qname: Name, qtype: number): Resolution {
  const zones = ctx.snap.zones;
  let zone = zones.find(qname, qtype);
  if (!zone) return REFUSED;

  const answer: SectionEntry[] = [];
  const authority: SectionEntry[] = [];
  const additional: SectionEntry[] = [];
  let required = 0;
  let rcode: number = RCODE.NOERROR;
  let aa = true;
  let wildcard: Name | undefined;
  let seen: Set<string> | undefined; // names of the CNAME chain, made only when there is one
  let name = qname;

  for (let step = 0; ; step++) {
    const r = lookup(ctx, zone, name, qtype);
    if (step === 0 && (r.kind === 'answer' || r.kind === 'cname')) wildcard = r.wildcardOwner;
    if (r.kind === 'answer') {
      answer.push({ rrset: r.rrset });
      addTargets(ctx, zone, r.rrset, additional);
    } else if (r.kind === 'cname' || r.kind === 'dname') {
      // A DNAME met again (a chain through its own subtree) is in the answer once.
      if (r.kind === 'cname' || !answer.some((e) => e.rrset === r.rrset)) answer.push({ rrset: r.rrset });
      let target = r.kind === 'cname' ? r.target : undefined;
      if (r.kind === 'dname') {
        // RFC 6672 §2.2: a CNAME from the query name to it with the DNAME owner's suffix replaced; too long is YXDOMAIN.
        target = synthesizedTarget(name, r.rrset);
        if (!target) {
          rcode = RCODE.YXDOMAIN;
          break;
        }
        answer.push({ rrset: { owner: name, type: T.CNAME, ttl: r.rrset.ttl, rdatas: [{ wire: target.wire, names: [{ offset: 0, name: target }] }] } });
      }
      const next = zones.find(target!, qtype);
      seen ??= new Set([qname.key]);
      seen.add(name.key);
      // A chain that leaves our zones, loops or runs too long stops here; the resolver continues it.
      if (!next || seen.has(target!.key) || step + 1 >= MAX_CNAME_CHAIN) break;
      name = target!;
      zone = next;
      continue;
    } else if (r.kind === 'referral') {
      if (answer.length === 0) aa = false; // RFC 1034 §4.3.2 step 3b: a referral is not authoritative
      authority.push({ rrset: r.ns });
      required = addGlue(zone, r.ns, additional);
    } else {
      if (r.kind === 'nxdomain') rcode = RCODE.NXDOMAIN; // RFC 6604: the rcode of the last name in the chain
      // A steered NODATA must not outlive the load balancer's TTL: health may change the answer.
      const ttl = r.kind === 'nodata' && r.steeredTtl !== undefined ? Math.min(zone.negativeTtl, r.steeredTtl) : zone.negativeTtl;
      authority.push({ rrset: zone.soa, ttl });
    }
    break;
  }
  return { rcode, aa, answer, authority, additional, requiredAdditional: required, wildcard };
}

/** `wildcardOwner`: the answer was synthesized from this wildcard (RFC 4592). */
type Step =
  | { readonly kind: 'answer'; readonly rrset: RRset; readonly wildcardOwner?: Name }
  | { readonly kind: 'cname'; readonly rrset: RRset; readonly target: Name; readonly wildcardOwner?: Name }
  | { readonly kind: 'dname'; readonly rrset: RRset }
  | { readonly kind: 'referral'; readonly ns: RRset }
  /** `steeredTtl`: the NODATA came from a load balancer with this TTL. */
  | { readonly kind: 'nodata'; readonly steeredTtl?: number }
  | { readonly kind: 'nxdomain' };

/**
 * One name in one zone: the zone lookup, with a load balancer at the matched node (its own
 * name, or the wildcard that synthesized the answer) taking over the types it answers.
 * An exact static name beats a wildcard load balancer because the lookup matched it first.
 */
function lookup(ctx: SteeringContext, zone: Zone, name: Name, qtype: number): Step {
  const r = zone.lookup(name, qtype);
  if (r.kind === 'referral' || r.kind === 'nxdomain' || r.kind === 'dname') return r;
  const wildcardOwner = r.wildcard ? r.node.name : undefined;
  const lb = ctx.snap.lb.loadBalancers.get(r.node.name.key);
  if (!lb || !lb.enabled) return wildcardOwner && r.kind !== 'nodata' ? { ...r, wildcardOwner } : r;
  // MX and SRV records written at the name stay in charge; the pool builds them only if none are.
  const staticService = (qtype === T.MX || qtype === T.SRV) && r.kind === 'answer' && !r.wildcard;
  if (isSteeredType(qtype) && !staticService) {
    const s = steeredAnswer(ctx, lb, name, qtype);
    if (s.kind === 'rrset') return { kind: 'answer', rrset: s.rrset, wildcardOwner };
    return s.kind === 'nodata' ? { kind: 'nodata', steeredTtl: lb.ttl } : s;
  }
  // HTTPS and SVCB come from the zone file, with the hints of the same steering decision.
  if ((qtype === T.HTTPS || qtype === T.SVCB) && r.kind === 'answer') return { kind: 'answer', rrset: steeredService(ctx, lb, r.rrset), wildcardOwner };
  // Other types come from the zone file, but a static CNAME is shadowed by the load balancer.
  return r.kind === 'cname' ? { kind: 'nodata' } : r;
}

/** `name` (below the DNAME's owner) with the owner's labels replaced by the DNAME target; undefined when longer than 255 octets. */
function synthesizedTarget(name: Name, dname: RRset): Name | undefined {
  const prefix = name.labels.slice(0, name.labelCount - dname.owner.labelCount);
  try {
    return Name.fromLabels([...prefix, ...dname.rdatas[0].names[0].name.labels]);
  } catch (e) {
    if (e instanceof NameError) return undefined;
    throw e;
  }
}

/** Addresses of MX, SRV and NS targets (RFC 1035 §3.3.9, RFC 2782): steered when load balanced. */
function addTargets(ctx: SteeringContext, zone: Zone, rrset: RRset, additional: SectionEntry[]): void {
  if (rrset.type !== T.MX && rrset.type !== T.SRV && rrset.type !== T.NS) return;
  for (const rdata of rrset.rdatas) {
    const target = rdata.names[0].name;
    const lb = rrset.type === T.NS ? undefined : loadBalancerFor(ctx, target);
    if (!lb) {
      addAddresses(zone, target, additional, rrset.type === T.NS); // NS targets below a cut are glue
      continue;
    }
    for (const rrset of steeredAddresses(ctx, lb, target)) {
      if (!additional.some((e) => e.rrset.owner.key === target.key && e.rrset.type === rrset.type)) additional.push({ rrset });
    }
  }
}

/** The enabled load balancer that answers `name`: its own, or a wildcard one, as lookup() finds it. */
function loadBalancerFor(ctx: SteeringContext, name: Name): LoadBalancer | undefined {
  const lbs = ctx.snap.lb.loadBalancers;
  if (lbs.size === 0) return undefined;
  const r = ctx.snap.zones.find(name)?.lookup(name, T.A);
  if (!r || r.kind === 'referral' || r.kind === 'nxdomain' || r.kind === 'dname') return undefined;
  const lb = lbs.get(r.node.name.key);
  return lb?.enabled ? lb : undefined;
}

/** Glue for a referral: addresses of NS targets inside this zone, below the cut or not. */
function addGlue(zone: Zone, ns: RRset, additional: SectionEntry[]): number {
  for (const rdata of ns.rdatas) addAddresses(zone, rdata.names[0].name, additional, true);
  return additional.length;
}

function addAddresses(zone: Zone, target: Name, additional: SectionEntry[], glue: boolean): void {
  if (!target.isSubdomainOf(zone.origin)) return;
  const node = zone.node(target.key);
  if (!node || (node.occluded && !glue)) return;
  for (const type of [T.A, T.AAAA]) {
    const rrset = node.rrsets.get(type);
    if (rrset && !additional.some((e) => e.rrset === rrset)) additional.push({ rrset });
  }
}
