/**
 * Zone transfers out, against real peers: Knot DNS as a secondary of steerdns (AXFR with TSIG,
 * NOTIFY after a change, the change transferred), and dig with the right key, a wrong key and
 * none (RFC 8945: BADSIG; REFUSED without a key allowed). Load balancers go out as their
 * fallback pool's addresses when the zone says `transfer-load-balancers: fallback`.
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli, type RunningCli } from '../helpers/cli.js';
import { dataOf, query } from '../helpers/client.js';
import { freePort, knotConfHead, knotdPath, serialAt, until } from '../helpers/reference.js';

const SECRET = 'xV8m4MxWFfdg1/8vYL1xFaviuQcLiMqpdhMKJIXlalI=';
const knotd = knotdPath();
const dig = !spawnSync('dig', ['-v']).error;

const zone = (serial: number, extra = '') => `$TTL 300
@ SOA ns1 hostmaster ${serial} 7200 900 1209600 60
@ NS ns1
ns1 A 192.0.2.53
www A 192.0.2.80
web A 192.0.2.1
${extra}`;

const LB = `
pools:
  - { name: main, origins: [{ name: a, address: 198.51.100.1 }] }
  - { name: spare, origins: [{ name: z, address: 198.51.100.99 }, { name: z6, address: "2001:db8::99" }] }
load_balancers:
  - { name: web, default_pools: [main], fallback_pool: spare, ttl: 20 }
`;

function config(dir: string, notifyPort: number): string {
  const file = join(dir, 'steerdns.yaml');
  writeFileSync(file, `tsig-keys:
  - { name: xfr, algorithm: hmac-sha256, secret: "${SECRET}" }
zone-options:
  example.com:
    allow-transfer: ["key xfr"]
    notify: ["127.0.0.1:${notifyPort} key xfr"]
    transfer-load-balancers: fallback
`);
  return file;
}

/** Knot as a secondary of 127.0.0.1:primaryPort for example.com, with the same key. */
function startKnotSecondary(port: number, primaryPort: number) {
  const dir = mkdtempSync(join(tmpdir(), 'steerdns-knot-secondary-'));
  writeFileSync(join(dir, 'knot.conf'), `${knotConfHead(dir, port, { id: 'xfr', secret: SECRET })}log:
  - target: stderr
    any: info
remote:
  - id: primary
    address: 127.0.0.1@${primaryPort}
    key: xfr
acl:
  - id: notify
    address: 127.0.0.1
    key: xfr
    action: notify
zone:
  - domain: example.com
    storage: "${dir}"
    master: primary
    acl: notify
`);
  const child = spawn(knotd!, ['-c', join(dir, 'knot.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  return {
    log: () => log,
    stop: () => new Promise<void>((r) => {
      clearTimeout(killer);
      if (child.exitCode !== null) return r();
      child.once('exit', () => r());
      child.kill('SIGKILL');
    }),
  };
}


t.test('Knot as a secondary: AXFR with TSIG, NOTIFY on a new serial, the change transferred', { skip: knotd ? false : 'knotd not installed' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'steerdns-primary-'));
  writeFileSync(join(dir, 'example.com.zone'), zone(1));
  writeFileSync(join(dir, 'example.com.lb.yaml'), LB);
  const knotPort = await freePort();
  const primary: RunningCli = await startCli(dir, ['--config', config(mkdtempSync(join(tmpdir(), 'steerdns-conf-')), knotPort), '--workers', '1', '--api-token', 'tok', '--startup-wait', '0']);
  t.teardown(async () => {
    primary.child.kill('SIGKILL');
    await primary.exited;
  });
  const knot = startKnotSecondary(knotPort, primary.port);
  t.teardown(knot.stop);

  t.ok(await until(15_000, async () => (await serialAt(knotPort)) === 1), 'Knot transferred serial 1');
  t.same((await query(knotPort, 'udp', 'www.example.com', 'A')).answers?.map(dataOf), ['192.0.2.80'], 'and answers from it');
  t.same(((await query(knotPort, 'udp', 'web.example.com', 'A')).answers ?? []).map(dataOf), ['198.51.100.99'], 'a load balancer went out as its fallback pool, not as the A it shadows');
  t.same(((await query(knotPort, 'udp', 'web.example.com', 'AAAA')).answers ?? []).map(dataOf), ['2001:db8::99']);

  writeFileSync(join(dir, 'example.com.zone'), zone(2, 'new A 192.0.2.77\n'));
  const reload = await fetch(`http://127.0.0.1:${primary.apiPort}/v1/reload`, { method: 'POST', headers: { authorization: 'Bearer tok' } });
  t.equal(reload.status, 200);
  const t0 = Date.now();
  const got = await until(10_000, async () => ((await query(knotPort, 'udp', 'new.example.com', 'A')).answers ?? []).length > 0);
  t.ok(got, `the change reached Knot after NOTIFY (${Date.now() - t0} ms)`);
  t.equal(await serialAt(knotPort), 2);
  t.match(knot.log(), /notify/i, 'Knot logged the NOTIFY');
  t.match(knot.log(), /IXFR, incoming/i, 'Knot asked for the change by IXFR');
  t.notMatch(knot.log(), /fallback to AXFR|AXFR-style IXFR/i, 'and got it incrementally, from the journal');
});

t.test('dig: AXFR and IXFR with the right key, a wrong key, no key', { skip: dig ? false : 'dig not installed' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'steerdns-primary-'));
  writeFileSync(join(dir, 'example.com.zone'), zone(7));
  writeFileSync(join(dir, 'example.com.lb.yaml'), LB);
  const conf = join(mkdtempSync(join(tmpdir(), 'steerdns-conf-')), 'steerdns.yaml');
  writeFileSync(conf, `tsig-keys:\n  - { name: xfr, secret: "${SECRET}" }\nzone-options:\n  example.com:\n    allow-transfer: ["key xfr", "192.0.2.0/24"]\n`);
  const cli = await startCli(dir, ['--config', conf, '--workers', '1', '--startup-wait', '0', '--api-token', 'tok']);
  t.teardown(async () => {
    cli.child.kill('SIGKILL');
    await cli.exited;
  });
  const run = (...args: string[]) => spawnSync('dig', ['@127.0.0.1', '-p', String(cli.port), ...args], { encoding: 'utf8', timeout: 20_000 }).stdout;

  const good = run('-y', `hmac-sha256:xfr:${SECRET}`, 'example.com', 'AXFR');
  const records = good.split('\n').filter((l) => /^\S+\s+\d+\s+IN\s/.test(l));
  t.equal(records.filter((l) => /\sSOA\s/.test(l)).length, 2, 'SOA first and last');
  t.match(good, /^www\.example\.com\.\s+300\s+IN\s+A\s+192\.0\.2\.80$/m);
  t.notMatch(good, /^web\.example\.com\.\s+\d+\s+IN\s+A\s/m, 'transfer-load-balancers omit (the default): no A at the load balancer');
  t.match(good, /TSIG\s+hmac-sha256\. \d+ 300 32 \S+ \d+ NOERROR/, 'signed, and dig verified it');
  t.notMatch(good, /Couldn't verify|tsig verify failure/i);

  const bad = run('-y', 'hmac-sha256:xfr:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', 'example.com', 'AXFR');
  t.match(bad, /BADSIG/, 'a wrong secret: BADSIG');
  t.notMatch(bad, /192\.0\.2\.80/, 'and no data');
  const unknownKey = run('-y', `hmac-sha256:other:${SECRET}`, 'example.com', 'AXFR');
  t.match(unknownKey, /BADKEY/, 'an unknown key: BADKEY');
  const none = run('example.com', 'AXFR');
  t.match(none, /Transfer failed/, 'no key, and 127.0.0.1 is not in 192.0.2.0/24: refused');

  const upToDate = run('-y', `hmac-sha256:xfr:${SECRET}`, 'example.com', 'IXFR=7');
  t.equal(upToDate.split('\n').filter((l) => /^\S+\s+\d+\s+IN\s/.test(l)).length, 1, 'IXFR from our serial: the SOA alone');
  const behind = run('-y', `hmac-sha256:xfr:${SECRET}`, 'example.com', 'IXFR=6');
  t.match(behind, /^www\.example\.com\.\s+300\s+IN\s+A\s+192\.0\.2\.80$/m, 'IXFR from an older serial: the whole zone');
  // A new version: IXFR from the old serial gets the difference, from the journal.
  writeFileSync(join(dir, 'example.com.zone'), zone(8, 'new A 192.0.2.77\n'));
  t.equal((await fetch(`http://127.0.0.1:${cli.apiPort}/v1/reload`, { method: 'POST', headers: { authorization: 'Bearer tok' } })).status, 200);
  const diff = run('-y', `hmac-sha256:xfr:${SECRET}`, 'example.com', 'IXFR=7').split('\n').filter((l) => /^\S+\s+\d+\s+IN\s/.test(l));
  t.same(diff.map((l) => l.split(/\s+/).slice(0, 4).join(' ') + (/\sSOA\s/.test(l) ? ` ${l.split(/\s+/)[6]}` : '')), [
    'example.com. 300 IN SOA 8',
    'example.com. 300 IN SOA 7',
    'example.com. 300 IN SOA 8',
    'new.example.com. 300 IN A',
    'example.com. 300 IN SOA 8',
  ], 'IXFR from 7: SOA 8, SOA 7, nothing deleted, SOA 8, the record added, SOA 8');
  const udp = await query(cli.port, 'udp', 'example.com', 'AXFR');
  t.equal(udp.rcode, 'REFUSED', 'never over UDP');
  t.same(udp.answers ?? [], []);
});

t.test('serial-policy increment: a file changed without a new serial is served with one, kept across a restart, and reaches Knot', { skip: knotd ? false : 'knotd not installed' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'steerdns-primary-'));
  writeFileSync(join(dir, 'example.com.zone'), zone(1));
  const knotPort = await freePort();
  const confDir = mkdtempSync(join(tmpdir(), 'steerdns-conf-'));
  const conf = config(confDir, knotPort);
  writeFileSync(conf, `${readFileSync(conf, 'utf8')}    serial-policy: increment\n`);
  const state = mkdtempSync(join(tmpdir(), 'steerdns-state-'));
  const args = ['--config', conf, '--workers', '1', '--api-token', 'tok', '--startup-wait', '0', '--state-dir', state];
  let primary: RunningCli = await startCli(dir, args);
  const stopPrimary = async () => {
    primary.child.kill('SIGKILL');
    await primary.exited;
  };
  t.teardown(() => stopPrimary());
  const knot = startKnotSecondary(knotPort, primary.port);
  t.teardown(knot.stop);
  t.ok(await until(15_000, async () => (await serialAt(knotPort)) === 1), 'Knot has serial 1');

  writeFileSync(join(dir, 'example.com.zone'), zone(1, 'new A 192.0.2.77\n')); // the serial forgotten
  t.equal((await fetch(`http://127.0.0.1:${primary.apiPort}/v1/reload`, { method: 'POST', headers: { authorization: 'Bearer tok' } })).status, 200);
  t.equal(await serialAt(primary.port), 2, 'served with serial 2');
  t.ok(await until(10_000, async () => ((await query(knotPort, 'udp', 'new.example.com', 'A')).answers ?? []).length > 0), 'the change reached Knot');

  await stopPrimary();
  primary = await startCli(dir, args);
  t.equal(await serialAt(primary.port), 2, 'after a restart with the same file: still 2, never back to 1');
});
