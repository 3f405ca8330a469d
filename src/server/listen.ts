/** Listen addresses as given on the command line: HOST:PORT, IPv6 as [ADDR]:PORT. */
import { isIPv6 } from 'node:net';
import type { ListenAddress } from './server.js';
import { StartError, UsageError } from '../config/usage.js';

export function parseListen(text: string): ListenAddress {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!m) throw new UsageError(`--listen "${text}": expected HOST:PORT, with IPv6 as [ADDR]:PORT`);
  const port = Number(m[2]);
  if (port > 65535) throw new UsageError(`--listen "${text}": port out of range`);
  if (text.startsWith('[') && !isIPv6(m[1])) throw new UsageError(`--listen "${text}": not an IPv6 address`);
  return { host: m[1], port };
}


/**
 * How a listening socket is bound. `exclusive`: by this process, alone on its address (one
 * process). `shared`: through the cluster primary, which holds the one socket that every
 * worker reads (Node's cluster module). `reuseport`: by this process, with SO_REUSEPORT, beside
 * the sockets of the other workers on the same address: the kernel spreads datagrams and
 * connections over them (src/server/reuse-port.ts says when Node has it).
 */
export type BindMode = 'exclusive' | 'shared' | 'reuseport';

/** An address that cannot be bound, with the cause and, where there is one, the fix. */
export class ListenError extends StartError {
  constructor(readonly host: string, readonly port: number, readonly transport: 'UDP' | 'TCP', readonly code: string | undefined, message: string) {
    super(message);
  }
}

/** The ListenError for `err`, raised binding `host`:`port` for `transport`. */
export function listenError(err: unknown, host: string, port: number, transport: 'UDP' | 'TCP'): ListenError {
  const code = (err as NodeJS.ErrnoException).code;
  const where = `cannot listen on ${host.includes(':') ? `[${host}]` : host}:${port} (${transport})`;
  let why: string;
  if (code === 'EACCES' && port > 0 && port < 1024) {
    why = 'permission denied (EACCES): ports below 1024 need privilege: give the process CAP_NET_BIND_SERVICE (AmbientCapabilities=CAP_NET_BIND_SERVICE in its systemd unit), or lower the sysctl net.ipv4.ip_unprivileged_port_start, or listen on a port of 1024 or more and forward port 53 to it';
  } else if (code === 'EADDRINUSE') {
    why = 'the address is in use (EADDRINUSE): another process has it (another steerdns, or a local resolver such as systemd-resolved on port 53); stop it or choose another --listen';
  } else if (code === 'EADDRNOTAVAIL') {
    why = 'the address is not on this machine (EADDRNOTAVAIL): check --listen against its addresses';
  } else if (code === 'EACCES') {
    why = 'permission denied (EACCES)';
  } else {
    why = (err as Error).message;
  }
  return new ListenError(host, port, transport, code, `${where}: ${why}`);
}
