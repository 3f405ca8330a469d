/** Starts the real server in-process on an ephemeral loopback port for a test. */
import { pino } from 'pino';
import { externalHostnames, loadConfig, type LoadedConfig } from '../../src/snapshot/load.js';
import type { Geolocation, Snapshot } from '../../src/snapshot/snapshot.js';
import { HostnameCache, DEFAULT_HOSTNAME_OPTIONS } from '../../src/lb/hostnames.js';
import { ALL_HEALTHY } from '../../src/lb/model.js';
import { type Location } from '../../src/geo/location.js';
import type { PinTable } from '../../src/lb/persistence.js';
import type { AsnLookup } from '../../src/geo/asn.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { AnswerCache, DEFAULT_ANSWER_CACHE_SIZE } from '../../src/answer/answer-cache.js';
import type { TcpOptions } from '../../src/server/tcp.js';
import type { QueryObserver } from '../../src/server/handler.js';
import { randomCookieSecrets, ServerCookies } from '../../src/wire/server-cookies.js';

export interface TestServer extends RunningServer {
  port: number;
  loaded: LoadedConfig;
  snapshot: Snapshot;
}

export interface TestServerOptions {
  tcp?: Partial<TcpOptions>;
  host?: string;
  /** Resolvers (HOST:PORT) for hostname origins outside our zones. */
  resolvers?: string[];
  pop?: Location;
  random?: () => number;
  /** Locates ECS subnets and resolvers. */
  geo?: Geolocation;
  /** The DNS persistence pin table (load balancers with persistence steer as usual without one). */
  persistence?: PinTable;
  asn?: AsnLookup;
  /** Called for every query the server handles (the snapshot is read once per query). */
  onQuery?: () => void;
  /** The answer cache, as the app has one (default); false: every query resolved. */
  answerCache?: AnswerCache | false;
  /** DNS Cookies, as the app has them (default: a random secret); false: COOKIE options ignored. */
  cookies?: ServerCookies | false;
  /** Told about every query handled (what the server decided, as metrics see it). */
  observe?: QueryObserver;
}

export async function startTestServer(zonesDir: string, tcp?: Partial<TcpOptions>, host = '127.0.0.1'): Promise<TestServer> {
  return startServerWith(zonesDir, { tcp, host });
}

export async function startServerWith(zonesDir: string, opts: TestServerOptions = {}): Promise<TestServer> {
  const log = pino({ level: 'silent' });
  const loaded = loadConfig(zonesDir);
  const hostnames = new HostnameCache(log, { ...DEFAULT_HOSTNAME_OPTIONS, servers: opts.resolvers });
  const external = externalHostnames(loaded);
  if (opts.resolvers) {
    hostnames.track(external);
    await hostnames.settled();
  }
  const snapshot: Snapshot = { zones: loaded.zones, lb: loaded.lb, health: ALL_HEALTHY, pop: opts.pop ?? {}, hostnames, random: opts.random ?? Math.random, geo: opts.geo, persistence: opts.persistence, asn: opts.asn,
    cookies: opts.cookies === false ? undefined : (opts.cookies ?? new ServerCookies(randomCookieSecrets())) };
  const server = await startServer({ listen: [{ host: opts.host ?? '127.0.0.1', port: 0 }], snapshot: () => (opts.onQuery?.(), snapshot), log, tcp: opts.tcp, observe: opts.observe,
    answerCache: opts.answerCache === false ? undefined : (opts.answerCache ?? new AnswerCache(DEFAULT_ANSWER_CACHE_SIZE)) });
  return {
    addresses: server.addresses,
    port: server.addresses[0].port,
    loaded,
    snapshot,
    close: async () => {
      hostnames.stop();
      await server.close();
    },
  };
}
