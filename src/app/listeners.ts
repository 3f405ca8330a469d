/**
 * The listeners part: UDP and TCP sockets answering from the current snapshot, with response
 * rate limiting when configured. Started last, so that the first query finds everything
 * ready: they open once the first health round is done, or after `startupWaitMs` at most
 * (origins still without a result then count as down, as they do until their first round).
 * Stopped first, answering the TCP queries already received.
 */
import type { Logger } from '../log.js';
import { ResponseRateLimiter, type RrlOptions } from '../server/rrl.js';
import { startServer, type RunningServer, type ServerOptions } from '../server/server.js';
import { typeToText } from '../wire/types.js';
import type { Part } from './part.js';

export class Listeners implements Part {
  private running: RunningServer | undefined;

  constructor(
    private readonly options: Omit<ServerOptions, 'rrl'>,
    private readonly rrl: RrlOptions | undefined,
    /** Resolves once health is known (the first probe round); waited for `startupWaitMs` at most. */
    private readonly ready?: { readonly when: () => Promise<void>; readonly startupWaitMs: number; readonly pending: () => number },
  ) {}

  get server(): RunningServer {
    if (!this.running) throw new Error('the listeners are read before they were started');
    return this.running;
  }

  async start(): Promise<void> {
    await this.waitForHealth();
    // A primary with workers listens on nothing, and so limits nothing.
    const rrl = this.options.listen.length > 0 ? rateLimiter(this.rrl, this.options.log) : undefined;
    this.running = await startServer({ ...this.options, rrl });
  }

  async stop(): Promise<void> {
    await this.running?.close();
  }

  private async waitForHealth(): Promise<void> {
    if (!this.ready || this.ready.startupWaitMs <= 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), this.ready!.startupWaitMs)));
    const outcome = await Promise.race([this.ready.when().then(() => 'ready' as const), timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout') this.options.log.warn({ waitedMs: this.ready.startupWaitMs, targetsWithoutResult: this.ready.pending() }, 'listening before every origin has a probe result: those without one count as down until they have (or as restored)');
  }
}

/** The response rate limiter for `opts`, logging each client network it starts limiting; none when off. */
function rateLimiter(opts: RrlOptions | undefined, log: Logger): ResponseRateLimiter | undefined {
  if (!opts) return undefined;
  const rrl = new ResponseRateLimiter(opts, {
    onLimited: (e) => log.warn({ network: e.network, class: e.kind, name: e.name || undefined, qtype: e.qtype ? typeToText(e.qtype) : undefined, rate: e.rate, logOnly: opts.logOnly || undefined, suppressed: e.suppressed || undefined }, 'response rate limiting a client network'),
  });
  return rrl.enabled ? rrl : undefined;
}
