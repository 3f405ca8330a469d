/**
 * Random sources for steering. Steering takes its randomness as a `() => number` in [0, 1):
 * production passes `Math.random`, tests pass a seeded `mulberry32` so that statistical
 * tests are reproducible. Also the weighted choice that random steering uses.
 */

/**
 * mulberry32 (Tommy Ettinger, public domain): a small, fast 32-bit PRNG with a full 2^32
 * period, good enough for tests and simulations (not for anything secret).
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Picks one item with probability weight / Σ weight using one draw of `random`. Items with
 * weight <= 0 are never picked. When no item has a positive weight: undefined, and no draw.
 * `weight` is a plain function (not a per-call closure) so the hot path allocates nothing.
 */
export function weightedChoice<T>(items: readonly T[], weight: (item: T) => number, random: () => number): T | undefined {
  let total = 0;
  let last: T | undefined;
  for (let i = 0; i < items.length; i++) {
    const w = weight(items[i]);
    if (w > 0) {
      total += w;
      last = items[i];
    }
  }
  if (last === undefined) return undefined;
  let r = random() * total;
  for (let i = 0; i < items.length; i++) {
    const w = weight(items[i]);
    if (!(w > 0)) continue;
    if (r < w) return items[i];
    r -= w;
  }
  return last; // floating-point rounding left r >= the last weight
}
