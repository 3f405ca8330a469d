/**
 * Parses an incoming query strictly (RFC 1035 §4.1, RFC 6891 §6): the header, exactly one
 * question, the other sections skipped structurally, one OPT at most. The result says whether
 * to answer, to answer with an error rcode, or to drop the message silently.
 */
import { Name } from './name.js';
import { ECS_OPTION, EcsError, parseEcs, type ClientSubnet } from './ecs.js';
import { findCookie, type Cookie } from './cookies.js';
import { OPCODE_QUERY, RCODE, T } from './types.js';

export interface EdnsOption {
  readonly code: number;
  readonly data: Buffer;
}

export interface Edns {
  /** Requester's UDP payload size as sent (RFC 6891 §6.2.3). */
  readonly udpSize: number;
  readonly version: number;
  /** DNSSEC OK bit (RFC 3225), echoed in the response. */
  readonly dnssecOk: boolean;
  readonly options: readonly EdnsOption[];
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

export function parseQuery(msg: Buffer): ParsedQuery {
  if (msg.length < HEADER) return { kind: 'drop', reason: 'shorter than a DNS header' };
  const id = msg.readUInt16BE(0);
  const flags = msg.readUInt16BE(2);
  if (flags & 0x8000) return { kind: 'drop', reason: 'QR set: not a query' };
  const opcode = (flags >> 11) & 0xf;
  const rd = (flags & 0x0100) !== 0;
  const cd = (flags & 0x0010) !== 0;
  const qdcount = msg.readUInt16BE(4);
  const ancount = msg.readUInt16BE(6);
  const nscount = msg.readUInt16BE(8);
  const arcount = msg.readUInt16BE(10);
  // Made only for an error: most queries have none.
  const error = (rcode: number, reason: string, question?: Question, edns?: Edns, cookie?: Cookie): ParsedQuery => ({ kind: 'error', id, opcode, rd, cd, rcode, reason, question, edns, cookie });

  let question: Question | undefined;
  let edns: Edns | undefined;
  let pos = HEADER;
  try {
    for (let i = 0; i < qdcount; i++) {
      const { name, next } = Name.fromWire(msg, pos);
      if (next + 4 > msg.length) throw new Error('question runs past the end of the message');
      if (i === 0) question = { qname: name, qtype: msg.readUInt16BE(next), qclass: msg.readUInt16BE(next + 2) };
      pos = next + 4;
    }
    for (let i = 0; i < ancount + nscount + arcount; i++) {
      const rr = readRecordHeader(msg, pos);
      if (rr.type === T.OPT) {
        if (i < ancount + nscount) throw new Error('OPT record outside the additional section');
        if (edns) throw new Error('more than one OPT record');
        if (!rr.ownerIsRoot) throw new Error('OPT record owner is not the root');
        edns = readOpt(msg, rr.klass, rr.ttl, rr.rdataStart, rr.end);
      }
      pos = rr.end;
    }
    if (pos !== msg.length) throw new Error(`${msg.length - pos} bytes of trailing data`);
  } catch (e) {
    return error(RCODE.FORMERR, (e as Error).message, qdcount === 1 ? question : undefined);
  }
  let cookie: Cookie | undefined;
  if (edns) {
    try {
      cookie = findCookie(edns.options);
    } catch (e) {
      // RFC 7873 §5.2.2: FORMERR, with OPT but no COOKIE (there is no client cookie to echo).
      return error(RCODE.FORMERR, (e as Error).message, qdcount === 1 ? question : undefined, edns);
    }
  }
  if (opcode !== OPCODE_QUERY) return error(RCODE.NOTIMP, `opcode ${opcode} is not implemented`, question, edns, cookie);
  if (qdcount !== 1 || !question) return error(RCODE.FORMERR, `QDCOUNT is ${qdcount}, not 1`, undefined, edns, cookie);
  let ecs: ClientSubnet | undefined;
  if (edns) {
    try {
      ecs = findEcs(edns);
    } catch (e) {
      return error(RCODE.FORMERR, (e as Error).message, question, edns, cookie);
    }
  }
  return { kind: 'query', query: { id, opcode, rd, cd, qname: question.qname, qtype: question.qtype, qclass: question.qclass, edns, ecs, cookie } };
}

function findEcs(edns: Edns): ClientSubnet | undefined {
  let found: ClientSubnet | undefined;
  for (const o of edns.options) {
    if (o.code !== ECS_OPTION) continue;
    if (found) throw new EcsError('more than one ECS option');
    found = parseEcs(o.data);
  }
  return found;
}

function readRecordHeader(msg: Buffer, pos: number) {
  // OPT's owner is the root, a single zero octet; other owners are only checked, not kept.
  const ownerIsRoot = msg[pos] === 0;
  const next = ownerIsRoot && pos < msg.length ? pos + 1 : Name.fromWire(msg, pos).next;
  if (next + 10 > msg.length) throw new Error('record header runs past the end of the message');
  const type = msg.readUInt16BE(next);
  const klass = msg.readUInt16BE(next + 2);
  const ttl = msg.readUInt32BE(next + 4);
  const rdlength = msg.readUInt16BE(next + 8);
  const rdataStart = next + 10;
  const end = rdataStart + rdlength;
  if (end > msg.length) throw new Error('record data runs past the end of the message');
  return { ownerIsRoot, type, klass, ttl, rdataStart, end };
}

/** RFC 6891 §6.1.2-6.1.3: CLASS is the payload size, TTL holds extended rcode, version, DO. */
function readOpt(msg: Buffer, klass: number, ttl: number, start: number, end: number): Edns {
  const options: EdnsOption[] = [];
  let p = start;
  while (p < end) {
    if (p + 4 > end) throw new Error('truncated EDNS option header');
    const code = msg.readUInt16BE(p);
    const len = msg.readUInt16BE(p + 2);
    if (p + 4 + len > end) throw new Error(`EDNS option ${code} runs past the OPT record`);
    options.push({ code, data: msg.subarray(p + 4, p + 4 + len) }); // a view: the query outlives no answer
    p += 4 + len;
  }
  return { udpSize: klass, version: (ttl >>> 16) & 0xff, dnssecOk: (ttl & 0x8000) !== 0, options };
}
