/**
 * Writes DNS messages with name compression (RFC 1035 §4.1.4) into a buffer of fixed capacity.
 * dns-packet encodes names uncompressed, and compression decides when a UDP answer must be
 * truncated, so responses are written here. An RRset is written whole or not at all.
 */
import type { Name } from './name.js';
import { COMPRESSIBLE, CLASS_IN } from './types.js';
import type { RRset } from '../zone/zone.js';

const HEADER = 12;
/** RFC 1035 §4.1.4: a pointer is 14 bits, so only the first 16 KiB can be pointed at. */
const MAX_POINTER = 0x3fff;

export class MessageWriter {
  readonly buf: Buffer;
  pos = HEADER;
  /** Bytes at the end kept free (for the OPT record, which must always fit). */
  private reserve = 0;
  private readonly limit: number;
  /** Key of a name suffix -> offset where it was written. */
  private readonly table = new Map<string, number>();
  private readonly counts = [0, 0, 0, 0];

  constructor(capacity: number) {
    this.limit = capacity;
    this.buf = Buffer.allocUnsafe(capacity);
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
  rrset(section: 1 | 2 | 3, rrset: RRset, ttl = rrset.ttl): boolean {
    const start = this.pos;
    const tableSize = this.table.size;
    const compress = COMPRESSIBLE.has(rrset.type);
    for (const rdata of rrset.rdatas) {
      if (!this.name(rrset.owner, true) || this.pos + 10 > this.end) return this.rollback(start, tableSize);
      this.buf.writeUInt16BE(rrset.type, this.pos);
      this.buf.writeUInt16BE(CLASS_IN, this.pos + 2);
      this.buf.writeUInt32BE(ttl, this.pos + 4);
      const rdlenAt = this.pos + 8;
      this.pos += 10;
      const rdStart = this.pos;
      if (compress && rdata.names.length > 0) {
        let from = 0;
        for (const { offset, name } of rdata.names) {
          if (!this.bytes(rdata.wire, from, offset) || !this.name(name, true)) return this.rollback(start, tableSize);
          from = offset + name.wire.length;
        }
        if (!this.bytes(rdata.wire, from, rdata.wire.length)) return this.rollback(start, tableSize);
      } else if (!this.bytes(rdata.wire, 0, rdata.wire.length)) {
        return this.rollback(start, tableSize);
      }
      this.buf.writeUInt16BE(this.pos - rdStart, rdlenAt);
    }
    this.counts[section] += rrset.rdatas.length;
    return true;
  }

  /** Appends a raw, already encoded record (used for OPT) to the additional section, using the reserve. */
  raw(record: Buffer): boolean {
    if (this.pos + record.length > this.limit) return false;
    record.copy(this.buf, this.pos);
    this.pos += record.length;
    this.counts[3]++;
    return true;
  }

  /** Drops everything after the question (for a truncated answer). */
  truncateToQuestion(questionEnd: number): void {
    this.pos = questionEnd;
    this.counts[1] = this.counts[2] = this.counts[3] = 0;
    for (const [k, off] of this.table) if (off >= questionEnd) this.table.delete(k);
  }

  finish(): Buffer {
    for (let i = 0; i < 4; i++) this.buf.writeUInt16BE(this.counts[i], 4 + i * 2);
    return this.buf.subarray(0, this.pos);
  }

  private bytes(src: Buffer, from: number, to: number): boolean {
    const n = to - from;
    if (this.pos + n > this.end) return false;
    src.copy(this.buf, this.pos, from, to);
    this.pos += n;
    return true;
  }

  /** Writes a name, pointing at the longest suffix already in the message when `compress`. */
  private name(name: Name, compress: boolean): boolean {
    const keys = name.suffixKeys();
    const labels = name.labels;
    let i = 0;
    for (; i < labels.length; i++) {
      const at = compress ? this.table.get(keys[i]) : undefined;
      if (at !== undefined) {
        if (this.pos + 2 > this.end) return false;
        this.buf.writeUInt16BE(0xc000 | at, this.pos);
        this.pos += 2;
        return true;
      }
      const label = labels[i];
      if (this.pos + 1 + label.length > this.end) return false;
      if (this.pos <= MAX_POINTER && !this.table.has(keys[i])) this.table.set(keys[i], this.pos);
      this.buf[this.pos] = label.length;
      label.copy(this.buf, this.pos + 1);
      this.pos += 1 + label.length;
    }
    if (this.pos + 1 > this.end) return false;
    this.buf[this.pos++] = 0;
    return true;
  }

  private rollback(to: number, tableSize = this.table.size): false {
    this.pos = to;
    if (this.table.size !== tableSize) for (const [k, off] of this.table) if (off >= to) this.table.delete(k);
    return false;
  }
}
