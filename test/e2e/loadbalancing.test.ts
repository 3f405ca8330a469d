/**
 * End to end, load-balanced names: the real server with zones and `*.lb.yaml`, queried over
 * UDP and TCP. A second steerdns serves example.net and acts as the upstream resolver for
 * hostname origins outside our zones. Health is "all healthy" here (no monitors); pools are
 * taken out with `enabled: false`.
 */
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { flagsOf, query, type Transport } from '../helpers/client.js';
import { section } from '../helpers/format.js';
import { mulberry32 } from '../../src/lb/random.js';
import { startServerWith, type TestServer } from '../helpers/server.js';

const ZONES = fileURLToPath(new URL('../fixtures/lb-e2e/', import.meta.url));
const UPSTREAM = fileURLToPath(new URL('../fixtures/lb-upstream/', import.meta.url));
const SOA = 'example.com 300 SOA ns1.example.com hostmaster.example.com 1 7200 900 1209600 300';
/** A NODATA decided by a load balancer is cached no longer than its TTL (30). */
const STEERED_SOA = 'example.com 30 SOA ns1.example.com hostmaster.example.com 1 7200 900 1209600 300';

interface Case {
  name: string;
  q: [string, string];
  rcode?: string;
  answer?: string[];
  authority?: string[];
  additional?: string[];
}

const cases: Case[] = [
  { name: 'failover: all origins of the first pool when weights are equal, TTL 30', q: ['failover.example.com', 'A'],
    answer: ['failover.example.com 30 A 192.0.2.1', 'failover.example.com 30 A 192.0.2.2'] },
  { name: 'AAAA from the same pool', q: ['failover.example.com', 'AAAA'], answer: ['failover.example.com 30 AAAA 2001:db8::1'] },
  { name: 'no origin of the asked family: NODATA with SOA', q: ['ipv4-only.example.com', 'AAAA'], authority: [STEERED_SOA] },
  { name: 'a load balancer beats a static A at its name', q: ['clash.example.com', 'A'], answer: ['clash.example.com 30 A 198.51.100.1'] },
  { name: 'other types at a load-balanced name come from the zone file', q: ['clash.example.com', 'TXT'],
    answer: ['clash.example.com 3600 TXT "static text beside a load balancer"'] },
  { name: 'MX written at a load-balanced name comes from the zone file', q: ['clash.example.com', 'MX'],
    answer: ['clash.example.com 3600 MX 10 mx.example.net'] },
  { name: 'a disabled load balancer leaves the static records', q: ['off-static.example.com', 'A'], answer: ['off-static.example.com 3600 A 192.0.2.98'] },
  { name: 'a disabled load balancer without static records: NXDOMAIN', q: ['off-nothing.example.com', 'A'], rcode: 'NXDOMAIN', authority: [SOA] },
  { name: 'a wildcard load balancer answers names below it', q: ['anything.lbw.example.com', 'A'], answer: ['anything.lbw.example.com 30 A 198.51.100.1'] },
  { name: 'an exact static record beats a wildcard load balancer', q: ['static.lbw.example.com', 'A'], answer: ['static.lbw.example.com 3600 A 192.0.2.97'] },
  { name: 'every pool disabled: the fallback pool answers', q: ['fallback.example.com', 'A'], answer: ['fallback.example.com 30 A 203.0.113.1'] },
  { name: 'fallback disabled too: NODATA with SOA', q: ['nothing.example.com', 'A'], authority: [STEERED_SOA] },
  { name: 'a hostname origin in our zone is flattened from the zone data', q: ['flat.example.com', 'A'],
    answer: ['flat.example.com 30 A 192.0.2.80', 'flat.example.com 30 A 192.0.2.81'] },
  { name: 'a hostname origin elsewhere is flattened through the resolver', q: ['flat-external.example.com', 'A'], answer: ['flat-external.example.com 30 A 203.0.113.7'] },
  { name: 'flattened AAAA through the resolver', q: ['flat-external.example.com', 'AAAA'], answer: ['flat-external.example.com 30 AAAA 2001:db8:7::7'] },
  { name: 'flatten_cname: false answers a CNAME', q: ['cname.example.com', 'A'], answer: ['cname.example.com 30 CNAME app.example.net'] },
  { name: 'flatten_cname: false beside other records at the name is flattened (RFC 2181 §10.1)', q: ['cname-txt.example.com', 'A'],
    answer: ['cname-txt.example.com 30 A 203.0.113.7'] },
  { name: 'CNAME asked for at a CNAME load balancer', q: ['cname.example.com', 'CNAME'], answer: ['cname.example.com 30 CNAME app.example.net'] },
  { name: 'CNAME asked for at an address load balancer: NODATA', q: ['failover.example.com', 'CNAME'], authority: [STEERED_SOA] },
  { name: 'MX at a load-balanced name: one per hostname origin, preference from the pool position', q: ['smtp.example.com', 'MX'],
    answer: ['smtp.example.com 30 MX 10 mx1.example.net', 'smtp.example.com 30 MX 10 mx2.example.net'] },
  { name: 'SRV at a load-balanced name: port from the origin, weight from its weight', q: ['smtp.example.com', 'SRV'],
    answer: ['smtp.example.com 30 SRV 10 100 25 mx1.example.net', 'smtp.example.com 30 SRV 10 100 587 mx2.example.net'] },
  { name: 'SRV leaves out origins without a port', q: ['_sip._udp.lb.example.com', 'SRV'],
    answer: ['_sip._udp.lb.example.com 30 SRV 10 100 5060 sip1.example.net'] },
  { name: 'a static MX pointing at a load-balanced name gets steered addresses', q: ['example.com', 'MX'],
    answer: ['example.com 3600 MX 10 failover.example.com'],
    additional: ['failover.example.com 30 A 192.0.2.1', 'failover.example.com 30 A 192.0.2.2', 'failover.example.com 30 AAAA 2001:db8::1'] },
  { name: 'a static MX pointing into a wildcard load balancer gets steered addresses', q: ['mxw.example.com', 'MX'],
    answer: ['mxw.example.com 3600 MX 10 x.lbw.example.com'], additional: ['x.lbw.example.com 30 A 198.51.100.1'] },
  { name: 'a static SRV pointing at a load-balanced name gets steered addresses', q: ['_sip._udp.example.com', 'SRV'],
    answer: ['_sip._udp.example.com 3600 SRV 5 1 5060 failover.example.com'],
    additional: ['failover.example.com 30 A 192.0.2.1', 'failover.example.com 30 A 192.0.2.2', 'failover.example.com 30 AAAA 2001:db8::1'] },
  { name: 'ANY at a load-balanced name: one RRset', q: ['failover.example.com', 'ANY'],
    answer: ['failover.example.com 30 A 192.0.2.1', 'failover.example.com 30 A 192.0.2.2'] },
  { name: 'the parent of a load-balanced name is an empty non-terminal', q: ['deep.example.com', 'A'], authority: [SOA] },
  { name: 'other types at a load-balanced name without static data: NODATA', q: ['failover.example.com', 'TXT'], authority: [SOA] },
];

let upstream: TestServer;
let server: TestServer;
t.before(async () => {
  upstream = await startServerWith(UPSTREAM);
  // A seeded random source makes the weighted choices reproducible.
  server = await startServerWith(ZONES, { resolvers: [`127.0.0.1:${upstream.port}`], random: mulberry32(42) });
});
t.teardown(async () => {
  await server.close();
  await upstream.close();
});

t.test('the configuration loads without errors', async (t) => {
  t.same(server.loaded.problems.filter((p) => p.severity === 'error'), []);
  t.ok(server.loaded.problems.some((p) => p.severity === 'warning' && /clash\.example\.com\..*precedence/.test(p.message)), 'the clash is reported');
});

for (const transport of ['udp', 'tcp'] as Transport[]) {
  for (const c of cases) {
    t.test(`${transport}: ${c.name}`, async (t) => {
      const r = await query(server.port, transport, c.q[0], c.q[1]);
      t.equal(r.rcode, c.rcode ?? 'NOERROR', 'rcode');
      t.equal(flagsOf(r.raw).aa, true, 'AA');
      t.same(section(r.answers), [...(c.answer ?? [])].sort(), 'answer');
      t.same(section(r.authorities), [...(c.authority ?? [])].sort(), 'authority');
      t.same(section(r.additionals), [...(c.additional ?? [])].sort(), 'additional');
    });
  }
}

t.test('unequal weights: one origin per answer, in proportion to the weights', async (t) => {
  const seen = new Map<string, number>();
  for (let i = 0; i < 120; i++) {
    const r = await query(server.port, 'udp', 'weighted.example.com', 'A');
    t.equal(r.answers?.length, 1);
    const a = section(r.answers)[0];
    seen.set(a, (seen.get(a) ?? 0) + 1);
  }
  const heavy = seen.get('weighted.example.com 5 A 192.0.2.11') ?? 0;
  const light = seen.get('weighted.example.com 5 A 192.0.2.12') ?? 0;
  t.equal(heavy + light, 120, 'only the two origins, with the load balancer TTL');
  // Expected 100 : 20 (weights 1 : 0.2); with the fixed seed the draw is reproducible, and a
  // wrong weighting (equal, inverted or ignored) falls far outside this band.
  t.ok(heavy >= 85 && heavy <= 115 && light >= 5, `heavy ${heavy}, light ${light}`);
});
