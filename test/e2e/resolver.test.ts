/**
 * The compose demo's resolver, run for real: unbound with the shipped
 * deploy/compose/unbound/unbound.conf (only addresses, ports and paths changed for loopback) in
 * front of `steerdns serve` on the demo zones. Answers for example.com arrive through the
 * resolver's stub zone, and EDNS Client Subnet reaches steerdns. Skips without unbound.
 */
import t from 'tap';
import dgram from 'node:dgram';
import net from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import dnsPacket from 'dns-packet';
import { dataOf, decode, sendUdp, type Reply } from '../helpers/client.js';
import { startCli, type RunningCli } from '../helpers/cli.js';
import { confValues, shippedConf, withValues } from '../helpers/unbound-conf.js';

const DEMO = fileURLToPath(new URL('../../zones/', import.meta.url));

// unbound lives in /usr/sbin, which is not on every user's PATH.
const unbound = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'].map((d) => join(d, 'unbound')).find((p) => existsSync(p));
const anchor = confValues(shippedConf(), 'trust-anchor-file')[0];
const skip = !unbound
  ? 'unbound not installed (Debian: apt-get install unbound)'
  : !/subnetcache/.test(spawnSync(unbound, ['-V'], { encoding: 'utf8' }).stdout)
    ? 'this unbound is built without ECS support (--enable-subnet)'
    : !existsSync(anchor)
      ? `no trust anchor at ${anchor} (Debian: apt-get install dns-root-data)`
      : false;

/** A loopback port free for both UDP and TCP, as unbound binds both. */
async function freePort(): Promise<number> {
  const tcp = net.createServer();
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
  const port = (tcp.address() as net.AddressInfo).port;
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => udp.once('error', reject).bind(port, '127.0.0.1', resolve));
  udp.close();
  await new Promise((r) => tcp.close(r));
  return port;
}

/** A recursive query (RD), with an ECS option when a subnet is given. */
function recursive(name: string, type: string, ecs?: { address: string; source: number }): Buffer {
  const options = ecs ? [{ code: 'CLIENT_SUBNET', family: 1, sourcePrefixLength: ecs.source, scopePrefixLength: 0, ip: ecs.address }] : [];
  return dnsPacket.encode({ type: 'query', id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: type as dnsPacket.RecordType }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, options } as unknown as dnsPacket.Answer] });
}

const addresses = (r: Reply) => (r.answers ?? []).map((a) => String(dataOf(a))).sort();

t.test('the compose resolver config, run with unbound against steerdns', { skip }, async (t) => {
  const steerdns: RunningCli = await startCli(DEMO);
  t.teardown(async () => {
    steerdns.child.kill('SIGTERM');
    await steerdns.exited;
  });
  const dir = mkdtempSync(join(tmpdir(), 'steerdns-unbound-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const conf = withValues(shippedConf(), {
    interface: '127.0.0.1',
    port: String(port),
    username: '""', // stay the user running the tests
    directory: `"${dir}"`,
    pidfile: `"${join(dir, 'unbound.pid')}"`,
    'send-client-subnet': '127.0.0.1',
    'stub-addr': `127.0.0.1@${steerdns.port}`,
  });
  writeFileSync(join(dir, 'unbound.conf'), conf);
  const check = spawnSync(`${unbound}-checkconf`, [join(dir, 'unbound.conf')], { encoding: 'utf8' });
  t.equal(check.status, 0, check.status === 0 ? 'unbound-checkconf accepts it' : check.stdout + check.stderr);

  let log = '';
  const resolver = spawn(unbound!, ['-d', '-c', join(dir, 'unbound.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  resolver.stdout.on('data', (d) => (log += d));
  resolver.stderr.on('data', (d) => (log += d));
  const resolverExited = new Promise((r) => resolver.once('exit', r));
  t.teardown(async () => {
    resolver.kill('SIGTERM');
    await resolverExited;
  });

  const ask = async (msg: Buffer): Promise<Reply> => {
    const raw = await sendUdp(port, msg, '127.0.0.1', 3000);
    if (!raw) throw new Error(`no answer from unbound; its log:\n${log}`);
    return decode(raw);
  };
  // Ready when it answers; it has bound its port by then.
  for (let i = 0; ; i++) {
    if (resolver.exitCode !== null) throw new Error(`unbound exited with ${resolver.exitCode}:\n${log}`);
    if (await sendUdp(port, recursive('example.com', 'SOA'), '127.0.0.1', 200)) break;
    if (i > 50) throw new Error(`unbound did not answer within 10 s:\n${log}`);
  }

  const www = await ask(recursive('www.example.com', 'A'));
  t.equal(www.rcode, 'NOERROR');
  t.same(addresses(www), ['192.0.2.80'], 'a static name, from the zone file through the resolver');
  t.ok(www.flags! & dnsPacket.RECURSION_AVAILABLE, 'RA: answered by the resolver');
  t.notOk(www.flags! & dnsPacket.AUTHORITATIVE_ANSWER, 'no AA: not the authoritative server itself');

  const web = await ask(recursive('web.example.com', 'A'));
  t.equal(web.rcode, 'NOERROR');
  t.ok(addresses(web).length > 0 && addresses(web).every((a) => /^127\.0\.0\.1[123]$/.test(a)), `the web load balancer's origins: ${addresses(web)}`);
  t.ok((web.answers ?? []).every((a) => ((a as { ttl?: number }).ttl ?? 0) <= 30), 'the load balancer TTL');

  t.equal((await ask(recursive('nope.example.com', 'A'))).rcode, 'NXDOMAIN', 'negative answers pass through');

  // A client's own subnet is passed on: 1.1.1.0/24 is in Australia, nearest to the Tokyo pool.
  const near = await ask(recursive('near.example.com', 'A', { address: '1.1.1.0', source: 24 }));
  t.ok(addresses(near).length > 0 && addresses(near).every((a) => /^203\.0\.113\.1[01]$/.test(a)), `proximity by the client's subnet: ${addresses(near)}`);

  const metrics = await (await fetch(`http://127.0.0.1:${steerdns.apiPort}/metrics`)).text();
  const ecs = Number(/^steerdns_ecs_queries_total (\d+)/m.exec(metrics)?.[1]);
  const queries = [...metrics.matchAll(/^steerdns_queries_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
  t.ok(queries >= 4, `steerdns answered the resolver (${queries} queries)`);
  t.equal(ecs, queries, 'every query from the resolver carried ECS, also for clients that sent none');
});
