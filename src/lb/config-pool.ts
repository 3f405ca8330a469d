/**
 * Reading one pool and its origins from a `*.lb.yaml` file, with Cloudflare's defaults
 * (reference §2, §8). The monitor stays a name here; config.ts resolves it.
 */
import { isIP } from 'node:net';
import { Name, NameError } from '../wire/name.js';
import { ORIGIN_STEERING_POLICIES, type LoadShedding, type Origin, type OriginAddress, type Pool } from './model.js';
import { REGIONS } from '../geo/location.js';
import {
  bool, describe, headerMap, list, noEffect, num, obj, objectName, oneOf, opt, READ_ONLY_FIELDS, ref, str,
  type Field, type Obj, type ParsedObject, type Ref,
} from '../config/yaml.js';

const POOL_FIELDS = [
  'name', 'description', 'enabled', 'minimum_origins', 'monitor', 'origin_steering', 'latitude', 'longitude',
  'load_shedding', 'check_regions', 'origins', 'notification_email', 'notification_filter', 'networks',
  'health_sources', 'monitor_group', 'disabled_at', ...READ_ONLY_FIELDS,
];
const ORIGIN_FIELDS = ['name', 'address', 'enabled', 'weight', 'port', 'header', 'flatten_cname', 'virtual_network_id', 'disabled_at'];
const LOAD_SHEDDING_FIELDS = ['default_percent', 'default_policy', 'session_percent', 'session_policy'];
const CHECK_REGIONS: readonly string[] = [...REGIONS, 'ALL_REGIONS'];
/** Origin steering policies that count connections or requests: all counts are 0 in DNS-only mode. */
const COUNTING_POLICIES: readonly string[] = ['least_outstanding_requests', 'least_connections'];

/** A pool before its monitor is resolved. */
export interface PoolDraft {
  readonly pool: Omit<Pool, 'monitor'>;
  readonly monitor?: Ref;
}

export function readPool(f: Field): ParsedObject<PoolDraft> {
  const o = obj(f);
  if (!o) return { field: f };
  const scope = f.scope;
  const before = scope.errors;
  o.checkFields(POOL_FIELDS);
  const name = objectName(o);
  const monitorField = o.get('monitor');
  const monitor = monitorField ? ref(monitorField) : undefined;

  const steeringField = o.get('origin_steering');
  const policy = steeringField ? originSteering(steeringField) : 'random';
  const { latitude, longitude } = coordinates(o);
  const origins = readOrigins(o);
  const minimumField = o.get('minimum_origins');
  const minimum = opt(o, 'minimum_origins', (x) => num(x, 0, Infinity, true), 1);
  if (minimumField && monitor && origins && minimum > origins.length) {
    minimumField.warn(`${minimum} is more than the pool's ${origins.length} origin(s): the pool is always critical`);
  }
  noEffect(o, ['notification_email', 'notification_filter'], 'steerdns sends no notifications');
  noEffect(o, ['networks', 'health_sources', 'monitor_group'], 'not supported by steerdns');

  const pool: Omit<Pool, 'monitor'> = {
    name: name ?? '',
    description: opt(o, 'description', str, ''),
    enabled: opt(o, 'enabled', bool, true),
    minimum_origins: minimum,
    origin_steering: Object.freeze({ policy }),
    ...(latitude !== undefined && longitude !== undefined ? { latitude, longitude } : {}),
    load_shedding: opt(o, 'load_shedding', loadShedding, DEFAULT_LOAD_SHEDDING),
    check_regions: opt(o, 'check_regions', checkRegions, null),
    origins: Object.freeze(origins ?? []),
    source: Object.freeze({ file: f.file, line: f.line }),
  };
  if (name === undefined || scope.errors > before) return { name, field: f };
  return { name, field: f, value: { pool, ...(monitor ? { monitor } : {}) } };
}

const DEFAULT_LOAD_SHEDDING: LoadShedding = Object.freeze({ default_percent: 0, default_policy: 'random' });

function originSteering(f: Field): (typeof ORIGIN_STEERING_POLICIES)[number] {
  const o = obj(f);
  if (!o) return 'random';
  o.checkFields(['policy']);
  const policyField = o.get('policy');
  const policy = opt(o, 'policy', (x) => oneOf(x, ORIGIN_STEERING_POLICIES), 'random');
  if (policyField && COUNTING_POLICIES.includes(policy)) {
    policyField.warn(`${policy} counts connections, which a DNS-only load balancer never sees: origins are chosen as with random`);
  }
  return policy;
}

function coordinates(o: Obj): { latitude?: number; longitude?: number } {
  const latField = o.get('latitude');
  const lonField = o.get('longitude');
  const latitude = latField ? num(latField, -90, 90, false) : undefined;
  const longitude = lonField ? num(lonField, -180, 180, false) : undefined;
  if (latField && !lonField) latField.error('longitude must be given too');
  if (lonField && !latField) lonField.error('latitude must be given too');
  return { latitude, longitude };
}

function loadShedding(f: Field): LoadShedding | undefined {
  const o = obj(f);
  if (!o) return undefined;
  o.checkFields(LOAD_SHEDDING_FIELDS);
  // Validated, but they only matter with session affinity, which DNS-only load balancing lacks.
  const sessionPercent = opt(o, 'session_percent', (x) => num(x, 0, 100, false), 0);
  opt(o, 'session_policy', (x) => oneOf(x, ['hash'] as const), 'hash');
  if (sessionPercent > 0) o.get('session_percent')?.warn('has no effect: it sheds sessions with affinity, which DNS-only load balancing does not have');
  return Object.freeze({
    default_percent: opt(o, 'default_percent', (x) => num(x, 0, 100, false), 0),
    default_policy: opt(o, 'default_policy', (x) => oneOf(x, ['random', 'hash'] as const), 'random'),
  });
}

function checkRegions(f: Field): readonly string[] | undefined {
  const items = list(f);
  if (!items) return undefined;
  const out: string[] = [];
  for (const item of items) {
    const v = item.scalar;
    const code = typeof v === 'string' ? v.toUpperCase() : undefined;
    if (code === undefined || !CHECK_REGIONS.includes(code)) {
      item.error(`must be a region code (${REGIONS.join(' ')}) or ALL_REGIONS, got ${describe(item)}`);
    } else {
      out.push(code);
    }
  }
  return Object.freeze(out);
}

function readOrigins(o: Obj): Origin[] | undefined {
  const f = o.required('origins');
  if (!f) return undefined;
  const items = list(f);
  if (!items) return undefined;
  if (items.length === 0) return f.error('must list at least one origin');
  const out: Origin[] = [];
  const names = new Map<string, Field>();
  const addresses = new Map<string, Field>();
  for (const item of items) {
    const read = readOrigin(item);
    if (!read) continue;
    const { origin, nameField, addressField } = read;
    const nameAt = names.get(origin.name);
    if (nameAt) nameField.error(`origin name "${origin.name}" is already used by ${nameAt.path.replace(/\.name$/, '')} (line ${nameAt.line})`);
    else names.set(origin.name, nameField);
    const key = addressKey(origin.address);
    const addrAt = addresses.get(key);
    if (addrAt) addressField.error(`address ${origin.addressText} is already used by ${addrAt.path.replace(/\.address$/, '')} (line ${addrAt.line})`);
    else addresses.set(key, addressField);
    out.push(origin);
  }
  return out;
}

function readOrigin(f: Field): { origin: Origin; nameField: Field; addressField: Field } | undefined {
  const o = obj(f);
  if (!o) return undefined;
  const before = f.scope.errors;
  o.checkFields(ORIGIN_FIELDS);
  const nameField = o.required('name');
  const name = nameField ? str(nameField) : undefined;
  if (name === '') nameField?.error('must not be empty');
  const addressField = o.required('address');
  const addressText = addressField ? str(addressField) : undefined;
  const address = addressField && addressText !== undefined ? originAddress(addressField, addressText) : undefined;
  noEffect(o, ['virtual_network_id'], 'DNS-only load balancers answer with public addresses only');
  const origin: Origin = {
    name: name ?? '',
    address: address ?? { kind: 'ipv4', ip: '' },
    addressText: addressText ?? '',
    enabled: opt(o, 'enabled', bool, true),
    weight: opt(o, 'weight', (x) => num(x, 0, 1, false), 1),
    port: opt(o, 'port', (x) => num(x, 0, 65535, true), 0),
    header: opt(o, 'header', (x) => headerMap(x, 'Host'), {}),
    flatten_cname: opt(o, 'flatten_cname', bool, true),
    source: Object.freeze({ file: f.file, line: f.line }),
  };
  if (!name || !address || !nameField || !addressField || f.scope.errors > before) return undefined;
  return { origin: Object.freeze(origin), nameField, addressField };
}

/** IPv4, IPv6 (no zone index) or a hostname, always absolute (a trailing dot is optional). */
function originAddress(f: Field, text: string): OriginAddress | undefined {
  const family = isIP(text);
  if (family === 4) return Object.freeze({ kind: 'ipv4', ip: text });
  if (family === 6 && !text.includes('%')) return Object.freeze({ kind: 'ipv6', ip: canonicalIpv6(text) });
  const name = hostname(text, false);
  if (typeof name === 'string') return f.error(`must be an IPv4 address, an IPv6 address or a hostname: ${name}`);
  return Object.freeze({ kind: 'hostname', name });
}

/** RFC 5952 form, so that two spellings of one address are found to be the same. */
function canonicalIpv6(text: string): string {
  return new URL(`http://[${text}]/`).hostname.slice(1, -1);
}

function addressKey(a: OriginAddress): string {
  return a.kind === 'hostname' ? a.name.key : a.ip;
}

/**
 * A hostname in presentation form with an optional trailing dot: letters, digits, "-" and "_"
 * per label (RFC 952/1123, "_" for service names), `*` as the leftmost label when
 * `wildcard`, a top-level label that is not all digits. Returns the reason when it is not one.
 * Without a trailing dot the name is relative to `origin` when one is given, else absolute.
 */
export function hostname(text: string, wildcard: boolean, origin?: Name): Name | string {
  const bare = text.endsWith('.') ? text.slice(0, -1) : text;
  const labels = bare.split('.');
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l === '*' && i === 0 && wildcard) continue;
    if (l === '') return `${JSON.stringify(text)} has an empty label`;
    if (l.includes('*')) return `${JSON.stringify(text)}: "*" is only allowed as the whole leftmost label${wildcard ? '' : ' of a load balancer name'}`;
    if (!/^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?$/.test(l)) return `${JSON.stringify(text)}: label "${l}" must be letters, digits, "-" and "_", not starting or ending with "-"`;
  }
  const absolute = text.endsWith('.') || !origin;
  if (absolute && /^[0-9]+$/.test(labels[labels.length - 1])) return `${JSON.stringify(text)}: the last label must not be all digits`;
  try {
    return Name.fromText(absolute && !text.endsWith('.') ? text + '.' : text, origin);
  } catch (e) {
    if (!(e instanceof NameError)) throw e;
    return `${JSON.stringify(text)}: ${e.message}`;
  }
}
