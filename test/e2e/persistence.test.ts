/**
 * End to end, DNS persistence: the real server with a load balancer that steers at random
 * across pools with unequal origin weights. The same ECS subnet gets the same answer query
 * after query (UDP and TCP), different subnets spread over the origins, and the ECS scope is
 * the source prefix for key `ecs` and 0 for a key taken from the resolver.
 */
import t from 'tap';
import { fileURLToPath } from 'node:url';
import dnsPacket from 'dns-packet';
import { PinTable } from '../../src/lb/persistence.js';
import { dataOf, decode, sendTcp, sendUdp, type Transport } from '../helpers/client.js';
import { startServerWith, type TestServer } from '../helpers/server.js';

const ZONES = fileURLToPath(new URL('../fixtures/persistence-e2e/', import.meta.url));

let server: TestServer;
const now = { t: 1_000_000 };
const table = new PinTable({ maxEntries: 1000, now: () => now.t });

t.before(async () => {
  server = await startServerWith(ZONES, { persistence: table });
});
t.teardown(() => server.close());

/** An A query with an IPv4 ECS option. */
function ecsQuery(name: string, subnet: string, id = 7): Buffer {
  const [address, prefix] = subnet.split('/');
  const source = Number(prefix);
  const data = Buffer.concat([Buffer.from([0, 1, source, 0]), Buffer.from(address.split('.').map(Number)).subarray(0, Math.ceil(source / 8))]);
  return dnsPacket.encode({ type: 'query', id, questions: [{ name, type: 'A' }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, options: [{ code: 8, data }] } as unknown as dnsPacket.Answer] });
}

async function ask(transport: Transport, name: string, subnet: string) {
  const msg = ecsQuery(name, subnet);
  const raw = transport === 'udp' ? await sendUdp(server.port, msg) : (await sendTcp(server.port, [msg]))[0];
  const r = decode(raw!);
  const opt = (r.additionals ?? []).find((a) => a.type === 'OPT') as unknown as { options: { code: number; data: Buffer }[] } | undefined;
  const ecs = opt?.options.find((o) => o.code === 8);
  return { answers: (r.answers ?? []).map((a) => String(dataOf(a))).sort().join(' '), source: ecs?.data[2], scope: ecs?.data[3] };
}

t.test('the same subnet twice gets the same answer, over UDP and TCP', async (t) => {
  for (const subnet of ['203.0.113.0/24', '198.51.100.0/24', '100.64.12.0/22']) {
    const first = await ask('udp', 'sticky.example.com', subnet);
    t.match(first.answers, /^\d+\.\d+\.\d+\.\d+$/, `${subnet}: one address (weights differ)`);
    for (const transport of ['udp', 'tcp', 'udp', 'tcp'] as Transport[]) {
      const again = await ask(transport, 'sticky.example.com', subnet);
      t.equal(again.answers, first.answers, `${subnet} over ${transport}: the same answer`);
      t.same([again.source, again.scope], [Number(subnet.split('/')[1]), Number(subnet.split('/')[1])], 'ECS scope = source prefix');
    }
  }
});

t.test('different subnets spread across origins of both pools', async (t) => {
  const counts = new Map<string, number>();
  for (let i = 0; i < 400; i++) {
    const a = await ask(i % 2 === 0 ? 'udp' : 'tcp', 'sticky.example.com', `10.${i >> 8}.${i & 0xff}.0/24`);
    counts.set(a.answers, (counts.get(a.answers) ?? 0) + 1);
  }
  t.same([...counts.keys()].sort(), ['192.0.2.1', '192.0.2.2', '192.0.2.3', '198.51.100.1', '198.51.100.2'], 'every origin gets clients');
  t.ok(counts.get('192.0.2.1')! > counts.get('192.0.2.3')!, 'heavier origins get more');
  t.ok(counts.get('198.51.100.1')! > counts.get('198.51.100.2')!, 'in both pools');
  t.ok(table.size >= 400, 'one pin per subnet');
});

t.test('a key from the resolver: same answer for every subnet behind it, ECS scope 0', async (t) => {
  const first = await ask('udp', 'sticky-resolver.example.com', '203.0.113.0/24');
  t.equal(first.scope, 0);
  for (let i = 0; i < 20; i++) {
    const a = await ask(i % 2 ? 'tcp' : 'udp', 'sticky-resolver.example.com', `10.9.${i}.0/24`);
    t.equal(a.answers, first.answers, 'pinned to the resolver (127.0.0.0/24)');
    t.equal(a.scope, 0, 'scope 0');
  }
});
