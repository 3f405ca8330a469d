/**
 * Differential test: steerdns and Knot DNS (knotd, the reference authoritative server) load the
 * same zones and get byte-identical questions over UDP and TCP, with and without EDNS/DO.
 * Their answers must agree on header flags, rcode, question, and the answer, authority and
 * additional sections (as sorted record strings). The few places where two correct
 * authoritative servers may legitimately differ are normalized below, one comment each.
 * Skipped when knotd is not installed.
 */
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import dnsPacket from 'dns-packet';
import { buildQuery, sendTcp, sendUdp, type QueryOptions, type Transport } from '../helpers/client.js';
import { rr } from '../helpers/format.js';
import { knotdPath, startKnot, type ReferenceServer } from '../helpers/reference.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const E2E = fileURLToPath(new URL('../fixtures/e2e/', import.meta.url));
// broken.example.zone is deliberately not served by either side.
const ZONES = ['example.com', 'child.example.com'];

const RD = 0x0100;
const CD = 0x0010;

interface Variant {
  label: string;
  transport: Transport;
  opts: QueryOptions;
}

const EDNS_VARIANTS: Variant[] = (['udp', 'tcp'] as Transport[]).flatMap((transport) => [
  { label: `${transport} plain+rd`, transport, opts: { flags: RD } },
  { label: `${transport} edns`, transport, opts: { edns: { udpSize: 1232 } } },
  { label: `${transport} edns+do`, transport, opts: { flags: RD, edns: { udpSize: 4096, do: true } } },
]);

interface Case {
  q: [string, string];
  /** Defaults to all of EDNS_VARIANTS. */
  variants?: Variant[];
}

const c = (name: string, type: string, variants?: Variant[]): Case => ({ q: [name, type], variants });
const udp = (label: string, opts: QueryOptions): Variant[] => [{ label: `udp ${label}`, transport: 'udp', opts }];
const tcp = (label: string, opts: QueryOptions): Variant[] => [{ label: `tcp ${label}`, transport: 'tcp', opts }];

const cases: Case[] = [
  // test/e2e/answers.test.ts, every case for zones both servers serve
  c('example.com', 'SOA'),
  c('www.example.com', 'A'),
  c('nope.example.com', 'A'),
  c('www.example.com', 'MX'),
  c('b.example.com', 'A'),
  c('alias.example.com', 'A'),
  c('shop.example.com', 'A'),
  c('dangling.example.com', 'A'),
  c('loop1.example.com', 'A'),
  c('alias.example.com', 'CNAME'),
  c('towild.example.com', 'A'),
  c('host.dev.example.com', 'A'),
  c('dev.example.com', 'NS'),
  c('dev.example.com', 'DS'),
  c('www.child.example.com', 'A'),
  c('nope.child.example.com', 'A'),
  c('child.example.com', 'DS'),
  c('foo.apps.example.com', 'A'),
  c('x.y.apps.example.com', 'A'),
  c('foo.apps.example.com', 'MX'),
  c('api.apps.example.com', 'A'),
  c('sub.apps.example.com', 'A'),
  c('x.sub.apps.example.com', 'A'),
  c('img.cdn.example.com', 'A'),
  c('example.com', 'MX'),
  c('_sip._tcp.example.com', 'SRV'),
  c('example.com', 'NS'),
  c('www.example.com', 'ANY'),
  c('www.example.org', 'A'),

  // positive answers
  c('example.com', 'A'),
  c('www.example.com', 'AAAA'),
  c('ns1.example.com', 'AAAA'),
  c('mail.example.com', 'A'),
  c('a.b.example.com', 'A'),
  c('many.example.com', 'A'),
  c('big.example.com', 'TXT', [...udp('edns', { edns: { udpSize: 1232 } }), ...tcp('plain', {})]),

  // NXDOMAIN / NODATA / empty non-terminals
  c('nope.example.com', 'AAAA'),
  c('x.a.b.example.com', 'A'),
  c('example.com', 'AAAA'),
  c('example.com', 'TXT'),
  c('example.com', 'DNSKEY'),
  c('example.com', 'DS'), // apex of a zone whose parent we don't serve: NODATA from the zone itself
  c('www.example.com', 'TXT'),
  c('b.example.com', 'ANY'),
  c('_tcp.example.com', 'SRV'),
  c('apps.example.com', 'A'),
  c('cdn.example.com', 'A'),
  c('mail.example.com', 'MX'),

  // CNAME corners
  c('alias.example.com', 'AAAA'),
  c('alias.example.com', 'MX'),
  c('alias.example.com', 'ANY'),
  c('dangling.example.com', 'ANY'),
  c('foo.cdn.example.com', 'ANY'),
  c('dangling.example.com', 'CNAME'),
  c('loop2.example.com', 'AAAA'),
  c('towild.example.com', 'MX'),

  // wildcard corners (RFC 4592)
  c('*.apps.example.com', 'A'),
  c('*.apps.example.com', 'MX'),
  c('x.*.apps.example.com', 'A'),
  c('foo.apps.example.com', 'AAAA'),
  c('foo.apps.example.com', 'ANY'),
  c('a.sub.apps.example.com', 'A'),
  c('a.sub.apps.example.com', 'AAAA'),
  c('foo.cdn.example.com', 'CNAME'),
  c('foo.cdn.example.com', 'MX'),
  c('x.y.cdn.example.com', 'AAAA'),

  // referrals and DS at cuts
  c('dev.example.com', 'A'),
  c('dev.example.com', 'SOA'),
  c('dev.example.com', 'ANY'),
  c('ns1.dev.example.com', 'A'),
  c('x.y.dev.example.com', 'MX'),
  c('host.dev.example.com', 'DS'),

  // a child zone served by both
  c('child.example.com', 'SOA'),
  c('child.example.com', 'NS'),
  c('child.example.com', 'A'),
  c('child.example.com', 'ANY'),
  c('www.child.example.com', 'DS'),
  c('www.child.example.com', 'MX'),
  c('a.www.child.example.com', 'A'),

  // mixed case: matching ignores case, the question is echoed as sent
  c('WwW.ExAmPlE.CoM', 'A'),
  c('EXAMPLE.COM', 'SOA'),
  c('NoPe.Example.Com', 'A'),
  c('FOO.Apps.Example.COM', 'A'),
  c('Alias.EXAMPLE.com', 'A'),
  c('Host.DEV.example.com', 'A'),
  c('CHILD.Example.Com', 'DS'),
  c('Www.Child.Example.Com', 'A'),
  c('www.EXAMPLE.org', 'A'),

  // outside our zones: REFUSED
  c('example.org', 'SOA'),
  c('example.net', 'SOA'),
  c('com', 'SOA'),
  c('.', 'SOA'),
  c('xexample.com', 'A'),
  c('example.com.example.net', 'A'),
  c('shops.example.net', 'A'),

  // header and EDNS corners
  c('www.example.com', 'A', [...udp('rd+cd', { flags: RD | CD }), ...tcp('rd+cd', { flags: RD | CD })]),
  c('www.example.com', 'A', udp('edns udp 512', { edns: { udpSize: 512 } })),
  c('www.example.com', 'A', udp('edns version 1 (BADVERS)', { edns: { version: 1 } })),
  c('nope.example.com', 'A', udp('edns version 1 (BADVERS)', { edns: { version: 1, do: true } })),
  c('example.com', 'SOA', [...udp('class CH', { qclass: 'CH' }), ...udp('class ANY', { qclass: 'ANY' })]),
  c('example.com', 'SOA', [...udp('opcode IQUERY', { flags: 1 << 11 }), ...udp('opcode STATUS', { flags: 2 << 11 }), ...tcp('opcode STATUS', { flags: 2 << 11 })]),
  // truncation (RFC 1035 §4.2.1, RFC 6891 §7): 8 TXT strings of 100 bytes do not fit in 512
  c('big.example.com', 'TXT', [
    ...udp('plain (truncated)', {}),
    ...udp('plain+rd (truncated)', { flags: RD }),
    ...udp('edns 512 (truncated)', { edns: { udpSize: 512 } }),
    ...udp('edns 100 (truncated)', { edns: { udpSize: 100, do: true } }),
  ]),
  c('BIG.example.com', 'TXT', udp('plain (truncated)', {})),
];

/** A record string with every domain name in it (owner and rdata names) lowercased. */
function rec(a: dnsPacket.Answer): string {
  // Name case: names compare case-insensitively (RFC 4343), and both servers compress names
  // against the question as spelled, so the query's case leaks into owners and rdata names
  // (knotd: "Alias.EXAMPLE.com CNAME alias2.EXAMPLE.com") at places that differ between them.
  // Only domain-name fields are lowercased; other rdata (TXT, addresses, digests) is compared as is.
  const lc = (n: unknown) => String(n).toLowerCase();
  const d = (a as { data?: unknown }).data as Record<string, unknown> | string | undefined;
  let data: unknown = d;
  switch (a.type) {
    case 'NS': case 'CNAME': case 'PTR': case 'DNAME': data = lc(d); break;
    case 'MX': data = { ...(d as object), exchange: lc((d as Record<string, unknown>).exchange) }; break;
    case 'SRV': data = { ...(d as object), target: lc((d as Record<string, unknown>).target) }; break;
    case 'SOA': data = { ...(d as object), mname: lc((d as Record<string, unknown>).mname), rname: lc((d as Record<string, unknown>).rname) }; break;
  }
  return rr({ ...a, name: a.name.toLowerCase(), data } as dnsPacket.Answer);
}

interface OptView {
  version: number;
  do: boolean;
  extendedRcode: number;
  options: number[];
}

interface View {
  id: number;
  flags: string;
  rcode: number;
  question: string[];
  answer: string[];
  authority: string[];
  additional: string[];
  opt: OptView | null;
  size: number;
}

function flagText(word: number): string {
  const names: [number, string][] = [[0x8000, 'qr'], [0x0400, 'aa'], [0x0200, 'tc'], [0x0100, 'rd'], [0x0080, 'ra'], [0x0040, 'z'], [0x0020, 'ad'], [0x0010, 'cd']];
  const bits = names.filter(([b]) => word & b).map(([, n]) => n);
  return `opcode=${(word >> 11) & 0xf} ${bits.join(' ')}`.trim();
}

function view(raw: Buffer): View {
  const p = dnsPacket.decode(raw);
  // CD is left out of the compared flags: RFC 4035 §3.1.6 says to copy it from the query, which
  // knotd 3.2 does not do; each test checks steerdns's CD against the query instead.
  const word = raw.readUInt16BE(2) & ~CD;
  const optRec = (p.additionals ?? []).find((a) => a.type === 'OPT') as unknown as
    | { udpPayloadSize: number; extendedRcode: number; ednsVersion: number; flags: number; options?: { code: number }[] }
    | undefined;
  return {
    id: raw.readUInt16BE(0),
    flags: flagText(word),
    // The full rcode: 4 header bits plus the 8 OPT bits (RFC 6891 §6.1.3).
    rcode: (word & 0xf) | ((optRec?.extendedRcode ?? 0) << 4),
    question: (p.questions ?? []).map((q) => `${q.name} ${q.class} ${q.type}`),
    answer: (p.answers ?? []).map(rec).sort(),
    authority: (p.authorities ?? []).map(rec).sort(),
    additional: (p.additionals ?? []).filter((a) => a.type !== 'OPT').map(rec).sort(),
    opt: optRec
      ? {
          // udpPayloadSize is not compared: each server advertises its own limit (RFC 6891 §6.2.3).
          version: optRec.ednsVersion,
          do: (optRec.flags & 0x8000) !== 0,
          extendedRcode: optRec.extendedRcode,
          // Extended DNS Errors (code 15, RFC 8914) are optional diagnostics; Knot adds
          // "20 Not Authoritative" to REFUSED. Other options must match.
          options: (optRec.options ?? []).map((o) => o.code).filter((code) => code !== 15).sort((a, b) => a - b),
        }
      : null,
    size: raw.length,
  };
}

async function ask(port: number, transport: Transport, msg: Buffer): Promise<Buffer> {
  const raw = transport === 'udp' ? await sendUdp(port, msg, '127.0.0.1', 2000) : (await sendTcp(port, [msg], 1, '127.0.0.1', 3000))[0];
  if (!raw) throw new Error(`no ${transport} answer from port ${port}`);
  return raw;
}

/** "name type" RRset keys of a record-string list (owner already lowercased). */
function rrsetKeys(list: string[]): string[] {
  return [...new Set(list.map((s) => s.split(' ').slice(0, 3).filter((_, i) => i !== 1).join(' ')))].sort();
}

const knotd = knotdPath();

t.test('steerdns answers like Knot DNS for the same zones', { skip: knotd ? false : 'knotd not installed' }, async (t) => {
  const zonesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'steerdns-ref-zones-'));
  t.teardown(() => fs.rmSync(zonesDir, { recursive: true, force: true }));
  for (const z of ZONES) fs.copyFileSync(path.join(E2E, `${z}.zone`), path.join(zonesDir, `${z}.zone`));

  const ref: ReferenceServer = await startKnot(ZONES.map((origin) => ({ origin, file: path.join(zonesDir, `${origin}.zone`) })), { knotd });
  t.teardown(() => ref.close());
  const steer: TestServer = await startTestServer(zonesDir);
  t.teardown(() => steer.close());
  t.equal(steer.loaded.problems.filter((p) => p.severity === 'error').length, 0, 'steerdns loads the fixture zones cleanly');
  t.comment(`reference: ${ref.command} (127.0.0.1 port ${ref.port}); steerdns on port ${steer.port}`);

  // Ask everything first, a few questions in flight at a time, then compare case by case.
  let compared = 0;
  let id = 0x1000;
  const exchanges = cases.flatMap((kase) =>
    (kase.variants ?? EDNS_VARIANTS).map((v) => ({
      kase,
      v,
      // The same bytes go to both servers.
      msg: buildQuery(kase.q[0], kase.q[1], { ...v.opts, id: ++id }),
      result: undefined as Promise<[Buffer, Buffer]> | undefined,
    })),
  );
  const IN_FLIGHT = 16;
  for (let i = 0; i < exchanges.length; i += IN_FLIGHT) {
    const batch = exchanges.slice(i, i + IN_FLIGHT);
    for (const e of batch) {
      e.result = Promise.all([ask(steer.port, e.v.transport, e.msg), ask(ref.port, e.v.transport, e.msg)]);
      e.result.catch(() => undefined); // reported by the subtest below
    }
    await Promise.allSettled(batch.map((e) => e.result));
  }

  for (const { kase, v, msg, result } of exchanges) {
    const [name, type] = kase.q;
    await t.test(`${v.label}: ${name} ${type}`, async (t) => {
      const [sRaw, rRaw] = await result!;
      compared++;
      const s = view(sRaw);
      const r = view(rRaw);
      const ctx = `\n  query: ${v.label} ${name} ${type}\n  steerdns: ${JSON.stringify(s)}\n  knotd:    ${JSON.stringify(r)}`;

      t.equal(s.id, msg.readUInt16BE(0), 'steerdns echoes the ID');
      t.equal(r.id, msg.readUInt16BE(0), 'knotd echoes the ID');
      t.equal(s.flags, r.flags, `header flags${ctx}`);
      t.equal((sRaw.readUInt16BE(2) & CD) !== 0, ((v.opts.flags ?? 0) & CD) !== 0, 'steerdns copies CD from the query (RFC 4035 §3.1.6)');
      t.equal(s.rcode, r.rcode, `rcode${ctx}`);
      t.same(s.question, r.question, 'question');
      t.same(s.opt, r.opt, `OPT presence, version, DO, options${ctx}`);
      if (v.transport === 'udp') {
        const limit = v.opts.edns ? Math.max(512, v.opts.edns.udpSize ?? 512) : 512;
        t.ok(s.size <= limit, `steerdns UDP answer ${s.size} <= ${limit} bytes`);
      }

      let want = r;
      if (type === 'ANY' && s.answer.length > 0 && JSON.stringify(s.answer) !== JSON.stringify(r.answer)) {
        // RFC 8482 §4.1: an ANY answer may be any one (or more) non-empty RRset at the name,
        // so both need not pick the same one. What steerdns returned must then be exactly
        // what Knot answers when asked for that type, complete with its additional records.
        t.comment(`ANY: steerdns chose ${rrsetKeys(s.answer).join(', ')}; knotd chose ${rrsetKeys(r.answer).join(', ')}`);
        t.equal(rrsetKeys(s.answer).length, 1, `steerdns returns one RRset for ANY${ctx}`);
        t.ok(r.answer.length > 0, 'knotd also gives a non-empty ANY answer');
        const [owner, , rtype] = s.answer[0].split(' ');
        want = view(await ask(ref.port, v.transport, buildQuery(owner, rtype, { ...v.opts, id: ++id })));
      }
      t.same(s.answer, want.answer, `answer${ctx}`);
      t.same(s.authority, want.authority, `authority${ctx}`);
      t.same(s.additional, want.additional, `additional${ctx}`);
    });
  }

  // Zone transfers: steerdns does not do them; both must refuse one without leaking data.
  // The rcode is not compared: a denied transfer is REFUSED in steerdns, while knotd answers
  // NOTIMP over UDP (AXFR over UDP is undefined, RFC 5936 §4.2) and NOTAUTH over TCP (its ACL
  // denial); all three are refusals. Everything else in the header must match.
  const REFUSALS = [4 /* NOTIMP */, 5 /* REFUSED */, 9 /* NOTAUTH */];
  for (const transport of ['udp', 'tcp'] as Transport[]) {
    await t.test(`${transport}: example.com AXFR is refused by both`, async (t) => {
      const msg = buildQuery('example.com', 'AXFR', { id: ++id });
      const [sRaw, rRaw] = await Promise.all([ask(steer.port, transport, msg), ask(ref.port, transport, msg)]);
      compared++;
      const s = view(sRaw);
      const r = view(rRaw);
      const ctx = `\n  steerdns: ${JSON.stringify(s)}\n  knotd:    ${JSON.stringify(r)}`;
      t.same(s.answer, [], 'steerdns sends no records');
      t.same(r.answer, [], 'knotd sends no records');
      t.ok(REFUSALS.includes(s.rcode), `steerdns refuses (rcode ${s.rcode})${ctx}`);
      t.ok(REFUSALS.includes(r.rcode), `knotd refuses (rcode ${r.rcode})`);
      t.equal(s.flags, r.flags, `header flags${ctx}`);
      t.same(s.question, r.question, 'question');
    });
  }

  t.comment(`${compared} questions compared (each sent to both servers)`);
});
