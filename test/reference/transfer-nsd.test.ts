/**
 * Zone transfers out to NSD (the issue asks for Knot and NSD as secondaries): NSD, started in
 * the foreground on a loopback port with its own temp dir, pulls the zone from steerdns with
 * TSIG, answers from it, gets NOTIFY after a change is reloaded and transfers the new serial,
 * and then answers every owner/type of the zone with the same sections as steerdns, over UDP and
 * TCP. Skipped when nsd is not installed.
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli, type RunningCli } from '../helpers/cli.js';
import { buildQuery, dataOf, query, sendTcp, sendUdp, type Transport } from '../helpers/client.js';
import { freePort, serialAt, until } from '../helpers/reference.js';
import { view, type View } from '../helpers/sections.js';

const SECRET = 'xV8m4MxWFfdg1/8vYL1xFaviuQcLiMqpdhMKJIXlalI=';

function nsdPath(): string | undefined {
  for (const c of [process.env.NSD, '/usr/sbin/nsd', '/usr/local/sbin/nsd']) {
    if (!c) continue;
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not there
    }
  }
  return spawnSync('nsd', ['-v']).error ? undefined : 'nsd';
}
const nsd = nsdPath();

const zone = (serial: number, extra = '') => `$TTL 300
@ SOA ns1 hostmaster ${serial} 7200 900 1209600 60
@ NS ns1
@ NS ns2.example.net.
@ MX 10 mail
@ TXT "v=spf1 -all"
ns1 A 192.0.2.53
ns1 AAAA 2001:db8::53
mail A 192.0.2.25
www A 192.0.2.80
www AAAA 2001:db8::80
alias CNAME www
web A 192.0.2.1
_sip._tcp SRV 10 5 5060 www
sub NS ns.sub
ns.sub A 192.0.2.54
${extra}`;

/** Every owner/type of zone(2, NEW), and a few names and types that are not there. */
const QUESTIONS: [string, string][] = [
  ['example.com', 'SOA'], ['example.com', 'NS'], ['example.com', 'MX'], ['example.com', 'TXT'], ['example.com', 'A'],
  ['ns1.example.com', 'A'], ['ns1.example.com', 'AAAA'], ['mail.example.com', 'A'],
  ['www.example.com', 'A'], ['www.example.com', 'AAAA'], ['www.example.com', 'TXT'],
  ['alias.example.com', 'CNAME'], ['alias.example.com', 'A'],
  ['_sip._tcp.example.com', 'SRV'], ['sub.example.com', 'NS'], ['host.sub.example.com', 'A'],
  ['new.example.com', 'A'], ['new.example.com', 'TXT'], ['nope.example.com', 'A'],
];
const NEW = 'new A 192.0.2.77\nnew TXT "added in serial 2"\n';

/** The load balancer at `web` (transfer-load-balancers: omit, the default): not sent to NSD. */
const LB = `
pools:
  - { name: main, origins: [{ name: a, address: 198.51.100.1 }] }
load_balancers:
  - { name: web, default_pools: [main], fallback_pool: main, ttl: 20 }
`;

/** NSD as a secondary of 127.0.0.1:primaryPort for example.com, in the foreground, everything in its own temp dir. */
function startNsdSecondary(nsdBin: string, port: number, primaryPort: number) {
  const dir = mkdtempSync(join(tmpdir(), 'steerdns-nsd-secondary-'));
  const conf = join(dir, 'nsd.conf');
  writeFileSync(conf, `server:
    ip-address: 127.0.0.1@${port}
    do-ip6: no
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "${dir}"
    pidfile: "${join(dir, 'nsd.pid')}"
    database: ""
    xfrdfile: "${join(dir, 'xfrd.state')}"
    xfrdir: "${dir}"
    zonelistfile: "${join(dir, 'zone.list')}"
    logfile: "${join(dir, 'nsd.log')}"
    xfrd-reload-timeout: 0
    verbosity: 2
remote-control:
    control-enable: no
key:
    name: xfr
    algorithm: hmac-sha256
    secret: "${SECRET}"
zone:
    name: example.com
    zonefile: "example.com.zone"
    request-xfr: 127.0.0.1@${primaryPort} xfr
    allow-notify: 127.0.0.1 xfr
`);
  const child = spawn(nsdBin, ['-d', '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  // If the test process dies without teardown, do not leave NSD behind.
  const onExit = () => child.kill('SIGKILL');
  process.once('exit', onExit);
  const log = () => {
    let file = '';
    try {
      file = readFileSync(join(dir, 'nsd.log'), 'utf8');
    } catch {
      // not written yet
    }
    return stderr + file;
  };
  return {
    log,
    /** SIGTERM to NSD's main process (it stops its server and xfrd children), SIGKILL if it lingers. */
    stop: async () => {
      process.removeListener('exit', onExit);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}


/**
 * NSD (its default, minimal-responses: no) puts the zone's NS RRset in the authority section of
 * a positive answer, and their addresses in the additional; steerdns, like Knot, does not. Both
 * are correct, that authority data is optional; with minimal-responses: yes NSD would drop the
 * MX and SRV targets' addresses too, which steerdns sends. So that NS RRset and its addresses
 * are taken out of NSD's positive answers; everything else is compared as it is.
 */
function withoutApexNs(v: View): View {
  if (v.rcode !== 0 || v.answer.length === 0) return v;
  const ns = v.authority.filter((r) => /^example\.com\. \d+ NS /.test(r));
  const targets = ns.map((r) => `${r.split(' ').pop()} `);
  return { ...v, authority: v.authority.filter((r) => !ns.includes(r)), additional: v.additional.filter((r) => !targets.some((n) => r.startsWith(n))) };
}

async function ask(port: number, transport: Transport, msg: Buffer): Promise<Buffer> {
  const raw = transport === 'udp' ? await sendUdp(port, msg, '127.0.0.1', 2000) : (await sendTcp(port, [msg], 1, '127.0.0.1', 3000))[0];
  if (!raw) throw new Error(`no ${transport} answer from port ${port}`);
  return raw;
}

t.test('NSD as a secondary: AXFR with TSIG, NOTIFY on a new serial, the same answers', { skip: nsd ? false : 'nsd not installed' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'steerdns-primary-'));
  writeFileSync(join(dir, 'example.com.zone'), zone(1));
  writeFileSync(join(dir, 'example.com.lb.yaml'), LB);
  const nsdPort = await freePort();
  const confDir = mkdtempSync(join(tmpdir(), 'steerdns-conf-'));
  writeFileSync(join(confDir, 'steerdns.yaml'), `tsig-keys:
  - { name: xfr, algorithm: hmac-sha256, secret: "${SECRET}" }
zone-options:
  example.com:
    allow-transfer: ["key xfr"]
    notify: ["127.0.0.1:${nsdPort} key xfr"]
`);
  const primary: RunningCli = await startCli(dir, ['--config', join(confDir, 'steerdns.yaml'), '--workers', '1', '--api-token', 'tok', '--startup-wait', '0'], 90_000);
  t.teardown(async () => {
    primary.child.kill('SIGKILL');
    await primary.exited;
  });
  const secondary = startNsdSecondary(nsd!, nsdPort, primary.port);
  t.teardown(secondary.stop);

  const first = await until(20_000, async () => (await serialAt(nsdPort)) === 1);
  t.ok(first, 'NSD transferred serial 1');
  if (!first) return t.comment(secondary.log());
  t.same((await query(nsdPort, 'udp', 'www.example.com', 'A')).answers?.map(dataOf), ['192.0.2.80'], 'and answers from it');
  t.same(((await query(primary.port, 'udp', 'web.example.com', 'A')).answers ?? []).map(dataOf), ['198.51.100.1'], 'steerdns steers web');
  t.same(((await query(nsdPort, 'udp', 'web.example.com', 'A')).answers ?? []).map(dataOf), [], 'the A shadowed by the load balancer was not sent (transfer-load-balancers: omit)');
  t.match(secondary.log(), /xfr|transfer/i, 'NSD logged the transfer');

  writeFileSync(join(dir, 'example.com.zone'), zone(2, NEW));
  const reload = await fetch(`http://127.0.0.1:${primary.apiPort}/v1/reload`, { method: 'POST', headers: { authorization: 'Bearer tok' } });
  t.equal(reload.status, 200, 'steerdns reloaded');
  const t0 = Date.now();
  const got = await until(15_000, async () => ((await query(nsdPort, 'udp', 'new.example.com', 'A')).answers ?? []).length > 0);
  t.ok(got, `the change reached NSD after NOTIFY (${Date.now() - t0} ms)`);
  if (!got) return t.comment(secondary.log());
  t.equal(await serialAt(nsdPort), 2, 'NSD serves serial 2');
  t.match(secondary.log(), /notify/i, 'NSD logged the NOTIFY');

  for (const [name, type] of QUESTIONS) {
    for (const transport of ['udp', 'tcp'] as Transport[]) {
      const msg = buildQuery(name, type);
      const [ours, theirs] = [view(await ask(primary.port, transport, msg)), withoutApexNs(view(await ask(nsdPort, transport, msg)))];
      t.same(ours, theirs, `${name} ${type} over ${transport}: steerdns and NSD answer the same`);
    }
  }
});
