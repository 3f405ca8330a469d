/**
 * TCP transport (RFC 7766, RFC 1035 §4.2.2): 2-byte length framing, several and pipelined
 * queries per connection answered in order, an idle timeout, and a cap on connections where
 * the connection idle longest is closed to make room, so a crowd of silent or half-sent
 * connections never locks out a new client. On shutdown, connections are drained: queries
 * already received are answered, then each connection is ended.
 */
import net from 'node:net';
import type { Logger } from '../log.js';
import type { QueryHandler } from './handler.js';
import type { BindMode } from './listen.js';

export interface TcpOptions {
  /** Close a connection with no complete query for this long (RFC 7766 §6.2.3). */
  readonly idleTimeoutMs: number;
  /** Concurrent connections across all TCP listeners. */
  readonly maxConnections: number;
  /** Concurrent connections from one client address. */
  readonly maxPerClient: number;
  /** A connection is ended (its answers sent first) after this long, however busy. */
  readonly maxLifetimeMs: number;
  /** On shutdown, connections still busy after this long are destroyed. */
  readonly shutdownGraceMs: number;
}

export const DEFAULT_TCP_OPTIONS: TcpOptions = { idleTimeoutMs: 10_000, maxConnections: 1000, maxPerClient: 50, maxLifetimeMs: 120_000, shutdownGraceMs: 5000 };

/** Ends a connection once the queries it has received are answered and flushed. */
type Drain = () => void;

/**
 * Connections shared by all TCP listeners; insertion order is least recently active first.
 * At either cap (all clients, or one client address) the connection idle longest is closed to
 * make room: one address's crowd of silent connections only ever displaces its own.
 */
export class ConnectionTable {
  private readonly active = new Map<net.Socket, Drain>();
  private readonly perClient = new Map<string, number>();
  private draining = false;
  constructor(
    private readonly max: number,
    private readonly maxPerClient = Infinity,
  ) {}

  add(socket: net.Socket, drain: Drain): void {
    if (this.draining) {
      socket.destroy(); // accepted just before the listener closed
      return;
    }
    const address = socket.remoteAddress ?? '';
    if ((this.perClient.get(address) ?? 0) >= this.maxPerClient) {
      for (const s of this.active.keys()) {
        if (s.remoteAddress === address) {
          this.forget(s);
          s.destroy();
          break;
        }
      }
    }
    while (this.active.size >= this.max) {
      const oldest = this.active.keys().next().value as net.Socket;
      this.forget(oldest);
      oldest.destroy();
    }
    this.active.set(socket, drain);
    this.perClient.set(address, (this.perClient.get(address) ?? 0) + 1);
  }

  private forget(socket: net.Socket): void {
    if (!this.active.delete(socket)) return;
    const address = socket.remoteAddress ?? '';
    const n = (this.perClient.get(address) ?? 1) - 1;
    if (n > 0) this.perClient.set(address, n);
    else this.perClient.delete(address);
  }

  touch(socket: net.Socket): void {
    const drain = this.active.get(socket);
    if (drain && this.active.delete(socket)) this.active.set(socket, drain);
  }

  remove(socket: net.Socket): void {
    this.forget(socket);
  }

  get size(): number {
    return this.active.size;
  }

  private destroyAll(): void {
    for (const s of this.active.keys()) s.destroy();
    this.active.clear();
    this.perClient.clear();
  }

  /**
   * Drains every connection and resolves when all are closed; those still open after
   * `graceMs` (a client that does not read its answers) are destroyed.
   */
  async drainAll(graceMs: number): Promise<void> {
    this.draining = true;
    if (this.active.size === 0) return;
    const closed = [...this.active.keys()].map((s) => new Promise<void>((r) => s.once('close', () => r())));
    for (const drain of this.active.values()) drain();
    const deadline = setTimeout(() => this.destroyAll(), graceMs);
    await Promise.all(closed);
    clearTimeout(deadline);
  }
}

/** How the listening socket is bound: see BindMode. */
export function listenTcp(host: string, port: number, handle: QueryHandler, log: Logger, opts: TcpOptions, table: ConnectionTable, bind: BindMode = 'exclusive'): Promise<net.Server> {
  const server = net.createServer({ noDelay: true }, (socket) => serveConnection(socket, handle, opts, table));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: bind !== 'shared', reusePort: bind === 'reuseport', ipv6Only: net.isIPv6(host) }, () => {
      server.off('error', reject);
      server.on('error', (err) => log.error({ err, host, port }, 'TCP server error'));
      resolve(server);
    });
  });
}

/**
 * One connection. The idle timer is reset only by a complete query, so a client trickling
 * bytes cannot hold a connection open; while the client does not read its answers, no further
 * query is processed (unread input stays in the socket and TCP pushes back on the client).
 */
function serveConnection(socket: net.Socket, handle: QueryHandler, opts: TcpOptions, table: ConnectionTable): void {
  let draining = false;
  /**
   * While draining, ends the connection when nothing is left to answer. Checked only after the
   * event loop has polled for input once more, so queries waiting in the kernel (reading was
   * paused by back-pressure) are answered first; end() then flushes the answers before the FIN.
   */
  const endIfDone = (): void => {
    setImmediate(() => setImmediate(() => {
      if (!socket.isPaused() && !socket.writableEnded && !socket.destroyed) socket.end(() => socket.destroy());
    }));
  };
  const drain = (): void => {
    draining = true;
    if (!socket.isPaused()) endIfDone(); // a paused connection gets here when its answers drain
  };
  table.add(socket, drain);
  // However busy, a connection ends after its lifetime (answers already asked for are sent).
  const lifetime = setTimeout(drain, opts.maxLifetimeMs);
  const client = { transport: 'tcp' as const, address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
  let pending: Buffer = Buffer.alloc(0);
  let idle = setTimeout(() => socket.destroy(), opts.idleTimeoutMs);
  const active = () => {
    clearTimeout(idle);
    idle = setTimeout(() => socket.destroy(), opts.idleTimeoutMs);
    table.touch(socket);
  };
  socket.on('error', () => socket.destroy()); // resets and aborts are normal on the internet
  socket.on('close', () => {
    clearTimeout(idle);
    clearTimeout(lifetime);
    table.remove(socket);
  });

  /** The rest of a zone transfer being sent: queries after it wait until it is done. */
  let stream: Iterator<Buffer> | undefined;

  /** Writes `out` framed; false when the socket asks to wait (back-pressure). */
  const send = (out: Buffer): boolean => {
    const frame = Buffer.allocUnsafe(out.length + 2);
    frame.writeUInt16BE(out.length, 0);
    out.copy(frame, 2);
    return socket.write(frame);
  };
  /** Waits for the client to read, then carries on where it stopped. */
  const waitForDrain = (): void => {
    socket.pause();
    socket.once('drain', () => {
      socket.resume();
      answerPending();
    });
  };

  const answerPending = (): void => {
    while (stream) {
      let next: IteratorResult<Buffer>;
      try {
        next = stream.next();
      } catch {
        socket.destroy(); // a transfer that cannot go on ends its connection: the client sees it incomplete
        return;
      }
      if (next.done) {
        stream = undefined;
        break;
      }
      active(); // a long transfer is not an idle connection
      if (!send(next.value)) return waitForDrain();
    }
    let off = 0;
    while (pending.length - off >= 2) {
      const len = pending.readUInt16BE(off);
      if (pending.length - off - 2 < len) break;
      const msg = pending.subarray(off + 2, off + 2 + len);
      off += 2 + len;
      active();
      const out = handle(msg, client);
      if (!out) {
        socket.destroy(); // RFC 7766 §8: a message we cannot answer ends the connection
        return;
      }
      if (!Buffer.isBuffer(out)) {
        // A zone transfer: its messages go out as the client reads them, before any later answer.
        stream = out;
        pending = Buffer.from(pending.subarray(off));
        return answerPending();
      }
      if (!send(out)) {
        // Back-pressure: stop here; the rest waits until the client has read its answers.
        pending = pending.subarray(off);
        return waitForDrain();
      }
    }
    pending = off === 0 ? pending : Buffer.from(pending.subarray(off)); // do not pin a large chunk
    if (draining) endIfDone();
  };

  socket.on('data', (chunk: Buffer) => {
    if (socket.writableEnded) return; // drained: an answer could not be sent any more
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    if (socket.isPaused()) return; // a drain is awaited; answerPending() resumes from `pending`
    answerPending();
  });
}
