/**
 * Pulling a zone by AXFR with TSIG (src/xfr/pull.ts) from Knot DNS as the primary, a zone
 * with every record type Knot loads: the records pulled are exactly the zone file's, names in
 * record data decompressed. A wrong key or an unknown zone fails with a message, never a zone.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Name } from '../../src/wire/name.js';
import { TSIG_ALGORITHMS } from '../../src/wire/tsig.js';
import { parseZone } from '../../src/zone/parser.js';
import { pullZone, type PulledRecord } from '../../src/xfr/pull.js';
import { freePort, knotConfHead, knotdPath } from '../helpers/reference.js';
import { query } from '../helpers/client.js';

const knotd = knotdPath();
const SECRET = 'xV8m4MxWFfdg1/8vYL1xFaviuQcLiMqpdhMKJIXlalI=';
const KEY = { name: Name.fromText('xfr.'), algorithm: TSIG_ALGORITHMS.get('hmac-sha256')!, secret: Buffer.from(SECRET, 'base64') };
const FIXTURE = fileURLToPath(new URL('../fixtures/types/types.example.zone', import.meta.url));
/** Types Knot 3.2 does not load (see test/reference/types.test.ts). */
const KNOT_LACKS = /^\S+\s+(MB|MG|MR|X25|ISDN|PX|NSAP-PTR)\s|dohpath=/;

const ORIGIN = Name.fromText('types.example.');
const text = fs.readFileSync(FIXTURE, 'utf8').split('\n').filter((l) => !KNOT_LACKS.test(l)).join('\n');

function startKnotPrimary(port: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steerdns-knot-primary-'));
  fs.writeFileSync(path.join(dir, 'types.example.zone'), text);
  fs.writeFileSync(path.join(dir, 'knot.conf'), `${knotConfHead(dir, port, { id: 'xfr', secret: SECRET })}acl:
  - id: transfer
    key: xfr
    action: transfer
zone:
  - domain: types.example
    storage: "${dir}"
    file: types.example.zone
    acl: transfer
    zonefile-sync: -1
`);
  const child = spawn(knotd!, ['-c', path.join(dir, 'knot.conf')], { stdio: ['ignore', 'ignore', 'ignore'] });
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return () => new Promise<void>((r) => {
    clearTimeout(killer);
    if (child.exitCode !== null) return r();
    child.once('exit', () => r());
    child.kill('SIGKILL');
  });
}

const show = (r: { owner: Name; type: number; ttl: number; rdata: { wire: Buffer } }) => `${r.owner.key} ${r.ttl} ${r.type} ${r.rdata.wire.toString('hex')}`;

t.test('a zone of every type pulled from Knot with TSIG is the zone file, record for record', { skip: knotd ? false : 'knotd not installed' }, async (t) => {
  const port = await freePort();
  const stop = startKnotPrimary(port);
  t.teardown(stop);
  for (let i = 0; i < 50 && (await query(port, 'udp', 'types.example', 'SOA').catch(() => undefined))?.rcode !== 'NOERROR'; i++) await new Promise((r) => setTimeout(r, 100));

  const pulled = await pullZone({ host: '127.0.0.1', port }, ORIGIN, KEY, 20_000);
  const want = parseZone(text, { file: 'types.example.zone', origin: ORIGIN }).records;
  t.ok(want.length > 50, `${want.length} records in the zone file`);
  t.equal(pulled.records[0].type, 6, 'the SOA first');
  t.same([...pulled.records.map(show)].sort(), [...want.map((r) => show({ ...r, rdata: r.rdata }))].sort(), 'the same records, names decompressed');
  t.ok(pulled.records.every((r: PulledRecord) => r.rdata.names !== undefined), 'names in the data located');

  await t.rejects(pullZone({ host: '127.0.0.1', port }, ORIGIN, { ...KEY, secret: Buffer.from('wrong') }, 5000), /BADSIG|NOTAUTH/, 'a wrong key: no zone');
  await t.rejects(pullZone({ host: '127.0.0.1', port }, Name.fromText('other.example.'), KEY, 5000), /NOTAUTH|REFUSED|SERVFAIL/, 'a zone it does not serve: no zone');
  await t.rejects(pullZone({ host: '127.0.0.1', port: await freePort() }, ORIGIN, KEY, 5000), /ECONNREFUSED/, 'nobody there: said so');
});
