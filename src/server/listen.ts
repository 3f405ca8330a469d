/** Listen addresses as given on the command line: HOST:PORT, IPv6 as [ADDR]:PORT. */
import { isIPv6 } from 'node:net';
import type { ListenAddress } from './server.js';
import { UsageError } from '../config/usage.js';

export function parseListen(text: string): ListenAddress {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!m) throw new UsageError(`--listen "${text}": expected HOST:PORT, with IPv6 as [ADDR]:PORT`);
  const port = Number(m[2]);
  if (port > 65535) throw new UsageError(`--listen "${text}": port out of range`);
  if (text.startsWith('[') && !isIPv6(m[1])) throw new UsageError(`--listen "${text}": not an IPv6 address`);
  return { host: m[1], port };
}

