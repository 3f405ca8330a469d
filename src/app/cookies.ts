/**
 * The DNS Cookies part: the server cookie secrets every snapshot carries, and their rotation.
 * A secret drawn at start is replaced daily (the previous one still accepted); a configured
 * one is the operator's to rotate (rotation off).
 */
import type { Logger } from '../log.js';
import { randomCookieSecrets, ServerCookies, type CookieSecrets } from '../wire/server-cookies.js';
import type { Part } from './part.js';

export class CookieRotation implements Part {
  readonly cookies: ServerCookies;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    secrets: CookieSecrets | undefined,
    /** Draw a new secret this often (ms); 0: never. */
    private readonly everyMs: number,
    /** Told of each rotation (a primary passes the secrets on to its workers). */
    private readonly onRotate: ((secrets: CookieSecrets) => void) | undefined,
    private readonly log: Logger,
  ) {
    this.cookies = new ServerCookies(secrets ?? randomCookieSecrets());
  }

  start(): void {
    if (this.everyMs <= 0) return;
    this.timer = setInterval(() => {
      this.cookies.rotate(randomCookieSecrets().current);
      this.onRotate?.(this.cookies.current);
      this.log.info('DNS cookie secret rotated');
    }, this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
