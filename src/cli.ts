#!/usr/bin/env node
/**
 * Command line: `steerdns serve` runs the nameserver, `steerdns check` validates the zones
 * directory and prints each problem as `file:line: severity: message`.
 */
import { parseArgs } from 'node:util';
import { createLogger, LOG_LEVELS, type LogFormat } from './log.js';
import { parseListen } from './server/listen.js';
import { startServer } from './server/server.js';
import { loadZonesDir } from './zone/loader.js';
import { formatProblem } from './zone/record.js';

const USAGE = `usage:
  steerdns serve [--zones DIR] [--listen HOST:PORT]... [--log-level LEVEL] [--log-format json|pretty]
                 [--tcp-idle-timeout SECONDS] [--tcp-max-connections N]
  steerdns check [--zones DIR]

defaults: --zones ./zones  --listen 127.0.0.1:5300  --log-level info  --log-format json
          --tcp-idle-timeout 10  --tcp-max-connections 1000`;

import { UsageError } from './server/listen.js';

function positiveNumber(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${flag} "${value}": expected a positive number`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      zones: { type: 'string', default: './zones' },
      listen: { type: 'string', multiple: true },
      'log-level': { type: 'string', default: 'info' },
      'log-format': { type: 'string', default: 'json' },
      'tcp-idle-timeout': { type: 'string' },
      'tcp-max-connections': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const zonesDir = values.zones!;

  if (command === 'check') {
    const { zones, problems, failed } = loadZonesDir(zonesDir);
    for (const p of problems) process.stdout.write(formatProblem(p) + '\n');
    const served = [...zones.zones].map((z) => z.origin.toString());
    process.stdout.write(`${served.length} zone(s) OK${served.length ? ': ' + served.join(' ') : ''}; ${failed.length} failed\n`);
    return problems.some((p) => p.severity === 'error') ? 1 : 0;
  }

  if (command !== 'serve') throw new UsageError(command ? `unknown command "${command}"` : 'no command given');

  const level = values['log-level']!;
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new UsageError(`--log-level "${level}": expected one of ${LOG_LEVELS.join(', ')}`);
  const format = values['log-format']!;
  if (format !== 'json' && format !== 'pretty') throw new UsageError(`--log-format "${format}": expected json or pretty`);
  const listen = (values.listen ?? ['127.0.0.1:5300']).map(parseListen);
  const tcp = {
    idleTimeoutMs: positiveNumber('tcp-idle-timeout', values['tcp-idle-timeout'], 10) * 1000,
    maxConnections: Math.floor(positiveNumber('tcp-max-connections', values['tcp-max-connections'], 1000)),
  };
  const log = createLogger(level, format as LogFormat);

  const loaded = loadZonesDir(zonesDir);
  for (const p of loaded.problems) log[p.severity === 'error' ? 'error' : 'warn']({ file: p.file, line: p.line }, p.message);
  for (const z of loaded.zones.zones) log.info({ zone: z.origin.toString(), rrsets: z.rrsetCount }, 'zone loaded');
  if (loaded.zones.size === 0) log.error({ zones: zonesDir }, 'no zone could be loaded; every query will be refused');
  const zones = loaded.zones;

  const server = await startServer({ listen, zones: () => zones, log, tcp });
  const stop = (signal: string) => {
    log.info({ signal }, 'shutting down');
    server.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return -1; // keep running
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`steerdns: ${(err as Error).message}\n${USAGE}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`steerdns: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
