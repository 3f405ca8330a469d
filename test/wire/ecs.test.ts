/** EDNS Client Subnet option parsing and the echoed option (RFC 7871 §6, §7.2.1). */
import t from 'tap';
import { parseEcs } from '../../src/wire/ecs.js';
import { MessageWriter } from '../../src/wire/writer.js';

t.test('valid options', async (t) => {
  const v4 = parseEcs(Buffer.from([0, 1, 24, 0, 198, 51, 100]));
  t.same({ family: v4.family, source: v4.sourcePrefix, address: v4.address }, { family: 1, source: 24, address: '198.51.100.0' });
  const odd = parseEcs(Buffer.from([0, 1, 20, 0, 198, 51, 96]));
  t.equal(odd.address, '198.51.96.0', 'a /20 keeps the high nibble of the third octet');
  const v6 = parseEcs(Buffer.from([0, 2, 48, 0, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0xde]));
  t.equal(v6.address, '2001:db8:de:0:0:0:0:0');
  const zero = parseEcs(Buffer.from([0, 1, 0, 0]));
  t.equal(zero.sourcePrefix, 0);
  t.equal(zero.address, '0.0.0.0');
  const scoped = parseEcs(Buffer.from([0, 1, 24, 9, 198, 51, 100]));
  t.equal(scoped.sourcePrefix, 24, 'a non-zero scope in a query is ignored');
});

t.test('malformed options', async (t) => {
  const cases: [number[], RegExp][] = [
    [[0, 1], /shorter than 4 octets/],
    [[0, 3, 0, 0], /family 3 is neither/],
    [[0, 1, 33, 0, 1, 2, 3, 4, 5], /source prefix 33 is longer than an IPv4 address/],
    [[0, 2, 129, 0], /longer than an IPv6 address/],
    [[0, 1, 24, 0, 198, 51], /has 2 octets, source prefix 24 needs 3/],
    [[0, 1, 8, 0, 198, 51], /has 2 octets, source prefix 8 needs 1/],
    [[0, 1, 23, 0, 198, 51, 101], /bits set beyond the source prefix 23/],
  ];
  for (const [bytes, message] of cases) t.throws(() => parseEcs(Buffer.from(bytes)), message);
});

t.test('the response option echoes family, source and address with our scope', async (t) => {
  const ecs = parseEcs(Buffer.from([0, 1, 24, 0, 198, 51, 100]));
  const w = new MessageWriter(512);
  t.ok(w.opt(1232, 0, false, ecs, 16, undefined));
  const opt = w.finish().subarray(12);
  // OPT header (root, type 41, size 1232, rcode/version/flags 0, rdlength 11), then the option.
  t.same([...opt.subarray(0, 11)], [0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 11]);
  t.same([...opt.subarray(11)], [0, 8, 0, 7, 0, 1, 24, 16, 198, 51, 100]);
});
