/**
 * `npm run bench:scale`: does speed depend on the size of the configuration, and how much does
 * size cost? Run by hand; bounded (a few minutes).
 * 1. A load-balanced name's queries/s with the small benchmark configuration and with 10,000
 *    more load balancers and 100,000 more static records, side by side.
 * 2. Start-up time (to the first answer) and memory with 1,000,000 static records.
 * 3. Peak memory after a million distinct client subnets (ECS), with the default cache bounds.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { dnsperf, ensureDnsperf, onPath } from './dnsperf.js';
import { startSteerdns } from './servers.js';
import { binaryQueries, subnets, writeZones, ZONE } from './workload.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const { values } = parseArgs({ options: { duration: { type: 'string', default: '10' }, records: { type: 'string', default: '1000000' }, subnets: { type: 'string', default: '1000000' } } });
const DURATION = Number(values.duration);
const pin = onPath('taskset');
const SERVER_CPU = pin ? 1 : undefined;
const CLIENT_CPU = pin ? 0 : undefined;
const ARGS = ['--workers', '1'];

async function qpsWith(work: string, name: string, extraLoadBalancers: number, extraRecords: number, file: string): Promise<{ qps: number; ready: number; rss: number }> {
  const zones = join(work, name);
  writeZones(zones, { extraLoadBalancers, extraRecords });
  const server = await startSteerdns({ root: ROOT, zones, port: 30000 + Math.floor(Math.random() * 10000), cpu: SERVER_CPU, extraArgs: ARGS, startTimeout: 120 });
  try {
    await dnsperf({ port: server.port, file, seconds: 2, cpu: CLIENT_CPU });
    const r = await dnsperf({ port: server.port, file, seconds: DURATION, cpu: CLIENT_CPU });
    return { qps: r.qps, ready: server.readySeconds, rss: server.peakRssMiB() };
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  ensureDnsperf();
  const work = mkdtempSync(join(tmpdir(), 'steerdns-scale-'));
  const lines: string[] = [];
  const say = (line: string) => {
    lines.push(line);
    process.stdout.write(line + '\n');
  };
  try {
    // 1. Same name, small and large configurations, in turn (twice each: the machine drifts).
    const off = join(work, 'off.bin');
    writeFileSync(off, binaryQueries([{ name: `off.${ZONE}`, type: 'A' }]));
    const small: number[] = [];
    const large: number[] = [];
    for (let i = 0; i < 2; i++) {
      small.push((await qpsWith(work, `small${i}`, 0, 0, off)).qps);
      large.push((await qpsWith(work, `large${i}`, 10_000, 100_000, off)).qps);
    }
    const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
    say('| configuration | q/s for a load-balanced name (steering off) |');
    say('| --- | --- |');
    say(`| 3 load balancers, 8 records | ${small.map(Math.round).join(', ')} |`);
    say(`| + 10,000 load balancers, + 100,000 records | ${large.map(Math.round).join(', ')} |`);
    say(`| large / small | ${(mean(large) / mean(small)).toFixed(3)} |`);
    say('');

    // 2. A million records: time to the first answer, memory.
    const records = Number(values.records);
    const zones = join(work, 'million');
    let t0 = process.hrtime.bigint();
    writeZones(zones, { extraLoadBalancers: 0, extraRecords: records });
    const wrote = Number(process.hrtime.bigint() - t0) / 1e9;
    t0 = process.hrtime.bigint();
    const big = await startSteerdns({ root: ROOT, zones, port: 30000 + Math.floor(Math.random() * 10000), extraArgs: ARGS, startTimeout: 300 });
    say(`${records.toLocaleString('en')} static records (zone file written in ${wrote.toFixed(1)} s): first answer ${big.readySeconds.toFixed(1)} s after start, peak RSS ${big.peakRssMiB().toFixed(0)} MiB`);
    await big.stop();

    // 3. A million distinct client subnets through geo steering and persistence.
    const count = Number(values.subnets);
    const nets = subnets(count);
    const file = join(work, 'subnets.bin');
    writeFileSync(file, binaryQueries(nets.map((ecs, i) => ({ name: `${i % 2 ? 'geo' : 'sticky'}.${ZONE}`, type: 'A' as const, ecs }))));
    const sz = join(work, 'subnets');
    writeZones(sz, { extraLoadBalancers: 0, extraRecords: 0 });
    const server = await startSteerdns({ root: ROOT, zones: sz, port: 30000 + Math.floor(Math.random() * 10000), cpu: SERVER_CPU, extraArgs: ARGS });
    const start = server.peakRssMiB();
    const r = await dnsperf({ port: server.port, file, seconds: 600, passes: 1, cpu: CLIENT_CPU });
    say(`${count.toLocaleString('en')} distinct ECS subnets (half geo, half persistence), each once: ${r.completed} answered, ${r.lost} lost, ${Math.round(r.qps)} q/s; peak RSS ${start.toFixed(0)} MiB at start, ${server.peakRssMiB().toFixed(0)} MiB after (geo cache and pins capped at 100,000 each by default)`);
    await server.stop();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  const out = join(ROOT, 'bench/results', `scale-${new Date().toISOString().replace(/[:.]/g, '-')}.md`);
  writeFileSync(out, lines.join('\n') + '\n');
  process.stdout.write(`\nwritten to ${out}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).stack}\n`);
  process.exitCode = 1;
});
