/**
 * The authoritative answer algorithm (RFC 1034 §4.3.2, RFC 2308, RFC 4592, RFC 6604): turns a
 * question into an rcode, the AA flag and the three sections, following CNAME chains inside
 * the zones served here. Knows nothing of the wire; `respond.ts` writes the result.
 */
import type { Name } from './name.js';
import { RCODE, T } from './types.js';
import type { RRset, Zone } from '../zone/zone.js';
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
}

/** A chain longer than this is treated as a loop (BIND and Knot use similar small bounds). */
const MAX_CNAME_CHAIN = 16;

const REFUSED: Resolution = { rcode: RCODE.REFUSED, aa: false, answer: [], authority: [], additional: [], requiredAdditional: 0 };

export function resolve(zones: ZoneSet, qname: Name, qtype: number): Resolution {
  let zone = zones.find(qname, qtype);
  if (!zone) return REFUSED;

  const answer: SectionEntry[] = [];
  const authority: SectionEntry[] = [];
  const additional: SectionEntry[] = [];
  let required = 0;
  let rcode: number = RCODE.NOERROR;
  let aa = true;
  const seen = new Set<string>();
  let name = qname;

  for (let step = 0; ; step++) {
    seen.add(name.key);
    const r = zone.lookup(name, qtype);
    if (r.kind === 'answer') {
      answer.push({ rrset: r.rrset });
      addTargets(zone, r.rrset, additional);
    } else if (r.kind === 'cname') {
      answer.push({ rrset: r.rrset });
      const next = zones.find(r.target, qtype);
      // A chain that leaves our zones, loops or runs too long stops here; the resolver continues it.
      if (!next || seen.has(r.target.key) || step + 1 >= MAX_CNAME_CHAIN) break;
      name = r.target;
      zone = next;
      continue;
    } else if (r.kind === 'referral') {
      if (answer.length === 0) aa = false; // RFC 1034 §4.3.2 step 3b: a referral is not authoritative
      authority.push({ rrset: r.ns });
      required = addGlue(zone, r.ns, additional);
    } else {
      if (r.kind === 'nxdomain') rcode = RCODE.NXDOMAIN; // RFC 6604: the rcode of the last name in the chain
      authority.push({ rrset: zone.soa, ttl: zone.negativeTtl });
    }
    break;
  }
  return { rcode, aa, answer, authority, additional, requiredAdditional: required };
}

/** Addresses of in-zone MX, SRV and NS targets (RFC 1035 §3.3.9, RFC 2782). */
function addTargets(zone: Zone, rrset: RRset, additional: SectionEntry[]): void {
  if (rrset.type !== T.MX && rrset.type !== T.SRV && rrset.type !== T.NS) return;
  for (const rdata of rrset.rdatas) addAddresses(zone, rdata.names[0].name, additional, false);
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
