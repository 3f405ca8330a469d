/**
 * The per-target state machine as tables: the first result decides, consecutive_up and
 * consecutive_down give hysteresis (0 means 1), counters, since, reason and smoothed RTT.
 */
import t from 'tap';
import { healthOf, initialTargetState, nextTargetState, RTT_ALPHA, smoothRtt, threshold, type HealthState, type Hysteresis, type RoundResult, type TargetState } from '../../src/health/state.js';
import { FAILURE } from '../../src/health/types.js';

function round(ok: boolean, at: number, rttMs = 10): RoundResult {
  return ok
    ? { ok, rttMs, at, addresses: ['192.0.2.1'], attempts: 1 }
    : { ok, rttMs, at, reason: FAILURE.TCP_FAILED, addresses: ['192.0.2.1'], attempts: 3, address: '192.0.2.1' };
}

/** Runs a string of rounds ('+' success, '-' failure) and returns the state after each. */
function run(pattern: string, h: Hysteresis): { states: HealthState[]; last: TargetState } {
  let s = initialTargetState(0);
  const states: HealthState[] = [];
  let at = 0;
  for (const c of pattern) {
    at += 1000;
    s = nextTargetState(s, round(c === '+', at), h);
    states.push(s.state);
  }
  return { states, last: s };
}

const U = 'healthy';
const D = 'unhealthy';

interface Row {
  readonly name: string;
  readonly up: number;
  readonly down: number;
  readonly rounds: string;
  readonly want: HealthState[];
}

const rows: Row[] = [
  { name: 'first success decides at once', up: 3, down: 3, rounds: '+', want: [U] },
  { name: 'first failure decides at once', up: 3, down: 3, rounds: '-', want: [D] },
  { name: '0/0 behaves as 1/1: every round decides', up: 0, down: 0, rounds: '+-+-', want: [U, D, U, D] },
  { name: '1/1 flaps with every change', up: 1, down: 1, rounds: '+--++', want: [U, D, D, U, U] },
  { name: 'consecutive_down 2: one failure is tolerated', up: 1, down: 2, rounds: '+-+-', want: [U, U, U, U] },
  { name: 'consecutive_down 2: two failures in a row go down', up: 1, down: 2, rounds: '+--', want: [U, U, D] },
  { name: 'consecutive_down 3: counts only successive failures', up: 1, down: 3, rounds: '+--+---', want: [U, U, U, U, U, U, D] },
  { name: 'consecutive_up 3: needs three successes after a failure', up: 3, down: 1, rounds: '-+++', want: [D, D, D, U] },
  { name: 'consecutive_up 2: an interrupted streak starts over', up: 2, down: 1, rounds: '-+-++', want: [D, D, D, D, U] },
  { name: 'consecutive_up applies after a first healthy result went down', up: 2, down: 1, rounds: '+-++', want: [U, D, D, U] },
  { name: 'negative thresholds behave as 1', up: -1, down: -5, rounds: '+-+', want: [U, D, U] },
];

t.test('state transitions', async (t) => {
  for (const r of rows) {
    t.same(run(r.rounds, { consecutive_up: r.up, consecutive_down: r.down }).states, r.want, r.name);
  }
});

t.test('initial state is unknown, which steering reads as undefined', async (t) => {
  const s = initialTargetState(123);
  t.equal(s.state, 'unknown');
  t.equal(s.since, 123);
  t.equal(s.last, undefined);
  t.equal(healthOf('unknown'), undefined);
  t.equal(healthOf('healthy'), true);
  t.equal(healthOf('unhealthy'), false);
});

t.test('threshold: 0 means 1', async (t) => {
  t.same([0, 1, 2, 5, -3, 2.7].map(threshold), [1, 1, 2, 5, 1, 2]);
});

t.test('counters, since and reason', async (t) => {
  const h = { consecutive_up: 2, consecutive_down: 2 };
  let s = initialTargetState(0);
  s = nextTargetState(s, round(true, 1000), h);
  t.match(s, { state: 'healthy', since: 1000, successes: 1, failures: 0, reason: undefined });
  s = nextTargetState(s, round(false, 2000), h);
  t.match(s, { state: 'healthy', since: 1000, successes: 0, failures: 1, reason: undefined }, 'a tolerated failure keeps since and sets no reason');
  t.equal(s.last?.reason, FAILURE.TCP_FAILED, 'the last result carries the reason');
  s = nextTargetState(s, round(false, 3000), h);
  t.match(s, { state: 'unhealthy', since: 3000, failures: 2, reason: FAILURE.TCP_FAILED });
  s = nextTargetState(s, round(true, 4000), h);
  t.match(s, { state: 'unhealthy', since: 3000, successes: 1, reason: FAILURE.TCP_FAILED }, 'still down: the reason stays');
  s = nextTargetState(s, round(true, 5000), h);
  t.match(s, { state: 'healthy', since: 5000, successes: 2, reason: undefined });
});

t.test('reason follows the latest failed round while down', async (t) => {
  const h = { consecutive_up: 1, consecutive_down: 1 };
  let s = nextTargetState(initialTargetState(0), round(false, 1), h);
  s = nextTargetState(s, { ...round(false, 2), reason: FAILURE.HTTP_TIMEOUT }, h);
  t.equal(s.reason, FAILURE.HTTP_TIMEOUT);
});

t.test('smoothed RTT: EWMA over successful rounds, restarted after a failure', async (t) => {
  t.equal(RTT_ALPHA, 0.3);
  t.equal(smoothRtt(undefined, 40), 40);
  t.equal(smoothRtt(100, 200), 130);
  const h = { consecutive_up: 1, consecutive_down: 3 };
  let s = initialTargetState(0);
  s = nextTargetState(s, round(true, 1, 100), h);
  t.equal(s.rttMs, 100, 'the first sample');
  s = nextTargetState(s, round(true, 2, 200), h);
  t.equal(s.rttMs, 130);
  s = nextTargetState(s, round(false, 3, 5000), h);
  t.equal(s.rttMs, 130, 'a failed round does not feed the average (its RTT is the time to fail)');
  s = nextTargetState(s, round(true, 4, 50), h);
  t.equal(s.rttMs, 50, 'after a failure the average restarts');
  s = nextTargetState(s, round(true, 5, 150), h);
  t.equal(s.rttMs, 80);
});

t.test('the state object is never changed in place', async (t) => {
  const h = { consecutive_up: 1, consecutive_down: 1 };
  const a = nextTargetState(initialTargetState(0), round(true, 1), h);
  const copy = { ...a };
  const b = nextTargetState(a, round(false, 2), h);
  t.not(a, b);
  t.same(a, copy);
});
