/**
 * Which server answered: NSID (RFC 5001) and CHAOS TXT (RFC 4892), set by --server-id and
 * --version-string from the command line or the configuration file, checked with dig where
 * it is installed and with our own client.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI, startCli, type RunningCli } from '../helpers/cli.js';
import { dataOf, query } from '../helpers/client.js';

const ZONES = fileURLToPath(new URL('../../zones', import.meta.url));
const dig = !spawnSync('dig', ['-v']).error;

function configFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'steerdns-config-')), 'steerdns.yaml');
  writeFileSync(file, text);
  return file;
}

const stop = async (cli: RunningCli) => {
  cli.child.kill('SIGKILL');
  await cli.exited;
};

const txt = (r: Awaited<ReturnType<typeof query>>) => (r.answers ?? []).map((a) => (dataOf(a) as Buffer[]).map(String).join(''));

t.test('CHAOS names and NSID from the configuration file', async (t) => {
  const config = configFile('server-id: ns1.from-file\nversion-string: steerdns test build\nworkers: 1\nstartup-wait: 0\n');
  const cli = await startCli(ZONES, ['--config', config]);
  t.teardown(() => stop(cli));
  for (const name of ['id.server', 'hostname.bind']) {
    const r = await query(cli.port, 'udp', name, 'TXT', { qclass: 'CH' });
    t.equal(r.rcode, 'NOERROR', name);
    t.ok((r.flags ?? 0) & (1 << 10), `${name}: authoritative`);
    t.same(txt(r), ['ns1.from-file'], name);
    t.equal((r.answers?.[0] as { class?: string } | undefined)?.class, 'CH');
  }
  for (const name of ['version.server', 'version.bind']) t.same(txt(await query(cli.port, 'tcp', name, 'TXT', { qclass: 'CH' })), ['steerdns test build'], name);
  t.equal((await query(cli.port, 'udp', 'authors.bind', 'TXT', { qclass: 'CH' })).rcode, 'REFUSED', 'other CHAOS names are refused');
  t.equal((await query(cli.port, 'udp', 'id.server', 'A', { qclass: 'CH' })).rcode, 'REFUSED', 'and other types');

  const withNsid = await query(cli.port, 'udp', 'www.example.com', 'A', { edns: { nsid: true } });
  const opt = withNsid.additionals?.find((a) => a.type === 'OPT') as unknown as { options: { code: number; data: Buffer }[] };
  t.same(opt.options.filter((o) => o.code === 3).map((o) => o.data.toString()), ['ns1.from-file'], 'NSID in the OPT');
  const steered = await query(cli.port, 'udp', 'app.example.com', 'A', { edns: { nsid: true } });
  const opt2 = steered.additionals?.find((a) => a.type === 'OPT') as unknown as { options: { code: number; data: Buffer }[] };
  t.same(opt2.options.filter((o) => o.code === 3).map((o) => o.data.toString()), ['ns1.from-file'], 'NSID on a steered answer (the direct path) too');
  const without = await query(cli.port, 'udp', 'www.example.com', 'A', { edns: {} });
  const opt3 = without.additionals?.find((a) => a.type === 'OPT') as unknown as { options: { code: number }[] };
  t.same(opt3.options.filter((o) => o.code === 3), [], 'no NSID unless asked');

  if (!dig) return;
  const d = spawnSync('dig', ['@127.0.0.1', '-p', String(cli.port), '+nsid', '+norec', 'www.example.com', 'A'], { encoding: 'utf8' });
  t.match(d.stdout, /NSID: .*\("ns1\.from-file"\)/, 'dig +nsid shows it');
  const c = spawnSync('dig', ['@127.0.0.1', '-p', String(cli.port), '+short', 'CH', 'TXT', 'id.server'], { encoding: 'utf8' });
  t.equal(c.stdout.trim(), '"ns1.from-file"', 'dig CH TXT id.server');
});

t.test('the command line wins over the file; version none is refused', async (t) => {
  const config = configFile('server-id: from-file\nworkers: 1\nstartup-wait: 0\n');
  const cli = await startCli(ZONES, ['--config', config, '--server-id', 'from-cli', '--version-string', 'none']);
  t.teardown(() => stop(cli));
  t.same(txt(await query(cli.port, 'udp', 'id.server', 'TXT', { qclass: 'CH' })), ['from-cli']);
  t.equal((await query(cli.port, 'udp', 'version.bind', 'TXT', { qclass: 'CH' })).rcode, 'REFUSED');
});

t.test('a configuration file with mistakes stops serve and fails check, naming the line', async (t) => {
  const config = configFile('zones: ' + ZONES + '\ntcp-idle-timeout: soon\nlisten-on: 0.0.0.0:53\n');
  const serve = spawnSync(process.execPath, [CLI, 'serve', '--config', config], { encoding: 'utf8' });
  t.equal(serve.status, 2);
  t.match(serve.stderr, `${config}:3: error: unknown option "listen-on"`);
  const check = spawnSync(process.execPath, [CLI, 'check', '--config', config], { encoding: 'utf8' });
  t.equal(check.status, 1);
  t.match(check.stdout, `${config}:3: error: unknown option "listen-on"`);

  const badValue = configFile('tcp-idle-timeout: soon\n');
  const r = spawnSync(process.execPath, [CLI, 'serve', '--config', badValue, '--zones', ZONES], { encoding: 'utf8' });
  t.equal(r.status, 2);
  t.match(r.stderr, `steerdns: ${badValue}:1: tcp-idle-timeout "soon": expected a positive number`);
  const ok = spawnSync(process.execPath, [CLI, 'check', '--config', configFile(`zones: ${ZONES}\n`)], { encoding: 'utf8' });
  t.equal(ok.status, 0, 'check uses the zones the file names');
  t.match(ok.stdout, '1 zone(s) OK: example.com.');
});

t.test('--version', async (t) => {
  const r = spawnSync(process.execPath, [CLI, '--version'], { encoding: 'utf8' });
  t.equal(r.status, 0);
  t.match(r.stdout, /^steerdns \d+\.\d+\.\d+\n$/);
});
