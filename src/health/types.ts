/**
 * The contract between the health monitors and the rest: what one probe attempt is given,
 * what it returns, and Cloudflare's vocabulary for why a probe failed.
 */
import type { Monitor } from '../lb/model.js';

/** Failure reasons as Cloudflare's health API and logs spell them. */
export const FAILURE = {
  TCP_FAILED: 'TCP connection failed',
  TCP_TIMEOUT: 'TCP Timeout',
  HTTP_TIMEOUT: 'HTTP timeout occurred',
  CODE_MISMATCH: 'Response code mismatch error',
  BODY_MISMATCH: 'Response body mismatch error',
  HTTP_INVALID: 'HTTP Invalid Response',
  TLS_UNTRUSTED: 'TLS untrusted certificate error',
  TLS_NAME: 'TLS name mismatch error',
  TLS_PROTOCOL: 'TLS protocol error',
  TLS_UNRECOGNIZED_NAME: 'TLS unrecognized name error',
  TLS_HANDSHAKE: 'TLS Handshake Failure',
  NO_ROUTE: 'No route to host',
  NETWORK_UNREACHABLE: 'Network Unreachable',
  RESET: 'Connection Reset by Peer',
  DNS_UNKNOWN_HOST: 'DNS Unknown Host',
  CONFIG: 'Monitor Config Error',
  OTHER: 'Other Failure',
} as const;
export type FailureReason = (typeof FAILURE)[keyof typeof FAILURE];

/** One address of one origin, probed by one monitor. */
export interface ProbeTarget {
  readonly monitor: Monitor;
  /** The IP address to connect to. */
  readonly address: string;
  /** The port to connect to, already resolved (monitor port, else origin port, else 80/443). */
  readonly port: number;
  /** Host header and TLS SNI: origin header.Host > monitor header.Host > origin address. */
  readonly host: string;
  /** Request headers for http/https, Host excluded (it is `host`). */
  readonly headers: Readonly<Record<string, readonly string[]>>;
}

export interface ProbeResult {
  readonly ok: boolean;
  /** Round-trip time of the probe in milliseconds (connect to verdict). */
  readonly rttMs: number;
  /** Why it failed, in Cloudflare's vocabulary; absent when ok. */
  readonly reason?: FailureReason;
  /** HTTP status code when one was received. */
  readonly code?: number;
  /** A short technical detail for logs (e.g. the errno or the status line). */
  readonly detail?: string;
}

/** One probe attempt, bounded by the monitor's timeout; never rejects. */
export type Probe = (target: ProbeTarget, signal: AbortSignal) => Promise<ProbeResult>;
