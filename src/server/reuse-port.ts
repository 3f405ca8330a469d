/**
 * SO_REUSEPORT for the workers: each binds its own UDP and TCP sockets on the same address and
 * port, and the kernel spreads datagrams and connections over them (as NSD, Knot and gdnsd use
 * many cores). Node has the option since 22.12 and 23.1 (dgram `reusePort`, net `listen({
 * reusePort })`); older Node ignores it without a word, and some platforms refuse it when
 * binding, so support is decided by the version and then confirmed by binding twice.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { listenError } from './listen.js';
import type { ListenAddress } from './server.js';

/** The first Node versions with `reusePort`, for messages. */
export const REUSE_PORT_SINCE = 'Node.js 22.12 or 23.1';

/** Whether this Node version has the `reusePort` options (22.12+ in 22, 23.1+, 24 on). */
export function nodeHasReusePort(version: string = process.versions.node): boolean {
  const [major, minor] = version.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

/**
 * Whether workers can each bind their own sockets here: the version has the option and two
 * sockets with it bind the same loopback port, over UDP and over TCP.
 */
export async function reusePortAvailable(version: string = process.versions.node): Promise<boolean> {
  if (!nodeHasReusePort(version)) return false;
  try {
    const first = await bindTcp('127.0.0.1', 0, true);
    const port = (first.address() as net.AddressInfo).port;
    const sockets: (net.Server | dgram.Socket)[] = [first];
    try {
      sockets.push(await bindTcp('127.0.0.1', port, true));
      sockets.push(await bindUdp('127.0.0.1', port, true));
      sockets.push(await bindUdp('127.0.0.1', port, true));
      return true;
    } finally {
      await Promise.all(sockets.map(close));
    }
  } catch {
    return false;
  }
}

/**
 * Throws the ListenError of the first address (with a port given) that another process holds,
 * over TCP or UDP. With SO_REUSEPORT a worker's bind succeeds beside any socket that has it
 * too, such as a second steerdns on the same port; this exclusive bind, made and let go
 * before the workers bind, refuses that as one process would.
 */
export async function checkAddressesFree(addresses: readonly ListenAddress[]): Promise<void> {
  for (const { host, port } of addresses) {
    if (port === 0) continue;
    const tcp = await bindTcp(host, port, false).catch((err: unknown) => {
      throw listenError(err, host, port, 'TCP');
    });
    try {
      await close(await bindUdp(host, port, false).catch((err: unknown) => {
        throw listenError(err, host, port, 'UDP');
      }));
    } finally {
      await close(tcp);
    }
  }
}

function bindTcp(host: string, port: number, reusePort: boolean): Promise<net.Server> {
  const server = net.createServer();
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true, reusePort, ipv6Only: net.isIPv6(host) }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function bindUdp(host: string, port: number, reusePort: boolean): Promise<dgram.Socket> {
  const socket = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4', ipv6Only: net.isIPv6(host), reusePort });
  return new Promise((resolve, reject) => {
    socket.once('error', (err) => {
      try {
        socket.close();
      } catch {
        // never bound: nothing to close
      }
      reject(err);
    });
    socket.bind({ address: host, port, exclusive: true }, () => resolve(socket));
  });
}

function close(s: net.Server | dgram.Socket): Promise<void> {
  return new Promise((resolve) => (s instanceof net.Server ? s.close(() => resolve()) : s.close(() => resolve())));
}
