/** Widening the ECS scope: only over networks checked to give the same location. */
import t from 'tap';
import { widestUniformPrefix, type Located } from '../../src/geo/scope.js';

/** A fake database: the most specific of these networks that contains the address answers. */
function fakeLocate(nets: [string, number, string][]) {
  const toInt = (ip: string) => ip.split('.').reduce((v, o) => v * 256 + Number(o), 0);
  let calls = 0;
  const locate = (ip: string): Located | undefined => {
    calls++;
    const a = toInt(ip);
    let best: [string, number, string] | undefined;
    for (const n of nets) {
      const size = 2 ** (32 - n[1]);
      const start = Math.floor(toInt(n[0]) / size) * size;
      if (a >= start && a < start + size && (!best || n[1] > best[1])) best = n;
    }
    return best && { location: { country: best[2] }, prefixLength: best[1] };
  };
  return { locate, calls: () => calls };
}

t.test('widens while the other half has the same location', async (t) => {
  const db = fakeLocate([['10.0.0.0', 10, 'DE'], ['10.64.0.0', 10, 'DE'], ['10.128.0.0', 9, 'FR']]);
  const hit = db.locate('10.1.2.0')!;
  t.equal(hit.prefixLength, 10);
  t.equal(widestUniformPrefix(db.locate, '10.1.2.0', hit), 9, '10.0/10 and 10.64/10 are both DE; 10.128/9 is FR');
});

t.test('stops at a neighbour nobody locates', async (t) => {
  const db = fakeLocate([['10.0.0.0', 10, 'DE']]);
  t.equal(widestUniformPrefix(db.locate, '10.1.2.0', db.locate('10.1.2.0')!), 10);
});

t.test('a neighbour made of many small networks is walked one by one, within the budget', async (t) => {
  const nets: [string, number, string][] = [['10.0.0.0', 24, 'DE']];
  for (let i = 0; i < 4; i++) nets.push([`10.0.${1 + i}.0`, 24, 'DE']); // 10.0.1-4.0/24
  nets.push(['10.0.5.0', 24, 'DE'], ['10.0.6.0', 24, 'DE'], ['10.0.7.0', 24, 'DE']);
  const db = fakeLocate(nets);
  const hit = db.locate('10.0.0.0')!;
  t.equal(widestUniformPrefix(db.locate, '10.0.0.0', hit), 21, '/24 -> /23 -> /22 -> /21, then 10.0.8.0/21 is nobody\'s');
  t.equal(widestUniformPrefix(db.locate, '10.0.0.0', hit, 0, 3), 22, 'with 3 lookups only the /23 and /22 steps are checked');
  t.equal(widestUniformPrefix(db.locate, '10.0.0.0', hit, 23), 23, 'never below the floor');
});

t.test('a wider network on the other side covers the whole half at once', async (t) => {
  const db = fakeLocate([['10.0.0.0', 16, 'DE'], ['10.0.0.0', 24, 'DE'], ['10.1.0.0', 16, 'FR']]);
  const before = db.calls();
  t.equal(widestUniformPrefix(db.locate, '10.0.0.0', db.locate('10.0.0.0')!), 16, 'the rest of 10.0/16 is DE; 10.1/16 is FR');
  t.ok(db.calls() - before < 20, 'one lookup per network, not per /24');
});

t.test('IPv6', async (t) => {
  const locate = (ip: string): Located | undefined =>
    ip.startsWith('2001:db8:') ? { location: { country: 'NL' }, prefixLength: 48 } : undefined;
  const hit = { location: { country: 'NL' }, prefixLength: 48 };
  // The fake answers /48 by /48: /47 takes 1 lookup, /46 2, ... /42 32 (63 in all); /41 would
  // need 64 more, past the budget of 64.
  t.equal(widestUniformPrefix(locate, '2001:db8:0:0:0:0:0:0', hit), 42, 'widened as far as the budget checks');
  const wide = (ip: string): Located | undefined => (ip.startsWith('2001:db8:') ? { location: { country: 'NL' }, prefixLength: 32 } : undefined);
  t.equal(widestUniformPrefix(wide, '2001:db8:0:0:0:0:0:0', { location: { country: 'NL' }, prefixLength: 32 }), 32, '2001:db9::/32 is nobody\'s');
});
