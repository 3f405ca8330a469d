/**
 * Sections of a raw DNS response as presentation text ("owner ttl TYPE rdata"), every record
 * type in its own format (src/wire/rdata.ts), compressed names in rdata expanded and names
 * lower-cased, so answers of two servers, or of one for several types, compare as strings.
 */
import { Name } from '../../src/wire/name.js';
import { T, typeToText } from '../../src/wire/types.js';
import { rdataToText } from '../../src/wire/rdata.js';

/** Where names may sit compressed in rdata (RFC 3597 §4): octets before each name, in order. */
const NAME_LAYOUT: Partial<Record<number, number[]>> = {
  [T.NS]: [0], [T.CNAME]: [0], [T.PTR]: [0], [T.DNAME]: [0], [T.MB]: [0], [T.MG]: [0], [T.MR]: [0],
  [T.SOA]: [0, 0], [T.MINFO]: [0, 0], [T.RP]: [0, 0], [T.MX]: [2], [T.KX]: [2], [T.AFSDB]: [2], [T.RT]: [2],
  [T.PX]: [2, 0], [T.SRV]: [6],
};

/** One RR of a message as "owner ttl TYPE rdata-text", names expanded; returns the text and the offset after it. */
function readRecord(msg: Buffer, pos: number): { text: string; type: number; next: number } {
  const owner = Name.fromWire(msg, pos);
  let p = owner.next;
  const type = msg.readUInt16BE(p);
  const ttl = msg.readUInt32BE(p + 4);
  const len = msg.readUInt16BE(p + 8);
  p += 10;
  const end = p + len;
  const parts: Buffer[] = [];
  for (const before of NAME_LAYOUT[type] ?? []) {
    parts.push(msg.subarray(p, p + before));
    const n = Name.fromWire(msg, p + before);
    // Name case is not compared (RFC 4343): Knot compresses a synthesized CNAME's target against the question as spelled.
    parts.push(Name.fromText(n.name.key).wire);
    p = n.next;
  }
  parts.push(msg.subarray(p, end));
  const text = type === T.OPT ? 'OPT' : `${owner.name.key} ${ttl} ${typeToText(type)} ${rdataToText(type, Buffer.concat(parts))}`;
  return { text, type, next: end };
}

export interface View {
  flags: number;
  rcode: number;
  answer: string[];
  authority: string[];
  additional: string[];
}

export function view(msg: Buffer): View {
  let p = 12;
  for (let q = msg.readUInt16BE(4); q > 0; q--) p = Name.fromWire(msg, p).next + 4;
  const sections: string[][] = [[], [], []];
  for (const [k, count] of [msg.readUInt16BE(6), msg.readUInt16BE(8), msg.readUInt16BE(10)].entries()) {
    for (let i = 0; i < count; i++) {
      const r = readRecord(msg, p);
      if (r.type !== T.OPT) sections[k].push(r.text);
      p = r.next;
    }
  }
  // CD is not compared: knotd 3.2 does not copy it (see knot.test.ts).
  const word = msg.readUInt16BE(2) & ~0x0010;
  return { flags: word & 0xfff0, rcode: word & 0xf, answer: sections[0].sort(), authority: sections[1].sort(), additional: sections[2].sort() };
}

