/** Bounds how many probe attempts run at once across all monitors. */

/** A counting semaphore whose waiters can give up (when their check is cancelled). */
export class Limiter {
  private active = 0;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly max: number) {}

  get running(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiters.size;
  }

  /** Resolves true with a slot held, or false if `signal` fired first. */
  acquire(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    if (this.active < this.max) {
      this.active++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const onAbort = (): void => {
        this.waiters.delete(grant);
        resolve(false);
      };
      // The slot is handed over by release(): `active` is not decremented in between.
      const grant = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(grant);
    });
  }

  release(): void {
    const next = this.waiters.values().next();
    if (next.done === true) {
      this.active--;
      return;
    }
    this.waiters.delete(next.value);
    next.value();
  }
}
