/**
 * Monitors, origins and real loopback servers for the probe tests: every server listens on an
 * ephemeral port of 127.0.0.1 (or of `localhost`) and is closed by the test that started it.
 */
import { monitor } from '../helpers/lb.js';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { Worker } from 'node:worker_threads';
import { Name } from '../../src/wire/name.js';
import type { Monitor, MonitorType, Origin } from '../../src/lb/model.js';
import type { ProbeTarget } from '../../src/health/types.js';

/** A monitor for probe tests: the shared builder, with a short timeout and no retries. */
export function monitorOf(fields: Partial<Monitor> & { type: MonitorType }): Monitor {
  return monitor('test', { timeout: 2, retries: 0, ...fields });
}

export function ipOrigin(ip: string, fields: Partial<Origin> = {}): Origin {
  return {
    name: 'o',
    address: { kind: net.isIPv6(ip) ? 'ipv6' : 'ipv4', ip },
    addressText: ip,
    enabled: true,
    weight: 1,
    port: 0,
    header: {},
    flatten_cname: true,
    source: { file: 'test.lb.yaml', line: 2 },
    ...fields,
  };
}

export function hostnameOrigin(name: string, fields: Partial<Origin> = {}): Origin {
  return { ...ipOrigin('127.0.0.1'), address: { kind: 'hostname', name: Name.fromText(name) }, addressText: name, ...fields };
}

/** A target on 127.0.0.1 with the Host header `host` (default: the address, as for an IP origin). */
export function targetAt(monitor: Monitor, port: number, host = '127.0.0.1', headers: Record<string, string[]> = {}): ProbeTarget {
  return { monitor, address: '127.0.0.1', port, host, headers };
}

export interface Running {
  readonly port: number;
  close(): Promise<void>;
}

function listen(server: net.Server, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : 0);
    });
  });
}

function closer(server: net.Server, sockets: Set<net.Socket>): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      if (server instanceof http.Server) server.closeAllConnections();
      server.close(() => resolve());
    });
}

function tracked(server: net.Server): Set<net.Socket> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  return sockets;
}

export const HEALTHY_BODY = 'Hello from the steerdns probe test: status HEALTHY';

export interface TestHttpServer extends Running {
  /** Headers of the last request, by lower-case name. */
  last?: http.IncomingHttpHeaders;
  /** Requests seen, by path. */
  readonly hits: Map<string, number>;
  /** Resolves when the client of the endless route has gone away. */
  endlessClosed: Promise<void>;
}

/**
 * HTTP routes: /ok 200 with HEALTHY_BODY; /unavailable 503; /redirect 302 to /ok; /moved 301 to
 * /ok; /loop 302 to itself; /elsewhere 302 to `elsewhere` (another origin); /slow never answers;
 * /slow-body sends headers then stalls; /endless streams forever; /headers 200 echoing headers.
 */
export async function startHttpServer(elsewhere = '', host = '127.0.0.1'): Promise<TestHttpServer> {
  let endlessDone: () => void = () => undefined;
  const result: TestHttpServer = {
    port: 0,
    hits: new Map(),
    endlessClosed: new Promise((resolve) => (endlessDone = resolve)),
    close: async () => undefined,
  };
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    result.last = req.headers;
    result.hits.set(path, (result.hits.get(path) ?? 0) + 1);
    switch (path) {
      case '/ok':
        res.writeHead(200, { 'content-type': 'text/plain' }).end(HEALTHY_BODY);
        return;
      case '/unavailable':
        res.writeHead(503, { 'content-type': 'text/plain' }).end('maintenance');
        return;
      case '/redirect':
        res.writeHead(302, { location: '/ok' }).end();
        return;
      case '/moved':
        res.writeHead(301, { location: '/ok' }).end();
        return;
      case '/loop':
        res.writeHead(302, { location: '/loop' }).end();
        return;
      case '/elsewhere':
        res.writeHead(302, { location: elsewhere }).end();
        return;
      case '/slow':
        return; // never answers
      case '/slow-body':
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('partial ');
        return; // never ends
      case '/endless': {
        res.writeHead(200, { 'content-type': 'text/plain' });
        const chunk = Buffer.alloc(1024, 'x');
        const pump = (): void => {
          while (!res.destroyed && res.write(chunk)) {
            // keep writing until the socket pushes back
          }
          if (!res.destroyed) res.once('drain', pump);
        };
        res.on('close', () => endlessDone());
        pump();
        return;
      }
      case '/headers':
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(req.headers));
        return;
      default:
        res.writeHead(404).end('not found');
    }
  });
  const sockets = tracked(server);
  return Object.assign(result, { port: await listen(server, host), close: closer(server, sockets) });
}

/** An HTTP server on `localhost` (whatever address that name resolves to first). */
export async function startLocalhostServer(): Promise<TestHttpServer> {
  const result: TestHttpServer = { port: 0, hits: new Map(), endlessClosed: Promise.resolve(), close: async () => undefined };
  const server = http.createServer((req, res) => {
    result.last = req.headers;
    res.writeHead(200).end('moved here: HEALTHY');
  });
  const sockets = tracked(server);
  return Object.assign(result, { port: await listen(server, 'localhost'), close: closer(server, sockets) });
}

const TLS_DIR = new URL('../fixtures/tls/', import.meta.url);
export const LOCALHOST_CERT = readFileSync(new URL('localhost.crt', TLS_DIR), 'utf8');
export const OTHER_CERT = readFileSync(new URL('other.crt', TLS_DIR), 'utf8');

export interface TestHttpsServer extends Running {
  /** SNI of the last connection: false when none was sent. */
  servername?: string | false;
}

/** HTTPS with the localhost certificate, or the other.example one for that SNI; / answers 200. */
export async function startHttpsServer(): Promise<TestHttpsServer> {
  const other = tls.createSecureContext({ cert: OTHER_CERT, key: readFileSync(new URL('other.key', TLS_DIR)) });
  const result: TestHttpsServer = { port: 0, close: async () => undefined };
  const server = https.createServer(
    {
      cert: LOCALHOST_CERT,
      key: readFileSync(new URL('localhost.key', TLS_DIR)),
      SNICallback: (name, cb) => cb(null, name === 'other.example' ? other : undefined),
    },
    (req, res) => {
      result.servername = (req.socket as tls.TLSSocket).servername ?? false;
      res.writeHead(200).end('secure HEALTHY');
    },
  );
  server.on('tlsClientError', () => undefined);
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return Object.assign(result, { port: await listen(server), close: closer(server, sockets) });
}

/** A TCP server that does `onConnection` with each connection. */
export async function startTcpServer(onConnection: (socket: net.Socket) => void = () => undefined): Promise<Running> {
  const server = net.createServer(onConnection);
  const sockets = tracked(server);
  return { port: await listen(server), close: closer(server, sockets) };
}

/** A port that nothing listens on (just released by a listener). */
export async function closedPort(): Promise<number> {
  const s = await startTcpServer();
  await s.close();
  return s.port;
}

export type SmtpScript = 'happy' | 'multiline' | 'reject-banner' | 'reject-helo' | 'garbage' | 'endless-line' | 'silent-after-banner';

/** A small SMTP-speaking server following `script`. */
export function startSmtpServer(script: SmtpScript): Promise<Running & { helo: string[] }> {
  const helo: string[] = [];
  return startTcpServer((s) => {
    if (script === 'garbage') return void s.write('HTTP/1.1 200 OK\r\n\r\n');
    if (script === 'reject-banner') return void s.write('554 5.3.2 no service here\r\n');
    if (script === 'endless-line') return void s.write(`220 ${'x'.repeat(8192)}`);
    if (script === 'multiline') s.write('220-mx.test ESMTP\r\n220-second line\r\n220 ready\r\n');
    else s.write('220 mx.test ESMTP steerdns-test\r\n');
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      let nl: number;
      while ((nl = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        if (/^HELO /i.test(line)) {
          helo.push(line);
          if (script === 'silent-after-banner') continue;
          s.write(script === 'reject-helo' ? '501 5.5.4 bad HELO\r\n' : '250 mx.test hello\r\n');
        } else if (/^QUIT/i.test(line)) s.end('221 2.0.0 bye\r\n');
      }
    });
  }).then((r) => ({ ...r, helo }));
}

/**
 * A listener whose accept queue is full, so a further SYN goes unanswered and connect hangs:
 * the listener lives in a worker whose event loop sleeps (it never accepts), and two
 * connections fill its backlog of 1.
 */
export async function startBlackHole(): Promise<Running> {
  const wake = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `const net = require('node:net'); const { parentPort, workerData } = require('node:worker_threads');
     const server = net.createServer(); server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
       parentPort.postMessage(server.address().port);
       Atomics.wait(workerData, 0, 0, 30000);
       server.close(); process.exit(0);
     });`,
    { eval: true, workerData: wake },
  );
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', (p: number) => resolve(p));
    worker.once('error', reject);
  });
  const fillers: net.Socket[] = [];
  for (let i = 0; i < 3; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    fillers.push(s);
  }
  await new Promise((r) => setTimeout(r, 100));
  return {
    port,
    close: async () => {
      for (const s of fillers) s.destroy();
      Atomics.store(wake, 0, 1);
      Atomics.notify(wake, 0);
      await worker.terminate();
    },
  };
}

/** Milliseconds `fn` took, with its value. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t0 };
}
