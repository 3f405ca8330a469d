/**
 * A minimal MaxMind DB (format 2.0) writer for tests: a binary search tree with 24-bit records,
 * a data section of maps, arrays, utf8 strings, doubles, unsigned integers and booleans, and
 * the metadata map after the `\xAB\xCD\xEFMaxMind.com` marker. IPv6 trees hold IPv4 networks
 * in ::/96, as MaxMind's own databases do. Independent of src/ so that it can check the reader.
 * Spec: https://maxmind.github.io/MaxMind-DB/
 */

/** An unsigned integer of a given MaxMind DB type (plain numbers are written as doubles). */
export class Uint {
  constructor(
    readonly bits: 16 | 32 | 64,
    readonly value: number | bigint,
  ) {}
}

export const uint16 = (n: number): Uint => new Uint(16, n);
export const uint32 = (n: number): Uint => new Uint(32, n);
export const uint64 = (n: number | bigint): Uint => new Uint(64, n);

export type MmdbValue = string | number | boolean | Uint | readonly MmdbValue[] | { readonly [key: string]: MmdbValue };

export interface MmdbNetwork {
  /** CIDR: `192.0.2.0/24`, `2001:db8::/32`. */
  readonly network: string;
  readonly data: MmdbValue;
}

export interface MmdbOptions {
  readonly ipVersion?: 4 | 6;
  readonly databaseType?: string;
  readonly description?: Readonly<Record<string, string>>;
  readonly languages?: readonly string[];
  readonly buildEpoch?: number;
  readonly networks: readonly MmdbNetwork[];
}

// Data types, MaxMind DB spec "Output Data Section" (pointers, type 1, are never written).
const T_STRING = 2;
const T_DOUBLE = 3;
const T_UINT16 = 5;
const T_UINT32 = 6;
const T_MAP = 7;
const T_UINT64 = 9;
const T_ARRAY = 11;
const T_BOOLEAN = 14;

const METADATA_MARKER = Buffer.from('ABCDEF4D61784D696E642E636F6D', 'hex');
const DATA_SEPARATOR = 16;
const RECORD_LIMIT = 2 ** 24;

type TreeRecord = { readonly kind: 'empty' } | { readonly kind: 'node'; readonly index: number } | { readonly kind: 'data'; readonly offset: number };
const EMPTY: TreeRecord = { kind: 'empty' };

/** Builds the database. Networks may nest: more specific ones win inside less specific ones. */
export function writeMmdb(opts: MmdbOptions): Buffer {
  const ipVersion = opts.ipVersion ?? 6;
  const data: Buffer[] = [];
  let dataLength = 0;
  const offsets = new Map<MmdbValue, number>();
  const dataOffset = (v: MmdbValue): number => {
    let at = offsets.get(v);
    if (at === undefined) {
      const bytes = encode(v);
      at = dataLength;
      data.push(bytes);
      dataLength += bytes.length;
      offsets.set(v, at);
    }
    return at;
  };

  const nodes: [TreeRecord, TreeRecord][] = [[EMPTY, EMPTY]];
  const networks = opts.networks.map((n) => ({ ...networkBits(n.network, ipVersion), data: n.data }));
  // Less specific first, so more specific networks split their records.
  networks.sort((a, b) => a.prefix - b.prefix);
  for (const n of networks) {
    if (n.prefix === 0) throw new Error('writeMmdb: a /0 network has no tree record');
    const leaf: TreeRecord = { kind: 'data', offset: dataOffset(n.data) };
    let node = 0;
    for (let i = 0; i < n.prefix - 1; i++) {
      const side = n.bits[i];
      const r = nodes[node][side];
      if (r.kind === 'node') {
        node = r.index;
        continue;
      }
      nodes.push([r, r]);
      nodes[node][side] = { kind: 'node', index: nodes.length - 1 };
      node = nodes.length - 1;
    }
    nodes[node][n.bits[n.prefix - 1]] = leaf;
  }

  const nodeCount = nodes.length;
  const tree = Buffer.alloc(nodeCount * 6);
  const value = (r: TreeRecord): number => {
    const v = r.kind === 'node' ? r.index : r.kind === 'empty' ? nodeCount : nodeCount + DATA_SEPARATOR + r.offset;
    if (v >= RECORD_LIMIT) throw new Error('writeMmdb: too large for 24-bit records');
    return v;
  };
  nodes.forEach(([left, right], i) => {
    tree.writeUIntBE(value(left), i * 6, 3);
    tree.writeUIntBE(value(right), i * 6 + 3, 3);
  });

  const metadata = encode({
    node_count: uint32(nodeCount),
    record_size: uint16(24),
    ip_version: uint16(ipVersion),
    database_type: opts.databaseType ?? 'steerdns-test',
    languages: opts.languages ?? ['en'],
    binary_format_major_version: uint16(2),
    binary_format_minor_version: uint16(0),
    build_epoch: uint64(opts.buildEpoch ?? 1_700_000_000),
    description: opts.description ?? { en: 'steerdns test database' },
  });
  return Buffer.concat([tree, Buffer.alloc(DATA_SEPARATOR), ...data, METADATA_MARKER, metadata]);
}

/** One value of the data section, inline (no pointers). */
export function encode(v: MmdbValue): Buffer {
  if (typeof v === 'string') {
    const bytes = Buffer.from(v, 'utf8');
    return Buffer.concat([control(T_STRING, bytes.length), bytes]);
  }
  if (typeof v === 'number') {
    const bytes = Buffer.alloc(8);
    bytes.writeDoubleBE(v);
    return Buffer.concat([control(T_DOUBLE, 8), bytes]);
  }
  if (typeof v === 'boolean') return control(T_BOOLEAN, v ? 1 : 0);
  if (v instanceof Uint) {
    const type = v.bits === 16 ? T_UINT16 : v.bits === 32 ? T_UINT32 : T_UINT64;
    let n = BigInt(v.value);
    if (n < 0n || n >= 1n << BigInt(v.bits)) throw new Error(`writeMmdb: ${n} does not fit uint${v.bits}`);
    const bytes: number[] = [];
    for (; n > 0n; n >>= 8n) bytes.unshift(Number(n & 0xffn));
    return Buffer.concat([control(type, bytes.length), Buffer.from(bytes)]);
  }
  if (Array.isArray(v)) {
    const items = v as readonly MmdbValue[];
    return Buffer.concat([control(T_ARRAY, items.length), ...items.map(encode)]);
  }
  const entries = Object.entries(v as { readonly [key: string]: MmdbValue });
  return Buffer.concat([control(T_MAP, entries.length), ...entries.flatMap(([k, x]) => [encode(k), encode(x)])]);
}

/** Control byte(s): type (extended types in a second byte) and size (with 1-3 extra bytes). */
function control(type: number, size: number): Buffer {
  const extended = type > 7;
  let sizeBits: number;
  let extra: number[] = [];
  if (size < 29) {
    sizeBits = size;
  } else if (size < 285) {
    sizeBits = 29;
    extra = [size - 29];
  } else if (size < 65821) {
    sizeBits = 30;
    extra = [(size - 285) >> 8, (size - 285) & 0xff];
  } else {
    sizeBits = 31;
    const s = size - 65821;
    extra = [(s >> 16) & 0xff, (s >> 8) & 0xff, s & 0xff];
  }
  const first = ((extended ? 0 : type) << 5) | sizeBits;
  return Buffer.from(extended ? [first, type - 7, ...extra] : [first, ...extra]);
}

/** The network's bits from the top of the tree (IPv4 in an IPv6 tree: under ::/96). */
function networkBits(cidr: string, ipVersion: 4 | 6): { bits: number[]; prefix: number } {
  const [addr, len] = cidr.split('/');
  const prefix = Number(len);
  const v4 = !addr.includes(':');
  if (!v4 && ipVersion === 4) throw new Error(`writeMmdb: ${cidr} in an IPv4 database`);
  const bytes = v4 ? addr.split('.').map(Number) : ipv6Bytes(addr);
  if (bytes.length !== (v4 ? 4 : 16) || bytes.some((b) => !(b >= 0 && b <= 255)) || !(prefix >= 0 && prefix <= bytes.length * 8)) {
    throw new Error(`writeMmdb: bad network ${cidr}`);
  }
  const bits: number[] = [];
  if (v4 && ipVersion === 6) for (let i = 0; i < 96; i++) bits.push(0);
  for (const b of bytes) for (let i = 7; i >= 0; i--) bits.push((b >> i) & 1);
  return { bits, prefix: prefix + (v4 && ipVersion === 6 ? 96 : 0) };
}

function ipv6Bytes(addr: string): number[] {
  const [head, tail] = addr.includes('::') ? addr.split('::') : [addr, undefined];
  const groups = (s: string | undefined): number[] => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}
