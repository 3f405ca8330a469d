/**
 * Every record type with a presentation format, in test/fixtures/types/types.example.zone:
 * text -> wire -> text round trips, and BIND (named-compilezone) and NSD (nsd-checkzone -p)
 * read both the fixture and our own presentation of it into the same octets. Each comparison
 * with a tool skips, saying so, when the tool is not installed.
 */
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Name } from '../../src/wire/name.js';
import { T, typeToText } from '../../src/wire/types.js';
import { hasTextForm, rdataToText } from '../../src/wire/rdata.js';
import { parseZone, parseZoneFile, type ParseResult } from '../../src/zone/parser.js';
import { loadZoneFile } from '../../src/zone/loader.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/types/types.example.zone', import.meta.url));
const ORIGIN = 'types.example.';
const ours = parseZoneFile(FIXTURE, Name.fromText(ORIGIN));

const installed = (bin: string, arg: string): boolean => spawnSync(bin, [arg], { encoding: 'utf8' }).error === undefined;
const BIND = installed('named-compilezone', '-v');
const NSD = installed('nsd-checkzone', '-h');
/** NSD 4 has no NSAP-PTR; the rest of the fixture it reads. */
const NSD_LACKS = new Set<number>([T.NSAP_PTR]);

/** Sorted "owner type ttl rdata-hex" lines: the record set, order-free. */
function canon(r: ParseResult, skip = new Set<number>()): string[] {
  return r.records.filter((x) => !skip.has(x.type)).map((x) => `${x.owner.key} ${typeToText(x.type)} ${x.ttl} ${x.rdata.wire.toString('hex')}`).sort();
}

/** Our presentation of every record, one line each. */
function ourText(skip = new Set<number>()): string {
  return ours.records.filter((x) => !skip.has(x.type)).map((x) => `${x.owner} ${x.ttl} IN ${typeToText(x.type)} ${rdataToText(x.type, x.rdata.wire)}`).join('\n') + '\n';
}

t.same(ours.problems, [], 'the fixture parses without a problem');

t.test('the fixture has every type the issue names, in presentation format', async (t) => {
  const seen = new Set(ours.records.map((r) => r.type));
  const wanted = ['SVCB', 'HTTPS', 'DNAME', 'LOC', 'SPF', 'HINFO', 'RP', 'AFSDB', 'URI', 'CERT', 'OPENPGPKEY', 'SMIMEA', 'CDS',
    'CDNSKEY', 'DNSKEY', 'RRSIG', 'NSEC', 'NSEC3', 'NSEC3PARAM', 'ZONEMD', 'CSYNC', 'EUI48', 'EUI64', 'MB', 'MG', 'MR', 'MINFO',
    'KX', 'DHCID', 'IPSECKEY', 'L32', 'L64', 'NID', 'LP', 'APL', 'CAA', 'DS', 'SSHFP', 'TLSA', 'NAPTR', 'SRV', 'TXT'] as const;
  for (const name of wanted) {
    t.ok(seen.has(T[name]), `${name} appears`);
    t.ok(hasTextForm(T[name]), `${name} has a presentation format`);
  }
});

t.test('the fixture loads as a zone', async (t) => {
  const r = loadZoneFile(FIXTURE);
  t.same(r.problems.filter((p) => p.severity === 'error'), [], 'no errors');
  t.ok(r.zone, 'served');
});

t.test('text -> wire -> text round trip, per record', async (t) => {
  for (const r of ours.records) {
    const text = rdataToText(r.type, r.rdata.wire);
    const line = `${r.owner} ${r.ttl} IN ${typeToText(r.type)} ${text}`;
    const back = parseZone(line + '\n', { file: 'round-trip', origin: Name.root });
    t.same(back.problems, [], `${line}: reads back`);
    t.equal(back.records[0]?.rdata.wire.toString('hex'), r.rdata.wire.toString('hex'), `${line}: same octets`);
    t.equal(rdataToText(r.type, back.records[0].rdata.wire), text, `${typeToText(r.type)}: same text the second time`);
    if (r.type < 65280) t.notMatch(text, /^\\#/, `${typeToText(r.type)} is written in its own format, not RFC 3597`);
  }
});

function tmpZone(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steerdns-types-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'types.example.zone');
  fs.writeFileSync(file, text);
  return file;
}

const BIND_FLAGS = ['-i', 'none', '-k', 'ignore', '-n', 'ignore', '-s', 'full', '-o', '-', ORIGIN];

function compare(t: Test, theirs: string, what: string, skip?: Set<number>): void {
  const parsed = parseZone(theirs, { file: what, origin: Name.fromText(ORIGIN) });
  t.same(parsed.problems, [], `we read ${what} cleanly`);
  const a = canon(ours, skip);
  const b = canon(parsed, skip);
  t.same(a.filter((x) => !b.includes(x)), [], `records we read that ${what} lacks`);
  t.same(b.filter((x) => !a.includes(x)), [], `records in ${what} that we lack`);
}

t.test('named-compilezone reads the fixture into the same octets', { skip: BIND ? false : 'named-compilezone not installed' }, async (t) => {
  const r = spawnSync('named-compilezone', [...BIND_FLAGS, FIXTURE], { encoding: 'utf8' });
  t.equal(r.status, 0, `named-compilezone loads it: ${r.stderr}`);
  compare(t, r.stdout, 'named-compilezone output');
});

t.test('named-compilezone reads our presentation into the same octets', { skip: BIND ? false : 'named-compilezone not installed' }, async (t) => {
  const r = spawnSync('named-compilezone', [...BIND_FLAGS, tmpZone(ourText())], { encoding: 'utf8' });
  t.equal(r.status, 0, `named-compilezone loads our text: ${r.stdout}${r.stderr}`);
  compare(t, r.stdout, 'named-compilezone output of our text');
});

t.test('NSD reads the fixture and our presentation into the same octets', { skip: NSD ? false : 'nsd-checkzone not installed' }, async (t) => {
  const fixture = fs.readFileSync(FIXTURE, 'utf8').split('\n').filter((l) => !/\bNSAP-PTR\b/.test(l)).join('\n');
  for (const [what, text] of [['the fixture', fixture], ['our text', ourText(NSD_LACKS)]] as const) {
    const r = spawnSync('nsd-checkzone', ['-p', ORIGIN, tmpZone(text)], { encoding: 'utf8' });
    t.equal(r.status, 0, `nsd-checkzone loads ${what}: ${r.stdout}${r.stderr}`);
    compare(t, r.stdout, `nsd-checkzone output of ${what}`, NSD_LACKS);
  }
});
