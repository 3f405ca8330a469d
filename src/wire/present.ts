/**
 * RRsets as presentation text (RFC 1035 §5.1 lines), for explain output, status pages and
 * tests: each type in its own presentation format, unknown types in RFC 3597 generic form.
 */
import { typeToText } from './types.js';
import { rdataToText } from './rdata.js';
import type { Rdata } from './record.js';
import type { RRset } from './record.js';

export function rrsetLines(rrset: RRset, ttl = rrset.ttl): string[] {
  const head = `${rrset.owner.toString()} ${ttl} IN ${typeToText(rrset.type)}`;
  return rrset.rdatas.map((r) => `${head} ${rdataText(rrset.type, r)}`);
}

export function rdataText(type: number, r: Rdata): string {
  return rdataToText(type, r.wire);
}
