/** The status page's traffic history: rates between samples, bounded memory, names coming and going. */
import t from 'tap';
import { TrafficHistory } from '../../src/api/history.js';
import { mergeTallies, type TallyData } from '../../src/api/query-tally.js';

/** A tally with these decisions: [load balancer, [pool, count][]]. */
function tally(decisions: [string, [string, number][]][]): TallyData {
  const empty = mergeTallies([]);
  return { ...empty, decisions: decisions.map(([lb, pools]) => [lb, pools, 0] as const) };
}

t.test('rates per second between samples, per load balancer and per pool', async (t) => {
  const h = new TrafficHistory(5000);
  h.sample(0, tally([]));
  h.sample(5000, tally([['web.', [['primary', 50]]], ['app.', [['us', 10], ['none', 5]]]]));
  h.sample(10_000, tally([['web.', [['primary', 50], ['secondary', 100]]], ['app.', [['us', 10], ['none', 5]]]]));
  const s = h.series();
  t.same(s.times, [5000, 10_000]);
  t.same(s.loadBalancers, [{ name: 'app.', perSecond: [3, 0] }, { name: 'web.', perSecond: [10, 20] }]);
  t.same(s.pools, [{ name: 'primary', perSecond: [10, 0] }, { name: 'secondary', perSecond: [0, 20] }, { name: 'us', perSecond: [2, 0] }], 'NODATA ("none") is no pool');
});

t.test('the ring keeps the window and no more', async (t) => {
  const h = new TrafficHistory(5000, 60_000);
  t.equal(h.capacity, 13);
  for (let i = 0; i < 1000; i++) h.sample(i * 5000, tally([['web.', [['p', i * 10]]]]));
  const s = h.series();
  t.equal(s.times.length, 12, 'twelve intervals of five seconds: a minute');
  t.equal(s.times.at(-1), 999 * 5000, 'the newest last');
  t.same(new Set(s.loadBalancers[0].perSecond), new Set([2]));
});

t.test('a total that went down (a worker replaced) counts as zero, not negative', async (t) => {
  const h = new TrafficHistory(1000);
  h.sample(0, tally([['web.', [['p', 100]]]]));
  h.sample(1000, tally([['web.', [['p', 40]]]]));
  t.same(h.series().loadBalancers, [{ name: 'web.', perSecond: [0] }]);
});

t.test('interval 0: nothing kept', async (t) => {
  const h = new TrafficHistory(0);
  t.equal(h.capacity, 2);
  t.same(h.series().times, []);
});
