/**
 * Domain names (RFC 1035 §3.1, §5.1): parsing from presentation text and from the wire,
 * and a canonical lower-case key used by every lookup table.
 *
 * A Name keeps its labels as raw bytes with their original case (names are answered as
 * written), plus `key`: the lower-cased presentation form with a trailing dot ("." for the
 * root). Two names are equal in DNS terms exactly when their keys are equal.
 */

/** RFC 1035 §2.3.4: a label is at most 63 octets, a name at most 255 on the wire. */
export const MAX_LABEL = 63;
export const MAX_NAME_WIRE = 255;

export class NameError extends Error {}

export class Name {
  /** Labels from the leftmost; the root is the empty list. */
  readonly labels: readonly Buffer[];
  /** Lower-case presentation form, fully qualified: "www.example.com.", root ".". */
  readonly key: string;
  /** Uncompressed wire form with original case. */
  readonly wire: Buffer;

  private constructor(labels: Buffer[], key: string, wire: Buffer) {
    this.labels = labels;
    this.key = key;
    this.wire = wire;
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
    return new Name(labels, keyOfLabels(labels), wire);
  }

  /**
   * Parses presentation text. A name that does not end in "." is relative and gets `origin`
   * appended; without an origin it is an error. Supports `\X` and `\DDD` escapes.
   */
  static fromText(text: string, origin?: Name): Name {
    if (text === '.') return Name.root;
    if (text.length === 0) throw new NameError('empty name');
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
   * after it in the original position. Pointers must point backwards (no loops).
   */
  static fromWire(msg: Buffer, offset: number): { name: Name; next: number } {
    const labels: Buffer[] = [];
    let pos = offset;
    let next = -1;
    let wireLen = 1;
    let limit = offset; // pointers must go strictly before the start of what points
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
      wireLen += len + 1;
      if (wireLen > MAX_NAME_WIRE) throw new NameError(`name longer than ${MAX_NAME_WIRE} octets`);
      labels.push(msg.subarray(pos + 1, pos + 1 + len));
      pos += 1 + len;
    }
    if (next < 0) next = pos;
    // Copy labels out so the name does not pin the whole message buffer.
    return { name: Name.fromLabels(labels.map((l) => Buffer.from(l))), next };
  }

  /** The name with the leftmost label removed; the root's parent is undefined. */
  parent(): Name | undefined {
    if (this.labels.length === 0) return undefined;
    return Name.fromLabels(this.labels.slice(1) as Buffer[]);
  }

  private suffixes?: readonly string[];

  /** Keys of this name and each of its ancestors, this name first, the root last (cached). */
  suffixKeys(): readonly string[] {
    if (this.suffixes) return this.suffixes;
    const out = new Array<string>(this.labels.length + 1);
    out[this.labels.length] = '.';
    let acc = '';
    for (let i = this.labels.length - 1; i >= 0; i--) {
      acc = presentation([this.labels[i]], true) + acc;
      out[i] = acc;
    }
    this.suffixes = out;
    return out;
  }

  /** True when this name equals `other` or lies below it. */
  isSubdomainOf(other: Name): boolean {
    if (other.labels.length > this.labels.length) return false;
    if (other.labels.length === 0) return true;
    return this.key.endsWith('.' + other.key) || this.key === other.key;
  }

  /** Presentation text with original case. */
  toString(): string {
    return presentation(this.labels, false);
  }
}

function pushUtf8(out: number[], text: string, i: number): void {
  const cp = text.codePointAt(i)!;
  if (cp < 0x80) out.push(cp);
  else for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) out.push(b);
}

/** Characters that must be escaped in presentation form (RFC 1035 §5.1). */
const SPECIAL = new Set([0x2e, 0x5c, 0x22, 0x28, 0x29, 0x3b, 0x40, 0x24, 0x20]);

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
