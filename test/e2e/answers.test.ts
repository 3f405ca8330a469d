/**
 * End to end, table-driven: the real server on an ephemeral loopback port, queried over UDP
 * and TCP, checking rcode, flags and all three sections (RFC 1034 §4.3.2, RFC 2308, RFC 4592).
 */
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { flagsOf, query, type Transport } from '../helpers/client.js';
import { section } from '../helpers/format.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const ZONES = fileURLToPath(new URL('../fixtures/e2e/', import.meta.url));
const SOA = 'example.com 300 SOA ns1.example.com hostmaster.example.com 2026112401 7200 900 1209600 300';
const CHILD_SOA_NEG = 'child.example.com 60 SOA ns1.example.com hostmaster.example.com 7 3600 600 86400 60';

interface Case {
  name: string;
  q: [string, string];
  rcode: string;
  aa: boolean;
  answer?: string[];
  authority?: string[];
  additional?: string[];
}

const cases: Case[] = [
  { name: 'SOA at the apex', q: ['example.com', 'SOA'], rcode: 'NOERROR', aa: true,
    answer: ['example.com 3600 SOA ns1.example.com hostmaster.example.com 2026112401 7200 900 1209600 300'] },
  { name: 'A RRset with its own TTL', q: ['www.example.com', 'A'], rcode: 'NOERROR', aa: true,
    answer: ['www.example.com 300 A 192.0.2.80', 'www.example.com 300 A 192.0.2.81'] },
  { name: 'NXDOMAIN carries the SOA with the negative TTL', q: ['nope.example.com', 'A'], rcode: 'NXDOMAIN', aa: true,
    authority: [SOA] },
  { name: 'NODATA carries the SOA', q: ['www.example.com', 'MX'], rcode: 'NOERROR', aa: true, authority: [SOA] },
  { name: 'empty non-terminal is NODATA, not NXDOMAIN', q: ['b.example.com', 'A'], rcode: 'NOERROR', aa: true, authority: [SOA] },
  { name: 'CNAME chain inside the zone is followed', q: ['alias.example.com', 'A'], rcode: 'NOERROR', aa: true,
    answer: ['alias.example.com 3600 CNAME alias2.example.com', 'alias2.example.com 3600 CNAME www.example.com',
      'www.example.com 300 A 192.0.2.80', 'www.example.com 300 A 192.0.2.81'] },
  { name: 'CNAME leaving our zones stops there', q: ['shop.example.com', 'A'], rcode: 'NOERROR', aa: true,
    answer: ['shop.example.com 3600 CNAME shops.example.net'] },
  { name: 'CNAME to a missing name is NXDOMAIN (RFC 6604)', q: ['dangling.example.com', 'A'], rcode: 'NXDOMAIN', aa: true,
    answer: ['dangling.example.com 3600 CNAME nowhere.example.com'], authority: [SOA] },
  { name: 'CNAME loop stops without repeating', q: ['loop1.example.com', 'A'], rcode: 'NOERROR', aa: true,
    answer: ['loop1.example.com 3600 CNAME loop2.example.com', 'loop2.example.com 3600 CNAME loop1.example.com'] },
  { name: 'CNAME asked for directly', q: ['alias.example.com', 'CNAME'], rcode: 'NOERROR', aa: true,
    answer: ['alias.example.com 3600 CNAME alias2.example.com'] },
  { name: 'CNAME to a wildcard-synthesized name', q: ['towild.example.com', 'A'], rcode: 'NOERROR', aa: true,
    answer: ['towild.example.com 3600 CNAME foo.apps.example.com', 'foo.apps.example.com 3600 A 192.0.2.100'] },
  { name: 'referral below a cut: NS in authority, glue, AA clear', q: ['host.dev.example.com', 'A'], rcode: 'NOERROR', aa: false,
    authority: ['dev.example.com 3600 NS ns.example.net', 'dev.example.com 3600 NS ns1.dev.example.com'],
    additional: ['ns1.dev.example.com 3600 A 203.0.113.53'] },
  { name: 'NS at the cut is a referral', q: ['dev.example.com', 'NS'], rcode: 'NOERROR', aa: false,
    authority: ['dev.example.com 3600 NS ns.example.net', 'dev.example.com 3600 NS ns1.dev.example.com'],
    additional: ['ns1.dev.example.com 3600 A 203.0.113.53'] },
  { name: 'DS at the cut is answered by the parent', q: ['dev.example.com', 'DS'], rcode: 'NOERROR', aa: true,
    answer: ['dev.example.com 3600 DS 12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF'] },
  { name: 'child zone served here answers for itself', q: ['www.child.example.com', 'A'], rcode: 'NOERROR', aa: true,
    answer: ['www.child.example.com 600 A 198.51.100.7'] },
  { name: 'child zone NXDOMAIN uses the child SOA', q: ['nope.child.example.com', 'A'], rcode: 'NXDOMAIN', aa: true,
    authority: [CHILD_SOA_NEG] },
  { name: 'DS at a child apex served here comes from the parent', q: ['child.example.com', 'DS'], rcode: 'NOERROR', aa: true,
    answer: ['child.example.com 3600 DS 54321 13 2 FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210'] },
  { name: 'wildcard synthesizes with the query name as owner', q: ['foo.apps.example.com', 'A'], rcode: 'NOERROR', aa: true,
    answer: ['foo.apps.example.com 3600 A 192.0.2.100'] },
  { name: 'wildcard matches several labels below the closest encloser', q: ['x.y.apps.example.com', 'A'], rcode: 'NOERROR', aa: true,
    answer: ['x.y.apps.example.com 3600 A 192.0.2.100'] },
  { name: 'wildcard NODATA for a type it lacks', q: ['foo.apps.example.com', 'MX'], rcode: 'NOERROR', aa: true, authority: [SOA] },
  { name: 'an existing name is not covered by the wildcard', q: ['api.apps.example.com', 'A'], rcode: 'NOERROR', aa: true,
    answer: ['api.apps.example.com 3600 A 192.0.2.101'] },
  { name: 'an existing empty non-terminal blocks the wildcard (RFC 4592 §2.2.2)', q: ['sub.apps.example.com', 'A'], rcode: 'NOERROR', aa: true,
    authority: [SOA] },
  { name: 'closest encloser below the wildcard: NXDOMAIN', q: ['x.sub.apps.example.com', 'A'], rcode: 'NXDOMAIN', aa: true,
    authority: [SOA] },
  { name: 'wildcard CNAME is followed', q: ['img.cdn.example.com', 'A'], rcode: 'NOERROR', aa: true,
    answer: ['img.cdn.example.com 3600 CNAME www.example.com', 'www.example.com 300 A 192.0.2.80', 'www.example.com 300 A 192.0.2.81'] },
  { name: 'MX gets addresses of in-zone exchanges only', q: ['example.com', 'MX'], rcode: 'NOERROR', aa: true,
    answer: ['example.com 3600 MX 10 mail.example.com', 'example.com 3600 MX 20 mx.example.net'],
    additional: ['mail.example.com 3600 A 192.0.2.25'] },
  { name: 'SRV gets the target address', q: ['_sip._tcp.example.com', 'SRV'], rcode: 'NOERROR', aa: true,
    answer: ['_sip._tcp.example.com 3600 SRV 10 60 5060 sip.example.com'], additional: ['sip.example.com 3600 A 192.0.2.60'] },
  { name: 'NS at the apex gets addresses of in-zone servers', q: ['example.com', 'NS'], rcode: 'NOERROR', aa: true,
    answer: ['example.com 3600 NS ns1.example.com', 'example.com 3600 NS ns2.example.net'],
    additional: ['ns1.example.com 3600 A 192.0.2.53', 'ns1.example.com 3600 AAAA 2001:db8::53'] },
  { name: 'ANY answers one RRset (RFC 8482)', q: ['www.example.com', 'ANY'], rcode: 'NOERROR', aa: true,
    answer: ['www.example.com 300 A 192.0.2.80', 'www.example.com 300 A 192.0.2.81'] },
  { name: 'ANY at an alias answers the CNAME without following it (RFC 1034 §4.3.2 3a)', q: ['dangling.example.com', 'ANY'], rcode: 'NOERROR', aa: true,
    answer: ['dangling.example.com 3600 CNAME nowhere.example.com'] },
  { name: 'a wildcard delegation refers every name it covers (RFC 4592 §4.2)', q: ['foo.wns.example.com', 'A'], rcode: 'NOERROR', aa: false,
    authority: ['*.wns.example.com 3600 NS ns.example.net'] },
  { name: 'a name outside our zones is REFUSED', q: ['www.example.org', 'A'], rcode: 'REFUSED', aa: false },
  { name: 'a zone with errors is not served', q: ['broken.example', 'SOA'], rcode: 'REFUSED', aa: false },
  { name: 'zone transfers are refused', q: ['example.com', 'AXFR'], rcode: 'REFUSED', aa: false },
];

let server: TestServer;
t.before(async () => {
  server = await startTestServer(ZONES);
});
t.teardown(() => server.close());

t.test('the broken zone is reported with file and line', async (t) => {
  const p = server.loaded.problems.find((p) => p.file.endsWith('broken.example.zone') && p.severity === 'error');
  t.ok(p, 'an error for broken.example.zone');
  t.equal(p?.line, 4);
  t.match(p?.message, /192\.0\.2\.300/);
});

for (const transport of ['udp', 'tcp'] as Transport[]) {
  for (const c of cases) {
    t.test(`${transport}: ${c.name}`, async (t) => {
      const r = await query(server.port, transport, c.q[0], c.q[1], { flags: 0x0100 });
      const f = flagsOf(r.raw);
      t.equal(r.rcode, c.rcode, 'rcode');
      t.equal(f.aa, c.aa, 'AA');
      t.equal(f.qr, true, 'QR');
      t.equal(f.tc, false, 'TC');
      t.equal(f.ra, false, 'RA never set');
      t.equal(f.rd, true, 'RD copied');
      t.same(r.questions, [{ name: c.q[0], type: c.q[1], class: 'IN' }], 'question echoed');
      t.same(section(r.answers), [...(c.answer ?? [])].sort(), 'answer');
      t.same(section(r.authorities), [...(c.authority ?? [])].sort(), 'authority');
      t.same(section(r.additionals), [...(c.additional ?? [])].sort(), 'additional');
    });
  }
}
