/**
 * HTTPS and SVCB at load-balanced names, end to end over UDP and TCP: the records come from the
 * zone file, their ipv4hint/ipv6hint are the addresses of the same steering decision as A and
 * AAAA (they follow a failover, agree with A/AAAA for the same ECS subnet, and the ECS scope is
 * the one A gets); records for other targets and AliasMode are as written; no record, NODATA.
 */
import t from 'tap';
import { fileURLToPath } from 'node:url';
import dnsPacket from 'dns-packet';
import { openGeoLocator } from '../../src/geo/locator.js';
import type { HealthView } from '../../src/lb/model.js';
import { sendTcp, sendUdp, type Transport } from '../helpers/client.js';
import { view } from '../helpers/sections.js';
import { startServerWith, type TestServer } from '../helpers/server.js';

const ZONES = fileURLToPath(new URL('../fixtures/https-lb/', import.meta.url));
const OVERRIDES = fileURLToPath(new URL('../fixtures/geo-e2e/overrides.yaml', import.meta.url));

let server: TestServer;
const down = new Set<string>();
const health: HealthView = { origin: (_pool, origin) => !down.has(origin.name), poolRtt: () => undefined };

t.before(async () => {
  const geo = (await openGeoLocator({ overridesFile: OVERRIDES })).locator;
  server = await startServerWith(ZONES, { geo });
  t.same(server.loaded.problems.filter((p) => p.severity === 'error'), [], 'the fixture loads');
  (server.snapshot as { health: HealthView }).health = health; // read per query: a failover without monitors
});
t.teardown(() => server.close());

const TYPES: Record<string, number> = { A: 1, AAAA: 28, SVCB: 64, HTTPS: 65 };

/** A query with EDNS and, when given, an ECS option for an IPv4 /24. */
function build(name: string, type: string, ecs?: string): Buffer {
  const options = ecs ? [{ code: 8, data: Buffer.from([0, 1, 24, 0, ...ecs.split('.').slice(0, 3).map(Number)]) }] : [];
  const msg = dnsPacket.encode({ type: 'query', id: 7, questions: [{ name, type: 'A' }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, options } as unknown as dnsPacket.Answer] });
  msg.writeUInt16BE(TYPES[type], 12 + name.length + 2); // the question's type, by number: dns-packet lacks HTTPS and SVCB
  return msg;
}

async function ask(transport: Transport, name: string, type: string, ecs?: string) {
  const msg = build(name, type, ecs);
  const raw = transport === 'udp' ? await sendUdp(server.port, msg) : (await sendTcp(server.port, [msg]))[0];
  const opt = (dnsPacket.decode(raw!).additionals ?? []).find((a) => a.type === 'OPT') as unknown as { options: { code: number; data: Buffer }[] } | undefined;
  const scope = opt?.options.find((o) => o.code === 8)?.data[3];
  return { ...view(raw!), scope };
}

const rdata = (records: string[]): string[] => records.map((r) => r.split(' ').slice(3).join(' '));

for (const transport of ['udp', 'tcp'] as Transport[]) {
  t.test(`${transport}: hints follow the steering, and a failover`, async (t) => {
    down.clear();
    let r = await ask(transport, 'app.example.com', 'HTTPS');
    t.equal(r.rcode, 0);
    t.same(r.answer, [
      'app.example.com. 30 HTTPS 1 . alpn="h2,h3" ipv4hint=192.0.2.1 ipv6hint=2001:db8::1',
      'app.example.com. 30 HTTPS 2 alt.example.net. alpn="h2" ipv4hint=198.51.100.9',
    ], 'the primary pool\'s addresses; the record for another target as written; the load balancer\'s TTL');
    t.same(rdata((await ask(transport, 'app.example.com', 'A')).answer), ['192.0.2.1'], 'A agrees');
    t.same(rdata((await ask(transport, 'app.example.com', 'AAAA')).answer), ['2001:db8::1'], 'AAAA agrees');

    down.add('p4').add('p6');
    r = await ask(transport, 'app.example.com', 'HTTPS');
    t.same(r.answer[0], 'app.example.com. 30 HTTPS 1 . alpn="h2,h3" ipv4hint=192.0.2.2', 'the primary is down: the secondary\'s address, no IPv6 hint');
    t.same(rdata((await ask(transport, 'app.example.com', 'A')).answer), ['192.0.2.2'], 'A agrees');

    r = await ask(transport, 'svc.example.com', 'SVCB');
    t.same(r.answer, [
      'svc.example.com. 30 SVCB 1 . mandatory=port port=8443 ipv4hint=192.0.2.2',
      'svc.example.com. 30 SVCB 2 . ipv4hint=192.0.2.2',
    ], 'a hint listed in mandatory goes with its family\'s addresses, and so does its name in mandatory: the written address is never sent');
    down.clear();
    r = await ask(transport, 'svc.example.com', 'SVCB');
    t.same(r.answer, [
      'svc.example.com. 30 SVCB 1 . mandatory=port,ipv6hint port=8443 ipv4hint=192.0.2.1 ipv6hint=2001:db8::1',
      'svc.example.com. 30 SVCB 2 . mandatory=ipv6hint ipv4hint=192.0.2.1 ipv6hint=2001:db8::1',
    ], 'recovered');
  });

  t.test(`${transport}: the same ECS subnet gets hints agreeing with A, and the same scope`, async (t) => {
    for (const [subnet, v4, v6] of [['198.51.100.0', '192.0.2.11', undefined], ['8.8.8.0', '192.0.2.12', '2001:db8::12']] as const) {
      const https = await ask(transport, 'geo.example.com', 'HTTPS', subnet);
      const a = await ask(transport, 'geo.example.com', 'A', subnet);
      t.same(rdata(a.answer), [v4], `${subnet}: A`);
      t.same(rdata(https.answer), [`1 . alpn="h2" ipv4hint=${v4}${v6 ? ` ipv6hint=${v6}` : ''}`], `${subnet}: HTTPS hints are the A and AAAA answers`);
      t.ok(a.scope !== undefined && a.scope > 0, `${subnet}: A has a scope (${a.scope})`);
      t.equal(https.scope, a.scope, `${subnet}: HTTPS has the same ECS scope as A`);
    }
  });

  t.test(`${transport}: AliasMode as written; no HTTPS record, NODATA`, async (t) => {
    let r = await ask(transport, 'alias.example.com', 'HTTPS');
    t.same(r.answer, ['alias.example.com. 30 HTTPS 0 app.example.com.']);
    r = await ask(transport, 'plain.example.com', 'HTTPS');
    t.same([r.rcode, r.answer, r.authority.map((x) => x.split(' ').slice(0, 3).join(' '))], [0, [], ['example.com. 60 SOA']], 'NODATA from the zone, as without a load balancer');
  });
}
