/**
 * When workers get sockets of their own (SO_REUSEPORT): the Node versions that have the option,
 * the bind-twice check that confirms it on this machine, and the exclusive check that refuses
 * a port another process holds.
 */
import t from 'tap';
import dgram from 'node:dgram';
import net from 'node:net';
import { checkAddressesFree, nodeHasReusePort, reusePortAvailable } from '../../src/server/reuse-port.js';
import { ListenError } from '../../src/server/listen.js';

t.test('the versions with reusePort: 22.12+, 23.1+, 24 on', async (t) => {
  const table: [string, boolean][] = [
    ['18.20.0', false],
    ['20.20.2', false],
    ['22.11.0', false],
    ['22.12.0', true],
    ['22.22.1', true],
    ['23.0.0', false],
    ['23.1.0', true],
    ['24.0.0', true],
    ['26.10.0', true],
  ];
  for (const [version, has] of table) t.equal(nodeHasReusePort(version), has, version);
});

t.test('this runtime: reusePort is confirmed by binding twice where the version has it', async (t) => {
  t.equal(await reusePortAvailable(), nodeHasReusePort(), `Node ${process.versions.node} on ${process.platform}`);
  t.equal(await reusePortAvailable('20.20.2'), false, 'a version without the option is not tried');
});

t.test('a port another process holds is refused, naming the transport', async (t) => {
  const tcp = net.createServer();
  await new Promise<void>((r) => tcp.listen({ host: '127.0.0.1', port: 0 }, () => r()));
  const tcpPort = (tcp.address() as net.AddressInfo).port;
  const err = await checkAddressesFree([{ host: '127.0.0.1', port: tcpPort }]).then(() => undefined, (e: unknown) => e);
  t.ok(err instanceof ListenError, 'a ListenError');
  t.match(err, { code: 'EADDRINUSE', transport: 'TCP', port: tcpPort });
  t.match((err as Error).message, /in use \(EADDRINUSE\)/);
  await new Promise<void>((r) => tcp.close(() => r()));

  const udp = dgram.createSocket('udp4');
  await new Promise<void>((r) => udp.bind({ address: '127.0.0.1', port: 0 }, () => r()));
  const udpPort = udp.address().port;
  const udpErr = await checkAddressesFree([{ host: '127.0.0.1', port: udpPort }]).then(() => undefined, (e: unknown) => e);
  t.match(udpErr, { code: 'EADDRINUSE', transport: 'UDP', port: udpPort }, 'held over UDP only');
  udp.close();
  await new Promise((r) => setTimeout(r, 50));
  await t.resolves(checkAddressesFree([{ host: '127.0.0.1', port: udpPort }, { host: '127.0.0.1', port: 0 }]), 'free again (and port 0 is not checked)');
});

t.test('a socket bound with reusePort does not make the port look free', { skip: nodeHasReusePort() ? false : `Node ${process.versions.node} has no reusePort (22.12+)` }, async (t) => {
  const held = dgram.createSocket({ type: 'udp4', reusePort: true });
  await new Promise<void>((r) => held.bind({ address: '127.0.0.1', port: 0 }, () => r()));
  const port = held.address().port;
  await t.rejects(checkAddressesFree([{ host: '127.0.0.1', port }]), { code: 'EADDRINUSE', transport: 'UDP' }, 'another server with SO_REUSEPORT on the port is refused');
  held.close();
});

