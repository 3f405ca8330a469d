/**
 * What every probe shares: one attempt bounded by the monitor's timeout and the caller's
 * AbortSignal that settles exactly once and then releases its sockets, timers and children;
 * and the mapping from Node's errors to Cloudflare's failure reasons (reference §3.1).
 */
import { FAILURE, type FailureReason, type ProbeResult } from './types.js';
import type { Monitor } from '../lb/model.js';

/** Cloudflare's default monitor timeout, for a monitor whose timeout is unusable. */
const DEFAULT_TIMEOUT_S = 5;

export interface Failure {
  readonly reason: FailureReason;
  readonly detail: string;
}

/** The monitor's timeout in milliseconds. */
export function timeoutMsOf(monitor: Monitor): number {
  const s = monitor.timeout;
  return (Number.isFinite(s) && s > 0 ? s : DEFAULT_TIMEOUT_S) * 1000;
}

/** The monitor's timeout for messages: "5 s". */
export function timeoutText(monitor: Monitor): string {
  return `${timeoutMsOf(monitor) / 1000} s`;
}

export function isValidPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

/** Rounds to microseconds: enough for logs and smoothing, and stable in JSON. */
function roundMs(ms: number): number {
  return Math.round(Math.max(0, ms) * 1000) / 1000;
}

/** One probe attempt: settles once; later calls are ignored, so racing callbacks are harmless. */
export class Attempt {
  private readonly started = performance.now();
  private readonly cleanups: Array<() => void> = [];
  private settled = false;

  constructor(private readonly resolve: (result: ProbeResult) => void) {}

  get done(): boolean {
    return this.settled;
  }

  elapsedMs(): number {
    return roundMs(performance.now() - this.started);
  }

  /** Runs `fn` when the attempt settles (at once if it already has). */
  onCleanup(fn: () => void): void {
    if (this.settled) runQuietly(fn);
    else this.cleanups.push(fn);
  }

  ok(fields: { rttMs?: number; code?: number; detail?: string } = {}): void {
    const rttMs = fields.rttMs === undefined ? this.elapsedMs() : roundMs(fields.rttMs);
    this.settle({ ok: true, rttMs, code: fields.code, detail: fields.detail });
  }

  fail(reason: FailureReason, detail: string, code?: number): void {
    this.settle({ ok: false, rttMs: this.elapsedMs(), reason, code, detail });
  }

  failWith(failure: Failure, code?: number): void {
    this.fail(failure.reason, failure.detail, code);
  }

  private settle(result: ProbeResult): void {
    if (this.settled) return;
    this.settled = true;
    for (const fn of this.cleanups) runQuietly(fn);
    this.cleanups.length = 0;
    const clean: { -readonly [K in keyof ProbeResult]: ProbeResult[K] } = { ok: result.ok, rttMs: result.rttMs };
    if (result.reason !== undefined) clean.reason = result.reason;
    if (result.code !== undefined) clean.code = result.code;
    if (result.detail !== undefined) clean.detail = result.detail;
    this.resolve(Object.freeze(clean));
  }
}

function runQuietly(fn: () => void): void {
  try {
    fn();
  } catch {
    // Cleanup must not turn a verdict into a crash; the resource is being dropped anyway.
  }
}

/**
 * Runs one attempt. `onTimeout` gives the verdict when `timeoutMs` passes first (it may call
 * `ok`, as udp_icmp does); an abort of `signal` fails with "Other Failure"; an exception or a
 * rejection of `run` becomes a failure too. The returned promise never rejects.
 */
export function runAttempt(
  signal: AbortSignal,
  timeoutMs: number,
  onTimeout: (a: Attempt) => void,
  run: (a: Attempt) => void | Promise<void>,
): Promise<ProbeResult> {
  return new Promise<ProbeResult>((resolve) => {
    const a = new Attempt(resolve);
    if (signal.aborted) {
      a.fail(FAILURE.OTHER, 'probe aborted before it started');
      return;
    }
    const timer = setTimeout(() => {
      runQuietly(() => onTimeout(a));
      a.fail(FAILURE.OTHER, `timed out after ${timeoutMs} ms`);
    }, timeoutMs);
    const onAbort = (): void => a.fail(FAILURE.OTHER, 'probe aborted');
    signal.addEventListener('abort', onAbort, { once: true });
    a.onCleanup(() => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    });
    try {
      const pending = run(a);
      if (pending) pending.catch((err: unknown) => a.failWith(failureOf(err)));
    } catch (err) {
      a.failWith(failureOf(err));
    }
  });
}

/** A failed result without running anything (configuration problems found up front). */
export function failed(reason: FailureReason, detail: string): Promise<ProbeResult> {
  return Promise.resolve(Object.freeze({ ok: false, rttMs: 0, reason, detail }));
}

/** Node's error code: a string like 'ECONNREFUSED' or 'ERR_SSL_...', if any. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** "ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1", or just the message when it names the code. */
export function errorDetail(err: unknown): string {
  const code = errorCode(err);
  const message = errorMessage(err);
  if (!code || message.includes(code)) return message;
  return `${code}: ${message}`;
}

/** OpenSSL verification results that mean "this chain is not trusted" (or not valid now). */
const UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_REVOKED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
  'ERR_TLS_CERT_SIGNATURE_ALGORITHM_UNSUPPORTED',
]);
const NAME_MISMATCH = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH', 'IP_ADDRESS_MISMATCH', 'ERR_TLS_CERT_ALTNAME_FORMAT']);
const TLS_PROTOCOL = new Set([
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_UNSUPPORTED_PROTOCOL',
  'ERR_SSL_NO_PROTOCOLS_AVAILABLE',
  'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
  'ERR_SSL_VERSION_TOO_LOW',
  'ERR_SSL_UNKNOWN_PROTOCOL',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
  'ERR_SSL_RECORD_LAYER_FAILURE',
]);

/** Maps a socket, DNS, HTTP-parser or TLS error to Cloudflare's reason. */
export function failureOf(err: unknown): Failure {
  const code = errorCode(err) ?? '';
  const detail = clip(errorDetail(err).trim());
  const reason = reasonOfCode(code, errorMessage(err));
  return { reason, detail };
}

function reasonOfCode(code: string, message: string): FailureReason {
  switch (code) {
    case 'ECONNREFUSED':
      return FAILURE.TCP_FAILED;
    case 'ETIMEDOUT':
      return FAILURE.TCP_TIMEOUT;
    case 'ECONNRESET':
    case 'EPIPE':
      return FAILURE.RESET;
    case 'EHOSTUNREACH':
    case 'EHOSTDOWN':
      return FAILURE.NO_ROUTE;
    case 'ENETUNREACH':
    case 'ENETDOWN':
      return FAILURE.NETWORK_UNREACHABLE;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NODATA':
    case 'EAI_NONAME':
    case 'EAI_FAIL':
      return FAILURE.DNS_UNKNOWN_HOST;
  }
  if (code.startsWith('HPE_')) return FAILURE.HTTP_INVALID;
  if (UNTRUSTED.has(code)) return FAILURE.TLS_UNTRUSTED;
  if (NAME_MISMATCH.has(code)) return FAILURE.TLS_NAME;
  if (code === 'ERR_SSL_TLSV1_UNRECOGNIZED_NAME' || /unrecognized name/i.test(message)) return FAILURE.TLS_UNRECOGNIZED_NAME;
  if (TLS_PROTOCOL.has(code) || /wrong version number|unsupported protocol|protocol version/i.test(message)) return FAILURE.TLS_PROTOCOL;
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code === 'EPROTO') return FAILURE.TLS_HANDSHAKE;
  return FAILURE.OTHER;
}

/** At most `max` characters of `text` on one line, for details in logs. */
export function clip(text: string, max = 200): string {
  const line = text.replace(/\r?\n/g, ' | ').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '?');
  return line.length > max ? `${line.slice(0, max)}...` : line;
}
