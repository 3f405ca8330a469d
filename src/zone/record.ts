/**
 * What the zone file parser produces and the zone compiler consumes: resource records with
 * their rdata already in wire form, each remembering the file and line it came from.
 */
import type { Name } from '../wire/name.js';
import type { Rdata } from '../wire/record.js';

export interface ZoneRecord {
  readonly owner: Name;
  readonly type: number;
  readonly ttl: number;
  readonly rdata: Rdata;
  readonly file: string;
  readonly line: number;
}

