/**
 * One query in, one response out: parse, resolve against the current zones, write with EDNS
 * (RFC 6891) and truncation (RFC 1035 §4.2.1, RFC 2181 §9). Transport-independent; the UDP and
 * TCP servers call `respond` with the message and the transport's size limit.
 */
import { parseQuery, type Edns, type Query, type Question } from '../wire/query.js';
import { directLoadBalancers, resolve, type Resolution } from './resolve.js';
import { Decisions, directRecords } from './steered.js';
import { CLASS_ANY, CLASS_CH, CLASS_IN, RCODE, T, typeToText } from '../wire/types.js';
import { MessageWriter, optSize, writeOpt } from '../wire/writer.js';
import { readTsig, ResponseSigner, tsigErrorText, verifyRequest, type Keyring, type TsigKey, type TsigRecord } from '../wire/tsig.js';
import { axfrMessages, ixfrMessages, mayTransfer, serialNewer, serialOf, upToDateMessage } from '../xfr/axfr.js';
import { changesSince } from '../zone/changes.js';
import { Name } from '../wire/name.js';
import { copyBytes } from '../wire/bytes.js';
import type { CookieAnswer } from '../wire/server-cookies.js';
import type { Cookie } from '../wire/cookie.js';
import { ecsScope, locateClient, type LocatedClient } from './client.js';
import { chaosAnswer, nsidOption } from './identity.js';
import type { LoadBalancer } from '../lb/model.js';
import type { Snapshot } from '../snapshot/snapshot.js';

/** RFC 1035 §4.2.1: the UDP limit without EDNS. */
export const CLASSIC_UDP_SIZE = 512;
/** Our advertised and maximum UDP payload (DNS Flag Day 2020 recommendation). */
export const EDNS_UDP_SIZE = 1232;
/** RFC 7766 §8: TCP messages are framed with a 16-bit length. */
export const TCP_MAX = 65535;

const HEADER = 12;
const QR = 0x8000;
const AA = 0x0400;
const TC = 0x0200;
const RD = 0x0100;
const CD = 0x0010;

export interface ResponseInfo {
  /** The encoded response, or undefined when the query is dropped. */
  readonly response?: Buffer;
  readonly rcode?: number;
  readonly truncated?: boolean;
  /** Why a query was dropped or answered with an error, for debug logs and metrics. */
  readonly reason?: string;
  readonly question?: Question;
  /** The query carried an EDNS Client Subnet option. */
  readonly ecs?: boolean;
  /**
   * The query carried a COOKIE option, and the response carries one with a server cookie made
   * for this client address and time (RFC 7873): it is never cached (src/answer/answer-cache.ts).
   */
  readonly cookie?: boolean;
  /**
   * The query's server cookie is one we made for this client address within the last hour
   * (RFC 9018 §4.3): the address is not spoofed. Rate limiting may exempt such queries.
   */
  readonly cookieValid?: boolean;
  /** The steering decisions the answer was built from, per load balancer (for metrics). */
  readonly decisions?: Decisions;
  /**
   * The wildcard that synthesized the answer: rate limiting accounts the answer to it (as BIND
   * does), so a flood of random names under one wildcard is one account, not one per name.
   */
  readonly wildcard?: Name;
  /** The query was TSIG-signed and the response is signed for it: never cached. */
  readonly signed?: boolean;
  /** A zone transfer (TCP only): its messages, made as the connection takes them; `response` is then unset. */
  readonly messages?: Iterator<Buffer>;
  /** Worth a log line whatever the level: transfers given or refused, TSIG failures. */
  readonly notice?: { readonly level: 'info' | 'warn'; readonly message: string };
}

export function respond(snap: Snapshot, msg: Buffer, tcp: boolean, clientAddress: string): ResponseInfo {
  return respondTo(snap, msg, tcp, clientAddress, true);
}

/** `respond` without the direct answer (exported for the test that checks both ways agree). */
export function respondInGeneral(snap: Snapshot, msg: Buffer, tcp: boolean, clientAddress: string): ResponseInfo {
  return respondTo(snap, msg, tcp, clientAddress, false);
}

function respondTo(snap: Snapshot, msg: Buffer, tcp: boolean, clientAddress: string, direct: boolean): ResponseInfo {
  const parsed = parseQuery(msg);
  if (parsed.kind === 'drop') return { reason: parsed.reason };
  if (parsed.kind === 'error') {
    const w = new MessageWriter(CLASSIC_UDP_SIZE);
    w.header(parsed.id, QR | (parsed.opcode << 11) | (parsed.rd ? RD : 0) | (parsed.cd ? CD : 0) | (parsed.rcode & 0xf));
    const qn = parsed.question;
    if (qn) w.question(qn.qname, qn.qtype, qn.qclass);
    const cookie = parsed.edns && cookieAnswer(snap, parsed.cookie, clientAddress);
    if (parsed.edns) w.opt(EDNS_UDP_SIZE, parsed.rcode, parsed.edns.dnssecOk, undefined, 0, optionsOf(snap, parsed.edns, cookie));
    return { response: w.finish(), rcode: parsed.rcode, reason: parsed.reason, question: qn, cookie: cookie !== undefined, cookieValid: cookie?.valid === true };
  }

  const q = parsed.query;
  if (q.signed) return respondSigned(snap, msg, q, tcp, clientAddress);
  if (q.qtype === T.AXFR || q.qtype === T.IXFR) return transfer(snap, msg, q, tcp, clientAddress);
  const limit = tcp ? TCP_MAX : udpLimit(q.edns);
  const cookie = cookieAnswer(snap, q.cookie, clientAddress);
  const options = optionsOf(snap, q.edns, cookie);
  if (direct && (q.qtype === T.A || q.qtype === T.AAAA) && q.qclass === CLASS_IN && (!q.edns || q.edns.version === 0)) {
    const lb = directLoadBalancers(snap).get(q.qname.key);
    if (lb !== undefined) {
      const located = locateClient(snap, q.ecs, clientAddress);
      const taken = new Decisions();
      // Anything the direct answer does not cover goes the general way, with the decision kept.
      return answerDirect(snap, msg, q, lb, limit, cookie, options, located, taken) ?? answer(snap, q, limit, cookie, options, clientAddress, located, taken);
    }
  }
  return answer(snap, q, limit, cookie, options, clientAddress);
}

/**
 * A and AAAA at a load balancer's own name (directLoadBalancers) with IP origins: the answer
 * records come encoded (steered.ts, directRecords) and the message is written straight into a
 * buffer of its final size: the question copied from the query, the records, the OPT. The
 * bytes are those the general path writes. Undefined when the general path must answer: a
 * hostname origin, no address of the family (NODATA), or a message over the size limit.
 */
function answerDirect(snap: Snapshot, msg: Buffer, q: Query, lb: LoadBalancer, limit: number, cookie: CookieAnswer | undefined, options: Buffer | undefined, located: LocatedClient, taken: Decisions): ResponseInfo | undefined {
  const records = directRecords({ snap, client: located.client, decisions: taken }, lb, q.qtype);
  if (records === undefined) return undefined;
  // The question's name is never compressed: Name.read takes only pointers that go back,
  // and not into the header, so none is possible at offset 12. Its bytes in the query are
  // exactly its wire form.
  const questionEnd = HEADER + q.qname.wireLength() + 4;
  let size = questionEnd;
  for (let i = 0; i < records.length; i++) size += records[i].length;
  const ecs = q.ecs;
  if (q.edns) size += optSize(ecs, options);
  if (size > limit) return undefined;
  const out = Buffer.allocUnsafe(size);
  out[0] = msg[0];
  out[1] = msg[1];
  out.writeUInt16BE(QR | AA | (q.rd ? RD : 0) | (q.cd ? CD : 0), 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(records.length, 6);
  out.writeUInt16BE(0, 8);
  out.writeUInt16BE(q.edns ? 1 : 0, 10);
  copyBytes(msg, HEADER, questionEnd, out, HEADER);
  let p = questionEnd;
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    copyBytes(r, 0, r.length, out, p);
    p += r.length;
  }
  if (q.edns) writeOpt(out, p, EDNS_UDP_SIZE, RCODE.NOERROR, q.edns.dnssecOk, ecs, ecs ? ecsScope(ecs, located, taken) : 0, options);
  return { response: out, rcode: RCODE.NOERROR, truncated: false, question: q, ecs: q.ecs !== undefined, decisions: taken, cookie: cookie !== undefined, cookieValid: cookie?.valid === true };
}

/** Every other answer: resolve (RFC 1034 §4.3.2) and write the sections with compression and truncation. */
function answer(snap: Snapshot, q: Query, limit: number, cookie: CookieAnswer | undefined, options: Buffer | undefined, clientAddress: string, located?: LocatedClient, taken?: Decisions): ResponseInfo {
  const w = new MessageWriter(limit);
  const baseFlags = QR | (q.rd ? RD : 0) | (q.cd ? CD : 0);
  w.header(q.id, baseFlags);
  w.question(q.qname, q.qtype, q.qclass); // at most 259 bytes: always fits in 512
  const questionEnd = w.pos;
  if (q.edns) w.reserveTail(optSize(q.ecs, options));
  let scope = 0;

  let rcode: number;
  let truncated = false;
  let decisions: Decisions | undefined;
  let wildcard: Name | undefined;
  if (q.edns && q.edns.version > 0) {
    rcode = RCODE.BADVERS; // RFC 6891 §6.1.3
  } else if (q.qtype === T.OPT) {
    rcode = RCODE.FORMERR; // OPT is a pseudo-type and cannot be asked for
  } else if (q.qclass === CLASS_CH) {
    const chaos = chaosAnswer(snap.identity, q.qname, q.qtype);
    if (typeof chaos === 'number') {
      rcode = chaos;
    } else {
      rcode = RCODE.NOERROR;
      w.setFlags(w.flags() | AA);
      truncated = !w.rrset(1, chaos, chaos.ttl, CLASS_CH);
    }
  } else if (q.qclass !== CLASS_IN && q.qclass !== CLASS_ANY) {
    rcode = RCODE.REFUSED; // only class IN is served
  } else if (q.qtype === T.MAILA || q.qtype === T.MAILB) {
    rcode = RCODE.NOTIMP;
  } else {
    located ??= locateClient(snap, q.ecs, clientAddress);
    taken ??= new Decisions();
    const res = resolve({ snap, client: located.client, decisions: taken }, q.qname, q.qtype);
    if (q.ecs) scope = ecsScope(q.ecs, located, taken);
    decisions = taken;
    wildcard = res.wildcard;
    rcode = res.rcode;
    if (res.aa) w.setFlags(w.flags() | AA);
    truncated = !writeSections(w, res);
    if (truncated) {
      w.truncateToQuestion(questionEnd);
      w.setFlags(w.flags() | TC);
    }
  }
  w.setFlags(w.flags() | (rcode & 0xf));
  if (q.edns) w.opt(EDNS_UDP_SIZE, rcode, q.edns.dnssecOk, q.ecs, scope, options);
  return { response: w.finish(), rcode, truncated: truncated || (w.flags() & TC) !== 0, question: q, ecs: q.ecs !== undefined, decisions, cookie: cookie !== undefined, cookieValid: cookie?.valid === true, wildcard };
}

/**
 * The COOKIE option of the response (RFC 7873 §5.2.3-5.2.5). We do not require cookies: a
 * query with a client cookie only, or a server cookie that does not verify, is answered
 * normally with a new server cookie (§5.2.3 choice 3), never BADCOOKIE.
 */
function cookieAnswer(snap: Snapshot, cookie: Cookie | undefined, clientAddress: string) {
  return cookie && snap.cookies?.answer(cookie, clientAddress);
}

/** The time TSIG signs with: seconds since the epoch. */
const unixNow = () => Math.floor(Date.now() / 1000);

/**
 * A TSIG-signed query (RFC 8945): verified against the keyring, then answered and signed, or
 * answered NOTAUTH with the TSIG error (§5.2), never with data. Transfers sign every message.
 */
function respondSigned(snap: Snapshot, msg: Buffer, q: Query, tcp: boolean, clientAddress: string): ResponseInfo {
  let tsig: TsigRecord;
  try {
    tsig = readTsig(msg)!;
  } catch (e) {
    return plainError(q, RCODE.FORMERR, (e as Error).message);
  }
  const v = verifyRequest(msg, tsig, snap.transfer?.keyring ?? NO_KEYS, unixNow());
  const signer = new ResponseSigner(v.key, tsig, unixNow, v.error);
  if (v.error !== 0) {
    const w = new MessageWriter(TCP_MAX);
    w.header(q.id, QR | (q.rd ? RD : 0) | (q.cd ? CD : 0) | RCODE.NOTAUTH);
    w.question(q.qname, q.qtype, q.qclass);
    const reason = `TSIG ${tsigErrorText(v.error)} for key ${tsig.keyName}`;
    return { response: signer.sign(w.finish()), rcode: RCODE.NOTAUTH, question: q, signed: true, reason, notice: { level: 'warn', message: `signed ${typeToText(q.qtype)} query for ${q.qname} refused: ${reason}` } };
  }
  if (q.qtype === T.AXFR || q.qtype === T.IXFR) return transfer(snap, msg, q, tcp, clientAddress, v.key!.name.key, (m) => signer.sign(m));
  const limit = (tcp ? TCP_MAX : udpLimit(q.edns)) - tsigSize(v.key!);
  const cookie = cookieAnswer(snap, q.cookie, clientAddress);
  const info = answer(snap, q, limit, cookie, optionsOf(snap, q.edns, cookie), clientAddress);
  return { ...info, response: info.response && signer.sign(info.response), signed: true };
}

const NO_KEYS: Keyring = new Map();

/** Octets a TSIG record made with `key` takes. */
function tsigSize(key: TsigKey): number {
  return key.name.wireLength() + 10 + key.algorithm.name.length + 1 + 16 + key.algorithm.size;
}

/** An error answer with the question and nothing else (no EDNS, no TSIG). */
function plainError(q: Query, rcode: number, reason: string): ResponseInfo {
  const w = new MessageWriter(CLASSIC_UDP_SIZE);
  w.header(q.id, QR | (q.rd ? RD : 0) | (q.cd ? CD : 0) | rcode);
  w.question(q.qname, q.qtype, q.qclass);
  return { response: w.finish(), rcode, question: q, reason };
}

/**
 * AXFR and IXFR (src/xfr/axfr.ts), over TCP only, for a zone served here, to a client the
 * zone's allow-transfer lets in (by network and/or the TSIG key the query was signed with).
 * IXFR from a client at our serial gets the SOA alone; from a serial the zone's journal reaches
 * back to, the changes since; from any other, the whole zone in AXFR form (RFC 1995 §4).
 */
function transfer(snap: Snapshot, msg: Buffer, q: Query, tcp: boolean, clientAddress: string, keyName?: string, sign?: (m: Buffer) => Buffer): ResponseInfo {
  const refuse = (rcode: number, reason: string): ResponseInfo => {
    const w = new MessageWriter(TCP_MAX);
    w.header(q.id, QR | (q.rd ? RD : 0) | rcode);
    w.question(q.qname, q.qtype, q.qclass);
    const m = w.finish();
    return { response: sign ? sign(m) : m, rcode, question: q, reason, signed: sign !== undefined, notice: { level: 'warn', message: reason } };
  };
  const zone = snap.zones.find(q.qname);
  if (!zone || zone.origin.key !== q.qname.key || q.qclass !== CLASS_IN) return refuse(RCODE.NOTAUTH, `${typeToText(q.qtype)} of ${q.qname}: not a zone served here`);
  if (!tcp) return refuse(RCODE.REFUSED, `${typeToText(q.qtype)} over UDP: transfers are over TCP only`);
  const options = snap.transfer?.zones.get(zone.origin.key);
  if (!mayTransfer(options, clientAddress, keyName)) return refuse(RCODE.REFUSED, `${typeToText(q.qtype)} of ${zone.origin} refused to ${clientAddress}${keyName ? ` with key ${keyName}` : ' without a key'}: not in allow-transfer`);
  const req = { id: q.id, qname: q.qname, qtype: q.qtype, qclass: q.qclass };
  if (q.qtype === T.IXFR) {
    const theirs = ixfrSerial(msg);
    if (theirs !== undefined && !serialNewer(serialOf(zone), theirs)) {
      return { response: upToDateMessage(zone, req, sign), rcode: RCODE.NOERROR, question: q, signed: sign !== undefined, reason: 'IXFR: up to date' };
    }
    const chain = theirs === undefined ? undefined : changesSince(snap.journals?.get(zone.origin.key), theirs, serialOf(zone));
    if (chain) {
      const reason = `IXFR of ${zone.origin} from serial ${theirs} to ${serialOf(zone)} (${chain.length} change${chain.length === 1 ? '' : 's'}) to ${clientAddress}${keyName ? ` with key ${keyName}` : ''}`;
      return { messages: ixfrMessages(zone, chain, req, sign), rcode: RCODE.NOERROR, question: q, signed: sign !== undefined, reason, notice: { level: 'info', message: reason } };
    }
  }
  const reason = `${typeToText(q.qtype)} of ${zone.origin} serial ${serialOf(zone)} to ${clientAddress}${keyName ? ` with key ${keyName}` : ''}`;
  return { messages: axfrMessages(zone, snap.lb, options, req, sign), rcode: RCODE.NOERROR, question: q, signed: sign !== undefined, reason, notice: { level: 'info', message: reason } };
}

/** The serial of the SOA an IXFR query carries in its authority section (RFC 1995 §3). */
function ixfrSerial(msg: Buffer): number | undefined {
  try {
    const end = { next: 0 };
    Name.read(msg, 12, end);
    let pos = end.next + 4;
    for (let i = 0; i < msg.readUInt16BE(6); i++) {
      Name.read(msg, pos, end);
      pos = end.next + 10 + msg.readUInt16BE(end.next + 8);
    }
    if (msg.readUInt16BE(8) < 1) return undefined;
    Name.read(msg, pos, end);
    const at = end.next;
    if (msg.readUInt16BE(at) !== T.SOA) return undefined;
    const rdataEnd = at + 10 + msg.readUInt16BE(at + 8);
    return msg.readUInt32BE(rdataEnd - 20);
  } catch {
    return undefined;
  }
}

/** The encoded options of the response's OPT after ECS: the COOKIE, and NSID when the query asks (RFC 5001). */
function optionsOf(snap: Snapshot, edns: Edns | undefined, cookie: CookieAnswer | undefined): Buffer | undefined {
  if (!edns?.nsid || !snap.identity) return cookie?.option;
  const nsid = nsidOption(snap.identity);
  return cookie ? Buffer.concat([cookie.option, nsid]) : nsid;
}

/** RFC 6891 §6.2.5: honour the requester's size, never below 512, never above ours. */
function udpLimit(edns: Edns | undefined): number {
  if (!edns) return CLASSIC_UDP_SIZE;
  return Math.min(Math.max(edns.udpSize, CLASSIC_UDP_SIZE), EDNS_UDP_SIZE);
}

/**
 * Writes answer, authority and additional. Returns false when the answer or authority does not
 * fit (the caller truncates); additional records that do not fit are left out, setting TC
 * only for required glue.
 */
function writeSections(w: MessageWriter, res: Resolution): boolean {
  for (const e of res.answer) if (!w.rrset(1, e.rrset, e.ttl)) return false;
  for (const e of res.authority) if (!w.rrset(2, e.rrset, e.ttl)) return false;
  for (let i = 0; i < res.additional.length; i++) {
    if (!w.rrset(3, res.additional[i].rrset)) {
      if (i < res.requiredAdditional) w.setFlags(w.flags() | TC); // RFC 9471 §3
      break;
    }
  }
  return true;
}
