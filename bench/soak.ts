/**
 * `npm run bench:soak`: a soak run, by hand, never in CI. Starts the built server on the
 * benchmark zone set and for `--duration` seconds drives mixed traffic at it over loopback:
 * valid queries (static, NXDOMAIN, load balanced with ECS from many subnets) over UDP and
 * pipelined over TCP, malformed messages (test/helpers/mutate.ts, as the fuzzer sends), floods
 * of distinct names and subnets, and TCP connections left idle or half-sent. Every second a
 * known query must get the right answer over UDP and TCP. Prints what was sent, answered,
 * lost and wrong, the latency of the checks, the server's peak RSS and whether it is alive.
 * Bounded: the duration, the send rate, the idle connections and the queries in flight.
 */
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import dnsPacket from 'dns-packet';
import { mulberry32 } from '../src/lb/random.js';
import { brokenFrame, ecsOptionBytes, encodeQuery, frame, generate, randomCase, type QuerySpec } from '../test/helpers/mutate.js';
import { startSteerdns } from './servers.js';
import { subnets, writeZones, ZONE } from './workload.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const { values } = parseArgs({ options: {
  duration: { type: 'string', default: '60' },
  rate: { type: 'string', default: '3000' }, // UDP messages per second, valid and malformed
  'idle-connections': { type: 'string', default: '200' },
  seed: { type: 'string', default: '20261125' },
} });
const DURATION_S = Number(values.duration);
const RATE = Number(values.rate);
const MAX_IDLE = Number(values['idle-connections']);
const rand = mulberry32(Number(values.seed));
const int = (n: number): number => Math.floor(rand() * n);

/** Every origin address of the benchmark's pools: a load-balanced answer must be among them. */
const POOL_ADDRESSES = new Set(['192.0.2.10', '192.0.2.11', '198.51.100.10', '198.51.100.11', '203.0.113.10', '203.0.113.11']);
const KNOWN = { name: `www.${ZONE}`, address: '192.0.2.80' };
const MALFORMED_NAMES = [`www.${ZONE}`, `geo.${ZONE}`, `sticky.${ZONE}`, `nope.${ZONE}`, ZONE, 'example.org'];
const SUBNETS = subnets(50_000);
/** Queries still waiting for an answer longer than this count as unanswered. */
const ANSWER_TIMEOUT_MS = 2000;

type Kind = 'static' | 'nxdomain' | 'lb-ecs' | 'lb-flood';
interface Expect { kind: Kind; sentAt: number }

class Stats {
  sent = 0;
  answered = 0;
  unanswered = 0;
  wrong = 0;
  errors = 0;
  readonly wrongExamples: string[] = [];
  readonly byKind = new Map<Kind, number>();
  noteWrong(what: string): void {
    this.wrong++;
    if (this.wrongExamples.length < 5) this.wrongExamples.push(what);
  }
}
const udp = new Stats();
const tcp = new Stats();
const malformed = { udpSent: 0, udpAnswered: 0, tcpSent: 0, tcpConnections: 0, tcpAnswered: 0, badResponses: 0, badExamples: [] as string[] };
const idle = { opened: 0, closedByServer: 0, open: new Set<net.Socket>() };
const health = { ok: 0, failed: 0, udpMs: [] as number[], tcpMs: [] as number[], failures: [] as string[] };
let distinctName = 0;
let distinctSubnet = 0;

/** A valid query of the given kind; the floods use a new name or a new subnet each time. */
function validSpec(kind: Kind): QuerySpec {
  const spec: QuerySpec = { id: 0, flags: 0x0100, labels: [], qtype: 1, qclass: 1, edns: { udpSize: 1232, version: 0, dnssecOk: false, options: [] } };
  if (kind === 'static') spec.labels = randomCase(rand, KNOWN.name);
  else if (kind === 'nxdomain') spec.labels = randomCase(rand, `n${distinctName++}.${ZONE}`);
  else {
    spec.labels = randomCase(rand, `${['geo', 'sticky', 'off'][int(3)]}.${ZONE}`);
    let address: Buffer;
    if (kind === 'lb-ecs') address = Buffer.from(SUBNETS[int(SUBNETS.length)].split('.').slice(0, 3).map(Number));
    else {
      const n = distinctSubnet++;
      address = Buffer.from([1 + ((n >> 16) % 223), (n >> 8) & 255, n & 255]);
    }
    spec.edns!.options.push(ecsOptionBytes(1, 24, address));
  }
  return spec;
}

function pickKind(): Kind {
  const r = rand();
  return r < 0.35 ? 'static' : r < 0.55 ? 'nxdomain' : r < 0.85 ? 'lb-ecs' : 'lb-flood';
}

/** Why an answer to a valid query of `kind` is wrong, or undefined when it is right. */
function wrongness(kind: Kind, raw: Buffer): string | undefined {
  let p: dnsPacket.Packet & { rcode?: string };
  try {
    p = dnsPacket.decode(raw) as dnsPacket.Packet & { rcode?: string };
  } catch (e) {
    return `does not decode: ${(e as Error).message}`;
  }
  const addresses = (p.answers ?? []).filter((a) => a.type === 'A').map((a) => (a as { data: string }).data);
  if (kind === 'static') return p.rcode === 'NOERROR' && addresses.length === 1 && addresses[0] === KNOWN.address ? undefined : `static: ${p.rcode} ${addresses.join(',')}`;
  if (kind === 'nxdomain') return p.rcode === 'NXDOMAIN' && (p.answers ?? []).length === 0 ? undefined : `nxdomain: ${p.rcode}`;
  return p.rcode === 'NOERROR' && addresses.length > 0 && addresses.every((a) => POOL_ADDRESSES.has(a)) ? undefined : `${kind}: ${p.rcode} ${addresses.join(',')}`;
}

/** Valid queries over one UDP socket, matched to their answers by ID. */
function udpValidSender(port: number) {
  const socket = dgram.createSocket('udp4');
  const pending = new Map<number, Expect>();
  let nextId = 0;
  socket.on('error', () => udp.errors++);
  socket.on('message', (raw) => {
    if (raw.length < 2) return udp.noteWrong('answer shorter than an ID');
    const e = pending.get(raw.readUInt16BE(0));
    if (!e) return; // late: already counted as unanswered
    pending.delete(raw.readUInt16BE(0));
    udp.answered++;
    const why = wrongness(e.kind, raw);
    if (why) udp.noteWrong(why);
  });
  return {
    send(): void {
      if (pending.size >= 60_000) return; // IDs exhausted: everything is late
      while (pending.has(nextId)) nextId = (nextId + 1) & 0xffff;
      const kind = pickKind();
      const spec = validSpec(kind);
      spec.id = nextId;
      pending.set(nextId, { kind, sentAt: performance.now() });
      nextId = (nextId + 1) & 0xffff;
      udp.sent++;
      udp.byKind.set(kind, (udp.byKind.get(kind) ?? 0) + 1);
      socket.send(encodeQuery(spec), port, '127.0.0.1');
    },
    sweep(all = false): void {
      const now = performance.now();
      for (const [id, e] of pending) {
        if (all || now - e.sentAt > ANSWER_TIMEOUT_MS) {
          pending.delete(id);
          udp.unanswered++;
        }
      }
    },
    close: () => socket.close(),
  };
}

/** Malformed messages over UDP: answers are counted and must be well formed and small enough. */
function udpMalformedSender(port: number) {
  const socket = dgram.createSocket('udp4');
  socket.on('error', () => undefined);
  socket.on('message', (raw) => {
    malformed.udpAnswered++;
    checkMalformedAnswer(raw, 1232);
  });
  return {
    send(): void {
      malformed.udpSent++;
      socket.send(generate(rand, MALFORMED_NAMES, 0).msg, port, '127.0.0.1');
    },
    close: () => socket.close(),
  };
}

function checkMalformedAnswer(raw: Buffer, limit: number): void {
  let why: string | undefined;
  try {
    dnsPacket.decode(raw);
    if (raw.length > limit) why = `${raw.length} bytes`;
    else if ((raw[2] & 0x80) === 0) why = 'QR clear';
  } catch (e) {
    why = `does not decode: ${(e as Error).message}`;
  }
  if (why) {
    malformed.badResponses++;
    if (malformed.badExamples.length < 5) malformed.badExamples.push(`${why}: ${raw.toString('hex')}`);
  }
}

/** Reads framed answers from a connection. */
function onFrames(sock: net.Socket, each: (msg: Buffer) => void): void {
  let buf = Buffer.alloc(0);
  sock.on('data', (d) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      each(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      buf = buf.subarray(2 + buf.readUInt16BE(0));
    }
  });
}

/** One connection with `count` pipelined valid queries; answers must come in order. */
function tcpValidConnection(port: number, count: number): void {
  const expects: Kind[] = [];
  const frames: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const kind = pickKind();
    const spec = validSpec(kind);
    spec.id = i;
    expects.push(kind);
    frames.push(frame(encodeQuery(spec)));
    tcp.byKind.set(kind, (tcp.byKind.get(kind) ?? 0) + 1);
  }
  tcp.sent += count;
  let got = 0;
  const sock = net.connect({ port, host: '127.0.0.1' }, () => sock.write(Buffer.concat(frames)));
  const timer = setTimeout(() => sock.destroy(), ANSWER_TIMEOUT_MS);
  onFrames(sock, (msg) => {
    if (got >= count) return;
    tcp.answered++;
    const why = msg.readUInt16BE(0) !== got ? `out of order: ID ${msg.readUInt16BE(0)} for query ${got}` : wrongness(expects[got], msg);
    if (why) tcp.noteWrong(why);
    if (++got === count) sock.destroy();
  });
  sock.on('error', () => tcp.errors++);
  sock.on('close', () => {
    clearTimeout(timer);
    tcp.unanswered += count - got;
  });
}

/** A connection with a few malformed framed messages, sometimes broken framing at the end. */
function tcpMalformedConnection(port: number): void {
  const msgs = Array.from({ length: 1 + int(5) }, () => generate(rand, MALFORMED_NAMES, 0).msg);
  const parts = msgs.map((m) => frame(m));
  if (rand() < 0.4) parts.push(brokenFrame(rand, msgs[0]).bytes);
  malformed.tcpSent += msgs.length;
  malformed.tcpConnections++;
  const sock = net.connect({ port, host: '127.0.0.1' }, () => sock.write(Buffer.concat(parts)));
  const timer = setTimeout(() => sock.destroy(), 500);
  onFrames(sock, (msg) => {
    malformed.tcpAnswered++;
    checkMalformedAnswer(msg, 65535);
  });
  sock.on('error', () => undefined); // the server resets connections whose message it drops
  sock.on('close', () => clearTimeout(timer));
}

/** A connection that sends nothing, half a length, or part of a message, then waits. */
function idleConnection(port: number): void {
  const sock = net.connect({ port, host: '127.0.0.1' }, () => {
    const msg = frame(encodeQuery(validSpec('static')));
    const style = int(3);
    if (style === 1) sock.write(msg.subarray(0, 1));
    else if (style === 2) sock.write(msg.subarray(0, 2 + int(msg.length - 2)));
  });
  idle.opened++;
  idle.open.add(sock);
  sock.on('end', () => idle.closedByServer++);
  sock.on('error', () => undefined);
  sock.on('close', () => idle.open.delete(sock));
}

/** The known query over UDP and over TCP, each within a second, with its latency. */
async function healthCheck(port: number): Promise<void> {
  const spec = validSpec('static');
  spec.id = int(65536);
  const msg = encodeQuery(spec);
  const overUdp = new Promise<Buffer | undefined>((resolve) => {
    const s = dgram.createSocket('udp4');
    const timer = setTimeout(() => (s.close(), resolve(undefined)), 1000);
    s.on('message', (m) => (clearTimeout(timer), s.close(), resolve(m)));
    s.send(msg, port, '127.0.0.1');
  });
  const overTcp = new Promise<Buffer | undefined>((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' }, () => s.write(frame(msg)));
    const timer = setTimeout(() => s.destroy(), 1000);
    let answer: Buffer | undefined;
    onFrames(s, (m) => {
      answer = Buffer.from(m);
      s.destroy();
    });
    s.on('error', () => undefined);
    s.on('close', () => (clearTimeout(timer), resolve(answer)));
  });
  const start = performance.now();
  const timed = (p: Promise<Buffer | undefined>, into: number[]) => p.then((m) => (m && into.push(performance.now() - start), m));
  const [u, t] = await Promise.all([timed(overUdp, health.udpMs), timed(overTcp, health.tcpMs)]);
  let failed = false;
  for (const [name, m] of [['UDP', u], ['TCP', t]] as const) {
    const why = !m ? 'no answer within 1 s' : m.readUInt16BE(0) !== spec.id ? 'another ID' : wrongness('static', m);
    if (why) {
      failed = true;
      if (health.failures.length < 10) health.failures.push(`${name} at ${new Date().toISOString()}: ${why}`);
    }
  }
  if (failed) health.failed++;
  else health.ok++;
}

function quantile(xs: number[], q: number): string {
  if (xs.length === 0) return '-';
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))].toFixed(2);
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'steerdns-soak-'));
  const zones = join(work, 'zones');
  writeZones(zones, { extraLoadBalancers: 0, extraRecords: 0 });
  const port = 30000 + int(10000);
  const server = await startSteerdns({ root: ROOT, zones, port, extraArgs: ['--workers', '1'] });
  const alive = () => server.process.exitCode === null && server.process.signalCode === null;
  process.stdout.write(`soak: steerdns pid ${server.process.pid} on 127.0.0.1:${port}, ${DURATION_S} s at ${RATE} UDP messages/s (70 % valid), seed ${values.seed}\n`);

  const valid = udpValidSender(port);
  const bad = udpMalformedSender(port);
  const started = performance.now();
  const tick = 10; // ms
  let carry = 0;
  const traffic = setInterval(() => {
    carry += (RATE * tick) / 1000;
    for (; carry >= 1; carry--) (rand() < 0.7 ? valid.send() : bad.send());
    if (rand() < 0.2) tcpValidConnection(port, 1 + int(10)); // ~20 connections/s
    if (rand() < 0.1) tcpMalformedConnection(port); // ~10 connections/s
    if (idle.open.size < MAX_IDLE && rand() < 0.3) idleConnection(port);
  }, tick);
  const sweeper = setInterval(() => valid.sweep(), 500);
  let second = 0;
  while (performance.now() - started < DURATION_S * 1000 && alive()) {
    await new Promise((r) => setTimeout(r, 1000));
    await healthCheck(port);
    if (++second % 10 === 0) process.stdout.write(`  ${second} s: ${udp.sent + tcp.sent} valid sent, ${udp.wrong + tcp.wrong} wrong, health ${health.ok} ok / ${health.failed} failed, peak RSS ${server.peakRssMiB().toFixed(0)} MiB\n`);
  }
  clearInterval(traffic);
  await new Promise((r) => setTimeout(r, ANSWER_TIMEOUT_MS + 200)); // let answers in flight arrive
  clearInterval(sweeper);
  valid.sweep(true);
  await healthCheck(port);
  const stillAlive = alive() && health.failures.length === 0 ? 'yes' : alive() ? 'yes (with failed checks)' : 'NO';
  const rss = server.peakRssMiB();
  for (const s of idle.open) s.destroy();
  valid.close();
  bad.close();
  await server.stop();
  rmSync(work, { recursive: true, force: true });

  const seconds = (performance.now() - started) / 1000;
  const lines = [
    `soak: ${seconds.toFixed(0)} s`,
    '',
    '| valid queries | UDP | TCP |',
    '| --- | --- | --- |',
    `| sent | ${udp.sent} | ${tcp.sent} |`,
    `| answered | ${udp.answered} | ${tcp.answered} |`,
    `| dropped / unanswered | ${udp.unanswered} | ${tcp.unanswered} |`,
    `| wrong answers | ${udp.wrong} | ${tcp.wrong} |`,
    `| errors (socket) | ${udp.errors} | ${tcp.errors} |`,
    `| of which static / NXDOMAIN (distinct names) / LB with ECS / LB, distinct subnets | ${['static', 'nxdomain', 'lb-ecs', 'lb-flood'].map((k) => udp.byKind.get(k as Kind) ?? 0).join(' / ')} | ${['static', 'nxdomain', 'lb-ecs', 'lb-flood'].map((k) => tcp.byKind.get(k as Kind) ?? 0).join(' / ')} |`,
    '',
    '| malformed messages | UDP | TCP |',
    '| --- | --- | --- |',
    `| sent | ${malformed.udpSent} | ${malformed.tcpSent} (${malformed.tcpConnections} connections) |`,
    `| answered (FORMERR, NOTIMP, ...) | ${malformed.udpAnswered} | ${malformed.tcpAnswered} |`,
    `| answers not well formed or too big | ${malformed.badResponses} | |`,
    '',
    `idle or half-sent TCP connections: ${idle.opened} opened (at most ${MAX_IDLE} at once), ${idle.closedByServer} closed by the server`,
    `known query every second: ${health.ok} ok, ${health.failed} failed; latency ms UDP p50 ${quantile(health.udpMs, 0.5)} p99 ${quantile(health.udpMs, 0.99)} max ${quantile(health.udpMs, 1)}, ` +
      `TCP p50 ${quantile(health.tcpMs, 0.5)} p99 ${quantile(health.tcpMs, 0.99)} max ${quantile(health.tcpMs, 1)}`,
    `server peak RSS (VmHWM): ${rss.toFixed(1)} MiB`,
    `server alive at the end: ${stillAlive}`,
    ...[...udp.wrongExamples, ...tcp.wrongExamples].map((w) => `wrong answer: ${w}`),
    ...malformed.badExamples.map((w) => `bad answer to a malformed message: ${w}`),
    ...health.failures.map((f) => `failed check: ${f}`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  if (stillAlive === 'NO' || udp.wrong + tcp.wrong + malformed.badResponses > 0) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
