/**
 * SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012), the keyed
 * hash RFC 9018 §4.4 prescribes for server cookies. 64-bit words are kept as two 32-bit
 * halves so that no BigInt is allocated per hash.
 */

// The state v0..v3 as [lo, hi] pairs: v0 = s[0], s[1]; v1 = s[2], s[3]; ...
const s = new Uint32Array(8);

/** a += b on the 64-bit words at `a` and `b`. */
function add(a: number, b: number): void {
  const lo = (s[a] + s[b]) >>> 0;
  s[a + 1] = (s[a + 1] + s[b + 1] + (lo < s[a] ? 1 : 0)) >>> 0;
  s[a] = lo;
}

/** Rotates the 64-bit word at `a` left by `r` bits, 0 < r < 32. */
function rotl(a: number, r: number): void {
  const lo = s[a];
  const hi = s[a + 1];
  s[a] = ((lo << r) | (hi >>> (32 - r))) >>> 0;
  s[a + 1] = ((hi << r) | (lo >>> (32 - r))) >>> 0;
}

/** Rotates by 32: swaps the halves. */
function swap(a: number): void {
  const lo = s[a];
  s[a] = s[a + 1];
  s[a + 1] = lo;
}

function xor(a: number, b: number): void {
  s[a] ^= s[b];
  s[a + 1] ^= s[b + 1];
}

const V0 = 0;
const V1 = 2;
const V2 = 4;
const V3 = 6;

function sipRound(): void {
  add(V0, V1); rotl(V1, 13); xor(V1, V0); swap(V0);
  add(V2, V3); rotl(V3, 16); xor(V3, V2);
  add(V0, V3); rotl(V3, 21); xor(V3, V0);
  add(V2, V1); rotl(V1, 17); xor(V1, V2); swap(V2);
}

/** Mixes the message word (lo, hi) in with c = 2 compression rounds. */
function compress(lo: number, hi: number): void {
  s[V3] ^= lo;
  s[V3 + 1] ^= hi;
  sipRound();
  sipRound();
  s[V0] ^= lo;
  s[V0 + 1] ^= hi;
}

/**
 * SipHash-2-4 of `msg` under the 16-octet `key`, written as 8 octets (little-endian, as the
 * reference implementation and RFC 9018 have it) into `out` at `at`.
 */
export function siphash24(key: Buffer, msg: Buffer, out: Buffer, at = 0): void {
  const k0lo = key.readUInt32LE(0);
  const k0hi = key.readUInt32LE(4);
  const k1lo = key.readUInt32LE(8);
  const k1hi = key.readUInt32LE(12);
  // "somepseudorandomlygeneratedbytes"
  s[0] = k0lo ^ 0x70736575; s[1] = k0hi ^ 0x736f6d65;
  s[2] = k1lo ^ 0x6e646f6d; s[3] = k1hi ^ 0x646f7261;
  s[4] = k0lo ^ 0x6e657261; s[5] = k0hi ^ 0x6c796765;
  s[6] = k1lo ^ 0x79746573; s[7] = k1hi ^ 0x74656462;
  const whole = msg.length & ~7;
  for (let i = 0; i < whole; i += 8) compress(msg.readUInt32LE(i), msg.readUInt32LE(i + 4));
  // The last word: the remaining octets, and the message length (mod 256) in the top octet.
  let lo = 0;
  let hi = (msg.length & 0xff) << 24;
  for (let i = whole; i < msg.length; i++) {
    const shift = (i - whole) * 8;
    if (shift < 32) lo |= msg[i] << shift;
    else hi |= msg[i] << (shift - 32);
  }
  compress(lo >>> 0, hi >>> 0);
  s[V2] ^= 0xff;
  for (let r = 0; r < 4; r++) sipRound(); // d = 4 finalization rounds
  out.writeUInt32LE((s[0] ^ s[2] ^ s[4] ^ s[6]) >>> 0, at);
  out.writeUInt32LE((s[1] ^ s[3] ^ s[5] ^ s[7]) >>> 0, at + 4);
}
