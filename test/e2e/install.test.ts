/**
 * Installing and running steerdns for production as docs/operations.md says: a fresh copy of
 * the project, `npm ci && npm prune --omit=dev`, no development dependency left, and a server
 * that answers; `npm ci --omit=dev` on a copy with nothing built says what to do instead. The
 * shipped systemd unit passes `systemd-analyze verify`, and its command line, with the shipped
 * configuration file, starts a server whose API takes the token from the credential file.
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { query, dataOf } from '../helpers/client.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const UNIT = join(ROOT, 'deploy/systemd/steerdns.service');
const CONFIG = join(ROOT, 'deploy/systemd/steerdns.yaml');

function files(): string[] | undefined {
  // Tracked files and new ones not ignored: what the next commit would hold.
  const r = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\0').filter(Boolean) : undefined;
}

/** A copy of the project as a fresh clone has it (tracked files only). */
function freshCopy(list: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'steerdns-install-'));
  for (const f of list) {
    if (!existsSync(join(ROOT, f))) continue; // deleted in the working tree
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    copyFileSync(join(ROOT, f), join(dir, f));
  }
  return dir;
}

function npm(cwd: string, args: string[]): { status: number | null; output: string } {
  const r = spawnSync('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline'], { cwd, encoding: 'utf8', timeout: 300_000 });
  return { status: r.status, output: `${r.stdout}\n${r.stderr}` };
}

/** Starts `node <cli> serve ...args`; resolves with its DNS and API ports once both listen. */
async function serve(cli: string, args: string[]) {
  const child = spawn(process.execPath, [cli, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => {
    clearTimeout(killer);
    r();
  }));
  const ports = await new Promise<{ dns: number; api: number }>((resolve, reject) => {
    let dns = 0;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const j = JSON.parse(line) as { msg: string; port?: number };
      if (j.msg === 'listening on UDP and TCP') dns = j.port!;
      if (j.msg === 'HTTP API listening') resolve({ dns, api: j.port! });
    });
    void exited.then(() => reject(new Error(`serve exited: ${stderr}`)));
  });
  return { ...ports, stop: async () => { child.kill('SIGKILL'); await exited; } };
}

const list = files();
const npmThere = !spawnSync('npm', ['--version']).error;

t.test('production install from a fresh copy: npm ci, npm prune --omit=dev, serve', { skip: !list ? 'not a git checkout' : !npmThere ? 'npm not installed' : false, timeout: 600_000 }, async (t) => {
  const bare = freshCopy(list!);
  const omit = npm(bare, ['ci', '--omit=dev']);
  t.not(omit.status, 0, 'npm ci --omit=dev alone cannot build');
  t.match(omit.output, 'npm ci && npm prune --omit=dev', 'and says what to run instead');

  const dir = freshCopy(list!);
  const full = npm(dir, ['ci']);
  t.equal(full.status, 0, 'npm ci installs and builds');
  t.ok(existsSync(join(dir, 'dist/cli.js')), 'dist/ is built');
  const pruned = npm(dir, ['prune', '--omit=dev']);
  t.equal(pruned.status, 0, 'npm prune --omit=dev');
  for (const dev of ['typescript', 'tap', 'fast-check']) t.notOk(existsSync(join(dir, 'node_modules', dev)), `${dev} is gone`);
  const again = npm(dir, ['ci', '--omit=dev']);
  t.equal(again.status, 0, 'a production reinstall keeps the dist/ built before');

  const server = await serve(join(dir, 'dist/cli.js'), ['--zones', join(dir, 'zones'), '--listen', '127.0.0.1:0', '--api', '127.0.0.1:0', '--state-dir', join(dir, 'state'), '--workers', '1', '--startup-wait', '0']);
  t.teardown(server.stop);
  const r = await query(server.dns, 'udp', 'www.example.com', 'A');
  t.same(r.answers?.map(dataOf), ['192.0.2.80'], 'it answers');
});

const analyze = !spawnSync('systemd-analyze', ['--version']).error;

t.test('the systemd unit verifies and is hardened', { skip: analyze ? false : 'systemd-analyze not installed' }, async (t) => {
  // verify needs the unit's programs to exist: point them at this machine's node and build.
  const unit = join(mkdtempSync(join(tmpdir(), 'steerdns-unit-')), 'steerdns.service');
  writeFileSync(unit, readFileSync(UNIT, 'utf8').replace('/usr/bin/node', process.execPath).replace('/opt/steerdns/dist/cli.js', join(ROOT, 'dist/cli.js')));
  const verify = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
  t.equal(verify.status, 0, `systemd-analyze verify: ${verify.stderr}`);
  t.notMatch(verify.stderr, /Unknown|unknown|ignoring/, 'no directive ignored');
  const security = spawnSync('systemd-analyze', ['security', '--offline=yes', unit], { encoding: 'utf8' });
  const level = /Overall exposure level for \S+: ([\d.]+)/.exec(security.stdout);
  t.ok(level && Number(level[1]) <= 3, `exposure ${level?.[1]} (at most 3: "OK")`);
  const text = readFileSync(UNIT, 'utf8');
  for (const must of ['DynamicUser=yes', 'StateDirectory=steerdns', 'AmbientCapabilities=CAP_NET_BIND_SERVICE', 'ProtectSystem=strict', 'LoadCredential=api-token:']) t.match(text, must);
  t.notMatch(text, /^Environment=.*TOKEN/m, 'no token in the environment');
});

t.test("the unit's command line with the shipped configuration file serves, the token from its credential", async (t) => {
  const exec = /^ExecStart=\S+ \S+ (.*)$/m.exec(readFileSync(UNIT, 'utf8'))![1].split(' ');
  const work = mkdtempSync(join(tmpdir(), 'steerdns-unit-run-'));
  const config = join(work, 'steerdns.yaml');
  writeFileSync(config, readFileSync(CONFIG, 'utf8').replace('/etc/steerdns/zones', join(ROOT, 'zones')));
  writeFileSync(join(work, 'api-token'), 'unit-token\n');
  // As systemd would expand them: %S is /var/lib, %d the credentials directory.
  const args = exec.slice(1).map((a) => a.replace('/etc/steerdns/steerdns.yaml', config).replace('%S', work).replace('%d', work));
  // The shipped file listens on port 53; the command line wins, as it does over any file.
  const server = await serve(join(ROOT, 'dist/cli.js'), [...args, '--listen', '127.0.0.1:0', '--api', '127.0.0.1:0', '--workers', '1', '--startup-wait', '0']);
  t.teardown(server.stop);
  t.same((await query(server.dns, 'udp', 'www.example.com', 'A')).answers?.map(dataOf), ['192.0.2.80']);
  const denied = await fetch(`http://127.0.0.1:${server.api}/v1/reload`, { method: 'POST', headers: { authorization: 'Bearer wrong' } });
  t.equal(denied.status, 401);
  const reload = await fetch(`http://127.0.0.1:${server.api}/v1/reload`, { method: 'POST', headers: { authorization: 'Bearer unit-token' } });
  t.equal(reload.status, 200, 'the token read from the credential file');
  t.ok(existsSync(join(work, 'steerdns', 'last-good')), 'state kept in %S/steerdns');
});
