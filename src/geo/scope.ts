/**
 * Widening the ECS scope as gdnsd does: the widest network around an address over which every
 * lookup gives the same location, so that caching resolvers can share one answer across it.
 * It only ever claims what it has checked: each step doubles the network and walks the other
 * half, network by network, with real lookups; a bounded budget stops the walk (and the
 * widening) early rather than guess.
 */
import { isIP } from 'node:net';
import { addressBigInt, bigIntText, type IpFamily } from '../wire/ip.js';
import type { Location } from './location.js';

export interface Located {
  readonly location: Location;
  readonly prefixLength: number;
}

/** Lookups one widening may spend before it stops where it is. */
export const WIDEN_BUDGET = 64;

/**
 * The shortest prefix length, not below `floor`, of a network containing `ip` in which
 * `locate` gives `hit`'s location everywhere. `hit` is `locate(ip)`.
 */
export function widestUniformPrefix(locate: (ip: string) => Located | undefined, ip: string, hit: Located, floor = 0, budget = WIDEN_BUDGET): number {
  const family = isIP(ip);
  if (family === 0 || (family === 6 && ip.toLowerCase().includes('::ffff:') && ip.includes('.'))) return hit.prefixLength;
  const bits = family === 4 ? 32 : 128;
  const addr = addressBigInt(ip);
  const key = keyOf(hit.location);
  let p = hit.prefixLength;
  let spent = 0;
  while (p > floor) {
    const q = p - 1;
    const half = 1n << BigInt(bits - p);
    const mine = (addr >> BigInt(bits - p)) << BigInt(bits - p);
    const blockStart = (addr >> BigInt(bits - q)) << BigInt(bits - q);
    const sibling = mine === blockStart ? blockStart + half : blockStart;
    const end = sibling + half;
    let a = sibling;
    let uniform = true;
    while (a < end) {
      if (++spent > budget) return p;
      const r = locate(bigIntText(a, family as IpFamily));
      if (r === undefined || keyOf(r.location) !== key) {
        uniform = false;
        break;
      }
      const shift = BigInt(bits - r.prefixLength);
      a = ((a >> shift) << shift) + (1n << shift); // past the whole network that answered
    }
    if (!uniform) break;
    p = q;
  }
  return p;
}

function keyOf(l: Location): string {
  return `${l.country ?? ''}|${l.region ?? ''}|${l.pop ?? ''}|${l.latitude ?? ''}|${l.longitude ?? ''}`;
}
