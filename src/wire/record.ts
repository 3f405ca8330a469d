/**
 * Resource record data as the wire carries it: rdata in uncompressed wire form with the
 * domain names inside it located, and RRsets of it. Zone data and answers both use these.
 */
import type { Name } from './name.js';

/** A domain name embedded in rdata, with its byte offset inside `Rdata.wire`. */
export interface EmbeddedName {
  readonly offset: number;
  readonly name: Name;
}

/**
 * Rdata in uncompressed wire form. `names` lists the domain names inside it, in order, so the
 * response writer can compress them (only for COMPRESSIBLE types) and the resolver can find
 * CNAME, NS, MX and SRV targets without decoding.
 */
export interface Rdata {
  readonly wire: Buffer;
  readonly names: readonly EmbeddedName[];
}

/** Records of one owner and type; `ttl` is the set's TTL (RFC 2181 §5.2). */
export interface RRset {
  readonly owner: Name;
  readonly type: number;
  readonly ttl: number;
  readonly rdatas: readonly Rdata[];
}
