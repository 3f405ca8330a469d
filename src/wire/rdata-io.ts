/**
 * The two cursors every rdata codec is written with: `Fields` reads presentation tokens
 * (RFC 1035 §5.1) into wire parts, `Reader` walks wire rdata, validating it, locating its
 * names and, when asked, writing its presentation text. Errors say which field of which type.
 */
import { Name, NameError } from './name.js';
import { ipv6OctetsText } from './ip.js';
import type { EmbeddedName } from './record.js';

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
export const MAX_STRING = 255;

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
  return decodeEscapes(tok.text, tok.line);
}

export function decodeEscapes(s: string, line?: number): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') {
      if (++i >= s.length) throw new RdataError(`dangling backslash in "${s}"`, line);
      if (s[i] >= '0' && s[i] <= '9') {
        const d = s.slice(i, i + 3);
        if (!/^[0-9]{3}$/.test(d) || Number(d) > 255) {
          throw new RdataError(`bad escape "\\${d}" in "${s}" (\\DDD needs three digits, at most 255)`, line);
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

/** Octets as the inside of a quoted string: `"` and `\` escaped, non-printable octets as \DDD. */
export function escapeText(b: Uint8Array, extra = ''): string {
  let s = '';
  for (const c of b) {
    if (c < 0x20 || c > 0x7e) s += '\\' + String(c).padStart(3, '0');
    else if (c === 0x22 || c === 0x5c || extra.includes(String.fromCharCode(c))) s += '\\' + String.fromCharCode(c);
    else s += String.fromCharCode(c);
  }
  return s;
}

export function uintBytes(v: number, bytes: 1 | 2 | 4): Buffer {
  const b = Buffer.alloc(bytes);
  b.writeUIntBE(v, 0, bytes);
  return b;
}

/** RFC 1035 §3.4.1 A; strict dotted quad without leading zeros, as BIND. */
export function ipv4(text: string): Buffer | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)) return undefined;
  return Buffer.from(parts.map(Number));
}

/** RFC 4291 §2.2 text forms, including `::` and a trailing dotted quad. */
export function ipv6(text: string): Buffer | undefined {
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

const BASE64 = /^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
export const isBase64 = (s: string): boolean => BASE64.test(s);

/** RFC 4648 §7 base32 with the extended hex alphabet, unpadded (NSEC3, RFC 5155 §3.3). */
const B32 = '0123456789abcdefghijklmnopqrstuv';
export function base32hexDecode(text: string): Buffer | undefined {
  const s = text.toLowerCase();
  if (!/^[0-9a-v]*$/.test(s) || [1, 3, 6].includes(s.length % 8)) return undefined;
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const c of s) {
    value = (value << 5) | B32.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >> bits) & 0xff);
    }
  }
  if (bits > 0 && (value & ((1 << bits) - 1)) !== 0) return undefined; // non-zero padding bits
  return Buffer.from(out);
}
export function base32hexEncode(b: Uint8Array): string {
  let s = '';
  let bits = 0;
  let value = 0;
  for (const octet of b) {
    value = ((value << 8) | octet) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      s += B32[(value >> bits) & 31];
    }
  }
  if (bits > 0) s += B32[(value << (5 - bits)) & 31];
  return s;
}

/** Reads the fields of one record's rdata in order, with errors naming the field. */
export class Fields {
  private i = 0;
  constructor(
    private readonly toks: readonly Token[],
    readonly what: string, // "MX record"
    readonly origin: Name,
  ) {}

  take(field: string): Token {
    const t = this.toks[this.i++];
    if (!t) throw new RdataError(`missing ${field} in ${this.what}`, this.toks.at(-1)?.line);
    return t;
  }
  peek(): Token | undefined {
    return this.toks[this.i];
  }
  more(): boolean {
    return this.i < this.toks.length;
  }
  end(): void {
    const t = this.toks[this.i];
    if (t) throw new RdataError(`too many fields in ${this.what}: unexpected "${t.text}"`, t.line);
  }
  error(field: string, t: Token | undefined, why: string): RdataError {
    return new RdataError(`bad ${field} "${t?.text ?? ''}" in ${this.what} (${why})`, t?.line);
  }
  fail(field: string, t: Token | undefined, why: string): never {
    throw this.error(field, t, why);
  }
  uint(field: string, bytes: 1 | 2 | 4, t = this.take(field)): Buffer {
    const max = 2 ** (8 * bytes) - 1;
    if (t.quoted || !/^[0-9]+$/.test(t.text) || Number(t.text) > max) this.fail(field, t, `must be an integer 0-${max}`);
    return uintBytes(Number(t.text), bytes);
  }
  /** A number or one of the mnemonics in `names` (upper case), as BIND accepts for algorithms and certificate types. */
  mnemonic(field: string, bytes: 1 | 2, names: Readonly<Record<string, number>>): Buffer {
    const t = this.take(field);
    const v = t.quoted ? undefined : names[t.text.toUpperCase()];
    if (v !== undefined) return uintBytes(v, bytes);
    if (!/^[0-9]+$/.test(t.text)) this.fail(field, t, `a number or one of ${Object.keys(names).join(' ')}`);
    return this.uint(field, bytes, t);
  }
  /** RFC 1035 SOA timers: 32-bit, but BIND (and people) write them with TTL units. */
  timer(field: string): Buffer {
    const t = this.take(field);
    const v = t.quoted ? undefined : parseTtl(t.text);
    if (v === undefined || v > 0xffffffff) this.fail(field, t, 'seconds or units like 1h30m');
    return uintBytes(v, 4);
  }
  nameValue(field: string, t = this.take(field)): Name {
    try {
      return t.text === '@' && !t.quoted ? this.origin : Name.fromText(t.text, this.origin);
    } catch (e) {
      if (!(e instanceof NameError)) throw e;
      throw new RdataError(`bad ${field} "${t.text}" in ${this.what}: ${e.message}`, t.line);
    }
  }
  name(field: string): Buffer {
    return this.nameValue(field).wire;
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
  /** One string that runs to the end of the rdata, without a length octet (CAA value, URI target). */
  stringRest(field: string): Buffer {
    return decodeText(this.take(field));
  }
  hex(field: string): Buffer {
    return Buffer.from(this.rest(field, /^([0-9a-fA-F]{2})+$/, 'hex (need pairs of hex digits)'), 'hex');
  }
  base64(field: string): Buffer {
    return Buffer.from(this.rest(field, BASE64, 'base64'), 'base64');
  }
  ipv4(field: string): Buffer {
    const t = this.take(field);
    const v = t.quoted ? undefined : ipv4(t.text);
    if (!v) throw new RdataError(`bad IPv4 address "${t.text}" in ${this.what}`, t.line);
    return v;
  }
  ipv6(field: string): Buffer {
    const t = this.take(field);
    const v = t.quoted ? undefined : ipv6(t.text);
    if (!v) throw new RdataError(`bad IPv6 address "${t.text}" in ${this.what}`, t.line);
    return v;
  }
}

/** Walks a wire rdata, throwing RdataError (reason only) when it is malformed; writes text into `out` when given. */
export class Reader {
  pos = 0;
  readonly names: EmbeddedName[] = [];
  constructor(readonly buf: Buffer, readonly out?: string[]) {}

  put(text: string): void {
    this.out!.push(text);
  }
  take(n: number, what: string): Buffer {
    if (this.pos + n > this.buf.length) throw new RdataError(`${what} runs past the end of the rdata`);
    this.pos += n;
    return this.buf.subarray(this.pos - n, this.pos);
  }
  u8(what: string): number {
    return this.take(1, what)[0];
  }
  u16(what: string): number {
    return this.take(2, what).readUInt16BE(0);
  }
  u32(what: string): number {
    return this.take(4, what).readUInt32BE(0);
  }
  /** An unsigned number of `bytes` octets, written in decimal. */
  num(bytes: 1 | 2 | 4, what: string): number {
    const v = this.take(bytes, what).readUIntBE(0, bytes);
    if (this.out) this.put(String(v));
    return v;
  }
  /** Names in zone data are never compressed (RFC 3597 §4). */
  name(what: string): Name {
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
    if (this.out) this.put(r.name.toString());
    return r.name;
  }
  /** A <character-string>, written quoted. */
  string(what: string): Buffer {
    const s = this.take(this.u8(what), what);
    if (this.out) this.put(`"${escapeText(s)}"`);
    return s;
  }
  atEnd(): boolean {
    return this.pos === this.buf.length;
  }
  left(): number {
    return this.buf.length - this.pos;
  }
  /** The rest of the rdata, which must be at least `min` octets. */
  rest(what: string, min = 1): Buffer {
    if (this.buf.length - this.pos < min) throw new RdataError(`${what} is missing`);
    return this.take(this.buf.length - this.pos, what);
  }
  /** The rest of the rdata as one quoted string (CAA value, URI target). */
  quotedRest(what: string, min: number): void {
    const b = this.rest(what, min);
    if (this.out) this.put(`"${escapeText(b)}"`);
  }
  hex(what: string, min = 1): Buffer {
    const b = this.rest(what, min);
    if (this.out) this.put(b.length === 0 ? '' : b.toString('hex').toUpperCase());
    return b;
  }
  base64(what: string, min = 1): Buffer {
    const b = this.rest(what, min);
    if (this.out && b.length > 0) this.put(b.toString('base64'));
    return b;
  }
  ipv4(what: string): void {
    const b = this.take(4, what);
    if (this.out) this.put(`${b[0]}.${b[1]}.${b[2]}.${b[3]}`);
  }
  ipv6(what: string): void {
    const b = this.take(16, what);
    if (this.out) this.put(ipv6OctetsText(b));
  }
  end(): void {
    if (!this.atEnd()) throw new RdataError(`${this.buf.length - this.pos} octets left over`);
  }
}
