/**
 * Parses an incoming query strictly (RFC 1035 §4.1, RFC 6891 §6): the header, exactly one
 * question, the other sections skipped structurally, one OPT at most. The result says whether
 * to answer, to answer with an error rcode, or to drop the message silently.
 */
import { Name } from './name.js';
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
}

export type ParsedQuery =
  | { readonly kind: 'query'; readonly query: Query }
  /** A header could be read: answer with this rcode; `query` is there when the question was readable. */
  | { readonly kind: 'error'; readonly id: number; readonly opcode: number; readonly rd: boolean; readonly rcode: number; readonly reason: string; readonly query?: Query }
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
  const fail = (rcode: number, reason: string, query?: Query): ParsedQuery => ({ kind: 'error', id, opcode, rd, rcode, reason, query });

  if (qdcount !== 1) {
    return fail(opcode === OPCODE_QUERY ? RCODE.FORMERR : RCODE.NOTIMP, `QDCOUNT is ${qdcount}, not 1`);
  }
  let qname: Name;
  let pos: number;
  try {
    const r = Name.fromWire(msg, HEADER);
    qname = r.name;
    pos = r.next;
  } catch (e) {
    return fail(RCODE.FORMERR, `bad question name: ${(e as Error).message}`);
  }
  if (pos + 4 > msg.length) return fail(RCODE.FORMERR, 'question runs past the end of the message');
  const qtype = msg.readUInt16BE(pos);
  const qclass = msg.readUInt16BE(pos + 2);
  pos += 4;
  const base = { id, opcode, rd, cd, qname, qtype, qclass };
  if (opcode !== OPCODE_QUERY) return fail(RCODE.NOTIMP, `opcode ${opcode} is not implemented`, base);

  let edns: Edns | undefined;
  try {
    for (let i = 0; i < ancount + nscount + arcount; i++) {
      const rr = readRecordHeader(msg, pos);
      if (rr.type === T.OPT) {
        if (i < ancount + nscount) return fail(RCODE.FORMERR, 'OPT record outside the additional section', base);
        if (edns) return fail(RCODE.FORMERR, 'more than one OPT record', base);
        if (rr.ownerIsRoot === false) return fail(RCODE.FORMERR, 'OPT record owner is not the root', base);
        edns = readOpt(msg, rr.klass, rr.ttl, rr.rdataStart, rr.end);
      }
      pos = rr.end;
    }
  } catch (e) {
    return fail(RCODE.FORMERR, (e as Error).message, base);
  }
  if (pos !== msg.length) return fail(RCODE.FORMERR, `${msg.length - pos} bytes of trailing data`, base);
  return { kind: 'query', query: { ...base, edns } };
}

function readRecordHeader(msg: Buffer, pos: number) {
  const { name, next } = Name.fromWire(msg, pos);
  if (next + 10 > msg.length) throw new Error('record header runs past the end of the message');
  const type = msg.readUInt16BE(next);
  const klass = msg.readUInt16BE(next + 2);
  const ttl = msg.readUInt32BE(next + 4);
  const rdlength = msg.readUInt16BE(next + 8);
  const rdataStart = next + 10;
  const end = rdataStart + rdlength;
  if (end > msg.length) throw new Error('record data runs past the end of the message');
  return { ownerIsRoot: name.labels.length === 0, type, klass, ttl, rdataStart, end };
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
    options.push({ code, data: Buffer.from(msg.subarray(p + 4, p + 4 + len)) });
    p += 4 + len;
  }
  return { udpSize: klass, version: (ttl >>> 16) & 0xff, dnssecOk: (ttl & 0x8000) !== 0, options };
}
