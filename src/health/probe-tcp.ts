/**
 * The `tcp` probe (reference §3.1): healthy when a connection to the port is established
 * within the timeout; the connection is closed at once.
 */
import net from 'node:net';
import { FAILURE, type Probe, type ProbeTarget } from './types.js';
import { failed, failureOf, isValidPort, runAttempt, timeoutMsOf, timeoutText, type Attempt } from './probe-common.js';

/** "tcp monitors need a port ...": tcp, smtp and udp_icmp have no protocol default (API: required). */
export function missingPortDetail(target: ProbeTarget): string {
  return `${target.monitor.type} monitors need a port (1 to 65535) on the monitor or the origin, got ${target.port}`;
}

/**
 * Opens a TCP connection for an attempt: the socket is destroyed when the attempt settles,
 * socket errors fail it with their reason, and `onConnect` runs once connected.
 */
export function connectFor(a: Attempt, target: ProbeTarget, onConnect: (socket: net.Socket) => void): net.Socket {
  const socket = net.connect({ host: target.address, port: target.port, noDelay: true });
  a.onCleanup(() => socket.destroy());
  socket.on('error', (err) => a.failWith(failureOf(err)));
  socket.once('connect', () => onConnect(socket));
  return socket;
}

export const tcpProbe: Probe = (target, signal) => {
  if (!isValidPort(target.port)) return failed(FAILURE.CONFIG, missingPortDetail(target));
  const where = `${target.address}:${target.port}`;
  return runAttempt(
    signal,
    timeoutMsOf(target.monitor),
    (a) => a.fail(FAILURE.TCP_TIMEOUT, `no connection to ${where} within ${timeoutText(target.monitor)}`),
    (a) => {
      connectFor(a, target, () => a.ok({ detail: `connected to ${where}` }));
    },
  );
};
