/**
 * One query in, one response out: parse, resolve against the current zones, write with EDNS
 * (RFC 6891) and truncation (RFC 1035 §4.2.1, RFC 2181 §9). Transport-independent; the UDP and
 * TCP servers call `respond` with the message and the transport's size limit.
 */
import { parseQuery, type Edns, type Question } from './query.js';
import { resolve, type Resolution } from './resolve.js';
import { CLASS_ANY, CLASS_IN, RCODE, T } from './types.js';
import { MessageWriter, OPT_RR_SIZE } from './writer.js';
import { COOKIE_OPTION_SIZE, type Cookie } from './cookies.js';
import { ecsScope, locateClient } from './client.js';
import type { LoadBalancer } from '../lb/model.js';
import type { Name } from './name.js';
import type { Decision } from '../lb/steer.js';
import type { Snapshot } from '../config/snapshot.js';

/** RFC 1035 §4.2.1: the UDP limit without EDNS. */
export const CLASSIC_UDP_SIZE = 512;
/** Our advertised and maximum UDP payload (DNS Flag Day 2020 recommendation). */
export const EDNS_UDP_SIZE = 1232;
/** RFC 7766 §8: TCP messages are framed with a 16-bit length. */
export const TCP_MAX = 65535;

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
   * for this client address and time (RFC 7873): it is never cached (src/dns/answer-cache.ts).
   */
  readonly cookie?: boolean;
  /**
   * The query's server cookie is one we made for this client address within the last hour
   * (RFC 9018 §4.3): the address is not spoofed. Rate limiting may exempt such queries.
   */
  readonly cookieValid?: boolean;
  /** The steering decisions the answer was built from, per load balancer (for metrics). */
  readonly decisions?: ReadonlyMap<LoadBalancer, Decision>;
  /**
   * The wildcard that synthesized the answer: rate limiting accounts the answer to it (as BIND
   * does), so a flood of random names under one wildcard is one account, not one per name.
   */
  readonly wildcard?: Name;
}

export function respond(snap: Snapshot, msg: Buffer, tcp: boolean, clientAddress: string): ResponseInfo {
  const parsed = parseQuery(msg);
  if (parsed.kind === 'drop') return { reason: parsed.reason };
  if (parsed.kind === 'error') {
    const w = new MessageWriter(CLASSIC_UDP_SIZE);
    w.header(parsed.id, QR | (parsed.opcode << 11) | (parsed.rd ? RD : 0) | (parsed.cd ? CD : 0) | (parsed.rcode & 0xf));
    const qn = parsed.question;
    if (qn) w.question(qn.qname, qn.qtype, qn.qclass);
    const cookie = parsed.edns && cookieAnswer(snap, parsed.cookie, clientAddress);
    if (parsed.edns) w.opt(EDNS_UDP_SIZE, parsed.rcode, parsed.edns.dnssecOk, undefined, 0, cookie?.option);
    return { response: w.finish(), rcode: parsed.rcode, reason: parsed.reason, question: qn, cookie: cookie !== undefined, cookieValid: cookie?.valid === true };
  }

  const q = parsed.query;
  const limit = tcp ? TCP_MAX : udpLimit(q.edns);
  const w = new MessageWriter(limit);
  const baseFlags = QR | (q.rd ? RD : 0) | (q.cd ? CD : 0);
  w.header(q.id, baseFlags);
  w.question(q.qname, q.qtype, q.qclass); // at most 259 bytes: always fits in 512
  const questionEnd = w.pos;
  const ecsSize = q.ecs ? 4 + q.ecs.data.length : 0;
  const cookie = cookieAnswer(snap, q.cookie, clientAddress);
  if (q.edns) w.reserveTail(OPT_RR_SIZE + ecsSize + (cookie ? COOKIE_OPTION_SIZE : 0));
  let scope = 0;

  let rcode: number;
  let truncated = false;
  let decisions: ReadonlyMap<LoadBalancer, Decision> | undefined;
  let wildcard: Name | undefined;
  if (q.edns && q.edns.version > 0) {
    rcode = RCODE.BADVERS; // RFC 6891 §6.1.3
  } else if (q.qtype === T.OPT) {
    rcode = RCODE.FORMERR; // OPT is a pseudo-type and cannot be asked for
  } else if (q.qtype === T.AXFR || q.qtype === T.IXFR || (q.qclass !== CLASS_IN && q.qclass !== CLASS_ANY)) {
    rcode = RCODE.REFUSED; // zone transfers are not offered; only class IN is served
  } else if (q.qtype === T.MAILA || q.qtype === T.MAILB) {
    rcode = RCODE.NOTIMP;
  } else {
    const located = locateClient(snap, q.ecs, clientAddress);
    const taken = new Map<LoadBalancer, Decision>();
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
  if (q.edns) w.opt(EDNS_UDP_SIZE, rcode, q.edns.dnssecOk, q.ecs?.data, scope, cookie?.option);
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
