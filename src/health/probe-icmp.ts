/**
 * The `icmp_ping` and `udp_icmp` probes (reference §3.1). Node has no raw sockets, so the echo
 * request is sent by the system's `ping` (Debian: iputils-ping), run with a hard kill at the
 * deadline. udp_icmp then sends one UDP datagram from a connected socket: Linux reports an ICMP
 * port unreachable for it as ECONNREFUSED on that socket; silence until the deadline is healthy.
 */
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { FAILURE, type Probe } from './types.js';
import { clip, errorCode, failed, isValidPort, runAttempt, timeoutMsOf, timeoutText, type Attempt, type Failure } from './probe-common.js';
import { missingPortDetail } from './probe-tcp.js';

export type IcmpMonitorType = 'icmp_ping' | 'udp_icmp';

export interface PingOptions {
  /** The ping command, a name looked up in PATH or a path; default `ping`. */
  readonly command?: string;
  /** PATH for looking the command up; default this process's PATH. */
  readonly searchPath?: string;
}

export const PING_PACKAGE_HINT = '(Debian: apt-get install iputils-ping)';

/** The Monitor Config Error detail when `ping` cannot be run at all. */
export function missingPingDetail(type: IcmpMonitorType): string {
  return `${type} needs the system ping command ${PING_PACKAGE_HINT}`;
}

/** Output of ping's own that means it may not open an ICMP socket. */
const NOT_PERMITTED = /operation not permitted|permission denied|cap_net_raw|setuid/i;
/** Bytes of ping output kept: one echo and the summary fit. */
const PING_OUTPUT_LIMIT = 64 * 1024;
/** The empty datagram udp_icmp sends: nothing a UDP service could misread as a request. */
const UDP_PAYLOAD = Buffer.alloc(0);

type PingOutcome = { readonly kind: 'reply'; readonly rttMs?: number; readonly detail: string } | { readonly kind: 'failure'; readonly failure: Failure };

/**
 * Sends one echo request to `address` (an IP address) with the system ping. The child is
 * killed when `signal` aborts. Never rejects.
 */
export function ping(type: IcmpMonitorType, address: string, timeoutMs: number, signal: AbortSignal, options: PingOptions = {}): Promise<PingOutcome> {
  const family = net.isIP(address);
  if (family === 0) {
    return Promise.resolve({ kind: 'failure', failure: { reason: FAILURE.CONFIG, detail: `${type} needs an IP address, got ${clip(address)}` } });
  }
  const waitS = String(Math.max(1, Math.ceil(timeoutMs / 1000)));
  // -n: no reverse lookups; -c 1: one echo; -W: seconds to wait for it. The address is an IP, so it cannot be an option.
  const args = [family === 6 ? '-6' : '-4', '-n', '-c', '1', '-W', waitS, address];
  const command = options.command ?? 'ping';
  const env = { ...process.env, LC_ALL: 'C', PATH: options.searchPath ?? process.env.PATH ?? '' };
  const started = performance.now();
  return new Promise<PingOutcome>((resolve) => {
    try {
      execFile(
        command,
        args,
        { env, encoding: 'utf8', maxBuffer: PING_OUTPUT_LIMIT, killSignal: 'SIGKILL', signal, windowsHide: true },
        (err, stdout, stderr) => {
          const elapsed = performance.now() - started;
          resolve(pingOutcome(type, command, err, `${stdout}\n${stderr}`.trim(), elapsed, waitS));
        },
      );
    } catch (err) {
      resolve({ kind: 'failure', failure: { reason: FAILURE.CONFIG, detail: `${missingPingDetail(type)}: ${clip(String(err))}` } });
    }
  });
}

function pingOutcome(type: IcmpMonitorType, command: string, err: Error | null, output: string, elapsedMs: number, waitS: string): PingOutcome {
  const fail = (reason: Failure['reason'], detail: string): PingOutcome => ({ kind: 'failure', failure: { reason, detail } });
  if (!err) {
    const rttMs = rttOf(output);
    return { kind: 'reply', rttMs: rttMs ?? elapsedMs, detail: `echo reply in ${(rttMs ?? elapsedMs).toFixed(3)} ms` };
  }
  const code = errorCode(err);
  if (code === 'ENOENT') return fail(FAILURE.CONFIG, missingPingDetail(type));
  if (code === 'EACCES' || code === 'EPERM') return fail(FAILURE.CONFIG, `${missingPingDetail(type)}: ${command} is not executable (${code})`);
  if (err.name === 'AbortError') return fail(FAILURE.OTHER, 'ping killed at the deadline');
  if (code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') return fail(FAILURE.OTHER, `ping printed more than ${PING_OUTPUT_LIMIT} bytes`);
  if (NOT_PERMITTED.test(output)) {
    return fail(FAILURE.CONFIG, `${type} needs the system ping command to be allowed to send ICMP (${clip(output, 160)}); give ping the cap_net_raw capability or widen net.ipv4.ping_group_range`);
  }
  if (/network is unreachable|net unreachable/i.test(output)) return fail(FAILURE.NETWORK_UNREACHABLE, clip(lastLines(output)));
  if (/host unreachable|no route to host/i.test(output)) return fail(FAILURE.NO_ROUTE, clip(lastLines(output)));
  const exit = 'code' in err && typeof err.code === 'number' ? err.code : undefined;
  // iputils and busybox: exit 1 when no reply came; 2 (or more) for other errors.
  if (exit === 1) return fail(FAILURE.OTHER, `no ICMP echo reply within ${waitS} s`);
  return fail(FAILURE.OTHER, `ping failed${exit === undefined ? '' : ` (exit ${exit})`}: ${clip(output || err.message)}`);
}

/** "time=0.032 ms" of the reply, else the average of the summary line. */
function rttOf(output: string): number | undefined {
  const m = /time[=<]\s*([0-9.]+)\s*ms/.exec(output) ?? /=\s*[0-9.]+\/([0-9.]+)\//.exec(output);
  if (!m) return undefined;
  const v = Number(m[1]);
  return Number.isFinite(v) ? v : undefined;
}

function lastLines(output: string): string {
  return output.split('\n').filter((l) => l.trim() !== '').slice(-2).join(' | ');
}

export function createIcmpProbe(type: IcmpMonitorType, options: PingOptions = {}): Probe {
  return (target, signal) => {
    if (type === 'udp_icmp' && !isValidPort(target.port)) return failed(FAILURE.CONFIG, missingPortDetail(target));
    const timeoutMs = timeoutMsOf(target.monitor);
    const stopPing = new AbortController();
    let phase: 'ping' | 'udp' = 'ping';
    let pingRtt = 0;
    return runAttempt(
      signal,
      timeoutMs,
      (a) => {
        if (phase === 'udp') a.ok({ rttMs: pingRtt, detail: `echo reply; no ICMP port unreachable from port ${target.port} within ${timeoutText(target.monitor)}` });
        else a.fail(FAILURE.OTHER, `no ICMP echo reply within ${timeoutText(target.monitor)}`);
      },
      async (a) => {
        a.onCleanup(() => stopPing.abort());
        const outcome = await ping(type, target.address, timeoutMs, stopPing.signal, options);
        if (a.done) return;
        if (outcome.kind === 'failure') {
          a.failWith(outcome.failure);
          return;
        }
        pingRtt = outcome.rttMs ?? a.elapsedMs();
        if (type === 'icmp_ping') {
          a.ok({ rttMs: pingRtt, detail: outcome.detail });
          return;
        }
        phase = 'udp';
        probeUdpPort(a, target.address, target.port, pingRtt);
      },
    );
  };
}

/** Sends one datagram; fails only on an ICMP port unreachable (ECONNREFUSED), passes on a reply. */
function probeUdpPort(a: Attempt, address: string, port: number, pingRtt: number): void {
  const socket = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
  a.onCleanup(() => socket.close());
  socket.on('error', (err) => {
    if (errorCode(err) === 'ECONNREFUSED') a.fail(FAILURE.OTHER, 'ICMP port unreachable');
    else a.fail(FAILURE.OTHER, `UDP probe failed: ${clip(err.message)}`);
  });
  socket.on('message', () => a.ok({ rttMs: pingRtt, detail: `echo reply; UDP reply from port ${port}` }));
  socket.connect(port, address, () => {
    socket.send(UDP_PAYLOAD, (err) => {
      if (!err) return;
      if (errorCode(err) === 'ECONNREFUSED') a.fail(FAILURE.OTHER, 'ICMP port unreachable');
      else a.fail(FAILURE.OTHER, `UDP probe failed: ${clip(err.message)}`);
    });
  });
}

/**
 * Whether this system can run icmp_ping and udp_icmp probes: pings 127.0.0.1 once. For
 * `check` and the start-up log.
 */
export async function icmpAvailable(options: PingOptions = {}): Promise<{ ok: boolean; detail: string }> {
  const outcome = await ping('icmp_ping', '127.0.0.1', 2000, AbortSignal.timeout(3000), options);
  if (outcome.kind === 'reply') return { ok: true, detail: `system ping works (127.0.0.1: ${outcome.detail})` };
  const d = outcome.failure.detail;
  const detail =
    d === missingPingDetail('icmp_ping')
      ? `icmp_ping and udp_icmp monitors need the system ping command ${PING_PACKAGE_HINT}; \`${options.command ?? 'ping'}\` was not found`
      : `icmp_ping and udp_icmp monitors cannot run: ping 127.0.0.1 failed: ${d}`;
  return { ok: false, detail };
}
