/**
 * What the zone file parser produces and the zone compiler consumes: resource records with
 * their rdata already in wire form, each remembering the file and line it came from.
 */
import type { Name } from '../dns/name.js';

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

export interface ZoneRecord {
  readonly owner: Name;
  readonly type: number;
  readonly ttl: number;
  readonly rdata: Rdata;
  readonly file: string;
  readonly line: number;
}

/** A problem found while loading: errors make the zone unservable, warnings do not. */
export interface Problem {
  readonly file: string;
  readonly line: number;
  readonly severity: 'error' | 'warning';
  readonly message: string;
}

export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}: ${p.severity}: ${p.message}`;
}
