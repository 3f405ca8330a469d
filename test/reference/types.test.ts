/**
 * Differential test for issue 16: steerdns and a peer, Knot DNS and then NSD 4, serve
 * test/fixtures/types/ (a zone with every record type, and DNAME corners including a DNAME at an
 * apex) and get the same questions over UDP and TCP: every owner and type of the types zone, and
 * the DNAME cases. Header flags, rcode and the three sections must agree; records are compared
 * as presentation text of their rdata with compressed names expanded, so each server may
 * compress as it likes. What a peer cannot load is left out for both servers, and what a peer
 * answers differently by design is checked as said where it is declared (DNAME loop, NSD's
 * minimal responses). Each peer's test is skipped when its server is not installed.
 */
import t, { type Test } from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sendTcp, sendUdp, type Transport } from '../helpers/client.js';
import { knotdPath, nsdPath, startKnot, startNsd, type ReferenceServer, type ReferenceZone } from '../helpers/reference.js';
import { startTestServer } from '../helpers/server.js';
import { view, type View } from '../helpers/sections.js';
import { Name } from '../../src/wire/name.js';
import { T, typeFromText, typeToText } from '../../src/wire/types.js';
import { parseZone } from '../../src/zone/parser.js';

const DIR = fileURLToPath(new URL('../fixtures/types/', import.meta.url));
const ZONES = ['types.example', 'dname.example', 'apex.example'];

function query(id: number, name: string, type: number): Buffer {
  const qname = Name.fromText(name.endsWith('.') ? name : name + '.').wire;
  const opt = Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]); // EDNS, 1232 octets
  const msg = Buffer.concat([Buffer.alloc(12), qname, Buffer.alloc(4), opt]);
  msg.writeUInt16BE(id, 0);
  msg.writeUInt16BE(1, 4);
  msg.writeUInt16BE(1, 10);
  msg.writeUInt16BE(type, 12 + qname.length);
  msg.writeUInt16BE(1, 14 + qname.length);
  return msg;
}

async function ask(port: number, transport: Transport, msg: Buffer): Promise<Buffer> {
  const raw = transport === 'udp' ? await sendUdp(port, msg, '127.0.0.1', 2000) : (await sendTcp(port, [msg], 1, '127.0.0.1', 3000))[0];
  if (!raw) throw new Error(`no ${transport} answer from port ${port}`);
  return raw;
}

/** Knot 3.2 has no MB, MG, MR, X25 (as written), ISDN, PX, NSAP-PTR or dohpath: those lines are left out for both servers. */
const KNOT_LACKS = /^\S+\s+(MB|MG|MR|X25|ISDN|PX|NSAP-PTR)\s|dohpath=/;
/** NSD 4.6 has no NSAP-PTR (the zone fails to load with it): that line is left out for both servers. */
const NSD_LACKS = /^\S+\s+NSAP-PTR\s/;

/** The DNAME corners and a few questions across types, asked of every peer. */
const CORNERS: [string, string][] = [
  ['nope.types.example', 'A'], ['svcb.types.example', 'HTTPS'], ['https.types.example', 'SVCB'], ['loc.types.example', 'A'],
  // DNAME (RFC 6672)
  ['frobozz.dname.example', 'DNAME'], ['frobozz.dname.example', 'A'], ['frobozz.dname.example', 'CNAME'],
  ['a.frobozz.dname.example', 'A'], ['x.y.frobozz.dname.example', 'MX'], ['a.frobozz.dname.example', 'DNAME'],
  ['old.dname.example', 'A'], ['old.dname.example', 'DNAME'], ['old.dname.example', 'ANY'], ['www.old.dname.example', 'A'],
  ['mail.old.dname.example', 'MX'], ['nope.old.dname.example', 'A'], ['www.old.dname.example', 'AAAA'], ['WWW.Old.Dname.Example', 'A'],
  ['a.towild.dname.example', 'A'], ['a.b.towild.dname.example', 'A'],
  ['www.chain1.dname.example', 'A'], ['www.chain2.dname.example', 'A'],
  ['x.long.dname.example', 'A'], [`${'b'.repeat(60)}.${'c'.repeat(10)}.long.dname.example`, 'A'],
  ['www.generic.dname.example', 'A'], ['generic.dname.example', 'DNAME'],
  ['a.wd.dname.example', 'A'], ['a.wd.dname.example', 'DNAME'], ['b.a.wd.dname.example', 'A'],
  ['x.loop.dname.example', 'A'],
  ['deleg.dname.example', 'NS'], ['a.deleg.dname.example', 'A'], ['a.todeleg.dname.example', 'A'], ['todeleg.dname.example', 'NS'],
  ['apex.example', 'DNAME'], ['apex.example', 'A'], ['apex.example', 'SOA'], ['www.apex.example', 'A'], ['nope.apex.example', 'A'],
];

/** The types zone without the lines a peer cannot load, and the questions: every owner and type in it, then the corners. */
function fixture(lacks: RegExp): { text: string; cases: [string, string][] } {
  const text = fs.readFileSync(path.join(DIR, 'types.example.zone'), 'utf8').split('\n').filter((l) => !lacks.test(l)).join('\n');
  const types = parseZone(text, { file: 'types.example.zone', origin: Name.fromText('types.example.') });
  const cases: [string, string][] = [
    // NSEC3 records live in a tree of their own in Knot, NSD and BIND, where no query reaches
    // them; steerdns keeps them at their owner like any record. Neither is wrong for an unsigned server.
    ...new Map(types.records.filter((r) => r.type !== T.NSEC3).map((r) => [`${r.owner.key} ${r.type}`, [r.owner.key, typeToText(r.type)] as [string, string]])).values(),
    ...CORNERS,
  ];
  return { text, cases };
}

/** A peer's answer that may differ from steerdns's by design: undefined to compare as usual, else what to check instead. */
type Divergence = (name: string, type: string, steer: View, ref: View) => ((t: Test) => void) | undefined;

/**
 * A DNAME whose target is below it makes an endless chain: each server stops at its own limit
 * (Knot after 5 links, NSD after a few, steerdns after 16), with the DNAME in the answer once.
 */
const loop: Divergence = (name, _type, sv, rv) => {
  if (!name.startsWith('x.loop.')) return undefined;
  return (t) => {
    t.equal(sv.rcode, rv.rcode, 'loop: same rcode');
    t.equal(sv.answer.filter((x) => / DNAME /.test(x)).length, 1, 'loop: the DNAME once');
    t.same(rv.answer.filter((x) => !sv.answer.includes(x)), [], `loop: every record the peer sends, steerdns sends too\n  ${JSON.stringify(sv)}`);
  };
};

/** Serves the fixtures with the peer's lines left out, on both servers, and compares every answer over UDP and TCP. */
async function differential(t: Test, lacks: RegExp, start: (zones: ReferenceZone[]) => Promise<ReferenceServer>, diverges: Divergence): Promise<void> {
  const { text, cases } = fixture(lacks);
  const zonesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'steerdns-types-ref-'));
  t.teardown(() => fs.rmSync(zonesDir, { recursive: true, force: true }));
  for (const z of ZONES) fs.copyFileSync(path.join(DIR, `${z}.zone`), path.join(zonesDir, `${z}.zone`));
  fs.writeFileSync(path.join(zonesDir, 'types.example.zone'), text);
  const ref = await start(ZONES.map((origin) => ({ origin, file: path.join(zonesDir, `${origin}.zone`) })));
  t.teardown(() => ref.close());
  const steer = await startTestServer(zonesDir);
  t.teardown(() => steer.close());
  t.same(steer.loaded.problems.filter((p) => p.severity === 'error'), [], 'steerdns loads the zones');

  let id = 0x2000;
  for (const [name, typeText] of cases) {
    const type = typeFromText(typeText)!;
    for (const transport of ['udp', 'tcp'] as Transport[]) {
      const msg = query(++id, name, type);
      const [s, r] = await Promise.all([ask(steer.port, transport, msg), ask(ref.port, transport, msg)]);
      const sv = view(s);
      const rv = view(r);
      const instead = loop(name, typeText, sv, rv) ?? diverges(name, typeText, sv, rv);
      if (instead) instead(t);
      else t.same(sv, rv, `${transport} ${name} ${typeText}\n  steerdns: ${JSON.stringify(sv)}\n  ${ref.name}: ${JSON.stringify(rv)}`);
    }
  }
}

const knotd = knotdPath();

t.test('steerdns answers like Knot DNS for every record type and the DNAME corners', { skip: knotd ? false : 'knotd not installed' }, async (t) => {
  await differential(t, KNOT_LACKS, (zones) => startKnot(zones, { knotd }), () => undefined);
});

const nsd = nsdPath();

/**
 * NSD runs with `minimal-responses: yes` (without it, it adds the apex NS to the AUTHORITY of
 * every answer, which steerdns and Knot do not) and then sends glue only: no addresses for the
 * targets of MX and SRV answers, which steerdns (like Knot) adds. Additional-section data is
 * optional (RFC 1034 §4.3.2 step 6), so those answers must agree except that ADDITIONAL, which
 * NSD leaves empty and steerdns fills with addresses of the answer's targets only.
 */
const nsdMinimal: Divergence = (_name, type, sv, rv) => {
  if (type !== 'MX' && type !== 'SRV') return undefined;
  return (t) => {
    t.same({ ...sv, additional: [] }, rv, `${type}: the same but for ADDITIONAL\n  steerdns: ${JSON.stringify(sv)}\n  nsd: ${JSON.stringify(rv)}`);
    const targets = new Set(sv.answer.filter((x) => x.split(' ')[2] === type).map((x) => x.split(' ').at(-1)));
    t.same(sv.additional.filter((x) => !targets.has(x.split(' ')[0]) || !/^(A|AAAA)$/.test(x.split(' ')[2])), [], `${type}: steerdns adds addresses of the targets only`);
  };
};

t.test('steerdns answers like NSD for every record type and the DNAME corners', { skip: nsd ? false : 'nsd not installed' }, async (t) => {
  await differential(t, NSD_LACKS, (zones) => startNsd(zones, { nsd }), nsdMinimal);
});
