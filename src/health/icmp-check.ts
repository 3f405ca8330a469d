/** Whether this system can run the configured ICMP monitors, for `check` and start-up logs. */
import type { LbConfig, Monitor } from '../lb/model.js';
import { icmpAvailable } from './probes.js';

export async function icmpUnavailable(lb: LbConfig): Promise<{ monitors: Monitor[]; detail: string } | undefined> {
  const monitors = [...lb.monitors.values()].filter((m) => m.type === 'icmp_ping' || m.type === 'udp_icmp');
  if (monitors.length === 0) return undefined;
  const probe = await icmpAvailable();
  return probe.ok ? undefined : { monitors, detail: probe.detail };
}
