/**
 * Reference comparison with BIND: every fixture in test/fixtures/parser/valid/*.zone (origin =
 * file name minus ".zone"; $INCLUDE targets live in valid/inc/) is loaded by named-compilezone,
 * whose canonical output we parse again; both record sets must be equal, TTLs and rdata bytes.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Name } from '../../src/wire/name.js';
import { T } from '../../src/wire/types.js';
import { parseZone, parseZoneFile, type ParseResult } from '../../src/zone/parser.js';

const VALID = fileURLToPath(new URL('../fixtures/parser/valid/', import.meta.url));
const BIN = 'named-compilezone';
// -i none: no zone integrity checks; -k/-n ignore: no hostname checks; -s full: absolute names.
const FLAGS = ['-q', '-i', 'none', '-k', 'ignore', '-n', 'ignore', '-s', 'full', '-o', '-'];

const installed = spawnSync(BIN, ['-v'], { encoding: 'utf8' }).status === 0;
const fixtures = readdirSync(VALID).filter((f) => f.endsWith('.zone')).sort();

/** Sorted "owner type ttl rdata-hex" lines: the record set, order-free. */
function canon(r: ParseResult): string[] {
  return r.records.map((x) => `${x.owner.key} ${x.type} ${x.ttl} ${x.rdata.wire.toString('hex')}`).sort();
}

t.ok(fixtures.length >= 5, 'valid fixtures are present');

t.test('the valid fixtures together use every supported type', async (t) => {
  const seen = new Set<number>();
  for (const f of fixtures) {
    for (const r of parseZoneFile(join(VALID, f), Name.fromText(f.slice(0, -'.zone'.length) + '.')).records) seen.add(r.type);
  }
  const wanted = ['SOA', 'NS', 'A', 'AAAA', 'CNAME', 'MX', 'SRV', 'TXT', 'CAA', 'PTR', 'NAPTR', 'DS', 'SSHFP', 'TLSA', 'HINFO', 'DNSKEY'] as const;
  for (const name of wanted) t.ok(seen.has(T[name]), `${name} appears in a valid fixture`);
  t.ok([...seen].some((type) => type >= 65280), 'an unknown (private-use) type appears');
});

for (const file of fixtures) {
  const origin = file.slice(0, -'.zone'.length) + '.';
  t.test(file, { skip: installed ? false : 'named-compilezone not installed' }, async (t) => {
    const ours = parseZoneFile(join(VALID, file), Name.fromText(origin));
    t.same(ours.problems.filter((p) => p.severity === 'error'), [], 'we find no errors');

    // BIND resolves $INCLUDE against the working directory; ours against the including file.
    const bind = spawnSync(BIN, [...FLAGS, origin, file], { cwd: VALID, encoding: 'utf8' });
    if (bind.status !== 0) {
      // -q also silences the reason; ask again without it.
      const why = spawnSync(BIN, [...FLAGS.slice(1, -1), '/dev/null', origin, file], { cwd: VALID, encoding: 'utf8' });
      t.fail(`named-compilezone rejects ${file}: ${why.stdout}${why.stderr}`);
      return;
    }
    const theirs = parseZone(bind.stdout, { file: `named-compilezone output for ${file}`, origin: Name.root });
    t.same(theirs.problems, [], 'we parse BIND output cleanly');

    const a = canon(ours);
    const b = canon(theirs);
    t.ok(a.length > 0, `${a.length} records`);
    t.same(a.filter((x) => !b.includes(x)), [], 'records we produce that BIND does not');
    t.same(b.filter((x) => !a.includes(x)), [], 'records BIND produces that we do not');
    t.same(a, b, 'identical record sets');
  });
}
