/**
 * The `http` and `https` probes (reference §3, §3.1): one request to the origin's address with
 * the monitor's method, path and headers, judged on the status code, then on a case-insensitive
 * substring of the first 10 KB of the body; redirects followed only when asked. One deadline
 * covers everything, redirects included.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { lookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { Monitor } from '../lb/model.js';
import { FAILURE, type Probe, type ProbeTarget } from './types.js';
import { clip, errorCode, failed, failureOf, isValidPort, runAttempt, timeoutMsOf, timeoutText, type Attempt, type Failure } from './probe-common.js';

/** Reference §3: only the first 10 KB of the body is searched for expected_body. */
export const BODY_LIMIT = 10 * 1024;
/** Redirects followed at most, when follow_redirects is set. */
export const MAX_REDIRECTS = 5;

export const USER_AGENT = `steerdns-health-monitor/${packageVersion()} (+https://github.com/steerdns/steerdns)`;

/** Headers the configuration cannot set: Host comes from the target, User-Agent is ours. */
const RESERVED_HEADERS: ReadonlySet<string> = new Set(['host', 'user-agent']);
/** Headers not carried to another host on a redirect (as browsers and curl do). */
const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'cookie']);

function packageVersion(): string {
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    if (typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string') return pkg.version;
  } catch {
    // Packaged without package.json: the User-Agent still names steerdns.
  }
  return '0';
}

export interface HttpProbeOptions {
  /** Extra trusted certificates (PEM) on top of the system and Node stores; for tests. */
  readonly extraCa?: readonly string[];
}

type Scheme = 'http' | 'https';

/** One request of the chain: where to connect and what to ask. */
interface Hop {
  readonly scheme: Scheme;
  readonly address: string;
  readonly port: number;
  /** Lower case, no brackets: what a relative redirect keeps and a redirect elsewhere changes. */
  readonly hostname: string;
  readonly hostHeader: string;
  /** '' sends no SNI (an IP address cannot be one, RFC 6066 §3). */
  readonly servername: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string[]>>;
  /** Base for resolving a relative Location. */
  readonly url: URL;
}

type Phase = 'connect' | 'tls' | 'response' | 'body' | 'dns';

/** Where the attempt is, for the timeout's verdict; `hop` counts requests so stale events are ignored. */
interface HttpState {
  phase: Phase;
  hop: number;
  /** address:port of the current request. */
  where: string;
}

export function createHttpProbe(scheme: Scheme, options: HttpProbeOptions = {}): Probe {
  let context: Promise<tls.SecureContext | undefined> | undefined;
  const secureContext = (): Promise<tls.SecureContext | undefined> => (context ??= trustedContext(options.extraCa ?? []));
  return (target, signal) => {
    if (!isValidPort(target.port)) return failed(FAILURE.CONFIG, `${scheme} probe without a usable port: ${target.port}`);
    const state: HttpState = { phase: 'connect', hop: 0, where: `${target.address}:${target.port}` };
    return runAttempt(
      signal,
      timeoutMsOf(target.monitor),
      (a) => a.failWith(timeoutFailure(state, target.monitor)),
      async (a) => {
        const hop = firstHop(scheme, target);
        const ctx = scheme === 'https' && !target.monitor.allow_insecure ? await secureContext() : undefined;
        if (!a.done) send(a, state, target.monitor, hop, MAX_REDIRECTS, ctx, secureContext);
      },
    );
  };
}

function timeoutFailure(state: HttpState, monitor: Monitor): Failure {
  const after = `within ${timeoutText(monitor)}`;
  switch (state.phase) {
    case 'connect':
      return { reason: FAILURE.TCP_TIMEOUT, detail: `no connection to ${state.where} ${after}` };
    case 'tls':
      return { reason: FAILURE.TLS_HANDSHAKE, detail: `TLS handshake not finished ${after}` };
    case 'response':
      return { reason: FAILURE.HTTP_TIMEOUT, detail: `no response headers ${after}` };
    case 'body':
      return { reason: FAILURE.HTTP_TIMEOUT, detail: `body not read ${after}` };
    case 'dns':
      return { reason: FAILURE.HTTP_TIMEOUT, detail: `redirect target not resolved ${after}` };
  }
}

/** The name a Host value stands for: lower case, without a port or IPv6 brackets. */
function hostnameOf(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end > 0 ? h.slice(1, end) : h;
  }
  if (net.isIPv6(h)) return h;
  const colon = h.lastIndexOf(':');
  return colon >= 0 && /^[0-9]+$/.test(h.slice(colon + 1)) ? h.slice(0, colon) : h;
}

/** The SNI for a Host value: its name, or '' for an IP address (RFC 6066 §3). */
export function serverNameOf(host: string): string {
  const name = hostnameOf(host).replace(/\.$/, '');
  return net.isIP(name) ? '' : name;
}

function bracketed(host: string): string {
  return net.isIPv6(host) ? `[${host}]` : host;
}

function firstHop(scheme: Scheme, target: ProbeTarget): Hop {
  const hostHeader = bracketed(target.host);
  const path = target.monitor.path || '/';
  let url: URL;
  try {
    url = new URL(`${scheme}://${hostHeader}:${target.port}${path.startsWith('/') ? path : `/${path}`}`);
  } catch {
    // A Host value that is not a URL authority still works as a header; resolve against the address.
    url = new URL(`${scheme}://${bracketed(target.address)}:${target.port}/`);
  }
  const headers: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(target.headers)) {
    if (!RESERVED_HEADERS.has(name.toLowerCase())) headers[name] = [...values];
  }
  return {
    scheme,
    address: target.address,
    port: target.port,
    hostname: hostnameOf(target.host),
    hostHeader,
    servername: serverNameOf(target.host),
    method: target.monitor.method || 'GET',
    path,
    headers,
    url,
  };
}

function send(
  a: Attempt,
  state: HttpState,
  monitor: Monitor,
  hop: Hop,
  redirectsLeft: number,
  ctx: tls.SecureContext | undefined,
  secureContext: () => Promise<tls.SecureContext | undefined>,
): void {
  const id = ++state.hop;
  const live = (): boolean => state.hop === id && !a.done;
  state.phase = 'connect';
  state.where = `${net.isIPv6(hop.address) ? `[${hop.address}]` : hop.address}:${hop.port}`;
  let req: http.ClientRequest;
  try {
    const common: http.RequestOptions = {
      host: hop.address,
      port: hop.port,
      method: hop.method,
      path: hop.path,
      headers: { ...hop.headers, Host: hop.hostHeader, 'User-Agent': USER_AGENT },
      setHost: false,
      agent: false,
    };
    if (hop.scheme === 'https') {
      // https.request hands its options to tls.connect, which takes a prepared secureContext.
      const secure: https.RequestOptions & Pick<tls.ConnectionOptions, 'secureContext'> = {
        ...common,
        servername: hop.servername,
        rejectUnauthorized: !monitor.allow_insecure,
        secureContext: ctx,
      };
      req = https.request(secure);
    } else {
      req = http.request(common);
    }
  } catch (err) {
    // http.request throws synchronously only for what the configuration wrote: method, path, headers.
    a.fail(FAILURE.CONFIG, `cannot send this request: ${clip(failureOf(err).detail)}`);
    return;
  }
  a.onCleanup(() => req.destroy());
  req.on('socket', (socket) => {
    socket.once('connect', () => {
      if (live()) state.phase = hop.scheme === 'https' ? 'tls' : 'response';
    });
    socket.once('secureConnect', () => {
      if (live()) state.phase = 'response';
    });
  });
  req.on('error', (err) => {
    if (live()) a.failWith(httpFailureOf(err));
  });
  req.on('response', (res) => {
    res.on('error', (err) => {
      if (live()) a.failWith(httpFailureOf(err), res.statusCode);
    });
    if (!live()) return;
    const status = res.statusCode ?? 0;
    const statusLine = clip(`HTTP/${res.httpVersion} ${status} ${res.statusMessage ?? ''}`.trim());
    const location = res.headers.location;
    const isRedirect = status >= 300 && status < 400 && location !== undefined && status !== 304;
    if (monitor.follow_redirects && isRedirect && redirectsLeft > 0) {
      state.hop++; // this hop is over: its late events are ignored
      req.destroy();
      follow(a, state, monitor, hop, status, location, redirectsLeft, secureContext).catch((err: unknown) => a.failWith(failureOf(err), status));
      return;
    }
    const limitNote = monitor.follow_redirects && isRedirect ? ` (after ${MAX_REDIRECTS} redirects)` : '';
    if (!codeMatcherOf(monitor)(status)) {
      a.fail(FAILURE.CODE_MISMATCH, `${statusLine}${limitNote}, expected ${monitor.expected_codes || '200'}`, status);
      return;
    }
    if (monitor.expected_body === '') {
      a.ok({ code: status, detail: statusLine });
      return;
    }
    state.phase = 'body';
    readBody(a, live, res, monitor.expected_body, status, statusLine);
  });
  req.end();
}

/** Reads at most BODY_LIMIT bytes; healthy as soon as the expected text is seen. */
function readBody(a: Attempt, live: () => boolean, res: http.IncomingMessage, expected: string, status: number, statusLine: string): void {
  const want = expected.toLowerCase();
  const chunks: Buffer[] = [];
  let size = 0;
  const judge = (final: boolean): void => {
    if (Buffer.concat(chunks, size).toString('utf8').toLowerCase().includes(want)) {
      a.ok({ code: status, detail: statusLine });
    } else if (final) {
      a.fail(FAILURE.BODY_MISMATCH, `${JSON.stringify(clip(expected, 100))} not in the first ${size} bytes of the body`, status);
    }
  };
  res.on('data', (chunk: Buffer) => {
    if (!live()) return;
    const room = BODY_LIMIT - size;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    chunks.push(part);
    size += part.length;
    judge(size >= BODY_LIMIT);
  });
  res.on('end', () => {
    if (live()) judge(true);
  });
}

async function follow(
  a: Attempt,
  state: HttpState,
  monitor: Monitor,
  from: Hop,
  status: number,
  location: string,
  redirectsLeft: number,
  secureContext: () => Promise<tls.SecureContext | undefined>,
): Promise<void> {
  let url: URL;
  try {
    url = new URL(location, from.url);
  } catch {
    a.fail(FAILURE.HTTP_INVALID, `${status} redirect to an invalid Location: ${clip(location)}`, status);
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    a.fail(FAILURE.HTTP_INVALID, `${status} redirect to an unsupported scheme: ${clip(url.href)}`, status);
    return;
  }
  const scheme: Scheme = url.protocol === 'https:' ? 'https' : 'http';
  const port = url.port ? Number(url.port) : scheme === 'https' ? 443 : 80;
  const hostname = hostnameOf(url.hostname);
  const sameHost = hostname === from.hostname;
  const sameAuthority = sameHost && scheme === from.scheme && port === from.port;
  let address = from.address;
  if (!sameHost) {
    if (net.isIP(hostname)) address = hostname;
    else {
      state.phase = 'dns';
      const hopBefore = state.hop;
      try {
        address = (await lookup(hostname)).address;
      } catch (err) {
        if (!a.done && state.hop === hopBefore) a.failWith(failureOf(err), status);
        return;
      }
      if (a.done || state.hop !== hopBefore) return;
    }
  }
  let method = from.method;
  if ((status === 303 && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST')) method = 'GET';
  const headers: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(from.headers)) {
    if (sameHost || !CREDENTIAL_HEADERS.has(name.toLowerCase())) headers[name] = values;
  }
  const next: Hop = {
    scheme,
    address,
    port,
    hostname,
    hostHeader: sameAuthority ? from.hostHeader : url.host,
    servername: net.isIP(hostname) ? '' : hostname,
    method,
    path: `${url.pathname}${url.search}`,
    headers,
    url,
  };
  const ctx = scheme === 'https' && !monitor.allow_insecure ? await secureContext() : undefined;
  if (!a.done) send(a, state, monitor, next, redirectsLeft - 1, ctx, secureContext);
}

/** As failureOf, except that a close without a complete response is an invalid response. */
function httpFailureOf(err: unknown): Failure {
  const f = failureOf(err);
  const hasSyscall = typeof err === 'object' && err !== null && 'syscall' in err;
  if (errorCode(err) === 'ECONNRESET' && !hasSyscall) {
    // "socket hang up" / "aborted": the peer closed (FIN) before the response was complete.
    return { reason: FAILURE.HTTP_INVALID, detail: `connection closed before a complete response (${f.detail})` };
  }
  return f;
}

const codeMatchers = new WeakMap<Monitor, (status: number) => boolean>();

/** expected_codes: "200", "2xx", "200,301,302": exact codes and classes; "" means "200". */
function codeMatcherOf(monitor: Monitor): (status: number) => boolean {
  let m = codeMatchers.get(monitor);
  if (!m) {
    m = codeMatcher(monitor.expected_codes);
    codeMatchers.set(monitor, m);
  }
  return m;
}

export function codeMatcher(spec: string): (status: number) => boolean {
  const exact = new Set<number>();
  const classes = new Set<number>();
  for (const part of spec.split(',')) {
    const p = part.trim().toLowerCase();
    if (/^[1-5][0-9]{2}$/.test(p)) exact.add(Number(p));
    else if (/^[1-5]xx$/.test(p)) classes.add(Number(p[0]));
  }
  if (exact.size === 0 && classes.size === 0) exact.add(200);
  return (status) => exact.has(status) || classes.has(Math.floor(status / 100));
}

/** Where the system keeps its CA bundle, by distribution family. */
const SYSTEM_CA_FILES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem', '/etc/ssl/ca-bundle.pem'];

let systemCa: Promise<string[]> | undefined;

/** The system CA bundle and NODE_EXTRA_CA_CERTS, read once (Node 20 trusts only its own store). */
function systemCaPem(): Promise<string[]> {
  systemCa ??= (async () => {
    const out: string[] = [];
    for (const file of SYSTEM_CA_FILES) {
      const pem = await readFile(file, 'utf8').catch(() => undefined);
      if (pem?.includes('-----BEGIN CERTIFICATE-----')) {
        out.push(pem);
        break;
      }
    }
    const extra = process.env.NODE_EXTRA_CA_CERTS;
    if (extra) {
      const pem = await readFile(extra, 'utf8').catch(() => undefined);
      if (pem) out.push(pem);
    }
    return out;
  })();
  return systemCa;
}

/** Node's store plus the system's plus `extra`; undefined (Node's default) if that cannot be built. */
async function trustedContext(extra: readonly string[]): Promise<tls.SecureContext | undefined> {
  const system = await systemCaPem();
  try {
    return tls.createSecureContext({ ca: [...tls.rootCertificates, ...system, ...extra] });
  } catch {
    try {
      return tls.createSecureContext({ ca: [...tls.rootCertificates, ...extra] });
    } catch {
      return undefined;
    }
  }
}
