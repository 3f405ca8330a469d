/**
 * Parses an incoming query strictly (RFC 1035 §4.1, RFC 6891 §6): the header, exactly one
 * question, the other sections skipped structurally, one OPT at most. The result says whether
 * to answer, to answer with an error rcode, or to drop the message silently.
 */
import { Name, type WireEnd } from './name.js';
import { ECS_OPTION, EcsError, parseEcs, type ClientSubnet } from './ecs.js';
import { COOKIE_OPTION, parseCookie, type Cookie } from './cookie.js';

/** RFC 5001 §2.3: option code 3. */
export const NSID_OPTION = 3;
import { OPCODE_QUERY, RCODE, T } from './types.js';

export interface Edns {
  /** Requester's UDP payload size as sent (RFC 6891 §6.2.3). */
  readonly udpSize: number;
  readonly version: number;
  /** DNSSEC OK bit (RFC 3225), echoed in the response. */
  readonly dnssecOk: boolean;
  /** The query carried an NSID option (RFC 5001 §2.3): it asks which server answered. */
  readonly nsid: boolean;
}

export interface Query {
  readonly id: number;
  readonly opcode: number;
  /** RD and CD are copied into the response (RFC 1035 §4.1.1, RFC 4035 §3.1.6). */
  readonly rd: boolean;
  readonly cd: boolean;
  readonly qname: Name;
  readonly qtype: number;
  readonly qclass: number;
  readonly edns?: Edns;
  /** The EDNS Client Subnet option, when the query carried a valid one. */
  readonly ecs?: ClientSubnet;
  /** The DNS Cookies option (RFC 7873), when the query carried a well-formed one. */
  readonly cookie?: Cookie;
  /** The query ends with a TSIG record (RFC 8945): read and verified by whoever answers it. */
  readonly signed: boolean;
}

export interface Question {
  readonly qname: Name;
  readonly qtype: number;
  readonly qclass: number;
}

export type ParsedQuery =
  | { readonly kind: 'query'; readonly query: Query }
  /**
   * A header could be read: answer with this rcode. `question` is there when exactly one was
   * readable (it is echoed), `edns` when the message was well formed up to its OPT (RFC 6891
   * §6.1.1: a request with OPT gets OPT back, errors included).
   */
  | {
      readonly kind: 'error';
      readonly id: number;
      readonly opcode: number;
      readonly rd: boolean;
      readonly cd: boolean;
      readonly rcode: number;
      readonly reason: string;
      readonly question?: Question;
      readonly edns?: Edns;
      /** The query's COOKIE option, answered in errors too (RFC 7873 §5.2). */
      readonly cookie?: Cookie;
    }
  | { readonly kind: 'drop'; readonly reason: string };

const HEADER = 12;

/** Where the last name read ended: one for every message, as parsing is synchronous. */
const END: WireEnd = { next: 0 };

export function parseQuery(msg: Buffer): ParsedQuery {
  if (msg.length < HEADER) return { kind: 'drop', reason: 'shorter than a DNS header' };
  const id = u16(msg, 0);
  const flags = u16(msg, 2);
  if (flags & 0x8000) return { kind: 'drop', reason: 'QR set: not a query' };
  const opcode = (flags >> 11) & 0xf;
  const rd = (flags & 0x0100) !== 0;
  const cd = (flags & 0x0010) !== 0;
  const qdcount = u16(msg, 4);
  const outsideAdditional = u16(msg, 6) + u16(msg, 8); // answer and authority records
  const records = outsideAdditional + u16(msg, 10);

  let qname: Name | undefined;
  let qtype = 0;
  let qclass = 0;
  let edns: Opt | undefined;
  let signed = false;
  let pos = HEADER;
  try {
    for (let i = 0; i < qdcount; i++) {
      const name = Name.read(msg, pos, END);
      const next = END.next;
      if (next + 4 > msg.length) throw new Error('question runs past the end of the message');
      if (i === 0) {
        qname = name;
        qtype = u16(msg, next);
        qclass = u16(msg, next + 2);
      }
      pos = next + 4;
    }
    for (let i = 0; i < records; i++) {
      // OPT's owner is the root, a single zero octet; other owners are only checked, not kept.
      const ownerIsRoot = msg[pos] === 0; // false past the end: Name.read then throws
      if (!ownerIsRoot) Name.read(msg, pos, END);
      const at = ownerIsRoot ? pos + 1 : END.next;
      if (at + 10 > msg.length) throw new Error('record header runs past the end of the message');
      const rdataStart = at + 10;
      const end = rdataStart + u16(msg, at + 8);
      if (end > msg.length) throw new Error('record data runs past the end of the message');
      if (u16(msg, at) === T.TSIG) {
        // RFC 8945 §5.1: the last record of the additional section, and only there.
        if (i !== records - 1 || i < outsideAdditional) throw new Error('TSIG record that is not the last record of the message');
        signed = true;
      } else if (u16(msg, at) === T.OPT) {
        if (i < outsideAdditional) throw new Error('OPT record outside the additional section');
        if (edns) throw new Error('more than one OPT record');
        if (!ownerIsRoot) throw new Error('OPT record owner is not the root');
        edns = new Opt(msg, u16(msg, at + 2), msg.readUInt32BE(at + 4), rdataStart, end);
      }
      pos = end;
    }
    if (pos !== msg.length) throw new Error(`${msg.length - pos} bytes of trailing data`);
  } catch (e) {
    return failed(msg, RCODE.FORMERR, (e as Error).message, qdcount === 1 && qname ? { qname, qtype, qclass } : undefined);
  }
  let cookie: Cookie | undefined;
  if (edns && edns.cookieAt >= 0) {
    try {
      cookie = parseCookie(msg.subarray(edns.cookieAt, edns.cookieAt + edns.cookieLength));
    } catch (e) {
      // RFC 7873 §5.2.2: FORMERR, with OPT but no COOKIE (there is no client cookie to echo).
      return failed(msg, RCODE.FORMERR, (e as Error).message, qdcount === 1 && qname ? { qname, qtype, qclass } : undefined, edns);
    }
  }
  if (opcode !== OPCODE_QUERY) return failed(msg, RCODE.NOTIMP, `opcode ${opcode} is not implemented`, qname && { qname, qtype, qclass }, edns, cookie);
  if (qdcount !== 1 || !qname) return failed(msg, RCODE.FORMERR, `QDCOUNT is ${qdcount}, not 1`, undefined, edns, cookie);
  let ecs: ClientSubnet | undefined;
  if (edns && edns.ecsAt >= 0) {
    try {
      ecs = parseEcs(msg, edns.ecsAt, edns.ecsAt + edns.ecsLength);
      if (edns.ecsCount > 1) throw new EcsError('more than one ECS option');
    } catch (e) {
      return failed(msg, RCODE.FORMERR, (e as Error).message, { qname, qtype, qclass }, edns, cookie);
    }
  }
  return { kind: 'query', query: { id, opcode, rd, cd, qname, qtype, qclass, edns, ecs, cookie, signed } };
}

/** The error answer to a query whose header (12 octets at least) was read. */
function failed(msg: Buffer, rcode: number, reason: string, question?: Question, edns?: Edns, cookie?: Cookie): ParsedQuery {
  const flags = u16(msg, 2);
  return { kind: 'error', id: u16(msg, 0), opcode: (flags >> 11) & 0xf, rd: (flags & 0x0100) !== 0, cd: (flags & 0x0010) !== 0, rcode, reason, question, edns, cookie };
}

/** A 16-bit big-endian field the caller has checked is inside the message. */
function u16(msg: Buffer, at: number): number {
  return (msg[at] << 8) | msg[at + 1];
}

/**
 * The OPT record (RFC 6891 §6.1.2-6.1.3): CLASS is the payload size, TTL holds extended rcode,
 * version and DO. Its options are checked for structure and the COOKIE (the first, as BIND
 * does) and ECS options located and NSID noted in one pass; other options are skipped (RFC 6891 §6.1.2).
 */
class Opt implements Edns {
  readonly udpSize: number;
  readonly version: number;
  readonly dnssecOk: boolean;
  cookieAt = -1;
  cookieLength = 0;
  ecsAt = -1;
  ecsLength = 0;
  ecsCount = 0;
  nsid = false;

  constructor(msg: Buffer, klass: number, ttl: number, start: number, end: number) {
    this.udpSize = klass;
    this.version = (ttl >>> 16) & 0xff;
    this.dnssecOk = (ttl & 0x8000) !== 0;
    for (let p = start; p < end; ) {
      if (p + 4 > end) throw new Error('truncated EDNS option header');
      const code = u16(msg, p);
      const len = u16(msg, p + 2);
      if (p + 4 + len > end) throw new Error(`EDNS option ${code} runs past the OPT record`);
      if (code === COOKIE_OPTION && this.cookieAt < 0) {
        this.cookieAt = p + 4;
        this.cookieLength = len;
      } else if (code === ECS_OPTION && this.ecsCount++ === 0) {
        this.ecsAt = p + 4;
        this.ecsLength = len;
      } else if (code === NSID_OPTION) {
        this.nsid = true; // RFC 5001 §2.3: empty in a query; its contents, if any, mean nothing
      }
      p += 4 + len;
    }
  }
}
