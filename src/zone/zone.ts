/**
 * A compiled zone: records grouped into RRsets per node, validated once at load time, and the
 * single `lookup(name, type)` that RFC 1034 §4.3.2 and RFC 4592 need (exact match, zone cut,
 * empty non-terminal, closest encloser and wildcard). Protocol decisions (sections, flags) are
 * made by the resolver from the result kind returned here.
 */
import { Name } from '../wire/name.js';
import { T, typeToText } from '../wire/types.js';
import { svcbAliasParams } from '../wire/svcb.js';
import type { ZoneRecord } from './record.js';
import type { Problem } from '../config/problem.js';
import type { Rdata, RRset } from '../wire/record.js';

/** A node's RRsets by type. */
export interface RRsetsByType {
  get(type: number): RRset | undefined;
  has(type: number): boolean;
  readonly size: number;
  keys(): Iterable<number>;
  values(): Iterable<RRset>;
}

/**
 * A node that is its own RRsetsByType. Most nodes have one or two RRsets, and a zone has
 * nodes by the million: a short array searched in order costs a fraction of a Map's memory
 * and is as fast at this size, and one object per node instead of two saves 32 bytes each.
 */
class Node implements ZoneNode, RRsetsByType {
  constructor(
    readonly name: Name,
    private readonly sets: readonly RRset[],
    readonly occluded: boolean,
  ) {}

  get rrsets(): RRsetsByType {
    return this;
  }

  get size(): number {
    return this.sets.length;
  }

  get(type: number): RRset | undefined {
    for (const s of this.sets) if (s.type === type) return s;
    return undefined;
  }

  has(type: number): boolean {
    return this.get(type) !== undefined;
  }

  keys(): Iterable<number> {
    return this.sets.map((s) => s.type);
  }

  values(): Iterable<RRset> {
    return this.sets;
  }
}

const NO_SETS: readonly RRset[] = [];

export interface ZoneNode {
  readonly name: Name;
  /** Empty for an empty non-terminal. */
  readonly rrsets: RRsetsByType;
  /** Below a zone cut: only glue for referrals, never an authoritative answer. */
  readonly occluded: boolean;
}

/**
 * `node` is the node that matched: the query name's own, or `*.<closest encloser>` when the
 * answer is synthesized from a wildcard (`wildcard` true; owners are then the query name).
 */
export type LookupResult =
  | { readonly kind: 'answer'; readonly rrset: RRset; readonly node: ZoneNode; readonly wildcard: boolean }
  /** The name is an alias: the caller restarts the query at `target`. */
  | { readonly kind: 'cname'; readonly rrset: RRset; readonly target: Name; readonly node: ZoneNode; readonly wildcard: boolean }
  /**
   * The name is below the owner of a DNAME (RFC 6672 §2.2): the caller answers with the DNAME
   * and a CNAME synthesized from it, and restarts at the CNAME's target.
   */
  | { readonly kind: 'dname'; readonly rrset: RRset; readonly node: ZoneNode }
  /** The name is at or below a zone cut: refer to `ns`. */
  | { readonly kind: 'referral'; readonly ns: RRset }
  | { readonly kind: 'nodata'; readonly node: ZoneNode; readonly wildcard: boolean }
  | { readonly kind: 'nxdomain' };

/** Types that may sit beside a CNAME (RFC 4035 §2.5 for the DNSSEC ones). */
const CNAME_COMPANIONS = new Set<number>([T.CNAME, T.RRSIG, T.NSEC]);
const GLUE_TYPES = new Set<number>([T.A, T.AAAA]);

export class Zone {
  readonly origin: Name;
  readonly soa: RRset;
  /** RFC 2308 §3: negative answers are cached for min(SOA TTL, SOA MINIMUM). */
  readonly negativeTtl: number;
  private readonly nodes: ReadonlyMap<string, ZoneNode>;
  private readonly cuts: ReadonlySet<string>;
  /** Empty nodes for load-balanced names the zone file does not have (withNames); usually none. */
  private readonly added: ReadonlyMap<string, ZoneNode> | undefined;
  /** The zone has a DNAME somewhere: only then does the walk look for one at each node. */
  private readonly dnames: boolean;

  constructor(origin: Name, soa: RRset, nodes: ReadonlyMap<string, ZoneNode>, cuts: ReadonlySet<string>, dnames: boolean, added?: ReadonlyMap<string, ZoneNode>) {
    this.origin = origin;
    this.soa = soa;
    this.nodes = nodes;
    this.cuts = cuts;
    this.dnames = dnames;
    this.added = added !== undefined && added.size > 0 ? added : undefined;
    const minimum = soa.rdatas[0].wire.readUInt32BE(soa.rdatas[0].wire.length - 4);
    this.negativeTtl = Math.min(soa.ttl, minimum);
  }

  /** Number of RRsets (for logs and status). */
  get rrsetCount(): number {
    let n = 0;
    for (const node of this.nodes.values()) n += node.rrsets.size;
    return n;
  }

  /**
   * This zone with another SOA serial (a serial policy raised it): the apex node is replaced,
   * every other node is shared.
   */
  withSerial(serial: number): Zone {
    const old = this.soa.rdatas[0];
    const wire = Buffer.from(old.wire);
    wire.writeUInt32BE(serial >>> 0, wire.length - 20);
    const soa: RRset = { ...this.soa, rdatas: [{ wire, names: old.names }] };
    const apex = this.nodes.get(this.origin.key)!;
    const nodes = new Map(this.nodes);
    nodes.set(this.origin.key, new Node(apex.name, [...apex.rrsets.values()].map((s) => (s.type === T.SOA ? soa : s)), apex.occluded));
    return new Zone(this.origin, soa, nodes, this.cuts, this.dnames, this.added);
  }

  /** Every RRset of the zone as loaded, node by node, glue and occluded data included: what a transfer sends. */
  *rrsets(): Generator<RRset> {
    for (const node of this.nodes.values()) yield* node.rrsets.values();
  }

  /** Number of records (for the status page), counted once: a zone never changes. */
  get recordCount(): number {
    if (this.records === undefined) {
      let n = 0;
      for (const node of this.nodes.values()) for (const set of node.rrsets.values()) n += set.rdatas.length;
      this.records = n;
    }
    return this.records;
  }

  private records: number | undefined;

  /** The node with exactly this key, glue and occluded data included. */
  node(key: string): ZoneNode | undefined {
    const n = this.nodes.get(key);
    return n !== undefined || this.added === undefined ? n : this.added.get(key);
  }

  /**
   * A copy of this zone in which `names` (and their ancestors) exist, as empty nodes where the
   * zone has no data: load-balanced names are real names of the zone, so their parents are
   * empty non-terminals and other types at them are NODATA, not NXDOMAIN. The zone's own
   * nodes are shared, not copied: a zone may have millions.
   */
  withNames(names: readonly Name[]): Zone {
    const added = new Map(this.added);
    for (const name of names) {
      for (let n: Name | undefined = name; n && n.key !== this.origin.key && this.nodes.get(n.key) === undefined && !added.has(n.key); n = n.parent()) {
        added.set(n.key, new Node(n, NO_SETS, false));
      }
    }
    return new Zone(this.origin, this.soa, this.nodes, this.cuts, this.dnames, added);
  }

  /**
   * RFC 1034 §4.3.2 step 3 for a name inside this zone. DS at a cut is answered from this
   * (the parent) side instead of referring (RFC 4035 §3.1.4.1). A DNAME at a node above the
   * name rewrites it (RFC 6672 §3.2, checked where step 3c checks for a cut).
   */
  lookup(qname: Name, qtype: number): LookupResult {
    const keys = qname.suffixKeys();
    const depth = this.origin.labelCount;
    // keys[i] is the name with i labels removed; walk from just below the apex down to qname.
    let encloser = this.node(this.origin.key)!;
    if (this.dnames && keys.length - depth - 1 > 0) {
      const dname = encloser.rrsets.get(T.DNAME);
      if (dname) return { kind: 'dname', rrset: dname, node: encloser };
    }
    for (let i = keys.length - depth - 2; i >= 0; i--) {
      const node = this.node(keys[i]);
      if (!node) return this.wildcard(qname, qtype, encloser);
      if (this.cuts.has(keys[i]) && !(i === 0 && qtype === T.DS)) {
        return { kind: 'referral', ns: node.rrsets.get(T.NS)! };
      }
      if (this.dnames && i > 0) {
        const dname = node.rrsets.get(T.DNAME);
        if (dname) return { kind: 'dname', rrset: dname, node };
      }
      encloser = node;
    }
    return this.fromNode(encloser, qtype, false);
  }

  /** RFC 4592 §3.3.1: only `*.<closest encloser>` can synthesize an answer. */
  private wildcard(qname: Name, qtype: number, encloser: ZoneNode): LookupResult {
    const star = this.node('*.' + (encloser.name.key === '.' ? '' : encloser.name.key));
    if (!star) return { kind: 'nxdomain' };
    // A wildcard with NS is a delegation for every name it covers (RFC 4592 §4.2).
    if (this.cuts.has(star.name.key)) return { kind: 'referral', ns: star.rrsets.get(T.NS)! };
    return this.fromNode(star, qtype, true, qname);
  }

  private fromNode(node: ZoneNode, qtype: number, wildcard: boolean, owner?: Name): LookupResult {
    const rename = (rrset: RRset): RRset => (owner ? { ...rrset, owner } : rrset);
    const cname = node.rrsets.get(T.CNAME);
    // RFC 1034 §4.3.2 step 3a: ANY matches the CNAME itself, so the chain is not followed.
    if (cname && qtype !== T.CNAME && qtype !== T.ANY) {
      return { kind: 'cname', rrset: rename(cname), target: cname.rdatas[0].names[0].name, node, wildcard };
    }
    let rrset = node.rrsets.get(qtype);
    if (!rrset && qtype === T.ANY) rrset = firstRRset(node);
    if (rrset) return { kind: 'answer', rrset: rename(rrset), node, wildcard };
    return { kind: 'nodata', node, wildcard };
  }
}

/** RFC 8482 §4.1: answer ANY with one RRset; the lowest type number keeps it predictable. */
function firstRRset(node: ZoneNode): RRset | undefined {
  let best: RRset | undefined;
  for (const rrset of node.rrsets.values()) if (!best || rrset.type < best.type) best = rrset;
  return best;
}

export interface CompileResult {
  zone?: Zone;
  problems: Problem[];
}

/**
 * Groups records into RRsets and validates the zone: exactly one SOA at the apex, NS at the
 * apex, nothing beside a CNAME, addresses for in-zone NS targets. Out-of-zone records are
 * dropped with a warning. Any error means no zone.
 */
export function compileZone(apex: Name, records: readonly ZoneRecord[], file: string): CompileResult {
  const problems: Problem[] = [];
  const error = (line: number, message: string, f = file) => problems.push({ file: f, line, severity: 'error', message });
  const warn = (line: number, message: string, f = file) => problems.push({ file: f, line, severity: 'warning', message });

  // Nodes as they are built: RRsets in a plain array (most nodes have one), with where each came from.
  interface Source { line: number; file: string }
  interface Building { name: Name; sets: readonly RRset[]; sources: readonly Source[]; occluded: boolean }
  const NO_SOURCES: readonly Source[] = [];
  const building = new Map<string, Building>();
  const ensure = (name: Name): Building => {
    let b = building.get(name.key);
    if (!b) {
      b = { name, sets: NO_SETS, sources: NO_SOURCES, occluded: false };
      building.set(name.key, b);
      const parent = name.parent();
      if (parent && name.key !== apex.key) ensure(parent); // empty non-terminals up to the apex
    }
    return b;
  };
  /** The RRset of `type` at a node with where it was first written, or undefined. */
  const find = (b: Building | undefined, type: number): { rrset: RRset; line: number; file: string } | undefined => {
    if (!b) return undefined;
    for (let i = 0; i < b.sets.length; i++) if (b.sets[i].type === type) return { rrset: b.sets[i], ...b.sources[i] };
    return undefined;
  };
  ensure(apex);

  for (const r of records) {
    if (!r.owner.isSubdomainOf(apex)) {
      warn(r.line, `${r.owner} is outside the zone ${apex}; ignored`, r.file);
      continue;
    }
    if (r.type === T.SOA && r.owner.key !== apex.key) {
      error(r.line, `SOA record for ${r.owner} is not at the zone apex ${apex}`, r.file);
      continue;
    }
    if ((r.type === T.SVCB || r.type === T.HTTPS) && svcbAliasParams(r.rdata.wire, r.rdata.names[0].offset + r.rdata.names[0].name.wire.length)) {
      // RFC 9460 §2.4.2: SHOULD NOT; BIND, NSD and Knot load it, so a warning, and it is served as written.
      warn(r.line, `${typeToText(r.type)} record for ${r.owner} is in AliasMode (priority 0) but has SvcParams; clients ignore them (RFC 9460 §2.4.2)`, r.file);
    }
    const node = ensure(r.owner);
    const at = node.sets.findIndex((s) => s.type === r.type);
    if (at < 0) {
      // New arrays of the exact size: a million nodes with arrays grown by push keep spare room.
      const rrset: RRset = { owner: node.name, type: r.type, ttl: r.ttl, rdatas: [r.rdata] };
      const source = { line: r.line, file: r.file };
      node.sets = node.sets.length === 0 ? [rrset] : node.sets.concat([rrset]);
      node.sources = node.sources.length === 0 ? [source] : node.sources.concat([source]);
      continue;
    }
    const rrset = node.sets[at];
    const first = node.sources[at];
    if (rrset.rdatas.some((d) => d.wire.equals(r.rdata.wire))) continue; // RFC 2181 §5: an RRset has no duplicates
    if (r.type === T.SOA) {
      error(r.line, `second SOA record at the apex (the first is on line ${first.line})`, r.file);
      continue;
    }
    if (r.type === T.CNAME || r.type === T.DNAME) {
      const what = typeToText(r.type);
      error(r.line, `second ${what} record for ${r.owner} (the first is on line ${first.line}); a name has one ${what} at most`, r.file);
      continue;
    }
    if (r.ttl !== rrset.ttl) {
      // RFC 2181 §5.2: one TTL per RRset; like BIND, keep the first.
      warn(r.line, `TTL ${r.ttl} differs from ${rrset.ttl} of the ${typeToText(r.type)} RRset at ${r.owner} (line ${first.line}); using ${rrset.ttl}`, r.file);
    }
    (rrset.rdatas as Rdata[]).push(r.rdata); // the RRset is still being built: nothing else has seen it
  }

  const apexNode = building.get(apex.key)!;
  const soa = find(apexNode, T.SOA);
  if (!soa) error(0, `zone ${apex} has no SOA record at its apex`);
  if (!find(apexNode, T.NS)) error(soa?.line ?? 0, `zone ${apex} has no NS records at its apex`, soa?.file);

  // Zone cuts: NS anywhere but the apex. Data below a cut other than glue is occluded.
  const cuts = new Set<string>();
  for (const [key, b] of building) if (key !== apex.key && find(b, T.NS)) cuts.add(key);
  const belowCut = (name: Name): string | undefined => {
    for (let n = name.parent(); n && n.key !== apex.key && n.labelCount >= apex.labelCount; n = n.parent()) {
      if (cuts.has(n.key)) return n.key;
    }
    return undefined;
  };

  for (const [key, b] of building) {
    const cname = find(b, T.CNAME);
    if (cname) {
      b.sets.forEach(({ type }, i) => {
        if (!CNAME_COMPANIONS.has(type)) {
          error(b.sources[i].line, `${b.name} has a CNAME (line ${cname.line}) and other data (${typeToText(type)}); a CNAME must stand alone`, b.sources[i].file);
        }
      });
      if (key === apex.key) error(cname.line, `CNAME at the zone apex ${apex}`, cname.file);
    }
    const cut = cuts.size > 0 ? belowCut(b.name) : undefined;
    b.occluded = cut !== undefined;
    b.sets.forEach(({ type }, i) => {
      const s = b.sources[i];
      if (cut && !GLUE_TYPES.has(type)) {
        warn(s.line, `${typeToText(type)} record for ${b.name} is below the delegation at ${cut} and will not be served`, s.file);
      }
      if (cuts.has(key) && type !== T.NS && type !== T.DS && !GLUE_TYPES.has(type)) {
        warn(s.line, `${typeToText(type)} record at the delegation point ${b.name} will not be served (only NS, DS and glue are)`, s.file);
      }
    });
  }

  // RFC 6672 §2.3: no data below a DNAME, since no query can reach it (and the CNAME rule covers DNAME beside CNAME).
  const dnameOwners = new Set<string>();
  for (const [key, b] of building) {
    const dname = find(b, T.DNAME);
    if (!dname || b.occluded) continue;
    dnameOwners.add(key);
    // RFC 6672 §3.3: the server MAY warn; it answers DNAME queries only (RFC 4592 §4.4), as Knot and NSD do.
    if (b.name.key.startsWith('*.')) warn(dname.line, `${b.name} is a DNAME at a wildcard (RFC 6672 §3.3: SHOULD NOT be used); it answers DNAME queries for the names it covers and rewrites no name`, dname.file);
    // A DNAME beside a delegation would be parent-side data at a cut; Knot refuses such a zone too.
    if (cuts.has(key)) error(dname.line, `${b.name} has a DNAME and NS records: a delegation point cannot also be a DNAME (only the apex may have both)`, dname.file);
  }
  if (dnameOwners.size > 0) {
    for (const b of building.values()) {
      if (b.sets.length === 0) continue;
      for (let n = b.name.parent(); n && n.labelCount >= apex.labelCount; n = n.parent()) {
        if (!dnameOwners.has(n.key)) continue;
        const d = find(building.get(n.key), T.DNAME)!;
        error(b.sources[0].line, `${b.name} is below the DNAME at ${n} (line ${d.line}); RFC 6672 §2.3 allows no data below a DNAME, as no query can reach it`, b.sources[0].file);
        break;
      }
    }
  }

  // Every in-zone NS target needs an address here, or resolvers cannot reach it (glue).
  for (const b of building.values()) {
    const ns = find(b, T.NS);
    if (!ns) continue;
    for (const rdata of ns.rrset.rdatas) {
      const target = rdata.names[0].name;
      if (!target.isSubdomainOf(apex)) continue;
      const t = building.get(target.key);
      if (!find(t, T.A) && !find(t, T.AAAA)) {
        // Glue below a cut is the only way to reach that server; an authoritative name without
        // addresses is only odd (NSD and Knot load it), so a warning.
        if (belowCut(target) || cuts.has(target.key)) error(ns.line, `NS target ${target} is inside the zone but has no glue (A or AAAA)`, ns.file);
        else warn(ns.line, `NS target ${target} is inside the zone but has no address records (A or AAAA); resolvers cannot reach that server by this name`, ns.file);
      }
    }
  }

  if (problems.some((p) => p.severity === 'error')) return { problems };

  // The nodes replace the entries being built in the same map: a second map of a million
  // entries, next to the first, is what a large zone's peak memory was made of.
  const nodes = building as Map<string, Building | ZoneNode>;
  for (const [key, b] of building) {
    nodes.set(key, new Node(b.name, b.sets, b.occluded));
  }
  return { zone: new Zone(apex, soa!.rrset, nodes as Map<string, ZoneNode>, cuts, dnameOwners.size > 0), problems };
}
