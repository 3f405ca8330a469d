/**
 * Writes DNS messages with name compression (RFC 1035 §4.1.4) into a buffer of fixed capacity.
 * dns-packet encodes names uncompressed, and compression decides when a UDP answer must be
 * truncated, so responses are written here. An RRset is written whole or not at all.
 */
import type { Name } from './name.js';
import { COMPRESSIBLE, CLASS_IN, T } from './types.js';
import { ECS_OPTION, type ClientSubnet } from './ecs.js';
import { copyBytes } from './bytes.js';
import type { RRset } from './record.js';

const HEADER = 12;
const T_OPT = T.OPT;
/** An OPT record without options: root owner, type, class, TTL, RDLENGTH. */
const OPT_RR_SIZE = 11;

/** Octets of an OPT record echoing `ecs` (the query's option) and carrying `cookie` (encoded options: COOKIE, NSID). */
export function optSize(ecs: ClientSubnet | undefined, cookie: Buffer | undefined): number {
  return OPT_RR_SIZE + (ecs ? 4 + ecs.length : 0) + (cookie ? cookie.length : 0);
}

/**
 * Writes the OPT record (RFC 6891 §6.1.2) at `p` in `b`, which has room for it (optSize):
 * root owner, CLASS = `udpSize`, TTL = extended rcode | version 0 | DO. Its RDATA: the ECS
 * option echoed when `ecs` (the query's option) is given, with our SCOPE PREFIX-LENGTH
 * (RFC 7871 §7.2.1), then `cookie`, options already encoded (COOKIE, and NSID when asked). Returns the offset after it.
 */
export function writeOpt(b: Buffer, p: number, udpSize: number, rcode: number, dnssecOk: boolean, ecs: ClientSubnet | undefined, scope: number, cookie: Buffer | undefined): number {
  const ecsLen = ecs ? 4 + ecs.length : 0;
  b[p] = 0;
  b.writeUInt16BE(T_OPT, p + 1);
  b.writeUInt16BE(udpSize, p + 3);
  b[p + 5] = (rcode >> 4) & 0xff;
  b[p + 6] = 0;
  b.writeUInt16BE(dnssecOk ? 0x8000 : 0, p + 7);
  b.writeUInt16BE(ecsLen + (cookie ? cookie.length : 0), p + 9);
  p += OPT_RR_SIZE;
  if (ecs) {
    b.writeUInt16BE(ECS_OPTION, p);
    b.writeUInt16BE(ecs.length, p + 2);
    ecs.copyTo(b, p + 4);
    b[p + 4 + 3] = scope;
    p += ecsLen;
  }
  if (cookie) {
    copyBytes(cookie, 0, cookie.length, b, p);
    p += cookie.length;
  }
  return p;
}

/** RFC 1035 §4.1.4: a pointer is 14 bits, so only the first 16 KiB can be pointed at. */
const MAX_POINTER = 0x3fff;

/**
 * Scratch space shared by every writer: messages are written one at a time (the query path is
 * synchronous), and finish() copies the message out, so nothing is allocated per message but
 * the message itself.
 */
const SCRATCH = Buffer.allocUnsafe(65535);

/**
 * Name suffixes written so far (key -> offset), for compression. A message usually has a
 * handful, so two reused arrays searched in order beat a Map (whose clear() allocates a new
 * table); past SCAN_LIMIT entries (a large TCP answer) a Map is built so lookups stay cheap.
 */
class SuffixTable {
  private readonly keys: string[] = [];
  private readonly offsets: number[] = [];
  private index: Map<string, number> | undefined;
  size = 0;

  clear(): void {
    this.size = 0;
    this.index = undefined;
  }

  get(key: string): number | undefined {
    if (this.index) return this.index.get(key);
    for (let i = 0; i < this.size; i++) if (this.keys[i] === key) return this.offsets[i];
    return undefined;
  }

  /** Records where a suffix was written. */
  set(key: string, offset: number): void {
    this.keys[this.size] = key;
    this.offsets[this.size] = offset;
    this.size++;
    if (this.index) this.index.set(key, offset);
    else if (this.size > SCAN_LIMIT) this.index = new Map(this.keys.slice(0, this.size).map((k, i) => [k, this.offsets[i]]));
  }

  /** Forgets what was written at or after `offset` (offsets only grow, so it is a tail). */
  dropFrom(offset: number): void {
    while (this.size > 0 && this.offsets[this.size - 1] >= offset) {
      this.size--;
      this.index?.delete(this.keys[this.size]);
    }
  }
}

const SCAN_LIMIT = 32;

const TABLE = new SuffixTable();

export class MessageWriter {
  readonly buf: Buffer = SCRATCH;
  pos = HEADER;
  /** Bytes at the end kept free (for the OPT record, which must always fit). */
  private reserve = 0;
  private readonly limit: number;
  /** Key of a name suffix -> offset where it was written. */
  private readonly table: SuffixTable = TABLE;
  private readonly counts = [0, 0, 0, 0];
  private readonly keepNames: boolean;

  /**
   * Starts a message of at most `capacity` octets; the previous writer's message must be finished.
   * `keepNames: false` (a zone transfer, which writes every name of a zone once) writes names
   * without leaving their wire form and suffix keys made on them; answers keep them, as the
   * same names are written again and again.
   */
  constructor(capacity: number, opts: { keepNames?: boolean } = {}) {
    if (capacity > SCRATCH.length) throw new RangeError(`a DNS message is at most ${SCRATCH.length} octets`);
    this.limit = capacity;
    this.keepNames = opts.keepNames ?? true;
    TABLE.clear();
  }

  header(id: number, flags: number): void {
    this.buf.writeUInt16BE(id, 0);
    this.buf.writeUInt16BE(flags, 2);
  }

  setFlags(flags: number): void {
    this.buf.writeUInt16BE(flags, 2);
  }

  flags(): number {
    return this.buf.readUInt16BE(2);
  }

  reserveTail(bytes: number): void {
    this.reserve = bytes;
  }

  private get end(): number {
    return this.limit - this.reserve;
  }

  /** Writes the question with the name exactly as the client sent it. Returns false if it does not fit. */
  question(name: Name, type: number, klass: number): boolean {
    const start = this.pos;
    if (!this.name(name, false) || this.pos + 4 > this.end) return this.rollback(start);
    this.buf.writeUInt16BE(type, this.pos);
    this.buf.writeUInt16BE(klass, this.pos + 2);
    this.pos += 4;
    this.counts[0]++;
    return true;
  }

  /**
   * Appends a whole RRset to `section` (1 answer, 2 authority, 3 additional), with `owner`
   * overriding the RRset's own owner and `ttl` its TTL when given. Returns false, leaving the
   * message unchanged, if it does not fit.
   */
  rrset(section: 1 | 2 | 3, rrset: RRset, ttl = rrset.ttl, klass = CLASS_IN): boolean {
    const start = this.pos;
    const compress = COMPRESSIBLE.has(rrset.type);
    for (const rdata of rrset.rdatas) {
      if (!this.name(rrset.owner, true) || this.pos + 10 > this.end) return this.rollback(start);
      this.buf.writeUInt16BE(rrset.type, this.pos);
      this.buf.writeUInt16BE(klass, this.pos + 2);
      this.buf.writeUInt32BE(ttl, this.pos + 4);
      const rdlenAt = this.pos + 8;
      this.pos += 10;
      const rdStart = this.pos;
      if (compress && rdata.names.length > 0) {
        let from = 0;
        for (const { offset, name } of rdata.names) {
          if (!this.bytes(rdata.wire, from, offset) || !this.name(name, true)) return this.rollback(start);
          from = offset + name.wireLength();
        }
        if (!this.bytes(rdata.wire, from, rdata.wire.length)) return this.rollback(start);
      } else if (!this.bytes(rdata.wire, 0, rdata.wire.length)) {
        return this.rollback(start);
      }
      this.buf.writeUInt16BE(this.pos - rdStart, rdlenAt);
    }
    this.counts[section] += rrset.rdatas.length;
    return true;
  }

  /** Appends the OPT record (writeOpt) to the additional section, using the reserve. Returns false if it does not fit. */
  opt(udpSize: number, rcode: number, dnssecOk: boolean, ecs: ClientSubnet | undefined, scope: number, cookie: Buffer | undefined): boolean {
    if (this.pos + optSize(ecs, cookie) > this.limit) return false;
    this.pos = writeOpt(this.buf, this.pos, udpSize, rcode, dnssecOk, ecs, scope, cookie);
    this.counts[3]++;
    return true;
  }

  /** Drops everything after the question (for a truncated answer). */
  truncateToQuestion(questionEnd: number): void {
    this.pos = questionEnd;
    this.counts[1] = this.counts[2] = this.counts[3] = 0;
    this.table.dropFrom(questionEnd);
  }

  /** The message, copied out of the scratch space. */
  finish(): Buffer {
    for (let i = 0; i < 4; i++) this.buf.writeUInt16BE(this.counts[i], 4 + i * 2);
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    return out;
  }

  private bytes(src: Buffer, from: number, to: number): boolean {
    const n = to - from;
    if (this.pos + n > this.end) return false;
    copyBytes(src, from, to, this.buf, this.pos);
    this.pos += n;
    return true;
  }

  /** Writes a name, pointing at the longest suffix already in the message when `compress`. */
  private name(name: Name, compress: boolean): boolean {
    const keys = name.suffixKeys(this.keepNames);
    const wire = this.keepNames ? name.wire : name.wireOnce();
    let p = 0; // offset of label i in the name's wire form
    for (let i = 0; i < name.labelCount; i++) {
      const at = compress ? this.table.get(keys[i]) : undefined;
      if (at !== undefined) {
        if (this.pos + 2 > this.end) return false;
        this.buf.writeUInt16BE(0xc000 | at, this.pos);
        this.pos += 2;
        return true;
      }
      const n = 1 + wire[p];
      if (this.pos + n > this.end) return false;
      // New here: compressing, the lookup above missed; the question (uncompressed) is written
      // first. Were a suffix recorded twice, either offset would still be a valid target.
      if (this.pos <= MAX_POINTER) this.table.set(keys[i], this.pos);
      copyBytes(wire, p, p + n, this.buf, this.pos);
      this.pos += n;
      p += n;
    }
    if (this.pos + 1 > this.end) return false;
    this.buf[this.pos++] = 0;
    return true;
  }

  private rollback(to: number): false {
    this.pos = to;
    this.table.dropFrom(to);
    return false;
  }
}
