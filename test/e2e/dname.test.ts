/**
 * DNAME end to end (RFC 6672), over UDP and TCP: the DNAME with a synthesized CNAME carrying
 * the DNAME's TTL, the chain followed into another zone served here, YXDOMAIN for a name too
 * long, a DNAME written in RFC 3597 form answered like the text form, a DNAME at an apex.
 * (test/reference/types.test.ts compares the same corners with Knot.)
 */
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { query, dataOf, type Transport } from '../helpers/client.js';
import { startTestServer } from '../helpers/server.js';

const DIR = fileURLToPath(new URL('../fixtures/types/', import.meta.url));

const records = (list: { name: string; type: string; ttl?: number }[] | undefined): string[] =>
  (list ?? []).filter((a) => a.type !== 'OPT').map((a) => `${a.name.toLowerCase()} ${a.ttl} ${a.type} ${String(dataOf(a as never)).toLowerCase()}`);

t.test('DNAME answers', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steerdns-dname-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.copyFileSync(path.join(DIR, 'dname.example.zone'), path.join(dir, 'dname.example.zone'));
  // An apex DNAME into the other zone served here: the chain is followed across zones.
  fs.writeFileSync(path.join(dir, 'moved.example.zone'), '$TTL 3600\n@ SOA ns.elsewhere.example. h 1 2 3 4 300\n@ NS ns.elsewhere.example.\n@ 900 DNAME new.dname.example.\n');
  const server = await startTestServer(dir);
  t.teardown(() => server.close());
  t.same(server.loaded.problems.filter((p) => p.severity === 'error'), []);

  for (const transport of ['udp', 'tcp'] as Transport[]) {
    const ask = (name: string, type: string) => query(server.port, transport, name, type);

    let r = await ask('www.old.dname.example', 'A');
    t.equal(r.rcode, 'NOERROR');
    t.same(records(r.answers), [
      'old.dname.example 600 DNAME new.dname.example',
      'www.old.dname.example 600 CNAME www.new.dname.example', // RFC 6672 §3.4: the TTL of the DNAME
      'www.new.dname.example 3600 A 192.0.2.11',
    ], `${transport}: DNAME, synthesized CNAME, the target's address`);

    r = await ask('www.generic.dname.example', 'A');
    t.same(records(r.answers), [
      'generic.dname.example 3600 DNAME new.dname.example',
      'www.generic.dname.example 3600 CNAME www.new.dname.example',
      'www.new.dname.example 3600 A 192.0.2.11',
    ], `${transport}: a DNAME written as TYPE39 \\# is a DNAME`);

    r = await ask('old.dname.example', 'DNAME');
    t.same(records(r.answers), ['old.dname.example 600 DNAME new.dname.example'], `${transport}: a DNAME query at the owner gets the DNAME`);
    r = await ask('old.dname.example', 'A');
    t.same(records(r.answers), ['old.dname.example 3600 A 192.0.2.30'], `${transport}: the owner's own data is not rewritten`);

    r = await ask('www.moved.example', 'A');
    t.equal(r.rcode, 'NOERROR');
    t.same(records(r.answers), [
      'moved.example 900 DNAME new.dname.example',
      'www.moved.example 900 CNAME www.new.dname.example',
      'www.new.dname.example 3600 A 192.0.2.11',
    ], `${transport}: an apex DNAME, followed into another zone served here`);

    r = await ask('nope.moved.example', 'A');
    t.equal(r.rcode, 'NXDOMAIN', `${transport}: the rcode of the last name (RFC 6604)`);
    t.same(records(r.authorities).map((x) => x.split(' ').slice(0, 3).join(' ')), ['dname.example 300 SOA']);

    r = await ask(`${'b'.repeat(60)}.${'c'.repeat(10)}.long.dname.example`, 'A');
    t.equal(r.rcode, 'YXDOMAIN', `${transport}: the synthesized name would be longer than 255 octets`);
    t.same(records(r.answers).map((x) => x.split(' ').slice(0, 3).join(' ')), ['long.dname.example 3600 DNAME'], 'with the DNAME only');

    r = await ask('a.towild.dname.example', 'A');
    t.same(records(r.answers), [
      'towild.dname.example 3600 DNAME wild.dname.example',
      'a.towild.dname.example 3600 CNAME a.wild.dname.example',
      'a.wild.dname.example 3600 A 192.0.2.20',
    ], `${transport}: the target answered by a wildcard`);

    r = await ask('a.wd.dname.example', 'DNAME');
    t.same(records(r.answers), ['a.wd.dname.example 3600 DNAME new.dname.example'], `${transport}: a wildcard DNAME answers DNAME queries with the query name (RFC 4592)`);
    r = await ask('b.a.wd.dname.example', 'A');
    t.same([r.rcode, records(r.answers)], ['NOERROR', []], `${transport}: and does not rewrite names below the names it covers (RFC 6672 §3.3)`);
  }
});
