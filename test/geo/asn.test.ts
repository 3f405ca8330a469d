/** The ASN database for resolver_network persistence: both record layouts, misses, bad files. */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { asnFromRecord, openAsnDatabase } from '../../src/geo/asn.js';
import { uint32, writeMmdb } from '../helpers/mmdb-writer.js';

t.test('records', async (t) => {
  t.equal(asnFromRecord({ autonomous_system_number: 13335, autonomous_system_organization: 'X' }), 13335);
  t.equal(asnFromRecord({ asn: 'AS64500' }), 64500);
  t.equal(asnFromRecord({ asn: '64501' }), 64501);
  t.equal(asnFromRecord({ asn: 'none' }), undefined);
  t.equal(asnFromRecord(null), undefined);
});

t.test('a GeoLite2-ASN layout and a flat one, IPv4 and IPv6', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'asn.mmdb');
  writeFileSync(path, writeMmdb({ databaseType: 'GeoLite2-ASN', networks: [
    { network: '192.0.2.0/24', data: { autonomous_system_number: uint32(64500), autonomous_system_organization: 'Example' } },
    { network: '2001:db8::/32', data: { asn: 'AS64501' } },
  ] }));
  const { asn, problems } = await openAsnDatabase(path);
  t.same(problems, []);
  t.equal(asn!.lookup('192.0.2.77'), 64500);
  t.equal(asn!.lookup('2001:db8:5::1'), 64501);
  t.equal(asn!.lookup('198.51.100.1'), undefined);
  t.equal(asn!.lookup('not an address'), undefined);
});

t.test('an unreadable file is a problem naming it', async (t) => {
  const r = await openAsnDatabase('/nonexistent/asn.mmdb');
  t.equal(r.asn, undefined);
  t.match(r.problems, [{ file: '/nonexistent/asn.mmdb', severity: 'error', message: /cannot read the ASN database/ }]);
});
