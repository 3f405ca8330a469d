/**
 * TSIG (RFC 8945): HMAC signatures over DNS messages with a shared secret. Reads the TSIG
 * record of a message, verifies it (key, MAC, time), and signs requests, responses and the
 * messages of a multi-message response (a zone transfer), each MAC chained to the one before.
 * The HMACs are node:crypto's.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Name, type WireEnd } from './name.js';
import { T } from './types.js';

/** RFC 8945 §4.2, TSIG RR: class ANY, TTL 0. */
const CLASS_ANY = 255;
/** RFC 8945 §5.2.3: the default fudge, in seconds. */
export const DEFAULT_FUDGE = 300;

/** RFC 8945 §5.2 and IANA's TSIG error registry (the Error field). */
export const TSIG_ERROR = { NOERROR: 0, BADSIG: 16, BADKEY: 17, BADTIME: 18, BADTRUNC: 22 } as const;

export interface TsigAlgorithm {
  /** Its name in TSIG records (RFC 8945 §6), lower case with the trailing dot. */
  readonly name: string;
  /** node:crypto's name for the hash. */
  readonly hash: string;
  /** HMAC output in octets. */
  readonly size: number;
}

/** RFC 8945 §6: the algorithms, by the names key files and configurations use. */
export const TSIG_ALGORITHMS: ReadonlyMap<string, TsigAlgorithm> = new Map(
  (
    [
      ['hmac-md5', 'hmac-md5.sig-alg.reg.int.', 'md5', 16],
      ['hmac-sha1', 'hmac-sha1.', 'sha1', 20],
      ['hmac-sha224', 'hmac-sha224.', 'sha224', 28],
      ['hmac-sha256', 'hmac-sha256.', 'sha256', 32],
      ['hmac-sha384', 'hmac-sha384.', 'sha384', 48],
      ['hmac-sha512', 'hmac-sha512.', 'sha512', 64],
    ] as const
  ).map(([short, name, hash, size]) => [short, { name, hash, size }]),
);

/** The algorithm a TSIG record names (its long form), or undefined. */
function algorithmOf(name: Name): TsigAlgorithm | undefined {
  for (const a of TSIG_ALGORITHMS.values()) if (a.name === name.key) return a;
  return undefined;
}

export interface TsigKey {
  readonly name: Name;
  readonly algorithm: TsigAlgorithm;
  readonly secret: Buffer;
}

/** Keys by the lower-case key of their name. */
export type Keyring = ReadonlyMap<string, TsigKey>;

/** The TSIG record of a message, read. */
export interface TsigRecord {
  /** Offset of the record's owner name: the message before it is what was signed. */
  readonly start: number;
  readonly keyName: Name;
  readonly algorithm: Name;
  /** Seconds since the epoch (48 bits). */
  readonly timeSigned: number;
  readonly fudge: number;
  readonly mac: Buffer;
  readonly originalId: number;
  readonly error: number;
  readonly other: Buffer;
}

const END: WireEnd = { next: 0 };

/**
 * Reads the TSIG record of `msg` if it has one: the last record of the additional section
 * (RFC 8945 §5.1). Throws on a TSIG record elsewhere or malformed (the caller answers FORMERR).
 */
export function readTsig(msg: Buffer): TsigRecord | undefined {
  if (msg.length < 12) return undefined;
  const counts = [msg.readUInt16BE(4), msg.readUInt16BE(6), msg.readUInt16BE(8), msg.readUInt16BE(10)];
  const records = counts[1] + counts[2] + counts[3];
  let pos = 12;
  for (let i = 0; i < counts[0]; i++) {
    Name.read(msg, pos, END);
    pos = END.next + 4;
  }
  let found: TsigRecord | undefined;
  for (let i = 0; i < records; i++) {
    const start = pos;
    const owner = Name.read(msg, pos, END);
    const at = END.next;
    if (at + 10 > msg.length) throw new Error('record header runs past the end of the message');
    const type = msg.readUInt16BE(at);
    const end = at + 10 + msg.readUInt16BE(at + 8);
    if (end > msg.length) throw new Error('record data runs past the end of the message');
    if (type === T.TSIG) {
      if (i !== records - 1) throw new Error('a TSIG record that is not the last record of the message');
      if (msg.readUInt16BE(at + 2) !== CLASS_ANY || msg.readUInt32BE(at + 4) !== 0) throw new Error('a TSIG record of a class other than ANY or a TTL other than 0');
      found = readRdata(msg, start, owner, at + 10, end);
    }
    pos = end;
  }
  return found;
}

function readRdata(msg: Buffer, start: number, keyName: Name, p: number, end: number): TsigRecord {
  const algorithm = Name.read(msg, p, END);
  p = END.next;
  if (p + 10 > end) throw new Error('TSIG record data too short');
  const timeSigned = msg.readUIntBE(p, 6);
  const fudge = msg.readUInt16BE(p + 6);
  const macSize = msg.readUInt16BE(p + 8);
  p += 10;
  if (p + macSize + 6 > end) throw new Error('TSIG MAC runs past its record');
  const mac = msg.subarray(p, p + macSize);
  p += macSize;
  const originalId = msg.readUInt16BE(p);
  const error = msg.readUInt16BE(p + 2);
  const otherLen = msg.readUInt16BE(p + 4);
  p += 6;
  if (p + otherLen !== end) throw new Error('TSIG other data does not end its record');
  return { start, keyName, algorithm, timeSigned, fudge, mac, originalId, error, other: msg.subarray(p, end) };
}

/** The message as it was before the TSIG record was added: the record cut off, ARCOUNT less one, the original ID. */
function unsigned(msg: Buffer, tsig: TsigRecord): Buffer {
  const out = Buffer.from(msg.subarray(0, tsig.start));
  out.writeUInt16BE(tsig.originalId, 0);
  out.writeUInt16BE(out.readUInt16BE(10) - 1, 10);
  return out;
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function u48(n: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUIntBE(n, 0, 6);
  return b;
}

/** RFC 8945 §4.3.3: the TSIG variables, names in canonical (lower-case) wire form. */
function variables(key: TsigKey, timeSigned: number, fudge: number, error: number, other: Buffer): Buffer {
  return Buffer.concat([
    Name.fromText(key.name.key).wire,
    u16(CLASS_ANY),
    Buffer.alloc(4), // TTL 0
    Name.fromText(key.algorithm.name).wire,
    u48(timeSigned),
    u16(fudge),
    u16(error),
    u16(other.length),
    other,
  ]);
}

function hmac(key: TsigKey, parts: readonly Buffer[]): Buffer {
  const h = createHmac(key.algorithm.hash, key.secret);
  for (const p of parts) h.update(p);
  return h.digest();
}

export interface Verified {
  /** 0, or the TSIG error to answer with (NOTAUTH). */
  readonly error: number;
  /** The key, when it is known (the response is then signed with it, except after BADSIG). */
  readonly key?: TsigKey;
  readonly tsig: TsigRecord;
}

/**
 * Verifies a request's TSIG (RFC 8945 §5.2): the key must be in `keys` with the algorithm the
 * record names (else BADKEY), the MAC must verify (else BADSIG; a MAC longer than the hash is a
 * format error, one truncated below max(10, half the hash) BADTRUNC, §5.2.2.1), and the time
 * signed must be within the fudge of `now` (else BADTIME).
 */
export function verifyRequest(msg: Buffer, tsig: TsigRecord, keys: Keyring, now: number): Verified {
  const key = keys.get(tsig.keyName.key);
  if (!key || algorithmOf(tsig.algorithm) !== key.algorithm) return { error: TSIG_ERROR.BADKEY, tsig };
  const macError = checkMac(key, tsig.mac, [unsigned(msg, tsig), variables(key, tsig.timeSigned, tsig.fudge, tsig.error, tsig.other)]);
  if (macError !== 0) return { error: macError, key: macError === TSIG_ERROR.BADTRUNC ? key : undefined, tsig };
  if (Math.abs(now - tsig.timeSigned) > tsig.fudge) return { error: TSIG_ERROR.BADTIME, key, tsig };
  return { error: 0, key, tsig };
}

/** 0 when `mac` is the HMAC of `parts` (or an allowed truncation of it), else the TSIG error. */
function checkMac(key: TsigKey, mac: Buffer, parts: readonly Buffer[]): number {
  if (mac.length > key.algorithm.size) return TSIG_ERROR.BADSIG;
  if (mac.length < Math.max(10, key.algorithm.size / 2)) return TSIG_ERROR.BADTRUNC;
  const full = hmac(key, parts);
  return timingSafeEqual(full.subarray(0, mac.length), mac) ? 0 : TSIG_ERROR.BADSIG;
}

/** Appends a TSIG record to `msg` (ARCOUNT + 1). */
function append(msg: Buffer, key: TsigKey, originalId: number, timeSigned: number, fudge: number, mac: Buffer, error: number, other: Buffer): Buffer {
  const algorithm = Name.fromText(key.algorithm.name).wire;
  const rdata = Buffer.concat([algorithm, u48(timeSigned), u16(fudge), u16(mac.length), mac, u16(originalId), u16(error), u16(other.length), other]);
  const head = Buffer.alloc(10);
  head.writeUInt16BE(T.TSIG, 0);
  head.writeUInt16BE(CLASS_ANY, 2);
  head.writeUInt16BE(rdata.length, 8);
  const out = Buffer.concat([msg, Name.fromText(key.name.key).wire, head, rdata]);
  out.writeUInt16BE(msg.readUInt16BE(10) + 1, 10);
  return out;
}

/** Signs a request (a NOTIFY we send, a transfer we ask for); returns it with its MAC, to check the response with. */
export function signRequest(msg: Buffer, key: TsigKey, now: number, fudge = DEFAULT_FUDGE): { message: Buffer; mac: Buffer } {
  const mac = hmac(key, [msg, variables(key, now, fudge, 0, Buffer.alloc(0))]);
  return { message: append(msg, key, msg.readUInt16BE(0), now, fudge, mac, 0, Buffer.alloc(0)), mac };
}

/**
 * Signs the messages of a response to a signed request, in order (RFC 8945 §5.3): the first
 * chained to the request's MAC with all TSIG variables, each later one to the MAC before it
 * with the timers only (§5.3.1). After BADKEY or BADSIG the response carries an unsigned TSIG.
 */
export class ResponseSigner {
  private prior: Buffer;
  private first = true;

  constructor(
    private readonly key: TsigKey | undefined,
    private readonly request: TsigRecord,
    private readonly now: () => number,
    private readonly error = 0,
  ) {
    this.prior = request.mac;
  }

  sign(msg: Buffer): Buffer {
    const r = this.request;
    const time = this.now();
    const key = this.key;
    const keyForRecord: TsigKey = key ?? { name: r.keyName, algorithm: algorithmOf(r.algorithm) ?? { name: r.algorithm.key, hash: '', size: 0 }, secret: Buffer.alloc(0) };
    if (!key || this.error === TSIG_ERROR.BADSIG || this.error === TSIG_ERROR.BADKEY) {
      return append(msg, keyForRecord, r.originalId, time, r.fudge, Buffer.alloc(0), this.error, Buffer.alloc(0));
    }
    // BADTIME: the other data is our time, so the client can tell how far apart the clocks are (§5.2.3).
    const other = this.error === TSIG_ERROR.BADTIME ? u48(time) : Buffer.alloc(0);
    const signedTime = this.error === TSIG_ERROR.BADTIME ? r.timeSigned : time;
    const parts = this.first
      ? [u16(this.prior.length), this.prior, msg, variables(key, signedTime, r.fudge, this.error, other)]
      : [u16(this.prior.length), this.prior, msg, u48(signedTime), u16(r.fudge)];
    const mac = hmac(key, parts);
    this.prior = mac;
    this.first = false;
    return append(msg, key, r.originalId, signedTime, r.fudge, mac, this.error, other);
  }
}

/**
 * Verifies the TSIG of a response to a request we signed (`requestMac`), and of the messages
 * after it (a transfer): each must be signed (RFC 8945 §5.3.1 lets a sender skip up to 99,
 * which we do not accept: every server we know signs every message).
 */
export class ResponseVerifier {
  private prior: Buffer;
  private first = true;

  constructor(private readonly key: TsigKey, requestMac: Buffer, private readonly now: () => number) {
    this.prior = requestMac;
  }

  /** Undefined when the message verifies, else why not. */
  check(msg: Buffer): string | undefined {
    let tsig: TsigRecord | undefined;
    try {
      tsig = readTsig(msg);
    } catch (e) {
      return (e as Error).message;
    }
    if (!tsig) return 'the response is not signed';
    if (tsig.keyName.key !== this.key.name.key) return `the response is signed with another key (${tsig.keyName})`;
    if (tsig.error !== 0) return `the server answered TSIG error ${tsigErrorText(tsig.error)}`;
    const body = unsigned(msg, tsig);
    const parts = this.first
      ? [u16(this.prior.length), this.prior, body, variables(this.key, tsig.timeSigned, tsig.fudge, tsig.error, tsig.other)]
      : [u16(this.prior.length), this.prior, body, u48(tsig.timeSigned), u16(tsig.fudge)];
    const error = checkMac(this.key, tsig.mac, parts);
    if (error !== 0) return `TSIG ${tsigErrorText(error)}`;
    if (Math.abs(this.now() - tsig.timeSigned) > tsig.fudge) return 'TSIG BADTIME: the clocks are further apart than the fudge';
    this.prior = tsig.mac;
    this.first = false;
    return undefined;
  }
}

const ERROR_NAMES = new Map<number, string>(Object.entries(TSIG_ERROR).map(([name, code]) => [code, name]));

export function tsigErrorText(error: number): string {
  return ERROR_NAMES.get(error) ?? String(error);
}
