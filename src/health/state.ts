/**
 * The health state machine of one target (one monitor probing one origin), as a pure function
 * of the probe rounds it has seen. Reference: cloudflare-lb.md §2.4 and §3.
 *
 * - A target starts `unknown`, which steering counts as down; its first round decides at once.
 *   A target restored from before a restart starts in its old state instead, until that round.
 * - Afterwards `consecutive_up` successive good rounds turn it healthy and `consecutive_down`
 *   successive bad rounds turn it unhealthy (0 means 1, as Cloudflare's default of 0 behaves).
 * - One round is one verdict however many attempts (retries) and addresses it took.
 * - The smoothed RTT is an exponentially weighted moving average (alpha 0.3: the newest round
 *   weighs 30 %, so a lasting change shows within about 5 rounds and one slow round moves the
 *   average by less than a third) over successful rounds only: a failed round's RTT is
 *   the time to the failure (often the timeout), not a latency. After a failed round the
 *   average restarts at the next successful sample, so a recovering origin does not carry a
 *   latency from before its outage.
 */
import type { FailureReason } from './types.js';

export type HealthState = 'unknown' | 'healthy' | 'unhealthy';

/** Weight of the newest sample in the smoothed RTT. */
export const RTT_ALPHA = 0.3;

/** The outcome of one probe round: every attempt (retries included) on every address. */
export interface RoundResult {
  readonly ok: boolean;
  /** Milliseconds: the mean over the addresses when ok; the failing attempt's when not. */
  readonly rttMs: number;
  /** Why the round failed (the last attempt's reason on the first failing address). */
  readonly reason?: FailureReason;
  /** HTTP status code of the deciding attempt, when one was received. */
  readonly code?: number;
  readonly detail?: string;
  /** When the round finished (clock milliseconds). */
  readonly at: number;
  /** The addresses probed; empty when a hostname did not resolve. */
  readonly addresses: readonly string[];
  /** The failing address, when the round failed on one. */
  readonly address?: string;
  /** Probe attempts made, retries included. */
  readonly attempts: number;
}

/** The monitor fields the state machine reads (a Monitor satisfies it). */
export interface Hysteresis {
  readonly consecutive_up: number;
  readonly consecutive_down: number;
}

export interface TargetState {
  readonly state: HealthState;
  /** When `state` last changed (or the target was created, while unknown). */
  readonly since: number;
  readonly last?: RoundResult;
  /** Successive successful rounds up to and including the last one (0 if it failed). */
  readonly successes: number;
  /** Successive failed rounds up to and including the last one (0 if it succeeded). */
  readonly failures: number;
  /** Smoothed RTT in milliseconds, once a round succeeded. */
  readonly rttMs?: number;
  /** While unhealthy: why (the latest failed round's reason). */
  readonly reason?: FailureReason;
  /** Restored from before a restart: it stands until the first round, which decides at once. */
  readonly restored?: true;
}

export function initialTargetState(now: number): TargetState {
  return { state: 'unknown', since: now, successes: 0, failures: 0 };
}

/** A target's state as it was before a restart, until its first round here. */
export function restoredTargetState(now: number, healthy: boolean): TargetState {
  return { state: healthy ? 'healthy' : 'unhealthy', since: now, successes: 0, failures: 0, restored: true };
}

/** What steering reads: true, false, or undefined while unknown. */
export function healthOf(state: HealthState): boolean | undefined {
  return state === 'healthy' ? true : state === 'unhealthy' ? false : undefined;
}

export function smoothRtt(previous: number | undefined, sample: number): number {
  return previous === undefined ? sample : previous + RTT_ALPHA * (sample - previous);
}

/** How many successive rounds a threshold asks for: 0 (and anything below 1) means 1. */
export function threshold(n: number): number {
  return n >= 1 ? Math.floor(n) : 1;
}

/** The state after one more round. */
export function nextTargetState(prev: TargetState, round: RoundResult, h: Hysteresis): TargetState {
  const successes = round.ok ? prev.successes + 1 : 0;
  const failures = round.ok ? 0 : prev.failures + 1;
  const rttMs = round.ok ? smoothRtt(prev.last?.ok === true ? prev.rttMs : undefined, round.rttMs) : prev.rttMs;

  let state: HealthState = prev.state;
  if (prev.state === 'unknown' || prev.restored) state = round.ok ? 'healthy' : 'unhealthy';
  else if (prev.state === 'healthy' && failures >= threshold(h.consecutive_down)) state = 'unhealthy';
  else if (prev.state === 'unhealthy' && successes >= threshold(h.consecutive_up)) state = 'healthy';

  const since = state === prev.state ? prev.since : round.at;
  const reason = state === 'unhealthy' ? (round.ok ? prev.reason : round.reason) : undefined;
  return { state, since, last: round, successes, failures, rttMs, reason };
}
