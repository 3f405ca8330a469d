/** Starts the real server in-process on an ephemeral loopback port for a test. */
import { pino } from 'pino';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { loadZonesDir, type LoadResult } from '../../src/zone/loader.js';
import type { TcpOptions } from '../../src/server/tcp.js';

export interface TestServer extends RunningServer {
  port: number;
  loaded: LoadResult;
}

export async function startTestServer(zonesDir: string, tcp?: Partial<TcpOptions>, host = '127.0.0.1'): Promise<TestServer> {
  const loaded = loadZonesDir(zonesDir);
  const server = await startServer({ listen: [{ host, port: 0 }], zones: () => loaded.zones, log: pino({ level: 'silent' }), tcp });
  return Object.assign(server, { port: server.addresses[0].port, loaded });
}
