/**
 * Time as the health monitors see it: the current time and one-shot timers. The monitor takes
 * a Clock so tests drive it with a fake one; the real clock unrefs its timers, so a pending
 * probe schedule never keeps the process alive.
 */

/** An opaque timer token, only ever given back to the Clock that made it. */
export type TimerHandle = object;

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return timer;
  },
  clearTimeout(handle: TimerHandle): void {
    clearTimeout(handle as NodeJS.Timeout);
  },
};
