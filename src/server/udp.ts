/**
 * UDP transport: one socket per listen address; each datagram is answered from the snapshot
 * current when it arrives, within the requester's EDNS size.
 */
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Logger } from '../log.js';
import type { QueryHandler } from './handler.js';
import type { BindMode } from './listen.js';

/**
 * Asked-for socket buffers: a burst of queries waits in the kernel instead of being dropped
 * while the process is busy. Linux caps them at net.core.rmem_max / wmem_max (see docs/operations.md).
 */
const SOCKET_BUFFER_BYTES = 8 << 20;

/**
 * Replies go back to the address a query came from, always an IP literal: handing it back at
 * once spares dgram's default lookup, which defers every send to the next tick.
 */
function literalAddress(address: string, _opts: unknown, callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  callback(null, address, isIPv6(address) ? 6 : 4);
}

/** How the socket is bound: see BindMode. */
export function listenUdp(host: string, port: number, handle: QueryHandler, log: Logger, bind: BindMode = 'exclusive'): Promise<dgram.Socket> {
  const socket = dgram.createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', ipv6Only: isIPv6(host), reusePort: bind === 'reuseport', recvBufferSize: SOCKET_BUFFER_BYTES, sendBufferSize: SOCKET_BUFFER_BYTES, lookup: literalAddress });
  socket.on('message', (msg, rinfo) => {
    const out = handle(msg, { transport: 'udp', address: rinfo.address, port: rinfo.port });
    if (Buffer.isBuffer(out)) socket.send(out, rinfo.port, rinfo.address); // transfers are answered over TCP only
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: host, port, exclusive: bind !== 'shared' }, () => {
      socket.off('error', reject);
      socket.on('error', (err) => log.error({ err, host, port }, 'UDP socket error'));
      resolve(socket);
    });
  });
}
