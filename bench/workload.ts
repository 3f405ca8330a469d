/**
 * The benchmark's zone set and query files, generated into a scratch directory: one zone
 * (bench.test) with static names, load balancers for each steering scenario, and optionally
 * many more load balancers and static records to check that speed does not depend on size.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';

export const ZONE = 'bench.test';

export interface ZoneSetOptions {
  /** Extra load balancers (each with its own pool) beside the scenario ones. */
  readonly extraLoadBalancers: number;
  /** Extra static A records. */
  readonly extraRecords: number;
}

/** Writes the zone file and its `.lb.yaml` into `dir`. */
export function writeZones(dir: string, opts: ZoneSetOptions): void {
  mkdirSync(dir, { recursive: true });
  const zone = [
    `$ORIGIN ${ZONE}.`,
    '$TTL 3600',
    '@ SOA ns1 hostmaster 1 7200 900 1209600 300',
    '@ NS ns1',
    '@ NS ns2',
    'ns1 A 192.0.2.53',
    'ns2 A 198.51.100.53',
    'www A 192.0.2.80',
  ];
  for (let i = 0; i < opts.extraRecords; i++) zone.push(`r${i} A ${addressOf(i)}`);
  writeFileSync(join(dir, `${ZONE}.zone`), zone.join('\n') + '\n');

  const lb = [
    'pools:',
    '  - { name: us, latitude: 39.0, longitude: -77.5, origins: [{ name: us-a, address: 192.0.2.10 }, { name: us-b, address: 192.0.2.11 }] }',
    '  - { name: eu, latitude: 50.1, longitude: 8.7, origins: [{ name: eu-a, address: 198.51.100.10 }, { name: eu-b, address: 198.51.100.11, weight: 0.5 }] }',
    '  - { name: ap, latitude: 35.7, longitude: 139.7, origins: [{ name: ap-a, address: 203.0.113.10 }, { name: ap-b, address: 203.0.113.11, weight: 0.5 }] }',
  ];
  for (let i = 0; i < opts.extraLoadBalancers; i++) lb.push(`  - { name: p${i}, origins: [{ name: o${i}, address: ${addressOf(i)} }] }`);
  lb.push(
    'load_balancers:',
    '  - { name: off, steering_policy: "off", default_pools: [us, eu], fallback_pool: eu }',
    '  - name: geo',
    '    steering_policy: geo',
    '    default_pools: [us, eu]',
    '    fallback_pool: eu',
    '    region_pools: { WEU: [eu, us], EEU: [eu, us], SEAS: [ap, us], NEAS: [ap, us], OC: [ap, us] }',
    '    country_pools: { JP: [ap, us], GB: [eu, us] }',
    '    location_strategy: { prefer_ecs: always, mode: resolver_ip }',
    '  - name: sticky',
    '    steering_policy: random',
    '    default_pools: [us, eu, ap]',
    '    fallback_pool: us',
    '    persistence: { ttl: 3600, key: ecs, mask_v4: 24, mask_v6: 56 }',
  );
  for (let i = 0; i < opts.extraLoadBalancers; i++) lb.push(`  - { name: lb${i}, default_pools: [p${i}], fallback_pool: p${i} }`);
  writeFileSync(join(dir, `${ZONE}.lb.yaml`), lb.join('\n') + '\n');
}

/** A documentation-free, well-spread address for the i-th generated record. */
function addressOf(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

/** A query as dnsperf sends it from a binary (-B) file. */
export interface WireQuery {
  readonly name: string;
  readonly type: 'A' | 'AAAA';
  /** An EDNS Client Subnet (RFC 7871) to send, as "address/prefix". */
  readonly ecs?: string;
}

/** Encodes queries in dnsperf's binary input format: each message after a 2-byte length. */
export function binaryQueries(queries: readonly WireQuery[]): Buffer {
  const parts: Buffer[] = [];
  for (const q of queries) {
    // Every query carries EDNS (RFC 6891) as resolvers' queries do; some an ECS option too.
    const options: dnsPacket.PacketOpt[] = [];
    if (q.ecs) {
      const [ip, prefix] = q.ecs.split('/');
      options.push({ code: 8, family: 1, sourcePrefixLength: Number(prefix), scopePrefixLength: 0, ip });
    }
    const additionals = [{ type: 'OPT', name: '.', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options } satisfies dnsPacket.Answer];
    const msg = dnsPacket.encode({ type: 'query', id: 0, flags: 0, questions: [{ name: q.name, type: q.type, class: 'IN' }], additionals });
    const len = Buffer.alloc(2);
    len.writeUInt16BE(msg.length);
    parts.push(len, msg);
  }
  return Buffer.concat(parts);
}

/** `count` distinct public-looking IPv4 /24 subnets from a fixed seed (same file every run). */
export function subnets(count: number, seed = 0x5eed): string[] {
  const seen = new Set<number>();
  const out: string[] = [];
  let x = seed >>> 0;
  while (out.length < count) {
    x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0; // xorshift-multiply step
    const net = x >>> 8; // a /24
    const first = net >>> 16;
    if (first === 0 || first === 10 || first === 127 || first >= 224 || seen.has(net)) continue;
    seen.add(net);
    out.push(`${first}.${(net >>> 8) & 255}.${net & 255}.0/24`);
  }
  return out;
}
