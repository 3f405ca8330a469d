/**
 * Rdata presentation format (RFC 1035 §5.1 and each type's RFC) to uncompressed wire form and
 * back, plus RFC 3597 generic `\# length hex` for any type. Every result goes through
 * `checkWire`, which validates the wire form and finds the embedded names, so text and
 * generic input are held to the same rules and `names` has one source of truth. The codecs
 * of the types are in rdata-types.ts (LOC in loc.ts, SVCB and HTTPS in svcb.ts).
 */
import { Name } from './name.js';
import { T, typeToText } from './types.js';
import { Fields, Reader, RdataError, type Token } from './rdata-io.js';
import { CODECS } from './rdata-types.js';
import type { EmbeddedName, Rdata } from './record.js';

export { RdataError, decodeText, parseTtl, type Token } from './rdata-io.js';

/** RFC 1035 §3.2.1: RDLENGTH is 16 bits. */
const MAX_RDATA = 0xffff;

/** RFC 6895 §3.1: 0 is reserved, OPT and 128-255 are meta/query types. */
function isMeta(type: number): boolean {
  return type === 0 || type === T.OPT || (type >= 128 && type <= 255);
}

/** Types that exist only in messages, with why (RFC 2930, RFC 8945). */
const MESSAGE_ONLY: Partial<Record<number, string>> = {
  [T.TSIG]: 'a TSIG record signs one message (RFC 8945) and cannot appear in zone files; configure TSIG keys instead',
  [T.TKEY]: 'a TKEY record negotiates a key in one message (RFC 2930) and cannot appear in zone files',
};

/** True when presentation format (not only RFC 3597 generic syntax) is known for `type`. */
export function hasTextForm(type: number): boolean {
  return CODECS[type] !== undefined;
}

/** A or AAAA rdata for an IP address in text form (load-balancer origins, resolved hostnames). */
export function addressRdata(ip: string): Rdata {
  return parseRdata(ip.includes(':') ? T.AAAA : T.A, [{ text: ip, quoted: false, line: 0 }], Name.root);
}

/** Parses the rdata tokens of one record of `type`; names relative to `origin`. */
export function parseRdata(type: number, toks: readonly Token[], origin: Name): Rdata {
  const name = typeToText(type);
  const messageOnly = MESSAGE_ONLY[type];
  if (messageOnly) throw new RdataError(`type ${name}: ${messageOnly}`);
  if (isMeta(type)) throw new RdataError(`type ${name} is a meta or query type and cannot appear in zone files`);
  const f = new Fields(toks, `${name} record`, origin);
  let wire: Buffer;
  const generic = toks.length > 0 && !toks[0].quoted && toks[0].text === '\\#';
  if (generic) {
    f.take('\\#');
    const lenTok = f.take('rdata length (RFC 3597)');
    const len = Number(lenTok.text);
    if (!/^[0-9]+$/.test(lenTok.text) || len > MAX_RDATA) {
      throw new RdataError(`bad RFC 3597 rdata length "${lenTok.text}" in ${name} record (0-${MAX_RDATA})`, lenTok.line);
    }
    wire = f.more() ? f.hex('RFC 3597 rdata') : Buffer.alloc(0);
    if (wire.length !== len) {
      throw new RdataError(`RFC 3597 rdata length ${len} does not match the ${wire.length} octets of hex data in ${name} record`, lenTok.line);
    }
  } else {
    const codec = CODECS[type];
    if (!codec) throw new RdataError(`type ${name} has no presentation format here; write its rdata in RFC 3597 generic syntax (\\# length hex)`);
    wire = Buffer.concat(codec.parse(f));
    f.end();
    if (wire.length > MAX_RDATA) throw new RdataError(`${name} rdata is ${wire.length} octets; at most ${MAX_RDATA}`);
  }
  try {
    const names = checkWire(type, wire);
    return { wire, names: names.length === 0 ? NO_NAMES : names }; // one shared empty list: zones hold rdata by the million
  } catch (e) {
    if (!(e instanceof RdataError)) throw e;
    const prefix = generic ? `RFC 3597 rdata is not a valid ${name} record` : `bad ${name} record`;
    throw new RdataError(`${prefix}: ${e.message}`, toks[0]?.line);
  }
}

const NO_NAMES: readonly EmbeddedName[] = Object.freeze([]);

/** Validates `wire` as rdata of `type` and returns its embedded names. Unknown types pass as-is. */
export function checkWire(type: number, wire: Buffer): EmbeddedName[] {
  const r = new Reader(wire);
  const codec = CODECS[type];
  if (codec) codec.scan(r);
  else r.rest('rdata', 0);
  r.end();
  return r.names;
}

/**
 * Presentation text of checked rdata: the type's own form where it has one, else RFC 3597
 * generic form. Rdata that does not check (it cannot come from a zone file) is written
 * in generic form too, so the text always reads back to the same octets.
 */
export function rdataToText(type: number, wire: Buffer): string {
  const codec = CODECS[type];
  if (codec) {
    const out: string[] = [];
    const r = new Reader(wire, out);
    try {
      codec.scan(r);
      r.end();
      return out.join(' ');
    } catch (e) {
      if (!(e instanceof RdataError)) throw e;
    }
  }
  return `\\# ${wire.length}${wire.length ? ' ' + wire.toString('hex').toUpperCase() : ''}`;
}
