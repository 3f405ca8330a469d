/**
 * The health part: the monitors that decide which origins answer. With `probe`, this process
 * runs them and every change swaps a new health view into the snapshot; with `remote` (a
 * worker), it runs none and answers with the views its primary hands over.
 *
 * With a state directory, the health last known is kept there (`health.json`, at most once a
 * second) and restored at start: an origin starts as it was until its first probe round here
 * decides, so a restart does not send answers to the fallback pool while probes are on their way.
 */
import { icmpUnavailable } from '../health/icmp-check.js';
import type { StateDir } from '../config/state.js';
import { healthData, viewOf, type HealthData } from '../health/data.js';
import { HealthMonitor, type HealthMonitorOptions } from '../health/monitor.js';
import type { HostnameCache } from '../lb/hostnames.js';
import type { LbConfig, Origin } from '../lb/model.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { rdataText } from '../wire/present.js';
import { T } from '../wire/types.js';
import type { Part, Served } from './part.js';

const FILE = 'health.json';
const KIND = 'health/1';
/** Health is written at most this often (ms). */
const WRITE_EVERY_MS = 1000;

export class Health implements Part {
  readonly monitor: HealthMonitor;
  private writeTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly mode: 'probe' | 'remote',
    private readonly options: HealthMonitorOptions,
    /** The load balancers to monitor at start, and the snapshot's (to write health by name). */
    private readonly lb: () => LbConfig,
    /** With `remote`: the health to answer with from the first query (the primary's). */
    private readonly initial: HealthData | undefined,
    /** Where health is kept across restarts (probing only). */
    private readonly state?: StateDir,
  ) {
    this.monitor = new HealthMonitor({
      ...options,
      onChange: (view) => {
        options.onChange(view);
        this.scheduleWrite();
      },
    });
  }

  async start(): Promise<void> {
    if (this.mode === 'probe') {
      const icmp = await icmpUnavailable(this.lb());
      if (icmp) this.options.log.error({ monitors: icmp.monitors.map((m) => m.name), detail: icmp.detail }, 'ICMP monitors cannot run on this system; their origins stay unhealthy');
      // Monitored origins count as down until their first result; the view starts that way.
      this.options.onChange(this.monitor.view());
      this.monitor.start(this.lb(), this.restore());
    } else {
      // The primary's view, or monitored origins down until it says otherwise.
      this.options.onChange(viewOf(this.initial ?? { pools: [] }));
    }
  }

  serve(served: Served): void {
    this.monitor.update(served.lb);
  }

  stop(): void {
    this.monitor.stop();
    if (this.writeTimer) {
      clearTimeout(this.writeTimer);
      this.write();
    }
  }

  /** The health written before a restart, if any. */
  private restore(): HealthData | undefined {
    if (!this.state) return undefined;
    const read = this.state.readJson(FILE, KIND, healthDataOf);
    if (read.problem) this.options.log.warn(read.problem);
    if (read.value) this.options.log.info({ written: read.written?.toISOString() }, 'health restored from the state directory until the first probe rounds');
    return read.value;
  }

  private scheduleWrite(): void {
    if (!this.state || this.writeTimer) return;
    this.writeTimer = setTimeout(() => {
      this.writeTimer = undefined;
      this.write();
    }, WRITE_EVERY_MS);
    this.writeTimer.unref();
  }

  private write(): void {
    this.writeTimer = undefined;
    try {
      this.state?.writeJson(FILE, KIND, healthData(this.lb(), this.monitor.view()));
    } catch (err) {
      this.options.log.warn({ err }, 'cannot write health to the state directory');
    }
  }
}

/** Health data a state file holds, or undefined when it holds something else. */
function healthDataOf(data: unknown): HealthData | undefined {
  const pools = (data as Partial<HealthData> | null)?.pools;
  if (!Array.isArray(pools)) return undefined;
  const ok = pools.every(
    (p: unknown) =>
      Array.isArray(p) && typeof p[0] === 'string' && (p[1] === null || typeof p[1] === 'number') && Array.isArray(p[2]) &&
      (p[2] as unknown[]).every((o) => Array.isArray(o) && typeof o[0] === 'string' && (o[1] === null || typeof o[1] === 'boolean')),
  );
  return ok ? (data as HealthData) : undefined;
}

/** Where to probe an origin: its IP, or the addresses its hostname has now (from our zones, or resolved outside). */
export function probeAddresses(snapshot: () => Snapshot, hostnames: HostnameCache): (origin: Origin) => readonly string[] | undefined {
  return (origin) => {
    const a = origin.address;
    if (a.kind !== 'hostname') return [a.ip];
    const zone = snapshot().zones.find(a.name);
    if (!zone) return hostnames.addresses(a.name);
    const out: string[] = [];
    for (const type of [T.A, T.AAAA]) {
      const r = zone.lookup(a.name, type);
      if (r.kind === 'answer') for (const rdata of r.rrset.rdatas) out.push(rdataText(type, rdata));
    }
    return out;
  };
}
