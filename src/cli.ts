#!/usr/bin/env node
/**
 * Command line: `serve` runs the nameserver, `check` validates the configuration (the file,
 * zone files and load balancers) and prints each problem as `file:line: severity: message`,
 * `explain` shows how one query would be answered and why, `status` what a running server is
 * doing (through its API). Options come from the command line,
 * then `--config FILE`, then the defaults (src/cli/options.ts).
 */
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { explain, ExplainError } from './api/explain.js';
import { startApp } from './app/app.js';
import { startApi, type RunningApi } from './api/http.js';
import { loadConfig } from './snapshot/load.js';
import { type Snapshot } from './snapshot/snapshot.js';
import { NO_HOSTNAMES } from './lb/hostnames.js';
import { ALL_HEALTHY } from './lb/model.js';
import { createLogger, LOG_LEVELS, type LogFormat } from './log.js';
import { parseListen } from './server/listen.js';
import { StartError, UsageError } from './config/usage.js';
import { formatProblem, type Problem } from './config/problem.js';
import { readConfigFile, Settings, type ConfigFile } from './config/file.js';
import { icmpUnavailable } from './health/icmp-check.js';
import { openGeoLocator } from './geo/locator.js';
import { PinTable } from './lb/persistence.js';
import { runWorker, WorkerPool, workerSockets, type WorkerSockets } from './workers/cluster.js';
import { checkAddressesFree, nodeHasReusePort, REUSE_PORT_SINCE, reusePortAvailable } from './server/reuse-port.js';
import { runtimeWarning } from './cli/runtime.js';
import { formatCookieSecrets, parseCookieSecrets, randomCookieSecrets } from './wire/server-cookies.js';
import { apiToken, DEFAULT_STARTUP_WAIT_SECONDS, DEFAULTS, entries, FILE_OPTIONS, FILE_SECTIONS, transferSettings, geoOptions, listenOptions, OPTIONS, popOptions, positiveNumber, resolverOptions, rrlOptions, serverId, tcpOptions, wholeNumber } from './cli/options.js';
import { VERSION } from './version.js';
import { printStatus } from './cli/status.js';

const USAGE = `usage:
  steerdns serve [--config FILE] [--zones DIR] [--state-dir DIR] [--listen HOST:PORT]...
                 [--log-level LEVEL] [--log-format json|pretty]
                 [--tcp-idle-timeout SECONDS] [--tcp-max-connections N] [--tcp-max-per-client N]
                 [--tcp-max-lifetime SECONDS] [--resolver HOST:PORT]...
                 [--asn-db FILE.mmdb] [--persistence-max-entries N] [--answer-cache-size N] [--no-watch]
                 [--workers N] [--startup-wait SECONDS] [--cookie-secret HEX[,PREVIOUS]]
                 [--server-id ID] [--version-string TEXT|none]
                 [--api HOST:PORT|off] [--api-token TOKEN | --api-token-file FILE]
                 [POP FLAGS] [GEO FLAGS] [RRL FLAGS]
  steerdns check [--config FILE] [--zones DIR] [GEO FLAGS]
  steerdns explain NAME [TYPE] [--client IP] [--ecs ADDRESS/PREFIX] [--config FILE] [--zones DIR] [POP FLAGS] [GEO FLAGS]
  steerdns status [--api HOST:PORT] [--config FILE]   (what a running server answers from, and why)
  steerdns --version

--config FILE: a YAML file setting any option above by its long name (listen: ["0.0.0.0:53"],
  tcp-idle-timeout: 10, no-watch: true); the command line wins over it (docs/operations.md).

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

defaults: --zones ./zones  --state-dir ./state  --listen 127.0.0.1:5300  --log-level info
          --log-format: pretty on a terminal, else json
          --tcp-idle-timeout 10  --tcp-max-connections 1000  --tcp-max-per-client 50
          --tcp-max-lifetime 120  --resolver: the system's
          --asn-db: none (resolver_network persistence masks the resolver's address)
          --persistence-max-entries 100000  --answer-cache-size 10000 (0: off)  --api 127.0.0.1:8053
          --workers: one per CPU (1: a single process)
          --startup-wait 5 (seconds the listeners wait for the first health round; 0: none)
          --cookie-secret: $STEERDNS_COOKIE_SECRET, else random at start (DNS Cookies, RFC 7873 and
            RFC 9018: 32 hex digits; give every instance on an anycast address the same one)
          --server-id: the host's name (NSID and CHAOS TXT id.server; each worker adds /w<id>)
          --version-string: "steerdns VERSION" (CHAOS TXT version.server and version.bind; none: refused)
          --api-token: $STEERDNS_API_TOKEN (without a token, admin calls are refused)
SIGHUP, and (without --no-watch) any change in the zones directory, reloads the configuration.
SIGTERM and SIGINT stop accepting, answer the TCP queries already received (for at most 5 s),
then exit 0; a second signal stops at once.`;

/** Without --cookie-secret, the drawn secret is replaced this often. */
const COOKIE_ROTATION_MS = 24 * 3600 * 1000;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === 'version') {
    process.stdout.write(`steerdns ${VERSION}\n`);
    return 0;
  }
  const { values, positionals } = parseArgs({ args: rest, options: OPTIONS, allowPositionals: command === 'explain', strict: true });
  if (values.help || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (values.version) {
    process.stdout.write(`steerdns ${VERSION}\n`);
    return 0;
  }
  let file: ConfigFile | undefined;
  const fileProblems: Problem[] = [];
  if (values.config !== undefined) {
    const read = readConfigFile(values.config, FILE_OPTIONS, FILE_SECTIONS);
    file = read.file;
    fileProblems.push(...read.problems);
  }
  const transfer = transferSettings(file, fileProblems);
  if (command !== 'check') {
    // `check` reports them with the rest; every other command says the warnings and stops at an error.
    for (const p of fileProblems) if (p.severity === 'warning') process.stderr.write(`steerdns: ${formatProblem(p)}\n`);
    if (fileProblems.some((p) => p.severity === 'error')) throw new UsageError(`${fileProblems.filter((p) => p.severity === 'error').map(formatProblem).join('\n')}\nthe configuration file has errors; nothing was started`);
  }
  const s = new Settings(values, file, DEFAULTS);
  const zonesDir = s.string('zones')!;

  if (command === 'check') {
    const { zones, lb, problems: configProblems, failedZones } = loadConfig(zonesDir);
    const geo = await openGeoLocator(geoOptions(s));
    const problems = [...fileProblems, ...configProblems, ...geo.problems];
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
    const geo = await openGeoLocator(geoOptions(s));
    for (const p of geo.problems) process.stderr.write(formatProblem(p) + '\n');
    // An empty pin table: explain shows what a fresh instance would pin for this client.
    const snap: Snapshot = { zones: loaded.zones, lb: loaded.lb, health: ALL_HEALTHY, pop: popOptions(s), hostnames: NO_HOSTNAMES, random: Math.random, geo: geo.locator, persistence: new PinTable({ maxEntries: 1 }) };
    try {
      process.stdout.write(explain(snap, { name: positionals[0], type: positionals[1], client: values.client, ecs: values.ecs, healthAssumed: true }).text);
    } catch (e) {
      if (e instanceof ExplainError) throw new UsageError(e.message);
      throw e;
    }
    return 0;
  }

  if (command === 'status') {
    if (s.string('api') === 'off') throw s.error('api', 'status reads the HTTP API: give its address');
    await printStatus(s.read('api', () => parseListen(s.string('api')!)), (line) => process.stdout.write(line + '\n'));
    return 0;
  }

  if (command !== 'serve') throw new UsageError(command ? `unknown command "${command}"` : 'no command given');

  const level = s.string('log-level')!;
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw s.error('log-level', `expected one of ${LOG_LEVELS.join(', ')}`);
  // People read a terminal; programs read what is piped or collected.
  const format = s.string('log-format') ?? (process.stdout.isTTY ? 'pretty' : 'json');
  if (format !== 'json' && format !== 'pretty') throw s.error('log-format', 'expected json or pretty');
  const listen = listenOptions(s);
  const tcp = tcpOptions(s);
  const resolvers = resolverOptions(s);
  const location = popOptions(s);
  const persistenceMaxEntries = entries(s, 'persistence-max-entries', 1);
  const answerCacheSize = entries(s, 'answer-cache-size', 0); // 0: off
  const workers = wholeNumber(s, 'workers', 1, 1024) ?? availableParallelism();
  const startupWaitMs = (s.string('startup-wait') === '0' ? 0 : positiveNumber(s, 'startup-wait', DEFAULT_STARTUP_WAIT_SECONDS)) * 1000;
  const watchDebounceMs = s.flag('no-watch') ? 0 : 1000;
  const rrl = rrlOptions(s);
  const token = apiToken(s);
  const id = serverId(s);
  const versionString = s.string('version-string') ?? `steerdns ${VERSION}`;
  // Workers get the primary's secrets through $STEERDNS_COOKIE_SECRET (see WorkerPool), so that
  // a server cookie made by one verifies in all; without one configured, the primary draws it.
  const secretText = s.string('cookie-secret') ?? process.env.STEERDNS_COOKIE_SECRET;
  const cookieSecrets = secretText === undefined ? randomCookieSecrets() : parseCookieSecrets(secretText);
  if (!cookieSecrets) {
    const from = s.string('cookie-secret') !== undefined ? s.where('cookie-secret') : '$STEERDNS_COOKIE_SECRET';
    throw new UsageError(`${from}: expected 32 hex digits (a 128-bit secret), optionally ",32 more" for the previous secret, still accepted`);
  }
  const apiAddress = s.string('api') === 'off' ? undefined : s.read('api', () => parseListen(s.string('api')!));
  const log = createLogger(level, format as LogFormat);
  const appOptions = {
    zonesDir,
    stateDir: s.string('state-dir')!,
    listen,
    log,
    pop: location,
    tcp,
    resolvers,
    geo: geoOptions(s),
    asnDatabase: s.string('asn-db'),
    persistenceMaxEntries,
    answerCacheSize,
    watchDebounceMs,
    cookieSecrets,
    rrl,
    identity: { serverId: id, version: versionString === 'none' ? undefined : versionString },
    transfer,
  };

  if (cluster.isWorker) {
    // A worker answers queries only: the primary probes, reloads, watches and serves the API.
    const wlog = log.child({ worker: cluster.worker?.id, pid: process.pid });
    const sockets = workerSockets() ?? { bind: 'shared', listen };
    // NSID and id.server name the worker too (host/w2): which process answered is worth knowing.
    const identity = { ...appOptions.identity, serverId: `${id}/w${cluster.worker?.id ?? 0}` };
    await runWorker((first) => startApp({ ...appOptions, identity, listen: sockets.listen, bind: sockets.bind, log: wlog, health: 'remote', watchDebounceMs: 0, cookieRotateMs: 0, initialHealth: first.health, initialOverrides: first.overrides, worker: true }), wlog);
    return -1;
  }
  const outOfSupport = runtimeWarning();
  if (outOfSupport) log.warn({ node: process.version }, outOfSupport);
  // Each worker on its own sockets where Node can (src/server/reuse-port.ts); else the primary's, shared.
  let sockets: WorkerSockets | undefined;
  if (workers > 1) sockets = { bind: (await reusePortAvailable()) ? 'reuseport' : 'shared', listen };
  let pool: WorkerPool | undefined;
  const app = await startApp({
    ...appOptions,
    // With workers, this process answers no queries: they listen, and report their counters.
    listen: workers > 1 ? [] : listen,
    startupWaitMs,
    queryStats: workers > 1 ? () => pool!.stats() : undefined,
    statsIntervalMs: workers > 1 ? 0 : undefined, // the caches are the workers': each logs its own line
    notReady: () => pool?.notReady() ?? [],
    // A secret drawn here is replaced daily (the previous one still accepted); a configured one is the operator's to rotate.
    cookieRotateMs: secretText === undefined ? COOKIE_ROTATION_MS : 0,
    onCookieRotate: (secrets) => pool?.cookieSecrets(formatCookieSecrets(secrets)),
  });
  if (workers > 1) {
    pool = new WorkerPool(app, workers, log, sockets!, () => ({ STEERDNS_COOKIE_SECRET: formatCookieSecrets(app.cookies.current) }));
    try {
      // SO_REUSEPORT would let a worker bind beside another server on the port: refuse that first.
      if (sockets!.bind === 'reuseport') await checkAddressesFree(listen);
      await pool.start();
      if (sockets!.bind === 'reuseport') log.info({ workers, sockets: 'reuseport' }, 'workers listening, each on its own sockets (SO_REUSEPORT)');
      else {
        const why = nodeHasReusePort() ? 'this platform refuses SO_REUSEPORT' : `reusePort needs ${REUSE_PORT_SINCE}`;
        log.info({ workers, sockets: 'shared', node: process.version }, `workers listening on sockets the primary holds and shares (${why})`);
      }
    } catch (err) {
      await pool.stop(1000);
      await app.close();
      throw err;
    }
  }
  process.on('SIGHUP', () => void app.reload('SIGHUP').catch((err) => log.error({ err }, 'reload failed')));
  let api: RunningApi | undefined;
  if (apiAddress) {
    try {
      api = await startApi({ ...apiAddress, token, app, log });
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
      process.exit(2);
    } else if (err instanceof StartError) {
      process.stderr.write(`steerdns: ${err.message}\n`);
      process.exit(1);
    } else {
      process.stderr.write(`steerdns: ${(err as Error).stack ?? String(err)}\n`);
      // Timers, sockets or a worker's channel to its primary must not keep a failed start alive.
      process.exit(1);
    }
  },
);
