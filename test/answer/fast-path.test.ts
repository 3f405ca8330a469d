/**
 * The fast path answers exactly like the general path. Many random queries (names of the demo
 * zones and others, random case, types, flags, EDNS sizes, DO, ECS, damaged messages) go to a
 * handler with the answer cache and to one without; every response must be the same bytes.
 * Both sides steer with the same seeded random source, so steered answers match too.
 */
import t from 'tap';
import { pino } from 'pino';
import { loadConfig } from '../../src/snapshot/load.js';
import type { Snapshot } from '../../src/snapshot/snapshot.js';
import { AnswerCache } from '../../src/answer/answer-cache.js';
import { Name, keyOfLabels } from '../../src/wire/name.js';
import { ALL_HEALTHY } from '../../src/lb/model.js';
import { PinTable } from '../../src/lb/persistence.js';
import { mulberry32 } from '../../src/lb/random.js';
import { createHandler } from '../../src/server/handler.js';

const rand = mulberry32(20261124);
const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)];

const NAMES = ['example.com', 'www.example.com', 'app.example.com', 'api.example.com', 'near.example.com', 'web.example.com', 'smtp.example.com',
  'mail.example.com', 'nope.example.com', 'a.b.c.example.com', '_sip._tcp.example.com', 'example.org', 'com', 'x.y'];
const TYPES = [1, 28, 5, 15, 33, 2, 6, 16, 255, 252, 41, 99, 65, 257];

function label(text: string): Buffer {
  // Random case: names are case-insensitive, but the question is echoed as sent.
  return Buffer.from([...text].map((c) => (rand() < 0.5 ? c.toUpperCase() : c)).join(''), 'latin1');
}

function randomQuery(): Buffer {
  const parts: Buffer[] = [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(Math.floor(rand() * 65536), 0);
  header.writeUInt16BE((rand() < 0.7 ? 0x0100 : 0) | (rand() < 0.1 ? 0x0010 : 0) | (rand() < 0.03 ? 0x2800 : 0), 2); // RD, CD, sometimes opcode 5
  header.writeUInt16BE(1, 4);
  const edns = rand() < 0.7;
  header.writeUInt16BE(edns ? 1 : 0, 10);
  parts.push(header);
  for (const l of pick(NAMES).split('.')) parts.push(Buffer.from([l.length]), label(l));
  parts.push(Buffer.from([0, 0, 0, 0, 1]));
  parts[parts.length - 1].writeUInt16BE(pick(TYPES), 1);
  if (rand() < 0.02) parts[parts.length - 1].writeUInt16BE(3, 3); // class CH
  if (edns) {
    const options: Buffer[] = [];
    if (rand() < 0.4) {
      const prefix = pick([0, 8, 16, 24, 24, 32]);
      const octets = Math.ceil(prefix / 8);
      const o = Buffer.alloc(8 + octets);
      o.writeUInt16BE(8, 0);
      o.writeUInt16BE(4 + octets, 2);
      o.writeUInt16BE(1, 4);
      o[6] = prefix;
      for (let i = 0; i < octets; i++) o[8 + i] = pick([1, 8, 45, 81, 126, 133, 185, 203]);
      options.push(o);
    }
    const rdata = Buffer.concat(options);
    const opt = Buffer.alloc(11);
    opt.writeUInt16BE(41, 1);
    opt.writeUInt16BE(pick([512, 1232, 4096, 100]), 3);
    opt[6] = rand() < 0.05 ? 1 : 0; // EDNS version 1 now and then: BADVERS
    opt.writeUInt16BE(rand() < 0.3 ? 0x8000 : 0, 7);
    opt.writeUInt16BE(rdata.length, 9);
    parts.push(opt, rdata);
  }
  const msg = Buffer.concat(parts);
  return rand() < 0.05 ? msg.subarray(0, Math.floor(rand() * msg.length)) : msg; // damaged now and then
}

t.test('responses with the answer cache are the bytes the general path writes', async (t) => {
  const loaded = loadConfig(new URL('../../zones', import.meta.url).pathname);
  const snapshot = (): Snapshot => ({ zones: loaded.zones, lb: loaded.lb, health: ALL_HEALTHY, pop: {}, hostnames: { get: () => undefined }, random: mulberry32(7), persistence: new PinTable({}) });
  const log = pino({ level: 'silent' });
  const cache = new AnswerCache(150); // small, so generations turn over during the run
  const cached = createHandler(((s) => () => s)(snapshot()), log, { answerCache: cache });
  const general = createHandler(((s) => () => s)(snapshot()), log);
  const pool = Array.from({ length: 400 }, randomQuery);
  let compared = 0;
  for (let i = 0; i < 20_000; i++) {
    const query = Buffer.from(pick(pool));
    if (query.length >= 2) query.writeUInt16BE(i & 0xffff, 0); // a new ID each time: only the ID is patched
    const client = { transport: rand() < 0.9 ? ('udp' as const) : ('tcp' as const), address: pick(['192.0.2.1', '2001:db8::1', '81.2.69.160']), port: 53 };
    // No transfer is allowed here: every answer is one message.
    const a = cached(query, client) as Buffer | undefined;
    const b = general(query, client) as Buffer | undefined;
    if (!(a === undefined ? b === undefined : b !== undefined && a.equals(b))) {
      t.fail(`query ${query.toString('hex')} from ${client.address} over ${client.transport}: ${a?.toString('hex')} != ${b?.toString('hex')}`);
      return;
    }
    compared++;
  }
  t.equal(compared, 20_000, 'every response identical');
  t.ok(cache.hits > 5_000, `the cache answered many of them (${cache.hits} hits, ${cache.misses} misses)`);
  t.ok(cache.size <= 300, 'bounded by two generations');
});

t.test('the answer cache compares the query bytes: two queries under one hash never share an answer', async (t) => {
  const cache = new AnswerCache(10);
  const snap = {};
  const a = Buffer.from(plainQuery('www.example.com'));
  const b = Buffer.from(plainQuery('api.example.com'));
  const keyA = cache.key(a, snap)!;
  t.equal(cache.key(Buffer.concat([Buffer.from([9, 9]), a.subarray(2)]), snap), keyA, 'the ID is not part of the key');
  cache.offer(keyA, a, { response: Buffer.from('answer for a'), rcode: 0 });
  t.ok(cache.get(keyA, a), 'a finds its answer');
  // b looked up under a's key is what a hash collision would do.
  t.equal(cache.get(keyA, b), undefined, 'b does not get a\'s answer');
  t.equal(cache.get(keyA, a.subarray(0, a.length - 1)), undefined, 'nor does a shorter query');
  cache.offer(keyA, b, { response: Buffer.from('answer for b'), rcode: 0 });
  t.equal(cache.get(keyA, b)?.response.subarray(2).toString(), 'swer for b', 'the newer query replaces the older in the slot');
  t.equal(cache.get(keyA, a), undefined);
});

/** A plain query for `name` type A, no EDNS. */
function plainQuery(name: string): Buffer {
  const labels = name.split('.').flatMap((l) => [Buffer.from([l.length]), Buffer.from(l)]);
  return Buffer.concat([Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, Buffer.from([0, 0, 1, 0, 1])]);
}

t.test('names read from the wire have the key and suffix keys of their labels', async (t) => {
  for (let i = 0; i < 2_000; i++) {
    const labels: Buffer[] = [];
    const count = Math.floor(rand() * 5);
    for (let j = 0; j < count; j++) {
      const len = 1 + Math.floor(rand() * 10);
      // Mostly letters of both cases and digits; sometimes any octet (escapes, dots, bytes >= 0x80).
      labels.push(Buffer.from(Array.from({ length: len }, () => (rand() < 0.9 ? pick([0x41, 0x5a, 0x61, 0x7a, 0x30, 0x2d, 0x5f]) + Math.floor(rand() * 3) % 2 : Math.floor(rand() * 256)))));
    }
    const wire = Buffer.concat([Buffer.alloc(12), ...labels.flatMap((l) => [Buffer.from([l.length]), l]), Buffer.from([0])]);
    const { name, next } = Name.fromWire(wire, 12);
    t.equal(next, wire.length);
    t.equal(name.key, keyOfLabels(labels));
    t.same(name.labels.map((l) => l.toString('hex')), labels.map((l) => l.toString('hex')));
    t.same(name.suffixKeys(), labels.map((_, k) => keyOfLabels(labels.slice(k))).concat('.'));
    t.equal(name.labelCount, labels.length);
    t.ok(name.wire.equals(wire.subarray(12)), 'wire form with its original case');
  }
});
