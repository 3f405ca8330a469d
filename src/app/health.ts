/**
 * The health part: the monitors that decide which origins answer. With `probe`, this process
 * runs them and every change swaps a new health view into the snapshot; with `remote` (a
 * worker), it runs none and answers with the views its primary hands over.
 */
import { icmpUnavailable } from '../health/icmp-check.js';
import { viewOf, type HealthData } from '../health/data.js';
import { HealthMonitor, type HealthMonitorOptions } from '../health/monitor.js';
import type { HostnameCache } from '../lb/hostnames.js';
import type { LbConfig, Origin } from '../lb/model.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { rdataText } from '../wire/present.js';
import { T } from '../wire/types.js';
import type { Part, Served } from './part.js';

export class Health implements Part {
  readonly monitor: HealthMonitor;

  constructor(
    private readonly mode: 'probe' | 'remote',
    private readonly options: HealthMonitorOptions,
    /** The load balancers to monitor at start. */
    private readonly lb: () => LbConfig,
    /** With `remote`: the health to answer with from the first query (the primary's). */
    private readonly initial: HealthData | undefined,
  ) {
    this.monitor = new HealthMonitor(options);
  }

  async start(): Promise<void> {
    if (this.mode === 'probe') {
      const icmp = await icmpUnavailable(this.lb());
      if (icmp) this.options.log.error({ monitors: icmp.monitors.map((m) => m.name), detail: icmp.detail }, 'ICMP monitors cannot run on this system; their origins stay unhealthy');
      // Monitored origins count as down until their first result; the view starts that way.
      this.options.onChange(this.monitor.view());
      this.monitor.start(this.lb());
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
  }
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
