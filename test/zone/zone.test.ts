/**
 * Zone validation (every error and warning of compileZone) and lookup result kinds.
 */
import t from 'tap';
import { Name } from '../../src/wire/name.js';
import { T } from '../../src/wire/types.js';
import { parseZone } from '../../src/zone/parser.js';
import { compileZone } from '../../src/zone/zone.js';

const apex = Name.fromText('example.com.');
const HEAD = `$TTL 300
@ SOA ns1 host 1 2 3 4 60
@ NS ns1
ns1 A 192.0.2.53
`;

function compile(body: string, head = HEAD) {
  const parsed = parseZone(head + body, { file: 'z.zone', origin: apex });
  t.same(parsed.problems.filter((p) => p.severity === 'error'), [], 'fixture parses');
  return compileZone(apex, parsed.records, 'z.zone');
}

const lineOf = (body: string, needle: string) => HEAD.split('\n').length - 1 + body.split('\n').findIndex((l) => l.includes(needle)) + 1;

t.test('a valid zone compiles without problems', async (t) => {
  const r = compile('www A 192.0.2.1\n');
  t.ok(r.zone);
  t.same(r.problems, []);
  t.equal(r.zone!.negativeTtl, 60, 'min(SOA TTL 300, MINIMUM 60)');
});

const errors: { name: string; head?: string; body: string; line: string | number; message: RegExp }[] = [
  { name: 'no SOA', head: '$TTL 300\n@ NS ns1\nns1 A 192.0.2.53\n', body: '', line: 0, message: /no SOA record at its apex/ },
  { name: 'second SOA', body: '@ SOA ns1 host 2 2 3 4 60\n', line: '@ SOA ns1 host 2', message: /second SOA record at the apex \(the first is on line 2\)/ },
  { name: 'SOA below the apex', body: 'sub SOA ns1 host 1 2 3 4 5\n', line: 'sub SOA', message: /SOA record for sub\.example\.com\. is not at the zone apex/ },
  { name: 'no NS at the apex', head: '$TTL 300\n@ SOA ns1 host 1 2 3 4 60\n', body: '', line: 2, message: /no NS records at its apex/ },
  { name: 'CNAME and other data', body: 'www CNAME there\nwww A 192.0.2.1\n', line: 'www A', message: /www\.example\.com\. has a CNAME \(line \d+\) and other data \(A\)/ },
  { name: 'two CNAMEs', body: 'www CNAME a\nwww CNAME b\n', line: 'www CNAME b', message: /second CNAME record for www\.example\.com\./ },
  { name: 'CNAME at the apex', body: '@ CNAME elsewhere.example.net.\n', line: '@ CNAME', message: /CNAME at the zone apex example\.com\./ },
  { name: 'NS target at another delegation without glue', body: 'www NS ns9.www\nns9.www A 192.0.2.9\nx NS www\n', line: 'x NS www', message: /NS target www\.example\.com\. is inside the zone but has no glue/ },
  { name: 'DNAME and CNAME at one name', body: 'old DNAME new.example.net.\nold CNAME x\n', line: 'old DNAME', message: /old\.example\.com\. has a CNAME \(line \d+\) and other data \(DNAME\)/ },
  { name: 'two DNAMEs', body: 'old DNAME a.example.net.\nold DNAME b.example.net.\n', line: 'old DNAME b', message: /second DNAME record for old\.example\.com\. \(the first is on line \d+\); a name has one DNAME at most/ },
  { name: 'data below a DNAME', body: 'old DNAME new.example.net.\nwww.old A 192.0.2.1\n', line: 'www.old', message: /www\.old\.example\.com\. is below the DNAME at old\.example\.com\. \(line \d+\); RFC 6672 §2\.3 allows no data below a DNAME/ },
  { name: 'data far below a DNAME', body: 'old DNAME new.example.net.\na.b.old TXT x\n', line: 'a.b.old', message: /a\.b\.old\.example\.com\. is below the DNAME at old\.example\.com\./ },
  { name: 'a delegation below a DNAME', body: 'old DNAME new.example.net.\nsub.old NS ns.example.net.\n', line: 'sub.old', message: /is below the DNAME at old\.example\.com\./ },
  { name: 'DNAME at a delegation point', body: 'dev NS ns.example.net.\ndev DNAME new.example.net.\n', line: 'dev DNAME', message: /dev\.example\.com\. has a DNAME and NS records: a delegation point cannot also be a DNAME/ },
  { name: 'delegation without glue', body: 'dev NS ns.dev\n', line: 'dev NS', message: /NS target ns\.dev\.example\.com\. is inside the zone but has no glue/ },
];

for (const c of errors) {
  t.test(`error: ${c.name}`, async (t) => {
    const r = compile(c.body, c.head);
    t.notOk(r.zone, 'the zone is not served');
    const e = r.problems.find((p) => p.severity === 'error' && c.message.test(p.message));
    t.ok(e, `an error matching ${c.message}: ${JSON.stringify(r.problems)}`);
    const line = typeof c.line === 'number' ? c.line : lineOf(c.body, c.line);
    t.equal(e?.line, line, 'line');
    t.equal(e?.file, 'z.zone');
  });
}

const warnings: { name: string; body: string; line: string | number; message: RegExp }[] = [
  { name: 'in-zone NS target without address', body: '@ NS ns2\n', line: 3, message: /NS target ns2\.example\.com\. is inside the zone but has no address records \(A or AAAA\); resolvers cannot reach/ },
  { name: 'out-of-zone record', body: 'www.example.net. A 192.0.2.1\n', line: 'example.net', message: /www\.example\.net\. is outside the zone example\.com\.; ignored/ },
  { name: 'TTL mismatch inside an RRset', body: 'www 300 A 192.0.2.1\nwww 600 A 192.0.2.2\n', line: 'www 600', message: /TTL 600 differs from 300 of the A RRset/ },
  { name: 'data below a delegation', body: 'dev NS ns.example.net.\nx.dev TXT "hidden"\n', line: 'x.dev', message: /TXT record for x\.dev\.example\.com\. is below the delegation/ },
  // RFC 9460 §2.4.2: SHOULD NOT, clients ignore them; BIND 9.18, NSD 4.6 and Knot 3.2 load such a record.
  { name: 'AliasMode with SvcParams', body: 'www HTTPS 0 cdn.example.net. alpn=h2\n', line: 'www HTTPS', message: /^HTTPS record for www\.example\.com\. is in AliasMode \(priority 0\) but has SvcParams; clients ignore them \(RFC 9460 §2\.4\.2\)$/ },
  { name: 'SVCB AliasMode with SvcParams, in RFC 3597 form', body: 'svc SVCB \\# 9 0000 00 0003 0002 01bb\n', line: 'svc SVCB', message: /^SVCB record for svc\.example\.com\. is in AliasMode/ },
  { name: 'DNAME at a wildcard', body: '*.w DNAME new.example.net.\n', line: '*.w', message: /^\*\.w\.example\.com\. is a DNAME at a wildcard \(RFC 6672 §3\.3: SHOULD NOT be used\)/ },
];

t.test('no AliasMode warning without SvcParams, nor for ServiceMode', async (t) => {
  const r = compile('a HTTPS 0 cdn.example.net.\nb HTTPS 1 . alpn=h2\nc SVCB 0 .\n');
  t.ok(r.zone);
  t.same(r.problems, []);
});

for (const c of warnings) {
  t.test(`warning: ${c.name}`, async (t) => {
    const r = compile(c.body);
    t.ok(r.zone, 'the zone is still served');
    const w = r.problems.find((p) => p.severity === 'warning' && c.message.test(p.message));
    t.ok(w, `a warning matching ${c.message}: ${JSON.stringify(r.problems)}`);
    t.equal(w?.line, typeof c.line === 'number' ? c.line : lineOf(c.body, c.line));
  });
}

t.test('duplicate records collapse into one', async (t) => {
  const r = compile('www A 192.0.2.1\nwww A 192.0.2.1\n');
  const res = r.zone!.lookup(Name.fromText('www.example.com.'), T.A);
  t.equal(res.kind, 'answer');
  t.equal(res.kind === 'answer' && res.rrset.rdatas.length, 1);
});

t.test('lookup result kinds', async (t) => {
  const z = compile(`www A 192.0.2.1
alias CNAME www
a.b A 192.0.2.2
*.w A 192.0.2.3
dev NS ns.example.net.
dev DS 1 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
`).zone!;
  const kind = (n: string, type: number) => z.lookup(Name.fromText(n), type).kind;
  t.equal(kind('www.example.com.', T.A), 'answer');
  t.equal(kind('WWW.EXAMPLE.COM.', T.A), 'answer', 'case-insensitive');
  t.equal(kind('www.example.com.', T.MX), 'nodata');
  t.equal(kind('alias.example.com.', T.A), 'cname');
  t.equal(kind('alias.example.com.', T.CNAME), 'answer');
  t.equal(kind('b.example.com.', T.A), 'nodata', 'empty non-terminal');
  t.equal(kind('c.example.com.', T.A), 'nxdomain');
  t.equal(kind('x.w.example.com.', T.A), 'answer', 'wildcard');
  t.equal(kind('x.dev.example.com.', T.A), 'referral');
  t.equal(kind('dev.example.com.', T.NS), 'referral');
  t.equal(kind('dev.example.com.', T.DS), 'answer', 'DS at the cut from the parent side');
  const wild = z.lookup(Name.fromText('x.y.w.example.com.'), T.A);
  t.equal(wild.kind === 'answer' && wild.rrset.owner.key, 'x.y.w.example.com.', 'synthesized owner is the query name');
  t.equal(wild.kind === 'answer' && wild.wildcard, true);
});
