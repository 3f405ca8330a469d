/** Formats decoded records as one-line strings so tests can compare whole sections. */
import type dnsPacket from 'dns-packet';

// dns-packet's Answer union has per-type data shapes; tests only need a stable text form.
type Data = Record<string, unknown>;

function dataText(type: string, data: unknown): string {
  const d = data as Data;
  switch (type) {
    case 'MX': return `${d.preference} ${d.exchange}`;
    case 'SRV': return `${d.priority} ${d.weight} ${d.port} ${d.target}`;
    case 'SOA': return `${d.mname} ${d.rname} ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`;
    case 'TXT': return (data as Buffer[]).map((b) => JSON.stringify(b.toString())).join(' ');
    case 'DS': return `${d.keyTag} ${d.algorithm} ${d.digestType} ${(d.digest as Buffer).toString('hex').toUpperCase()}`;
    default: return Buffer.isBuffer(data) ? data.toString('hex') : String(data);
  }
}

export function rr(a: dnsPacket.Answer): string {
  if (a.type === 'OPT') return 'OPT';
  return `${a.name} ${a.ttl} ${a.type} ${dataText(a.type, (a as { data: unknown }).data)}`;
}

export function section(list: dnsPacket.Answer[] | undefined, withoutOpt = true): string[] {
  return (list ?? []).filter((a) => !withoutOpt || a.type !== 'OPT').map(rr).sort();
}
