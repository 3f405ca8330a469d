/** The http and https probes against real loopback servers. */
import t, { type Test } from 'tap';
import { createHttpProbe } from '../../src/health/probe-http.js';
import { probeFor, targetFor, USER_AGENT } from '../../src/health/probes.js';
import { FAILURE, type ProbeResult, type ProbeTarget } from '../../src/health/types.js';
import type { Monitor } from '../../src/lb/model.js';
import {
  HEALTHY_BODY,
  LOCALHOST_CERT,
  OTHER_CERT,
  closedPort,
  ipOrigin,
  monitorOf,
  startBlackHole,
  startHttpServer,
  startHttpsServer,
  startLocalhostServer,
  startTcpServer,
  targetAt,
  timed,
  type TestHttpServer,
} from './probe-helpers.js';

const never = new AbortController().signal;

// The groups use their own servers, so they run side by side: the timeout cases then overlap.
t.jobs = 3;
const http = probeFor('http');
const https = probeFor('https');

function httpMonitor(fields: Partial<Monitor> = {}): Monitor {
  return monitorOf({ type: 'http', ...fields });
}

function checkRtt(t: Test, r: ProbeResult): void {
  t.type(r.rttMs, 'number', 'rttMs is a number');
  t.ok(r.rttMs >= 0, 'rttMs >= 0');
}

t.test('http', async (t) => {
  const elsewhere = await startLocalhostServer();
  const server: TestHttpServer = await startHttpServer(`http://localhost:${elsewhere.port}/moved-here`);
  t.teardown(async () => {
    await server.close();
    await elsewhere.close();
  });
  const at = (m: Monitor, host?: string, headers?: Record<string, string[]>): ProbeTarget => targetAt(m, server.port, host, headers);

  t.test('200 with the expected body', async (t) => {
    const r = await http(at(httpMonitor({ path: '/ok', expected_body: 'status healthy' })), never);
    t.match(r, { ok: true, code: 200, detail: 'HTTP/1.1 200 OK' });
    t.equal(r.reason, undefined);
    checkRtt(t, r);
  });

  t.test('expected_codes as a class', async (t) => {
    const r = await http(at(httpMonitor({ path: '/ok', expected_codes: '2xx' })), never);
    t.match(r, { ok: true, code: 200 });
  });

  t.test('503: Response code mismatch error', async (t) => {
    const r = await http(at(httpMonitor({ path: '/unavailable' })), never);
    t.match(r, { ok: false, reason: FAILURE.CODE_MISMATCH, code: 503 });
    t.match(r.detail, /503 Service Unavailable.*expected 200/);
    checkRtt(t, r);
  });

  t.test('503 listed in expected_codes is healthy', async (t) => {
    const r = await http(at(httpMonitor({ path: '/unavailable', expected_codes: '200,503' })), never);
    t.match(r, { ok: true, code: 503 });
  });

  t.test('wrong body: Response body mismatch error', async (t) => {
    const r = await http(at(httpMonitor({ path: '/ok', expected_body: 'degraded' })), never);
    t.match(r, { ok: false, reason: FAILURE.BODY_MISMATCH, code: 200 });
    t.match(r.detail, /"degraded" not in the first \d+ bytes/);
  });

  t.test('302 without follow_redirects is judged as 302', async (t) => {
    const before = server.hits.get('/ok') ?? 0;
    const r = await http(at(httpMonitor({ path: '/redirect' })), never);
    t.match(r, { ok: false, reason: FAILURE.CODE_MISMATCH, code: 302 });
    t.equal(server.hits.get('/ok') ?? 0, before, 'not followed');
    const moved = await http(at(httpMonitor({ path: '/moved' })), never);
    t.match(moved, { ok: false, reason: FAILURE.CODE_MISMATCH, code: 301 });
    const listed = await http(at(httpMonitor({ path: '/redirect', expected_codes: '3xx' })), never);
    t.match(listed, { ok: true, code: 302 }, 'a redirect can be the expected code');
  });

  t.test('302 with follow_redirects reaches /ok, with the same Host', async (t) => {
    const r = await http(at(httpMonitor({ path: '/redirect', follow_redirects: true, expected_body: 'HEALTHY' }), 'app.example'), never);
    t.match(r, { ok: true, code: 200 });
    t.equal(server.last?.host, 'app.example', 'the Host header is kept on the same host');
  });

  t.test('a redirect to another host is resolved with dns.lookup', async (t) => {
    const r = await http(at(httpMonitor({ path: '/elsewhere', follow_redirects: true, expected_body: 'moved here', header: { Authorization: ['secret'] } }), undefined, { Authorization: ['secret'] }), never);
    t.match(r, { ok: true, code: 200 });
    t.equal(elsewhere.last?.host, `localhost:${elsewhere.port}`, 'Host of the new URL');
    t.equal(elsewhere.last?.authorization, undefined, 'credentials stay with the first host');
    t.equal(elsewhere.last?.['user-agent'], USER_AGENT);
  });

  t.test('a redirect loop stops after 5 hops and is judged as its code', async (t) => {
    const before = server.hits.get('/loop') ?? 0;
    const r = await http(at(httpMonitor({ path: '/loop', follow_redirects: true })), never);
    t.match(r, { ok: false, reason: FAILURE.CODE_MISMATCH, code: 302 });
    t.match(r.detail, /after 5 redirects/);
    t.equal((server.hits.get('/loop') ?? 0) - before, 6, 'the first request and 5 redirects');
  });

  t.test('Host header and User-Agent', async (t) => {
    const m = httpMonitor({ path: '/headers', header: { Host: ['ignored.example'], 'X-Probe': ['a', 'b'], 'user-agent': ['curl/8'] } });
    const target = targetFor(m, ipOrigin('127.0.0.1', { port: server.port, header: { Host: ['origin.example'] } }), '127.0.0.1');
    const r = await http(target, never);
    t.match(r, { ok: true, code: 200 });
    t.equal(server.last?.host, 'origin.example', 'origin Host beats monitor Host');
    t.equal(server.last?.['user-agent'], USER_AGENT, 'the configured User-Agent is replaced');
    t.equal(server.last?.['x-probe'], 'a, b', 'both values of a repeated header');
    const plain = await http(targetFor(httpMonitor({ path: '/headers' }), ipOrigin('127.0.0.1', { port: server.port }), '127.0.0.1'), never);
    t.match(plain, { ok: true });
    t.equal(server.last?.host, '127.0.0.1', 'an IP origin without Host headers: the IP');
  });

  t.test('slow peers (side by side)', async (t) => {
    t.jobs = 2;
    t.test('a route that never answers: HTTP timeout occurred within the timeout', async (t) => {
      const { value: r, ms } = await timed(() => http(at(httpMonitor({ path: '/slow', timeout: 1 })), never));
      t.match(r, { ok: false, reason: FAILURE.HTTP_TIMEOUT });
      t.ok(ms >= 950 && ms < 2000, `resolved after ${ms.toFixed(0)} ms`);
      checkRtt(t, r);
    });

    t.test('a body that stalls before the expected text: HTTP timeout occurred', async (t) => {
      const { value: r, ms } = await timed(() => http(at(httpMonitor({ path: '/slow-body', timeout: 1, expected_body: 'complete' })), never));
      t.match(r, { ok: false, reason: FAILURE.HTTP_TIMEOUT });
      t.ok(ms < 2000, `resolved after ${ms.toFixed(0)} ms`);
      const early = await http(at(httpMonitor({ path: '/slow-body', timeout: 1, expected_body: 'PARTIAL' })), never);
      t.match(early, { ok: true, code: 200 }, 'healthy as soon as the text arrives');
    });
  });

  t.test('an endless body: only the first 10 KB are read', async (t) => {
    const { value: r, ms } = await timed(() => http(at(httpMonitor({ path: '/endless', timeout: 1, expected_body: 'never there' })), never));
    t.match(r, { ok: false, reason: FAILURE.BODY_MISMATCH, code: 200 });
    t.match(r.detail, /first 10240 bytes/);
    t.ok(ms < 1000, `resolved after ${ms.toFixed(0)} ms, not at the timeout`);
    await server.endlessClosed;
    t.pass('the connection was closed');
    const noBody = await http(at(httpMonitor({ path: '/endless', timeout: 1 })), never);
    t.match(noBody, { ok: true, code: 200 }, 'without expected_body the verdict comes with the headers');
    const found = await http(at(httpMonitor({ path: '/endless', timeout: 1, expected_body: 'XXXX' })), never);
    t.match(found, { ok: true, code: 200 }, 'case-insensitive');
  });

  t.test('an aborted signal ends the probe at once', async (t) => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const { value: r, ms } = await timed(() => http(at(httpMonitor({ path: '/slow', timeout: 5 })), ac.signal));
    t.match(r, { ok: false, reason: FAILURE.OTHER, detail: 'probe aborted' });
    t.ok(ms < 1000, `resolved after ${ms.toFixed(0)} ms`);
    const pre = await http(at(httpMonitor({ path: '/ok' })), AbortSignal.abort());
    t.match(pre, { ok: false, reason: FAILURE.OTHER });
  });

  t.test('a request the configuration made invalid: Monitor Config Error', async (t) => {
    const r = await http(at(httpMonitor({ path: '/ok', method: 'GET' }), undefined, { 'X-Bad': ['a\r\nInjected: 1'] }), never);
    t.match(r, { ok: false, reason: FAILURE.CONFIG });
  });
});

t.test('http transport failures', async (t) => {
  t.test('closed port: TCP connection failed', async (t) => {
    const r = await http(targetAt(httpMonitor(), await closedPort()), never);
    t.match(r, { ok: false, reason: FAILURE.TCP_FAILED });
    t.match(r.detail, /ECONNREFUSED/);
    checkRtt(t, r);
  });

  t.test('a listener that never completes the handshake: TCP Timeout', async (t) => {
    const hole = await startBlackHole();
    t.teardown(() => hole.close());
    const { value: r, ms } = await timed(() => http(targetAt(httpMonitor({ timeout: 1 }), hole.port), never));
    t.match(r, { ok: false, reason: FAILURE.TCP_TIMEOUT });
    t.ok(ms < 2000, `resolved after ${ms.toFixed(0)} ms`);
  });

  t.test('reset: Connection Reset by Peer', async (t) => {
    const server = await startTcpServer((s) => s.once('data', () => s.resetAndDestroy()));
    t.teardown(() => server.close());
    const r = await http(targetAt(httpMonitor(), server.port), never);
    t.match(r, { ok: false, reason: FAILURE.RESET });
    t.match(r.detail, /ECONNRESET/);
  });

  t.test('closed without a response: HTTP Invalid Response', async (t) => {
    const server = await startTcpServer((s) => s.once('data', () => s.end()));
    t.teardown(() => server.close());
    const r = await http(targetAt(httpMonitor(), server.port), never);
    t.match(r, { ok: false, reason: FAILURE.HTTP_INVALID });
  });

  t.test('garbage instead of HTTP: HTTP Invalid Response', async (t) => {
    const server = await startTcpServer((s) => s.once('data', () => s.end('SSH-2.0-OpenSSH_9.2\r\n\r\n')));
    t.teardown(() => server.close());
    const r = await http(targetAt(httpMonitor(), server.port), never);
    t.match(r, { ok: false, reason: FAILURE.HTTP_INVALID });
    t.match(r.detail, /HPE_/);
  });

  t.test('https to a plain HTTP server: TLS protocol error', async (t) => {
    const server = await startHttpServer();
    t.teardown(() => server.close());
    const r = await https(targetAt(monitorOf({ type: 'https' }), server.port), never);
    t.match(r, { ok: false, reason: FAILURE.TLS_PROTOCOL });
  });
});

t.test('an IPv6 origin on ::1', async (t) => {
  const server = await startHttpServer('', '::1').catch(() => undefined);
  if (!server) {
    t.comment('no IPv6 loopback here');
    return;
  }
  t.teardown(() => server.close());
  const r = await http(targetFor(httpMonitor({ path: '/ok', expected_body: 'healthy' }), ipOrigin('::1', { port: server.port }), '::1'), never);
  t.match(r, { ok: true, code: 200 });
  t.equal(server.last?.host, '[::1]', 'an IPv6 Host header is bracketed');
});

t.test('https', async (t) => {
  const server = await startHttpsServer();
  t.teardown(() => server.close());
  const trusting = createHttpProbe('https', { extraCa: [LOCALHOST_CERT, OTHER_CERT] });
  const m = (fields: Partial<Monitor> = {}): Monitor => monitorOf({ type: 'https', ...fields });

  t.test('a self-signed certificate: TLS untrusted certificate error', async (t) => {
    const r = await https(targetAt(m(), server.port, 'localhost'), never);
    t.match(r, { ok: false, reason: FAILURE.TLS_UNTRUSTED });
    t.match(r.detail, /self-signed|SELF_SIGNED/i);
    checkRtt(t, r);
  });

  t.test('allow_insecure accepts it', async (t) => {
    const r = await https(targetAt(m({ allow_insecure: true, expected_body: 'secure' }), server.port, 'wrong.example'), never);
    t.match(r, { ok: true, code: 200 });
    t.equal(server.servername, 'wrong.example', 'SNI is the Host name');
  });

  t.test('a trusted certificate for the Host name', async (t) => {
    const r = await trusting(targetAt(m(), server.port, 'localhost'), never);
    t.match(r, { ok: true, code: 200 });
    t.equal(server.servername, 'localhost');
    const other = await trusting(targetAt(m(), server.port, 'other.example'), never);
    t.match(other, { ok: true, code: 200 }, 'the server picked its certificate by our SNI');
    t.equal(server.servername, 'other.example');
  });

  t.test('an IP origin: no SNI, the certificate is checked against the IP', async (t) => {
    const r = await trusting(targetFor(m(), ipOrigin('127.0.0.1', { port: server.port }), '127.0.0.1'), never);
    t.match(r, { ok: true, code: 200 });
    t.equal(server.servername, false, 'no SNI sent');
  });

  t.test('a trusted certificate for another name: TLS name mismatch error', async (t) => {
    const r = await trusting(targetAt(m(), server.port, 'wrong.example'), never);
    t.match(r, { ok: false, reason: FAILURE.TLS_NAME });
    t.match(r.detail, /ERR_TLS_CERT_ALTNAME_INVALID|does not match/);
  });

  t.test('a TCP listener that never speaks TLS: TLS Handshake Failure at the timeout', async (t) => {
    const silent = await startTcpServer();
    t.teardown(() => silent.close());
    const { value: r, ms } = await timed(() => https(targetAt(m({ timeout: 1 }), silent.port, 'localhost'), never));
    t.match(r, { ok: false, reason: FAILURE.TLS_HANDSHAKE });
    t.ok(ms < 2000, `resolved after ${ms.toFixed(0)} ms`);
  });
});
