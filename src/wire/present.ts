/**
 * RRsets as presentation text (RFC 1035 §5.1 style lines), for explain output and status
 * pages. Common types are shown as dig shows them; others in RFC 3597 generic form.
 */
import { ipv6OctetsText } from './ip.js';
import { T, typeToText } from './types.js';
import type { Rdata } from './record.js';
import type { RRset } from './record.js';

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
      return ipv6OctetsText(w);
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
