/**
 * The probes of every monitor type, and the target one probe attempt is aimed at: port and
 * Host precedence as Cloudflare applies them (reference §3, §3.1). The protocols live in
 * probe-http.ts, probe-tcp.ts, probe-smtp.ts and probe-icmp.ts.
 */
import type { Monitor, MonitorType, Origin } from '../lb/model.js';
import type { Probe, ProbeTarget } from './types.js';
import { createHttpProbe } from './probe-http.js';
import { createIcmpProbe } from './probe-icmp.js';
import { smtpProbe } from './probe-smtp.js';
import { tcpProbe } from './probe-tcp.js';

export { USER_AGENT } from './probe-http.js';
export { icmpAvailable } from './probe-icmp.js';

const PROBES: Readonly<Record<MonitorType, Probe>> = {
  http: createHttpProbe('http'),
  https: createHttpProbe('https'),
  tcp: tcpProbe,
  smtp: smtpProbe,
  icmp_ping: createIcmpProbe('icmp_ping'),
  udp_icmp: createIcmpProbe('udp_icmp'),
};

/** The probe for a monitor type. */
export function probeFor(type: MonitorType): Probe {
  return PROBES[type];
}

/** Protocol default ports; the other types have none (their monitors must set a port). */
const DEFAULT_PORTS: Partial<Record<MonitorType, number>> = { http: 80, https: 443 };

/** Headers a probe sets itself: Host from the precedence below, User-Agent names steerdns. */
const RESERVED_HEADERS: ReadonlySet<string> = new Set(['host', 'user-agent']);

/**
 * What one probe of `origin` at `address` (one of its IP addresses) by `monitor` is aimed at.
 * Port: the monitor's, else the origin's, else 80/443 (0 for tcp, smtp and udp_icmp without
 * one: their probes then report a Monitor Config Error). Host (header and SNI): the origin's
 * Host header, else the monitor's, else the origin's address as written (a name without its
 * trailing dot).
 */
export function targetFor(monitor: Monitor, origin: Origin, address: string): ProbeTarget {
  const port = monitor.port || origin.port || DEFAULT_PORTS[monitor.type] || 0;
  const host = hostHeaderOf(origin.header) ?? hostHeaderOf(monitor.header) ?? originHost(origin);
  const headers: Record<string, readonly string[]> = {};
  for (const [name, values] of Object.entries(monitor.header)) {
    if (!RESERVED_HEADERS.has(name.toLowerCase())) headers[name] = Object.freeze([...values]);
  }
  return Object.freeze({ monitor, address, port, host, headers: Object.freeze(headers) });
}

/** The first non-empty Host value, whatever the case of the header's name. */
function hostHeaderOf(header: Readonly<Record<string, readonly string[]>>): string | undefined {
  for (const [name, values] of Object.entries(header)) {
    if (name.toLowerCase() !== 'host') continue;
    const value = values[0]?.trim();
    if (value) return value;
  }
  return undefined;
}

function originHost(origin: Origin): string {
  const a = origin.address;
  if (a.kind !== 'hostname') return a.ip;
  const text = a.name.toString();
  return text.length > 1 && text.endsWith('.') ? text.slice(0, -1) : text;
}
