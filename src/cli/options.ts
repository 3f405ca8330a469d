/**
 * The options of every command, in one table read both by the command line and by the
 * configuration file (`--config`), their defaults, and the readers that turn them into the
 * app's options with messages naming the option (or the file and line it was set at).
 */
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { Settings, type ConfigFile, type OptionSpec, type OptionValues, type SectionReader } from '../config/file.js';
import type { Problem } from '../config/problem.js';
import { loadKeyring, readKeySpecs, type KeySpec } from '../config/tsig.js';
import { list, str } from '../config/yaml.js';
import { readZoneOptions, type ZoneOptions } from '../config/zone-options.js';
import type { TransferSettings } from '../snapshot/snapshot.js';
import { UsageError } from '../config/usage.js';
import { parsePop } from '../geo/pop.js';
import type { Location } from '../geo/location.js';
import type { RrlOptions } from '../server/rrl.js';
import { parseListen } from '../server/listen.js';
import { parseNetwork } from '../wire/ip.js';

export const OPTIONS = {
  config: { type: 'string' },
  zones: { type: 'string' },
  'state-dir': { type: 'string' },
  listen: { type: 'string', multiple: true },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
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
  'startup-wait': { type: 'string' },
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
  'server-id': { type: 'string' },
  'version-string': { type: 'string' },
  client: { type: 'string' },
  ecs: { type: 'string' },
  'no-watch': { type: 'boolean' },
  api: { type: 'string' },
  'api-token': { type: 'string' },
  'api-token-file': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const satisfies Record<string, OptionSpec>;

/** Options that only make sense on the command line. */
const COMMAND_LINE_ONLY: ReadonlySet<string> = new Set(['config', 'help', 'version', 'client', 'ecs']);

/** What a configuration file may set: every option but those above. */
export const FILE_OPTIONS: Readonly<Record<string, OptionSpec>> = Object.fromEntries(Object.entries(OPTIONS).filter(([k]) => !COMMAND_LINE_ONLY.has(k)));

/** Structured settings of the configuration file that are no command-line option. */
export const FILE_SECTIONS: Readonly<Record<string, SectionReader>> = {
  'tsig-keys': readKeySpecs,
  'tsig-key-files': (f) => list(f)?.flatMap((i) => str(i) ?? []),
  'zone-options': readZoneOptions,
};

/**
 * The TSIG keyring and per-zone transfer settings of the configuration file; undefined
 * without a file. Problems (unknown algorithm, a zone option naming an unknown key) are added
 * to `problems`.
 */
export function transferSettings(file: ConfigFile | undefined, problems: Problem[]): TransferSettings | undefined {
  if (!file) return undefined;
  const specs = (file.sections.get('tsig-keys') as KeySpec[] | undefined) ?? [];
  const files = (file.sections.get('tsig-key-files') as string[] | undefined) ?? [];
  const keyring = loadKeyring(specs, files, problems);
  const zones = (file.sections.get('zone-options') as Map<string, ZoneOptions> | undefined) ?? new Map<string, ZoneOptions>();
  for (const [zone, o] of zones) {
    for (const name of [...o.allowTransfer.map((r) => r.key), ...o.notify.map((n) => n.key)]) {
      if (name !== undefined && !keyring.has(name)) problems.push({ file: o.file, line: o.line, severity: 'error', message: `zone-options.${zone}: no TSIG key named "${name}" (tsig-keys or tsig-key-files)` });
    }
  }
  return { keyring, zones };
}

export const DEFAULTS: OptionValues = {
  zones: './zones',
  'state-dir': './state',
  listen: ['127.0.0.1:5300'],
  'log-level': 'info',
  api: '127.0.0.1:8053',
};

export const DEFAULT_STARTUP_WAIT_SECONDS = 5;

/** The most entries a cache or table option takes (about 2 x 10^9: far past any memory here). */
const MAX_ENTRIES = 2 ** 31 - 1;

export function positiveNumber(s: Settings, name: string, fallback: number): number {
  const value = s.string(name);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw s.error(name, 'expected a positive number');
  return n;
}

/** A whole number option within [min, max], or undefined when not given. */
export function wholeNumber(s: Settings, name: string, min: number, max: number): number | undefined {
  const value = s.string(name);
  if (value === undefined) return undefined;
  if (!/^[0-9]+$/.test(value) || Number(value) < min || Number(value) > max) throw s.error(name, `expected a whole number from ${min} to ${max}`);
  return Number(value);
}

export function entries(s: Settings, name: string, min: number): number | undefined {
  return wholeNumber(s, name, min, MAX_ENTRIES);
}

export function geoOptions(s: Settings) {
  return {
    databases: s.strings('geoip'),
    overridesFile: s.string('geo-overrides'),
    cacheSize: s.string('geo-cache-size') === undefined ? undefined : Math.floor(positiveNumber(s, 'geo-cache-size', 0)),
  };
}

export function popOptions(s: Settings): Location {
  return s.read('pop', () => parsePop({ pop: s.string('pop'), country: s.string('pop-country'), region: s.string('pop-region'), coordinates: s.string('pop-coordinates') }));
}

/** Response rate limiting from the --rrl options; undefined when no rate is given. */
export function rrlOptions(s: Settings): RrlOptions | undefined {
  const rate = (name: string) => wholeNumber(s, name, 0, 1_000_000);
  const responsesPerSecond = rate('rrl');
  const nxdomainsPerSecond = rate('rrl-nxdomain');
  const errorsPerSecond = rate('rrl-errors');
  if (responsesPerSecond === undefined && nxdomainsPerSecond === undefined && errorsPerSecond === undefined) {
    const stray = Object.keys(OPTIONS).find((k) => k.startsWith('rrl-') && s.get(k) !== undefined);
    if (stray) throw new UsageError(`${s.where(stray)} needs --rrl RATE (or --rrl-nxdomain or --rrl-errors)`);
    return undefined;
  }
  const exemptOption = s.strings('rrl-exempt');
  const exempt = exemptOption === undefined ? undefined : exemptOption.filter((e) => e !== 'none');
  for (const e of exempt ?? []) {
    try {
      parseNetwork(e);
    } catch (err) {
      throw new UsageError(`${s.where('rrl-exempt')} ${(err as Error).message}`);
    }
  }
  return {
    // A class given no rate of its own takes --rrl's; --rrl absent means only the classes given are limited.
    responsesPerSecond: responsesPerSecond ?? 0,
    nxdomainsPerSecond: nxdomainsPerSecond ?? responsesPerSecond ?? 0,
    errorsPerSecond: errorsPerSecond ?? responsesPerSecond ?? 0,
    window: wholeNumber(s, 'rrl-window', 1, 3600),
    slip: wholeNumber(s, 'rrl-slip', 0, 10),
    ipv4Prefix: wholeNumber(s, 'rrl-ipv4-prefix', 0, 32),
    ipv6Prefix: wholeNumber(s, 'rrl-ipv6-prefix', 0, 128),
    tableSize: wholeNumber(s, 'rrl-table-size', 1, 1 << 26),
    exempt,
    logOnly: s.flag('rrl-log-only'),
  };
}

export function listenOptions(s: Settings) {
  const listen = s.read('listen', () => s.strings('listen')!.map(parseListen));
  // A nameserver binds addresses; UDP replies also skip name lookups (src/server/udp.ts).
  for (const l of listen) if (!isIP(l.host)) throw new UsageError(`${s.where('listen')} "${l.host}:${l.port}": HOST must be an IP address`);
  return listen;
}

export function tcpOptions(s: Settings) {
  return {
    idleTimeoutMs: positiveNumber(s, 'tcp-idle-timeout', 10) * 1000,
    maxConnections: Math.floor(positiveNumber(s, 'tcp-max-connections', 1000)),
    maxPerClient: Math.floor(positiveNumber(s, 'tcp-max-per-client', 50)),
    maxLifetimeMs: positiveNumber(s, 'tcp-max-lifetime', 120) * 1000,
  };
}

export function resolverOptions(s: Settings): string[] {
  return s.read('resolver', () =>
    (s.strings('resolver') ?? []).map((r) => {
      const a = parseListen(r);
      return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
    }),
  );
}

/** The API token: --api-token, else the first line of --api-token-file, else $STEERDNS_API_TOKEN. */
export function apiToken(s: Settings): string | undefined {
  const file = s.string('api-token-file');
  if (s.string('api-token') !== undefined && file !== undefined) throw new UsageError(`${s.where('api-token-file')}: give --api-token or --api-token-file, not both`);
  if (file === undefined) return s.string('api-token') ?? process.env.STEERDNS_API_TOKEN;
  let token: string;
  try {
    token = readFileSync(file, 'utf8').split('\n')[0].trim();
  } catch (e) {
    throw s.error('api-token-file', `cannot read it: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (token === '') throw s.error('api-token-file', 'the file is empty: write the token on its first line');
  return token;
}

/** This server's name in NSID and CHAOS id.server (RFC 5001, RFC 4892): --server-id, else the host's name. */
export function serverId(s: Settings): string {
  const id = s.string('server-id') ?? hostname();
  if (Buffer.byteLength(id) > 255) throw s.error('server-id', 'at most 255 octets (it is sent as one TXT string)');
  return id;
}
