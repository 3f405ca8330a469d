#!/usr/bin/env node
/**
 * Command line: `serve` runs the nameserver, `check` validates the zones directory (zone files
 * and load balancers) and prints each problem as `file:line: severity: message`, `explain`
 * shows how one query would be answered and why.
 */
import cluster from 'node:cluster';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { explain, ExplainError } from './api/explain.js';
import { startApp } from './app/app.js';
import { startApi, type RunningApi } from './api/http.js';
import { loadConfig } from './snapshot/load.js';
import { parsePop } from './geo/pop.js';
import { type Snapshot } from './snapshot/snapshot.js';
import { NO_HOSTNAMES } from './lb/hostnames.js';
import { ALL_HEALTHY } from './lb/model.js';
import { createLogger, LOG_LEVELS, type LogFormat } from './log.js';
import { parseListen } from './server/listen.js';
import { UsageError } from './config/usage.js';
import { formatProblem } from './config/problem.js';
import { icmpUnavailable } from './health/icmp-check.js';
import { openGeoLocator } from './geo/locator.js';
import { PinTable } from './lb/persistence.js';
import { runWorker, WorkerPool } from './workers/cluster.js';
import type { RrlOptions } from './server/rrl.js';
import { parseNetwork } from './wire/ip.js';
import { formatCookieSecrets, parseCookieSecrets, randomCookieSecrets } from './wire/server-cookies.js';

const USAGE = `usage:
  steerdns serve [--zones DIR] [--listen HOST:PORT]... [--log-level LEVEL] [--log-format json|pretty]
                 [--tcp-idle-timeout SECONDS] [--tcp-max-connections N] [--tcp-max-per-client N]
                 [--tcp-max-lifetime SECONDS] [--resolver HOST:PORT]...
                 [--asn-db FILE.mmdb] [--persistence-max-entries N] [--answer-cache-size N] [--no-watch]
                 [--workers N] [--cookie-secret HEX[,PREVIOUS]]
                 [--api HOST:PORT|off] [--api-token TOKEN] [POP FLAGS] [GEO FLAGS] [RRL FLAGS]
  steerdns check [--zones DIR] [GEO FLAGS]
  steerdns explain NAME [TYPE] [--client IP] [--ecs ADDRESS/PREFIX] [--zones DIR] [POP FLAGS] [GEO FLAGS]

POP FLAGS (this node's location): --pop CODE  --pop-country CC  --pop-region REGION
                                  --pop-coordinates LAT,LON
GEO FLAGS (locating clients):     --geoip FILE.mmdb (repeatable; default: the shipped country database)
                                  --geo-overrides FILE.yaml  --geo-cache-size N (default 100000)
RRL FLAGS (response rate limiting, UDP only; off unless --rrl or another rate is above 0):
                                  --rrl RATE (answers and referrals per second per client network and name)
                                  --rrl-nxdomain RATE (NXDOMAIN and NODATA, per zone; default RATE)
                                  --rrl-errors RATE (errors, per client network; default RATE)
                                  --rrl-window SECONDS (default 15)  --rrl-slip N (default 2; 0: drop all)
                                  --rrl-ipv4-prefix N (default 24)  --rrl-ipv6-prefix N (default 56)
                                  --rrl-exempt CIDR (repeatable, replaces the default 127.0.0.0/8 and ::1;
                                    "none": no exemption)  --rrl-table-size N (default 65536)  --rrl-log-only

defaults: --zones ./zones  --listen 127.0.0.1:5300  --log-level info  --log-format json
          --tcp-idle-timeout 10  --tcp-max-connections 1000  --tcp-max-per-client 50
          --tcp-max-lifetime 120  --resolver: the system's
          --asn-db: none (resolver_network persistence masks the resolver's address)
          --persistence-max-entries 100000  --answer-cache-size 10000 (0: off)  --api 127.0.0.1:8053
          --workers: one per CPU (1: a single process)
          --cookie-secret: $STEERDNS_COOKIE_SECRET, else random at start (DNS Cookies, RFC 7873 and
            RFC 9018: 32 hex digits; give every instance on an anycast address the same one)
          --api-token: $STEERDNS_API_TOKEN (without a token, admin calls are refused)
SIGHUP, and (without --no-watch) any change in the zones directory, reloads the configuration.
SIGTERM and SIGINT stop accepting, answer the TCP queries already received (for at most 5 s),
then exit 0; a second signal stops at once.`;

/** Without --cookie-secret, the drawn secret is replaced this often. */
const COOKIE_ROTATION_MS = 24 * 3600 * 1000;

function positiveNumber(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${flag} "${value}": expected a positive number`);
  return n;
}

/** The most entries a cache or table flag takes (about 2 x 10^9: far past any memory here). */
const MAX_ENTRIES = 2 ** 31 - 1;

/** A whole number flag within [min, max], or undefined when not given. */
function wholeNumber(flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]+$/.test(value) || Number(value) < min || Number(value) > max) throw new UsageError(`--${flag} "${value}": expected a whole number from ${min} to ${max}`);
  return Number(value);
}

/** Response rate limiting from the --rrl flags; undefined when no rate is given. */
function rrlOptions(values: Record<string, string | boolean | string[] | undefined>): RrlOptions | undefined {
  const text = (flag: string) => values[flag] as string | undefined;
  const rate = (flag: string) => wholeNumber(flag, text(flag), 0, 1_000_000);
  const responsesPerSecond = rate('rrl');
  const nxdomainsPerSecond = rate('rrl-nxdomain');
  const errorsPerSecond = rate('rrl-errors');
  if (responsesPerSecond === undefined && nxdomainsPerSecond === undefined && errorsPerSecond === undefined) {
    const stray = Object.keys(values).find((k) => k.startsWith('rrl-') && values[k] !== undefined);
    if (stray) throw new UsageError(`--${stray} needs --rrl RATE (or --rrl-nxdomain or --rrl-errors)`);
    return undefined;
  }
  const exemptFlags = values['rrl-exempt'] as string[] | undefined;
  const exempt = exemptFlags === undefined ? undefined : exemptFlags.filter((e) => e !== 'none');
  for (const e of exempt ?? []) {
    try {
      parseNetwork(e);
    } catch (err) {
      throw new UsageError(`--rrl-exempt ${(err as Error).message}`);
    }
  }
  return {
    // A class given no rate of its own takes --rrl's; --rrl absent means only the classes given are limited.
    responsesPerSecond: responsesPerSecond ?? 0,
    nxdomainsPerSecond: nxdomainsPerSecond ?? responsesPerSecond ?? 0,
    errorsPerSecond: errorsPerSecond ?? responsesPerSecond ?? 0,
    window: wholeNumber('rrl-window', text('rrl-window'), 1, 3600),
    slip: wholeNumber('rrl-slip', text('rrl-slip'), 0, 10),
    ipv4Prefix: wholeNumber('rrl-ipv4-prefix', text('rrl-ipv4-prefix'), 0, 32),
    ipv6Prefix: wholeNumber('rrl-ipv6-prefix', text('rrl-ipv6-prefix'), 0, 128),
    tableSize: wholeNumber('rrl-table-size', text('rrl-table-size'), 1, 1 << 26),
    exempt,
    logOnly: values['rrl-log-only'] === true,
  };
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      zones: { type: 'string', default: './zones' },
      listen: { type: 'string', multiple: true },
      'log-level': { type: 'string', default: 'info' },
      'log-format': { type: 'string', default: 'json' },
      'tcp-idle-timeout': { type: 'string' },
      'tcp-max-connections': { type: 'string' },
      'tcp-max-per-client': { type: 'string' },
      'tcp-max-lifetime': { type: 'string' },
      resolver: { type: 'string', multiple: true },
      pop: { type: 'string' },
      'pop-country': { type: 'string' },
      'pop-region': { type: 'string' },
      'pop-coordinates': { type: 'string' },
      geoip: { type: 'string', multiple: true },
      'geo-overrides': { type: 'string' },
      'geo-cache-size': { type: 'string' },
      'asn-db': { type: 'string' },
      'persistence-max-entries': { type: 'string' },
      'answer-cache-size': { type: 'string' },
      workers: { type: 'string' },
      rrl: { type: 'string' },
      'rrl-nxdomain': { type: 'string' },
      'rrl-errors': { type: 'string' },
      'rrl-window': { type: 'string' },
      'rrl-slip': { type: 'string' },
      'rrl-ipv4-prefix': { type: 'string' },
      'rrl-ipv6-prefix': { type: 'string' },
      'rrl-exempt': { type: 'string', multiple: true },
      'rrl-table-size': { type: 'string' },
      'rrl-log-only': { type: 'boolean' },
      'cookie-secret': { type: 'string' },
      client: { type: 'string' },
      ecs: { type: 'string' },
      'no-watch': { type: 'boolean' },
      api: { type: 'string', default: '127.0.0.1:8053' },
      'api-token': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: command === 'explain',
    strict: true,
  });
  if (values.help || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const zonesDir = values.zones!;
  const geoOptions = () => ({
    databases: values.geoip,
    overridesFile: values['geo-overrides'],
    cacheSize: values['geo-cache-size'] === undefined ? undefined : Math.floor(positiveNumber('geo-cache-size', values['geo-cache-size'], 0)),
  });
  const pop = () => parsePop({ pop: values.pop, country: values['pop-country'], region: values['pop-region'], coordinates: values['pop-coordinates'] });

  if (command === 'check') {
    const { zones, lb, problems: configProblems, failedZones } = loadConfig(zonesDir);
    const geo = await openGeoLocator(geoOptions());
    const problems = [...configProblems, ...geo.problems];
    for (const p of problems) process.stdout.write(formatProblem(p) + '\n');
    const icmp = await icmpUnavailable(lb);
    for (const m of icmp?.monitors ?? []) {
      process.stdout.write(`${m.source.file}:${m.source.line}: warning: monitor "${m.name}" (${m.type}) cannot run here: ${icmp!.detail}; its origins will stay unhealthy\n`);
    }
    const served = [...zones.zones].map((z) => z.origin.toString());
    process.stdout.write(`${served.length} zone(s) OK${served.length ? ': ' + served.join(' ') : ''}; ${failedZones.length} failed; ${lb.loadBalancers.size} load balancer(s), ${lb.pools.size} pool(s), ${lb.monitors.size} monitor(s)\n`);
    return problems.some((p) => p.severity === 'error') ? 1 : 0;
  }

  if (command === 'explain') {
    if (positionals.length < 1 || positionals.length > 2) throw new UsageError('explain takes NAME and an optional TYPE');
    const loaded = loadConfig(zonesDir);
    for (const p of loaded.problems) if (p.severity === 'error') process.stderr.write(formatProblem(p) + '\n');
    const geo = await openGeoLocator(geoOptions());
    for (const p of geo.problems) process.stderr.write(formatProblem(p) + '\n');
    // An empty pin table: explain shows what a fresh instance would pin for this client.
    const snap: Snapshot = { zones: loaded.zones, lb: loaded.lb, health: ALL_HEALTHY, pop: pop(), hostnames: NO_HOSTNAMES, random: Math.random, geo: geo.locator, persistence: new PinTable({ maxEntries: 1 }) };
    try {
      process.stdout.write(explain(snap, { name: positionals[0], type: positionals[1], client: values.client, ecs: values.ecs, healthAssumed: true }).text);
    } catch (e) {
      if (e instanceof ExplainError) throw new UsageError(e.message);
      throw e;
    }
    return 0;
  }

  if (command !== 'serve') throw new UsageError(command ? `unknown command "${command}"` : 'no command given');

  const level = values['log-level']!;
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new UsageError(`--log-level "${level}": expected one of ${LOG_LEVELS.join(', ')}`);
  const format = values['log-format']!;
  if (format !== 'json' && format !== 'pretty') throw new UsageError(`--log-format "${format}": expected json or pretty`);
  const listen = (values.listen ?? ['127.0.0.1:5300']).map(parseListen);
  // A nameserver binds addresses; UDP replies also skip name lookups (src/server/udp.ts).
  for (const l of listen) if (!isIP(l.host)) throw new UsageError(`--listen "${l.host}:${l.port}": HOST must be an IP address`);
  const tcp = {
    idleTimeoutMs: positiveNumber('tcp-idle-timeout', values['tcp-idle-timeout'], 10) * 1000,
    maxConnections: Math.floor(positiveNumber('tcp-max-connections', values['tcp-max-connections'], 1000)),
    maxPerClient: Math.floor(positiveNumber('tcp-max-per-client', values['tcp-max-per-client'], 50)),
    maxLifetimeMs: positiveNumber('tcp-max-lifetime', values['tcp-max-lifetime'], 120) * 1000,
  };
  const resolvers = (values.resolver ?? []).map((r) => {
    const a = parseListen(r);
    return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
  });
  const location = pop();
  const log = createLogger(level, format as LogFormat);
  const persistenceMaxEntries = wholeNumber('persistence-max-entries', values['persistence-max-entries'], 1, MAX_ENTRIES);
  const answerCacheSize = wholeNumber('answer-cache-size', values['answer-cache-size'], 0, MAX_ENTRIES); // 0: off
  const workers = wholeNumber('workers', values.workers, 1, 1024) ?? availableParallelism();
  const watchDebounceMs = values['no-watch'] ? 0 : 1000;
  const rrl = rrlOptions(values);
  // Workers get the primary's secrets through $STEERDNS_COOKIE_SECRET (see WorkerPool), so that
  // a server cookie made by one verifies in all; without one configured, the primary draws it.
  const secretText = values['cookie-secret'] ?? process.env.STEERDNS_COOKIE_SECRET;
  const cookieSecrets = secretText === undefined ? randomCookieSecrets() : parseCookieSecrets(secretText);
  if (!cookieSecrets) {
    const from = values['cookie-secret'] !== undefined ? '--cookie-secret' : '$STEERDNS_COOKIE_SECRET';
    throw new UsageError(`${from}: expected 32 hex digits (a 128-bit secret), optionally ",32 more" for the previous secret, still accepted`);
  }
  const appOptions = { zonesDir, listen, log, pop: location, tcp, resolvers, geo: geoOptions(), asnDatabase: values['asn-db'], persistenceMaxEntries, answerCacheSize, watchDebounceMs, cookieSecrets, rrl };

  if (cluster.isWorker) {
    // A worker answers queries only: the primary probes, reloads, watches and serves the API.
    const wlog = log.child({ worker: cluster.worker?.id });
    await runWorker((first) => startApp({ ...appOptions, log: wlog, health: 'remote', sharedPorts: true, watchDebounceMs: 0, cookieRotateMs: 0, initialHealth: first.health, initialOverrides: first.overrides }), wlog);
    return -1;
  }
  let pool: WorkerPool | undefined;
  const app = await startApp({
    ...appOptions,
    // With workers, this process answers no queries: they listen, and report their counters.
    listen: workers > 1 ? [] : listen,
    queryStats: workers > 1 ? () => pool!.stats() : undefined,
    statsIntervalMs: workers > 1 ? 0 : undefined, // the caches are the workers': each logs its own line
    notReady: () => pool?.notReady() ?? [],
    // A secret drawn here is replaced daily (the previous one still accepted); a configured one is the operator's to rotate.
    cookieRotateMs: secretText === undefined ? COOKIE_ROTATION_MS : 0,
    onCookieRotate: (secrets) => pool?.cookieSecrets(formatCookieSecrets(secrets)),
  });
  if (workers > 1) {
    pool = new WorkerPool(app, workers, log, () => ({ STEERDNS_COOKIE_SECRET: formatCookieSecrets(app.cookies.current) }));
    try {
      await pool.start();
      log.info({ workers }, 'workers listening');
    } catch (err) {
      await pool.stop(1000);
      await app.close();
      throw err;
    }
  }
  process.on('SIGHUP', () => void app.reload('SIGHUP').catch((err) => log.error({ err }, 'reload failed')));
  const apiAddress = values.api === 'off' ? undefined : parseListen(values.api!);
  let api: RunningApi | undefined;
  if (apiAddress) {
    try {
      api = await startApi({ ...apiAddress, token: values['api-token'] ?? process.env.STEERDNS_API_TOKEN, app, log });
    } catch (err) {
      await pool?.stop(1000);
      await app.close();
      throw err;
    }
  }
  // `once`: while draining, a second signal has its default effect and ends the process at once.
  const stop = (signal: string) => {
    log.info({ signal }, 'shutting down');
    Promise.all([api?.close(), pool?.stop(), app.close()]).then(() => {
      log.info('stopped');
      process.exit(0);
    }, () => process.exit(1));
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
