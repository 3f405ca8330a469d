/**
 * icmp_ping and udp_icmp. Stand-in `ping` scripts make the parsing, the kill at the deadline
 * and the UDP step testable anywhere; the real system ping is tried on loopback when present.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import dgram from 'node:dgram';
import path from 'node:path';
import t from 'tap';
import { createIcmpProbe, icmpAvailable, missingPingDetail } from '../../src/health/probe-icmp.js';
import { probeFor, targetFor } from '../../src/health/probes.js';
import { FAILURE } from '../../src/health/types.js';
import { ipOrigin, monitorOf, targetAt, timed } from './probe-helpers.js';

const never = new AbortController().signal;

// Every case has its own directory and servers, so cases run side by side.
t.jobs = 4;

/** Writes an executable stand-in for ping into `dir`, logging its arguments to `dir/args`. */
function fakePing(dir: string, name: string, body: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/sh\necho "$@" > "${path.join(dir, 'args')}"\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

const REPLY = `echo "PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data."
echo "64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=12.5 ms"
echo ""
echo "rtt min/avg/max/mdev = 12.500/12.500/12.500/0.000 ms"`;

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(resolve));
  return port;
}

t.test('a missing ping: Monitor Config Error that says what to install', async (t) => {
  const empty = t.testdir({});
  const byPath = await createIcmpProbe('icmp_ping', { searchPath: empty })(targetAt(monitorOf({ type: 'icmp_ping' }), 0), never);
  t.same(byPath, { ok: false, rttMs: byPath.rttMs, reason: FAILURE.CONFIG, detail: 'icmp_ping needs the system ping command (Debian: apt-get install iputils-ping)' });
  const byCommand = await createIcmpProbe('udp_icmp', { command: path.join(empty, 'ping') })(targetAt(monitorOf({ type: 'udp_icmp', port: 53 }), 53), never);
  t.match(byCommand, { ok: false, reason: FAILURE.CONFIG, detail: missingPingDetail('udp_icmp') });
  const available = await icmpAvailable({ searchPath: empty });
  t.equal(available.ok, false);
  t.match(available.detail, /icmp_ping and udp_icmp monitors need the system ping command \(Debian: apt-get install iputils-ping\)/);
});

t.test('a ping that may not open an ICMP socket: Monitor Config Error', async (t) => {
  const dir = t.testdir({});
  const command = fakePing(dir, 'ping', 'echo "ping: socket: Operation not permitted" >&2; exit 2');
  const r = await createIcmpProbe('icmp_ping', { command })(targetAt(monitorOf({ type: 'icmp_ping' }), 0), never);
  t.match(r, { ok: false, reason: FAILURE.CONFIG });
  t.match(r.detail, /allowed to send ICMP.*Operation not permitted.*cap_net_raw/);
  const available = await icmpAvailable({ command });
  t.equal(available.ok, false);
  t.match(available.detail, /cannot run.*Operation not permitted/);
});

t.test('the reply is parsed, with the arguments ping is given', async (t) => {
  const dir = t.testdir({});
  const command = fakePing(dir, 'ping', REPLY);
  const r = await createIcmpProbe('icmp_ping', { command })(targetAt(monitorOf({ type: 'icmp_ping', timeout: 3 }), 0), never);
  t.match(r, { ok: true, rttMs: 12.5 });
  t.equal(readFileSync(path.join(dir, 'args'), 'utf8').trim(), '-4 -n -c 1 -W 3 127.0.0.1');
  const v6 = await createIcmpProbe('icmp_ping', { command })({ ...targetAt(monitorOf({ type: 'icmp_ping' }), 0), address: '::1' }, never);
  t.match(v6, { ok: true });
  t.equal(readFileSync(path.join(dir, 'args'), 'utf8').trim(), '-6 -n -c 1 -W 2 ::1');
  const name = await createIcmpProbe('icmp_ping', { command })({ ...targetAt(monitorOf({ type: 'icmp_ping' }), 0), address: '-f' }, never);
  t.match(name, { ok: false, reason: FAILURE.CONFIG }, 'only IP addresses reach the command line');
});

t.test('no reply, unreachable', async (t) => {
  const dir = t.testdir({});
  const rows: Array<[string, string, string]> = [
    ['silence', 'echo "1 packets transmitted, 0 received, 100% packet loss"; exit 1', FAILURE.OTHER],
    ['host unreachable', 'echo "From 127.0.0.1 icmp_seq=1 Destination Host Unreachable"; exit 1', FAILURE.NO_ROUTE],
    ['network unreachable', 'echo "ping: connect: Network is unreachable" >&2; exit 2', FAILURE.NETWORK_UNREACHABLE],
  ];
  for (const [what, body, reason] of rows) {
    const command = fakePing(dir, `ping-${what.replace(/ /g, '-')}`, body);
    const r = await createIcmpProbe('icmp_ping', { command })(targetAt(monitorOf({ type: 'icmp_ping' }), 0), never);
    t.match(r, { ok: false, reason }, what);
  }
});

t.test('a ping that hangs is killed at the deadline', async (t) => {
  const dir = t.testdir({});
  const pidFile = path.join(dir, 'pid');
  const command = fakePing(dir, 'ping', `echo $$ > "${pidFile}"; exec sleep 30`);
  const { value: r, ms } = await timed(() => createIcmpProbe('icmp_ping', { command })(targetAt(monitorOf({ type: 'icmp_ping', timeout: 1 }), 0), never));
  t.match(r, { ok: false, reason: FAILURE.OTHER, detail: 'no ICMP echo reply within 1 s' });
  t.ok(ms >= 950 && ms < 2000, `resolved after ${ms.toFixed(0)} ms`);
  const pid = Number(readFileSync(pidFile, 'utf8'));
  await new Promise((r) => setTimeout(r, 200));
  t.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'the child is gone');
});

t.test('udp_icmp after a ping reply', async (t) => {
  const dir = t.testdir({});
  const udp = createIcmpProbe('udp_icmp', { command: fakePing(dir, 'ping', REPLY) });
  const m = monitorOf({ type: 'udp_icmp', timeout: 1 });
  t.jobs = 4;

  t.test('a closed UDP port: ICMP port unreachable', async (t) => {
    const port = await freeUdpPort();
    const { value: r, ms } = await timed(() => udp(targetAt(m, port), never));
    t.match(r, { ok: false, reason: FAILURE.OTHER, detail: 'ICMP port unreachable' });
    t.ok(ms < 900, `at once (${ms.toFixed(0)} ms)`);
  });

  t.test('a silent UDP listener: healthy at the deadline', async (t) => {
    const server = dgram.createSocket('udp4');
    let got = 0;
    server.on('message', () => got++);
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
    t.teardown(() => server.close());
    const { value: r, ms } = await timed(() => udp(targetAt(m, server.address().port), never));
    t.match(r, { ok: true, rttMs: 12.5 }, 'the RTT is the echo RTT');
    t.ok(ms >= 950 && ms < 2000, `resolved after ${ms.toFixed(0)} ms`);
    t.equal(got, 1, 'one datagram sent');
  });

  t.test('a UDP service that answers: healthy at once', async (t) => {
    const server = dgram.createSocket('udp4');
    server.on('message', (_msg, rinfo) => server.send('pong', rinfo.port, rinfo.address));
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
    t.teardown(() => server.close());
    const { value: r, ms } = await timed(() => udp(targetAt(m, server.address().port), never));
    t.match(r, { ok: true });
    t.ok(ms < 900, `at once (${ms.toFixed(0)} ms)`);
  });

  t.test('no echo reply: no UDP step', async (t) => {
    const silent = createIcmpProbe('udp_icmp', { command: fakePing(dir, 'ping-silent', 'exit 1') });
    const r = await silent(targetAt(m, 9), never);
    t.match(r, { ok: false, reason: FAILURE.OTHER, detail: 'no ICMP echo reply within 1 s' });
  });
});

const system = await icmpAvailable();

t.test('the system ping on loopback', { skip: system.ok ? false : `the system cannot run ping here: ${system.detail}` }, async (t) => {
  t.comment(`icmpAvailable: ${system.detail}`);
  t.equal(system.ok, true);
  t.match(system.detail, /system ping works/);
  const ping = probeFor('icmp_ping');
  const r = await ping(targetFor(monitorOf({ type: 'icmp_ping', timeout: 1 }), ipOrigin('127.0.0.1'), '127.0.0.1'), never);
  t.match(r, { ok: true });
  t.type(r.rttMs, 'number');
  t.ok(r.rttMs >= 0 && r.rttMs < 1000, `rtt ${r.rttMs} ms`);
  const v6 = await ping(targetFor(monitorOf({ type: 'icmp_ping', timeout: 1 }), ipOrigin('::1'), '::1'), never);
  if (v6.ok) t.pass('::1 answers');
  else t.comment(`::1 did not answer (no IPv6 loopback here?): ${v6.detail}`);
  const port = await freeUdpPort();
  const udp = await probeFor('udp_icmp')(targetAt(monitorOf({ type: 'udp_icmp', timeout: 1 }), port), never);
  t.match(udp, { ok: false, detail: 'ICMP port unreachable' }, 'udp_icmp with the real ping');
});
