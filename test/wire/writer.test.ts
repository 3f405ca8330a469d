/** The response writer: compression pointers, RFC 3597 non-compression, whole-RRset rollback. */
import t from 'tap';
import dnsPacket from 'dns-packet';
import { Name } from '../../src/wire/name.js';
import { T } from '../../src/wire/types.js';
import { MessageWriter } from '../../src/wire/writer.js';
import type { RRset } from '../../src/wire/record.js';
import { dataOf } from '../helpers/client.js';

const n = (s: string) => Name.fromText(s);
const nameRdata = (name: Name, prefix = Buffer.alloc(0)) => ({ wire: Buffer.concat([prefix, name.wire]), names: [{ offset: prefix.length, name }] });

t.test('owners and MX exchanges are compressed; SRV targets are not (RFC 3597 §4)', async (t) => {
  const w = new MessageWriter(512);
  w.header(1, 0x8400);
  w.question(n('example.com.'), T.MX, 1);
  const mx: RRset = { owner: n('example.com.'), type: T.MX, ttl: 60, rdatas: [nameRdata(n('mail.example.com.'), Buffer.from([0, 10]))] };
  const srvTarget = n('sip.example.com.');
  const srv: RRset = { owner: n('_sip._tcp.example.com.'), type: T.SRV, ttl: 60, rdatas: [nameRdata(srvTarget, Buffer.from([0, 1, 0, 2, 0, 3]))] };
  t.ok(w.rrset(1, mx));
  t.ok(w.rrset(3, srv));
  const msg = w.finish();
  const d = dnsPacket.decode(msg);
  t.same(d.answers?.map((a) => dataOf(a)), [{ preference: 10, exchange: 'mail.example.com' }]);
  t.same(d.additionals?.map((a) => dataOf(a)), [{ priority: 1, weight: 2, port: 3, target: 'sip.example.com' }]);
  t.ok(msg.includes(srvTarget.wire), 'SRV target written in full');
  const mxOwnerAt = 12 + 13 + 4;
  t.equal(msg.readUInt16BE(mxOwnerAt), 0xc00c, 'MX owner points at the question');
  t.equal(msg.readUInt16BE(mxOwnerAt + 2 + 10 + 2 + 5), 0xc00c, 'MX exchange is "mail" + pointer');
});

t.test('an RRset that does not fit leaves the message unchanged', async (t) => {
  const w = new MessageWriter(60);
  w.header(2, 0x8400);
  w.question(n('example.com.'), T.A, 1);
  const before = w.pos;
  const big: RRset = { owner: n('a-long-owner-name.example.com.'), type: T.TXT, ttl: 1, rdatas: [{ wire: Buffer.alloc(20), names: [] }, { wire: Buffer.alloc(20), names: [] }] };
  t.notOk(w.rrset(1, big));
  t.equal(w.pos, before);
  const small: RRset = { owner: n('x.example.com.'), type: T.A, ttl: 1, rdatas: [{ wire: Buffer.from([192, 0, 2, 1]), names: [] }] };
  t.ok(w.rrset(1, small));
  const d = dnsPacket.decode(w.finish());
  t.same(d.answers?.map((a) => `${a.name} ${dataOf(a)}`), ['x.example.com 192.0.2.1'], 'no stale pointer into the rolled-back bytes');
});

t.test('a large answer (past the compression table\'s scan limit) compresses and rolls back the same', async (t) => {
  const w = new MessageWriter(65535);
  w.header(1, 0x8400);
  w.question(n('example.com.'), T.NS, 1);
  const targets = Array.from({ length: 200 }, (_, i) => n(`ns${i}.host${i % 7}.example.com.`));
  const ns: RRset = { owner: n('example.com.'), type: T.NS, ttl: 60, rdatas: targets.map((x) => nameRdata(x)) };
  t.ok(w.rrset(1, ns));
  const before = w.pos;
  // An RRset that does not fit is rolled back whole, its suffixes forgotten with it.
  const huge: RRset = { owner: n('big.example.com.'), type: T.TXT, ttl: 60, rdatas: [{ wire: Buffer.alloc(65000), names: [] }] };
  t.notOk(w.rrset(2, huge));
  t.equal(w.pos, before);
  // The same names again: every one is a pointer now.
  const again: RRset = { owner: n('example.com.'), type: T.NS, ttl: 60, rdatas: targets.map((x) => nameRdata(x)) };
  t.ok(w.rrset(3, again));
  t.equal(w.pos - before, 200 * (2 + 10 + 2), 'owner and target both pointers, 200 times');
  const d = dnsPacket.decode(w.finish());
  t.same(d.additionals?.map((a) => dataOf(a)), targets.map((x) => x.toString().replace(/\.$/, '')));
  t.same(d.answers?.map((a) => dataOf(a)), targets.map((x) => x.toString().replace(/\.$/, '')));
});

t.test('keepNames: false writes the same octets and leaves nothing made on the names (a zone transfer)', async (t) => {
  // Lower-case names keep no wire form until written (Name.plain); answers make and keep it.
  const names = () => ({ owner: n('www.example.com.'), other: n('mail.example.com.'), target: n('mail.example.com.'), upper: n('Web.Example.com.'), root: n('.') });
  const write = (ns: ReturnType<typeof names>, keepNames: boolean) => {
    const w = new MessageWriter(4096, { keepNames });
    w.header(9, 0x8400);
    w.question(ns.owner, T.AXFR, 1);
    t.ok(w.rrset(1, { owner: ns.owner, type: T.A, ttl: 5, rdatas: [{ wire: Buffer.from([192, 0, 2, 1]), names: [] }] }));
    t.ok(w.rrset(1, { owner: ns.other, type: T.MX, ttl: 5, rdatas: [nameRdata(ns.target, Buffer.from([0, 10]))] }));
    t.ok(w.rrset(1, { owner: ns.upper, type: T.NS, ttl: 5, rdatas: [nameRdata(ns.root)] }));
    return w.finish();
  };
  const nameRdata = (name: Name, prefix = Buffer.alloc(0)) => ({ wire: Buffer.concat([prefix, name.wireOnce()]), names: [{ offset: prefix.length, name }] });
  const bytesOf = (name: Name) => (name as unknown as { bytes: Buffer | undefined }).bytes;
  const suffixesOf = (name: Name) => (name as unknown as { suffixes: readonly string[] | undefined }).suffixes;
  const kept = names();
  const once = names();
  t.equal(bytesOf(once.owner), undefined, 'a lower-case name has no wire form yet');
  t.same(write(once, false), write(kept, true), 'the same message');
  for (const k of ['owner', 'other', 'target'] as const) {
    t.equal(bytesOf(once[k]), undefined, `${k}: no wire form left on it`);
    t.equal(suffixesOf(once[k]), undefined, `${k}: no suffix keys left on it`);
    t.ok(bytesOf(kept[k]), `${k}: an answer keeps its wire form`);
  }
  t.same(once.upper.wireOnce(), once.upper.wire, 'a name with its own octets (case kept) gives them');
  t.same(n('.').wireOnce(), Buffer.from([0]));
  t.same(n('a.b.example.').wireOnce(), n('a.b.example.').wire);
});
