/**
 * `npm run bench`: steerdns against the ceiling of this runtime, side by side in one run, with
 * dnsperf on loopback. Prints a table and writes it to bench/results/. Run by hand; bounded in
 * time (about three minutes with the defaults). See bench/README.md for the options.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
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
    duration: { type: 'string', default: '5' },
    repeat: { type: 'string', default: '3' },
    'latency-duration': { type: 'string', default: '5' },
    'fixed-rate': { type: 'string', default: '10000' },
    scenarios: { type: 'string' },
    workers: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    'no-pin': { type: 'boolean', default: false },
    /** Node binaries to run the servers with, each in turn in the same run (default: this one). */
    node: { type: 'string', multiple: true },
  },
});
const DURATION = Number(values.duration);
const LATENCY_DURATION = Number(values['latency-duration']);
const REPEAT = Number(values.repeat);
/** The moderate rate at which CPU per query is measured besides saturation (one wake-up per datagram). */
const FIXED_RATE = Number(values['fixed-rate']);

/** With two or more CPUs and taskset: the server on CPU 1, dnsperf on CPU 0. */
const pin = !values['no-pin'] && cpus().length >= 2 && onPath('taskset');
const SERVER_CPU = pin ? (values.workers && values.workers !== '1' ? undefined : 1) : undefined;
const CLIENT_CPU = pin ? 0 : undefined;

interface Row {
  /** The Node version the servers ran on. */
  readonly runtime: string;
  readonly server: string;
  readonly scenario: string;
  readonly what: string;
  readonly qps: number;
  /** To the ceiling runs around this one (steerdns rows only). */
  readonly ratio: number;
  readonly lostPct: number;
  readonly rate: number;
  readonly avgMs: number;
  readonly p99Ms: number;
  readonly rssMiB: number;
  /** Server CPU time (all its processes) over answered queries, in microseconds: at saturation, and at FIXED_RATE. */
  readonly cpuUsSat: number;
  readonly cpuUsFixed: number;
  /** Those over the ceiling's around this row (steerdns rows only). */
  readonly cpuRatioSat: number;
  readonly cpuRatioFixed: number;
}

/** CPU microseconds per answered query while `run` goes on. */
async function cpuPerQuery(server: Server, run: () => Promise<PerfResult>): Promise<{ result: PerfResult; us: number }> {
  const before = server.cpuSeconds();
  const result = await run();
  return { result, us: ((server.cpuSeconds() - before) * 1e6) / Math.max(1, result.completed) };
}

async function measure(runtime: string, server: Server, label: string, s: Scenario, file: string, latency: boolean): Promise<Row> {
  const port = server.port;
  // Warm-up: the JIT, and one pass through the file so every client subnet has been seen once
  // (the first sight of a subnet costs geolocation and ECS scope work; the steady state is measured).
  await dnsperf({ port, file, seconds: 30, passes: 1, cpu: CLIENT_CPU });
  await dnsperf({ port, file, seconds: 2, cpu: CLIENT_CPU });
  const { result: sat, us: cpuUsSat } = await cpuPerQuery(server, () => dnsperf({ port, file, seconds: DURATION, cpu: CLIENT_CPU }));
  const { us: cpuUsFixed } = await cpuPerQuery(server, () => dnsperf({ port, file, seconds: DURATION, rate: FIXED_RATE, outstanding: 50, cpu: CLIENT_CPU }));
  const rate = Math.round(sat.qps / 2);
  // 50 outstanding: dnsperf's own bursts (two threads on one CPU) otherwise dominate the tail.
  const lat = latency ? await dnsperf({ port, file, seconds: LATENCY_DURATION, rate, latencies: true, outstanding: 50, cpu: CLIENT_CPU }) : undefined;
  const row = {
    runtime,
    server: label,
    scenario: s.name,
    what: s.what,
    qps: sat.qps,
    ratio: NaN,
    lostPct: (100 * sat.lost) / Math.max(1, sat.sent),
    rate: lat ? rate : NaN,
    avgMs: lat ? mean(lat.latencies!) * 1000 : NaN,
    p99Ms: lat ? quantile(lat.latencies!, 0.99) * 1000 : NaN,
    rssMiB: server.peakRssMiB(),
    cpuUsSat,
    cpuUsFixed,
    cpuRatioSat: NaN,
    cpuRatioFixed: NaN,
  };
  process.stderr.write(`bench: ${runtime} ${label} ${s.name}: ${Math.round(row.qps)} q/s, ${cpuUsSat.toFixed(1)} us CPU/query (${cpuUsFixed.toFixed(1)} at ${FIXED_RATE} q/s)${lat ? `, p99 ${row.p99Ms.toFixed(3)} ms at ${rate} q/s` : ''}\n`);
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
  const probe = await startSteerdns({ root: ROOT, zones, port, cpu: SERVER_CPU, extraArgs });
  const reply = await waitForAnswer(port, probe.process, 5);
  await probe.stop();

  const rows: Row[] = [];
  const nodes = values.node ?? [process.execPath];
  for (const node of nodes) {
    const runtime = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
    // The ceiling runs before and after every steerdns row, fed the same queries; each row's ratio
    // is to the mean of the two around it, so the machine's drift during the run cancels out.
    const ceilingRun = async (s: Scenario, latency: boolean): Promise<Row> => {
      const ceiling = await startCeiling(ROOT, port, reply, SERVER_CPU, node);
      try {
        const row = await measure(runtime, ceiling, 'ceiling', s, files.get(s.name)!, latency);
        rows.push(row);
        return row;
      } finally {
        await ceiling.stop();
      }
    };
    const oneRound = async (round: number): Promise<void> => {
      let before = await ceilingRun(list[0], round === 0);
      for (const s of list) {
        const nodeArgs = values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', join(ROOT, 'bench/results/profiles'), '--cpu-prof-name', `${s.name}.cpuprofile`] : [];
        const server = await startSteerdns({ root: ROOT, zones, port, cpu: SERVER_CPU, extraArgs, nodeArgs, node });
        let row: Row;
        try {
          row = await measure(runtime, server, 'steerdns', s, files.get(s.name)!, true);
        } finally {
          await server.stop();
        }
        const after = await ceilingRun(s, false);
        const around = (f: (r: Row) => number) => (f(before) + f(after)) / 2;
        rows.splice(rows.length - 1, 0, { ...row, ratio: row.qps / around((r) => r.qps), cpuRatioSat: row.cpuUsSat / around((r) => r.cpuUsSat), cpuRatioFixed: row.cpuUsFixed / around((r) => r.cpuUsFixed) });
        before = after;
      }
    };
    // Several rounds: this kind of machine drifts by tens of percent within a minute, so the
    // table gives each figure's median over the rounds (the JSON keeps every run).
    for (let round = 0; round < REPEAT; round++) await oneRound(round);
  }
  rmSync(work, { recursive: true, force: true });
  report(rows);
}

function median(values: number[]): number {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}

function report(rows: Row[]): void {
  const runtimes = [...new Set(rows.map((r) => r.runtime))];
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const sections = runtimes.map((runtime) => `Node ${runtime}\n\n${table(rows.filter((r) => r.runtime === runtime))}\n`);
  const about = [
    `steerdns benchmark, ${new Date().toISOString()}`,
    `${cpu}, ${cpus().length} CPUs, servers on Node ${runtimes.join(' then ')}; ${pin ? 'server pinned to CPU 1, dnsperf to CPU 0' : 'not pinned'}; ` +
      `${REPEAT} rounds, medians; each round: dnsperf -c 10 -q 200 for ${DURATION} s at saturation after one warm-up pass through the queries, latency (-q 50) at half of the row's own rate for ${LATENCY_DURATION} s; ` +
      `ratio = steerdns q/s over the mean of the ceiling runs just before and after it, fed the same queries${values.workers ? `; --workers ${values.workers}` : ''}; ` +
      `CPU us/q = the server's CPU time (user and system, workers included, from /proc) over the queries answered, at saturation and at a fixed ${FIXED_RATE} q/s (-q 50) for ${DURATION} s; x ceiling = that over the ceiling's around it`,
    '',
    ...[...new Set(rows.map((r) => r.scenario))].map((n) => `- ${n}: ${rows.find((r) => r.scenario === n)!.what}`),
  ].join('\n');
  const text = `${about}\n\n${sections.join('\n')}`;
  process.stdout.write(`\n${text}`);
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}.md`);
  writeFileSync(file, text);
  writeFileSync(file.replace(/\.md$/, '.json'), JSON.stringify({ rows }, null, 2));
  process.stdout.write(`\nwritten to ${file}\n`);
}

/** One runtime's rows as a markdown table: medians per scenario, with the ceiling's own latency under it. */
function table(rows: Row[]): string {
  const fixed = (n: number, digits: number, unit = '') => (Number.isNaN(n) ? '' : n.toFixed(digits) + unit);
  const header = ['scenario', 'steerdns q/s', 'ceiling q/s', 'ratio (min-max)', 'lost', 'CPU us/q saturated', 'ceiling', 'x ceiling', `CPU us/q at ${FIXED_RATE} q/s`, 'ceiling', 'x ceiling', 'latency at', 'avg ms', 'p99 ms', 'peak RSS'];
  const names = [...new Set(rows.map((r) => r.scenario))];
  const lines = names.map((name) => {
    const mine = rows.filter((r) => r.scenario === name && r.server === 'steerdns');
    const ceiling = rows.filter((r) => r.scenario === name && r.server === 'ceiling');
    const ratios = mine.map((r) => r.ratio);
    return [
      name,
      fixed(median(mine.map((r) => r.qps)), 0),
      fixed(median(ceiling.map((r) => r.qps)), 0),
      `${fixed(median(ratios), 2)} (${fixed(Math.min(...ratios), 2)}-${fixed(Math.max(...ratios), 2)})`,
      `${Math.max(...mine.map((r) => r.lostPct)).toFixed(2)}%`,
      fixed(median(mine.map((r) => r.cpuUsSat)), 1),
      fixed(median(ceiling.map((r) => r.cpuUsSat)), 1),
      fixed(median(mine.map((r) => r.cpuRatioSat)), 2),
      fixed(median(mine.map((r) => r.cpuUsFixed)), 1),
      fixed(median(ceiling.map((r) => r.cpuUsFixed)), 1),
      fixed(median(mine.map((r) => r.cpuRatioFixed)), 2),
      fixed(median(mine.map((r) => r.rate)), 0, ' q/s'),
      fixed(median(mine.map((r) => r.avgMs)), 3),
      fixed(median(mine.map((r) => r.p99Ms)), 3),
      `${Math.max(...mine.map((r) => r.rssMiB)).toFixed(0)} MiB`,
    ];
  });
  const ceilingLatency = rows.find((r) => r.server === 'ceiling' && !Number.isNaN(r.p99Ms));
  const text = [header, header.map(() => '---'), ...lines].map((l) => `| ${l.join(' | ')} |`).join('\n');
  return ceilingLatency ? `${text}\n\nThe ceiling's own latency at ${fixed(ceilingLatency.rate, 0)} q/s: avg ${fixed(ceilingLatency.avgMs, 3)} ms, p99 ${fixed(ceilingLatency.p99Ms, 3)} ms.` : text;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
