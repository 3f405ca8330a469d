/**
 * The health monitor runtime: decides what to probe from the load-balancing configuration,
 * runs probe rounds on a jittered schedule under a global concurrency bound, feeds the state
 * machine (state.ts), and publishes a new immutable HealthView (view.ts) whenever something
 * steering reads has changed. The probe itself, the probe target builder and the resolution
 * of hostname origins are injected, so this file knows no sockets.
 *
 * - Targets: every enabled origin of every enabled pool that has a monitor, whatever its
 *   weight. Pools sharing a monitor and an origin (same address, port, Host and headers)
 *   share one schedule and one state; health is still reported per (pool, origin).
 * - A round: resolve the origin (a hostname afresh each round, at most 8 addresses), probe
 *   every address, retrying a failed attempt at once up to `retries` times. The round passes
 *   only if every address passes; its RTT is the mean over the addresses.
 * - Schedule: first rounds start at once, spread over min(interval, 2 s); then one round per
 *   interval ±10 %, measured from the previous round's start. A round never overlaps the
 *   previous one for the same target: when a round overruns, the ticks it covered are skipped.
 * - Each attempt holds one of `concurrency` slots and gets an AbortSignal that fires at the
 *   monitor timeout + 1 s, a safety net for a probe that overlooks its own timeout.
 * - Logging: each state change once (info up, warn down), each pool and load balancer state
 *   change once (warn on critical), not while some of their origins still await a first
 *   result (they would pass through degraded on the way up); per-probe detail only at debug.
 */
import { setMaxListeners } from 'node:events';
import type { HealthView, LbConfig, LoadBalancer, Monitor, MonitorType, Origin, Pool } from '../lb/model.js';
import type { Logger } from '../log.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import type { HealthData } from './data.js';
import { healthOf, initialTargetState, nextTargetState, restoredTargetState, type HealthState, type RoundResult, type TargetState } from './state.js';
import { FAILURE, type FailureReason, type ProbeResult, type ProbeTarget } from './types.js';
import { Limiter } from './limiter.js';
import type { StateChange } from './events.js';
import {
  entryChanged,
  loadBalancerState,
  poolEntry,
  poolsOf,
  poolState,
  SnapshotHealthView,
  type LoadBalancerState,
  type LoadBalancerSummary,
  type PoolHealthEntry,
  type PoolState,
  type PoolSummary,
} from './view.js';

export const DEFAULT_PROBE_CONCURRENCY = 64;
/** Addresses of one hostname origin probed per round. */
export const MAX_ADDRESSES = 8;
/** First rounds are spread over min(interval, this). */
export const FIRST_ROUND_WINDOW_MS = 2000;
/** Intervals vary by ± this fraction. */
export const INTERVAL_JITTER = 0.1;
/** An attempt is abandoned this long after the monitor timeout. */
export const ABORT_SLACK_MS = 1000;
/** A hostname that did not resolve is looked up again after min(interval, this). */
export const UNRESOLVED_RETRY_MS = 5000;
/** A pool RTT change smaller than this fraction is not worth a new view. */
export const RTT_CHANGE = 0.1;

export interface HealthMonitorOptions {
  /** One probe attempt; should honour the monitor timeout and the signal, and never reject. */
  readonly probe: (target: ProbeTarget, signal: AbortSignal) => Promise<ProbeResult>;
  readonly targetFor: (monitor: Monitor, origin: Origin, address: string) => ProbeTarget;
  /** The addresses to probe: [ip] for an IP origin; undefined or empty when a hostname does not resolve. */
  readonly resolveAddresses: (origin: Origin) => readonly string[] | undefined;
  /** Called with each new view; the previous one stays valid for whoever still holds it. */
  readonly onChange: (view: HealthView) => void;
  /** Told about every probe round's result (metrics); must not throw. */
  readonly onRound?: (monitor: Monitor, round: RoundResult) => void;
  /** Told about each state change as it is logged (origin, pool, load balancer): the status page's list. */
  readonly onStateChange?: (change: StateChange) => void;
  readonly log: Logger;
  readonly clock?: Clock;
  /** Probe attempts running at once, over all monitors. */
  readonly concurrency?: number;
  /** For jitter; Math.random by default. */
  readonly random?: () => number;
}

export interface TargetBinding {
  readonly pool: string;
  readonly origin: string;
}

/** One probe schedule: a monitor and an origin, shared by the (pool, origin) pairs in `bindings`. */
export interface TargetStatus {
  readonly key: string;
  readonly monitor: string;
  readonly type: MonitorType;
  /** The origin's address as configured (IP or hostname). */
  readonly address: string;
  readonly bindings: readonly TargetBinding[];
  readonly state: HealthState;
  readonly since: number;
  readonly running: boolean;
  /** When the last round finished. */
  readonly lastProbe?: number;
  readonly ok?: boolean;
  /** The addresses the last round probed. */
  readonly addresses?: readonly string[];
  readonly reason?: FailureReason;
  readonly detail?: string;
  readonly code?: number;
  /** The last round's RTT. */
  readonly lastRttMs?: number;
  /** Smoothed RTT. */
  readonly rttMs?: number;
  readonly successes: number;
  readonly failures: number;
}

export interface OriginStatus {
  readonly name: string;
  readonly address: string;
  readonly enabled: boolean;
  readonly weight: number;
  /** `unmonitored`: the pool has no monitor; `disabled`: the origin or its pool is disabled. */
  readonly state: HealthState | 'unmonitored' | 'disabled';
  /** The monitor probing it, and the addresses its last round probed. */
  readonly monitor?: string;
  readonly probed?: readonly string[];
  /** Its state stands from before a restart until its first round here. */
  readonly restored?: boolean;
  /** The last failed round's detail (the error, or what the response lacked). */
  readonly detail?: string;
  readonly since?: number;
  readonly lastProbe?: number;
  readonly reason?: FailureReason;
  readonly code?: number;
  readonly rttMs?: number;
}

export interface PoolStatus extends PoolSummary {
  readonly name: string;
  readonly monitor?: string;
  /** When the pool reached its state (undefined until its origins all have a result). */
  readonly since?: number;
  readonly originStatus: readonly OriginStatus[];
}

export interface LoadBalancerStatus extends LoadBalancerSummary {
  readonly name: string;
  /** When the load balancer reached its state (undefined until its origins all have a result). */
  readonly since?: number;
  /** When `answering` last changed. */
  readonly answeringSince?: number;
}

export interface HealthStatus {
  readonly now: number;
  readonly firstRoundDone: boolean;
  readonly targets: readonly TargetStatus[];
  readonly pools: readonly PoolStatus[];
  readonly loadBalancers: readonly LoadBalancerStatus[];
}

interface Check {
  readonly key: string;
  monitor: Monitor;
  /** The first origin bound to this schedule: what is probed. */
  origin: Origin;
  fingerprint: string;
  bindings: readonly TargetBinding[];
  state: TargetState;
  timer?: TimerHandle;
  running: boolean;
  /** The monitor changed during a round: start over when it ends. */
  restart: boolean;
  removed: boolean;
  /** Fires when the check is removed or the monitor stops: cancels its attempts. */
  readonly cancel: AbortController;
}

interface MonitoredPool {
  readonly pool: Pool;
  /** Enabled origin name -> its check. */
  readonly checks: ReadonlyMap<string, Check>;
}

interface Logged<S> {
  state: S;
  since: number;
}

interface LoggedLoadBalancer extends Logged<LoadBalancerState> {
  /** The pools it answered from (LoadBalancerSummary.answering), joined. */
  answering: string;
  answeringSince: number;
}

const CANCELLED: ProbeResult = { ok: false, rttMs: 0, reason: FAILURE.OTHER, detail: 'cancelled' };

export class HealthMonitor {
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly limiter: Limiter;
  private readonly log: Logger;
  private config?: LbConfig;
  private checks = new Map<string, Check>();
  private pools = new Map<string, MonitoredPool>();
  /** Pool name -> names (keys) of the load balancers referencing it. */
  private lbsOfPool = new Map<string, string[]>();
  private published: SnapshotHealthView = SnapshotHealthView.EMPTY;
  private poolLog = new Map<string, Logged<PoolState>>();
  private lbLog = new Map<string, LoggedLoadBalancer>();
  private waiting = 0;
  private firstRoundWaiters: Array<() => void> = [];
  private stopped = true;
  /** Health from before a restart, for the targets the next `start` makes: pool -> origin -> healthy. */
  private restored?: ReadonlyMap<string, ReadonlyMap<string, boolean>>;

  constructor(private readonly opts: HealthMonitorOptions) {
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? Math.random;
    this.limiter = new Limiter(Math.max(1, Math.floor(opts.concurrency ?? DEFAULT_PROBE_CONCURRENCY)));
    this.log = opts.log;
  }

  /**
   * Starts probing `config` (first rounds at once). With `restored` health (from before a
   * restart), an origin it knows starts healthy or unhealthy as it was, until its first round.
   */
  start(config: LbConfig, restored?: HealthData): void {
    this.stopped = false;
    if (restored) this.restored = new Map(restored.pools.map(([pool, , origins]) => [pool, new Map(origins.filter(([, h]) => h !== null).map(([o, h]) => [o, h as boolean]))]));
    this.update(config);
    this.restored = undefined;
  }

  /**
   * A new configuration: targets still present (same monitor name, address, port, Host and
   * headers) keep their state; if their monitor's settings changed they are probed again
   * at once. New targets start probing at once, removed ones stop. Publishes a new view.
   */
  update(config: LbConfig): void {
    if (this.stopped) return;
    interface Wanted { monitor: Monitor; origin: Origin; bindings: TargetBinding[] }
    const wanted = new Map<string, Wanted>();
    const poolKeys = new Map<string, Map<string, string>>();
    for (const pool of config.pools.values()) {
      if (!pool.enabled || pool.monitor === undefined) continue;
      const keys = new Map<string, string>();
      for (const origin of pool.origins) {
        if (!origin.enabled) continue;
        const key = this.keyOf(pool.monitor, origin);
        keys.set(origin.name, key);
        let w = wanted.get(key);
        if (w === undefined) wanted.set(key, (w = { monitor: pool.monitor, origin, bindings: [] }));
        w.bindings.push({ pool: pool.name, origin: origin.name });
      }
      poolKeys.set(pool.name, keys);
    }

    for (const [key, c] of this.checks) if (!wanted.has(key)) this.removeCheck(c);
    const now = this.clock.now();
    for (const [key, w] of wanted) {
      const fingerprint = fingerprintOf(w.monitor);
      const c = this.checks.get(key);
      if (c !== undefined) {
        c.origin = w.origin;
        c.bindings = w.bindings;
        c.monitor = w.monitor;
        if (c.fingerprint !== fingerprint) {
          c.fingerprint = fingerprint;
          this.restartCheck(c);
        }
        continue;
      }
      const cancel = new AbortController();
      // Up to MAX_ADDRESSES attempts and queued slots listen at once; not a leak.
      setMaxListeners(4 * MAX_ADDRESSES, cancel.signal);
      const before = this.restored && w.bindings.map((b) => this.restored!.get(b.pool)?.get(b.origin)).find((h) => h !== undefined);
      const state = before === undefined ? initialTargetState(now) : restoredTargetState(now, before);
      const check: Check = { key, monitor: w.monitor, origin: w.origin, fingerprint, bindings: w.bindings, state, running: false, restart: false, removed: false, cancel };
      this.checks.set(key, check);
      this.waiting++;
      this.scheduleFirst(check);
    }

    this.config = config;
    this.pools = new Map();
    for (const [name, keys] of poolKeys) {
      const pool = config.pools.get(name);
      if (pool === undefined) continue;
      const checks = new Map<string, Check>();
      for (const [originName, key] of keys) {
        const c = this.checks.get(key);
        if (c !== undefined) checks.set(originName, c);
      }
      this.pools.set(name, { pool, checks });
    }
    this.lbsOfPool = new Map();
    for (const [key, lb] of config.loadBalancers) {
      for (const p of poolsOf(lb)) {
        const list = this.lbsOfPool.get(p.name);
        if (list === undefined) this.lbsOfPool.set(p.name, [key]);
        else list.push(key);
      }
    }

    const entries = new Map<string, PoolHealthEntry>();
    for (const [name, mp] of this.pools) entries.set(name, this.entryOf(mp));
    this.publish(new SnapshotHealthView(entries));
    for (const name of this.poolLog.keys()) if (!config.pools.has(name)) this.poolLog.delete(name);
    for (const key of this.lbLog.keys()) if (!config.loadBalancers.has(key)) this.lbLog.delete(key);
    this.logStates(config.pools.keys(), config.loadBalancers.keys());
    this.settleFirstRound();
  }

  /** Stops every schedule and cancels running attempts; no timer is left behind. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const c of this.checks.values()) this.removeCheck(c);
    this.checks = new Map();
    this.waiting = 0;
    this.settleFirstRound();
  }

  /** The current view (the last one handed to onChange). */
  view(): HealthView {
    return this.published;
  }

  /** Targets still waiting for their first round. */
  firstRoundPending(): number {
    return this.waiting;
  }

  /** Every current target has had at least one round. */
  firstRoundDone(): boolean {
    return this.waiting === 0;
  }

  /** Resolves once every current target has had a round (or the monitor stopped). */
  whenFirstRoundDone(): Promise<void> {
    if (this.waiting === 0) return Promise.resolve();
    return new Promise((resolve) => this.firstRoundWaiters.push(resolve));
  }

  /** Attempts running and waiting for a slot (for metrics and tests). */
  load(): { readonly running: number; readonly queued: number } {
    return { running: this.limiter.running, queued: this.limiter.queued };
  }

  status(): HealthStatus {
    const targets: TargetStatus[] = [];
    for (const c of this.checks.values()) targets.push(targetStatus(c));
    const pools: PoolStatus[] = [];
    const lbs: LoadBalancerStatus[] = [];
    const config = this.config;
    if (config !== undefined) {
      for (const pool of config.pools.values()) {
        const summary = poolState(pool, this.published);
        const mp = this.pools.get(pool.name);
        const origins = pool.origins.map((o) => originStatus(pool, o, mp?.checks.get(o.name)));
        const since = this.poolLog.get(pool.name)?.since;
        pools.push({ name: pool.name, monitor: pool.monitor?.name, since, ...summary, originStatus: origins });
      }
      for (const [key, lb] of config.loadBalancers) {
        const logged = this.lbLog.get(key);
        lbs.push({ name: lb.name.toString(), since: logged?.since, answeringSince: logged?.answeringSince, ...loadBalancerState(lb, this.published) });
      }
    }
    return { now: this.clock.now(), firstRoundDone: this.firstRoundDone(), targets, pools, loadBalancers: lbs };
  }

  // ---- Schedule ----

  private keyOf(monitor: Monitor, origin: Origin): string {
    const a = origin.address;
    const address = a.kind === 'hostname' ? a.name.key : a.ip.toLowerCase();
    try {
      // The fields a probe is built from, for any one address of this origin.
      const t = this.opts.targetFor(monitor, origin, a.kind === 'hostname' ? origin.addressText : a.ip);
      return JSON.stringify([monitor.name, address, t.port, t.host.toLowerCase(), sortedHeaders(t.headers)]);
    } catch {
      return JSON.stringify([monitor.name, address, origin.port, sortedHeaders(origin.header)]);
    }
  }

  private scheduleFirst(c: Check): void {
    const window = Math.min(intervalMs(c.monitor), FIRST_ROUND_WINDOW_MS);
    this.arm(c, this.random() * window);
  }

  private arm(c: Check, delayMs: number): void {
    if (c.timer !== undefined) this.clock.clearTimeout(c.timer);
    c.timer = this.clock.setTimeout(() => {
      c.timer = undefined;
      void this.round(c);
    }, delayMs);
  }

  private restartCheck(c: Check): void {
    if (c.running) c.restart = true;
    else this.scheduleFirst(c);
  }

  private removeCheck(c: Check): void {
    if (c.removed) return;
    c.removed = true;
    if (c.timer !== undefined) this.clock.clearTimeout(c.timer);
    c.timer = undefined;
    c.cancel.abort();
    this.checks.delete(c.key);
    if (c.state.last === undefined && this.waiting > 0) this.waiting--;
  }

  /** After a round that started at `started`: the next one, an interval later, never overlapping. */
  private scheduleNext(c: Check, started: number, round: RoundResult): void {
    if (c.restart) {
      c.restart = false;
      this.scheduleFirst(c);
      return;
    }
    const j = 1 + (this.random() * 2 - 1) * INTERVAL_JITTER;
    let period = intervalMs(c.monitor) * j;
    // Resolution is a cache read: an unresolved hostname is looked at again sooner.
    if (round.reason === FAILURE.DNS_UNKNOWN_HOST && round.addresses.length === 0 && c.state.state === 'unhealthy') period = Math.min(period, UNRESOLVED_RETRY_MS);
    const elapsed = this.clock.now() - started;
    let delay = period - elapsed;
    if (delay < 0) {
      // The next tick of this round's grid that is not in the past.
      delay = (period - (elapsed % period)) % period;
      if (this.log.isLevelEnabled('debug')) {
        this.log.debug({ monitor: c.monitor.name, address: c.origin.addressText, elapsedMs: elapsed, intervalMs: period }, 'probe round overran its interval; skipping the missed rounds');
      }
    }
    this.arm(c, delay);
  }

  // ---- Rounds ----

  private async round(c: Check): Promise<void> {
    if (this.stopped || c.removed || c.running) return;
    c.running = true;
    const started = this.clock.now();
    let round: RoundResult;
    try {
      round = await this.probeOrigin(c);
    } catch (err) {
      round = { ok: false, rttMs: 0, reason: FAILURE.OTHER, detail: errorText(err), at: this.clock.now(), addresses: [], attempts: 0 };
    } finally {
      c.running = false;
    }
    if (this.stopped || c.removed) return;
    try {
      this.record(c, round);
    } catch (err) {
      this.log.error({ err, monitor: c.monitor.name, address: c.origin.addressText }, 'health monitor failed to record a probe round');
    }
    this.scheduleNext(c, started, round);
  }

  private async probeOrigin(c: Check): Promise<RoundResult> {
    let resolved: readonly string[] | undefined;
    try {
      resolved = this.opts.resolveAddresses(c.origin);
    } catch {
      resolved = undefined;
    }
    if (resolved === undefined || resolved.length === 0) {
      return { ok: false, rttMs: 0, reason: FAILURE.DNS_UNKNOWN_HOST, detail: `${c.origin.addressText} has no address`, at: this.clock.now(), addresses: [], attempts: 0 };
    }
    const addresses = [...new Set(resolved)].slice(0, MAX_ADDRESSES);
    const results = await Promise.all(addresses.map((a) => this.probeAddress(c, a)));
    const at = this.clock.now();
    let attempts = 0;
    let rttSum = 0;
    for (const r of results) {
      attempts += r.attempts;
      rttSum += r.result.rttMs;
    }
    const failed = results.findIndex((r) => !r.result.ok);
    if (failed < 0) {
      const code = results[0].result.code;
      const round: RoundResult = { ok: true, rttMs: rttSum / results.length, at, addresses, attempts };
      return code === undefined ? round : { ...round, code };
    }
    const f = results[failed].result;
    const address = addresses[failed];
    const detail = addresses.length > 1 ? `${address}: ${f.detail ?? f.reason ?? 'failed'}` : f.detail;
    return { ok: false, rttMs: f.rttMs, reason: f.reason ?? FAILURE.OTHER, code: f.code, detail, at, addresses, address, attempts };
  }

  /** One address: an attempt, retried at once up to `retries` times while it fails. */
  private async probeAddress(c: Check, address: string): Promise<{ result: ProbeResult; attempts: number }> {
    let target: ProbeTarget;
    try {
      target = this.opts.targetFor(c.monitor, c.origin, address);
    } catch (err) {
      return { result: { ok: false, rttMs: 0, reason: FAILURE.CONFIG, detail: errorText(err) }, attempts: 0 };
    }
    const tries = 1 + Math.max(0, Math.floor(c.monitor.retries));
    let result = CANCELLED;
    let attempts = 0;
    for (let i = 0; i < tries && !c.removed && !this.stopped; i++) {
      result = await this.attempt(c, target);
      attempts++;
      if (this.log.isLevelEnabled('debug')) {
        this.log.debug({ monitor: c.monitor.name, address, port: target.port, attempt: attempts, ok: result.ok, rttMs: result.rttMs, reason: result.reason, code: result.code, detail: result.detail }, 'probe');
      }
      if (result.ok) break;
    }
    return { result, attempts };
  }

  /** One attempt under a concurrency slot, abandoned at the timeout + slack or on cancel. */
  private async attempt(c: Check, target: ProbeTarget): Promise<ProbeResult> {
    if (!(await this.limiter.acquire(c.cancel.signal))) return CANCELLED;
    const controller = new AbortController();
    const cancel = c.cancel.signal;
    const onCancel = (): void => controller.abort();
    cancel.addEventListener('abort', onCancel, { once: true });
    let timer: TimerHandle | undefined;
    try {
      if (cancel.aborted) return CANCELLED;
      const t0 = this.clock.now();
      const type = c.monitor.type;
      return await new Promise<ProbeResult>((resolve) => {
        let timedOut = false;
        controller.signal.addEventListener('abort', () => resolve(timedOut ? timeoutResult(type, this.clock.now() - t0) : CANCELLED), { once: true });
        timer = this.clock.setTimeout(() => {
          timedOut = true;
          controller.abort();
        }, Math.max(1, c.monitor.timeout) * 1000 + ABORT_SLACK_MS);
        const failure = (err: unknown): ProbeResult => ({ ok: false, rttMs: this.clock.now() - t0, reason: FAILURE.OTHER, detail: errorText(err) });
        try {
          this.opts.probe(target, controller.signal).then(resolve, (err: unknown) => resolve(failure(err)));
        } catch (err) {
          resolve(failure(err));
        }
      });
    } finally {
      if (timer !== undefined) this.clock.clearTimeout(timer);
      cancel.removeEventListener('abort', onCancel);
      this.limiter.release();
    }
  }

  // ---- State and publishing ----

  private record(c: Check, round: RoundResult): void {
    this.opts.onRound?.(c.monitor, round);
    const prev = c.state;
    const next = nextTargetState(prev, round, c.monitor);
    c.state = next;
    if (prev.last === undefined) this.waiting--;
    if (next.state !== prev.state) this.logTransition(c, prev.state, next, round);

    const changes = new Map<string, PoolHealthEntry>();
    for (const b of c.bindings) {
      if (changes.has(b.pool)) continue;
      const mp = this.pools.get(b.pool);
      if (mp === undefined) continue;
      const entry = this.entryOf(mp);
      if (entryChanged(this.published.entry(b.pool), entry, RTT_CHANGE)) changes.set(b.pool, entry);
    }
    if (changes.size > 0) {
      this.publish(this.published.withPools(changes));
      const lbs = new Set<string>();
      for (const pool of changes.keys()) for (const key of this.lbsOfPool.get(pool) ?? []) lbs.add(key);
      this.logStates(changes.keys(), lbs);
    }
    this.settleFirstRound();
  }

  private entryOf(mp: MonitoredPool): PoolHealthEntry {
    return poolEntry(mp.pool, (o) => {
      const c = mp.checks.get(o.name);
      return c === undefined ? undefined : { healthy: healthOf(c.state.state), rttMs: c.state.rttMs };
    });
  }

  private publish(view: SnapshotHealthView): void {
    this.published = view;
    try {
      this.opts.onChange(view);
    } catch (err) {
      this.log.error({ err }, 'health view listener failed');
    }
  }

  private settleFirstRound(): void {
    if (this.waiting > 0 || this.firstRoundWaiters.length === 0) return;
    const waiters = this.firstRoundWaiters;
    this.firstRoundWaiters = [];
    for (const w of waiters) w();
  }

  // ---- Logging ----

  private logTransition(c: Check, from: HealthState, to: TargetState, round: RoundResult): void {
    const origins = [...new Set(c.bindings.map((b) => b.origin))];
    const fields = {
      origin: origins.join(','),
      pools: [...new Set(c.bindings.map((b) => b.pool))],
      monitor: c.monitor.name,
      address: c.origin.addressText,
      addresses: round.addresses,
      old: from,
      new: to.state,
      reason: round.reason,
      code: round.code,
      rttMs: Math.round(round.rttMs * 10) / 10,
      detail: round.detail,
    };
    const message = to.state === 'healthy' ? `origin ${fields.origin} healthy` : `origin ${fields.origin} unhealthy: ${round.reason ?? FAILURE.OTHER}`;
    if (to.state === 'healthy') this.log.info(fields, message);
    else this.log.warn(fields, message);
    const failed = to.state !== 'healthy';
    this.announce({ at: round.at, kind: 'origin', name: fields.origin, pools: fields.pools, old: from, new: to.state, reason: failed ? fields.reason : undefined, detail: failed ? fields.detail : undefined, message });
  }

  /** Tells the listener (the status page's list of changes); a listener that throws is logged, not fatal. */
  private announce(change: StateChange): void {
    try {
      this.opts.onStateChange?.(change);
    } catch (err) {
      this.log.error({ err }, 'state change listener failed');
    }
  }

  /** Logs the pools and load balancers named whose state differs from the last one logged. */
  private logStates(pools: Iterable<string>, lbs: Iterable<string>): void {
    const config = this.config;
    if (config === undefined) return;
    const now = this.clock.now();
    for (const name of pools) {
      const pool = config.pools.get(name);
      if (pool === undefined) continue;
      const s = poolState(pool, this.published);
      // Settling: while first results come in, the pool passes through states not worth a line.
      if (s.unknown > 0) continue;
      const prev = this.poolLog.get(name);
      if (prev !== undefined && prev.state === s.state) continue;
      this.poolLog.set(name, { state: s.state, since: now });
      // A pool first seen unmonitored or disabled is its starting point, not news.
      if (prev === undefined && (s.state === 'unknown' || s.state === 'unmonitored' || s.state === 'disabled')) continue;
      const fields = { pool: name, old: prev?.state, new: s.state, healthy: s.healthy, enabledOrigins: s.enabledOrigins, usableOrigins: s.usableOrigins, minimum_origins: s.minimumOrigins, rttMs: s.rttMs };
      const msg = `pool ${name} ${s.state}`;
      if (s.state === 'critical') this.log.warn(fields, msg);
      else this.log.info(fields, msg);
      this.announce({ at: now, kind: 'pool', name, old: prev?.state, new: s.state, message: msg });
    }
    for (const key of lbs) {
      const lb = config.loadBalancers.get(key);
      if (lb === undefined) continue;
      this.logLoadBalancer(key, lb, now);
    }
  }

  private logLoadBalancer(key: string, lb: LoadBalancer, now: number): void {
    const s = loadBalancerState(lb, this.published);
    if (s.unknownOrigins > 0) return;
    const prev = this.lbLog.get(key);
    const answering = s.answering.join(' ');
    const stateChanged = prev === undefined || prev.state !== s.state;
    const answeringChanged = prev === undefined || prev.answering !== answering;
    if (!stateChanged && !answeringChanged) return;
    this.lbLog.set(key, { state: s.state, since: stateChanged ? now : prev!.since, answering, answeringSince: answeringChanged ? now : prev!.answeringSince });
    if (prev === undefined && (s.state === 'unknown' || s.state === 'unmonitored')) return;
    const name = lb.name.toString();
    // One line per change, saying from which pools to which and why: what an operator watching a failover looks for.
    const was = prev && answeringChanged ? prev.answering.split(' ') : undefined;
    const left = was?.filter((p) => !s.answering.includes(p)) ?? [];
    const why = left.map((p) => {
      const pool = [...lb.default_pools, lb.fallback_pool].find((d) => d.name === p);
      return pool ? `${p} ${poolState(pool, this.published).state}` : `${p} removed`;
    });
    const fields = { loadBalancer: name, old: prev?.state, new: s.state, fallback: s.fallback, fallbackPool: s.fallbackPool, usableDefaultPools: s.usableDefaultPools, answering: s.answering, was, why: why.length ? why : undefined };
    const since = was ? ` (was ${was.join(', ')}${why.length ? `: ${why.join(', ')}` : ''})` : '';
    let message: string;
    if (s.fallback) this.log.warn(fields, (message = `load balancer ${name} critical: answering from the fallback pool ${s.fallbackPool}${since}`));
    else if (was) this.log.info(fields, (message = `load balancer ${name} now answers from ${s.answering.join(', ')}${since}`));
    else this.log.info(fields, (message = `load balancer ${name} ${s.state}`));
    this.announce({ at: now, kind: 'load_balancer', name, old: prev?.state, new: s.state, answering: s.answering, message });
  }
}

function intervalMs(m: Monitor): number {
  return Math.max(1, m.interval) * 1000;
}

/** Everything of a monitor that changes what or when it probes. */
function fingerprintOf(m: Monitor): string {
  const { source: _source, description: _description, ...rest } = m;
  return JSON.stringify(rest);
}

function sortedHeaders(h: Readonly<Record<string, readonly string[]>>): [string, readonly string[]][] {
  return Object.keys(h)
    .map((k): [string, readonly string[]] => [k.toLowerCase(), h[k]])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function timeoutResult(type: MonitorType, rttMs: number): ProbeResult {
  const reason = type === 'http' || type === 'https' ? FAILURE.HTTP_TIMEOUT : type === 'tcp' || type === 'smtp' ? FAILURE.TCP_TIMEOUT : FAILURE.OTHER;
  return { ok: false, rttMs, reason, detail: 'the probe did not finish within the monitor timeout' };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function targetStatus(c: Check): TargetStatus {
  const s = c.state;
  const last = s.last;
  const base: TargetStatus = {
    key: c.key,
    monitor: c.monitor.name,
    type: c.monitor.type,
    address: c.origin.addressText,
    bindings: c.bindings,
    state: s.state,
    since: s.since,
    running: c.running,
    successes: s.successes,
    failures: s.failures,
    rttMs: s.rttMs,
  };
  if (last === undefined) return base;
  return { ...base, lastProbe: last.at, ok: last.ok, addresses: last.addresses, reason: last.reason, detail: last.detail, code: last.code, lastRttMs: last.rttMs };
}

function originStatus(pool: Pool, o: Origin, c: Check | undefined): OriginStatus {
  const base = { name: o.name, address: o.addressText, enabled: o.enabled, weight: o.weight };
  if (!pool.enabled || !o.enabled) return { ...base, state: 'disabled' };
  if (pool.monitor === undefined || c === undefined) return { ...base, state: 'unmonitored' };
  const s = c.state;
  const failed = s.last?.ok === false;
  return { ...base, state: s.state, monitor: c.monitor.name, probed: s.last?.addresses, restored: s.restored, since: s.since, lastProbe: s.last?.at, reason: failed ? s.last!.reason : undefined, detail: failed ? s.last!.detail : undefined, code: s.last?.code, rttMs: s.rttMs };
}
