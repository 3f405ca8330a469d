/** Query parsing: what is answered, what gets FORMERR/NOTIMP, what is dropped. */
import t from 'tap';
import dnsPacket from 'dns-packet';
import { parseQuery } from '../../src/wire/query.js';
import { buildQuery } from '../helpers/client.js';

const base = buildQuery('www.example.com', 'A', { id: 77 });
const withOpt = buildQuery('www.example.com', 'A', { id: 78, edns: { udpSize: 4000, do: true } });

t.test('a plain query and an EDNS query', async (t) => {
  const p = parseQuery(base);
  t.equal(p.kind, 'query');
  if (p.kind !== 'query') return;
  t.equal(p.query.id, 77);
  t.equal(p.query.qname.key, 'www.example.com.');
  t.equal(p.query.qtype, 1);
  t.equal(p.query.edns, undefined);
  const e = parseQuery(withOpt);
  t.equal(e.kind === 'query' && e.query.edns?.udpSize, 4000);
  t.equal(e.kind === 'query' && e.query.edns?.dnssecOk, true);
});

t.test('unknown EDNS options are skipped (RFC 6891 §6.1.2): the query is answered, ECS and COOKIE still found', async (t) => {
  const opt = (options: { code: number; data: Buffer }[]) => dnsPacket.encode({ type: 'query', id: 1, questions: [{ name: 'a.example', type: 'A' }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, options } as unknown as dnsPacket.Answer] });
  const unknown = { code: 65001, data: Buffer.from('hi') };
  const alone = parseQuery(opt([unknown]));
  t.ok(alone.kind === 'query' && alone.query.edns && !alone.query.ecs && !alone.query.cookie, 'answered, with EDNS, no ECS, no cookie');
  const ecs = { code: 8, data: Buffer.from([0, 1, 24, 0, 198, 51, 100]) };
  const cookie = { code: 10, data: Buffer.from('12345678') };
  const around = parseQuery(opt([unknown, ecs, unknown, cookie, unknown]));
  t.equal(around.kind === 'query' && around.query.ecs?.address, '198.51.100.0', 'ECS between unknown options');
  t.equal(around.kind === 'query' && around.query.cookie?.client.toString(), '12345678', 'COOKIE between unknown options');
});

const formerr: [string, (b: Buffer) => Buffer, RegExp][] = [
  ['OPT owner not the root', (b) => Buffer.concat([b.subarray(0, base.length), Buffer.from([1, 0x61, 0]), b.subarray(base.length + 1)]), /OPT record owner is not the root/],
  ['EDNS option runs past the OPT record', (b) => { const m = Buffer.concat([b, Buffer.from([0, 8, 0, 9])]); m.writeUInt16BE(4, m.length - 6); return m; }, /EDNS option 8 runs past the OPT record/],
  ['a truncated OPT record', (b) => b.subarray(0, b.length - 1), /record header runs past the end/],
  ['RDLENGTH longer than the message', (b) => { const m = Buffer.from(b); m.writeUInt16BE(5, m.length - 2); return m; }, /record data runs past the end/],
];

for (const [name, mutate, reason] of formerr) {
  t.test(`FORMERR: ${name}`, async (t) => {
    const p = parseQuery(mutate(withOpt));
    t.equal(p.kind, 'error');
    t.equal(p.kind === 'error' && p.rcode, 1);
    t.match(p.kind === 'error' && p.reason, reason);
    t.equal(p.kind === 'error' && p.id, 78);
  });
}

t.test('OPT in the answer section is FORMERR', async (t) => {
  const m = Buffer.from(withOpt);
  m.writeUInt16BE(1, 6); // ANCOUNT 1
  m.writeUInt16BE(0, 10); // ARCOUNT 0
  const p = parseQuery(m);
  t.equal(p.kind === 'error' && p.reason, 'OPT record outside the additional section');
});

t.test('QDCOUNT 0 with a non-QUERY opcode is NOTIMP, not FORMERR', async (t) => {
  const m = Buffer.from(base.subarray(0, 12));
  m.writeUInt16BE(5 << 11, 2); // UPDATE
  m.writeUInt16BE(0, 4);
  const p = parseQuery(m);
  t.equal(p.kind === 'error' && p.rcode, 4);
});
