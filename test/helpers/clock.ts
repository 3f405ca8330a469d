/**
 * A fake Clock for tests: time moves only when the test says so. `advance` fires due timers
 * in order and lets the promise chains they start run (a macrotask turn after each), so
 * async code driven by this clock behaves as it would in real time, minus the waiting.
 */
import type { Clock, TimerHandle } from '../../src/health/clock.js';

interface Timer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly timers = new Map<number, Timer>();

  constructor(start = 1_700_000_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { id, at: this.t + Math.max(0, ms), fn });
    return { id };
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete((handle as { id: number }).id);
  }

  /** Timers not yet fired or cleared. */
  pending(): number {
    return this.timers.size;
  }

  /** Lets every promise chain that can progress without time passing do so. */
  async settle(): Promise<void> {
    for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
  }

  /** Moves time forward by `ms`, firing due timers in order (ties in creation order). */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await this.settle();
    for (;;) {
      const next = this.nextDue(end);
      if (next === undefined) break;
      this.timers.delete(next.id);
      this.t = next.at;
      next.fn();
      await this.settle();
    }
    this.t = end;
    await this.settle();
  }

  /** Advances in steps until `done()` or `limitMs` passed; returns whether done. */
  async advanceUntil(done: () => boolean, limitMs: number, stepMs = 100): Promise<boolean> {
    const end = this.t + limitMs;
    while (!done() && this.t < end) await this.advance(Math.min(stepMs, end - this.t));
    return done();
  }

  private nextDue(end: number): Timer | undefined {
    let best: Timer | undefined;
    for (const timer of this.timers.values()) {
      if (timer.at > end) continue;
      if (best === undefined || timer.at < best.at || (timer.at === best.at && timer.id < best.id)) best = timer;
    }
    return best;
  }
}
