/**
 * RRsets as presentation text (RFC 1035 §5.1 style lines), for explain output and status
 * pages. Common types are shown as dig shows them; others in RFC 3597 generic form.
 */
import { T, typeToText } from './types.js';
import type { Rdata } from '../zone/record.js';
import type { RRset } from '../zone/zone.js';

export function rrsetLines(rrset: RRset, ttl = rrset.ttl): string[] {
  const head = `${rrset.owner.toString()} ${ttl} IN ${typeToText(rrset.type)}`;
  return rrset.rdatas.map((r) => `${head} ${rdataText(rrset.type, r)}`);
}

export function rdataText(type: number, r: Rdata): string {
  const w = r.wire;
  const name = (i: number) => r.names[i].name.toString();
  switch (type) {
    case T.A:
      return [...w].join('.');
    case T.AAAA:
      return ipv6Text(w);
    case T.NS: case T.CNAME: case T.PTR:
      return name(0);
    case T.MX:
      return `${w.readUInt16BE(0)} ${name(0)}`;
    case T.SRV:
      return `${w.readUInt16BE(0)} ${w.readUInt16BE(2)} ${w.readUInt16BE(4)} ${name(0)}`;
    case T.SOA: {
      const t = w.subarray(w.length - 20);
      return `${name(0)} ${name(1)} ${[0, 4, 8, 12, 16].map((o) => t.readUInt32BE(o)).join(' ')}`;
    }
    case T.TXT: {
      const parts: string[] = [];
      for (let p = 0; p < w.length; p += 1 + w[p]) parts.push(JSON.stringify(w.subarray(p + 1, p + 1 + w[p]).toString('latin1')));
      return parts.join(' ');
    }
    default:
      return `\\# ${w.length}${w.length ? ' ' + w.toString('hex').toUpperCase() : ''}`;
  }
}

function ipv6Text(w: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(w.readUInt16BE(i).toString(16));
  // RFC 5952 §4.2: the longest run of two or more zero groups becomes "::".
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j === i ? i + 1 : j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}
