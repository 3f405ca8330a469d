/** Stable hashing, rendezvous hashing, the seeded PRNG, weighted choice and great-circle distance. */
import t from 'tap';
import { fnv1a32, hashPercentile, mix32, rendezvousPick, stableHash, stableHash2 } from '../../src/lb/hash.js';
import { mulberry32, weightedChoice } from '../../src/lb/random.js';
import { greatCircleKm } from '../../src/lb/geodesy.js';

interface Item {
  readonly id: string;
  readonly w: number;
}
const idOf = (i: Item): string => i.id;
const weightOf = (i: Item): number => i.w;

function keys(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`198.51.${(i >> 8) & 255}.${i & 255}/${i}`);
  return out;
}

t.test('FNV-1a 32 reference vectors and the finaliser', async (t) => {
  const vectors: Array<[string, number]> = [
    ['', 0x811c9dc5],
    ['a', 0xe40c292c],
    ['foobar', 0xbf9cf968],
  ];
  for (const [text, want] of vectors) t.equal(fnv1a32(text), want, `fnv1a32(${JSON.stringify(text)})`);
  t.equal(fnv1a32('bar', fnv1a32('foo')), fnv1a32('foobar'), 'state continues a hash');
  t.not(fnv1a32('\u0101'), fnv1a32('\u0001'), 'the high octet of a code unit counts');
  t.equal(mix32(0), 0, 'fmix32(0) = 0');
  t.not(mix32(1), 1);
  t.equal(stableHash('x'), stableHash('x'), 'deterministic');
  t.ok(stableHash('x') >= 0 && stableHash('x') < 2 ** 32, 'unsigned 32-bit');
  t.not(stableHash2('ab', 'c'), stableHash2('a', 'bc'), 'the separator keeps pairs apart');
  t.equal(stableHash2('ab', 'c'), stableHash2('ab', 'c'));
});

t.test('hashPercentile spreads keys evenly over 0..99', async (t) => {
  const n = 10000;
  const deciles = new Array<number>(10).fill(0);
  let bad = 0;
  for (const k of keys(n)) {
    const b = hashPercentile(k, 'pool-a');
    if (!(b >= 0 && b < 100 && Number.isInteger(b))) bad++;
    else deciles[Math.floor(b / 10)]++;
  }
  t.equal(bad, 0, 'integers in 0..99');
  for (let i = 0; i < 10; i++) t.ok(Math.abs(deciles[i] / n - 0.1) < 0.015, `decile ${i}: ${deciles[i]}`);
  const differ = keys(1000).filter((k) => hashPercentile(k, 'pool-a') !== hashPercentile(k, 'pool-b')).length;
  t.ok(differ > 900, `the salt changes the bucket (${differ} of 1000)`);
});

t.test('rendezvous hashing', async (t) => {
  const items: Item[] = [
    { id: 'a', w: 1 },
    { id: 'b', w: 0.5 },
    { id: 'c', w: 0.25 },
    { id: 'z', w: 0 },
  ];
  const ks = keys(20000);
  const picks = ks.map((k) => rendezvousPick(k, items, idOf, weightOf)!.id);

  t.test('same key, same item; order of items does not matter', async (t) => {
    const reversed = [...items].reverse();
    let same = 0;
    let sameReversed = 0;
    ks.slice(0, 2000).forEach((k, i) => {
      if (rendezvousPick(k, items, idOf, weightOf)!.id === picks[i]) same++;
      if (rendezvousPick(k, reversed, idOf, weightOf)!.id === picks[i]) sameReversed++;
    });
    t.equal(same, 2000);
    t.equal(sameReversed, 2000);
  });

  t.test('shares follow the weights; weight 0 never picked', async (t) => {
    const count = (id: string): number => picks.filter((p) => p === id).length / picks.length;
    t.ok(Math.abs(count('a') - 4 / 7) < 0.02, `a ${count('a')}`);
    t.ok(Math.abs(count('b') - 2 / 7) < 0.02, `b ${count('b')}`);
    t.ok(Math.abs(count('c') - 1 / 7) < 0.02, `c ${count('c')}`);
    t.equal(count('z'), 0);
  });

  t.test('removing an item only remaps the keys that had it', async (t) => {
    const without = items.filter((i) => i.id !== 'b');
    let moved = 0;
    let wrongly = 0;
    ks.forEach((k, i) => {
      const now = rendezvousPick(k, without, idOf, weightOf)!.id;
      if (picks[i] === 'b') moved++;
      else if (now !== picks[i]) wrongly++;
    });
    t.equal(wrongly, 0, 'keys of a and c keep their item');
    t.ok(moved > 0);
  });

  t.test('adding an item only takes keys for itself', async (t) => {
    const withD = [...items, { id: 'd', w: 1 }];
    let other = 0;
    let toD = 0;
    ks.forEach((k, i) => {
      const now = rendezvousPick(k, withD, idOf, weightOf)!.id;
      if (now === 'd') toD++;
      else if (now !== picks[i]) other++;
    });
    t.equal(other, 0);
    t.ok(Math.abs(toD / ks.length - 1 / 2.75) < 0.02, `d takes its share: ${toD}`);
  });

  t.equal(rendezvousPick('k', [], idOf, weightOf), undefined, 'no items');
  t.equal(rendezvousPick('k', [{ id: 'a', w: 0 }], idOf, weightOf), undefined, 'only weight 0');
});

t.test('mulberry32', async (t) => {
  const a = mulberry32(42);
  const b = mulberry32(42);
  const seqA = Array.from({ length: 5 }, a);
  t.same(seqA, Array.from({ length: 5 }, b), 'same seed, same sequence');
  t.notSame(seqA, Array.from({ length: 5 }, mulberry32(43)), 'another seed, another sequence');
  const r = mulberry32(7);
  let sum = 0;
  let inRange = true;
  for (let i = 0; i < 20000; i++) {
    const x = r();
    if (!(x >= 0 && x < 1)) inRange = false;
    sum += x;
  }
  t.ok(inRange, 'values in [0, 1)');
  t.ok(Math.abs(sum / 20000 - 0.5) < 0.01, 'mean near 1/2');
});

t.test('weightedChoice', async (t) => {
  const items: Item[] = [
    { id: 'a', w: 0.6 },
    { id: 'z', w: 0 },
    { id: 'b', w: 0.3 },
    { id: 'c', w: 0.1 },
  ];
  const random = mulberry32(1);
  const counts: Record<string, number> = { a: 0, b: 0, c: 0, z: 0 };
  const n = 20000;
  for (let i = 0; i < n; i++) counts[weightedChoice(items, weightOf, random)!.id]++;
  t.ok(Math.abs(counts.a / n - 0.6) < 0.02, `a ${counts.a}`);
  t.ok(Math.abs(counts.b / n - 0.3) < 0.02, `b ${counts.b}`);
  t.ok(Math.abs(counts.c / n - 0.1) < 0.015, `c ${counts.c}`);
  t.equal(counts.z, 0, 'weight 0 never chosen');
  const noDraw = (): number => {
    throw new Error('drew');
  };
  t.equal(weightedChoice([{ id: 'z', w: 0 }], weightOf, noDraw), undefined, 'all zero: undefined without a draw');
  t.equal(weightedChoice(items, weightOf, () => 0.999999999)!.id, 'c', 'top of the range is the last positive item');
  t.equal(weightedChoice(items, weightOf, () => 0)!.id, 'a');
});

t.test('great-circle distance', async (t) => {
  t.equal(greatCircleKm(50, 8, 50, 8), 0);
  const fraJfk = greatCircleKm(50.03, 8.56, 40.64, -73.78);
  t.ok(Math.abs(fraJfk - 6200) < 50, `FRA-JFK ${fraJfk}`);
  const lhrSyd = greatCircleKm(51.47, -0.45, -33.95, 151.18);
  t.ok(Math.abs(lhrSyd - 17020) < 60, `LHR-SYD ${lhrSyd}`);
  t.ok(Math.abs(greatCircleKm(0, 0, 0, 180) - Math.PI * 6371.0088) < 1e-6, 'antipodes: half the circumference');
  t.equal(greatCircleKm(10, 20, 30, 40), greatCircleKm(30, 40, 10, 20), 'symmetric');
});
