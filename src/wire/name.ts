/**
 * Domain names (RFC 1035 §3.1, §5.1): parsing from presentation text and from the wire,
 * and a canonical lower-case key used by every lookup table.
 *
 * A Name keeps its labels as raw bytes with their original case (names are answered as
 * written), plus `key`: the lower-cased presentation form with a trailing dot ("." for the
 * root). Two names are equal in DNS terms exactly when their keys are equal.
 */
import { copyBytes } from './bytes.js';

/** RFC 1035 §2.3.4: a label is at most 63 octets, a name at most 255 on the wire. */
export const MAX_LABEL = 63;
export const MAX_NAME_WIRE = 255;

export class NameError extends Error {}

/** Where a name read from a message ends: the offset just after it in its original position. */
export interface WireEnd {
  next: number;
}

export class Name {
  /** Lower-case presentation form, fully qualified: "www.example.com.", root ".". */
  readonly key: string;
  /** Number of labels; 0 for the root. */
  readonly labelCount: number;
  /**
   * The wire form, or undefined while it can be made from the key: a name written in lower
   * case without escapes (most names of a zone file) keeps no bytes until it is first
   * written into a message. A buffer costs about 100 bytes, and zones hold names by the million.
   */
  private bytes: Buffer | undefined;

  private constructor(wire: Buffer | undefined, key: string, labelCount: number) {
    this.bytes = wire;
    this.key = key;
    this.labelCount = labelCount;
  }

  /** Uncompressed wire form with original case. */
  get wire(): Buffer {
    return (this.bytes ??= wireOfPlainKey(this.key));
  }

  /**
   * The wire form for writing it once, without keeping it: a name that keeps no bytes gets them
   * made in a scratch buffer, valid only until the next call. A zone transfer writes every name
   * of a zone; kept, their wire forms would leave a buffer behind at each of millions of names.
   */
  wireOnce(): Buffer {
    if (this.bytes !== undefined) return this.bytes;
    if (this.labelCount === 0) return ROOT_WIRE;
    const n = this.key.length;
    writeLabels(this.key, n - 1, ONCE_SCRATCH);
    ONCE_SCRATCH[n] = 0;
    return ONCE_SCRATCH.subarray(0, n + 1);
  }

  /** Octets of the wire form, without making it. */
  wireLength(): number {
    if (this.bytes !== undefined) return this.bytes.length;
    return this.labelCount === 0 ? 1 : this.key.length + 1;
  }

  /** Labels from the leftmost, as views of `wire`; the root has none. Made when asked, not kept: zones hold names by the million. */
  get labels(): readonly Buffer[] {
    const out: Buffer[] = [];
    for (let p = 0; this.wire[p] !== 0; p += 1 + this.wire[p]) out.push(this.wire.subarray(p + 1, p + 1 + this.wire[p]));
    return out;
  }

  static readonly root = Name.fromLabels([]);

  static fromLabels(labels: Buffer[]): Name {
    let wireLen = 1;
    for (const l of labels) {
      if (l.length === 0) throw new NameError('empty label');
      if (l.length > MAX_LABEL) throw new NameError(`label longer than ${MAX_LABEL} octets`);
      wireLen += l.length + 1;
    }
    if (wireLen > MAX_NAME_WIRE) throw new NameError(`name longer than ${MAX_NAME_WIRE} octets`);
    const wire = Buffer.allocUnsafe(wireLen);
    let o = 0;
    for (const l of labels) {
      wire[o++] = l.length;
      l.copy(wire, o);
      o += l.length;
    }
    wire[o] = 0;
    return new Name(wire, keyOfLabels(labels), labels.length); // labels again from the wire when asked: names are kept by the million
  }

  /**
   * Parses presentation text. A name that does not end in "." is relative and gets `origin`
   * appended; without an origin it is an error. Supports `\X` and `\DDD` escapes.
   */
  static fromText(text: string, origin?: Name): Name {
    if (text === '.') return Name.root;
    if (text.length === 0) throw new NameError('empty name');
    const plain = Name.plain(text, origin);
    if (plain) return plain;
    const labels: Buffer[] = [];
    let cur: number[] = [];
    let absolute = false;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x2e /* . */) {
        if (cur.length === 0) throw new NameError(`empty label in "${text}"`);
        labels.push(Buffer.from(cur));
        cur = [];
        if (i === text.length - 1) absolute = true;
      } else if (c === 0x5c /* \ */) {
        const d = text.slice(i + 1, i + 4);
        if (/^[0-9]{3}$/.test(d)) {
          const v = Number(d);
          if (v > 255) throw new NameError(`bad escape \\${d} in "${text}"`);
          cur.push(v);
          i += 3;
        } else if (i + 1 < text.length) {
          pushUtf8(cur, text, ++i);
          if (text.charCodeAt(i) > 0xffff) i++;
        } else {
          throw new NameError(`dangling backslash in "${text}"`);
        }
      } else {
        const cp = text.codePointAt(i)!;
        pushUtf8(cur, text, i);
        if (cp > 0xffff) i++;
      }
    }
    if (!absolute) {
      if (cur.length === 0) throw new NameError(`empty label in "${text}"`);
      labels.push(Buffer.from(cur));
      if (!origin) throw new NameError(`relative name "${text}" without an origin`);
      return Name.fromLabels([...labels, ...origin.labels]);
    }
    return Name.fromLabels(labels);
  }

  /**
   * Reads a possibly compressed name from a message. Returns the name and the offset just
   * after it in the original position. Pointers must point backwards (no loops). On the query
   * path: one pass, the name copied out once and its key made from the copy.
   */
  static fromWire(msg: Buffer, offset: number): { name: Name; next: number } {
    const end: WireEnd = { next: 0 };
    const name = Name.read(msg, offset, end);
    return { name, next: end.next };
  }

  /** fromWire with the offset after the name put in `end` (the query path reuses one). */
  static read(msg: Buffer, offset: number, end: WireEnd): Name {
    let pos = offset;
    let next = -1;
    let wireLen = 0;
    let limit = offset; // pointers must go strictly before the start of what points
    let count = 0;
    let plain = true; // no octet that needs an escape in presentation form
    const wire = NAME_SCRATCH;
    for (;;) {
      if (pos >= msg.length) throw new NameError('name runs past the end of the message');
      const len = msg[pos];
      if (len === 0) {
        pos++;
        break;
      }
      const kind = len & 0xc0;
      if (kind === 0xc0) {
        if (pos + 1 >= msg.length) throw new NameError('truncated compression pointer');
        const target = ((len & 0x3f) << 8) | msg[pos + 1];
        if (next < 0) next = pos + 2;
        if (target >= limit) throw new NameError('compression pointer does not point backwards');
        if (target < 12) throw new NameError('compression pointer into the message header');
        limit = target;
        pos = target;
        continue;
      }
      if (kind !== 0) throw new NameError('unknown label type');
      if (pos + 1 + len > msg.length) throw new NameError('label runs past the end of the message');
      if (wireLen + len + 2 > MAX_NAME_WIRE) throw new NameError(`name longer than ${MAX_NAME_WIRE} octets`);
      wire[wireLen] = len;
      KEY_SCRATCH[wireLen + len] = 0x2e; // the dot after the label
      for (let i = 1; i <= len; i++) {
        const b = msg[pos + i];
        wire[wireLen + i] = b;
        if (ESCAPED[b]) plain = false;
        KEY_SCRATCH[wireLen + i - 1] = b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
      }
      wireLen += 1 + len;
      count++;
      pos += 1 + len;
    }
    if (next < 0) next = pos;
    wire[wireLen++] = 0;
    const copy = Buffer.allocUnsafe(wireLen);
    copyBytes(wire, 0, wireLen, copy, 0);
    // The key: the lower-cased labels each followed by a dot, unless an octet needs an escape.
    const key = count === 0 ? '.' : plain ? KEY_SCRATCH.toString('latin1', 0, wireLen - 1) : undefined;
    end.next = next;
    return key !== undefined ? new Name(copy, key, count) : Name.fromLabels(new Name(copy, '', count).labels as Buffer[]);
  }

  /**
   * The common case of fromText without the garbage of the general path (zone files have names
   * by the million): letters, digits, '-', '_' and '*' only, no empty label. Undefined for
   * anything else, which the general path then parses (and reports).
   */
  private static plain(text: string, origin: Name | undefined): Name | undefined {
    const absolute = text.charCodeAt(text.length - 1) === 0x2e;
    if (!absolute && !origin) return undefined;
    const own = absolute ? text.length - 1 : text.length; // characters of our own labels
    const tail = absolute ? 1 : origin!.wireLength(); // the root octet, or the origin's wire form
    if (own + 1 + tail > MAX_NAME_WIRE) return undefined;
    let count = 0;
    let upper = false;
    for (let i = 0, start = 0; i <= own; i++) {
      const c = i < own ? text.charCodeAt(i) : 0x2e;
      if (c === 0x2e) {
        const len = i - start;
        if (len === 0 || len > MAX_LABEL) return undefined;
        start = i + 1;
        count++;
      } else if (c >= 0x80 || PLAIN[c] !== 1) {
        return undefined;
      } else if (c <= 0x5a && c >= 0x41) {
        upper = true;
      }
    }
    // toLowerCase makes a flat string: a concatenation would keep its parts as a tree.
    const key = (absolute ? text : origin!.labelCount === 0 ? `${text}.` : `${text}.${origin!.key}`).toLowerCase();
    const labelCount = absolute ? count : count + origin!.labelCount;
    // Nothing in upper case, here or in the origin: the key says all (see `bytes`).
    if (!upper && (absolute || origin!.bytes === undefined)) return new Name(undefined, key, labelCount);
    const wire = Buffer.allocUnsafe(own + 1 + tail);
    writeLabels(text, own, wire);
    if (absolute) wire[own + 1] = 0;
    else copyBytes(origin!.wire, 0, tail, wire, own + 1);
    return new Name(wire, key, labelCount);
  }

  /** The same name in memory of its own (a name read from a message shares a pooled block). */
  detached(): Name {
    const wire = Buffer.allocUnsafeSlow(this.wire.length);
    this.wire.copy(wire);
    return new Name(wire, this.key, this.labelCount);
  }

  /** The name with the leftmost label removed; the root's parent is undefined. */
  parent(): Name | undefined {
    if (this.labelCount === 0) return undefined;
    if (this.key.includes('\\')) return Name.fromLabels(this.labels.slice(1) as Buffer[]);
    // No escapes: the parent's key follows the first dot, its wire form the first label.
    const rest = this.key.slice(this.key.indexOf('.') + 1);
    const wire = this.bytes === undefined ? undefined : this.bytes.subarray(1 + this.bytes[0]);
    return new Name(wire, rest === '' ? '.' : rest, this.labelCount - 1);
  }

  private suffixes?: readonly string[];

  /** Keys of this name and each of its ancestors, this name first, the root last (cached unless `keep` is false). */
  suffixKeys(keep = true): readonly string[] {
    if (this.suffixes) return this.suffixes;
    const n = this.labelCount;
    const out = new Array<string>(n + 1);
    out[n] = '.';
    if (!this.key.includes('\\')) {
      // No escapes: each suffix starts after a dot of the key.
      for (let i = 0, at = 0; i < n; i++) {
        out[i] = at === 0 ? this.key : this.key.slice(at);
        at = this.key.indexOf('.', at) + 1;
      }
    } else {
      const labels = this.labels;
      let acc = '';
      for (let i = n - 1; i >= 0; i--) {
        acc = presentation([labels[i]], true) + acc;
        out[i] = acc;
      }
    }
    if (keep) this.suffixes = out;
    return out;
  }

  /** True when this name equals `other` or lies below it. */
  isSubdomainOf(other: Name): boolean {
    if (other.labelCount > this.labelCount) return false;
    if (other.labelCount === 0) return true;
    return this.key.endsWith('.' + other.key) || this.key === other.key;
  }

  /** Presentation text with original case. */
  toString(): string {
    return presentation(this.labels, false);
  }
}

/**
 * The wire form of a key without escapes (what Name.plain and parent() leave unmade). Memory
 * of its own: made while answering, a slice of Node's shared pool would keep a whole 8 KiB
 * block of per-query buffers alive for as long as the zone lives.
 */
function wireOfPlainKey(key: string): Buffer {
  if (key === '.') return Buffer.from([0]);
  const wire = Buffer.allocUnsafeSlow(key.length + 1);
  writeLabels(key, key.length - 1, wire);
  wire[key.length] = 0;
  return wire;
}

/**
 * The labels of `text[0, end)` (dot-separated, no escapes, checked by the caller) into
 * `wire[0, end]` as length-prefixed labels: each dot becomes the next label's length.
 */
function writeLabels(text: string, end: number, wire: Buffer): void {
  let start = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      wire[start] = i - start;
      start = i + 1;
    } else {
      wire[i + 1] = c;
    }
  }
  wire[start] = end - start;
}

/** Characters Name.plain takes as they are. */
const PLAIN = new Uint8Array(128).map((_, c) => (/[A-Za-z0-9_*-]/.test(String.fromCharCode(c)) ? 1 : 0));

function pushUtf8(out: number[], text: string, i: number): void {
  const cp = text.codePointAt(i)!;
  if (cp < 0x80) out.push(cp);
  else for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) out.push(b);
}

/** Characters that must be escaped in presentation form (RFC 1035 §5.1). */
const SPECIAL = new Set([0x2e, 0x5c, 0x22, 0x28, 0x29, 0x3b, 0x40, 0x24, 0x20]);
/** Octets written as an escape in presentation form (the ones presentation() escapes). */
const ESCAPED = new Uint8Array(256).map((_, b) => (b <= 0x20 || b >= 0x7f || SPECIAL.has(b) ? 1 : 0));
/** Scratch space for fromWire (synchronous, so one is enough). */
const NAME_SCRATCH = Buffer.allocUnsafe(MAX_NAME_WIRE);
/** Where wireOnce() makes a wire form (apart from NAME_SCRATCH, which parsing uses). */
const ONCE_SCRATCH = Buffer.allocUnsafe(MAX_NAME_WIRE);
const ROOT_WIRE = Buffer.from([0]);
const KEY_SCRATCH = Buffer.allocUnsafe(MAX_NAME_WIRE);

function presentation(labels: readonly Buffer[], lower: boolean): string {
  if (labels.length === 0) return '.';
  let s = '';
  for (const l of labels) {
    for (let i = 0; i < l.length; i++) {
      let b = l[i];
      if (lower && b >= 0x41 && b <= 0x5a) b |= 0x20;
      if (b <= 0x20 || b >= 0x7f) s += '\\' + String(b).padStart(3, '0');
      else if (SPECIAL.has(b)) s += '\\' + String.fromCharCode(b);
      else s += String.fromCharCode(b);
    }
    s += '.';
  }
  return s;
}

export function keyOfLabels(labels: readonly Buffer[]): string {
  return presentation(labels, true);
}
