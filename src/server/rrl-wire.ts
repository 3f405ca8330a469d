/**
 * What response rate limiting reads from an encoded response, and what it sends instead of
 * one: the class a response is accounted under (an answer per name and type, a negative
 * answer per zone, a referral per delegation, an error), and the truncated form a limited
 * response "slips" as (header with TC, question, OPT), so that a real client retries over TCP.
 * Reads our own responses, which are well formed; anything unreadable is classed by its rcode.
 */
import { RCODE, T } from '../wire/types.js';

const HEADER = 12;
const QR = 0x8000;
const TC = 0x0200;

/** BIND's response classes: each has its own accounts and its own rate. */
export type ResponseKind = 'answer' | 'referral' | 'nodata' | 'nxdomain' | 'error';

export interface ResponseClass {
  readonly kind: ResponseKind;
  /**
   * What the account is kept for: the question's name for an answer, the zone (owner of the
   * SOA in AUTHORITY) for NXDOMAIN and NODATA, the delegation (owner of the NS records) for a
   * referral; lower case, dotted, '' for the root; '' for errors, which are counted per client
   * network whatever was asked.
   */
  readonly name: string;
  /** The question's type for an answer, else 0. */
  readonly qtype: number;
}

const ERROR: ResponseClass = { kind: 'error', name: '', qtype: 0 };

/** Classes a response by its rcode (the full one: BADVERS is in the OPT) and its sections. */
export function classifyResponse(msg: Buffer, rcode: number): ResponseClass {
  if (rcode !== RCODE.NOERROR && rcode !== RCODE.NXDOMAIN) return ERROR;
  const nxdomain = rcode === RCODE.NXDOMAIN;
  try {
    const qd = msg.readUInt16BE(4);
    const an = msg.readUInt16BE(6);
    const ns = msg.readUInt16BE(8);
    let pos = HEADER;
    let qname = '';
    let qtype = 0;
    if (qd === 1) {
      qname = readName(msg, pos);
      pos = nameEnd;
      qtype = msg.readUInt16BE(pos);
      pos += 4;
    }
    if (!nxdomain && an > 0) return { kind: 'answer', name: qname, qtype };
    for (let i = 0; i < an; i++) pos = skipRecord(msg, pos); // a CNAME chain that ends in NXDOMAIN
    if (ns > 0) {
      const owner = readName(msg, pos);
      const type = msg.readUInt16BE(nameEnd);
      if (type === T.SOA) return { kind: nxdomain ? 'nxdomain' : 'nodata', name: owner, qtype: 0 };
      if (type === T.NS && !nxdomain) return { kind: 'referral', name: owner, qtype: 0 };
    }
    // No records to tell the zone from (a response truncated for size): the question decides.
    return nxdomain ? { kind: 'nxdomain', name: qname, qtype: 0 } : { kind: 'answer', name: qname, qtype };
  } catch {
    return { kind: nxdomain ? 'nxdomain' : 'answer', name: '', qtype: 0 };
  }
}

/**
 * The slipped form of a response: its header with QR and TC set, its question, and its OPT
 * record (RFC 6891 §7: an EDNS query gets OPT back, truncated or not); no answer, authority
 * or other additional records. Undefined when the response cannot be read.
 */
export function truncatedForm(msg: Buffer): Buffer | undefined {
  try {
    const qd = msg.readUInt16BE(4);
    const records = msg.readUInt16BE(6) + msg.readUInt16BE(8);
    const ar = msg.readUInt16BE(10);
    let pos = HEADER;
    for (let i = 0; i < qd; i++) pos = skipName(msg, pos) + 4;
    const questionEnd = pos;
    if (questionEnd > msg.length) return undefined;
    for (let i = 0; i < records; i++) pos = skipRecord(msg, pos);
    let optStart = -1;
    let optEnd = -1;
    for (let i = 0; i < ar; i++) {
      const start = pos;
      const type = msg.readUInt16BE(skipName(msg, pos));
      pos = skipRecord(msg, pos);
      if (type === T.OPT) {
        optStart = start;
        optEnd = pos;
      }
    }
    const optLength = optStart < 0 ? 0 : optEnd - optStart;
    const out = Buffer.allocUnsafe(questionEnd + optLength);
    msg.copy(out, 0, 0, questionEnd);
    if (optLength > 0) msg.copy(out, questionEnd, optStart, optEnd);
    out.writeUInt16BE(msg.readUInt16BE(2) | QR | TC, 2);
    out.writeUInt16BE(0, 6);
    out.writeUInt16BE(0, 8);
    out.writeUInt16BE(optLength > 0 ? 1 : 0, 10);
    return out;
  } catch {
    return undefined;
  }
}

/**
 * The BADCOOKIE form of a response (RFC 7873 §5.2.3, §5.4) for a limited query that carried a
 * client cookie: the truncated form without TC, with rcode 23 (its low bits in the header, the
 * rest in the OPT's extended rcode) and the OPT as respond() wrote it, so with a new server
 * cookie. The client retries over UDP with that cookie, and a valid cookie is not limited.
 * Undefined when the response has no OPT to carry it.
 */
export function badCookieForm(msg: Buffer): Buffer | undefined {
  const out = truncatedForm(msg);
  if (!out || out.readUInt16BE(10) !== 1) return undefined;
  let optStart = HEADER; // after the question(s) comes the OPT, alone
  for (let i = out.readUInt16BE(4); i > 0; i--) optStart = skipName(out, optStart) + 4;
  if (out[optStart] !== 0) return undefined; // the OPT's owner is the root
  out.writeUInt16BE((out.readUInt16BE(2) & ~(TC | 0x000f)) | (RCODE.BADCOOKIE & 0xf), 2);
  out[optStart + 5] = RCODE.BADCOOKIE >> 4; // RFC 6891 §6.1.3: EXTENDED-RCODE, the upper 8 bits
  return out;
}

/** Where the name read last ended (in the message, not where its pointers led). */
let nameEnd = 0;

/** RFC 1035 §4.1.4: a message of at most 64 KiB cannot hold more distinct pointers than this. */
const MAX_POINTERS = 128;

/** The name at `pos`, labels lower-cased and joined by dots; sets `nameEnd`. Throws when malformed. */
function readName(msg: Buffer, pos: number): string {
  let out = '';
  let end = -1;
  for (let pointers = 0; ; ) {
    const len = msg[pos];
    if (len === undefined) throw new RangeError('name runs past the message');
    if (len === 0) break;
    if ((len & 0xc0) === 0xc0) {
      if (end < 0) end = pos + 2;
      if (++pointers > MAX_POINTERS) throw new RangeError('compression loop');
      pos = ((len & 0x3f) << 8) | msg.readUInt8(pos + 1);
      continue;
    }
    if (len > 63 || pos + 1 + len > msg.length) throw new RangeError('bad label');
    const label = msg.toString('latin1', pos + 1, pos + 1 + len).toLowerCase();
    out = out === '' ? label : out + '.' + label;
    pos += 1 + len;
  }
  nameEnd = end < 0 ? pos + 1 : end;
  return out;
}

/** The position after the name at `pos`. */
function skipName(msg: Buffer, pos: number): number {
  for (;;) {
    const len = msg[pos];
    if (len === undefined) throw new RangeError('name runs past the message');
    if (len === 0) return pos + 1;
    if ((len & 0xc0) === 0xc0) return pos + 2;
    pos += 1 + len;
  }
}

/** The position after the resource record at `pos`. */
function skipRecord(msg: Buffer, pos: number): number {
  const fixed = skipName(msg, pos);
  const end = fixed + 10 + msg.readUInt16BE(fixed + 8);
  if (end > msg.length) throw new RangeError('record runs past the message');
  return end;
}
