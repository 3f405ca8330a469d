/**
 * UDP transport: one socket per listen address; each datagram is answered from the snapshot
 * current when it arrives, within the requester's EDNS size.
 */
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Logger } from '../log.js';
import type { QueryHandler } from './handler.js';

export function listenUdp(host: string, port: number, handle: QueryHandler, log: Logger): Promise<dgram.Socket> {
  const socket = dgram.createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', ipv6Only: isIPv6(host) });
  socket.on('message', (msg, rinfo) => {
    const out = handle(msg, { transport: 'udp', address: rinfo.address, port: rinfo.port });
    if (out) socket.send(out, rinfo.port, rinfo.address);
  });
  socket.on('error', (err) => log.error({ err, host, port }, 'UDP socket error'));
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: host, port, exclusive: true }, () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}
