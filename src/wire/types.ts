/**
 * RR type, class, opcode and rcode numbers used by steerdns (IANA DNS parameters).
 * Type mnemonics go through `typeFromText`/`typeToText`, which also accept RFC 3597 `TYPEnnn`.
 */

export const T = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, MB: 7, MG: 8, MR: 9, PTR: 12, HINFO: 13, MINFO: 14, MX: 15,
  TXT: 16, RP: 17, AFSDB: 18, X25: 19, ISDN: 20, RT: 21, NSAP_PTR: 23, KEY: 25, PX: 26,
  AAAA: 28, LOC: 29, SRV: 33, NAPTR: 35, KX: 36, CERT: 37, DNAME: 39, OPT: 41, APL: 42, DS: 43,
  SSHFP: 44, IPSECKEY: 45, RRSIG: 46, NSEC: 47, DNSKEY: 48, DHCID: 49, NSEC3: 50,
  NSEC3PARAM: 51, TLSA: 52, SMIMEA: 53, CDS: 59, CDNSKEY: 60, OPENPGPKEY: 61, CSYNC: 62,
  ZONEMD: 63, SVCB: 64, HTTPS: 65, SPF: 99, NID: 104, L32: 105, L64: 106, LP: 107, EUI48: 108,
  EUI64: 109, TKEY: 249, TSIG: 250, IXFR: 251, AXFR: 252, MAILB: 253, MAILA: 254, ANY: 255,
  URI: 256, CAA: 257, TA: 32768, DLV: 32769,
} as const;

export const CLASS_IN = 1;
/** RFC 1035 §3.2.4: CHAOS, where servers say who they are (RFC 4892). */
export const CLASS_CH = 3;
export const CLASS_ANY = 255;

/** RFC 1035 §4.1.1, RFC 6672 §2.2 (YXDOMAIN, from RFC 2136), RFC 6891 §6.1.3 (BADVERS is extended: 16), RFC 7873 §8 (BADCOOKIE: 23). */
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5, YXDOMAIN: 6, YXRRSET: 7, NXRRSET: 8, NOTAUTH: 9, NOTZONE: 10, BADVERS: 16, BADCOOKIE: 23 } as const;
export const OPCODE_QUERY = 0;

/** RFC 3597 §4: only the RFC 1035 types may have their embedded names compressed. */
export const COMPRESSIBLE = new Set<number>([T.NS, T.CNAME, T.SOA, T.PTR, T.MX]);

/** Mnemonics as written (IANA spells NSAP-PTR with a hyphen, which an identifier cannot hold). */
const mnemonic = (key: string): string => key.replace('_', '-');
const byName = new Map<string, number>(Object.entries(T).map(([k, v]) => [mnemonic(k), v]));
const byNumber = new Map<number, string>(Object.entries(T).map(([k, v]) => [v, mnemonic(k)]));

/** Type number for a mnemonic or `TYPEnnn` (case-insensitive); undefined when unknown. */
export function typeFromText(text: string): number | undefined {
  const up = text.toUpperCase();
  const known = byName.get(up);
  if (known !== undefined) return known;
  const m = /^TYPE([0-9]{1,5})$/.exec(up);
  if (m) {
    const n = Number(m[1]);
    if (n <= 0xffff) return n;
  }
  return undefined;
}

export function typeToText(type: number): string {
  return byNumber.get(type) ?? `TYPE${type}`;
}

const RCODE_NAMES = new Map<number, string>(Object.entries(RCODE).map(([name, code]) => [code, name]));

/** An rcode by its name (NXDOMAIN), or its number when it has none here. */
export function rcodeToText(rcode: number): string {
  return RCODE_NAMES.get(rcode) ?? String(rcode);
}
