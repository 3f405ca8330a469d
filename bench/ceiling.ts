/**
 * The ceiling: the fastest a Node UDP responder can answer on this machine. It answers every
 * datagram with one pre-encoded reply, patching only the ID, and does nothing else; steerdns's
 * figures are read as ratios to this one, measured in the same run.
 *
 *   node bench/.build/ceiling.js <port> <hex reply>
 */
import dgram from 'node:dgram';

const [port, hex] = process.argv.slice(2);
const reply = Buffer.from(hex, 'hex');
// The same socket settings as steerdns's (src/server/udp.ts), the address lookup included.
const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 8 << 20, sendBufferSize: 8 << 20, lookup: (address, _opts, callback) => callback(null, address, 4) });
socket.on('message', (msg, rinfo) => {
  if (msg.length < 2) return;
  const out = Buffer.allocUnsafe(reply.length);
  reply.copy(out);
  out[0] = msg[0];
  out[1] = msg[1];
  socket.send(out, rinfo.port, rinfo.address);
});
socket.bind(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
