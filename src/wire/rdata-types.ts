/**
 * One codec per record type: presentation tokens to wire parts (`parse`) and wire to checked
 * rdata and, when asked, presentation text (`scan`). Most types are a sequence of simple
 * fields; LOC (loc.ts), SVCB/HTTPS (svcb.ts), APL and IPSECKEY have codecs of their own.
 */
import { Fields, Reader, RdataError, base32hexDecode, base32hexEncode, ipv4, ipv6, uintBytes } from './rdata-io.js';
import { T, typeFromText, typeToText } from './types.js';
import { LOC } from './loc.js';
import { SVCB } from './svcb.js';
import { ipv6OctetsText } from './ip.js';

export interface Codec {
  parse(f: Fields): Buffer[];
  scan(r: Reader): void;
}

interface Field {
  parse(f: Fields): Buffer;
  scan(r: Reader): void;
}

function seq(...fields: Field[]): Codec {
  return {
    parse: (f) => fields.map((x) => x.parse(f)),
    scan: (r) => {
      for (const x of fields) x.scan(r);
    },
  };
}

const uint = (bytes: 1 | 2 | 4) => (label: string): Field => ({ parse: (f) => f.uint(label, bytes), scan: (r) => void r.num(bytes, label) });
const u8 = uint(1);
const u16 = uint(2);
const u32 = uint(4);
const name = (label: string): Field => ({ parse: (f) => f.name(label), scan: (r) => void r.name(label) });
const str = (label: string): Field => ({ parse: (f) => f.string(label), scan: (r) => void r.string(label) });
const a4 = (label: string): Field => ({ parse: (f) => f.ipv4(label), scan: (r) => r.ipv4(label) });
const a6 = (label: string): Field => ({ parse: (f) => f.ipv6(label), scan: (r) => r.ipv6(label) });
const hex = (label: string): Field => ({ parse: (f) => f.hex(label), scan: (r) => void r.hex(label) });
const base64 = (label: string, min = 1): Field => ({
  parse: (f) => (min === 0 && !f.more() ? Buffer.alloc(0) : f.base64(label)),
  scan: (r) => void r.base64(label, min),
});

/** DNSSEC algorithm mnemonics (IANA "DNS Security Algorithm Numbers"), accepted for numbers as BIND does. */
const ALGORITHMS: Readonly<Record<string, number>> = {
  RSAMD5: 1, DH: 2, DSA: 3, RSASHA1: 5, 'DSA-NSEC3-SHA1': 6, 'RSASHA1-NSEC3-SHA1': 7, RSASHA256: 8,
  RSASHA512: 10, 'ECC-GOST': 12, ECDSAP256SHA256: 13, ECDSAP384SHA384: 14, ED25519: 15, ED448: 16,
  INDIRECT: 252, PRIVATEDNS: 253, PRIVATEOID: 254,
};
const alg: Field = { parse: (f) => f.mnemonic('algorithm', 1, ALGORITHMS), scan: (r) => void r.num(1, 'algorithm') };

/** RFC 4398 §2.1 certificate types. */
const CERT_TYPES: Readonly<Record<string, number>> = {
  PKIX: 1, SPKI: 2, PGP: 3, IPKIX: 4, ISPKI: 5, IPGP: 6, ACPKIX: 7, IACPKIX: 8, URI: 253, OID: 254,
};

/** A type mnemonic (RRSIG type covered). */
const typeField: Field = {
  parse: (f) => {
    const t = f.take('type covered');
    const type = t.quoted ? undefined : typeFromText(t.text);
    if (type === undefined) throw f.error('type covered', t, 'a type mnemonic or TYPEnnn');
    return uintBytes(type, 2);
  },
  scan: (r) => {
    const type = r.u16('type covered');
    if (r.out) r.put(typeToText(type));
  },
};

/** RFC 4034 §3.2: YYYYMMDDHHmmSS in UTC, or seconds since 1970 (serial arithmetic, RFC 1982). */
const time = (label: string): Field => ({
  parse: (f) => {
    const t = f.take(label);
    const m = t.quoted ? null : /^([0-9]{4})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})$/.exec(t.text);
    if (m) {
      const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
      const ms = Date.UTC(y, mo - 1, d, h, mi, s);
      const back = new Date(ms);
      if (y < 1970 || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
        f.fail(label, t, 'not a valid YYYYMMDDHHmmSS time');
      }
      return uintBytes((ms / 1000) % 2 ** 32, 4);
    }
    if (!t.quoted && /^[0-9]{1,10}$/.test(t.text) && Number(t.text) <= 0xffffffff) return uintBytes(Number(t.text), 4);
    return f.fail(label, t, 'YYYYMMDDHHmmSS or seconds since 1970');
  },
  scan: (r) => {
    const v = r.u32(label);
    if (r.out) r.put(new Date(v * 1000).toISOString().replace(/[-:T]|\.000Z/g, ''));
  },
});

/** RFC 4034 §4.1.2 type bitmap: the types present, in any order, written as windows. */
const bitmap: Field = {
  parse: (f) => {
    const types = new Set<number>();
    while (f.more()) {
      const t = f.take('type');
      const type = t.quoted ? undefined : typeFromText(t.text);
      if (type === undefined) throw f.error('type in the type bitmap', t, 'a type mnemonic or TYPEnnn');
      types.add(type);
    }
    const parts: Buffer[] = [];
    const sorted = [...types].sort((a, b) => a - b);
    for (let i = 0; i < sorted.length; ) {
      const win = sorted[i] >> 8;
      const bits = Buffer.alloc(32);
      let len = 0;
      for (; i < sorted.length && sorted[i] >> 8 === win; i++) {
        const low = sorted[i] & 0xff;
        bits[low >> 3] |= 0x80 >> (low & 7);
        len = (low >> 3) + 1;
      }
      parts.push(Buffer.from([win, len]), bits.subarray(0, len));
    }
    return Buffer.concat(parts);
  },
  scan: (r) => {
    for (let last = -1; !r.atEnd(); ) {
      const win = r.u8('type bitmap window');
      const len = r.u8('type bitmap length');
      if (win <= last || len < 1 || len > 32) throw new RdataError('malformed type bitmap');
      const bits = r.take(len, 'type bitmap');
      if (bits[len - 1] === 0) throw new RdataError('type bitmap ends in a zero octet');
      last = win;
      if (r.out) {
        for (let k = 0; k < len * 8; k++) if (bits[k >> 3] & (0x80 >> (k & 7))) r.put(typeToText((win << 8) | k));
      }
    }
  },
};

/** RFC 5155 §3.3: salt as hex with a length octet, "-" when empty. */
const salt: Field = {
  parse: (f) => {
    const t = f.take('salt');
    if (t.text === '-' && !t.quoted) return Buffer.from([0]);
    if (t.quoted || !/^([0-9a-fA-F]{2}){1,255}$/.test(t.text)) throw f.error('salt', t, 'pairs of hex digits, at most 255 octets, or "-"');
    return Buffer.concat([Buffer.from([t.text.length / 2]), Buffer.from(t.text, 'hex')]);
  },
  scan: (r) => {
    const s = r.take(r.u8('salt'), 'salt');
    if (r.out) r.put(s.length === 0 ? '-' : s.toString('hex').toUpperCase());
  },
};

/** RFC 5155 §3.3: the next hashed owner name in base32hex, with a length octet. */
const nextHashed: Field = {
  parse: (f) => {
    const t = f.take('next hashed owner');
    const b = t.quoted ? undefined : base32hexDecode(t.text);
    if (!b || b.length === 0 || b.length > 255) throw f.error('next hashed owner', t, 'base32hex (RFC 4648 §7), 1-255 octets');
    return Buffer.concat([Buffer.from([b.length]), b]);
  },
  scan: (r) => {
    const b = r.take(r.u8('next hashed owner'), 'next hashed owner');
    if (b.length === 0) throw new RdataError('next hashed owner is empty');
    if (r.out) r.put(base32hexEncode(b).toUpperCase());
  },
};

/** Digest lengths BIND enforces: DS (RFC 4509, 6605) and SSHFP (RFC 4255, 6594); ZONEMD (RFC 8976 §2.2.4). */
const DS_DIGEST: Record<number, number> = { 1: 20, 2: 32, 4: 48 };
const SSHFP_DIGEST: Record<number, number> = { 1: 20, 2: 32 };
const ZONEMD_DIGEST: Record<number, number> = { 1: 48, 2: 64 };

function digest(r: Reader, kind: number, lengths: Record<number, number>, what: string, min = 1): void {
  const d = r.hex(what);
  const want = lengths[kind];
  if (want !== undefined && d.length !== want) {
    throw new RdataError(`${what} type ${kind} must be ${want} octets, got ${d.length}`);
  }
  if (d.length < min) throw new RdataError(`${what} is ${d.length} octets; at least ${min}`); // RFC 8976 §2.2.4
}

const DS: Codec = {
  parse: (f) => [f.uint('key tag', 2), f.mnemonic('algorithm', 1, ALGORITHMS), f.uint('digest type', 1), f.hex('digest')],
  scan: (r) => {
    r.num(2, 'key tag');
    r.num(1, 'algorithm');
    digest(r, r.num(1, 'digest type'), DS_DIGEST, 'digest');
  },
};

const DNSKEY = seq(u16('flags'), u8('protocol'), alg, base64('public key'));

const TXT: Codec = {
  parse: (f) => {
    const parts = [f.string('text')];
    while (f.more()) parts.push(f.string('text'));
    return parts;
  },
  scan: (r) => {
    do r.string('text');
    while (!r.atEnd());
  },
};

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

/** EUI-48/EUI-64 (RFC 7043 §3.2, §4.2): hex pairs separated by hyphens. */
function eui(octets: 6 | 8): Codec {
  const re = new RegExp(`^[0-9a-fA-F]{2}(-[0-9a-fA-F]{2}){${octets - 1}}$`);
  return {
    parse: (f) => {
      const t = f.take('address');
      if (t.quoted || !re.test(t.text)) throw f.error('address', t, `${octets} hex pairs joined by "-"`);
      return [Buffer.from(t.text.replace(/-/g, ''), 'hex')];
    },
    scan: (r) => {
      const b = r.take(octets, 'address');
      if (r.out) r.put([...b].map((x) => x.toString(16).padStart(2, '0')).join('-'));
    },
  };
}

/** RFC 6742 §2.3: a 64-bit locator or node identifier as four groups of four hex digits. */
const id64 = (label: string): Field => ({
  parse: (f) => {
    const t = f.take(label);
    if (t.quoted || !/^[0-9a-fA-F]{1,4}(:[0-9a-fA-F]{1,4}){3}$/.test(t.text)) throw f.error(label, t, 'four groups of hex digits joined by ":"');
    return Buffer.from(t.text.split(':').map((g) => g.padStart(4, '0')).join(''), 'hex');
  },
  scan: (r) => {
    const b = r.take(8, label).toString('hex');
    if (r.out) r.put([0, 4, 8, 12].map((k) => b.slice(k, k + 4)).join(':'));
  },
});

/** RFC 3123 §5: `[!]afi:address/prefix`, afi 1 (IPv4) or 2 (IPv6); trailing zero octets are not sent. */
const APL: Codec = {
  parse: (f) => {
    const parts: Buffer[] = [];
    while (f.more()) {
      const t = f.take('address prefix');
      const m = t.quoted ? null : /^(!?)([12]):([^/]+)\/([0-9]{1,3})$/.exec(t.text);
      const afi = m ? Number(m[2]) : 0;
      const addr = m ? (afi === 1 ? ipv4(m[3]) : ipv6(m[3])) : undefined;
      const prefix = m ? Number(m[4]) : 0;
      if (!m || !addr || prefix > addr.length * 8) throw f.error('address prefix', t, '[!]1:IPv4/prefix or [!]2:IPv6/prefix');
      let len = addr.length;
      while (len > 0 && addr[len - 1] === 0) len--;
      parts.push(uintBytes(afi, 2), Buffer.from([prefix, (m[1] ? 0x80 : 0) | len]), addr.subarray(0, len));
    }
    return parts;
  },
  scan: (r) => {
    while (!r.atEnd()) {
      const afi = r.u16('address family');
      const prefix = r.u8('prefix');
      const nlen = r.u8('address length');
      const size = afi === 1 ? 4 : afi === 2 ? 16 : 0;
      if (size === 0) throw new RdataError(`address family ${afi} is not 1 (IPv4) or 2 (IPv6)`);
      const len = nlen & 0x7f;
      if (len > size || prefix > size * 8) throw new RdataError(`address prefix too long for address family ${afi}`);
      const addr = Buffer.alloc(size);
      r.take(len, 'address').copy(addr);
      if (r.out) r.put(`${nlen & 0x80 ? '!' : ''}${afi}:${afi === 1 ? [...addr].join('.') : ipv6OctetsText(addr)}/${prefix}`);
    }
  },
};

/** RFC 4025 §2: the gateway's form depends on the gateway type (0 none, 1 IPv4, 2 IPv6, 3 a name). */
const IPSECKEY: Codec = {
  parse: (f) => {
    const head = [f.uint('precedence', 1), f.uint('gateway type', 1), f.uint('algorithm', 1)];
    const kind = head[1][0];
    let gateway: Buffer;
    if (kind === 0) {
      const t = f.take('gateway');
      if (t.text !== '.') throw f.error('gateway', t, 'must be "." for gateway type 0');
      gateway = Buffer.alloc(0);
    } else if (kind === 1) gateway = f.ipv4('gateway');
    else if (kind === 2) gateway = f.ipv6('gateway');
    else if (kind === 3) gateway = f.name('gateway');
    else throw new RdataError(`bad gateway type ${kind} in IPSECKEY record (0-3)`, f.peek()?.line);
    return [...head, gateway, f.more() ? f.base64('public key') : Buffer.alloc(0)];
  },
  scan: (r) => {
    r.num(1, 'precedence');
    const kind = r.num(1, 'gateway type');
    r.num(1, 'algorithm');
    if (kind === 0) {
      if (r.out) r.put('.');
    } else if (kind === 1) r.ipv4('gateway');
    else if (kind === 2) r.ipv6('gateway');
    else if (kind === 3) r.name('gateway');
    else throw new RdataError(`gateway type ${kind} is not 0-3`);
    r.base64('public key', 0);
  },
};

const nameOnly = seq(name('target name'));
const prefName = (pref: string, target: string) => seq(u16(pref), name(target));
const tlsa = seq(u8('usage'), u8('selector'), u8('matching type'), hex('certificate data'));

export const CODECS: Partial<Record<number, Codec>> = {
  [T.A]: seq(a4('address')),
  [T.AAAA]: seq(a6('address')),
  [T.NS]: nameOnly,
  [T.CNAME]: nameOnly,
  [T.PTR]: nameOnly,
  [T.DNAME]: nameOnly,
  [T.MB]: nameOnly,
  [T.MG]: nameOnly,
  [T.MR]: nameOnly,
  [T.NSAP_PTR]: nameOnly,
  [T.SOA]: {
    parse: (f) => [
      f.name('primary server (MNAME)'), f.name('mailbox (RNAME)'), f.uint('serial', 4),
      f.timer('refresh'), f.timer('retry'), f.timer('expire'), f.timer('minimum'),
    ],
    scan: (r) => {
      r.name('MNAME');
      r.name('RNAME');
      const t = r.take(20, 'serial and timers');
      if (r.out) for (let k = 0; k < 20; k += 4) r.put(String(t.readUInt32BE(k)));
    },
  },
  [T.MX]: prefName('preference', 'exchange'),
  [T.KX]: prefName('preference', 'exchanger'),
  [T.AFSDB]: prefName('subtype', 'hostname'),
  [T.RT]: prefName('preference', 'intermediate host'),
  [T.LP]: prefName('preference', 'locator name'),
  [T.MINFO]: seq(name('responsible mailbox'), name('error mailbox')),
  [T.RP]: seq(name('mailbox'), name('TXT name')),
  [T.PX]: seq(u16('preference'), name('MAP822'), name('MAPX400')),
  [T.SRV]: {
    parse: (f) => [f.uint('priority', 2), f.uint('weight', 2), f.uint('port', 2), f.name('target')],
    scan: (r) => {
      const t = r.take(6, 'priority, weight and port');
      if (r.out) for (let k = 0; k < 6; k += 2) r.put(String(t.readUInt16BE(k)));
      r.name('target');
    },
  },
  [T.TXT]: TXT,
  [T.SPF]: TXT,
  [T.HINFO]: seq(str('CPU'), str('OS')),
  [T.X25]: seq(str('PSDN address')),
  [T.ISDN]: {
    parse: (f) => [f.string('ISDN address'), ...(f.more() ? [f.string('subaddress')] : [])],
    scan: (r) => {
      r.string('ISDN address');
      if (!r.atEnd()) r.string('subaddress');
    },
  },
  // RFC 8659 §4.1.1: flags, tag, and a value that runs to the end of the rdata.
  [T.CAA]: {
    parse: (f) => {
      const flags = f.uint('flags', 1);
      const tag = f.take('tag');
      if (tag.quoted || !/^[A-Za-z0-9]{1,255}$/.test(tag.text)) throw f.error('tag', tag, 'letters and digits only');
      return [flags, Buffer.from([tag.text.length]), Buffer.from(tag.text, 'latin1'), f.stringRest('value')];
    },
    scan: (r) => {
      r.num(1, 'flags');
      const tag = r.take(r.u8('tag'), 'tag');
      if (!/^[A-Za-z0-9]+$/.test(tag.toString('latin1'))) throw new RdataError('tag must be letters and digits');
      if (r.out) r.put(tag.toString('latin1'));
      r.quotedRest('value', 0);
    },
  },
  // RFC 7553 §4.4: the target is the rest of the rdata, one quoted string of at least one octet.
  [T.URI]: {
    parse: (f) => [f.uint('priority', 2), f.uint('weight', 2), f.stringRest('target')],
    scan: (r) => {
      r.num(2, 'priority');
      r.num(2, 'weight');
      r.quotedRest('target', 1);
    },
  },
  [T.NAPTR]: {
    parse: (f) => [
      f.uint('order', 2), f.uint('preference', 2), f.string('flags'), f.string('services'),
      f.string('regexp'), f.name('replacement'),
    ],
    scan: (r) => {
      r.num(2, 'order');
      r.num(2, 'preference');
      r.string('flags');
      r.string('services');
      checkRegexp(r.string('regexp'));
      r.name('replacement');
    },
  },
  [T.DS]: DS,
  [T.CDS]: DS,
  [T.TA]: DS,
  [T.DLV]: DS,
  [T.SSHFP]: {
    parse: (f) => [f.uint('algorithm', 1), f.uint('fingerprint type', 1), f.hex('fingerprint')],
    scan: (r) => {
      r.num(1, 'algorithm');
      digest(r, r.num(1, 'fingerprint type'), SSHFP_DIGEST, 'fingerprint');
    },
  },
  [T.TLSA]: tlsa,
  [T.SMIMEA]: tlsa,
  [T.DNSKEY]: DNSKEY,
  [T.CDNSKEY]: DNSKEY,
  // RFC 2535 §3.1.2: a KEY with the "no key" flags carries no key data.
  [T.KEY]: seq(u16('flags'), u8('protocol'), alg, base64('public key', 0)),
  [T.RRSIG]: seq(typeField, alg, u8('labels'), u32('original TTL'), time('signature expiration'),
    time('signature inception'), u16('key tag'), name('signer name'), base64('signature')),
  [T.NSEC]: seq(name('next name'), bitmap),
  [T.NSEC3]: seq(u8('hash algorithm'), u8('flags'), u16('iterations'), salt, nextHashed, bitmap),
  [T.NSEC3PARAM]: seq(u8('hash algorithm'), u8('flags'), u16('iterations'), salt),
  [T.CSYNC]: seq(u32('SOA serial'), u16('flags'), bitmap),
  [T.ZONEMD]: {
    parse: (f) => [f.uint('serial', 4), f.uint('scheme', 1), f.uint('hash algorithm', 1), f.hex('digest')],
    scan: (r) => {
      r.num(4, 'serial');
      r.num(1, 'scheme');
      digest(r, r.num(1, 'hash algorithm'), ZONEMD_DIGEST, 'digest', 12);
    },
  },
  [T.CERT]: {
    parse: (f) => [f.mnemonic('certificate type', 2, CERT_TYPES), f.uint('key tag', 2), f.mnemonic('algorithm', 1, ALGORITHMS), f.base64('certificate')],
    scan: (r) => {
      r.num(2, 'certificate type');
      r.num(2, 'key tag');
      r.num(1, 'algorithm');
      r.base64('certificate');
    },
  },
  [T.DHCID]: seq(base64('identifier')),
  [T.OPENPGPKEY]: seq(base64('public key')),
  [T.IPSECKEY]: IPSECKEY,
  [T.EUI48]: eui(6),
  [T.EUI64]: eui(8),
  [T.L32]: seq(u16('preference'), a4('locator')),
  [T.L64]: seq(u16('preference'), id64('locator')),
  [T.NID]: seq(u16('preference'), id64('node ID')),
  [T.APL]: APL,
  [T.LOC]: LOC,
  [T.SVCB]: SVCB,
  [T.HTTPS]: SVCB,
};
