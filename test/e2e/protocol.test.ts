/**
 * End to end, the wire rules: EDNS (RFC 6891), truncation and TCP retry (RFC 1035 §4.2.1,
 * RFC 7766), error rcodes for malformed and unsupported queries, case preservation, name
 * compression, and TCP framing, pipelining, idle timeout and connection cap.
 */
import t from 'tap';
import net from 'node:net';
import { networkInterfaces } from 'node:os';
import { fileURLToPath } from 'node:url';
import dnsPacket from 'dns-packet';
import { buildQuery, dataOf, decode, flagsOf, query, sendTcp, sendUdp } from '../helpers/client.js';
import { startServerWith, startTestServer, type TestServer } from '../helpers/server.js';

const ZONES = fileURLToPath(new URL('../fixtures/e2e/', import.meta.url));

let server: TestServer;
t.before(async () => {
  server = await startTestServer(ZONES, { idleTimeoutMs: 400, maxConnections: 4 });
});
t.teardown(() => server.close());

function opt(r: dnsPacket.Packet) {
  return (r.additionals ?? []).find((a) => a.type === 'OPT') as unknown as
    | { udpPayloadSize: number; extendedRcode: number; ednsVersion: number; flags: number }
    | undefined;
}

t.test('EDNS: OPT echoed with our size, DO echoed; none without EDNS', async (t) => {
  for (const transport of ['udp', 'tcp'] as const) {
    const r = await query(server.port, transport, 'www.example.com', 'A', { edns: { udpSize: 4096, do: true } });
    const o = opt(r);
    t.ok(o, `${transport}: OPT present`);
    t.equal(o?.udpPayloadSize, 1232);
    t.equal(o?.ednsVersion, 0);
    t.equal((o!.flags & 0x8000) !== 0, true, 'DO echoed');
    const plain = await query(server.port, transport, 'www.example.com', 'A');
    t.notOk(opt(plain), `${transport}: no OPT without EDNS in the query`);
    const noDo = await query(server.port, transport, 'www.example.com', 'A', { edns: {} });
    t.equal(opt(noDo)!.flags & 0x8000, 0, 'DO clear when not asked');
  }
});

t.test('EDNS version > 0 gets BADVERS', async (t) => {
  const r = await query(server.port, 'udp', 'www.example.com', 'A', { edns: { version: 1 } });
  const o = opt(r);
  t.equal(flagsOf(r.raw).rcode, 0, 'header rcode is the low 4 bits of 16');
  t.equal(o?.extendedRcode, 1, 'extended rcode 1 => BADVERS (16)');
  t.equal(o?.ednsVersion, 0, 'we speak version 0');
  t.same(r.answers, []);
});

t.test('truncation: too big for 512 without EDNS sets TC and drops the answer; TCP gets it all', async (t) => {
  const udp = await query(server.port, 'udp', 'big.example.com', 'TXT');
  t.ok(udp.raw.length <= 512, 'within 512 bytes');
  t.equal(flagsOf(udp.raw).tc, true, 'TC set');
  t.equal(flagsOf(udp.raw).aa, true, 'still authoritative');
  t.same(udp.answers, [], 'no partial RRset');
  t.same(udp.questions?.[0], { name: 'big.example.com', type: 'TXT', class: 'IN' });
  const tcp = await query(server.port, 'tcp', 'big.example.com', 'TXT');
  t.equal(flagsOf(tcp.raw).tc, false);
  t.equal(tcp.answers?.length, 8, 'whole RRset over TCP');
  const edns = await query(server.port, 'udp', 'big.example.com', 'TXT', { edns: { udpSize: 1232 } });
  t.equal(flagsOf(edns.raw).tc, false, 'fits in 1232 with EDNS');
  t.equal(edns.answers?.length, 8);
});

t.test('requester sizes below 512 count as 512, above ours as 1232', async (t) => {
  const small = await query(server.port, 'udp', 'big.example.com', 'TXT', { edns: { udpSize: 100 } });
  t.equal(flagsOf(small.raw).tc, true);
  t.ok(small.raw.length <= 512);
  t.ok(opt(small), 'OPT kept in a truncated answer');
});

t.test('the question is echoed exactly as sent; matching ignores case', async (t) => {
  for (const transport of ['udp', 'tcp'] as const) {
    const r = await query(server.port, transport, 'WwW.ExAmPlE.CoM', 'A');
    t.equal(r.questions?.[0].name, 'WwW.ExAmPlE.CoM');
    t.equal(r.answers?.length, 2);
    t.equal(r.rcode, 'NOERROR');
  }
});

t.test('names are compressed', async (t) => {
  const r = await query(server.port, 'udp', 'many.example.com', 'A');
  t.equal(r.answers?.length, 8);
  // 12 header + 22 question + 8 records of (2 pointer + 10 + 4) = 162 bytes, vs 290 uncompressed.
  t.equal(r.raw.length, 12 + 22 + 8 * 16);
  t.equal(r.raw.readUInt16BE(34), 0xc00c, 'owner points at the question name');
});

t.test('error rcodes', async (t) => {
  const q = buildQuery('www.example.com', 'A', { id: 4242 });

  const twoQuestions = dnsPacket.encode({ type: 'query', id: 7, questions: [{ name: 'a.example.com', type: 'A' }, { name: 'b.example.com', type: 'A' }] });
  let r = await sendUdp(server.port, twoQuestions);
  t.equal(flagsOf(r!).rcode, 1, 'QDCOUNT 2: FORMERR');
  t.equal(r!.readUInt16BE(0), 7, 'ID kept');

  const cutShort = q.subarray(0, q.length - 3);
  r = await sendUdp(server.port, cutShort);
  t.equal(flagsOf(r!).rcode, 1, 'truncated question: FORMERR');

  const trailing = Buffer.concat([q, Buffer.from([1, 2, 3])]);
  r = await sendUdp(server.port, trailing);
  t.equal(flagsOf(r!).rcode, 1, 'trailing garbage: FORMERR');

  const twoOpt = dnsPacket.encode({ type: 'query', id: 8, questions: [{ name: 'www.example.com', type: 'A' }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232 } as dnsPacket.Answer, { type: 'OPT', name: '.', udpPayloadSize: 1232 } as dnsPacket.Answer] });
  r = await sendUdp(server.port, twoOpt);
  t.equal(flagsOf(r!).rcode, 1, 'two OPT records: FORMERR');

  const notify = Buffer.from(q);
  notify.writeUInt16BE((4 << 11), 2); // opcode NOTIFY
  r = await sendUdp(server.port, notify);
  t.equal(flagsOf(r!).rcode, 4, 'opcode NOTIFY: NOTIMP');
  t.equal(flagsOf(r!).opcode, 4, 'opcode echoed');

  const chaos = await query(server.port, 'udp', 'version.bind', 'TXT', { qclass: 'CH' });
  t.equal(chaos.rcode, 'REFUSED', 'class CH: REFUSED');

  const loop = Buffer.from(q.subarray(0, 12));
  loop.writeUInt16BE(1, 4);
  r = await sendUdp(server.port, Buffer.concat([loop, Buffer.from([0xc0, 12, 0, 1, 0, 1])]));
  t.equal(flagsOf(r!).rcode, 1, 'compression pointer loop: FORMERR');
});

t.test('error answers keep OPT when the query had one (RFC 6891 §6.1.1)', async (t) => {
  const notify = Buffer.from(buildQuery('www.example.com', 'A', { id: 11, edns: { do: true } }));
  notify.writeUInt16BE(4 << 11, 2);
  const r = decode((await sendUdp(server.port, notify))!);
  t.equal(flagsOf(r.raw).rcode, 4, 'NOTIMP');
  t.ok(opt(r), 'OPT present');
  t.equal(opt(r)!.flags & 0x8000, 0x8000, 'DO echoed');
  t.equal(r.questions?.[0]?.name, 'www.example.com', 'question echoed');

  const two = dnsPacket.encode({ type: 'query', id: 12, questions: [{ name: 'a.example.com', type: 'A' }, { name: 'b.example.com', type: 'A' }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232 } as dnsPacket.Answer] });
  const f = decode((await sendUdp(server.port, two))!);
  t.equal(flagsOf(f.raw).rcode, 1, 'QDCOUNT 2: FORMERR');
  t.ok(opt(f), 'OPT present');
  t.same(f.questions, [], 'no question echoed when there was not exactly one');
});

t.test('a compression pointer into the header is FORMERR', async (t) => {
  const head = Buffer.from(buildQuery('x', 'A', { id: 13 }).subarray(0, 12));
  const r = await sendUdp(server.port, Buffer.concat([head, Buffer.from([0xc0, 2, 0, 1, 0, 1])]));
  t.equal(flagsOf(r!).rcode, 1);
});

t.test('TCP: trickling bytes does not keep a connection open', async (t) => {
  const s = net.connect(server.port, '127.0.0.1');
  await new Promise((r) => s.once('connect', r));
  const t0 = Date.now();
  const closed = new Promise<number>((r) => s.on('close', () => r(Date.now() - t0)));
  s.on('error', () => {});
  const trickle = setInterval(() => { if (!s.destroyed) s.write(Buffer.from([0])); }, 100);
  const after = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), 3000))]);
  clearInterval(trickle);
  s.destroy();
  t.ok(after > 0 && after < 1500, `closed after ${after} ms with a 400 ms idle timeout and a byte every 100 ms`);
});

t.test('TCP: a client that never reads does not make the server buffer without bound', async (t) => {
  let handled = 0;
  const counting = await startServerWith(ZONES, { onQuery: () => handled++ });
  t.teardown(() => counting.close());
  const s = net.connect({ port: counting.port, host: '127.0.0.1' });
  await new Promise((r) => s.once('connect', r));
  s.pause(); // never read
  const q = buildQuery('huge.example.com', 'TXT');
  const frame = Buffer.concat([Buffer.from([0, q.length]), q]);
  for (let i = 0; i < 2000; i++) s.write(frame); // ~70 KB of queries, ~20 MB of answers
  await new Promise((r) => setTimeout(r, 500));
  const r = await query(counting.port, 'udp', 'www.example.com', 'A');
  t.equal(r.rcode, 'NOERROR', 'others are still answered');
  // The server stops answering once the socket buffers are full, instead of queueing 20 MB.
  t.ok(handled > 1 && handled < 1000, `${handled} of 2000 queries answered while the client read nothing`);
  s.destroy();
});

t.test('messages that are not queries are dropped', async (t) => {
  const q = buildQuery('www.example.com', 'A');
  const response = Buffer.from(q);
  response.writeUInt16BE(0x8000, 2);
  t.equal(await sendUdp(server.port, response, '127.0.0.1', 300), undefined, 'QR set: no reply');
  t.equal(await sendUdp(server.port, Buffer.from([1, 2, 3]), '127.0.0.1', 300), undefined, 'short: no reply');
  const ok = await query(server.port, 'udp', 'www.example.com', 'A');
  t.equal(ok.rcode, 'NOERROR', 'still answering');
});

t.test('TCP: pipelined queries on one connection are all answered in order', async (t) => {
  const names = ['www.example.com', 'mail.example.com', 'nope.example.com', 'big.example.com'];
  const msgs = names.map((n, i) => buildQuery(n, n.startsWith('big') ? 'TXT' : 'A', { id: 100 + i }));
  const replies = await sendTcp(server.port, msgs);
  t.equal(replies.length, 4);
  t.same(replies.map((r) => r.readUInt16BE(0)), [100, 101, 102, 103]);
  t.same(replies.map((r) => decode(r).rcode), ['NOERROR', 'NOERROR', 'NXDOMAIN', 'NOERROR']);
});

t.test('TCP: a query split across writes is answered', async (t) => {
  const msg = buildQuery('www.example.com', 'A', { id: 9 });
  const framed = Buffer.concat([Buffer.from([0, msg.length]), msg]);
  const reply = await new Promise<Buffer>((resolve, reject) => {
    const s = net.connect(server.port, '127.0.0.1', () => {
      s.write(framed.subarray(0, 1));
      setTimeout(() => s.write(framed.subarray(1, 7)), 30);
      setTimeout(() => s.write(framed.subarray(7)), 60);
    });
    s.on('data', (d) => { s.destroy(); resolve(d.subarray(2)); });
    s.on('error', reject);
  });
  t.equal(reply.readUInt16BE(0), 9);
  t.equal(dnsPacket.decode(reply).answers?.length, 2);
});

t.test('TCP: a half-sent message does not block other clients, and idle connections close', async (t) => {
  const stuck = net.connect(server.port, '127.0.0.1');
  await new Promise((r) => stuck.once('connect', r));
  stuck.write(Buffer.from([0, 40, 1, 2])); // promises 40 bytes, sends 2
  const closed = new Promise<number>((r) => { const t0 = Date.now(); stuck.on('close', () => r(Date.now() - t0)); });
  const r = await query(server.port, 'tcp', 'www.example.com', 'A');
  t.equal(r.rcode, 'NOERROR', 'another client is answered');
  const after = await closed;
  t.ok(after >= 300 && after < 3000, `idle connection closed by the server after ~400 ms (${after} ms)`);
});

t.test('TCP: at the connection cap the connection idle longest is closed', async (t) => {
  const open = async () => {
    const s = net.connect(server.port, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    return s;
  };
  const first = await open();
  const firstClosed = new Promise<boolean>((r) => first.on('close', () => r(true)));
  await new Promise((r) => setTimeout(r, 20));
  const others = [await open(), await open(), await open()];
  await new Promise((r) => setTimeout(r, 20));
  const r = await query(server.port, 'tcp', 'www.example.com', 'A'); // a fifth connection, over the cap of 4
  t.equal(r.rcode, 'NOERROR', 'the new client is answered');
  t.equal(await Promise.race([firstClosed, new Promise<boolean>((r) => setTimeout(() => r(false), 1000))]), true, 'the oldest idle connection was closed');
  for (const s of others) s.destroy();
});

const hasV6Loopback = Object.values(networkInterfaces()).some((list) => list?.some((i) => i.address === '::1'));

t.test('IPv6 loopback listener', { skip: hasV6Loopback ? false : 'no ::1 on this machine' }, async (t) => {
  const v6 = await startTestServer(ZONES, undefined, '::1');
  t.teardown(() => v6.close());
  for (const transport of ['udp', 'tcp'] as const) {
    const r = await query(v6.port, transport, 'www.example.com', 'AAAA', {}, '::1');
    t.same(r.answers?.map(dataOf), ['2001:db8::80'], transport);
  }
});
