/** The tcp and smtp probes against real loopback servers. */
import t from 'tap';
import { probeFor } from '../../src/health/probes.js';
import { FAILURE } from '../../src/health/types.js';
import { closedPort, monitorOf, startBlackHole, startSmtpServer, startTcpServer, targetAt, timed, type SmtpScript } from './probe-helpers.js';

const never = new AbortController().signal;
const tcp = probeFor('tcp');
const smtp = probeFor('smtp');

// Every case starts its own server, so cases run side by side and the timeouts overlap.
t.jobs = 2;

t.test('tcp', async (t) => {
  t.jobs = 4;
  t.test('a listener: healthy, and the connection is closed again', async (t) => {
    let closed: () => void = () => undefined;
    const closedByProbe = new Promise<void>((resolve) => (closed = resolve));
    const server = await startTcpServer((s) => s.on('close', () => closed()));
    t.teardown(() => server.close());
    const r = await tcp(targetAt(monitorOf({ type: 'tcp', port: server.port }), server.port), never);
    t.match(r, { ok: true });
    t.equal(r.reason, undefined);
    t.equal(r.code, undefined);
    t.type(r.rttMs, 'number');
    t.ok(r.rttMs >= 0);
    await closedByProbe;
    t.pass('the probe closed its connection');
  });

  t.test('a closed port: TCP connection failed', async (t) => {
    const r = await tcp(targetAt(monitorOf({ type: 'tcp' }), await closedPort()), never);
    t.match(r, { ok: false, reason: FAILURE.TCP_FAILED });
    t.match(r.detail, /ECONNREFUSED/);
    t.ok(r.rttMs >= 0);
  });

  t.test('no SYN/ACK: TCP Timeout within the timeout', async (t) => {
    const hole = await startBlackHole();
    t.teardown(() => hole.close());
    const { value: r, ms } = await timed(() => tcp(targetAt(monitorOf({ type: 'tcp', timeout: 1 }), hole.port), never));
    t.match(r, { ok: false, reason: FAILURE.TCP_TIMEOUT });
    t.ok(ms >= 950 && ms < 2000, `resolved after ${ms.toFixed(0)} ms`);
  });

  t.test('a server that resets after accepting: still a connection', async (t) => {
    const server = await startTcpServer((s) => setTimeout(() => s.resetAndDestroy(), 50));
    t.teardown(() => server.close());
    const r = await tcp(targetAt(monitorOf({ type: 'tcp' }), server.port), never);
    t.match(r, { ok: true }, 'the handshake completed before the reset');
  });
});

t.test('smtp', async (t) => {
  t.jobs = 4;
  const run = async (script: SmtpScript, timeout = 2): Promise<Awaited<ReturnType<typeof smtp>> & { ms: number; helo: string[] }> => {
    const server = await startSmtpServer(script);
    try {
      const { value, ms } = await timed(() => smtp(targetAt(monitorOf({ type: 'smtp', timeout }), server.port), never));
      return { ...value, ms, helo: server.helo };
    } finally {
      await server.close();
    }
  };

  t.test('220, HELO, 250, QUIT, 221: healthy', async (t) => {
    const r = await run('happy');
    t.match(r, { ok: true, detail: '220 mx.test ESMTP steerdns-test' });
    t.equal(r.helo.length, 1);
    t.match(r.helo[0], /^HELO [A-Za-z0-9.-]+$/, 'greets with a host name');
    t.ok(r.rttMs >= 0);
  });

  t.test('a multi-line greeting', async (t) => {
    const r = await run('multiline');
    t.match(r, { ok: true, detail: '220-mx.test ESMTP' });
  });

  t.test('a 554 greeting: Response code mismatch error', async (t) => {
    const r = await run('reject-banner');
    t.match(r, { ok: false, reason: FAILURE.CODE_MISMATCH });
    t.match(r.detail, /expected 220, got: 554 5\.3\.2 no service here/);
    t.equal(r.helo.length, 0, 'no HELO after a refusal');
  });

  t.test('HELO refused: Response code mismatch error', async (t) => {
    const r = await run('reject-helo');
    t.match(r, { ok: false, reason: FAILURE.CODE_MISMATCH });
    t.match(r.detail, /expected 250, got: 501/);
  });

  t.test('not SMTP at all: Response code mismatch error', async (t) => {
    const r = await run('garbage');
    t.match(r, { ok: false, reason: FAILURE.CODE_MISMATCH });
    t.match(r.detail, /not an SMTP reply while waiting for 220: HTTP\/1\.1 200 OK/);
  });

  t.test('a reply that never ends is cut at 4 KB', async (t) => {
    const r = await run('endless-line');
    t.match(r, { ok: false, reason: FAILURE.OTHER });
    t.match(r.detail, /longer than 4096 bytes/);
    t.ok(r.ms < 1000, 'at once, not at the timeout');
  });

  t.test('a server that accepts and never speaks: timeout waiting for 220', async (t) => {
    const silent = await startTcpServer();
    t.teardown(() => silent.close());
    const { value: r, ms } = await timed(() => smtp(targetAt(monitorOf({ type: 'smtp', timeout: 1 }), silent.port), never));
    t.match(r, { ok: false, reason: FAILURE.OTHER, detail: 'SMTP timeout waiting for 220' });
    t.ok(ms >= 950 && ms < 2000, `resolved after ${ms.toFixed(0)} ms`);
  });

  t.test('no answer to HELO: timeout waiting for 250', async (t) => {
    const r = await run('silent-after-banner', 1);
    t.match(r, { ok: false, reason: FAILURE.OTHER, detail: 'SMTP timeout waiting for 250' });
    t.ok(r.ms < 2000, `resolved after ${r.ms.toFixed(0)} ms`);
  });

  t.test('a closed port: TCP connection failed', async (t) => {
    const r = await smtp(targetAt(monitorOf({ type: 'smtp' }), await closedPort()), never);
    t.match(r, { ok: false, reason: FAILURE.TCP_FAILED });
  });

  t.test('a reset: Connection Reset by Peer', async (t) => {
    const server = await startTcpServer((s) => setTimeout(() => s.resetAndDestroy(), 10));
    t.teardown(() => server.close());
    const r = await smtp(targetAt(monitorOf({ type: 'smtp' }), server.port), never);
    t.match(r, { ok: false, reason: FAILURE.RESET });
  });

  t.test('closed after connecting: Other Failure', async (t) => {
    const server = await startTcpServer((s) => s.end());
    t.teardown(() => server.close());
    const r = await smtp(targetAt(monitorOf({ type: 'smtp' }), server.port), never);
    t.match(r, { ok: false, reason: FAILURE.OTHER, detail: 'SMTP connection closed while waiting for 220' });
  });

  t.test('no SYN/ACK: TCP Timeout', async (t) => {
    const hole = await startBlackHole();
    t.teardown(() => hole.close());
    const r = await smtp(targetAt(monitorOf({ type: 'smtp', timeout: 1 }), hole.port), never);
    t.match(r, { ok: false, reason: FAILURE.TCP_TIMEOUT });
  });
});
