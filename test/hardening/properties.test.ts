/**
 * Property-based tests (fast-check: generated inputs, shrunk to a minimal counterexample on
 * failure) for the two places that read untrusted input: zone files and query messages.
 * - The zone parser never throws, on arbitrary text and on near-valid zone files; every
 *   record and problem it reports carries a file that was read and a line inside that file.
 * - respond() never throws; a message with a readable header and QR clear gets an answer,
 *   others none; every answer decodes, has QR set, echoes the ID and fits the size limit.
 * Runs are bounded and seeded, so every run checks the same inputs.
 */
import t, { type Test } from 'tap';
import fc from 'fast-check';
import dnsPacket from 'dns-packet';
import { loadConfig } from '../../src/snapshot/load.js';
import type { Snapshot } from '../../src/snapshot/snapshot.js';
import { Name } from '../../src/wire/name.js';
import { parseQuery } from '../../src/wire/query.js';
import { respond } from '../../src/answer/respond.js';
import { ALL_HEALTHY } from '../../src/lb/model.js';
import { PinTable } from '../../src/lb/persistence.js';
import { mulberry32 } from '../../src/lb/random.js';
import { parseZone } from '../../src/zone/parser.js';
import { compileZone } from '../../src/zone/zone.js';
import { ecsOptionBytes, encodeQuery, QUERY_TYPES, type QuerySpec } from '../helpers/mutate.js';

const SEED = 20261125;

/** Runs a property; a failure reports fast-check's shrunk counterexample and the seed to replay it. */
function holds<Ts>(t: Test, name: string, property: fc.IProperty<Ts>, numRuns: number): void {
  const details = fc.check(property, { seed: SEED, numRuns });
  if (details.failed) t.fail(`${name}\n${fc.defaultReportMessage(details)}`);
  else t.pass(`${name} (${details.numRuns} runs)`);
}

// --- The zone parser -----------------------------------------------------------------------

const ORIGIN = Name.fromText('example.com.');
const MAIN = 'fuzz.zone';
const INCLUDED = 'inc.zone';

const owner = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('@', '', '', 'www', 'a.b', 'mail', 'ns1', 'example.com.', '*.apps', 'x-y.z', '_sip._tcp', 'sub') },
  { weight: 1, arbitrary: fc.constantFrom('other.org.', '*', '\\065bc', 'x\\.y', '\\999', '"q"', '.', 'a'.repeat(64), 'a.'.repeat(130), '$X', 'a..b') },
);
const ttl = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('', '', '3600', '1h30m', '1W2d', '0', '2147483647') },
  { weight: 1, arbitrary: fc.constantFrom('2147483648', '99999999999999', '1x', '-1', '1h:') },
);
const klass = fc.oneof({ weight: 8, arbitrary: fc.constantFrom('', '', 'IN', 'in', 'CLASS1') }, { weight: 1, arbitrary: fc.constantFrom('CH', 'CLASS99999', 'ANY', 'HS') });
/** A type with rdata that is valid for it, across lines with parentheses sometimes. */
const typedRdata = fc.constantFrom('A 192.0.2.1', 'AAAA 2001:db8::1', 'AAAA ::ffff:192.0.2.1', 'MX 10 mail', 'MX 20 mail.backup.example.net.', 'NS ns1', 'NS ns.example.net.',
  'CNAME www', 'TXT "v=spf1 -all" more', 'TXT "a\\"b" "\\065"', 'SOA ns1 hostmaster ( 1 2h 15m\n 2w 5m ) ; timers', 'SOA ns1 hostmaster 2026 7200 900 1209600 300',
  'SRV 10 60 5060 sip', 'CAA 0 issue "letsencrypt.org"', 'PTR x.example.com.', 'HINFO "cpu" "os"', 'TLSA 3 1 1 0C72AC70 B745AC19', 'DS 12345 8 2 ' + 'AB'.repeat(32),
  'TYPE65280 \\# 4 0A000001', 'MX \\# 5 000A016100', 'SSHFP 1 1 ' + 'CD'.repeat(20), 'DNSKEY 257 3 8 AwEA AQ==', 'NAPTR 100 10 "u" "E2U+sip" "!^.*$!sip:x@example.com!" .',
  'a 192.0.2.7', 'RRSIG \\# 0', 'TYPE99 \\# 0');
const type = fc.constantFrom('A', 'AAAA', 'MX', 'SOA', 'TXT', 'CNAME', 'NS', 'SRV', 'CAA', 'PTR', 'HINFO', 'NAPTR', 'DS', 'SSHFP', 'TLSA', 'DNSKEY',
  'RRSIG', 'NSEC', 'TYPE65280', 'TYPE0', 'TYPE99999', 'LOC', 'OPT', 'foo');
const junkToken = fc.oneof(
  fc.constantFrom('192.0.2.1', '::1', '300.1.1.1', '10', '65536', 'mail', '@', '"unterminated', '\\#', '4', '0A00', '(', ')', '( 1 2', '; comment', '\\', '\\"',
    '====', '-', '"' + 'x'.repeat(300) + '"', '\\0', '\\256', 'x'.repeat(70), '\n', '\n ', '$TTL'),
  type,
  fc.string({ maxLength: 12 }),
);
const directive = fc.constantFrom('$ORIGIN sub', '$ORIGIN example.com.', '$ORIGIN .', '$ORIGIN', '$ORIGIN a..b', '$TTL 1h', '$TTL 300', '$TTL abc', '$TTL', '$TTL 4294967296',
  `$INCLUDE ${INCLUDED}`, `$INCLUDE ${INCLUDED} sub`, `$INCLUDE ${MAIN}`, '$INCLUDE missing.zone', '$INCLUDE /etc/passwd', '$INCLUDE', '$GENERATE 1-3 h$ A 10.0.0.$', '$FOO', `$include ${INCLUDED}`);
const validRecord = fc.tuple(owner, ttl, klass, typedRdata).map(([o, t1, c, rd]) => `${o} ${t1} ${c} ${rd}`);
/** A valid record with one token replaced or inserted. */
const damagedRecord = fc.tuple(validRecord, fc.nat(20), fc.boolean(), junkToken).map(([rec, at, replace, junk]) => {
  const toks = rec.split(' ');
  toks.splice(at % (toks.length + 1), replace ? 1 : 0, junk);
  return toks.join(' ');
});
const line = fc.oneof({ weight: 10, arbitrary: validRecord }, { weight: 3, arbitrary: damagedRecord }, { weight: 2, arbitrary: directive },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '; only a comment', '\t\t', ')', '(', '"') });
const zoneText = fc.tuple(fc.array(line, { maxLength: 25 }), fc.constantFrom('\n', '\r\n'), fc.boolean()).map(([lines, eol, bom]) => (bom ? '\ufeff' : '') + lines.join(eol));
/** Any text made of the characters that mean something to the lexer, and some that do not. */
const syntaxSoup = fc.string({ unit: fc.constantFrom(' ', '\t', '\n', '\r', '(', ')', '"', ';', '\\', '$', '@', '.', '*', 'a', 'A', '1', '9', 'I', 'N', 'S', 'O', 'x', '#', '\u00e9', '\0'), maxLength: 400 });

/** Reported with the zone's file but the SOA's line, which may be in an included file. */
const NO_NS_PROBLEM = /has no NS records at its apex/;

/** Parses `main` (with `included` as inc.zone) and checks that files and lines are real. */
function parsesWithRealLines(main: string, included: string): boolean {
  const texts = new Map([[MAIN, main], [INCLUDED, included]]);
  const readFile = (path: string): string => {
    const text = texts.get(path);
    if (text === undefined) throw new Error(`ENOENT: no such file, open '${path}'`);
    return text;
  };
  const lines = (file: string): number => texts.get(file)!.split('\n').length;
  const parsed = parseZone(main, { file: MAIN, origin: ORIGIN, readFile });
  for (const p of parsed.problems) {
    if (!texts.has(p.file) || p.line < 1 || p.line > lines(p.file)) throw new Error(`problem at ${p.file}:${p.line}: ${p.message}`);
  }
  for (const r of parsed.records) {
    if (!texts.has(r.file) || r.line < 1 || r.line > lines(r.file)) throw new Error(`record at ${r.file}:${r.line}`);
  }
  // Whatever came out compiles into a zone or problems, without throwing.
  const compiled = compileZone(ORIGIN, parsed.records, MAIN);
  for (const p of compiled.problems) {
    if (!texts.has(p.file) || p.line < 0 || p.line > lines(p.file)) throw new Error(`compile problem at ${p.file}:${p.line}: ${p.message}`);
  }
  return true;
}

t.test('the zone parser never throws and reports real lines', async (t) => {
  holds(t, 'arbitrary text', fc.property(fc.string({ unit: 'binary', maxLength: 600 }), fc.string({ maxLength: 100 }), parsesWithRealLines), 1000);
  holds(t, 'lexer characters in any order', fc.property(syntaxSoup, syntaxSoup, parsesWithRealLines), 2000);
  holds(t, 'near-valid zone files with directives and an included file', fc.property(zoneText, zoneText, parsesWithRealLines), 2000);
});

// Found by the property above: the problem was reported at the SOA's line but in the zone's file.
t.test('a zone without NS is reported at the file and line of its SOA', async (t) => {
  // Shrunk by fast-check from the near-valid zone files above.
  const texts = new Map([[MAIN, `$INCLUDE ${INCLUDED}`], [INCLUDED, '@ 300 A 192.0.2.1\n@ 300 SOA ns1 hostmaster 2026 7200 900 1209600 300']]);
  const parsed = parseZone(texts.get(MAIN)!, { file: MAIN, origin: ORIGIN, readFile: (p) => texts.get(p)! });
  t.same(parsed.problems, []);
  const noNs = compileZone(ORIGIN, parsed.records, MAIN).problems.find((p) => NO_NS_PROBLEM.test(p.message));
  t.match(noNs, { file: INCLUDED, line: 2 });
});

// --- The response builder ------------------------------------------------------------------

const loaded = loadConfig(new URL('../../zones', import.meta.url).pathname);
const snap: Snapshot = { zones: loaded.zones, lb: loaded.lb, health: ALL_HEALTHY, pop: {}, hostnames: { get: () => undefined }, random: mulberry32(7), persistence: new PinTable({}) };

const ZONE_LABELS = ['example', 'com', 'www', 'app', 'near', 'web', 'smtp', 'mail', 'nope', 'apps', 'dev', 'host', 'blog', '_sip', '_tcp', '*', 'org'];
const randomCaseLabel = fc.tuple(fc.constantFrom(...ZONE_LABELS), fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }))
  .map(([l, up]) => Buffer.from([...l].map((c, i) => (up[i % 5] ? c.toUpperCase() : c)).join(''), 'latin1'));
const label = fc.oneof({ weight: 4, arbitrary: randomCaseLabel }, { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 63 }).map((b) => Buffer.from(b)) });
/** Mostly names inside example.com (so the resolver has work to do), sometimes anything. */
const labels = fc.oneof(
  fc.array(label, { maxLength: 3 }).map((ls) => [...ls, Buffer.from('example'), Buffer.from('com')]),
  fc.array(label, { maxLength: 10 }),
);
const ecs = fc.oneof(
  // Well formed: the address has exactly the octets the prefix needs, bits beyond it cleared.
  fc.tuple(fc.constantFrom(1, 2), fc.nat(128), fc.uint8Array({ minLength: 16, maxLength: 16 })).map(([family, p, addr]) => {
    const prefix = family === 1 ? p % 33 : p;
    const a = Buffer.from(addr.subarray(0, Math.ceil(prefix / 8)));
    if (prefix % 8) a[a.length - 1] &= 0xff << (8 - (prefix % 8));
    return ecsOptionBytes(family, prefix, a);
  }),
  // Anything at all in the fields.
  fc.tuple(fc.nat(0xffff), fc.nat(255), fc.uint8Array({ maxLength: 20 }), fc.nat(255)).map(([family, prefix, addr, scope]) => ecsOptionBytes(family, prefix, Buffer.from(addr), scope)),
);
const option = fc.oneof({ weight: 3, arbitrary: ecs }, { weight: 1, arbitrary: fc.tuple(fc.nat(0xffff), fc.uint8Array({ maxLength: 12 })).map(([code, data]) => {
  const o = Buffer.alloc(4 + data.length);
  o.writeUInt16BE(code, 0);
  o.writeUInt16BE(data.length, 2);
  Buffer.from(data).copy(o, 4);
  return o;
}) });
const querySpec: fc.Arbitrary<QuerySpec> = fc.record({
  id: fc.nat(0xffff),
  flags: fc.oneof(fc.constantFrom(0, 0x0100, 0x0110), fc.nat(0xffff)),
  labels,
  qtype: fc.oneof(fc.constantFrom(...QUERY_TYPES), fc.nat(0xffff)),
  qclass: fc.oneof(fc.constantFrom(1, 1, 255, 3), fc.nat(0xffff)),
  edns: fc.option(fc.record({
    udpSize: fc.oneof(fc.constantFrom(0, 511, 512, 513, 1232, 1233, 4096), fc.nat(0xffff)),
    version: fc.oneof(fc.constant(0), fc.nat(255)),
    dnssecOk: fc.boolean(),
    options: fc.array(option, { maxLength: 3 }),
  }), { nil: undefined }),
});
const transport = fc.boolean(); // true: TCP
const clientAddress = fc.constantFrom('192.0.2.1', '81.2.69.160', '2001:db8::1', '127.0.0.1');

/** The largest answer allowed: 65535 on TCP; on UDP 512, or with EDNS the requester's size clamped to 512..1232. */
function sizeLimit(msg: Buffer, tcp: boolean): number {
  if (tcp) return 65535;
  const parsed = parseQuery(msg);
  if (parsed.kind !== 'query' || !parsed.query.edns) return 512;
  return Math.min(Math.max(parsed.query.edns.udpSize, 512), 1232);
}

/** respond() on `msg`: an answer exactly when the header is readable and QR clear, and a good one. */
function answersWell(msg: Buffer, tcp: boolean, client: string, limit = sizeLimit(msg, tcp)): boolean {
  const info = respond(snap, msg, tcp, client);
  const answerable = msg.length >= 12 && (msg[2] & 0x80) === 0;
  const r = info.response;
  if (!answerable) {
    if (r) throw new Error('answered a message without a header or with QR set');
    return true;
  }
  if (!r) throw new Error(`no answer (${info.reason ?? 'no reason'})`);
  const decoded = dnsPacket.decode(r); // throws when malformed
  if (decoded.id !== msg.readUInt16BE(0)) throw new Error(`ID ${decoded.id}, query's ${msg.readUInt16BE(0)}`);
  if ((r[2] & 0x80) === 0) throw new Error('QR clear in the answer');
  if (r.length > limit) throw new Error(`${r.length} bytes, above the limit ${limit}`);
  return true;
}

t.test('respond() never throws and its answers are well formed', async (t) => {
  holds(t, 'arbitrary bytes', fc.property(fc.uint8Array({ maxLength: 700 }), transport, clientAddress, (b, tcp, c) => answersWell(Buffer.from(b), tcp, c)), 3000);
  holds(t, 'a query header (QR clear, one question) before arbitrary bytes', fc.property(fc.nat(0xffff), fc.nat(0x7fff), fc.uint8Array({ maxLength: 300 }), transport, clientAddress, (id, flags, rest, tcp, c) => {
    const header = Buffer.from([id >> 8, id & 0xff, flags >> 8, flags & 0xff, 0, 1, 0, 0, 0, 0, 0, rest.length % 2]);
    return answersWell(Buffer.concat([header, Buffer.from(rest)]), tcp, c);
  }), 3000);
  holds(t, 'generated queries: names, types, classes, flags, EDNS sizes and options, ECS', fc.property(querySpec, transport, clientAddress, (spec, tcp, c) => {
    const limit = tcp ? 65535 : spec.edns ? Math.min(Math.max(spec.edns.udpSize, 512), 1232) : 512;
    return answersWell(encodeQuery(spec), tcp, c, limit);
  }), 4000);
});
