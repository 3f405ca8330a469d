/**
 * The health monitor runtime with a fake clock and scripted probes: first rounds, interval
 * jitter, no pile-up, the concurrency bound, retries and hysteresis, publishing immutable
 * views, dedup across pools, reload, stop, hostname origins, status and logging.
 */
import t from 'tap';
import { ABORT_SLACK_MS, DEFAULT_PROBE_CONCURRENCY, HealthMonitor, MAX_ADDRESSES, UNRESOLVED_RETRY_MS } from '../../src/health/monitor.js';
import { systemClock } from '../../src/health/clock.js';
import { SnapshotHealthView } from '../../src/health/view.js';
import { FAILURE } from '../../src/health/types.js';
import type { HealthView, Monitor, Origin, Pool } from '../../src/lb/model.js';
import { lb, monitor, origin, pool } from '../helpers/lb.js';
import { captureLogger, DOWN, harness, INFO, lbConfig, sequence, UP, WARN, type Harness, type LogLine } from '../helpers/health.js';

/** A monitor without retries, interval 60 s, timeout 5 s, unless told. */
function mon(over: Partial<Monitor> = {}, name = 'mon'): Monitor {
  return monitor(name, { retries: 0, ...over });
}

function poolOf(name: string, m: Monitor | undefined, ...addresses: string[]): Pool {
  return pool(name, { monitor: m, origins: addresses.map((a, i) => origin(`${name}${i + 1}`, a)) });
}

function originHealth(v: HealthView, p: Pool): (boolean | undefined)[] {
  return p.origins.map((o) => v.origin(p, o));
}

function msgs(h: Harness, level: number, prefix: string): LogLine[] {
  return h.lines.filter((l) => l.level === level && l.msg.startsWith(prefix));
}

t.test('first rounds start at once, spread over min(interval, 2 s)', async (t) => {
  const h = harness({ random: sequence(0, 0.25, 0.999, 0.5) });
  const p = poolOf('p', mon({ interval: 1 }), '192.0.2.1', '192.0.2.2', '192.0.2.3');
  const t0 = h.clock.now();
  h.monitor.start(lbConfig([p]));
  t.equal(h.monitor.firstRoundDone(), false);
  let done = false;
  void h.monitor.whenFirstRoundDone().then(() => (done = true));
  await h.clock.advance(999);
  t.same(h.probe.calls.map((c) => c.at - t0), [0, 250, 999], 'window = min(1 s interval, 2 s)');
  t.ok(h.monitor.firstRoundDone());
  t.ok(done, 'whenFirstRoundDone resolved');
  t.same(originHealth(h.monitor.view(), p), [true, true, true]);
  h.monitor.stop();

  const h2 = harness({ random: () => 0.999 });
  const p2 = poolOf('p', mon({ interval: 60 }), '192.0.2.1');
  const t1 = h2.clock.now();
  h2.monitor.start(lbConfig([p2]));
  await h2.clock.advance(2000);
  t.equal(h2.probe.calls.length, 1);
  t.ok(h2.probe.calls[0].at - t1 <= 2000, 'a long interval still starts within 2 s');
  h2.monitor.stop();
});

t.test('then one round per interval ±10 %, measured from the round start', async (t) => {
  // First delay, then jitter draws: 0 => -10 %, ~1 => +10 %, 0.5 => exact.
  const h = harness({ random: sequence(0, 0, 0.99999, 0.5, 0, 0.99999, 0.5) });
  h.probe.script('192.0.2.1', { ok: true, delayMs: 300 });
  h.monitor.start(lbConfig([poolOf('p', mon({ interval: 60 }), '192.0.2.1')]));
  await h.clock.advance(7 * 66_000);
  const at = h.probe.calls.map((c) => c.at);
  const gaps = at.slice(1).map((x, i) => x - at[i]);
  t.ok(gaps.length >= 6);
  for (const g of gaps) t.ok(g >= 54_000 && g <= 66_000, `gap ${g} within 60 s ±10 %`);
  t.equal(gaps[0], 54_000, 'lowest draw: -10 %, not shifted by the 300 ms probe');
  t.ok(Math.abs(gaps[1] - 66_000) < 1, 'highest draw: +10 %');
  t.equal(gaps[2], 60_000);
  h.monitor.stop();
});

t.test('a slow origin never gets overlapping rounds; missed ticks are skipped', async (t) => {
  const h = harness();
  // Answers at the 5 s timeout; the interval is 2 s.
  h.probe.script('192.0.2.1', { ok: false, reason: FAILURE.HTTP_TIMEOUT, delayMs: 5000 });
  const t0 = h.clock.now();
  h.monitor.start(lbConfig([poolOf('p', mon({ interval: 2, timeout: 5 }), '192.0.2.1')]));
  await h.clock.advance(20_000);
  t.equal(h.probe.maxPerAddress, 1, 'never two probes at once for one target');
  t.same(h.probe.calls.map((c) => c.at - t0), [1000, 7000, 13000, 19000], 'next round on the first 2 s tick after the slow one ended');
  h.monitor.stop();
});

t.test('a probe that ignores its timeout is abandoned at timeout + slack', async (t) => {
  const h = harness();
  h.probe.script('192.0.2.1', { ok: false, deaf: true });
  const p = poolOf('p', mon({ interval: 2, timeout: 3 }), '192.0.2.1');
  const t0 = h.clock.now();
  h.monitor.start(lbConfig([p]));
  await h.clock.advance(1000 + 3000 + ABORT_SLACK_MS - 1);
  t.equal(h.monitor.firstRoundDone(), false, 'still waiting just before timeout + slack');
  await h.clock.advance(1);
  t.ok(h.monitor.firstRoundDone());
  t.same(originHealth(h.monitor.view(), p), [false]);
  t.equal(h.monitor.status().targets[0].reason, FAILURE.HTTP_TIMEOUT);
  await h.clock.advance(10_000);
  t.equal(h.probe.maxPerAddress, 1);
  t.same(h.probe.calls.map((c) => c.at - t0).slice(0, 3), [1000, 5000, 9000], 'rounds every 4 s (two 2 s ticks)');
  t.same(h.monitor.load(), { running: 1, queued: 0 }, 'the abandoned attempts gave their slots back');
  h.monitor.stop();
});

t.test('the concurrency bound holds with 200 targets', async (t) => {
  const h = harness({ concurrency: 16 });
  const addresses = Array.from({ length: 200 }, (_, i) => `10.0.${Math.floor(i / 100)}.${(i % 100) + 1}`);
  for (const a of addresses) h.probe.script(a, { ok: true, rttMs: 5, delayMs: 500 });
  const p = poolOf('big', mon(), ...addresses);
  h.monitor.start(lbConfig([p]));
  await h.clock.advance(1000); // every first round is due at 1 s (random 0.5)
  t.same(h.monitor.load(), { running: 16, queued: 184 });
  t.ok(await h.clock.advanceUntil(() => h.monitor.firstRoundDone(), 20_000));
  t.equal(h.probe.maxInFlight, 16, 'exactly the bound, never more');
  t.equal(h.probe.calls.length, 200);
  t.ok(originHealth(h.monitor.view(), p).every((x) => x === true));
  t.same(h.monitor.load(), { running: 0, queued: 0 });
  h.monitor.stop();

  t.equal(DEFAULT_PROBE_CONCURRENCY, 64);
  const d = harness();
  for (const a of addresses) d.probe.script(a, { ok: true, delayMs: 500 });
  d.monitor.start(lbConfig([poolOf('big', mon(), ...addresses)]));
  t.ok(await d.clock.advanceUntil(() => d.monitor.firstRoundDone(), 20_000));
  t.equal(d.probe.maxInFlight, 64, 'default bound');
  d.monitor.stop();
});

t.test('retries: immediate, and one round is one result', async (t) => {
  const h = harness();
  const p = poolOf('p', mon({ retries: 2, consecutive_down: 2, interval: 10 }), '192.0.2.1');
  h.probe.script('192.0.2.1', DOWN, UP);
  h.monitor.start(lbConfig([p]));
  await h.clock.advance(5000);
  t.equal(h.probe.calls.length, 2, 'a failure, then a success in the same round');
  t.equal(h.probe.calls[1].at, h.probe.calls[0].at, 'the retry is immediate');
  t.same(originHealth(h.monitor.view(), p), [true], 'counts as a success');

  h.probe.script('192.0.2.1', DOWN, { ok: false, reason: FAILURE.RESET }, { ok: false, reason: FAILURE.HTTP_TIMEOUT, rttMs: 5000 }, DOWN, DOWN, DOWN);
  await h.clock.advance(10_000);
  t.equal(h.probe.calls.length, 5, 'retries 2: three attempts');
  t.same(originHealth(h.monitor.view(), p), [true], 'three failed attempts are one failure (consecutive_down 2)');
  const s = h.monitor.status().targets[0];
  t.match(s, { state: 'healthy', ok: false, reason: FAILURE.HTTP_TIMEOUT, lastRttMs: 5000, failures: 1 }, 'reason and RTT of the last attempt');
  await h.clock.advance(10_000);
  t.equal(h.probe.calls.length, 8);
  t.same(originHealth(h.monitor.view(), p), [false], 'the second failed round');
  h.monitor.stop();
});

t.test('hysteresis end to end, with one log line per change and none per probe at info', async (t) => {
  const h = harness();
  const p = poolOf('p', mon({ consecutive_up: 2, consecutive_down: 2, interval: 10 }), '192.0.2.1');
  h.probe.script('192.0.2.1', UP, DOWN, { ok: false, reason: FAILURE.CODE_MISMATCH, code: 503, rttMs: 7 }, UP, UP, UP);
  h.monitor.start(lbConfig([p]));
  const seen: (boolean | undefined)[] = [];
  for (let i = 0; i < 6; i++) {
    await h.clock.advance(i === 0 ? 1000 : 10_000);
    seen.push(h.monitor.view().origin(p, p.origins[0]));
  }
  t.same(seen, [true, true, false, false, true, true]);
  const up = msgs(h, INFO, 'origin');
  const down = msgs(h, WARN, 'origin');
  t.equal(up.length, 2);
  t.equal(down.length, 1);
  t.match(down[0], { origin: 'p1', pools: ['p'], monitor: 'mon', address: '192.0.2.1', old: 'healthy', new: 'unhealthy', reason: FAILURE.CODE_MISMATCH, code: 503, rttMs: 7 });
  t.match(up[0], { old: 'unknown', new: 'healthy', rttMs: 20 });
  t.match(up[1], { old: 'unhealthy', new: 'healthy' });
  t.same(msgs(h, INFO, 'pool').map((l) => l.new), ['healthy', 'healthy']);
  t.same(msgs(h, WARN, 'pool').map((l) => l.new), ['critical']);
  t.equal(h.lines.filter((l) => l.level >= INFO).length, 6, 'nothing else at info or above');
  t.ok(h.lines.some((l) => l.msg === 'probe' && l.level < INFO), 'probes at debug');
  h.monitor.stop();
});

t.test('publishing: a new immutable view on each change, none without one', async (t) => {
  const h = harness({ random: sequence(0.1, 0.6, 0.5) });
  const p = poolOf('p', mon({ interval: 10 }), '192.0.2.1', '192.0.2.2');
  h.monitor.start(lbConfig([p]));
  t.equal(h.views.length, 1, 'start publishes the (all unknown) view');
  const v0 = h.views[0];
  t.same(originHealth(v0, p), [undefined, undefined]);
  await h.clock.advance(2000);
  t.equal(h.views.length, 3, 'one per change');
  const [, v1, v2] = h.views;
  t.same(originHealth(v1, p), [true, undefined]);
  t.same(originHealth(v2, p), [true, true]);
  t.equal(v2.poolRtt(p), 20);
  t.equal(h.monitor.view(), v2);

  await h.clock.advance(10_000);
  t.equal(h.views.length, 3, 'same results: no new view');

  h.probe.script('192.0.2.1', { ok: true, rttMs: 23 });
  await h.clock.advance(10_000);
  t.equal(h.views.length, 3, 'pool RTT moved by less than 10 %: no new view');

  h.probe.script('192.0.2.1', { ok: true, rttMs: 100 });
  h.probe.script('192.0.2.2', DOWN);
  await h.clock.advance(10_000);
  t.ok(h.views.length >= 5);
  const last = h.views[h.views.length - 1];
  t.same(originHealth(last, p), [true, false]);
  t.ok((last.poolRtt(p) ?? 0) > 40, 'the RTT of the healthy origin only, smoothed');
  // Old views never change.
  t.same(originHealth(v0, p), [undefined, undefined]);
  t.same(originHealth(v1, p), [true, undefined]);
  t.same(originHealth(v2, p), [true, true]);
  t.equal(v2.poolRtt(p), 20);
  t.not(h.views[3], h.views[4]);
  t.ok(Object.isFrozen(last));
  h.monitor.stop();
});

t.test('pools sharing a monitor and an origin share one schedule', async (t) => {
  const h = harness();
  const m = mon({ interval: 10 });
  const a = poolOf('a', m, '192.0.2.50');
  const b = pool('b', { monitor: m, origins: [origin('other-name', '192.0.2.50')] });
  const hosted = pool('c', { monitor: m, origins: [origin('c1', '192.0.2.50', { header: { Host: ['www.example.net'] } })] });
  const otherMonitor = poolOf('d', mon({ interval: 10 }, 'mon2'), '192.0.2.50');
  h.monitor.start(lbConfig([a, b, hosted, otherMonitor]));
  await h.clock.advance(11_500);
  t.equal(h.probe.calls.length, 6, 'three schedules, two rounds each');
  t.same(h.probe.calls.slice(0, 3).map((c) => `${c.monitor} ${c.host}`).sort(), ['mon 192.0.2.50', 'mon www.example.net', 'mon2 192.0.2.50']);
  const st = h.monitor.status();
  t.equal(st.targets.length, 3);
  const shared = st.targets.find((x) => x.bindings.length === 2);
  t.same(shared?.bindings, [{ pool: 'a', origin: 'a1' }, { pool: 'b', origin: 'other-name' }]);
  const v = h.monitor.view();
  t.same([...originHealth(v, a), ...originHealth(v, b), ...originHealth(v, hosted), ...originHealth(v, otherMonitor)], [true, true, true, true], 'health reported per (pool, origin)');

  h.probe.script('192.0.2.50', DOWN);
  await h.clock.advance(10_000);
  t.same([...originHealth(h.monitor.view(), a), ...originHealth(h.monitor.view(), b)], [false, false]);
  const warn = msgs(h, WARN, 'origin').filter((l) => l.monitor === 'mon' && (l.pools as string[]).includes('a'));
  t.equal(warn.length, 1, 'one log line for the shared target');
  t.same(warn[0].pools, ['a', 'b']);
  t.equal(warn[0].origin, 'a1,other-name');
  h.monitor.stop();
});

t.test('disabled pools and origins are not probed; weight 0 and unmonitored', async (t) => {
  const h = harness();
  const m = mon();
  const p = pool('p', {
    monitor: m,
    origins: [origin('on', '192.0.2.1'), origin('zero', '192.0.2.2', { weight: 0 }), origin('off', '192.0.2.3', { enabled: false })],
  });
  const off = pool('off', { monitor: m, enabled: false, origins: [origin('x', '192.0.2.4')] });
  const unmonitored = pool('free', { monitor: undefined, origins: [origin('y', '192.0.2.5')] });
  h.monitor.start(lbConfig([p, off, unmonitored]));
  await h.clock.advance(3000);
  t.same(h.probe.calls.map((c) => c.address).sort(), ['192.0.2.1', '192.0.2.2'], 'enabled origins, whatever their weight');
  t.same(originHealth(h.monitor.view(), p), [true, true, undefined]);
  const pools = h.monitor.status().pools;
  t.match(pools.find((x) => x.name === 'p')?.originStatus, [{ name: 'on', state: 'healthy' }, { name: 'zero', state: 'healthy' }, { name: 'off', state: 'disabled' }]);
  t.match(pools.find((x) => x.name === 'off'), { state: 'disabled', originStatus: [{ state: 'disabled' }] });
  t.match(pools.find((x) => x.name === 'free'), { state: 'unmonitored', monitored: false, originStatus: [{ state: 'unmonitored' }] });
  h.monitor.stop();
});

t.test('update keeps the state of unchanged targets, starts new ones, drops removed ones', async (t) => {
  const h = harness();
  const m = mon({ interval: 60 });
  const before = poolOf('p', m, '192.0.2.1', '192.0.2.2');
  const gone = poolOf('gone', m, '192.0.2.9');
  h.monitor.start(lbConfig([before, gone]));
  await h.clock.advance(2000);
  t.equal(h.probe.calls.length, 3);

  // A reload: new objects, same names and addresses for p1; p2 removed, p3 and q new, `gone` gone.
  const m2 = mon({ interval: 60 });
  const after = pool('p', { monitor: m2, origins: [origin('p1', '192.0.2.1'), origin('p3', '192.0.2.3')] });
  const q = poolOf('q', m2, '192.0.2.4');
  const viewsBefore = h.views.length;
  h.monitor.update(lbConfig([after, q]));
  t.equal(h.views.length, viewsBefore + 1, 'a reload publishes a view for the new configuration');
  const v = h.monitor.view();
  t.same(originHealth(v, after), [true, undefined], 'kept target still healthy, the new one unknown');
  t.equal(v.origin(gone, gone.origins[0]), undefined, 'removed pool: no entry');
  t.equal(h.monitor.status().targets.length, 3);
  t.notOk(h.monitor.firstRoundDone(), 'new targets have had no round yet');

  await h.clock.advance(2000);
  t.same(h.probe.calls.slice(3).map((c) => c.address).sort(), ['192.0.2.3', '192.0.2.4'], 'only the new targets are probed at once');
  t.ok(h.monitor.firstRoundDone());
  await h.clock.advance(120_000);
  t.equal(h.probe.callsTo('192.0.2.2').length, 1, 'removed origin never probed again');
  t.equal(h.probe.callsTo('192.0.2.9').length, 1, 'removed pool never probed again');
  t.same(h.probe.callsTo('192.0.2.1').map((c) => c.at - h.probe.calls[0].at), [0, 60_000, 120_000], 'kept target keeps its schedule');
  t.equal(h.clock.pending(), 3, 'one timer per live target, none left by removed ones');
  h.monitor.stop();
});

t.test('update with changed monitor settings keeps the state and probes again at once', async (t) => {
  const h = harness();
  const p = poolOf('p', mon({ interval: 60 }), '192.0.2.1');
  h.monitor.start(lbConfig([p]));
  await h.clock.advance(2000);
  t.equal(h.probe.calls.length, 1);
  const changed = poolOf('p', mon({ interval: 60, path: '/health' }), '192.0.2.1');
  h.probe.script('192.0.2.1', DOWN);
  h.monitor.update(lbConfig([changed]));
  t.same(originHealth(h.monitor.view(), changed), [true], 'not reset to unknown');
  await h.clock.advance(2000);
  t.equal(h.probe.calls.length, 2, 'probed again within the first-round window');
  t.same(originHealth(h.monitor.view(), changed), [false]);

  // A change while a round runs: the new settings start when it ends.
  h.probe.script('192.0.2.1', { ok: true, delayMs: 3000 });
  await h.clock.advance(59_100);
  t.equal(h.probe.calls.length, 3);
  h.monitor.update(lbConfig([poolOf('p', mon({ interval: 60, path: '/other' }), '192.0.2.1')]));
  await h.clock.advance(3000 + 2000);
  t.equal(h.probe.calls.length, 4, 'a fresh round after the running one');
  t.equal(h.probe.maxPerAddress, 1);
  h.monitor.stop();
});

t.test('stop leaves no timer and no running probe behind', async (t) => {
  const h = harness({ concurrency: 2 });
  const addresses = ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4'];
  for (const a of addresses) h.probe.script(a, { ok: true, delayMs: 10_000 });
  h.monitor.start(lbConfig([poolOf('p', mon(), ...addresses)]));
  await h.clock.advance(1500);
  t.same(h.monitor.load(), { running: 2, queued: 2 });
  const waiting = h.monitor.whenFirstRoundDone();
  const views = h.views.length;
  h.monitor.stop();
  await h.clock.settle();
  await waiting;
  t.pass('whenFirstRoundDone resolves on stop');
  t.equal(h.clock.pending(), 0, 'no timers: neither schedules nor probe safety nets');
  t.equal(h.probe.inFlight, 0, 'running probes were aborted');
  t.same(h.monitor.load(), { running: 0, queued: 0 });
  await h.clock.advance(120_000);
  t.equal(h.probe.calls.length, 2, 'queued attempts never started');
  t.equal(h.views.length, views, 'nothing published after stop');
  h.monitor.update(lbConfig([poolOf('p', mon(), '192.0.2.7')]));
  await h.clock.advance(5000);
  t.equal(h.clock.pending(), 0, 'update after stop does nothing');

  h.monitor.start(lbConfig([poolOf('p', mon(), '192.0.2.8')]));
  await h.clock.advance(2000);
  t.equal(h.probe.callsTo('192.0.2.8').length, 1, 'start again after stop');
  h.monitor.stop();
  t.equal(h.clock.pending(), 0);
});

t.test('the system clock does not keep the process alive', async (t) => {
  let fired = false;
  const handle = systemClock.setTimeout(() => (fired = true), 60_000);
  t.equal((handle as NodeJS.Timeout).hasRef(), false, 'unref');
  systemClock.clearTimeout(handle);
  t.notOk(fired);
  t.ok(Math.abs(systemClock.now() - Date.now()) < 1000);

  // A real monitor with a hanging probe: stop clears everything at once.
  const { log } = captureLogger();
  const m = new HealthMonitor({
    probe: () => new Promise(() => undefined),
    targetFor: (monitor, o: Origin, address) => ({ monitor, address, port: 80, host: address, headers: {} }),
    resolveAddresses: () => ['192.0.2.1'],
    onChange: () => undefined,
    log,
  });
  m.start(lbConfig([poolOf('p', mon({ interval: 1 }), '192.0.2.1')]));
  m.stop();
  t.ok(m.firstRoundDone());
});

t.test('hostname origins: every address must pass; RTT is the mean', async (t) => {
  const h = harness();
  h.names.set('multi.example', ['198.51.100.1', '198.51.100.2', '2001:db8::1']);
  const p = poolOf('p', mon({ interval: 10 }), 'multi.example');
  h.probe.script('198.51.100.1', { ok: true, rttMs: 10 });
  h.probe.script('198.51.100.2', { ok: true, rttMs: 20 });
  h.probe.script('2001:db8::1', { ok: true, rttMs: 30 });
  h.monitor.start(lbConfig([p]));
  await h.clock.advance(5000);
  t.same(h.probe.calls.map((c) => c.address), ['198.51.100.1', '198.51.100.2', '2001:db8::1']);
  t.ok(h.probe.calls.every((c) => c.host === 'multi.example'), 'targets built per address');
  t.same(originHealth(h.monitor.view(), p), [true]);
  t.equal(h.monitor.view().poolRtt(p), 20);

  h.probe.script('198.51.100.2', { ok: false, reason: FAILURE.TCP_FAILED, rttMs: 4 });
  await h.clock.advance(10_000);
  t.same(originHealth(h.monitor.view(), p), [false], 'one address down: the origin is down');
  t.match(h.monitor.status().targets[0], { reason: FAILURE.TCP_FAILED, detail: /^198\.51\.100\.2: /, addresses: ['198.51.100.1', '198.51.100.2', '2001:db8::1'] });
  t.match(msgs(h, WARN, 'origin')[0], { address: 'multi.example', reason: FAILURE.TCP_FAILED });
  h.monitor.stop();
});

t.test(`hostname origins: at most ${MAX_ADDRESSES} addresses, duplicates once`, async (t) => {
  const h = harness();
  const many = Array.from({ length: 12 }, (_, i) => `198.51.100.${i + 1}`);
  h.names.set('many.example', [...many, '198.51.100.1']);
  h.monitor.start(lbConfig([poolOf('p', mon(), 'many.example')]));
  await h.clock.advance(3000);
  t.same(h.probe.calls.map((c) => c.address), many.slice(0, MAX_ADDRESSES));
  h.monitor.stop();
});

t.test('unresolvable hostnames are down with DNS Unknown Host, and looked at again soon', async (t) => {
  const h = harness();
  const p = poolOf('p', mon({ interval: 60 }), 'gone.example', 'empty.example');
  h.names.set('empty.example', []);
  h.monitor.start(lbConfig([p]));
  await h.clock.advance(2000);
  t.equal(h.probe.calls.length, 0, 'nothing to probe');
  t.same(originHealth(h.monitor.view(), p), [false, false]);
  t.ok(h.monitor.firstRoundDone(), 'an unresolvable origin has its result');
  const targets = h.monitor.status().targets;
  t.same(targets.map((x) => x.reason), [FAILURE.DNS_UNKNOWN_HOST, FAILURE.DNS_UNKNOWN_HOST]);
  t.same(targets.map((x) => x.addresses), [[], []]);

  h.names.set('gone.example', ['198.51.100.9']);
  await h.clock.advance(UNRESOLVED_RETRY_MS);
  t.same(originHealth(h.monitor.view(), p), [true, false], `resolved again within ${UNRESOLVED_RETRY_MS} ms, not a whole interval`);
  t.equal(h.probe.calls.length, 1);
  h.monitor.stop();
});

t.test('pool and load balancer states are logged once per change', async (t) => {
  const h = harness();
  const m = mon({ interval: 10 });
  const a = poolOf('a', m, '192.0.2.1', '192.0.2.2');
  const b = poolOf('b', m, '192.0.2.3');
  const web = lb({ name: 'web.example.com.', default_pools: [a, b] });
  h.monitor.start(lbConfig([a, b], [web]));
  await h.clock.advance(2000);
  t.same(msgs(h, INFO, 'pool').map((l) => `${l.pool} ${l.new}`), ['a healthy', 'b healthy']);
  t.same(msgs(h, INFO, 'load balancer').map((l) => l.new), ['healthy'], 'not logged while first results come in');

  h.probe.script('192.0.2.1', DOWN);
  await h.clock.advance(10_000);
  t.match(msgs(h, INFO, 'pool a degraded'), [{ old: 'healthy', new: 'degraded', healthy: 1, enabledOrigins: 2 }]);
  h.probe.script('192.0.2.2', DOWN);
  h.probe.script('192.0.2.3', DOWN);
  await h.clock.advance(10_000);
  t.same(msgs(h, WARN, 'pool').map((l) => `${l.pool} ${l.new}`), ['a critical', 'b critical']);
  const critical = msgs(h, WARN, 'load balancer');
  t.equal(critical.length, 1);
  t.match(critical[0], { loadBalancer: 'web.example.com.', new: 'critical', fallback: true, fallbackPool: 'b' });
  const lines = h.lines.length;
  await h.clock.advance(30_000);
  t.equal(h.lines.filter((l, i) => i >= lines && l.level >= INFO).length, 0, 'no repeats while nothing changes');

  const st = h.monitor.status();
  t.match(st.loadBalancers, [{ name: 'web.example.com.', state: 'critical', fallback: true }]);
  t.match(st.pools, [{ name: 'a', state: 'critical', monitor: 'mon', healthy: 0 }, { name: 'b', state: 'critical' }]);
  h.monitor.stop();
});

t.test('a load balancer that moves to another pool says so in one line: from where, to where, why', async (t) => {
  const h = harness();
  const m = mon({ interval: 10 });
  const a = poolOf('a', m, '192.0.2.1');
  const b = poolOf('b', m, '192.0.2.3');
  const c = poolOf('c', undefined, '192.0.2.9');
  const web = lb({ name: 'web.example.com.', default_pools: [a, b], fallback_pool: c });
  h.monitor.start(lbConfig([a, b, c], [web]));
  await h.clock.advance(2000);
  const t1 = h.clock.now();
  t.match(h.monitor.status().loadBalancers, [{ answering: ['a'] }]);
  h.probe.script('192.0.2.1', DOWN);
  await h.clock.advance(10_000);
  const moved = msgs(h, INFO, 'load balancer web.example.com. now answers');
  t.equal(moved.length, 1);
  t.equal(moved[0].msg, 'load balancer web.example.com. now answers from b (was a: a critical)');
  t.match(moved[0], { answering: ['b'], was: ['a'], why: ['a critical'] });
  const st = h.monitor.status().loadBalancers[0];
  t.same(st.answering, ['b']);
  t.ok(st.answeringSince! > t1, 'since when');
  h.probe.script('192.0.2.3', DOWN);
  await h.clock.advance(10_000);
  t.match(msgs(h, WARN, 'load balancer'), [{ msg: 'load balancer web.example.com. critical: answering from the fallback pool c (was b: b critical)', new: 'critical' }]);
  h.monitor.stop();
});

t.test('status: per target and per pool records', async (t) => {
  const h = harness();
  const p = poolOf('p', mon({ interval: 10 }), '192.0.2.1', '192.0.2.2');
  h.probe.script('192.0.2.2', { ok: false, reason: FAILURE.CODE_MISMATCH, code: 500, rttMs: 12 });
  const t0 = h.clock.now();
  let st = h.monitor.status();
  t.same(st.targets, [], 'before start');
  h.monitor.start(lbConfig([p]));
  st = h.monitor.status();
  t.match(st.targets[0], { monitor: 'mon', type: 'http', address: '192.0.2.1', state: 'unknown', since: t0, running: false });
  t.equal(st.targets[0].lastProbe, undefined);
  t.equal(st.firstRoundDone, false);
  t.match(st.pools, [{ name: 'p', state: 'unknown', unknown: 2, originStatus: [{ state: 'unknown' }, { state: 'unknown' }] }]);
  t.equal(st.pools[0].since, undefined, 'no settled pool state yet');
  await h.clock.advance(2000);
  st = h.monitor.status();
  t.equal(st.now, t0 + 2000);
  t.ok(st.firstRoundDone);
  t.match(st.targets, [
    { address: '192.0.2.1', state: 'healthy', ok: true, since: t0 + 1000, lastProbe: t0 + 1000, rttMs: 20, lastRttMs: 20, code: 200, successes: 1, failures: 0, bindings: [{ pool: 'p', origin: 'p1' }] },
    { address: '192.0.2.2', state: 'unhealthy', ok: false, reason: FAILURE.CODE_MISMATCH, code: 500, lastRttMs: 12, failures: 1 },
  ]);
  t.equal(st.targets[1].rttMs, undefined, 'no smoothed RTT without a success');
  t.match(st.pools, [{
    name: 'p', state: 'degraded', since: t0 + 1000, healthy: 1, unhealthy: 1, rttMs: 20,
    originStatus: [
      { name: 'p1', state: 'healthy', lastProbe: t0 + 1000, rttMs: 20, code: 200 },
      { name: 'p2', state: 'unhealthy', reason: FAILURE.CODE_MISMATCH, code: 500 },
    ],
  }]);
  t.equal(st.pools[0].originStatus[0].reason, undefined);
  h.monitor.stop();
});

t.test('a throwing listener or probe does not stop the monitor', async (t) => {
  let calls = 0;
  const h = harness({
    onChange: () => {
      throw new Error('listener broke');
    },
    probe: () => {
      calls++;
      if (calls === 1) throw new Error('probe broke');
      return Promise.resolve({ ok: true, rttMs: 1 });
    },
  });
  const p = poolOf('p', mon({ interval: 10 }), '192.0.2.1');
  h.monitor.start(lbConfig([p]));
  await h.clock.advance(2000);
  t.same(originHealth(h.monitor.view(), p), [false]);
  t.equal(h.monitor.status().targets[0].detail, 'probe broke');
  await h.clock.advance(10_000);
  t.same(originHealth(h.monitor.view(), p), [true], 'the view is kept even when the listener throws');
  t.ok(h.lines.some((l) => l.msg === 'health view listener failed'));
  h.monitor.stop();
});

t.test('the view before start is empty', async (t) => {
  const h = harness();
  t.equal(h.monitor.view(), SnapshotHealthView.EMPTY);
  t.ok(h.monitor.firstRoundDone(), 'nothing to wait for');
  await h.monitor.whenFirstRoundDone();
});
