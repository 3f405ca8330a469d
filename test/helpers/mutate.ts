/**
 * Valid DNS queries and malformed variants of them, from a seeded random source, for the
 * fuzzer (test/hardening/fuzz.test.ts) and the soak run (bench/soak.ts). Every mutation starts
 * from a valid query (a name of the zone in random case, a type, EDNS with or without ECS), so
 * the damage lands deep in the parser instead of at its first check.
 */

/** A random source in [0, 1): `mulberry32(seed)` from src/lb/random.ts. */
export type Rand = () => number;

export interface QuerySpec {
  id: number;
  flags: number;
  /** Labels of the question name, as sent (random case). */
  labels: Buffer[];
  qtype: number;
  qclass: number;
  edns?: { udpSize: number; version: number; dnssecOk: boolean; options: Buffer[] };
}

/** Types worth asking for: the zone's, the special ones (ANY, AXFR, OPT, MAILB) and unknown ones. */
export const QUERY_TYPES = [1, 28, 5, 15, 33, 2, 6, 16, 255, 252, 251, 253, 41, 99, 65, 257, 52, 0, 65535];

const int = (rand: Rand, n: number): number => Math.floor(rand() * n);
const pick = <T>(rand: Rand, list: readonly T[]): T => list[int(rand, list.length)];
const bytes = (rand: Rand, n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(rand, 256)));

/** Labels of a name in presentation form ("www.example.com"), each letter in random case. */
export function randomCase(rand: Rand, name: string): Buffer[] {
  return name.split('.').filter((l) => l.length > 0).map((l) => Buffer.from([...l].map((c) => (rand() < 0.5 ? c.toUpperCase() : c)).join(''), 'latin1'));
}

/** An ECS option (RFC 7871 §6) as raw option bytes: code 8, length, family, prefixes, address. */
export function ecsOptionBytes(family: number, sourcePrefix: number, address: Buffer, scope = 0): Buffer {
  const o = Buffer.alloc(8 + address.length);
  o.writeUInt16BE(8, 0);
  o.writeUInt16BE(4 + address.length, 2);
  o.writeUInt16BE(family, 4);
  o[6] = sourcePrefix;
  o[7] = scope;
  address.copy(o, 8);
  return o;
}

/** A well-formed ECS option for a random IPv4 or IPv6 subnet (address bits beyond the prefix zero). */
export function randomEcs(rand: Rand): Buffer {
  const v6 = rand() < 0.3;
  const prefix = v6 ? pick(rand, [0, 32, 48, 56, 64]) : pick(rand, [0, 8, 16, 20, 24, 24, 32]);
  const addr = bytes(rand, Math.ceil(prefix / 8));
  if (prefix % 8) addr[addr.length - 1] &= 0xff << (8 - (prefix % 8));
  return ecsOptionBytes(v6 ? 2 : 1, prefix, addr);
}

/** A valid query for one of `names`: RD usually, CD now and then, EDNS 70 % of the time, ECS in some. */
export function randomSpec(rand: Rand, names: readonly string[], types: readonly number[] = QUERY_TYPES): QuerySpec {
  const spec: QuerySpec = {
    id: int(rand, 65536),
    flags: (rand() < 0.7 ? 0x0100 : 0) | (rand() < 0.1 ? 0x0010 : 0),
    labels: randomCase(rand, pick(rand, names)),
    qtype: pick(rand, types),
    qclass: rand() < 0.95 ? 1 : 255,
  };
  if (rand() < 0.7) {
    const options: Buffer[] = [];
    if (rand() < 0.5) options.push(randomEcs(rand));
    if (rand() < 0.1) options.push(Buffer.from([0, 10, 0, 8, ...bytes(rand, 8)])); // a client cookie: ignored
    spec.edns = { udpSize: pick(rand, [512, 1232, 4096, 1400, 100, 0, 65535]), version: 0, dnssecOk: rand() < 0.3, options };
  }
  return spec;
}

export function encodeName(labels: readonly Buffer[]): Buffer {
  return Buffer.concat([...labels.flatMap((l) => [Buffer.from([l.length & 0xff]), l]), Buffer.from([0])]);
}

/** An OPT record (RFC 6891 §6.1.2) with the given owner (the root unless told). */
export function optRecord(edns: NonNullable<QuerySpec['edns']>, owner: Buffer = Buffer.from([0])): Buffer {
  const rdata = Buffer.concat(edns.options);
  const rr = Buffer.alloc(10);
  rr.writeUInt16BE(41, 0);
  rr.writeUInt16BE(edns.udpSize, 2);
  rr[5] = edns.version;
  rr.writeUInt16BE(edns.dnssecOk ? 0x8000 : 0, 6);
  rr.writeUInt16BE(rdata.length & 0xffff, 8);
  return Buffer.concat([owner, rr, rdata]);
}

export function encodeQuery(spec: QuerySpec): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(spec.id, 0);
  header.writeUInt16BE(spec.flags, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(spec.edns ? 1 : 0, 10);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(spec.qtype, 0);
  tail.writeUInt16BE(spec.qclass, 2);
  return Buffer.concat([header, encodeName(spec.labels), tail, ...(spec.edns ? [optRecord(spec.edns)] : [])]);
}

/** Offset of the byte after the question (header, name, type, class) of an encoded spec. */
function questionEnd(spec: QuerySpec): number {
  return 12 + encodeName(spec.labels).length + 4;
}

const withEdns = (spec: QuerySpec): NonNullable<QuerySpec['edns']> => (spec.edns ??= { udpSize: 1232, version: 0, dnssecOk: false, options: [] });

function setCount(msg: Buffer, index: number, value: number): Buffer {
  msg.writeUInt16BE(value & 0xffff, 4 + 2 * index);
  return msg;
}

/** A question name that is a compression pointer (RFC 1035 §4.1.4) to `target`, the rest kept. */
function pointerName(spec: QuerySpec, target: number, extra: Buffer = Buffer.alloc(0)): Buffer {
  const msg = encodeQuery(spec);
  const nameEnd = questionEnd(spec) - 4;
  const pointer = Buffer.from([0xc0 | ((target >> 8) & 0x3f), target & 0xff]);
  return Buffer.concat([msg.subarray(0, 12), extra, pointer, msg.subarray(nameEnd)]);
}

export interface Mutation {
  readonly name: string;
  readonly apply: (rand: Rand, spec: QuerySpec) => Buffer;
}

/** Each takes a fresh valid spec and returns damaged bytes (some mutations leave it valid by chance). */
export const MUTATIONS: readonly Mutation[] = [
  { name: 'flip bits', apply: (r, s) => { const m = encodeQuery(s); for (let i = 1 + int(r, 4); i > 0; i--) m[int(r, m.length)] ^= 1 << int(r, 8); return m; } },
  { name: 'set bytes', apply: (r, s) => { const m = encodeQuery(s); for (let i = 1 + int(r, 4); i > 0; i--) m[int(r, m.length)] = int(r, 256); return m; } },
  { name: 'truncate', apply: (r, s) => { const m = encodeQuery(s); return m.subarray(0, int(r, m.length)); } },
  { name: 'extend with garbage', apply: (r, s) => Buffer.concat([encodeQuery(s), bytes(r, 1 + int(r, 64))]) },
  { name: 'lie in a count', apply: (r, s) => setCount(encodeQuery(s), int(r, 4), pick(r, [0, 1, 2, 3, 0xffff, int(r, 65536)])) },
  { name: 'pointer to itself', apply: (_r, s) => pointerName(s, 12) },
  { name: 'pointer loop', apply: (_r, s) => pointerName(s, 14, Buffer.from([0xc0, 14])) }, // a label of pointers to each other
  { name: 'forward pointer', apply: (r, s) => pointerName(s, 14 + int(r, 40)) },
  { name: 'pointer into the header', apply: (r, s) => pointerName(s, int(r, 12)) },
  { name: 'pointer past the end', apply: (_r, s) => pointerName(s, 0x3fff) },
  { name: 'label then pointer loop', apply: (_r, s) => pointerName(s, 12, Buffer.from([3, 0x77, 0x77, 0x77])) },
  { name: 'oversized name', apply: (r, s) => encodeQuery({ ...s, labels: Array.from({ length: 4 + int(r, 3) }, () => Buffer.alloc(63, 0x61)) }) },
  { name: 'many short labels', apply: (r, s) => encodeQuery({ ...s, labels: Array.from({ length: 120 + int(r, 20) }, () => Buffer.from('a')) }) },
  { name: 'oversized label', apply: (r, s) => { const m = encodeQuery(s); m[12] = 64 + int(r, 128); return m; } }, // 0x40-0xbf: label types 01 and 10
  { name: 'empty question name', apply: (_r, s) => encodeQuery({ ...s, labels: [] }) },
  { name: 'two OPT records', apply: (r, s) => { const e = withEdns(s); return setCount(Buffer.concat([encodeQuery(s), optRecord({ ...e, udpSize: int(r, 65536) })]), 3, 2); } },
  { name: 'OPT in the answer section', apply: (r, s) => { withEdns(s); const m = encodeQuery(s); setCount(m, 3, 0); return setCount(m, r() < 0.5 ? 1 : 2, 1); } },
  { name: 'OPT with a non-root owner', apply: (_r, s) => { const e = withEdns(s); s.edns = undefined; return setCount(Buffer.concat([encodeQuery(s), optRecord(e, encodeName([Buffer.from('x')]))]), 3, 1); } },
  { name: 'OPT rdlength too long', apply: (r, s) => { withEdns(s); const m = encodeQuery(s); m.writeUInt16BE(m.readUInt16BE(m.length - 2 - Buffer.concat(s.edns!.options).length) + 1 + int(r, 300), m.length - 2 - Buffer.concat(s.edns!.options).length); return m; } },
  { name: 'EDNS option length past the OPT', apply: (r, s) => { withEdns(s).options = [Buffer.from([0, 10, 0, 8 + int(r, 200), 1, 2, 3])]; return encodeQuery(s); } },
  { name: 'EDNS option header cut', apply: (_r, s) => { withEdns(s).options = [Buffer.from([0, 8, 0])]; return encodeQuery(s); } },
  { name: 'EDNS version 1 and up', apply: (r, s) => { withEdns(s).version = 1 + int(r, 255); return encodeQuery(s); } },
  { name: 'ECS unknown family', apply: (r, s) => { withEdns(s).options = [ecsOptionBytes(pick(r, [0, 3, 0xffff]), 24, bytes(r, 3))]; return encodeQuery(s); } },
  { name: 'ECS prefix too long', apply: (r, s) => { const v6 = r() < 0.5; withEdns(s).options = [ecsOptionBytes(v6 ? 2 : 1, v6 ? 129 + int(r, 127) : 33 + int(r, 223), bytes(r, int(r, 20)))]; return encodeQuery(s); } },
  { name: 'ECS address length wrong', apply: (r, s) => { withEdns(s).options = [ecsOptionBytes(1, 24, bytes(r, pick(r, [0, 2, 4, 5, 16])))]; return encodeQuery(s); } },
  { name: 'ECS bits beyond prefix', apply: (_r, s) => { withEdns(s).options = [ecsOptionBytes(1, 20, Buffer.from([10, 1, 0xff]))]; return encodeQuery(s); } },
  { name: 'ECS shorter than 4 octets', apply: (r, s) => { withEdns(s).options = [Buffer.concat([Buffer.from([0, 8, 0, 2]), bytes(r, 2)])]; return encodeQuery(s); } },
  { name: 'two ECS options', apply: (r, s) => { withEdns(s).options = [randomEcs(r), randomEcs(r)]; return encodeQuery(s); } },
  { name: 'ECS with scope set', apply: (r, s) => { withEdns(s).options = [ecsOptionBytes(1, 24, Buffer.from([192, 0, 2]), 1 + int(r, 32))]; return encodeQuery(s); } },
  { name: 'unknown class', apply: (r, s) => encodeQuery({ ...s, qclass: pick(r, [0, 2, 3, 4, 254, 0xfeff, int(r, 65536)]) }) },
  { name: 'unknown type', apply: (r, s) => encodeQuery({ ...s, qtype: int(r, 65536) }) },
  { name: 'QR set', apply: (_r, s) => encodeQuery({ ...s, flags: s.flags | 0x8000 }) },
  { name: 'opcode', apply: (r, s) => encodeQuery({ ...s, flags: (s.flags & ~0x7800) | ((1 + int(r, 15)) << 11) }) },
  { name: 'random flags', apply: (r, s) => encodeQuery({ ...s, flags: int(r, 65536) & 0x7fff }) },
  { name: 'two questions', apply: (_r, s) => { const m = encodeQuery({ ...s, edns: undefined }); const q = m.subarray(12); return setCount(Buffer.concat([m, q]), 0, 2); } },
  { name: 'no question', apply: (_r, s) => setCount(encodeQuery(s).subarray(0, 12), 3, 0).fill(0, 4) },
  { name: 'header only', apply: (r, s) => setCount(Buffer.from(encodeQuery(s).subarray(0, 12)), int(r, 4), int(r, 65536)) },
  { name: 'random bytes', apply: (r) => bytes(r, int(r, 600)) },
  { name: 'empty', apply: () => Buffer.alloc(0) },
];

export interface Generated {
  /** The mutation applied, or "valid". */
  readonly kind: string;
  readonly msg: Buffer;
}

/** A valid query for one of `names` (share `validShare`), else a query with one or two mutations. */
export function generate(rand: Rand, names: readonly string[], validShare = 0.1): Generated {
  const spec = randomSpec(rand, names);
  if (rand() < validShare) return { kind: 'valid', msg: encodeQuery(spec) };
  const m = pick(rand, MUTATIONS);
  let msg = m.apply(rand, spec);
  let kind = m.name;
  if (rand() < 0.15 && msg.length > 0) {
    msg = byteMutate(rand, Buffer.from(msg)); // a second, byte-level mutation on top
    kind += ' + bytes';
  }
  return { kind, msg };
}

function byteMutate(rand: Rand, msg: Buffer): Buffer {
  for (let i = 1 + int(rand, 3); i > 0; i--) msg[int(rand, msg.length)] = int(rand, 256);
  return msg;
}

export { frame } from './client.js';

/** Broken TCP framing: a length longer or shorter than the message, zero, or a lone byte. */
export function brokenFrame(rand: Rand, msg: Buffer): { kind: string; bytes: Buffer } {
  const len = Buffer.alloc(2);
  switch (int(rand, 5)) {
    case 0:
      len.writeUInt16BE(Math.min(0xffff, msg.length + 1 + int(rand, 1000)), 0);
      return { kind: 'length too long', bytes: Buffer.concat([len, msg]) };
    case 1:
      len.writeUInt16BE(int(rand, Math.max(1, msg.length)), 0);
      return { kind: 'length too short', bytes: Buffer.concat([len, msg]) };
    case 2:
      return { kind: 'zero length', bytes: Buffer.concat([Buffer.from([0, 0]), msg]) };
    case 3:
      return { kind: 'half a length', bytes: Buffer.from([msg.length >> 8]) };
    default:
      len.writeUInt16BE(0xffff, 0);
      return { kind: 'length 65535', bytes: Buffer.concat([len, msg]) };
  }
}
