/**
 * `npm run bench:axfr`: how fast a large zone goes out by AXFR, and what it costs steerdns in
 * memory. Run by hand, never in CI; bounded (every wait has a deadline).
 *
 * 1. Writes a zone of `--records` (1,000,000) records at distinct names, a mix of A, AAAA, TXT
 *    and MX, and starts steerdns on it (dist/cli.js, `--workers 1`, a temp state dir, `--config`
 *    with a TSIG key and allow-transfer for it).
 * 2. Starts Knot DNS as a secondary (TSIG, as test/reference/transfer.test.ts) and times its
 *    start to its answering the zone's SOA with the right serial; then counts the records Knot
 *    serves (kdig AXFR from Knot) and reads Knot's own log line for the transfer.
 * 3. Transfers the zone again with `dig -y ... AXFR` to /dev/null (a second client).
 * For each transfer, steerdns's resident memory before it and its peak during it (VmHWM, reset
 * before each transfer through /proc/PID/clear_refs; sampled VmRSS as well).
 *
 * Options: --records N, --cpu-prof (steerdns's CPU profile in bench/results/profiles/),
 * --skip-dig.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import { startSteerdns } from './servers.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const { values } = parseArgs({ options: { records: { type: 'string', default: '1000000' }, 'cpu-prof': { type: 'boolean', default: false }, 'skip-dig': { type: 'boolean', default: false } } });
const RECORDS = Number(values.records);
const ZONE = 'axfr.test';
const SECRET = 'xV8m4MxWFfdg1/8vYL1xFaviuQcLiMqpdhMKJIXlalI=';
const KNOTD = ['/usr/sbin/knotd', '/usr/local/sbin/knotd'].find((p) => !spawnSync(p, ['--version']).error);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The zone file: SOA, NS, and RECORDS records at distinct names, A, AAAA, TXT and MX in turn. Returns its size in bytes and its record count. */
async function writeZone(file: string): Promise<{ bytes: number; records: number }> {
  const out = createWriteStream(file);
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  await write(`$ORIGIN ${ZONE}.\n$TTL 3600\n@ SOA ns1 hostmaster 1 7200 900 1209600 300\n@ NS ns1\nns1 A 192.0.2.53\n`);
  let chunk = '';
  for (let i = 0; i < RECORDS; i++) {
    const a = i & 0xff;
    const b = (i >> 8) & 0xff;
    const c = (i >> 16) & 0xff;
    switch (i % 4) {
      case 0: chunk += `a${i} A 10.${c}.${b}.${a}\n`; break;
      case 1: chunk += `aaaa${i} AAAA 2001:db8:${c.toString(16)}:${b.toString(16)}::${a.toString(16)}\n`; break;
      case 2: chunk += `txt${i} TXT "record ${i} of the benchmark zone"\n`; break;
      default: chunk += `mx${i} MX 10 mail${i % 100}\n`;
    }
    if (chunk.length > 1 << 16) {
      await write(chunk);
      chunk = '';
    }
  }
  await write(chunk);
  out.end();
  await once(out, 'close');
  return { bytes: statSync(file).size, records: RECORDS + 3 };
}

function status(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/** Watches a process's memory during one transfer: RSS before, peak during (VmHWM after a reset, and sampled RSS). */
function memoryWatch(pid: number) {
  let hwmReset = true;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5'); // resets VmHWM to the current RSS (Linux 4.0+)
  } catch {
    hwmReset = false;
  }
  const before = status(pid, 'VmRSS');
  let sampled = before;
  const timer = setInterval(() => (sampled = Math.max(sampled, status(pid, 'VmRSS'))), 50);
  return {
    before,
    stop: () => {
      clearInterval(timer);
      sampled = Math.max(sampled, status(pid, 'VmRSS'));
      return { before, peak: hwmReset ? Math.max(status(pid, 'VmHWM'), sampled) : sampled, hwmReset };
    },
  };
}

async function soaSerial(port: number): Promise<number | undefined> {
  const socket = dgram.createSocket('udp4');
  try {
    const q = dnsPacket.encode({ type: 'query', id: 7, flags: 0, questions: [{ name: ZONE, type: 'SOA', class: 'IN' }] });
    const reply = await new Promise<Buffer | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 300);
      socket.once('message', (m: Buffer) => {
        clearTimeout(timer);
        resolve(m);
      });
      socket.send(q, port, '127.0.0.1');
    });
    if (!reply) return undefined;
    const soa = dnsPacket.decode(reply).answers?.find((a) => a.type === 'SOA');
    return soa ? (soa.data as { serial: number }).serial : undefined;
  } catch {
    return undefined;
  } finally {
    socket.close();
  }
}

/** Runs a command, counting the lines of its standard output that look like records; bounded. */
async function countRecords(cmd: string, args: string[], timeoutMs: number): Promise<{ seconds: number; records: number; ok: boolean; tail: string }> {
  const t0 = process.hrtime.bigint();
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  let records = 0;
  let rest = '';
  let tail = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    const lines = (rest + d).split('\n');
    rest = lines.pop()!;
    for (const l of lines) {
      if (/^\S+\s+\d+\s+(IN\s+)?[A-Z]/.test(l)) records++;
      else if (l.trim() && !l.startsWith(';')) tail = l;
    }
  });
  child.stderr!.on('data', (d: Buffer) => (tail = (tail + d.toString()).slice(-2000)));
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(killer);
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, records, ok: code === 0, tail };
}

function knotConf(dir: string, port: number, primaryPort: number): string {
  return `server:
    rundir: "${dir}"
    listen: 127.0.0.1@${port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "${dir}"
log:
  - target: stderr
    any: info
key:
  - id: xfr
    algorithm: hmac-sha256
    secret: ${SECRET}
remote:
  - id: primary
    address: 127.0.0.1@${primaryPort}
    key: xfr
acl:
  - id: local
    address: 127.0.0.1
    key: xfr
    action: [notify, transfer]
zone:
  - domain: ${ZONE}
    storage: "${dir}"
    master: primary
    acl: local
    zonefile-sync: -1
    zonefile-load: none
    journal-content: none
`;
}

async function main(): Promise<void> {
  if (!KNOTD) throw new Error('knotd not installed (apt-get install knot)');
  const digInstalled = !spawnSync('dig', ['-v']).error;
  const kdigInstalled = !spawnSync('kdig', ['-V']).error;
  const work = mkdtempSync(join(tmpdir(), 'steerdns-axfr-'));
  const lines: string[] = [];
  const say = (line: string) => {
    lines.push(line);
    process.stdout.write(line + '\n');
  };
  const knotDir = join(work, 'knot');
  let knot: ReturnType<typeof spawn> | undefined;
  let server: Awaited<ReturnType<typeof startSteerdns>> | undefined;
  try {
    const zones = join(work, 'zones');
    mkdirSync(zones);
    let t0 = process.hrtime.bigint();
    const zone = await writeZone(join(zones, `${ZONE}.zone`));
    say(`zone: ${zone.records.toLocaleString('en')} records, file ${(zone.bytes / 2 ** 20).toFixed(0)} MiB, written in ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1)} s`);
    const conf = join(work, 'steerdns.yaml');
    writeFileSync(conf, `tsig-keys:\n  - { name: xfr, algorithm: hmac-sha256, secret: "${SECRET}" }\nzone-options:\n  ${ZONE}:\n    allow-transfer: ["key xfr"]\n`);
    const profiles = join(ROOT, 'bench/results/profiles');
    if (values['cpu-prof']) mkdirSync(profiles, { recursive: true });
    const port = 30000 + Math.floor(Math.random() * 10000);
    server = await startSteerdns({
      root: ROOT, zones, port, startTimeout: 300,
      extraArgs: ['--workers', '1', '--config', conf],
      nodeArgs: values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', profiles] : [],
    });
    const pid = server.process.pid!;
    await sleep(2000); // let the heap settle after loading
    say(`steerdns: first answer ${server.readySeconds.toFixed(1)} s after start, RSS ${status(pid, 'VmRSS').toFixed(0)} MiB (peak while loading ${status(pid, 'VmHWM').toFixed(0)} MiB)`);
    say('');
    say('| client | time (s) | records | steerdns RSS before (MiB) | peak during (MiB) | growth / zone file |');
    say('| --- | --- | --- | --- | --- | --- |');
    const row = (client: string, seconds: number, records: string, m: { before: number; peak: number }) =>
      say(`| ${client} | ${seconds.toFixed(1)} | ${records} | ${m.before.toFixed(0)} | ${m.peak.toFixed(0)} | ${((m.peak - m.before) / (zone.bytes / 2 ** 20)).toFixed(2)} |`);

    // Knot as a secondary: from its start to its answering with serial 1.
    mkdirSync(knotDir);
    const knotPort = port + 1;
    writeFileSync(join(knotDir, 'knot.conf'), knotConf(knotDir, knotPort, port));
    let mem = memoryWatch(pid);
    t0 = process.hrtime.bigint();
    knot = spawn(KNOTD, ['-c', join(knotDir, 'knot.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let knotLog = '';
    knot.stderr!.on('data', (d: Buffer) => (knotLog = (knotLog + d.toString()).slice(-50_000)));
    let served = false;
    for (const end = Date.now() + 300_000; Date.now() < end && knot.exitCode === null; await sleep(50)) {
      if ((await soaSerial(knotPort)) === 1) {
        served = true;
        break;
      }
    }
    const knotSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const knotMem = mem.stop();
    if (!served) throw new Error(`Knot did not serve the zone within 300 s:\n${knotLog.slice(-3000)}`);
    // The records Knot serves, transferred out of Knot with the same key.
    let knotCount = 'not counted (kdig missing)';
    if (kdigInstalled) {
      const c = await countRecords('kdig', ['@127.0.0.1', '-p', String(knotPort), '-y', `hmac-sha256:xfr:${SECRET}`, '+noall', '+answer', ZONE, 'AXFR'], 300_000);
      knotCount = `${(c.records - 1).toLocaleString('en')}${c.records - 1 === zone.records ? '' : ` (expected ${zone.records.toLocaleString('en')})`}`;
    }
    row('Knot 3.2 secondary (start to serving)', knotSeconds, knotCount, knotMem);
    const knotLine = /AXFR, incoming.*finished.*$/m.exec(knotLog)?.[0];

    // dig to /dev/null (records counted as they arrive, nothing kept).
    if (digInstalled && !values['skip-dig']) {
      mem = memoryWatch(pid);
      const c = await countRecords('dig', ['@127.0.0.1', '-p', String(port), '-y', `hmac-sha256:xfr:${SECRET}`, '+noall', '+answer', ZONE, 'AXFR'], 300_000);
      const m = mem.stop();
      row(`dig AXFR${c.ok ? '' : ' (failed)'}`, c.seconds, `${(c.records - 1).toLocaleString('en')}`, m);
      if (!c.ok || /failed|couldn't verify/i.test(c.tail)) say(`dig: ${c.tail.trim()}`);
    }
    say('');
    if (knotLine) say(`Knot's log: ${knotLine}`);
    if (!knotMem.hwmReset) say('(VmHWM could not be reset: peaks are sampled RSS every 50 ms)');
  } finally {
    if (knot && knot.exitCode === null) {
      knot.kill('SIGTERM');
      await Promise.race([once(knot, 'exit'), sleep(5000)]);
      if (knot.exitCode === null) knot.kill('SIGKILL');
    }
    if (server) await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  const out = join(ROOT, 'bench/results', `axfr-${new Date().toISOString().replace(/[:.]/g, '-')}.md`);
  writeFileSync(out, lines.join('\n') + '\n');
  process.stdout.write(`\nwritten to ${out}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).stack}\n`);
  process.exitCode = 1;
});
