/**
 * Test doubles for the health monitor: a scripted fake probe timed by the fake clock, a fake
 * resolver, a logger that keeps its lines, and a harness wiring them to a HealthMonitor.
 */
import { pino } from 'pino';
import type { Logger } from '../../src/log.js';
import type { HealthView, LbConfig, LoadBalancer, Monitor, Origin, Pool } from '../../src/lb/model.js';
import { HealthMonitor, type HealthMonitorOptions } from '../../src/health/monitor.js';
import type { FailureReason, ProbeResult, ProbeTarget } from '../../src/health/types.js';
import { FAILURE } from '../../src/health/types.js';
import { FakeClock } from './clock.js';

/** What one attempt does: its verdict, how long it takes, or hang until aborted. */
export interface Step {
  readonly ok: boolean;
  readonly rttMs?: number;
  readonly reason?: FailureReason;
  readonly code?: number;
  /** Fake-clock milliseconds before answering (default 0). */
  readonly delayMs?: number;
  /** Never answer unless aborted. */
  readonly hang?: boolean;
  /** Ignore the abort signal too (a broken probe). */
  readonly deaf?: boolean;
}

export const UP: Step = { ok: true, rttMs: 20, code: 200 };
export const DOWN: Step = { ok: false, rttMs: 3, reason: FAILURE.TCP_FAILED };

export interface Call {
  readonly address: string;
  readonly port: number;
  readonly host: string;
  readonly monitor: string;
  readonly at: number;
}

/**
 * A probe scripted per address: `script(address, ...steps)` queues steps, the last one repeats.
 * Addresses without a script answer UP.
 */
export class FakeProbe {
  readonly calls: Call[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private readonly perAddress = new Map<string, number>();
  maxPerAddress = 0;
  private readonly scripts = new Map<string, Step[]>();

  constructor(private readonly clock: FakeClock) {}

  script(address: string, ...steps: Step[]): void {
    this.scripts.set(address, [...steps]);
  }

  callsTo(address: string): Call[] {
    return this.calls.filter((c) => c.address === address);
  }

  private next(address: string): Step {
    const q = this.scripts.get(address);
    if (q === undefined || q.length === 0) return UP;
    return q.length > 1 ? (q.shift() as Step) : q[0];
  }

  readonly probe = (target: ProbeTarget, signal: AbortSignal): Promise<ProbeResult> => {
    const step = this.next(target.address);
    this.calls.push({ address: target.address, port: target.port, host: target.host, monitor: target.monitor.name, at: this.clock.now() });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const mine = (this.perAddress.get(target.address) ?? 0) + 1;
    this.perAddress.set(target.address, mine);
    this.maxPerAddress = Math.max(this.maxPerAddress, mine);
    const t0 = this.clock.now();
    return new Promise<ProbeResult>((resolve) => {
      let done = false;
      const finish = (r: ProbeResult): void => {
        if (done) return;
        done = true;
        this.inFlight--;
        this.perAddress.set(target.address, (this.perAddress.get(target.address) ?? 1) - 1);
        if (timer !== undefined) this.clock.clearTimeout(timer);
        resolve(r);
      };
      const result: ProbeResult = step.ok
        ? { ok: true, rttMs: step.rttMs ?? 20, code: step.code }
        : { ok: false, rttMs: step.rttMs ?? 0, reason: step.reason ?? FAILURE.TCP_FAILED, code: step.code };
      let timer: ReturnType<FakeClock['setTimeout']> | undefined;
      if (!step.deaf) {
        signal.addEventListener('abort', () => finish({ ok: false, rttMs: this.clock.now() - t0, reason: FAILURE.HTTP_TIMEOUT }), { once: true });
      } else {
        // Still count it as finished for the in-flight bookkeeping, without answering.
        signal.addEventListener('abort', () => {
          if (!done) {
            done = true;
            this.inFlight--;
            this.perAddress.set(target.address, (this.perAddress.get(target.address) ?? 1) - 1);
          }
        }, { once: true });
      }
      if (step.hang || step.deaf) return;
      if (!step.delayMs) {
        finish(result);
        return;
      }
      timer = this.clock.setTimeout(() => finish(result), step.delayMs);
    });
  };
}

/** Like the real builder: origin port, else monitor port, else 80; Host origin > monitor > address. */
export function fakeTargetFor(monitor: Monitor, origin: Origin, address: string): ProbeTarget {
  const host = origin.header.Host?.[0] ?? monitor.header.Host?.[0] ?? origin.addressText;
  const headers: Record<string, readonly string[]> = {};
  for (const [k, v] of Object.entries(monitor.header)) if (k !== 'Host') headers[k] = v;
  return { monitor, address, port: monitor.port || origin.port || 80, host, headers };
}

/** IP origins resolve to themselves; hostnames (written without the trailing dot) through `names`. */
export function fakeResolver(names: Map<string, readonly string[] | undefined> = new Map()): (o: Origin) => readonly string[] | undefined {
  return (o) => (o.address.kind === 'hostname' ? names.get(o.addressText.replace(/\.$/, '')) : [o.address.ip]);
}

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export const INFO = 30;
export const WARN = 40;

export function captureLogger(level = 'debug'): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = pino({ level }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return { log, lines };
}

export function lbConfig(pools: readonly Pool[], lbs: readonly LoadBalancer[] = []): LbConfig {
  const monitors = new Map<string, Monitor>();
  for (const p of pools) if (p.monitor) monitors.set(p.monitor.name, p.monitor);
  return {
    monitors,
    pools: new Map(pools.map((p) => [p.name, p])),
    loadBalancers: new Map(lbs.map((l) => [l.name.key, l])),
  };
}

/** A sequence of random values, repeating the last one. */
export function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)];
}

export interface Harness {
  readonly clock: FakeClock;
  readonly probe: FakeProbe;
  readonly lines: LogLine[];
  readonly views: HealthView[];
  readonly names: Map<string, readonly string[] | undefined>;
  readonly monitor: HealthMonitor;
}

export function harness(over: Partial<HealthMonitorOptions> = {}): Harness {
  const clock = new FakeClock();
  const probe = new FakeProbe(clock);
  const { log, lines } = captureLogger();
  const views: HealthView[] = [];
  const names = new Map<string, readonly string[] | undefined>();
  const monitor = new HealthMonitor({
    probe: probe.probe,
    targetFor: fakeTargetFor,
    resolveAddresses: fakeResolver(names),
    onChange: (v) => views.push(v),
    log,
    clock,
    random: () => 0.5,
    ...over,
  });
  return { clock, probe, lines, views, names, monitor };
}
