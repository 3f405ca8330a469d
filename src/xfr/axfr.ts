/**
 * Zone transfers out (RFC 5936 AXFR; RFC 1995 IXFR answered in AXFR form, or with the SOA alone
 * when the client is up to date): who may transfer a zone (allow-transfer: TSIG keys and
 * networks), and the zone's records as a stream of messages, SOA first and last, compressed,
 * each as large as TCP allows. The messages are made one at a time as the connection takes
 * them, so a zone of millions of records is never held twice, and the names are written
 * without keeping their wire form on them (answers keep it), so a transfer leaves the zone's
 * memory as it found it.
 *
 * Load-balanced names are not records. By default (`transfer-load-balancers: omit`) their
 * A, AAAA and CNAME are left out, as Cloudflare does; with `fallback`, each load balancer is
 * sent as the addresses of its fallback pool's IP origins, with its TTL, so that a plain
 * secondary answers something sensible.
 */
import type { ZoneOptions } from '../config/zone-options.js';
import type { LbConfig, LoadBalancer } from '../lb/model.js';
import type { Zone } from '../zone/zone.js';
import type { Change, JournalRecord } from '../zone/changes.js';
import { addressOctets, inNetwork, parseAddress, unmapped } from '../wire/ip.js';
import { isIP } from 'node:net';
import type { Name } from '../wire/name.js';
import type { RRset, Rdata } from '../wire/record.js';
import { T } from '../wire/types.js';
import { MessageWriter } from '../wire/writer.js';

/** Room kept in every message for a TSIG record (owner, header, the longest algorithm name, a 64-octet MAC, other data). */
const TSIG_ROOM = 256 + 10 + 30 + 16 + 64 + 6;
const MAX_MESSAGE = 65535;
const QR = 0x8000;
const AA = 0x0400;
const SHADOWED: ReadonlySet<number> = new Set([T.A, T.AAAA, T.CNAME]);

/** May this client (address, and the key its request was signed with) transfer the zone? */
export function mayTransfer(options: ZoneOptions | undefined, clientAddress: string, keyName: string | undefined): boolean {
  if (!options) return false;
  const ip = unmapped(clientAddress.split('%')[0]);
  const family = isIP(ip);
  const words = new Uint32Array(4);
  if (family === 4 || family === 6) parseAddress(ip, family, words);
  return options.allowTransfer.some((rule) => {
    if (rule.key !== undefined && rule.key !== keyName) return false;
    if (rule.network !== undefined && (rule.network.family !== family || !inNetwork(words, rule.network))) return false;
    return true;
  });
}

/** The load balancers of `zone`, by name key. */
function loadBalancersOf(zone: Zone, lb: LbConfig): Map<string, LoadBalancer> {
  const out = new Map<string, LoadBalancer>();
  for (const b of lb.loadBalancers.values()) if (b.enabled && b.zone.key === zone.origin.key) out.set(b.name.key, b);
  return out;
}

/** A load balancer as static records: its fallback pool's IP origins, A and AAAA, with its TTL. */
function fallbackRRsets(b: LoadBalancer): RRset[] {
  const byType = new Map<number, Rdata[]>();
  for (const o of b.fallback_pool.origins) {
    if (!o.enabled || o.address.kind === 'hostname') continue;
    const wire = addressOctets(o.address.ip);
    if (!wire) continue;
    const type = wire.length === 4 ? T.A : T.AAAA;
    const list = byType.get(type) ?? [];
    if (!list.some((r) => r.wire.equals(wire))) list.push({ wire, names: [] });
    byType.set(type, list);
  }
  return [...byType].map(([type, rdatas]) => ({ owner: b.name, type, ttl: b.ttl, rdatas }));
}

/** The RRsets a transfer of `zone` sends between its two SOAs. */
function* transferred(zone: Zone, lb: LbConfig, mode: 'omit' | 'fallback'): Generator<RRset> {
  const balancers = loadBalancersOf(zone, lb);
  for (const rrset of zone.rrsets()) {
    if (rrset.type === T.SOA && rrset.owner.key === zone.origin.key) continue;
    // A load balancer's name answers from steering, not from these: they would mislead a secondary.
    if (SHADOWED.has(rrset.type) && balancers.has(rrset.owner.key)) continue;
    yield rrset;
  }
  if (mode === 'fallback') for (const b of balancers.values()) yield* fallbackRRsets(b);
}

export interface TransferRequest {
  readonly id: number;
  readonly qname: Name;
  readonly qtype: number;
  readonly qclass: number;
}

/**
 * The messages of a full transfer of `zone`: SOA, every RRset, SOA (RFC 5936 §2.2), the
 * question in the first message only. `sign` adds the TSIG record of each message in turn.
 */
export function axfrMessages(zone: Zone, lb: LbConfig, options: ZoneOptions | undefined, req: TransferRequest, sign?: (msg: Buffer) => Buffer): Generator<Buffer> {
  return messagesOf(
    (function* () {
      yield zone.soa;
      yield* transferred(zone, lb, options?.transferLoadBalancers ?? 'omit');
      yield zone.soa;
    })(),
    req,
    sign,
  );
}

/**
 * An incremental transfer (RFC 1995 §4): the current SOA, then for each change the SOA before
 * it, the records it deleted, the SOA after it and the records it added, and the current SOA.
 */
export function ixfrMessages(zone: Zone, changes: readonly Change[], req: TransferRequest, sign?: (msg: Buffer) => Buffer): Generator<Buffer> {
  const one = (r: JournalRecord): RRset => ({ owner: r.owner, type: r.type, ttl: r.ttl, rdatas: [r.rdata] });
  return messagesOf(
    (function* () {
      yield zone.soa;
      for (const c of changes) {
        yield c.from;
        for (const r of c.deleted) yield one(r);
        yield c.to;
        for (const r of c.added) yield one(r);
      }
      yield zone.soa;
    })(),
    req,
    sign,
  );
}

/** RRsets packed into messages of up to 64 KiB, the question in the first only, each signed by `sign` in turn. */
function* messagesOf(rrsets: Iterator<RRset>, req: TransferRequest, sign?: (msg: Buffer) => Buffer): Generator<Buffer> {
  let first = true;
  let pending: RRset | undefined;
  let next = rrsets.next();
  while (pending !== undefined || !next.done) {
    const w = new MessageWriter(MAX_MESSAGE, { keepNames: false }); // every name once: leave nothing made on the zone's names
    w.reserveTail(TSIG_ROOM);
    w.header(req.id, QR | AA);
    if (first) w.question(req.qname, req.qtype, req.qclass);
    let records = 0;
    for (;;) {
      const rrset = pending ?? (next.done ? undefined : next.value);
      if (rrset === undefined) break;
      if (!w.rrset(1, rrset)) {
        if (records > 0) {
          pending = rrset; // the next message starts with it
          break;
        }
        // An RRset too large for one message goes record by record.
        for (const rdata of rrset.rdatas) {
          if (!w.rrset(1, { ...rrset, rdatas: [rdata] })) throw new Error(`a record of ${rrset.owner} does not fit a DNS message`);
          records++;
        }
      } else {
        records += rrset.rdatas.length;
      }
      pending = undefined;
      next = rrsets.next();
    }
    first = false;
    const msg = w.finish();
    yield sign ? sign(msg) : msg;
  }
}

/** The answer to IXFR from a client already at (or past) our serial: the SOA alone (RFC 1995 §2). */
export function upToDateMessage(zone: Zone, req: TransferRequest, sign?: (msg: Buffer) => Buffer): Buffer {
  const w = new MessageWriter(MAX_MESSAGE);
  w.reserveTail(TSIG_ROOM);
  w.header(req.id, QR | AA);
  w.question(req.qname, req.qtype, req.qclass);
  w.rrset(1, zone.soa);
  const msg = w.finish();
  return sign ? sign(msg) : msg;
}

/** RFC 1982: is serial `a` newer than `b`? */
export function serialNewer(a: number, b: number): boolean {
  return a !== b && ((a > b && a - b < 2 ** 31) || (a < b && b - a > 2 ** 31));
}

/** The SOA serial of a zone. */
export function serialOf(zone: Zone): number {
  const w = zone.soa.rdatas[0].wire;
  return w.readUInt32BE(w.length - 20);
}

