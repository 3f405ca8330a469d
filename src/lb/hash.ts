/**
 * Stable hashing for steering: 32-bit FNV-1a over a string, finished with murmur3's fmix32 so
 * that every output bit depends on every input bit (FNV-1a alone has weak low bits, and we
 * take `% 100` of it), and weighted rendezvous hashing (highest random weight) to pick one
 * item per key.
 *
 * Stability is the contract: the same inputs give the same outputs on every node, every
 * version and every run, so a client keeps its origin across restarts and across a fleet.
 * Changing anything here remaps clients; treat the functions as a wire format.
 */

/** FNV-1a 32-bit parameters (draft-eastlake-fnv, "FNV-1a"). */
const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
/** 2^32, to turn a 32-bit hash into a fraction. */
const TWO_POW_32 = 4294967296;

/**
 * FNV-1a over the string's UTF-16 code units: one octet for a unit below 0x100 (so ASCII
 * hashes exactly as its bytes), two octets (low, high) otherwise. `state` continues an
 * earlier hash, which lets callers hash "a, separator, b" without building the string.
 */
export function fnv1a32(text: string, state: number = FNV_OFFSET_BASIS): number {
  let h = state;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h = Math.imul(h ^ (c & 0xff), FNV_PRIME);
    if (c > 0xff) h = Math.imul(h ^ (c >>> 8), FNV_PRIME);
  }
  return h >>> 0;
}

/** Feeds one octet into an FNV-1a state. */
export function fnv1a32Octet(octet: number, state: number): number {
  return Math.imul(state ^ (octet & 0xff), FNV_PRIME) >>> 0;
}

/** murmur3's 32-bit finaliser: a bijection with full avalanche. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A stable 32-bit hash of one string. */
export function stableHash(text: string): number {
  return mix32(fnv1a32(text));
}

/**
 * A stable 32-bit hash of the pair (a, b). A zero octet separates the two so that
 * ("ab", "c") and ("a", "bc") differ; no string is built.
 */
export function stableHash2(a: string, b: string): number {
  return mix32(fnv1a32(b, fnv1a32Octet(0, fnv1a32(a))));
}

/** The hash of (key, salt) as a bucket in 0..99, for percentages of the hash space. */
export function hashPercentile(key: string, salt: string): number {
  return stableHash2(key, salt) % 100;
}

/**
 * Weighted rendezvous hashing: among `items`, the one with the highest score
 * `-weight / ln(u)`, where u in (0, 1) is the hash of (key, id) as a fraction. This picks
 * item i with probability weight_i / Σ weight over the key space, and removing an item only
 * remaps the keys that had picked it (every other key's winner keeps the highest score).
 * Items with weight <= 0 are never picked; undefined when none has a positive weight.
 * `id` must be stable and unique among the items (the origin's name); accessors are plain
 * functions so the hot path allocates nothing.
 */
export function rendezvousPick<T>(key: string, items: readonly T[], id: (item: T) => string, weight: (item: T) => number): T | undefined {
  const keyState = fnv1a32Octet(0, fnv1a32(key));
  let best: T | undefined;
  let bestScore = -1;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    const w = weight(item);
    if (!(w > 0)) continue;
    // +0.5 keeps u strictly inside (0, 1): ln(u) is finite and negative.
    const u = (mix32(fnv1a32(id(item), keyState)) + 0.5) / TWO_POW_32;
    const score = -w / Math.log(u);
    if (score > bestScore) {
      bestScore = score;
      best = item;
    }
  }
  return best;
}
