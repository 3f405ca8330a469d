/**
 * Runs a reference authoritative server (Knot DNS `knotd`, or NSD 4 `nsd`) on an ephemeral loopback port for
 * differential tests. Everything lives in a fresh temp dir (config, zone copies, databases,
 * control socket), the process runs in the foreground as a child of the test, every wait is
 * bounded, and close() always kills it and removes the dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import dnsPacket from 'dns-packet';
import { buildQuery, sendTcp, sendUdp } from './client.js';

export interface ReferenceZone {
  /** Zone origin without the trailing dot, e.g. "example.com". */
  origin: string;
  /** Path of the master file to copy in. */
  file: string;
}

export interface ReferenceServer {
  /** e.g. "knotd 3.2.6" */
  readonly name: string;
  readonly port: number;
  readonly host: string;
  /** The command line used, for reports. */
  readonly command: string;
  /** What the server logged so far (capped), for diagnostics. */
  log(): string;
  close(): Promise<void>;
}

const KNOTD_CANDIDATES = ['/usr/sbin/knotd', '/usr/local/sbin/knotd', '/usr/bin/knotd'];

/** Path of an executable knotd ($KNOTD first), or undefined if there is none. */
export function knotdPath(): string | undefined {
  return executable('knotd', process.env.KNOTD, KNOTD_CANDIDATES);
}

/** The first of `first`, `candidates` and `program` on $PATH that is an executable file. */
function executable(program: string, first: string | undefined, candidates: readonly string[]): string | undefined {
  for (const c of [first, ...candidates, ...(process.env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, program))]) {
    if (!c) continue;
    try {
      fs.accessSync(c, fs.constants.X_OK);
      if (fs.statSync(c).isFile()) return c;
    } catch {
      // not there
    }
  }
  return undefined;
}

function listenTcpOnce(host: string, port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen({ host, port, exclusive: true }, () => resolve(s));
  });
}

function bindUdpOnce(host: string, port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    s.once('error', (e) => {
      s.close();
      reject(e);
    });
    s.bind({ address: host, port, exclusive: true }, () => resolve(s));
  });
}

/** A port that is free for both TCP and UDP on host right now (a few attempts). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const tcp = await listenTcpOnce(host, 0);
    const port = (tcp.address() as net.AddressInfo).port;
    try {
      const udp = await bindUdpOnce(host, port);
      udp.close();
      return port;
    } catch {
      // taken for UDP: try another
    } finally {
      await new Promise<void>((r) => tcp.close(() => r()));
    }
  }
  throw new Error(`no port free for both TCP and UDP on ${host}`);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function knotConf(dir: string, host: string, port: number, marker: string, zones: ReferenceZone[]): string {
  const q = (s: string) => JSON.stringify(s); // Knot's config accepts double-quoted strings
  return [
    'server:',
    `    rundir: ${q(dir)}`,
    `    listen: ${host}@${port}`,
    `    identity: ${q(marker)}`,
    `    version: ${q(marker)}`,
    '    udp-workers: 1',
    '    tcp-workers: 1',
    '    background-workers: 1',
    'log:',
    '  - target: stderr',
    '    any: info',
    'database:',
    `    storage: ${q(path.join(dir, 'db'))}`,
    'control:',
    `    listen: ${q(path.join(dir, 'knot.sock'))}`,
    'template:',
    '  - id: default',
    `    storage: ${q(path.join(dir, 'zones'))}`,
    '    file: "%s.zone"',
    '    journal-content: none', // never write anything back: the zone files are the truth
    '    zonefile-sync: -1',
    'zone:',
    ...zones.map((z) => `  - domain: ${z.origin}.`),
    '',
  ].join('\n');
}

/** Sends one UDP question and decodes the answer; undefined on timeout or garbage. */
async function probe(port: number, host: string, name: string, type: string, qclass = 'IN'): Promise<{ rcode: number; aa: boolean; packet: dnsPacket.Packet } | undefined> {
  const raw = await sendUdp(port, buildQuery(name, type, { qclass }), host, 250).catch(() => undefined);
  if (!raw || raw.length < 12) return undefined;
  try {
    return { rcode: raw.readUInt16BE(2) & 0xf, aa: (raw.readUInt16BE(2) & 0x400) !== 0, packet: dnsPacket.decode(raw) };
  } catch {
    return undefined;
  }
}

/**
 * Runs a reference server as a child of the test and waits until it is ready: *our* server
 * (the marker in version.server proves it is not someone else on that port) answers over UDP,
 * every zone is loaded (SOA with AA), and TCP answers too. close() stops it by its PID
 * (SIGTERM, then SIGKILL) and removes `dir`.
 */
async function runReference(o: {
  name: string;
  program: string;
  args: string[];
  dir: string;
  host: string;
  port: number;
  marker: string;
  zones: ReferenceZone[];
  timeoutMs: number;
  /** Sent if the test process exits without closing it. */
  onAbandon: NodeJS.Signals;
  /** Said when it is not ready in time. */
  notReady?: string;
}): Promise<ReferenceServer> {
  const { host, port, zones } = o;
  let logText = '';
  const append = (d: Buffer) => {
    if (logText.length < 64 * 1024) logText += d.toString();
  };
  const child: ChildProcess = spawn(o.program, o.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  let exited = false;
  const exitedP = new Promise<void>((r) => child.once('exit', () => { exited = true; r(); }));
  child.once('error', (e) => { append(Buffer.from(`spawn error: ${e.message}\n`)); });
  const onExit = () => { if (!exited) child.kill(o.onAbandon); };
  process.once('exit', onExit);

  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    process.removeListener('exit', onExit);
    if (!exited) {
      child.kill('SIGTERM');
      await Promise.race([exitedP, sleep(3000)]);
      if (!exited) {
        child.kill('SIGKILL');
        await Promise.race([exitedP, sleep(1000)]);
      }
    }
    fs.rmSync(o.dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + o.timeoutMs;
  let ready = false;
  while (!exited && Date.now() < deadline) {
    const v = await probe(port, host, 'version.server', 'TXT', 'CH');
    const txt = (v?.packet.answers?.[0] as { data?: Buffer[] } | undefined)?.data;
    if (Array.isArray(txt) && txt.map((b) => b.toString()).join('') === o.marker) {
      let loaded = true;
      for (const z of zones) {
        const soa = await probe(port, host, z.origin, 'SOA');
        if (!soa || soa.rcode !== 0 || !soa.aa || soa.packet.answers?.[0]?.type !== 'SOA') loaded = false;
      }
      if (loaded) {
        const tcp = await sendTcp(port, [buildQuery(zones[0].origin, 'SOA')], 1, host, 500).catch(() => []);
        if (tcp.length === 1) {
          ready = true;
          break;
        }
      }
    }
    await sleep(50);
  }
  if (!ready) {
    const why = exited ? `${o.name} exited` : `${o.name} not ready within ${o.timeoutMs} ms${o.notReady ? ` (${o.notReady})` : ''}`;
    const log = logText;
    await close();
    throw new Error(`${why} (port ${port}):\n${log}`);
  }
  return { name: o.name, port, host, command: `${o.program} ${o.args.join(' ')}`, log: () => logText, close };
}

async function tryStartKnot(knotd: string, zones: ReferenceZone[], host: string, timeoutMs: number): Promise<ReferenceServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steerdns-knot-'));
  fs.mkdirSync(path.join(dir, 'db'));
  fs.mkdirSync(path.join(dir, 'zones'));
  for (const z of zones) fs.copyFileSync(z.file, path.join(dir, 'zones', `${z.origin}.zone`));
  const port = await freePort(host);
  const marker = `steerdns-reference-${process.pid}-${port}`;
  const conf = path.join(dir, 'knot.conf');
  fs.writeFileSync(conf, knotConf(dir, host, port, marker, zones));

  // SIGKILL if the test process dies without teardown: knotd has no children to take down.
  return runReference({ name: 'knotd', program: knotd, args: ['-c', conf], dir, host, port, marker, zones, timeoutMs, onAbandon: 'SIGKILL' });
}

/**
 * Starts knotd serving the given zones on a free loopback port and waits until it answers
 * for all of them. Retries with another port if the first one was lost to a race.
 */
export async function startKnot(zones: ReferenceZone[], opts: { knotd?: string; host?: string; timeoutMs?: number; attempts?: number } = {}): Promise<ReferenceServer> {
  const knotd = opts.knotd ?? knotdPath();
  if (!knotd) throw new Error('knotd not installed');
  if (zones.length === 0) throw new Error('no zones');
  let last: unknown;
  for (let i = 0; i < (opts.attempts ?? 3); i++) {
    try {
      return await tryStartKnot(knotd, zones, opts.host ?? '127.0.0.1', opts.timeoutMs ?? 5000);
    } catch (e) {
      last = e;
    }
  }
  throw last;
}

/** The first lines of a knot.conf for a test: one worker of each kind, everything in `dir`, listening on `port`, with one TSIG key. */
export function knotConfHead(dir: string, port: number, key: { id: string; secret: string }): string {
  return `server:
    rundir: "${dir}"
    listen: 127.0.0.1@${port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "${dir}"
key:
  - id: ${key.id}
    algorithm: hmac-sha256
    secret: ${key.secret}
`;
}

const NSD_CANDIDATES = ['/usr/sbin/nsd', '/usr/local/sbin/nsd', '/usr/bin/nsd'];

/** Path of an executable nsd ($NSD first), or undefined if there is none. */
export function nsdPath(): string | undefined {
  return executable('nsd', process.env.NSD, NSD_CANDIDATES);
}

/**
 * NSD 4's configuration for a throwaway server: one listening address, everything under `dir`
 * (no chroot, no database, no zone list or xfrd state elsewhere), no privilege drop (root runs
 * the tests in CI; `username: ""` keeps NSD as whoever started it), one server process, no
 * remote control, and no response rate limiting (a test asks faster than RRL's default allows).
 * `minimal-responses` leaves the apex NS out of positive answers, as steerdns and Knot do.
 */
function nsdConf(dir: string, host: string, port: number, marker: string, zones: ReferenceZone[]): string {
  const q = (s: string) => JSON.stringify(s);
  return [
    'server:',
    `    ip-address: ${host}@${port}`,
    `    port: ${port}`,
    '    do-ip6: no',
    '    username: ""',
    '    chroot: ""',
    `    zonesdir: ${q(path.join(dir, 'zones'))}`,
    '    database: ""',
    `    zonelistfile: ${q(path.join(dir, 'zone.list'))}`,
    `    xfrdfile: ${q(path.join(dir, 'xfrd.state'))}`,
    `    xfrdir: ${q(dir)}`,
    `    pidfile: ${q(path.join(dir, 'nsd.pid'))}`,
    '    zonefiles-write: 0',
    '    server-count: 1',
    '    verbosity: 1',
    `    identity: ${q(marker)}`,
    '    hide-version: no',
    `    version: ${q(marker)}`,
    '    minimal-responses: yes',
    '    rrl-ratelimit: 0',
    '    rrl-whitelist-ratelimit: 0',
    'remote-control:',
    '    control-enable: no',
    ...zones.flatMap((z) => ['zone:', `    name: ${q(z.origin)}`, `    zonefile: ${q(`${z.origin}.zone`)}`]),
    '',
  ].join('\n');
}

async function tryStartNsd(nsd: string, zones: ReferenceZone[], host: string, timeoutMs: number): Promise<ReferenceServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steerdns-nsd-'));
  fs.mkdirSync(path.join(dir, 'zones'));
  for (const z of zones) fs.copyFileSync(z.file, path.join(dir, 'zones', `${z.origin}.zone`));
  const port = await freePort(host);
  const marker = `steerdns-reference-${process.pid}-${port}`;
  const conf = path.join(dir, 'nsd.conf');
  fs.writeFileSync(conf, nsdConf(dir, host, port, marker, zones));

  // -d: in the foreground, logging to stderr. SIGTERM, not SIGKILL, if the test process dies:
  // NSD's main process takes its server and xfrd children down with it.
  return runReference({ name: 'nsd', program: nsd, args: ['-d', '-c', conf], dir, host, port, marker, zones, timeoutMs, onAbandon: 'SIGTERM', notReady: 'a zone it cannot load is not served' });
}

/**
 * Starts NSD 4 serving the given zones on a free loopback port and waits until it answers
 * for all of them. Retries with another port if the first one was lost to a race.
 */
export async function startNsd(zones: ReferenceZone[], opts: { nsd?: string; host?: string; timeoutMs?: number; attempts?: number } = {}): Promise<ReferenceServer> {
  const nsd = opts.nsd ?? nsdPath();
  if (!nsd) throw new Error('nsd not installed');
  if (zones.length === 0) throw new Error('no zones');
  let last: unknown;
  for (let i = 0; i < (opts.attempts ?? 3); i++) {
    try {
      return await tryStartNsd(nsd, zones, opts.host ?? '127.0.0.1', opts.timeoutMs ?? 8000);
    } catch (e) {
      last = e;
    }
  }
  throw last;
}

/** Polls `check` every 100 ms until it is true, at most `ms`. */
export async function until(ms: number, check: () => Promise<boolean>): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if (await check()) return true;
  return false;
}

/** The serial of the SOA `name` has at the server on `port`, or undefined. */
export async function serialAt(port: number, name = 'example.com'): Promise<number | undefined> {
  const r = await sendUdp(port, buildQuery(name, 'SOA'), '127.0.0.1', 2000).catch(() => undefined);
  if (!r) return undefined;
  const soa = dnsPacket.decode(r).answers?.find((a) => a.type === 'SOA');
  return soa ? (soa.data as { serial: number }).serial : undefined;
}
