/**
 * Response rate limiting (RRL) as BIND, Knot and NSD do it: each UDP response is accounted to
 * its client's network (/24, /56) and its class (an answer per name and type, NXDOMAIN and
 * NODATA per zone, a referral per delegation, errors per network: src/server/rrl-wire.ts).
 * Each account earns RATE credits a second, at most RATE, and every response costs one;
 * while it is negative (down to -WINDOW x RATE) responses are dropped, except every SLIP-th,
 * sent truncated so that a real client behind a spoofed flood retries over TCP. Errors are
 * never slipped (BIND). Accounts live in a fixed table: a flood of spoofed sources evicts the
 * accounts used longest ago instead of growing it. Pure: the clock is injected, no timers.
 */
import { isIP } from 'node:net';
import { inNetwork, IpError, maskAddress, maskWord, parseAddress, parseNetwork, unmapped, type IpNetwork } from '../wire/ip.js';
import { classifyResponse, type ResponseClass, type ResponseKind } from './rrl-wire.js';

/** Loopback is never limited unless the exemptions are configured otherwise. */
export const DEFAULT_RRL_EXEMPT: readonly string[] = ['127.0.0.0/8', '::1/128'];
export const DEFAULT_RRL_WINDOW = 15;
export const DEFAULT_RRL_SLIP = 2;
export const DEFAULT_RRL_IPV4_PREFIX = 24;
export const DEFAULT_RRL_IPV6_PREFIX = 56;
export const DEFAULT_RRL_TABLE_SIZE = 65_536;

export interface RrlOptions {
  /** Answers (and referrals) per second per client network and name (BIND responses-per-second); 0: not limited. */
  readonly responsesPerSecond: number;
  /** NXDOMAIN and NODATA per second per client network and zone; default responsesPerSecond. */
  readonly nxdomainsPerSecond?: number;
  /** Errors (REFUSED, FORMERR, SERVFAIL, NOTIMP, ...) per second per client network; default responsesPerSecond. */
  readonly errorsPerSecond?: number;
  /** Seconds of debt an account can run up: how long a flooder stays limited after stopping. */
  readonly window?: number;
  /** Every SLIP-th limited response is sent truncated; 0 drops them all, 1 truncates them all. */
  readonly slip?: number;
  readonly ipv4Prefix?: number;
  readonly ipv6Prefix?: number;
  /** Networks never limited (CIDR or address); default loopback. */
  readonly exempt?: readonly string[];
  /** Account and log, but send every response. */
  readonly logOnly?: boolean;
  /** Accounts kept (rounded up to a power of two). */
  readonly tableSize?: number;
}

/** What to do with a response: send it, drop it, or send its truncated form. */
export type RrlAction = 'send' | 'drop' | 'slip';

/** A client network started being limited (told at most once per network per window). */
export interface LimitEvent {
  /** The client network, as "192.0.2.0/24". */
  readonly network: string;
  readonly kind: ResponseKind;
  /** The name accounted ('.' for the root, '' for errors). */
  readonly name: string;
  readonly qtype: number;
  readonly rate: number;
  /** Networks that started being limited since the last event and were not told (over LOG_LINES_PER_SECOND). */
  readonly suppressed: number;
}

export interface RrlHooks {
  /** Milliseconds, for the per-second credit; default Date.now. */
  readonly now?: () => number;
  /** Seed of the table's hash (random by default, so collisions cannot be aimed at). */
  readonly seed?: number;
  readonly onLimited?: (event: LimitEvent) => void;
}

export class RrlConfigError extends Error {
  override name = 'RrlConfigError';
}

/** A network to exempt: family, masked 32-bit words, prefix length. */
/** Buckets looked at for a key: its own and the next ones; a new key takes the least recently used. */
const PROBES = 4;
/** Networks remembered as logged; beyond that the oldest is forgotten (and may be logged again). */
const LOGGED_NETWORKS = 4096;
/** At most this many "limiting" lines a second, however many networks start being limited. */
const LOG_LINES_PER_SECOND = 10;

export class ResponseRateLimiter {
  readonly logOnly: boolean;
  private readonly rates: Readonly<Record<ResponseKind, number>>;
  private readonly window: number;
  private readonly slip: number;
  private readonly ipv4Prefix: number;
  private readonly ipv6Prefix: number;
  private readonly exempt: readonly IpNetwork[];
  private readonly now: () => number;
  private readonly seed: number;
  private readonly onLimited?: (event: LimitEvent) => void;

  // The table, as parallel arrays: key, balance, second last credited, limited count for slip, last use.
  private readonly keys: (string | undefined)[];
  private readonly balance: Float64Array;
  private readonly second: Float64Array;
  private readonly slips: Uint32Array;
  private readonly used: Float64Array;
  private readonly mask: number;
  private entries = 0;
  private clock = 0;

  private readonly logged = new Map<string, number>();
  private logSecond = -1;
  private logLines = 0;
  private suppressed = 0;
  private readonly address = new Uint32Array(4);

  constructor(opts: RrlOptions, hooks: RrlHooks = {}) {
    const responses = opts.responsesPerSecond;
    this.rates = {
      answer: responses,
      referral: responses,
      nodata: opts.nxdomainsPerSecond ?? responses,
      nxdomain: opts.nxdomainsPerSecond ?? responses,
      error: opts.errorsPerSecond ?? responses,
    };
    for (const rate of Object.values(this.rates)) if (!(rate >= 0) || !Number.isFinite(rate)) throw new RrlConfigError(`rate ${rate}: expected a number of responses per second, 0 or more`);
    this.window = checkedInteger('window', opts.window ?? DEFAULT_RRL_WINDOW, 1, 3600);
    this.slip = checkedInteger('slip', opts.slip ?? DEFAULT_RRL_SLIP, 0, 10);
    this.ipv4Prefix = checkedInteger('IPv4 prefix', opts.ipv4Prefix ?? DEFAULT_RRL_IPV4_PREFIX, 0, 32);
    this.ipv6Prefix = checkedInteger('IPv6 prefix', opts.ipv6Prefix ?? DEFAULT_RRL_IPV6_PREFIX, 0, 128);
    this.exempt = (opts.exempt ?? DEFAULT_RRL_EXEMPT).map(exemptNetwork);
    this.logOnly = opts.logOnly ?? false;
    this.now = hooks.now ?? Date.now;
    this.seed = hooks.seed ?? Math.floor(Math.random() * 0x1_0000_0000);
    this.onLimited = hooks.onLimited;
    const wanted = checkedInteger('table size', opts.tableSize ?? DEFAULT_RRL_TABLE_SIZE, 1, 1 << 26);
    let size = 16;
    while (size < wanted) size *= 2;
    this.mask = size - 1;
    this.keys = new Array<string | undefined>(size).fill(undefined);
    this.balance = new Float64Array(size);
    this.second = new Float64Array(size);
    this.slips = new Uint32Array(size);
    this.used = new Float64Array(size);
  }

  /** True when some class of response is limited at all. */
  get enabled(): boolean {
    return Object.values(this.rates).some((r) => r > 0);
  }

  /** Accounts kept now, and at most. */
  get size(): number {
    return this.entries;
  }

  get capacity(): number {
    return this.mask + 1;
  }

  /**
   * Accounts the encoded UDP response `msg` with rcode `rcode` to `client` (an IP address).
   * `wildcard`: the key of the wildcard that synthesized the answer (Name.key, trailing dot),
   * which then names the account (BIND).
   */
  check(msg: Buffer, rcode: number, client: string, wildcard?: string): RrlAction {
    const network = this.networkOf(client);
    if (network === undefined) return 'send';
    const cls = classifyResponse(msg, rcode);
    // Class names are written without the trailing dot (ResponseClass.name).
    return this.account(network, client, wildcard !== undefined && cls.kind === 'answer' ? { ...cls, name: wildcard.slice(0, -1) } : cls);
  }

  /** Accounts a response of class `cls` to `client`, classed already (tests, and check()). */
  limit(client: string, cls: ResponseClass): RrlAction {
    const network = this.networkOf(client);
    if (network === undefined) return 'send';
    return this.account(network, client, cls);
  }

  /** The key of the client's network, or undefined when it is exempt. */
  private networkOf(client: string): string | undefined {
    const ip = unmapped(client);
    const family = isIP(ip);
    if (family !== 4 && family !== 6) return client; // not an address (never from a socket): its own network
    const a = this.address;
    a.fill(0);
    parseAddress(ip, family, a);
    for (const n of this.exempt) if (n.family === family && inNetwork(a, n)) return undefined;
    if (family === 4) return `4/${maskWord(a[0], this.ipv4Prefix)}`;
    const p = this.ipv6Prefix;
    return `6/${maskWord(a[0], p)}:${maskWord(a[1], p - 32)}:${maskWord(a[2], p - 64)}:${maskWord(a[3], p - 96)}`;
  }

  private account(network: string, client: string, cls: ResponseClass): RrlAction {
    const rate = this.rates[cls.kind];
    if (rate <= 0) return 'send';
    const now = this.now();
    const second = Math.floor(now / 1000);
    const i = this.slot(`${network} ${cls.kind} ${cls.name} ${cls.qtype}`, rate, second);
    // BIND's account: RATE credits a second, never above RATE nor below -WINDOW x RATE.
    const elapsed = second - this.second[i];
    if (elapsed !== 0) {
      if (elapsed > 0) this.balance[i] = Math.min(rate, this.balance[i] + elapsed * rate);
      this.second[i] = second;
    }
    const balance = Math.max(this.balance[i] - 1, -this.window * rate);
    this.balance[i] = balance;
    if (balance >= 0) return 'send';
    this.noteLimited(network, client, cls, rate, now);
    if (cls.kind === 'error' || this.slip === 0) return 'drop'; // an error is not worth a retry over TCP
    if (++this.slips[i] < this.slip) return 'drop';
    this.slips[i] = 0;
    return 'slip';
  }

  /** The bucket holding `key`, taking an empty or the least recently used one of its probes. */
  private slot(key: string, rate: number, second: number): number {
    const base = hash(key, this.seed);
    let empty = -1;
    let oldest = -1;
    for (let p = 0; p < PROBES; p++) {
      const i = (base + p) & this.mask;
      const k = this.keys[i];
      if (k === key) {
        this.used[i] = ++this.clock;
        return i;
      }
      if (k === undefined) {
        if (empty < 0) empty = i;
      } else if (oldest < 0 || this.used[i] < this.used[oldest]) {
        oldest = i;
      }
    }
    const victim = empty >= 0 ? empty : oldest;
    if (empty >= 0) this.entries++;
    this.keys[victim] = key;
    this.balance[victim] = rate;
    this.second[victim] = second;
    this.slips[victim] = 0;
    this.used[victim] = ++this.clock;
    return victim;
  }

  private noteLimited(network: string, client: string, cls: ResponseClass, rate: number, now: number): void {
    if (!this.onLimited) return;
    const last = this.logged.get(network);
    if (last !== undefined && now - last < this.window * 1000) return;
    const second = Math.floor(now / 1000);
    if (second !== this.logSecond) {
      this.logSecond = second;
      this.logLines = 0;
    }
    this.logged.delete(network); // re-inserted last: the map's order is the order of logging
    this.logged.set(network, now);
    if (this.logged.size > LOGGED_NETWORKS) this.logged.delete(this.logged.keys().next().value!);
    if (this.logLines >= LOG_LINES_PER_SECOND) {
      this.suppressed++; // counted in the next line, and not told again within the window
      return;
    }
    this.logLines++;
    const suppressed = this.suppressed;
    this.suppressed = 0;
    const name = cls.kind === 'error' ? '' : cls.name === '' ? '.' : cls.name + '.';
    this.onLimited({ network: maskAddress(client, this.ipv4Prefix, this.ipv6Prefix), kind: cls.kind, name, qtype: cls.qtype, rate, suppressed });
  }
}

/** FNV-1a with a seed. */
function hash(key: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** An exempt network; a malformed one is a configuration error. */
function exemptNetwork(text: string): IpNetwork {
  try {
    return parseNetwork(text);
  } catch (e) {
    throw e instanceof IpError ? new RrlConfigError(e.message) : e;
  }
}

function checkedInteger(what: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new RrlConfigError(`${what} ${value}: expected a whole number from ${min} to ${max}`);
  return value;
}
