/**
 * Turns a steering decision into DNS data: A/AAAA from the chosen origins (hostname origins
 * flattened), a CNAME for a hostname origin with `flatten_cname: false`, and MX/SRV built from
 * the chosen pool. The load-balancing core decides; this file only writes records.
 */
import { Name } from '../wire/name.js';
import { CLASS_IN, T } from '../wire/types.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import type { ClientInfo, LoadBalancer, Origin } from '../lb/model.js';
import { persistentDecision } from '../lb/persistence.js';
import { steer, type Decision } from '../lb/steer.js';
import { addressRdata } from '../wire/rdata.js';
import { SVC_KEY, splitSvcb, type SvcbRdata } from '../wire/svcb.js';
import { uintBytes } from '../wire/rdata-io.js';
import type { Rdata } from '../wire/record.js';
import type { RRset } from '../wire/record.js';

export type SteeredAnswer =
  | { readonly kind: 'rrset'; readonly rrset: RRset }
  | { readonly kind: 'cname'; readonly rrset: RRset; readonly target: Name }
  | { readonly kind: 'nodata' };

/** Per-query state: the client, and decisions already taken so one query gets one answer per name. */
export interface SteeringContext {
  readonly snap: Snapshot;
  readonly client: ClientInfo;
  readonly decisions: Decisions;
}

/**
 * The decisions one query took, per load balancer, in the order taken. Nearly every query
 * takes one: it is kept in fields, and only a second makes an array (a Map would cost about
 * 200 bytes per query). Read by index, so reading allocates nothing either.
 */
export class Decisions {
  private firstLb: LoadBalancer | undefined;
  private firstDecision: Decision | undefined;
  private rest: { readonly lb: LoadBalancer; decision: Decision }[] | undefined;

  get size(): number {
    return this.firstLb === undefined ? 0 : 1 + (this.rest?.length ?? 0);
  }

  get(lb: LoadBalancer): Decision | undefined {
    if (this.firstLb === lb) return this.firstDecision;
    if (this.rest) for (const e of this.rest) if (e.lb === lb) return e.decision;
    return undefined;
  }

  set(lb: LoadBalancer, decision: Decision): void {
    if (this.firstLb === undefined || this.firstLb === lb) {
      this.firstLb = lb;
      this.firstDecision = decision;
      return;
    }
    const kept = this.rest?.find((e) => e.lb === lb);
    if (kept) kept.decision = decision;
    else (this.rest ??= []).push({ lb, decision });
  }

  /** The i-th load balancer decided for, 0 <= i < size. */
  loadBalancerAt(i: number): LoadBalancer {
    return i === 0 ? this.firstLb! : this.rest![i - 1].lb;
  }

  /** The i-th decision, 0 <= i < size. */
  decisionAt(i: number): Decision {
    return i === 0 ? this.firstDecision! : this.rest![i - 1].decision;
  }
}

export function decide(ctx: SteeringContext, lb: LoadBalancer): Decision {
  let d = ctx.decisions.get(lb);
  if (!d) {
    const snap = ctx.snap;
    const p = lb.persistence;
    d = p !== undefined && snap.persistence !== undefined
      ? persistentDecision(lb, p, snap.persistence, snap.health, ctx.client, snap.asn)
      : steer(lb, snap.health, ctx.client, snap.random);
    ctx.decisions.set(lb, d);
  }
  return d;
}

/** Record types a load balancer answers; other types at its name come from the zone file. */
export function isSteeredType(qtype: number): boolean {
  return qtype === T.A || qtype === T.AAAA || qtype === T.CNAME || qtype === T.ANY || qtype === T.MX || qtype === T.SRV;
}

export function steeredAnswer(ctx: SteeringContext, lb: LoadBalancer, owner: Name, qtype: number): SteeredAnswer {
  const d = decide(ctx, lb);
  if (qtype === T.MX || qtype === T.SRV) return serviceAnswer(lb, d, owner, qtype);
  const cname = cnameOrigin(ctx.snap, lb, d);
  if (cname) {
    const rrset: RRset = { owner, type: T.CNAME, ttl: lb.ttl, rdatas: [nameRdata(cname)] };
    return qtype === T.CNAME || qtype === T.ANY ? { kind: 'rrset', rrset } : { kind: 'cname', rrset, target: cname };
  }
  if (qtype === T.CNAME) return { kind: 'nodata' };
  const types = qtype === T.ANY ? [T.A, T.AAAA] : [qtype];
  for (const type of types) {
    const rdatas = addresses(ctx, d.origins, type);
    if (rdatas.length > 0) return { kind: 'rrset', rrset: { owner, type, ttl: lb.ttl, rdatas } };
  }
  return { kind: 'nodata' };
}

/**
 * A or AAAA at a load balancer's own name as answer records ready to copy: one per address
 * of the family among the chosen IP origins (an address chosen twice answers once, as in
 * `addresses`), each owned by a pointer to the question's name (offset 12), written once per
 * (load balancer, address). Undefined where steeredAnswer must answer: a hostname origin
 * (flattened or a CNAME), or no address of the family (NODATA). The decision is kept in the
 * context either way.
 */
export function directRecords(ctx: SteeringContext, lb: LoadBalancer, qtype: number): readonly Buffer[] | undefined {
  const origins = decide(ctx, lb).origins;
  const v4 = qtype === T.A;
  let out: Buffer[] | undefined;
  for (let i = 0; i < origins.length; i++) {
    const a = origins[i].address;
    if (a.kind === 'hostname') return undefined;
    if ((a.kind === 'ipv4') !== v4) continue;
    const r = encodedRecord(lb, a.ip);
    if (out === undefined) out = [r];
    else if (!out.includes(r)) out.push(r);
  }
  return out;
}

/** Per load balancer, by address text: the same address is the same record (and buffer). */
const encodedRecords = new WeakMap<LoadBalancer, Map<string, Buffer>>();

/** An address's record at the load balancer's name: pointer to offset 12, type, class IN, the load balancer's TTL, RDATA. */
function encodedRecord(lb: LoadBalancer, ip: string): Buffer {
  let byAddress = encodedRecords.get(lb);
  if (byAddress === undefined) encodedRecords.set(lb, (byAddress = new Map()));
  let r = byAddress.get(ip);
  if (r === undefined) {
    const rdata = addressRdata(ip).wire;
    r = Buffer.allocUnsafeSlow(12 + rdata.length);
    r.writeUInt16BE(0xc000 | 12, 0);
    r.writeUInt16BE(rdata.length === 4 ? T.A : T.AAAA, 2);
    r.writeUInt16BE(CLASS_IN, 4);
    r.writeUInt32BE(lb.ttl, 6);
    r.writeUInt16BE(rdata.length, 10);
    rdata.copy(r, 12);
    byAddress.set(ip, r);
  }
  return r;
}

/**
 * A ServiceMode SVCB/HTTPS record whose hints follow the steering, cut once at load: the wire
 * before the hints (head and keys 0-3, in four variants by which hint families the decision
 * has, since `mandatory` must not list a hint that is left out), between them (key 5) and after
 * them (keys 7 and up). A query only joins those with the decision's addresses.
 */
interface HintedRecord {
  /** Indexed by (has IPv4 ? 1 : 0) | (has IPv6 ? 2 : 0). */
  readonly before: readonly [Buffer, Buffer, Buffer, Buffer];
  readonly between: Buffer;
  readonly after: Buffer;
}

/** A zone file's SVCB/HTTPS record at a load balancer's name: as written, or with steered hints. */
interface ServiceTemplate {
  readonly rdata: Rdata;
  readonly hinted?: HintedRecord;
}

interface ServiceTemplates {
  readonly list: readonly ServiceTemplate[];
  readonly steered: boolean;
  /** Finished rdatas per decision origins array that is a pool's own (stable until a reload). */
  readonly byOrigins: WeakMap<readonly Origin[], readonly Rdata[]>;
}

const serviceTemplates = new WeakMap<readonly Rdata[], ServiceTemplates>();

function paramBytes(params: ReadonlyMap<number, Buffer>, keep: (key: number) => boolean): Buffer {
  const keys = [...params.keys()].filter(keep).sort((a, b) => a - b);
  return Buffer.concat(keys.flatMap((k) => [uintBytes(k, 2), uintBytes(params.get(k)!.length, 2), params.get(k)!]));
}

function hinted(svcb: SvcbRdata): HintedRecord {
  const mandatory = svcb.params.get(SVC_KEY.mandatory);
  const variant = (mask: number): Buffer => {
    const params = new Map(svcb.params);
    if (mandatory) {
      // A hint family the decision has no address of is left out, and so is its name in `mandatory`
      // (RFC 9460 §8: mandatory lists only keys the record has); an empty list goes too.
      const keys: Buffer[] = [];
      for (let k = 0; k < mandatory.length; k += 2) {
        const key = mandatory.readUInt16BE(k);
        if ((key === SVC_KEY.ipv4hint && !(mask & 1)) || (key === SVC_KEY.ipv6hint && !(mask & 2))) continue;
        keys.push(mandatory.subarray(k, k + 2));
      }
      if (keys.length > 0) params.set(SVC_KEY.mandatory, Buffer.concat(keys));
      else params.delete(SVC_KEY.mandatory);
    }
    return Buffer.concat([svcb.head, paramBytes(params, (k) => k < SVC_KEY.ipv4hint)]);
  };
  return {
    before: [variant(0), variant(1), variant(2), variant(3)],
    between: paramBytes(svcb.params, (k) => k > SVC_KEY.ipv4hint && k < SVC_KEY.ipv6hint),
    after: paramBytes(svcb.params, (k) => k > SVC_KEY.ipv6hint),
  };
}

function templatesOf(rrset: RRset, lb: LoadBalancer): ServiceTemplates {
  let out = serviceTemplates.get(rrset.rdatas);
  if (out === undefined) {
    const list = rrset.rdatas.map((rdata): ServiceTemplate => {
      const target = rdata.names[0];
      // The hints are for the name itself: target "." or the load balancer's name (its owner).
      const own = target.name.labelCount === 0 || target.name.key === lb.name.key;
      const priority = rdata.wire.readUInt16BE(0);
      return priority > 0 && own ? { rdata, hinted: hinted(splitSvcb(rdata.wire, target.offset + target.name.wire.length)) } : { rdata };
    });
    out = { list, steered: list.some((x) => x.hinted !== undefined), byOrigins: new WeakMap() };
    serviceTemplates.set(rrset.rdatas, out);
  }
  return out;
}

/** One hint's key, length and addresses; nothing without addresses. */
function hintParam(key: number, addrs: readonly Rdata[]): Buffer[] {
  if (addrs.length === 0) return [];
  const head = Buffer.allocUnsafe(4);
  head.writeUInt16BE(key, 0);
  head.writeUInt16BE(addrs.length * addrs[0].wire.length, 2);
  return [head, ...addrs.map((a) => a.wire)];
}

/**
 * HTTPS or SVCB records written in the zone file at a load balancer's name, with the
 * ipv4hint and ipv6hint of each ServiceMode record for this name replaced by the addresses
 * the same steering decision gives for A and AAAA (RFC 9460 §7.3: clients connect to the
 * hints). A family without addresses loses its hint, and `mandatory` its name. AliasMode
 * records and records for other targets are left as written. The TTL is at most the load
 * balancer's: the hints change with health. The records are cut at load (templatesOf), and
 * finished once per pool while the decision is a pool's whole origin list of IP addresses.
 */
export function steeredService(ctx: SteeringContext, lb: LoadBalancer, rrset: RRset): RRset {
  const templates = templatesOf(rrset, lb);
  const ttl = Math.min(rrset.ttl, lb.ttl);
  if (!templates.steered) return { owner: rrset.owner, type: rrset.type, ttl, rdatas: rrset.rdatas };
  const d = decide(ctx, lb);
  const stable = d.pool !== undefined && d.origins === d.pool.origins && d.origins.every((o) => o.address.kind !== 'hostname');
  let rdatas = stable ? templates.byOrigins.get(d.origins) : undefined;
  if (rdatas === undefined) {
    const v4 = addresses(ctx, d.origins, T.A);
    const v6 = addresses(ctx, d.origins, T.AAAA);
    const mask = (v4.length > 0 ? 1 : 0) | (v6.length > 0 ? 2 : 0);
    rdatas = templates.list.map((tpl): Rdata => {
      const h = tpl.hinted;
      if (!h) return tpl.rdata;
      const wire = Buffer.concat([h.before[mask], ...hintParam(SVC_KEY.ipv4hint, v4), h.between, ...hintParam(SVC_KEY.ipv6hint, v6), h.after]);
      return { wire, names: tpl.rdata.names };
    });
    if (stable) templates.byOrigins.set(d.origins, rdatas);
  }
  return { owner: rrset.owner, type: rrset.type, ttl, rdatas };
}

/** Addresses of the load balancer for the additional section (MX/SRV targets). */
export function steeredAddresses(ctx: SteeringContext, lb: LoadBalancer, owner: Name): RRset[] {
  const d = decide(ctx, lb);
  if (cnameOrigin(ctx.snap, lb, d)) return [];
  const out: RRset[] = [];
  for (const type of [T.A, T.AAAA]) {
    const rdatas = addresses(ctx, d.origins, type);
    if (rdatas.length > 0) out.push({ owner, type, ttl: lb.ttl, rdatas });
  }
  return out;
}

/**
 * A CNAME is answered when the decision is a single hostname origin with flatten_cname false,
 * and only where a CNAME may live: not at a zone apex, not beside other records at the name
 * (RFC 2181 §10.1). Several origins are always flattened, since a name has one CNAME at most.
 */
function cnameOrigin(snap: Snapshot, lb: LoadBalancer, d: Decision): Name | undefined {
  if (d.origins.length !== 1) return undefined;
  const o = d.origins[0];
  if (o.address.kind !== 'hostname' || o.flatten_cname || !mayAnswerCname(snap, lb)) return undefined;
  return o.address.name;
}

const cnameAllowed = new WeakMap<LoadBalancer, boolean>();

/** Worked out once per load balancer (a reload builds new ones): the zone data does not change. */
function mayAnswerCname(snap: Snapshot, lb: LoadBalancer): boolean {
  let ok = cnameAllowed.get(lb);
  if (ok === undefined) {
    ok = lb.name.key !== lb.zone.key;
    const node = snap.zones.find(lb.name)?.node(lb.name.key);
    if (node) for (const type of node.rrsets.keys()) if (type !== T.A && type !== T.AAAA && type !== T.CNAME) ok = false;
    cnameAllowed.set(lb, ok);
  }
  return ok;
}

function addresses(ctx: SteeringContext, origins: readonly Origin[], type: number): Rdata[] {
  const out: Rdata[] = [];
  for (const o of origins) {
    const a = o.address;
    if (a.kind === 'hostname') {
      for (const r of hostnameAddresses(ctx, a.name, type)) if (!out.some((x) => x.wire.equals(r.wire))) out.push(r);
    } else if ((a.kind === 'ipv4') === (type === T.A)) {
      const r = ipRdata(o);
      if (!out.some((x) => x.wire.equals(r.wire))) out.push(r);
    }
  }
  return out;
}

/** Hostnames in our own zones are resolved from the zone data; others from the background cache. */
function hostnameAddresses(ctx: SteeringContext, name: Name, type: number): readonly Rdata[] {
  const zone = ctx.snap.zones.find(name);
  if (zone) {
    const r = zone.lookup(name, type);
    return r.kind === 'answer' ? r.rrset.rdatas : [];
  }
  return ctx.snap.hostnames.get(name, type) ?? [];
}

const ipCache = new WeakMap<Origin, Rdata>();

/** Wire form of an IP origin's address, computed once per origin. */
function ipRdata(o: Origin): Rdata {
  let r = ipCache.get(o);
  if (!r) {
    r = addressRdata((o.address as { ip: string }).ip);
    ipCache.set(o, r);
  }
  return r;
}

function nameRdata(name: Name, prefix?: Buffer): Rdata {
  const wire = prefix ? Buffer.concat([prefix, name.wire]) : name.wire;
  return { wire, names: [{ offset: prefix ? prefix.length : 0, name }] };
}

/**
 * MX and SRV at a load-balanced name: one record per chosen hostname origin (IP origins cannot
 * be targets and are left out). MX preference and SRV priority are 10 x the chosen pool's
 * position in default_pools (fallback: after all of them), so they say which pool answered;
 * SRV weight is the origin weight x 100 and the port the origin's `port` (origins without a
 * port are left out of SRV answers).
 */
function serviceAnswer(lb: LoadBalancer, d: Decision, owner: Name, qtype: number): SteeredAnswer {
  if (!d.pool) return { kind: 'nodata' };
  const index = lb.default_pools.indexOf(d.pool);
  const rank = 10 * (index >= 0 ? index + 1 : lb.default_pools.length + 1);
  const rdatas: Rdata[] = [];
  for (const o of d.origins) {
    // IP origins cannot be targets; an SRV needs a port, and port 0 says "none given".
    if (o.address.kind !== 'hostname' || (qtype === T.SRV && o.port === 0)) continue;
    if (qtype === T.MX) {
      rdatas.push(nameRdata(o.address.name, Buffer.from([rank >> 8, rank & 0xff])));
    } else {
      const fixed = Buffer.alloc(6);
      fixed.writeUInt16BE(rank, 0);
      fixed.writeUInt16BE(Math.round(o.weight * 100), 2);
      fixed.writeUInt16BE(o.port, 4);
      rdatas.push(nameRdata(o.address.name, fixed));
    }
  }
  if (rdatas.length === 0) return { kind: 'nodata' };
  return { kind: 'rrset', rrset: { owner, type: qtype, ttl: lb.ttl, rdatas } };
}
