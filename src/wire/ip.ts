/**
 * IP addresses and networks, read, written and masked in one place: text to 32-bit words or
 * octets (by hand, allocating nothing, for the query path), canonical text (RFC 5952), masks,
 * network membership and CIDR parsing. Record data (A, AAAA), cookies, RRL, geolocation,
 * overrides and persistence all use these.
 */
import { isIP } from 'node:net';
import IPCIDR from 'ip-cidr';

export type IpFamily = 4 | 6;

/** A network: its address masked to `prefix` bits, as 32-bit words (IPv4: word 0). */
export interface IpNetwork {
  readonly family: IpFamily;
  readonly prefix: number;
  readonly words: Uint32Array;
}

export class IpError extends Error {}

const MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** The IPv4 address inside an IPv4-mapped IPv6 address (RFC 4291 §2.5.5.2), else the address as given. */
export function unmapped(ip: string): string {
  const m = MAPPED.exec(ip);
  return m ? m[1] : ip;
}

const v6Head = new Uint16Array(8);
const v6Tail = new Uint16Array(8);

/**
 * Writes an address already validated by `net.isIP` (family 4 or 6) into `out` as 32-bit words
 * (IPv4: word 0), by hand so the query path allocates nothing. A zone index (`%eth0`) is ignored.
 */
export function parseAddress(ip: string, family: IpFamily, out: Uint32Array): void {
  let end = ip.length;
  if (family === 4) {
    out[0] = parseV4(ip, 0, end);
    return;
  }
  const pct = ip.indexOf('%');
  if (pct >= 0) end = pct;
  let head = 0;
  let tail = 0;
  let inTail = false;
  let i = 0;
  if (ip.charCodeAt(0) === 58 && ip.charCodeAt(1) === 58) {
    inTail = true;
    i = 2;
  }
  while (i < end) {
    let j = i;
    let v = 0;
    let dotted = false;
    for (; j < end; j++) {
      const c = ip.charCodeAt(j);
      if (c === 58) break;
      if (c === 46) {
        dotted = true;
        break;
      }
      v = v * 16 + (c <= 57 ? c - 48 : (c | 32) - 87);
    }
    if (dotted) {
      const w = parseV4(ip, i, end);
      if (inTail) {
        v6Tail[tail++] = w >>> 16;
        v6Tail[tail++] = w & 0xffff;
      } else {
        v6Head[head++] = w >>> 16;
        v6Head[head++] = w & 0xffff;
      }
      break;
    }
    if (inTail) v6Tail[tail++] = v;
    else v6Head[head++] = v;
    if (j >= end) break;
    if (ip.charCodeAt(j + 1) === 58) {
      inTail = true;
      i = j + 2;
    } else {
      i = j + 1;
    }
  }
  for (let k = 0; k < 4; k++) out[k] = ((group(2 * k, head, tail) << 16) | group(2 * k + 1, head, tail)) >>> 0;
}

function group(k: number, head: number, tail: number): number {
  if (k < head) return v6Head[k];
  if (k >= 8 - tail) return v6Tail[k - (8 - tail)];
  return 0;
}

function parseV4(ip: string, start: number, end: number): number {
  let word = 0;
  let octet = 0;
  for (let i = start; i < end; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46) {
      word = word * 256 + octet;
      octet = 0;
    } else {
      octet = octet * 10 + (c - 48);
    }
  }
  return (word * 256 + octet) >>> 0;
}

/** Scratch for addressOctets and maskAddress (synchronous, so one is enough). */
const WORDS = new Uint32Array(4);

/**
 * An address as 4 or 16 octets; an IPv4 address a dual-stack socket reports as ::ffff:a.b.c.d
 * is its 4 octets, as an IPv4 socket would see it. Undefined for anything that is not an address.
 */
export function addressOctets(address: string): Buffer | undefined {
  const zone = address.indexOf('%');
  const ip = unmapped(zone < 0 ? address : address.slice(0, zone));
  const family = isIP(ip);
  if (family !== 4 && family !== 6) return undefined;
  parseAddress(ip, family, WORDS);
  const out = Buffer.allocUnsafe(family === 4 ? 4 : 16);
  for (let i = 0; i < out.length; i += 4) out.writeUInt32BE(WORDS[i / 4], i);
  return out;
}

/** `word` keeping its first `bits` bits (bits outside 0..32 are clamped). */
export function maskWord(word: number, bits: number): number {
  if (bits <= 0) return 0;
  if (bits >= 32) return word >>> 0;
  return (word & (0xffffffff << (32 - bits))) >>> 0;
}

/** Whether `address` (words as parseAddress writes them, of the network's family) is inside `n`. */
export function inNetwork(address: Uint32Array, n: IpNetwork): boolean {
  const words = n.family === 4 ? 1 : 4;
  for (let k = 0; k < words; k++) if (maskWord(address[k], n.prefix - 32 * k) !== n.words[k]) return false;
  return true;
}

/**
 * "network/prefix" of an address masked to `v4` bits (IPv4 and IPv4-mapped IPv6) or `v6` bits
 * (IPv6, zone index dropped), in canonical text. Anything that is not an address is returned
 * unchanged, so it still works as a key.
 */
export function maskAddress(ip: string, v4: number, v6: number): string {
  const plain = unmapped(ip);
  const pct = plain.indexOf('%');
  const addr = pct >= 0 ? plain.slice(0, pct) : plain;
  const family = isIP(addr);
  if (family !== 4 && family !== 6) return ip;
  parseAddress(addr, family, WORDS);
  if (family === 4) return `${ipv4Text(maskWord(WORDS[0], v4))}/${v4}`;
  const groups: number[] = [];
  for (let k = 0; k < 4; k++) {
    const w = maskWord(WORDS[k], v6 - 32 * k);
    groups.push(w >>> 16, w & 0xffff);
  }
  return `${ipv6Text(groups)}/${v6}`;
}

/** An IPv4 address given as an unsigned 32-bit number, in dotted-quad text. */
export function ipv4Text(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

/** RFC 5952 §4: eight 16-bit groups in lower case, no leading zeros, the longest run (first on ties) of 2+ zero groups as "::". */
export function ipv6Text(groups: ArrayLike<number>): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) => {
    let s = '';
    for (let i = from; i < to; i++) s += (i > from ? ':' : '') + groups[i].toString(16);
    return s;
  };
  if (best < 0) return hex(0, 8);
  return `${hex(0, best)}::${hex(best + bestLen, 8)}`;
}

/** Sixteen octets (an AAAA record's rdata) as RFC 5952 text. */
export function ipv6OctetsText(b: Uint8Array, at = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[at + i] << 8) | b[at + i + 1]);
  return ipv6Text(groups);
}

/** Dotted-quad IPv4 text as an unsigned 32-bit number; -1 for anything else (leading zeros included). */
export function ipv4Number(text: string): number {
  return dottedDecimals(text, 0, text.length, 4, 255);
}

/**
 * `count` dot-separated decimal numbers in `text[from, to)`, each at most `max`, of 1-3 digits
 * without a leading zero, read as one number base max + 1; -1 for anything else.
 */
export function dottedDecimals(text: string, from: number, to: number, count: number, max: number): number {
  let out = 0;
  let value = 0;
  let digits = 0;
  let read = 0;
  for (let i = from; i <= to; i++) {
    const c = i < to ? text.charCodeAt(i) : 0x2e; // a dot after the last number
    if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && value === 0) return -1; // a leading zero: not the canonical text
      value = value * 10 + (c - 0x30);
      if (++digits > 3) return -1;
    } else if (c === 0x2e && digits > 0 && value <= max && read < count) {
      out = out * (max + 1) + value;
      read++;
      value = 0;
      digits = 0;
    } else {
      return -1;
    }
  }
  return read === count ? out : -1;
}

/** An address (validated by `net.isIP`) as one number of 32 or 128 bits. */
export function addressBigInt(ip: string): bigint {
  const family = isIP(ip) as IpFamily;
  parseAddress(ip, family, WORDS);
  let v = 0n;
  for (let k = 0; k < (family === 4 ? 1 : 4); k++) v = (v << 32n) | BigInt(WORDS[k]);
  return v;
}

/** The canonical text of an address given as one number of 32 (family 4) or 128 bits. */
export function bigIntText(value: bigint, family: IpFamily): string {
  if (family === 4) return ipv4Text(Number(value & 0xffffffffn));
  const groups: number[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(Number((value >> s) & 0xffffn));
  return ipv6Text(groups);
}

/**
 * "ADDRESS/PREFIX", or a bare address (a single host), with any host bits masked off: the
 * lenient form for lists of exempt clients. Throws IpError naming the text.
 */
export function parseNetwork(text: string): IpNetwork {
  const slash = text.indexOf('/');
  const ip = slash < 0 ? text : text.slice(0, slash);
  const family = isIP(ip);
  if (family !== 4 && family !== 6) throw new IpError(`"${text}": expected ADDRESS/PREFIX`);
  const max = family === 4 ? 32 : 128;
  const prefixText = slash < 0 ? String(max) : text.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(prefixText) || Number(prefixText) > max) throw new IpError(`"${text}": the prefix must be 0 to ${max}`);
  const prefix = Number(prefixText);
  const words = new Uint32Array(4);
  parseAddress(ip, family, words);
  for (let k = 0; k < (family === 4 ? 1 : 4); k++) words[k] = maskWord(words[k], prefix - 32 * k);
  return { family, words, prefix };
}

const PREFIX = /^(?:0|[1-9][0-9]{0,2})$/;

/** A network written strictly as CIDR, with its canonical text (`10.0.0.0/8`, `2001:db8::/32`). */
export interface CidrNetwork extends IpNetwork {
  readonly text: string;
}

/**
 * One CIDR network, strictly: what ip-cidr accepts, minus bare addresses, host bits, zone
 * indexes and IPv4 written as IPv6. Throws IpError with a message saying what to write instead.
 */
export function parseCidr(text: string): CidrNetwork {
  const slash = text.indexOf('/');
  if (slash < 0) {
    const host = text.includes(':') ? `${text}/128` : `${text}/32`;
    throw new IpError(`"${text}" is not a CIDR network: write ${host} for a single address`);
  }
  const addr = text.slice(0, slash);
  if (addr.includes('%')) throw new IpError(`"${text}": a zone index (%...) has no place in a network`);
  if (addr.includes(':') && addr.includes('.')) throw new IpError(`"${text}": write IPv4 networks in dotted form (10.0.0.0/8), not as IPv6 with an embedded IPv4 address`);
  if (!PREFIX.test(text.slice(slash + 1)) || !IPCIDR.isValidCIDR(text)) throw new IpError(`"${text}" is not a valid IPv4 or IPv6 CIDR network`);
  const cidr = new IPCIDR(text);
  const family: IpFamily = cidr.address.v4 ? 4 : 6;
  const prefix = cidr.address.subnetMask;
  const start = cidr.start<bigint>({ type: 'bigInteger' });
  const given = IPCIDR.formatIP<bigint>(cidr.address, { type: 'bigInteger' });
  const network = `${bigIntText(start, family)}/${prefix}`;
  if (given !== start) throw new IpError(`"${text}" has bits set beyond the /${prefix} prefix: the network is ${network}`);
  const words = family === 4 ? Uint32Array.of(Number(start)) : Uint32Array.from([96n, 64n, 32n, 0n], (s) => Number((start >> s) & 0xffffffffn));
  return { family, prefix, words, text: network };
}
