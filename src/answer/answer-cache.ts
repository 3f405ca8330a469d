/**
 * The answer cache: UDP responses that depend on nothing but the query's bytes and the
 * snapshot (static data, NXDOMAIN, referrals, errors: everything where no load balancer was
 * asked), kept encoded and sent again with only the ID patched. Steered answers depend on the
 * client, health and chance, so they are never kept; nor are answers with a DNS server
 * cookie (src/wire/server-cookies.ts), made for the client's address and the time. The cache belongs
 * to one snapshot: a reload, a health change or an override swaps the snapshot and starts an
 * empty cache.
 *
 * Two generations bound it: entries go into `young`; when `young` is full it becomes `old`
 * and the previous `old` is dropped; a hit in `old` moves the entry back into `young`. A flood
 * of distinct questions costs at most 2 x `generation` entries and the hot ones survive it.
 *
 * Entries are found by a 32-bit hash of the query's bytes after the ID (seeded per process,
 * so nobody outside can aim at one entry) and then compared byte for byte: a number is cheap
 * to look up, where a string key would be made and hashed anew for every query, and a query
 * that is not cached (a steered one) then costs a hash and one failed lookup. Two queries with
 * the same hash share one slot; the newer replaces the older.
 */
import { randomInt } from 'node:crypto';
import type { ResponseInfo } from './respond.js';

/** Entries per generation unless configured (--answer-cache-size). */
export const DEFAULT_ANSWER_CACHE_SIZE = 10_000;

/** Longer queries are answered without the cache (real queries are well under this). */
const MAX_KEY_BYTES = 300;

interface Entry {
  /** The query's bytes after the ID. */
  readonly query: Buffer;
  readonly response: Buffer;
  readonly info: ResponseInfo;
}

export interface CacheHit {
  /** The response to send: a copy of the cached one with the query's ID. */
  readonly response: Buffer;
  /** What the response says (rcode, question, ...), for metrics and logs. */
  readonly info: ResponseInfo;
}

export class AnswerCache {
  private owner: object | undefined;
  private young = new Map<number, Entry>();
  private old = new Map<number, Entry>();
  private readonly seed = randomInt(0x7fffffff);
  hits = 0;
  misses = 0;

  constructor(private readonly generation: number) {}

  /** The key for `query`, or undefined when it is not to be cached. Empty when the cache belongs to another snapshot. */
  key(query: Buffer, snapshot: object): number | undefined {
    if (snapshot !== this.owner) {
      this.owner = snapshot;
      this.young = new Map();
      this.old = new Map();
    }
    if (query.length > MAX_KEY_BYTES || query.length < 12) return undefined;
    // FNV-1a over everything but the ID, from a secret offset basis.
    let h = this.seed;
    for (let i = 2; i < query.length; i++) h = Math.imul(h ^ query[i], 0x01000193);
    return h >>> 0;
  }

  get(key: number, query: Buffer): CacheHit | undefined {
    let entry = this.young.get(key);
    if (entry !== undefined && !sameQuery(entry.query, query)) entry = undefined;
    if (entry === undefined) {
      entry = this.old.get(key);
      if (entry === undefined || !sameQuery(entry.query, query)) {
        this.misses++;
        return undefined;
      }
      this.insert(key, entry);
    }
    this.hits++;
    const out = Buffer.allocUnsafe(entry.response.length);
    entry.response.copy(out);
    out[0] = query[0];
    out[1] = query[1];
    return { response: out, info: entry.info };
  }

  /** Keeps `info`'s response when no load balancer took part in it and it carries no server cookie. */
  offer(key: number, query: Buffer, info: ResponseInfo): void {
    if (!info.response || (info.decisions !== undefined && info.decisions.size > 0)) return;
    // The key holds the query's cookie bytes, but not what our server cookie is made of: the
    // client's address and the time (RFC 9018 §4). Kept, it would go to another client behind
    // the same cookie, and age past its hour; so a query with a COOKIE option is never a hit.
    if (info.cookie) return;
    // A TSIG-signed response carries the time it was signed and chains to the query's MAC.
    if (info.signed) return;
    // Its own memory: a slice of a larger or pooled buffer would keep all of it alive. For the
    // same reason only what metrics and logs read is kept of the rest, the name detached too.
    const response = Buffer.allocUnsafeSlow(info.response.length);
    info.response.copy(response);
    const kept = Buffer.allocUnsafeSlow(query.length - 2);
    query.copy(kept, 0, 2);
    const q = info.question;
    const question = q && { qname: q.qname.detached(), qtype: q.qtype, qclass: q.qclass };
    this.insert(key, { query: kept, response, info: { response, rcode: info.rcode, truncated: info.truncated, reason: info.reason, question, ecs: info.ecs, wildcard: info.wildcard } });
  }

  get size(): number {
    return this.young.size + this.old.size;
  }

  private insert(key: number, entry: Entry): void {
    if (this.young.size >= this.generation) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, entry);
  }
}

/** `kept` (a query's bytes after the ID) against the whole of `query`. */
function sameQuery(kept: Buffer, query: Buffer): boolean {
  if (kept.length !== query.length - 2) return false;
  for (let i = 0; i < kept.length; i++) if (kept[i] !== query[i + 2]) return false;
  return true;
}
