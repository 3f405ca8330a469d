/**
 * End to end, client location: EDNS Client Subnet queries over UDP and TCP get the answer for
 * the subnet's country (located by operator overrides and by the shipped database) and an ECS
 * option back whose SCOPE PREFIX-LENGTH says how far the answer holds (RFC 7871 §7.2.1).
 */
import t from 'tap';
import { fileURLToPath } from 'node:url';
import dnsPacket from 'dns-packet';
import { openGeoLocator, type GeoLocator } from '../../src/geo/locator.js';
import { dataOf, decode, flagsOf, sendTcp, sendUdp, type Transport } from '../helpers/client.js';
import { startServerWith, type TestServer } from '../helpers/server.js';

const ZONES = fileURLToPath(new URL('../fixtures/geo-e2e/', import.meta.url));
const OVERRIDES = fileURLToPath(new URL('../fixtures/geo-e2e/overrides.yaml', import.meta.url));

let server: TestServer;
let geo: GeoLocator;

t.before(async () => {
  const opened = await openGeoLocator({ overridesFile: OVERRIDES });
  t.same(opened.problems, [], 'overrides load');
  geo = opened.locator;
  // This node is in Japan: without ECS, geo steering falls to default_pools.
  server = await startServerWith(ZONES, { geo, pop: { pop: 'NRT', country: 'JP', region: 'NEAS', latitude: 35.8, longitude: 140.4 } });
});
t.teardown(() => server.close());

interface Ecs { family: number; source: number; address: string }

/** A query with an ECS option, built by hand so that malformed options can be sent too. */
function ecsQuery(name: string, ecs: Ecs | Buffer | Buffer[]): Buffer {
  const list = Array.isArray(ecs) ? ecs : [ecs];
  const options = list.map((e) => ({ code: 8, data: Buffer.isBuffer(e) ? e : ecsData(e) }));
  return dnsPacket.encode({ type: 'query', id: 5, questions: [{ name, type: 'A' }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, options } as unknown as dnsPacket.Answer] });
}

function ecsData(e: Ecs): Buffer {
  const bytes = e.family === 1 ? Buffer.from(e.address.split('.').map(Number)) : Buffer.from(e.address.replace(/:/g, ''), 'hex');
  return Buffer.concat([Buffer.from([0, e.family, e.source, 0]), bytes.subarray(0, Math.ceil(e.source / 8))]);
}

async function ask(transport: Transport, msg: Buffer) {
  const raw = transport === 'udp' ? await sendUdp(server.port, msg) : (await sendTcp(server.port, [msg]))[0];
  const r = decode(raw!);
  const opt = (r.additionals ?? []).find((a) => a.type === 'OPT') as unknown as { options: { code: number; data: Buffer }[] } | undefined;
  const ecs = opt?.options.find((o) => o.code === 8);
  return { r, answers: (r.answers ?? []).map((a) => String(dataOf(a))).sort(), ecs: ecs && { family: ecs.data.readUInt16BE(0), source: ecs.data[2], scope: ecs.data[3], address: ecs.data.subarray(4) } };
}

const v4 = (address: string, source = 24): Ecs => ({ family: 1, source, address });

for (const transport of ['udp', 'tcp'] as Transport[]) {
  t.test(`${transport}: geo steering follows the ECS country, with the scope of the deciding network`, async (t) => {
    const de = await ask(transport, ecsQuery('geo.example.com', v4('198.51.100.0')));
    t.same(de.answers, ['192.0.2.1'], 'override 198.51.100.0/24 is DE: the eu pool');
    t.same(de.ecs, { family: 1, source: 24, scope: 24, address: Buffer.from([198, 51, 100]) }, 'ECS echoed, scope /24 (the override network)');

    const au = await ask(transport, ecsQuery('geo.example.com', v4('203.0.113.0', 24)));
    t.same(au.answers, ['192.0.2.3'], 'override 203.0.113.0/25 is AU: the ap pool');
    t.equal(au.ecs?.scope, 24, 'the /25 network decided, but scope never exceeds the /24 source');

    const narrow = await ask(transport, ecsQuery('geo.example.com', v4('203.0.113.0', 26)));
    t.equal(geo.lookup('203.0.113.128')?.location.country, 'AU', 'the database also places the other /25 in AU');
    t.equal(narrow.ecs?.scope, 24, 'with a /26 source, the scope widens past the /25 override to the /24 located alike');

    const us = await ask(transport, ecsQuery('geo.example.com', v4('8.8.8.0')));
    const hit = geo.lookup('8.8.8.0');
    t.equal(hit?.location.country, 'US', 'the shipped database places 8.8.8.0 in the US');
    t.same(us.answers, ['192.0.2.2']);
    const widest = geo.widestPrefix('8.8.8.0', hit!);
    t.ok(widest <= hit!.prefixLength, `widened from /${hit!.prefixLength} to /${widest}`);
    t.equal(us.ecs?.scope, Math.min(24, widest), 'scope = the widest network located alike, at most the source');

    const v6 = await ask(transport, ecsQuery('geo.example.com', { family: 2, source: 56, address: '20010db800de00000000000000000000' }));
    t.same(v6.answers, ['192.0.2.1'], 'IPv6 subnet in 2001:db8:de::/48 is DE');
    t.equal(v6.ecs?.scope, 48);
  });

  t.test(`${transport}: answers that do not depend on the subnet have scope 0`, async (t) => {
    for (const name of ['static.example.com', 'plain.example.com', 'geo-default.example.com', 'nope.example.com']) {
      const r = await ask(transport, ecsQuery(name, v4('198.51.100.0')));
      t.equal(r.ecs?.scope, 0, `${name}: scope 0`);
      t.equal(r.ecs?.source, 24, `${name}: source echoed`);
    }
    const dflt = await ask(transport, ecsQuery('geo-default.example.com', v4('198.51.100.0')));
    t.same(dflt.answers, ['192.0.2.2'], 'default location_strategy: geo uses this node (JP: no country list, default_pools)');
  });

  t.test(`${transport}: proximity uses ECS by default; hash steering scopes to the whole subnet`, async (t) => {
    const near = await ask(transport, ecsQuery('near.example.com', v4('203.0.113.0')));
    t.same(near.answers, ['192.0.2.3'], 'AU subnet: the Sydney pool is nearest');
    t.equal(near.ecs?.scope, 24);
    const h = await ask(transport, ecsQuery('hashed.example.com', v4('198.51.100.0', 22)));
    t.equal(h.answers.length, 1, 'unequal weights: one origin');
    t.equal(h.ecs?.scope, 22, 'a hash of the subnet decided: scope = source prefix');
    const again = await ask(transport, ecsQuery('hashed.example.com', v4('198.51.100.0', 22)));
    t.same(again.answers, h.answers, 'the same subnet gets the same origin');
  });

  t.test(`${transport}: a subnet nobody can locate is answered for that subnet only`, async (t) => {
    t.equal(geo.lookup('240.0.0.0'), undefined, '240.0.0.0/4 (reserved) is in no database');
    const r = await ask(transport, ecsQuery('geo.example.com', v4('240.0.0.0')));
    t.same(r.answers, ['192.0.2.2'], 'not located: this node (JP), so default_pools');
    t.equal(r.ecs?.scope, 24, 'scope = source: a neighbouring subnet may be located elsewhere');
  });

  t.test(`${transport}: source prefix 0 asks not to be located by subnet`, async (t) => {
    const r = await ask(transport, ecsQuery('geo.example.com', { family: 1, source: 0, address: '0.0.0.0' }));
    t.same(r.answers, ['192.0.2.2'], 'located at this node instead: default_pools');
    t.same(r.ecs, { family: 1, source: 0, scope: 0, address: Buffer.alloc(0) });
  });

  t.test(`${transport}: malformed ECS options are FORMERR (RFC 7871 §7.2.1)`, async (t) => {
    const bad: [string, Buffer | Buffer[]][] = [
      ['source prefix longer than the address', Buffer.from([0, 1, 33, 0, 1, 2, 3, 4, 5])],
      ['address bits beyond the source prefix', Buffer.from([0, 1, 23, 0, 198, 51, 101])],
      ['too many address octets', Buffer.from([0, 1, 16, 0, 198, 51, 100])],
      ['too few address octets', Buffer.from([0, 1, 24, 0, 198, 51])],
      ['unknown family', Buffer.from([0, 3, 0, 0])],
      ['two ECS options', [ecsData(v4('198.51.100.0')), ecsData(v4('203.0.113.0'))]],
    ];
    for (const [what, data] of bad) {
      const r = await ask(transport, ecsQuery('geo.example.com', data));
      t.equal(flagsOf(r.r.raw).rcode, 1, `${what}: FORMERR`);
      t.ok((r.r.additionals ?? []).some((a) => a.type === 'OPT'), `${what}: OPT kept`);
    }
  });
}

t.test('no ECS in the query, none in the response', async (t) => {
  const msg = dnsPacket.encode({ type: 'query', id: 6, questions: [{ name: 'geo.example.com', type: 'A' }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, options: [] } as unknown as dnsPacket.Answer] });
  const r = await ask('udp', msg);
  t.equal(r.ecs, undefined);
});
