/** The bounded list of recent state changes the status page shows. */
import t from 'tap';
import { RecentChanges, type StateChange } from '../../src/health/events.js';

const change = (i: number): StateChange => ({ at: i, kind: 'origin', name: `o${i}`, new: 'healthy', message: `origin o${i} healthy` });

t.test('newest first, at most the capacity', async (t) => {
  const r = new RecentChanges(3);
  t.same(r.list(), []);
  r.add(change(1));
  r.add(change(2));
  t.same(r.list().map((c) => c.at), [2, 1]);
  for (let i = 3; i <= 10; i++) r.add(change(i));
  t.same(r.list().map((c) => c.at), [10, 9, 8]);
});
