/**
 * Rdata presentation format (RFC 1035 §5.1 and each type's RFC) to uncompressed wire form,
 * plus RFC 3597 generic `\# length hex` for any type. Every result then goes through
 * `checkWire`, which validates the wire form and finds the embedded names, so text and
 * generic input are held to the same rules and `names` has one source of truth.
 */
import { Name, NameError } from './name.js';
import { T, typeToText } from './types.js';
import type { EmbeddedName, Rdata } from './record.js';

/** A word of presentation format (RFC 1035 §5.1), as the zone file lexer splits it. */
export interface Token {
  /** The text as written, without the surrounding quotes of a quoted string. */
  readonly text: string;
  readonly quoted: boolean;
  readonly line: number;
}

/** An rdata problem; `line` is the offending token's line when known. */
export class RdataError extends Error {
  constructor(message: string, readonly line?: number) {
    super(message);
  }
}

/** RFC 1035 §3.3: a <character-string> is at most 255 octets. */
const MAX_STRING = 255;
/** RFC 1035 §3.2.1: RDLENGTH is 16 bits. */
const MAX_RDATA = 0xffff;

/** Parses a TTL: seconds, or RFC 2308-style units (`1h30m`, `2W`); undefined if not one. */
export function parseTtl(text: string): number | undefined {
  if (/^[0-9]+$/.test(text)) return Number(text);
  const units: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
  let total = 0;
  for (let i = 0; i < text.length; ) {
    let j = i;
    while (j < text.length && text[j] >= '0' && text[j] <= '9') j++;
    const unit = units[text[j]?.toLowerCase() ?? ''];
    if (j === i || unit === undefined) return undefined; // BIND: "1h30" is not a TTL either
    total += Number(text.slice(i, j)) * unit;
    i = j + 1;
  }
  return text.length > 0 ? total : undefined;
}

/** Decodes `\X` and `\DDD` (RFC 1035 §5.1) in a string token; other characters as UTF-8. */
export function decodeText(tok: Token): Buffer {
  const out: number[] = [];
  const s = tok.text;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') {
      if (++i >= s.length) throw new RdataError(`dangling backslash in "${s}"`, tok.line);
      if (s[i] >= '0' && s[i] <= '9') {
        const d = s.slice(i, i + 3);
        if (!/^[0-9]{3}$/.test(d) || Number(d) > 255) {
          throw new RdataError(`bad escape "\\${d}" in "${s}" (\\DDD needs three digits, at most 255)`, tok.line);
        }
        out.push(Number(d));
        i += 2;
        continue;
      }
    }
    const cp = s.codePointAt(i)!;
    if (cp > 0xffff) i++;
    if (cp < 0x80) out.push(cp);
    else out.push(...Buffer.from(String.fromCodePoint(cp), 'utf8'));
  }
  return Buffer.from(out);
}

/** Reads the fields of one record's rdata in order, with errors naming the field. */
class Fields {
  private i = 0;
  constructor(
    private readonly toks: readonly Token[],
    readonly what: string, // "MX record"
    private readonly origin: Name,
  ) {}

  take(field: string): Token {
    const t = this.toks[this.i++];
    if (!t) throw new RdataError(`missing ${field} in ${this.what}`, this.toks.at(-1)?.line);
    return t;
  }
  more(): boolean {
    return this.i < this.toks.length;
  }
  end(): void {
    const t = this.toks[this.i];
    if (t) throw new RdataError(`too many fields in ${this.what}: unexpected "${t.text}"`, t.line);
  }
  uint(field: string, bytes: 1 | 2 | 4): Buffer {
    const t = this.take(field);
    const max = 2 ** (8 * bytes) - 1;
    if (t.quoted || !/^[0-9]+$/.test(t.text) || Number(t.text) > max) {
      throw new RdataError(`bad ${field} "${t.text}" in ${this.what} (must be an integer 0-${max})`, t.line);
    }
    return uintBytes(Number(t.text), bytes);
  }
  /** RFC 1035 SOA timers: 32-bit, but BIND (and people) write them with TTL units. */
  timer(field: string): Buffer {
    const t = this.take(field);
    const v = t.quoted ? undefined : parseTtl(t.text);
    if (v === undefined || v > 0xffffffff) {
      throw new RdataError(`bad ${field} "${t.text}" in ${this.what} (seconds or units like 1h30m)`, t.line);
    }
    return uintBytes(v, 4);
  }
  name(field: string): Buffer {
    const t = this.take(field);
    try {
      return (t.text === '@' && !t.quoted ? this.origin : Name.fromText(t.text, this.origin)).wire;
    } catch (e) {
      if (!(e instanceof NameError)) throw e;
      throw new RdataError(`bad ${field} "${t.text}" in ${this.what}: ${e.message}`, t.line);
    }
  }
  /** A <character-string>: length octet then data. */
  string(field: string, t = this.take(field)): Buffer {
    const b = decodeText(t);
    if (b.length > MAX_STRING) {
      throw new RdataError(`${field} is ${b.length} octets in ${this.what}; at most ${MAX_STRING} (RFC 1035 §3.3)`, t.line);
    }
    return Buffer.concat([Buffer.from([b.length]), b]);
  }
  /** All remaining tokens joined: hex or base64 may be split by whitespace. */
  rest(field: string, re: RegExp, kind: string): string {
    const first = this.take(field);
    let s = first.text;
    while (this.more()) s += this.take(field).text;
    if (!re.test(s)) throw new RdataError(`bad ${kind} in ${field} of ${this.what}: "${s}"`, first.line);
    return s;
  }
  hex(field: string): Buffer {
    return Buffer.from(this.rest(field, /^([0-9a-fA-F]{2})+$/, 'hex (need pairs of hex digits)'), 'hex');
  }
  base64(field: string): Buffer {
    return Buffer.from(this.rest(field, /^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, 'base64'), 'base64');
  }
}

function uintBytes(v: number, bytes: 1 | 2 | 4): Buffer {
  const b = Buffer.alloc(bytes);
  b.writeUIntBE(v, 0, bytes);
  return b;
}

/** RFC 1035 §3.4.1 A; strict dotted quad without leading zeros, as BIND. */
function ipv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.map(Number);
}

/** RFC 4291 §2.2 text forms, including `::` and a trailing dotted quad. */
function ipv6(text: string): Buffer | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string, lastMayBeV4: boolean): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const items = part.split(':');
    for (const [k, g] of items.entries()) {
      const v4 = lastMayBeV4 && k === items.length - 1 && g.includes('.') ? ipv4(g) : undefined;
      if (v4) out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      else if (/^[0-9a-fA-F]{1,4}$/.test(g)) out.push(parseInt(g, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0], halves.length === 1);
  const tail = halves.length === 2 ? groups(halves[1], true) : [];
  if (!head || !tail) return undefined;
  const n = head.length + tail.length;
  if (halves.length === 1 ? n !== 8 : n > 7) return undefined; // "::" stands for >= 1 group
  const all = [...head, ...new Array<number>(8 - n).fill(0), ...tail];
  const b = Buffer.alloc(16);
  all.forEach((g, k) => b.writeUInt16BE(g, 2 * k));
  return b;
}

type TextParser = (f: Fields) => Buffer[];

const nameOnly: TextParser = (f) => [f.name('target name')];

/** Presentation-format parsers; each returns the wire parts in order. */
const TEXT: Partial<Record<number, TextParser>> = {
  [T.A]: (f) => {
    const t = f.take('address');
    const v4 = t.quoted ? undefined : ipv4(t.text);
    if (!v4) throw new RdataError(`bad IPv4 address "${t.text}" in A record`, t.line);
    return [Buffer.from(v4)];
  },
  [T.AAAA]: (f) => {
    const t = f.take('address');
    const v6 = t.quoted ? undefined : ipv6(t.text);
    if (!v6) throw new RdataError(`bad IPv6 address "${t.text}" in AAAA record`, t.line);
    return [v6];
  },
  [T.NS]: nameOnly,
  [T.CNAME]: nameOnly,
  [T.PTR]: nameOnly,
  [T.SOA]: (f) => [
    f.name('primary server (MNAME)'), f.name('mailbox (RNAME)'), f.uint('serial', 4),
    f.timer('refresh'), f.timer('retry'), f.timer('expire'), f.timer('minimum'),
  ],
  [T.MX]: (f) => [f.uint('preference', 2), f.name('exchange')],
  [T.SRV]: (f) => [f.uint('priority', 2), f.uint('weight', 2), f.uint('port', 2), f.name('target')],
  [T.TXT]: (f) => {
    const parts = [f.string('text')];
    while (f.more()) parts.push(f.string('text'));
    return parts;
  },
  [T.HINFO]: (f) => [f.string('CPU'), f.string('OS')],
  // RFC 8659 §4.1.1: flags, tag, and a value that runs to the end of the rdata.
  [T.CAA]: (f) => {
    const flags = f.uint('flags', 1);
    const tag = f.take('tag');
    if (tag.quoted || !/^[A-Za-z0-9]{1,255}$/.test(tag.text)) {
      throw new RdataError(`bad tag "${tag.text}" in CAA record (letters and digits only)`, tag.line);
    }
    return [flags, Buffer.from([tag.text.length]), Buffer.from(tag.text, 'latin1'), decodeText(f.take('value'))];
  },
  [T.NAPTR]: (f) => [
    f.uint('order', 2), f.uint('preference', 2), f.string('flags'), f.string('services'),
    f.string('regexp'), f.name('replacement'),
  ],
  [T.DS]: (f) => [f.uint('key tag', 2), f.uint('algorithm', 1), f.uint('digest type', 1), f.hex('digest')],
  [T.SSHFP]: (f) => [f.uint('algorithm', 1), f.uint('fingerprint type', 1), f.hex('fingerprint')],
  [T.TLSA]: (f) => [f.uint('usage', 1), f.uint('selector', 1), f.uint('matching type', 1), f.hex('certificate data')],
  [T.DNSKEY]: (f) => [f.uint('flags', 2), f.uint('protocol', 1), f.uint('algorithm', 1), f.base64('public key')],
};

/** RFC 6895 §3.1: 0 is reserved, OPT and 128-255 are meta/query types. */
function isMeta(type: number): boolean {
  return type === 0 || type === T.OPT || (type >= 128 && type <= 255);
}

/** A or AAAA rdata for an IP address in text form (load-balancer origins, resolved hostnames). */
export function addressRdata(ip: string): Rdata {
  return parseRdata(ip.includes(':') ? T.AAAA : T.A, [{ text: ip, quoted: false, line: 0 }], Name.root);
}

/** Parses the rdata tokens of one record of `type`; names relative to `origin`. */
export function parseRdata(type: number, toks: readonly Token[], origin: Name): Rdata {
  const name = typeToText(type);
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
    const parse = TEXT[type];
    if (!parse) throw new RdataError(`type ${name} is not supported in zone files; use RFC 3597 generic syntax (\\# length hex)`);
    wire = Buffer.concat(parse(f));
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

/** Walks a wire rdata, throwing RdataError (reason only) when it is malformed. */
class Reader {
  pos = 0;
  readonly names: EmbeddedName[] = [];
  constructor(readonly buf: Buffer) {}

  take(n: number, what: string): Buffer {
    if (this.pos + n > this.buf.length) throw new RdataError(`${what} runs past the end of the rdata`);
    this.pos += n;
    return this.buf.subarray(this.pos - n, this.pos);
  }
  u8(what: string): number {
    return this.take(1, what)[0];
  }
  /** Names in zone data are never compressed (RFC 3597 §4). */
  name(what: string): void {
    const offset = this.pos;
    let r: { name: Name; next: number };
    try {
      r = Name.fromWire(this.buf, offset);
    } catch (e) {
      if (!(e instanceof NameError)) throw e;
      throw new RdataError(`bad ${what}: ${e.message}`);
    }
    if (r.next - offset !== r.name.wire.length) throw new RdataError(`${what} is compressed`);
    this.names.push({ offset, name: r.name });
    this.pos = r.next;
  }
  string(what: string): Buffer {
    return this.take(this.u8(what), what);
  }
  atEnd(): boolean {
    return this.pos === this.buf.length;
  }
  /** The rest of the rdata, which must be at least `min` octets. */
  rest(what: string, min = 1): Buffer {
    if (this.buf.length - this.pos < min) throw new RdataError(`${what} is missing`);
    return this.take(this.buf.length - this.pos, what);
  }
  end(): void {
    if (!this.atEnd()) throw new RdataError(`${this.buf.length - this.pos} octets left over`);
  }
}

/** Digest lengths BIND enforces: DS (RFC 4509, 6605) and SSHFP (RFC 4255, 6594). */
const DS_DIGEST: Record<number, number> = { 1: 20, 2: 32, 4: 48 };
const SSHFP_DIGEST: Record<number, number> = { 1: 20, 2: 32 };

function digest(r: Reader, kind: number, lengths: Record<number, number>, what: string): void {
  const d = r.rest(what);
  const want = lengths[kind];
  if (want !== undefined && d.length !== want) {
    throw new RdataError(`${what} type ${kind} must be ${want} octets, got ${d.length}`);
  }
}

/** RFC 4034 §4.1.2 type bitmap: increasing windows of 1-32 octets, no trailing zero octet. */
function typeBitmap(r: Reader): void {
  for (let last = -1; !r.atEnd(); ) {
    const win = r.u8('type bitmap window');
    const len = r.u8('type bitmap length');
    if (win <= last || len < 1 || len > 32) throw new RdataError('malformed type bitmap');
    if (r.take(len, 'type bitmap')[len - 1] === 0) throw new RdataError('type bitmap ends in a zero octet');
    last = win;
  }
}

/** BIND's txt_valid_regex minus compiling the regex: RFC 3402 §3.2 delim-regexp-delim-repl-delim-flags. */
function checkRegexp(re: Buffer): void {
  if (re.length === 0) return;
  const bad = (why: string): RdataError => new RdataError(`regexp "${re.toString('latin1')}": ${why}`);
  const delim = re[0];
  if ((delim >= 0x30 && delim <= 0x39) || delim === 0x5c || delim === 0x69 || delim === 0) {
    throw bad('delimiter must not be a digit, a backslash or "i"');
  }
  let seen = 1;
  for (let k = 1; k < re.length; k++) {
    const c = re[k];
    if (c === 0) throw bad('contains a NUL octet');
    if (c === delim) {
      if (++seen > 3) throw bad('more than three delimiters');
    } else if (seen === 3) {
      if (c !== 0x69) throw bad('flags may only be "i"');
    } else if (c === 0x5c) {
      if (++k >= re.length) throw bad('ends in a lone backslash');
      if (seen === 2 && re[k] === 0x30) throw bad('replacement refers to \\0');
    }
  }
  if (seen !== 3) throw bad('must be delimiter, regex, delimiter, replacement, delimiter');
}

/** Validates `wire` as rdata of `type` and returns its embedded names. Unknown types pass as-is. */
export function checkWire(type: number, wire: Buffer): EmbeddedName[] {
  const r = new Reader(wire);
  switch (type) {
    case T.A: r.take(4, 'address'); break;
    case T.AAAA: r.take(16, 'address'); break;
    case T.NS: case T.CNAME: case T.PTR: r.name('target name'); break;
    case T.MX: r.take(2, 'preference'); r.name('exchange'); break;
    case T.SRV: r.take(6, 'priority, weight and port'); r.name('target'); break;
    case T.SOA: r.name('MNAME'); r.name('RNAME'); r.take(20, 'serial and timers'); break;
    case T.TXT: do r.string('text'); while (!r.atEnd()); break;
    case T.HINFO: r.string('CPU'); r.string('OS'); break;
    case T.NAPTR:
      r.take(4, 'order and preference'); r.string('flags'); r.string('services');
      checkRegexp(r.string('regexp')); r.name('replacement'); break;
    case T.CAA: {
      r.u8('flags');
      const tag = r.string('tag');
      if (!/^[A-Za-z0-9]+$/.test(tag.toString('latin1'))) throw new RdataError('tag must be letters and digits');
      r.rest('value', 0);
      break;
    }
    case T.DS: r.take(3, 'key tag and algorithm'); digest(r, r.u8('digest type'), DS_DIGEST, 'digest'); break;
    case T.SSHFP: r.u8('algorithm'); digest(r, r.u8('fingerprint type'), SSHFP_DIGEST, 'fingerprint'); break;
    case T.TLSA: r.take(3, 'usage, selector and matching type'); r.rest('certificate data'); break;
    case T.DNSKEY: r.take(4, 'flags, protocol and algorithm'); r.rest('public key'); break;
    case T.RRSIG: r.take(18, 'RRSIG header'); r.name('signer name'); r.rest('signature'); break;
    case T.NSEC: r.name('next name'); typeBitmap(r); break;
    case T.NSEC3:
      r.take(4, 'NSEC3 header'); r.string('salt');
      if (r.string('next hashed owner').length === 0) throw new RdataError('next hashed owner is empty');
      typeBitmap(r); break;
    default: r.rest('rdata', 0);
  }
  r.end();
  return r.names;
}
