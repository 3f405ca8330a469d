/**
 * Starts the UDP and TCP listeners for every listen address and stops them. Each address
 * serves both transports on the same port; with port 0 the TCP port chosen by the system is
 * reused for UDP, so tests can run on ephemeral ports. Closing stops accepting at once and
 * drains TCP connections: queries already received get their answers.
 */
import { listenError, type BindMode } from './listen.js';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type dgram from 'node:dgram';
import type net from 'node:net';
import type { Logger } from '../log.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import type { AnswerCache } from '../answer/answer-cache.js';
import { createHandler, type QueryObserver } from './handler.js';
import type { ResponseRateLimiter } from './rrl.js';
import { ConnectionTable, DEFAULT_TCP_OPTIONS, listenTcp, type TcpOptions } from './tcp.js';
import { listenUdp } from './udp.js';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export interface ServerOptions {
  readonly listen: readonly ListenAddress[];
  /** Returns the snapshot to answer from; read once per query, so a swap is atomic. */
  readonly snapshot: () => Snapshot;
  readonly log: Logger;
  readonly tcp?: Partial<TcpOptions>;
  /** Told about every query (metrics). */
  readonly observe?: QueryObserver;
  /** Keeps UDP answers that depend only on the query (src/answer/answer-cache.ts). */
  readonly answerCache?: AnswerCache;
  /** Response rate limiting of UDP responses (src/server/rrl.ts). */
  readonly rrl?: ResponseRateLimiter;
  /** How the sockets are bound (default `exclusive`; cluster workers: `shared` or `reuseport`). */
  readonly bind?: BindMode;
}

export interface RunningServer {
  /** The addresses actually bound (ports resolved when 0 was asked). */
  readonly addresses: readonly ListenAddress[];
  /**
   * Stops listening (UDP and TCP), then ends each TCP connection once the queries it has
   * received are answered; connections still busy after `shutdownGraceMs` are destroyed.
   */
  close(): Promise<void>;
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const tcpOpts = { ...DEFAULT_TCP_OPTIONS, ...opts.tcp };
  const handle = createHandler(opts.snapshot, opts.log, { observe: opts.observe, answerCache: opts.answerCache, rrl: opts.rrl });
  const table = new ConnectionTable(tcpOpts.maxConnections, tcpOpts.maxPerClient);
  const udp: dgram.Socket[] = [];
  const tcp: net.Server[] = [];
  const addresses: ListenAddress[] = [];
  const close = async () => {
    // Finish this turn of the event loop first: queries and connections that arrived
    // together with the signal are served, not cut off.
    await nextTurn();
    for (const s of udp) s.close();
    const closing = tcp.map((s) => new Promise<void>((r) => s.close(() => r()))); // resolves once connections are gone
    await Promise.all([table.drainAll(tcpOpts.shutdownGraceMs), ...closing]);
  };
  try {
    for (const { host, port } of opts.listen) {
      // An ephemeral TCP port may be taken for UDP by someone else: try a few times.
      for (let attempt = 0; ; attempt++) {
        const t = await listenTcp(host, port, handle, opts.log, tcpOpts, table, opts.bind).catch((err: unknown) => {
          throw listenError(err, host, port, 'TCP');
        });
        const bound = (t.address() as net.AddressInfo).port;
        try {
          udp.push(await listenUdp(host, bound, handle, opts.log, opts.bind));
          tcp.push(t);
          addresses.push({ host, port: bound });
          break;
        } catch (err) {
          await new Promise<void>((r) => t.close(() => r()));
          if (port !== 0 || attempt >= 5) throw listenError(err, host, bound, 'UDP');
        }
      }
      opts.log.info({ host, port: addresses[addresses.length - 1].port }, 'listening on UDP and TCP');
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { addresses, close };
}
