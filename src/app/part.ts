/**
 * A part of the running server: one subsystem with a clear start, a say in each new
 * configuration, and a stop. The app lists its parts in start-up order (src/app/app.ts);
 * they stop in the reverse order, and a part that fails to start stops those before it.
 */
import type { LoadedConfig } from '../snapshot/load.js';
import type { LbConfig } from '../lb/model.js';

/** The configuration being served: the files as loaded, and their load balancers with runtime overrides applied. */
export interface Served {
  readonly config: LoadedConfig;
  readonly lb: LbConfig;
}

export interface Part {
  /** Starts it; every part listed before it has started. */
  start?(): void | Promise<void>;
  /** A new configuration is served (a reload, or a runtime override), told to the parts in order. */
  serve?(served: Served): void;
  /** Stops it; the parts listed after it have stopped. */
  stop?(): void | Promise<void>;
}

/** Starts `parts` in order; when one fails, those started are stopped (in reverse) and the error is thrown. */
export async function startParts(parts: readonly Part[]): Promise<void> {
  const started: Part[] = [];
  try {
    for (const p of parts) {
      await p.start?.();
      started.push(p);
    }
  } catch (err) {
    await stopParts(started);
    throw err;
  }
}

/** Stops `parts` last first; one that fails to stop does not keep the others running (its error is thrown after). */
export async function stopParts(parts: readonly Part[]): Promise<void> {
  let failure: unknown;
  for (const p of [...parts].reverse()) {
    try {
      await p.stop?.();
    } catch (err) {
      failure ??= err;
    }
  }
  if (failure !== undefined) throw failure;
}
