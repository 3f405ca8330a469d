/**
 * The process logger: pino, JSON lines on stdout by default, human-readable when asked
 * (`--log-format pretty`, through pino-pretty).
 */
import { pino, type Logger } from 'pino';

export type { Logger };
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogFormat = 'json' | 'pretty';

export function createLogger(level: string, format: LogFormat = 'json'): Logger {
  if (format === 'pretty') {
    return pino({ level, transport: { target: 'pino-pretty', options: { colorize: process.stdout.isTTY, translateTime: 'SYS:standard', singleLine: true, ignore: 'pid,hostname' } } });
  }
  return pino({ level, base: { name: 'steerdns' } });
}
