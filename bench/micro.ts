/**
 * `npm run bench:micro`: the query path without sockets. Each scenario's queries go through
 * `respond()` (and the metrics observer) in a loop on a snapshot loaded like the server loads
 * it; prints CPU nanoseconds per query. For finding per-query work, not for headline figures:
 * those come from `npm run bench` (dnsperf against the ceiling).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { binaryQueries, writeZones } from './workload.js';
import { scenarios } from './scenarios.js';

type Modules = {
  load: typeof import('../src/snapshot/load.js');
  respond: typeof import('../src/answer/respond.js');
  locator: typeof import('../src/geo/locator.js');
  persistence: typeof import('../src/lb/persistence.js');
  model: typeof import('../src/lb/model.js');
  metrics: typeof import('../src/api/metrics.js');
  handler: typeof import('../src/server/handler.js');
  cache: typeof import('../src/answer/answer-cache.js');
};

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '1' }, scenarios: { type: 'string' } } });

async function modules(): Promise<Modules> {
  // The built server (dist/), as `npm start` runs it; the types come from src/.
  const dist = new URL('../../../dist/', import.meta.url);
  const m = async <T>(path: string): Promise<T> => (await import(new URL(path, dist).href)) as T;
  return {
    load: await m('snapshot/load.js'),
    respond: await m('answer/respond.js'),
    locator: await m('geo/locator.js'),
    persistence: await m('lb/persistence.js'),
    model: await m('lb/model.js'),
    metrics: await m('api/metrics.js'),
    handler: await m('server/handler.js'),
    cache: await m('answer/answer-cache.js'),
  };
}

/** Splits dnsperf's binary format back into messages. */
function messages(file: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < file.length; ) {
    const len = file.readUInt16BE(off);
    out.push(file.subarray(off + 2, off + 2 + len));
    off += 2 + len;
  }
  return out;
}

async function main(): Promise<void> {
  const m = await modules();
  const dir = mkdtempSync(join(tmpdir(), 'steerdns-micro-'));
  writeZones(dir, { extraLoadBalancers: 0, extraRecords: 0 });
  const cfg = m.load.loadConfig(dir);
  rmSync(dir, { recursive: true, force: true });
  const geo = await m.locator.openGeoLocator({});
  const snap = { zones: cfg.zones, lb: cfg.lb, health: m.model.ALL_HEALTHY, pop: {}, hostnames: { get: () => undefined }, random: Math.random, geo: geo.locator, persistence: new m.persistence.PinTable({}) };
  // Only the per-query observer is timed; the health monitor is read at scrape time, never here.
  const noMonitor = {} as import('../src/health/monitor.js').HealthMonitor;
  const metrics = new m.metrics.Metrics({ health: noMonitor, persistence: snap.persistence, geo: geo.locator });
  const wanted = values.scenarios?.split(',');
  const seconds = Number(values.seconds);
  // A logger that logs nothing: the handler asks it only whether debug is on, and for errors.
  const log = { isLevelEnabled: () => false, error: (o: object) => process.stderr.write(`${JSON.stringify(o)}\n`) } as unknown as import('../src/log.js').Logger;
  const handle = m.handler.createHandler(() => snap, log, { observe: metrics.observe, answerCache: new m.cache.AnswerCache(m.cache.DEFAULT_ANSWER_CACHE_SIZE) });
  const client = { transport: 'udp' as const, address: '192.0.2.1', port: 5353 };
  process.stdout.write('| scenario | ns/query respond() | ns/query handler (cache, metrics) |\n| --- | --- | --- |\n');
  for (const s of scenarios().filter((x) => !wanted || wanted.includes(x.name))) {
    const msgs = messages(binaryQueries(s.queries));
    const run = (full: boolean): number => {
      // CPU time of this process, not wall time: other processes on the machine do not count.
      let n = 0;
      const end = process.hrtime.bigint() + BigInt(seconds * 1e9);
      const cpu = process.cpuUsage();
      let now = process.hrtime.bigint();
      while (now < end) {
        if (full) for (let i = 0; i < 1000; i++) handle(msgs[n++ % msgs.length], client);
        else for (let i = 0; i < 1000; i++) m.respond.respond(snap, msgs[n++ % msgs.length], false, client.address);
        now = process.hrtime.bigint();
      }
      const used = process.cpuUsage(cpu);
      return ((used.user + used.system) * 1000) / n;
    };
    // Best of three: the machine's noise only ever adds time.
    run(false); // warm-up
    const bare = Math.min(run(false), run(false), run(false));
    run(true);
    const full = Math.min(run(true), run(true), run(true));
    process.stdout.write(`| ${s.name} | ${bare.toFixed(0)} | ${full.toFixed(0)} |\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).stack}\n`);
  process.exitCode = 1;
});
