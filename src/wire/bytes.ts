/** Byte copying for the query path, where most copies are a few dozen bytes. */

/** Below this many bytes a plain loop beats Buffer#copy, whose fixed cost is about 50 ns. */
const LOOP_COPY_MAX = 64;

/** `src[from, to)` into `dst` at `at`; the ranges must not overlap. */
export function copyBytes(src: Buffer, from: number, to: number, dst: Buffer, at: number): void {
  if (to - from > LOOP_COPY_MAX) {
    src.copy(dst, at, from, to);
    return;
  }
  for (let i = from; i < to; i++) dst[at++] = src[i];
}
