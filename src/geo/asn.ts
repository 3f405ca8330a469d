/**
 * The autonomous system of an address, from an ASN mmdb (`--asn-db`), for DNS persistence keyed
 * on the resolver's network. Reads MaxMind GeoLite2-ASN records (`autonomous_system_number`)
 * and flat layouts that name the field `asn` (a number, or text such as "13335" or "AS13335").
 */
import maxmind, { type Reader, type Response } from 'maxmind';
import type { Problem } from '../config/problem.js';

/** The autonomous system of an address, from an ASN database. */
export interface AsnLookup {
  lookup(ip: string): number | undefined;
}

const AS_TEXT = /^(?:AS)?(\d{1,10})$/i;

/** The ASN a record gives, or undefined. */
export function asnFromRecord(record: unknown): number | undefined {
  if (typeof record !== 'object' || record === null) return undefined;
  const r = record as { readonly autonomous_system_number?: unknown; readonly asn?: unknown };
  const v = r.autonomous_system_number ?? r.asn;
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? v : undefined;
  if (typeof v === 'string') {
    const m = AS_TEXT.exec(v.trim());
    return m ? Number(m[1]) : undefined;
  }
  return undefined;
}

/** Opens the database; an unreadable or invalid file is an error problem naming it. */
export async function openAsnDatabase(path: string): Promise<{ asn?: AsnLookup; problems: Problem[] }> {
  let reader: Reader<Response>;
  try {
    reader = await maxmind.open<Response>(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const message = err.code ? `cannot read the ASN database: ${err.message}` : `not a valid MaxMind DB (.mmdb) file: ${err.message}`;
    return { problems: [{ file: path, line: 0, severity: 'error', message }] };
  }
  const ipv6 = reader.metadata.ipVersion === 6;
  const asn: AsnLookup = {
    lookup(ip: string): number | undefined {
      // An IPv4-only tree walked with 128 bits gives nonsense.
      if (!ipv6 && ip.includes(':')) return undefined;
      try {
        return asnFromRecord(reader.get(ip));
      } catch {
        return undefined; // not an address, or a corrupt database
      }
    },
  };
  return { asn, problems: [] };
}
