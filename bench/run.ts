/**
 * `npm run bench`: steerdns against the ceiling of this runtime, side by side in one run, with
 * dnsperf on loopback. Prints a table and writes it to bench/results/. Run by hand; bounded in
 * time (about three minutes with the defaults). See bench/README.md for the options.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { dnsperf, ensureDnsperf, mean, onPath, quantile, type PerfResult } from './dnsperf.js';
import { startCeiling, startSteerdns, waitForAnswer, type Server } from './servers.js';
import { binaryQueries, writeZones } from './workload.js';
import { scenarios, type Scenario } from './scenarios.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    'latency-duration': { type: 'string', default: '5' },
    scenarios: { type: 'string' },
    workers: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    'no-pin': { type: 'boolean', default: false },
  },
});
const DURATION = Number(values.duration);
const LATENCY_DURATION = Number(values['latency-duration']);

/** With two or more CPUs and taskset: the server on CPU 1, dnsperf on CPU 0. */
const pin = !values['no-pin'] && cpus().length >= 2 && onPath('taskset');
const SERVER_CPU = pin ? (values.workers && values.workers !== '1' ? undefined : 1) : undefined;
const CLIENT_CPU = pin ? 0 : undefined;

interface Row {
  readonly server: string;
  readonly scenario: string;
  readonly what: string;
  readonly qps: number;
  readonly lostPct: number;
  readonly rate: number;
  readonly avgMs: number;
  readonly p99Ms: number;
  readonly rssMiB: number;
}

async function measure(server: Server, label: string, s: Scenario, file: string): Promise<Row> {
  const port = server.port;
  // Warm-up: the JIT, and one pass through the file so every client subnet has been seen once
  // (the first sight of a subnet costs geolocation and ECS scope work; the steady state is measured).
  await dnsperf({ port, file, seconds: 30, passes: 1, cpu: CLIENT_CPU });
  await dnsperf({ port, file, seconds: 2, cpu: CLIENT_CPU });
  const sat: PerfResult = await dnsperf({ port, file, seconds: DURATION, cpu: CLIENT_CPU });
  const rate = Math.round(sat.qps / 2);
  // 50 outstanding: dnsperf's own bursts (two threads on one CPU) otherwise dominate the tail.
  const lat = await dnsperf({ port, file, seconds: LATENCY_DURATION, rate, latencies: true, outstanding: 50, cpu: CLIENT_CPU });
  const row = {
    server: label,
    scenario: s.name,
    what: s.what,
    qps: sat.qps,
    lostPct: (100 * sat.lost) / Math.max(1, sat.sent),
    rate,
    avgMs: mean(lat.latencies!) * 1000,
    p99Ms: quantile(lat.latencies!, 0.99) * 1000,
    rssMiB: server.peakRssMiB(),
  };
  process.stderr.write(`bench: ${label} ${s.name}: ${Math.round(row.qps)} q/s, p99 ${row.p99Ms.toFixed(3)} ms at ${rate} q/s\n`);
  return row;
}

async function main(): Promise<void> {
  ensureDnsperf();
  const work = mkdtempSync(join(tmpdir(), 'steerdns-bench-'));
  const zones = join(work, 'zones');
  writeZones(zones, { extraLoadBalancers: 0, extraRecords: 0 });
  const wanted = values.scenarios?.split(',');
  const list = scenarios().filter((s) => !wanted || wanted.includes(s.name));
  const files = new Map(list.map((s) => [s.name, join(work, `${s.name}.bin`)]));
  for (const s of list) writeFileSync(files.get(s.name)!, binaryQueries(s.queries));
  const extraArgs = ['--workers', values.workers ?? '1']; // one process unless asked: the single-core figures
  const port = 20000 + Math.floor(Math.random() * 20000);

  // The ceiling answers with steerdns's own answer to the static question, byte for byte.
  let probe = await startSteerdns({ root: ROOT, zones, port, cpu: SERVER_CPU, extraArgs });
  const reply = await waitForAnswer(port, probe.process, 5);
  await probe.stop();

  const rows: Row[] = [];
  const ceilingRun = async () => {
    const ceiling = await startCeiling(ROOT, port, reply, SERVER_CPU);
    try {
      rows.push(await measure(ceiling, 'ceiling', list[0], files.get(list[0].name)!));
    } finally {
      await ceiling.stop();
    }
  };
  await ceilingRun();
  for (const s of list) {
    const nodeArgs = values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', join(ROOT, 'bench/results/profiles'), '--cpu-prof-name', `${s.name}.cpuprofile`] : [];
    const server = await startSteerdns({ root: ROOT, zones, port, cpu: SERVER_CPU, extraArgs, nodeArgs });
    try {
      rows.push(await measure(server, 'steerdns', s, files.get(s.name)!));
    } finally {
      await server.stop();
    }
  }
  await ceilingRun(); // again at the end: the machine's drift shows in the two ceiling rows
  rmSync(work, { recursive: true, force: true });
  report(rows);
}

function report(rows: Row[]): void {
  const ceilings = rows.filter((r) => r.server === 'ceiling');
  const ceilingQps = ceilings.reduce((s, r) => s + r.qps, 0) / ceilings.length;
  const header = ['server', 'scenario', 'q/s', 'ratio', 'lost', 'latency at', 'avg ms', 'p99 ms', 'peak RSS'];
  const lines = rows.map((r) => [
    r.server,
    r.scenario,
    String(Math.round(r.qps)),
    (r.qps / ceilingQps).toFixed(2),
    `${r.lostPct.toFixed(2)}%`,
    `${r.rate} q/s`,
    r.avgMs.toFixed(3),
    r.p99Ms.toFixed(3),
    `${r.rssMiB.toFixed(0)} MiB`,
  ]);
  const table = [header, header.map(() => '---'), ...lines].map((l) => `| ${l.join(' | ')} |`).join('\n');
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const about = [
    `steerdns benchmark, ${new Date().toISOString()}`,
    `${cpu}, ${cpus().length} CPUs, Node ${process.version}; ${pin ? 'server pinned to CPU 1, dnsperf to CPU 0' : 'not pinned'}; ` +
      `dnsperf -c 10 -q 200 for ${DURATION} s at saturation after one warm-up pass through the queries, latency (-q 50) at half of each row's own rate for ${LATENCY_DURATION} s; ` +
      `ratio = q/s over the mean of the ceiling rows (${Math.round(ceilingQps)} q/s)${values.workers ? `; --workers ${values.workers}` : ''}`,
    '',
    ...rows.map((r) => `- ${r.scenario}: ${r.what}`).filter((l, i, a) => a.indexOf(l) === i),
  ].join('\n');
  const text = `${about}\n\n${table}\n`;
  process.stdout.write(`\n${text}`);
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}.md`);
  writeFileSync(file, text);
  writeFileSync(file.replace(/\.md$/, '.json'), JSON.stringify({ rows, ceilingQps }, null, 2));
  process.stdout.write(`\nwritten to ${file}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
