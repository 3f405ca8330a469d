/**
 * DNS Cookies (RFC 7873) with interoperable server cookies (RFC 9018): the COOKIE option of
 * the response (the query's is read by cookie.ts): the client cookie echoed with a server
 * cookie made from it, the client's address, the time and a secret shared by every server
 * answering on the same address (workers, anycast instances: the same --cookie-secret).
 *
 * Cookies are not required here: a query with no or a bad server cookie is answered normally
 * with a fresh one (RFC 7873 §5.2.3 choice 3, §5.2.4); BADCOOKIE is left to rate limiting,
 * which can exempt the clients whose server cookie verifies (`answer(...).valid`).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { CLIENT_COOKIE, COOKIE_OPTION, type Cookie } from './cookie.js';
import { addressOctets } from './ip.js';
import { siphash24 } from './siphash.js';

/** RFC 9018 §4: version 1 server cookie: version, 3 reserved, 4 timestamp, 8 hash octets. */
const VERSION = 1;
const SERVER_COOKIE_V1 = 16;
/** The response's option: code, length, client cookie, our server cookie. */
const COOKIE_OPTION_SIZE = 4 + CLIENT_COOKIE + SERVER_COOKIE_V1;
/** RFC 9018 §4.3: a cookie is good for an hour, from at most 5 minutes in the future... */
const MAX_AGE = 3600;
const MAX_FUTURE = 300;
/** ...and a new one is due once it is half an hour old. */
const RENEW_AFTER = 1800;
/** RFC 9018 §4.4: a 128-bit SipHash key. */
export const SECRET_SIZE = 16;

/** The secret server cookies are made with, and the one before it, still accepted (RFC 9018 §5). */
export interface CookieSecrets {
  readonly current: Buffer;
  readonly previous?: Buffer;
}

export function randomCookieSecrets(): CookieSecrets {
  return { current: randomBytes(SECRET_SIZE) };
}

/** Reads `CURRENT[,PREVIOUS]`, each 32 hex digits; undefined when malformed. */
export function parseCookieSecrets(text: string): CookieSecrets | undefined {
  const parts = text.trim().split(',');
  if (parts.length > 2 || !parts.every((p) => /^[0-9a-fA-F]{32}$/.test(p))) return undefined;
  return { current: Buffer.from(parts[0], 'hex'), previous: parts[1] === undefined ? undefined : Buffer.from(parts[1], 'hex') };
}

/** The form parseCookieSecrets reads (how the primary hands the secrets to its workers). */
export function formatCookieSecrets(s: CookieSecrets): string {
  return s.current.toString('hex') + (s.previous ? ',' + s.previous.toString('hex') : '');
}

export interface CookieAnswer {
  /** The COOKIE option for the response's OPT (code, length and data). */
  readonly option: Buffer;
  /** The query's server cookie verified: the client has had an answer from us at this address. */
  readonly valid: boolean;
}

/** Seconds since the epoch, the RFC 9018 timestamp. */
const unixSeconds = () => Math.floor(Date.now() / 1000);

export class ServerCookies {
  private secrets: CookieSecrets;
  /** Scratch for the hash input: client cookie, version, reserved, timestamp, address. */
  private readonly input = Buffer.alloc(CLIENT_COOKIE + 8 + 16);
  private readonly hash = Buffer.alloc(8);

  constructor(secrets: CookieSecrets, private readonly now: () => number = unixSeconds) {
    this.secrets = secrets;
  }

  /** Makes `next` the current secret; the current one stays accepted until the next rotation. */
  rotate(next: Buffer): void {
    this.secrets = { current: next, previous: this.secrets.current };
  }

  /** The secrets in force (a primary hands them to its workers). */
  get current(): CookieSecrets {
    return this.secrets;
  }

  /** Takes these secrets (a worker following its primary's rotation). */
  replace(secrets: CookieSecrets): void {
    this.secrets = secrets;
  }

  /**
   * The response's COOKIE option for `cookie` from `clientAddress`: the server cookie the
   * client sent when it verifies and is under half an hour old, else a new one.
   */
  answer(cookie: Cookie, clientAddress: string): CookieAnswer {
    const now = this.now() >>> 0;
    const address = addressOctets(clientAddress);
    const option = Buffer.allocUnsafe(COOKIE_OPTION_SIZE);
    option.writeUInt16BE(COOKIE_OPTION, 0);
    option.writeUInt16BE(CLIENT_COOKIE + SERVER_COOKIE_V1, 2);
    cookie.client.copy(option, 4);
    const verdict = cookie.server && this.verify(cookie.client, cookie.server, address, now);
    if (verdict === 'keep') cookie.server!.copy(option, 4 + CLIENT_COOKIE);
    else createServerCookie(this.secrets.current, cookie.client, address, now, option, 4 + CLIENT_COOKIE, this.input);
    return { option, valid: verdict !== undefined };
  }

  /**
   * Whether the server cookie is ours and in its time window (RFC 9018 §4.3): `keep` it, or
   * `renew` it when older than half an hour or made with the previous secret (§5); undefined
   * when it does not verify.
   */
  private verify(client: Buffer, server: Buffer, address: Buffer | undefined, now: number): 'keep' | 'renew' | undefined {
    if (server.length !== SERVER_COOKIE_V1 || server[0] !== VERSION || !address) return undefined;
    // RFC 1982 serial arithmetic on the 32-bit timestamp.
    const age = (now - server.readUInt32BE(4)) | 0;
    if (age > MAX_AGE || age < -MAX_FUTURE) return undefined;
    // RFC 9018 §4.4: the hash covers the version, reserved and timestamp octets as received.
    const input = this.input.subarray(0, hashInput(this.input, client, server.subarray(0, 8), address));
    const mac = server.subarray(8);
    siphash24(this.secrets.current, input, this.hash);
    if (timingSafeEqual(this.hash, mac)) return age > RENEW_AFTER ? 'renew' : 'keep';
    if (!this.secrets.previous) return undefined;
    siphash24(this.secrets.previous, input, this.hash);
    return timingSafeEqual(this.hash, mac) ? 'renew' : undefined;
  }
}

/**
 * Writes the RFC 9018 version 1 server cookie for `client` at `address` and time `now` into
 * `out` at `at`: version 1, reserved zero, the timestamp, SipHash-2-4 of them all.
 */
export function createServerCookie(secret: Buffer, client: Buffer, address: Buffer | undefined, now: number, out: Buffer, at: number, scratch = Buffer.alloc(CLIENT_COOKIE + 8 + 16)): void {
  out[at] = VERSION;
  out[at + 1] = out[at + 2] = out[at + 3] = 0;
  out.writeUInt32BE(now >>> 0, at + 4);
  const n = hashInput(scratch, client, out.subarray(at, at + 8), address ?? Buffer.alloc(0));
  siphash24(secret, scratch.subarray(0, n), out, at + 8);
}

function hashInput(into: Buffer, client: Buffer, head: Buffer, address: Buffer): number {
  client.copy(into, 0);
  head.copy(into, CLIENT_COOKIE);
  address.copy(into, CLIENT_COOKIE + 8);
  return CLIENT_COOKIE + 8 + address.length;
}

