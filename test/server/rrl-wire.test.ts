/**
 * What response rate limiting reads from an encoded response (its class: answer per name and
 * type, NXDOMAIN/NODATA per zone, referral per delegation, error) and the truncated form a
 * slipped response takes (header with TC, question, OPT).
 */
import t from 'tap';
import dnsPacket from 'dns-packet';
import { classifyResponse, truncatedForm } from '../../src/server/rrl-wire.js';
import { decode, flagsOf } from '../helpers/client.js';

const soa = (name: string): dnsPacket.Answer => ({ type: 'SOA', name, ttl: 300, data: { mname: 'ns1.example.com', rname: 'hostmaster.example.com', serial: 1, refresh: 7200, retry: 900, expire: 1209600, minimum: 300 } });
const opt = (options: { code: number; data: Buffer }[] = []) => ({ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0, options }) as unknown as dnsPacket.Answer;

function response(p: { name?: string; type?: string; rcode?: number; flags?: number; answers?: dnsPacket.Answer[]; authorities?: dnsPacket.Answer[]; additionals?: dnsPacket.Answer[] }): Buffer {
  const raw = dnsPacket.encode({
    type: 'response',
    id: 4242,
    flags: (p.flags ?? dnsPacket.AUTHORITATIVE_ANSWER) | (p.rcode ?? 0),
    questions: [{ name: p.name ?? 'www.example.com', type: (p.type ?? 'A') as dnsPacket.RecordType, class: 'IN' }],
    answers: p.answers ?? [],
    authorities: p.authorities ?? [],
    additionals: p.additionals ?? [],
  });
  return raw;
}

t.test('classes', async (t) => {
  const answer = response({ name: 'WWW.Example.com', answers: [{ type: 'A', name: 'www.example.com', ttl: 300, data: '192.0.2.80' }] });
  t.same(classifyResponse(answer, 0), { kind: 'answer', name: 'www.example.com', qtype: 1 }, 'an answer: its question, lower case');

  const nodata = response({ name: 'www.example.com', type: 'TXT', authorities: [soa('Example.COM')] });
  t.same(classifyResponse(nodata, 0), { kind: 'nodata', name: 'example.com', qtype: 0 }, 'NODATA: the zone of the SOA');

  const nx = response({ name: 'nope.example.com', rcode: 3, authorities: [soa('example.com')] });
  t.same(classifyResponse(nx, 3), { kind: 'nxdomain', name: 'example.com', qtype: 0 }, 'NXDOMAIN: the zone, not the name');

  const chain = response({ name: 'dangling.example.com', rcode: 3, answers: [{ type: 'CNAME', name: 'dangling.example.com', ttl: 300, data: 'nowhere.example.org' }], authorities: [soa('example.org')] });
  t.same(classifyResponse(chain, 3), { kind: 'nxdomain', name: 'example.org', qtype: 0 }, 'a CNAME chain ending in NXDOMAIN: the zone of the last name');

  const referral = response({ name: 'host.dev.example.com', flags: 0, authorities: [{ type: 'NS', name: 'dev.example.com', ttl: 300, data: 'ns.dev.example.com' }] });
  t.same(classifyResponse(referral, 0), { kind: 'referral', name: 'dev.example.com', qtype: 0 }, 'a referral: the delegation');

  for (const rcode of [1, 2, 4, 5, 16]) t.same(classifyResponse(response({ rcode: rcode & 0xf }), rcode), { kind: 'error', name: '', qtype: 0 }, `rcode ${rcode}: an error, whatever the name`);

  const truncated = response({ name: 'big.example.com', type: 'TXT', flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.TRUNCATED_RESPONSE });
  t.same(classifyResponse(truncated, 0), { kind: 'answer', name: 'big.example.com', qtype: 16 }, 'truncated for size: the question');

  const root = response({ name: '.', type: 'NS', answers: [{ type: 'NS', name: '.', ttl: 300, data: 'a.root' }] });
  t.same(classifyResponse(root, 0), { kind: 'answer', name: '', qtype: 2 }, 'the root is ""');
});

t.test('names behind compression pointers are followed', async (t) => {
  // nope.example.com NXDOMAIN, the SOA owner a pointer to "example.com" inside the question.
  const head = Buffer.from([0x12, 0x34, 0x84, 0x03, 0, 1, 0, 0, 0, 1, 0, 0]);
  const question = Buffer.concat([Buffer.from('\x04nope\x07Example\x03com\x00', 'latin1'), Buffer.from([0, 1, 0, 1])]);
  const soaRr = Buffer.concat([Buffer.from([0xc0, 12 + 5]), Buffer.from([0, 6, 0, 1, 0, 0, 1, 44, 0, 22]), Buffer.from([0xc0, 12 + 5, 0xc0, 12 + 5]), Buffer.alloc(18)]);
  const msg = Buffer.concat([head, question, soaRr]);
  t.same(classifyResponse(msg, 3), { kind: 'nxdomain', name: 'example.com', qtype: 0 });
  const loop = Buffer.concat([head, question, Buffer.from([0xc0, 12 + question.length]), Buffer.alloc(10)]);
  t.same(classifyResponse(loop, 3), { kind: 'nxdomain', name: '', qtype: 0 }, 'a pointer loop: classed by its rcode alone');
});

t.test('the truncated form: header with TC, question, OPT', async (t) => {
  const cookie = { code: 10, data: Buffer.from('0102030405060708aabbccddeeff0011', 'hex') };
  const full = response({
    name: 'www.example.com',
    flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_DESIRED,
    answers: [{ type: 'A', name: 'www.example.com', ttl: 300, data: '192.0.2.80' }, { type: 'A', name: 'www.example.com', ttl: 300, data: '192.0.2.81' }],
    authorities: [{ type: 'NS', name: 'example.com', ttl: 300, data: 'ns1.example.com' }],
    additionals: [{ type: 'A', name: 'ns1.example.com', ttl: 300, data: '192.0.2.53' }, opt([cookie])],
  });
  const cut = truncatedForm(full)!;
  t.ok(cut.length < full.length, 'smaller');
  const f = flagsOf(cut);
  t.match(f, { qr: true, tc: true, aa: true, rd: true, rcode: 0 }, 'the header flags with TC');
  const p = decode(cut);
  t.equal(p.id, 4242);
  t.same(p.questions, [{ name: 'www.example.com', type: 'A', class: 'IN' }], 'the question');
  t.equal(p.answers?.length, 0, 'no answers');
  t.equal(p.authorities?.length, 0, 'no authority');
  t.equal(p.additionals?.length, 1, 'only the OPT');
  const o = p.additionals![0] as unknown as { type: string; udpPayloadSize: number; options: { code: number; data: Buffer }[] };
  t.equal(o.type, 'OPT');
  t.equal(o.udpPayloadSize, 1232);
  t.same(o.options.map((x) => [x.code, x.data.toString('hex')]), [[10, cookie.data.toString('hex')]], 'its options kept');
  t.equal(cut.length, 12 + 17 + 4 + 11 + 4 + cookie.data.length, 'header + question + OPT, nothing else');

  const noEdns = truncatedForm(response({ rcode: 3, authorities: [soa('example.com')] }))!;
  t.match(flagsOf(noEdns), { tc: true, rcode: 3 }, 'the rcode is kept');
  t.same([noEdns.readUInt16BE(4), noEdns.readUInt16BE(6), noEdns.readUInt16BE(8), noEdns.readUInt16BE(10)], [1, 0, 0, 0], 'without EDNS: header and question');
  t.equal(truncatedForm(full.subarray(0, 20)), undefined, 'an unreadable response: none');
});
