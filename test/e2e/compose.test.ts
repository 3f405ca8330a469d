/**
 * docker-compose.yml, checked without Docker (none on the machines that run this suite): its
 * structure (images and builds, bind mounts, ports, references, static addresses), that
 * steerdns's command is one our CLI accepts on the files it mounts, and that the resolver and
 * the load balancers point at the addresses the services really have.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { tmpdir } from 'node:os';
import { join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { CLI } from '../helpers/cli.js';
import { confValues, shippedConf } from '../helpers/unbound-conf.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string[];
  entrypoint?: string[];
  volumes?: string[];
  ports?: string[];
  depends_on?: string[] | Record<string, unknown>;
  network_mode?: string;
  networks?: Record<string, { ipv4_address?: string } | null>;
}
interface Compose {
  services: Record<string, Service>;
  networks?: Record<string, { ipam?: { config?: { subnet: string }[] } }>;
}

// Merge keys (`<<: *steerdns-image`) are YAML 1.1; Compose reads them, so must we.
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as Compose;
const services = Object.entries(compose.services);

/** Bind mounts in short syntax, HOST:CONTAINER[:MODE], with the host path resolved. */
function mounts(s: Service): { host: string; container: string }[] {
  return (s.volumes ?? []).map((v) => v.split(':')).filter(([src]) => src.startsWith('.') || src.startsWith('/')).map(([src, dst]) => ({ host: resolve(ROOT, src), container: dst }));
}

/** The value after a flag in a command line. */
function flag(cmd: string[], name: string): string | undefined {
  const i = cmd.indexOf(name);
  return i < 0 ? undefined : cmd[i + 1];
}

function ipOf(name: string): string {
  const ip = Object.values(compose.services[name].networks ?? {})[0]?.ipv4_address;
  if (!ip) throw new Error(`service ${name} has no static address`);
  return ip;
}

function inSubnet(ip: string, cidr: string): boolean {
  const [net, bits] = cidr.split('/');
  const n = (a: string) => a.split('.').reduce((x, o) => x * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(bits));
  return Math.floor(n(ip) / size) === Math.floor(n(net) / size);
}

t.test('every service has an image or a build whose context and Dockerfile exist', async (t) => {
  for (const [name, s] of services) {
    t.ok(s.image || s.build, `${name}: image or build`);
    if (!s.build) continue;
    const b = typeof s.build === 'string' ? { context: s.build } : s.build;
    const context = resolve(ROOT, b.context ?? '.');
    t.ok(existsSync(context), `${name}: build context ${b.context} exists`);
    t.ok(existsSync(join(context, b.dockerfile ?? 'Dockerfile')), `${name}: its Dockerfile exists`);
  }
});

t.test('bind mounts, ports and references are well-formed', async (t) => {
  const networks = Object.keys(compose.networks ?? {});
  const addresses = new Set<string>();
  for (const [name, s] of services) {
    for (const m of mounts(s)) t.ok(existsSync(m.host), `${name}: mounted ${m.host} exists`);
    for (const p of s.ports ?? []) t.match(p, /^(\d{1,3}(\.\d{1,3}){3}:)?\d{1,5}:\d{1,5}(\/(tcp|udp))?$/, `${name}: port ${p}`);
    const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
    for (const d of deps) t.ok(compose.services[d], `${name}: depends on ${d}, a service`);
    const via = /^service:(.+)$/.exec(s.network_mode ?? '')?.[1];
    if (via) t.ok(compose.services[via], `${name}: network_mode service ${via} exists`);
    for (const [net, cfg] of Object.entries(s.networks ?? {})) {
      t.ok(networks.includes(net), `${name}: network ${net} is declared`);
      const ip = cfg?.ipv4_address;
      if (!ip) continue;
      const subnet = compose.networks?.[net]?.ipam?.config?.[0]?.subnet ?? '';
      t.ok(isIPv4(ip) && inSubnet(ip, subnet), `${name}: ${ip} is in ${subnet}`);
      t.notOk(addresses.has(ip), `${name}: ${ip} is not taken`);
      addresses.add(ip);
    }
  }
});

t.test("steerdns's command is accepted by our CLI, on the files it mounts", async (t) => {
  const s = compose.services.steerdns;
  const cmd = s.command ?? [];
  t.equal(cmd[0], 'serve');
  const usage = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' }).stdout;
  for (const f of cmd.filter((a) => a.startsWith('--'))) t.ok(usage.includes(`[${f} `) || usage.includes(`[${f}]`), `${f} is in the usage`);
  t.match(flag(cmd, '--listen') ?? '', /^0\.0\.0\.0:\d+$/, 'listens on every address of the container');
  // The zones directory as the container sees it, assembled from the files mounted into it.
  const zones = flag(cmd, '--zones')!;
  const dir = mkdtempSync(join(tmpdir(), 'steerdns-compose-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const m of mounts(s)) {
    if (m.container === zones) cpSync(m.host, dir, { recursive: true });
    else if (m.container.startsWith(zones + '/')) cpSync(m.host, join(dir, posix.relative(zones, m.container)));
  }
  const check = spawnSync(process.execPath, [CLI, 'check', '--zones', dir], { encoding: 'utf8' });
  t.equal(check.status, 0, check.stdout + check.stderr);
  t.match(check.stdout, /1 zone\(s\) OK: example\.com\.; 0 failed; 5 load balancer\(s\)/);
  // What is published is what it listens on.
  const dnsPort = flag(cmd, '--listen')!.split(':')[1];
  const apiPort = flag(cmd, '--api')!.split(':')[1];
  const targets = (s.ports ?? []).map((p) => p.split(':').pop());
  t.same(targets.sort(), [`${dnsPort}/tcp`, `${dnsPort}/udp`, `${apiPort}/tcp`].sort());
});

t.test('the resolver sends example.com, with ECS, to steerdns where it listens', async (t) => {
  const r = compose.services.resolver;
  const conf = shippedConf();
  const port = flag(compose.services.steerdns.command ?? [], '--listen')!.split(':')[1];
  t.same(confValues(conf, 'name'), ['example.com']);
  t.same(confValues(conf, 'stub-addr'), [`${ipOf('steerdns')}@${port}`]);
  t.same(confValues(conf, 'send-client-subnet'), [ipOf('steerdns')]);
  t.equal(confValues(conf, 'module-config')[0], 'subnetcache validator iterator');
  const subnet = compose.networks?.demo.ipam?.config?.[0]?.subnet;
  t.ok(confValues(conf, 'access-control').includes(`${subnet} allow`), 'queries from the compose network (the host, through Docker) are allowed');
  t.same((r.ports ?? []).map((p) => p.split(':').pop()).sort(), [`${confValues(conf, 'port')[0]}/tcp`, `${confValues(conf, 'port')[0]}/udp`]);
  // The mounted file is the one unbound is started with.
  const mounted = mounts(r).find((m) => m.host === resolve(ROOT, 'deploy/compose/unbound/unbound.conf'));
  const dockerfile = readFileSync(join(ROOT, 'deploy/compose/unbound/Dockerfile'), 'utf8');
  t.ok(mounted && dockerfile.includes(`"-c", "${mounted.container}"`), 'unbound runs with the mounted unbound.conf');
});

t.test("the load balancers' web pools are the backend containers; the rest is the demo's", async (t) => {
  const lbFile = mounts(compose.services.steerdns).find((m) => m.container.endsWith('.lb.yaml'))!.host;
  const lb = parse(readFileSync(lbFile, 'utf8')) as { pools: { name: string; origins: { address: string; port?: number }[] }[] };
  const backends = services.filter(([, s]) => s.entrypoint?.includes('dist/demo/backends.js')).map(([name]) => name);
  t.equal(backends.length, 3);
  for (const b of backends) t.same(compose.services[b].command, [ipOf(b)], `${b} listens on its own address`);
  const web = lb.pools.filter((p) => p.name.startsWith('web-')).flatMap((p) => p.origins);
  t.same(web.map((o) => o.address).sort(), backends.map(ipOf).sort(), 'web origins = backend addresses');
  t.ok(web.every((o) => o.port === 8080), 'on the port src/demo/backends.ts listens on');
  // Apart from those addresses, the same load balancers as zones/, so the two demos do not drift.
  const demo = parse(readFileSync(join(ROOT, 'zones/example.com.lb.yaml'), 'utf8')) as typeof lb;
  const withoutWebAddresses = (c: typeof lb) => ({ ...c, pools: c.pools.map((p) => (p.name.startsWith('web-') ? { ...p, origins: p.origins.map((o) => ({ ...o, address: '' })) } : p)) });
  t.same(withoutWebAddresses(lb), withoutWebAddresses(demo));
});
