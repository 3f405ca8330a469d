/**
 * Reading one load balancer from a `*.lb.yaml` file (reference §1, §8): its name placed in a
 * zone served here, Cloudflare's defaults, and the pools it names, still as references.
 */
import type { Name } from '../wire/name.js';
import { T, typeToText } from '../wire/types.js';
import { isCountryCode } from '../geo/regions.js';
import type { ZoneSet } from '../zone/zoneset.js';
import { LOCATION_MODES, PERSISTENCE_KEYS, PREFER_ECS, STEERING_POLICIES, type LocationStrategy, type Persistence, type SteeringPolicy } from './model.js';
import { REGIONS } from '../geo/location.js';
import { hostname } from './config-pool.js';
import {
  bool, entries, list, noEffect, num, obj, oneOf, opt, READ_ONLY_FIELDS, ref, str,
  type At, type Field, type Obj, type ParsedObject, type Ref,
} from '../config/yaml.js';

const LB_FIELDS = [
  'name', 'description', 'enabled', 'ttl', 'steering_policy', 'default_pools', 'fallback_pool', 'region_pools',
  'country_pools', 'pop_pools', 'random_steering', 'location_strategy', 'persistence', 'proxied', 'session_affinity',
  'session_affinity_ttl', 'session_affinity_attributes', 'adaptive_routing', 'rules', 'pool_sets', 'networks',
  'zone_name', ...READ_ONLY_FIELDS,
];
/** Steering policies that count requests or connections: all counts are 0 in DNS-only mode. */
const COUNTING_POLICIES: readonly string[] = ['least_outstanding_requests', 'least_connections'];
/** Upper bound for `ttl`: one day, beyond which failover through DNS stops making sense. */
const MAX_TTL = 86400;
const REGION_SET: ReadonlySet<string> = new Set(REGIONS);
const POP_CODE = /^[A-Za-z0-9]{3,4}$/;
/** Upper bound for `persistence.ttl`: one week. */
const MAX_PERSISTENCE_TTL = 604800;

/** A load balancer before its pools are resolved. */
export interface LbDraft {
  readonly name: Name;
  readonly zone: Name;
  readonly nameAt: At;
  readonly description: string;
  readonly enabled: boolean;
  readonly ttl: number;
  readonly steering_policy: SteeringPolicy;
  readonly policyAt?: At;
  readonly default_pools: readonly Ref[];
  readonly fallback_pool: Ref;
  readonly region_pools: ReadonlyMap<string, readonly Ref[]>;
  readonly country_pools: ReadonlyMap<string, readonly Ref[]>;
  readonly pop_pools: ReadonlyMap<string, readonly Ref[]>;
  readonly default_weight: number;
  readonly pool_weights: ReadonlyMap<string, { readonly ref: Ref; readonly weight: number }>;
  readonly location_strategy: LocationStrategy;
  readonly persistence?: Persistence;
  readonly source: { readonly file: string; readonly line: number };
}

/** What placing names needs to know about the file and the zones served. */
export interface NameContext {
  readonly zones: ZoneSet;
  /** The zone the file is named after (`example.com.lb.yaml`), when it is served here. */
  readonly origin?: Name;
  /** Zones whose zone files failed to load (origin key -> file), and those already said so. */
  readonly failedZones?: ReadonlyMap<string, string>;
  readonly saidFailed?: Set<string>;
}

const NO_LOCATION_STRATEGY: LocationStrategy = Object.freeze({ prefer_ecs: 'proximity', mode: 'pop' });

/** The object's `name` in the result is the name's key, for finding duplicates. */
export function readLoadBalancer(f: Field, ctx: NameContext): ParsedObject<LbDraft> {
  const o = obj(f);
  if (!o) return { field: f };
  const scope = f.scope;
  const before = scope.errors;
  o.checkFields(LB_FIELDS);
  const nameField = o.required('name');
  const placed = nameField ? placeName(nameField, ctx) : undefined;

  const policyField = o.get('steering_policy');
  const policy = opt(o, 'steering_policy', (x) => oneOf(x, [...STEERING_POLICIES, ''] as const), '');
  if (policyField && COUNTING_POLICIES.includes(policy)) {
    policyField.warn(`${policy} needs request or connection counts, which a DNS-only load balancer does not have: it behaves as random`);
  }
  const defaultPoolsField = o.required('default_pools');
  const defaultPools = defaultPoolsField ? poolList(defaultPoolsField) : undefined;
  const fallbackField = o.required('fallback_pool');
  const fallback = fallbackField ? ref(fallbackField) : undefined;
  const regionPools = opt(o, 'region_pools', (x) => poolMap(x, regionKey), EMPTY_MAP);
  const countryPools = opt(o, 'country_pools', (x) => poolMap(x, countryKey), EMPTY_MAP);
  const popPools = opt(o, 'pop_pools', (x) => poolMap(x, popKey), EMPTY_MAP);
  const random = randomSteering(o, defaultPools ?? []);

  const proxied = opt(o, 'proxied', bool, false);
  if (proxied) o.get('proxied')?.warn('true has no effect: steerdns answers as a DNS-only ("gray cloud") load balancer');
  noEffect(o, ['session_affinity', 'session_affinity_ttl', 'session_affinity_attributes', 'adaptive_routing'], 'it applies to proxied load balancing only');
  noEffect(o, ['rules', 'pool_sets', 'networks'], 'not supported by steerdns');

  const persistence = opt(o, 'persistence', persistenceOf, undefined);

  const anyGeo = regionPools.size + countryPools.size + popPools.size > 0;
  const draft = {
    description: opt(o, 'description', str, ''),
    enabled: opt(o, 'enabled', bool, true),
    ttl: opt(o, 'ttl', (x) => num(x, 0, MAX_TTL, true), 30),
    steering_policy: policy === '' ? (anyGeo ? 'geo' : 'off') : policy,
    ...(policyField ? { policyAt: { file: f.file, path: policyField.path, line: policyField.line } } : {}),
    region_pools: regionPools,
    country_pools: countryPools,
    pop_pools: popPools,
    default_weight: random.default_weight,
    pool_weights: random.pool_weights,
    location_strategy: opt(o, 'location_strategy', locationStrategy, NO_LOCATION_STRATEGY),
    ...(persistence ? { persistence } : {}),
    source: Object.freeze({ file: f.file, line: f.line }),
  } satisfies Partial<LbDraft>;
  if (!placed || !defaultPools || !fallback || scope.errors > before) return { name: placed?.name.key, field: f };
  const nameAt: At = { file: f.file, path: placed.field.path, line: placed.field.line };
  return {
    name: placed.name.key,
    field: f,
    value: { ...draft, name: placed.name, zone: placed.zone, nameAt, default_pools: defaultPools, fallback_pool: fallback },
  };
}

const EMPTY_MAP: ReadonlyMap<string, readonly Ref[]> = new Map();

/**
 * The load balancer's name: absolute with a trailing dot, when inside the zone the file is
 * named after, or when the file is not named after a zone; otherwise relative to that zone.
 * It must lie in a zone served here, and not below a delegation.
 */
function placeName(f: Field, ctx: NameContext): { name: Name; zone: Name; field: Field } | undefined {
  const text = str(f);
  if (text === undefined) return undefined;
  let name: Name | string;
  if (text.endsWith('.') || !ctx.origin) {
    name = hostname(text, true);
  } else {
    const absolute = hostname(text, true);
    name = typeof absolute !== 'string' && absolute.isSubdomainOf(ctx.origin) ? absolute : hostname(text, true, ctx.origin);
  }
  if (typeof name === 'string') return f.error(`must be a hostname: ${name}`);
  const zone = ctx.zones.find(name);
  const failed = zone ? undefined : [...(ctx.failedZones ?? [])].find(([origin]) => name.key === origin || name.key.endsWith('.' + origin));
  if (failed) {
    // The zone file's own errors say why; one line per file says what goes with them.
    if (ctx.saidFailed?.has(failed[0])) {
      f.scope.errors++;
      return undefined;
    }
    ctx.saidFailed?.add(failed[0]);
    return f.error(`${name} is in zone ${failed[0]}, whose zone file ${failed[1]} has errors: the load balancers of that zone are not loaded until it loads`);
  }
  if (!zone) {
    const hint = !ctx.origin && !text.endsWith('.') ? ' (names are absolute here: the file is not named <zone>.lb.yaml after a zone served here)' : '';
    return f.error(`${name} is not inside a zone served here${hint}`);
  }
  const found = zone.lookup(name, T.A);
  if (found.kind === 'dname') {
    return f.error(`${name} is below the DNAME at ${found.rrset.owner} in zone ${zone.origin}: queries for it are rewritten (RFC 6672), never answered here`);
  }
  if (found.kind === 'referral') {
    return f.error(`${name} is at or below the delegation to ${found.ns.owner} in zone ${zone.origin}: queries for it are referred, never answered here`);
  }
  const rrsets = zone.node(name.key)?.rrsets;
  const clash = [T.A, T.AAAA, T.CNAME].filter((t) => rrsets?.has(t)).map(typeToText);
  if (clash.length > 0) f.warn(`load balancer ${name} takes precedence over the static ${clash.join(', ')} record(s) at this name`);
  return { name, zone: zone.origin, field: f };
}

/** A non-empty list of pool names; a repeated name is ignored with a warning. */
function poolList(f: Field): readonly Ref[] | undefined {
  const items = list(f);
  if (!items) return undefined;
  if (items.length === 0) return f.error('must list at least one pool');
  const out: Ref[] = [];
  let ok = true;
  for (const item of items) {
    const r = ref(item);
    if (!r) ok = false;
    else if (out.some((x) => x.name === r.name)) item.warn(`pool "${r.name}" is already listed; the repeat is ignored`);
    else out.push(r);
  }
  return ok ? Object.freeze(out) : undefined;
}

/** A mapping from location codes to pool lists; `key` normalizes a code or returns why it is wrong. */
function poolMap(f: Field, key: (k: string) => string | { error: string }): ReadonlyMap<string, readonly Ref[]> | undefined {
  const es = entries(f);
  if (!es) return undefined;
  const out = new Map<string, readonly Ref[]>();
  const seen = new Map<string, string>();
  let ok = true;
  for (const e of es) {
    const k = key(e.key);
    if (typeof k !== 'string') {
      f.scope.error(e.keyAt, k.error);
      ok = false;
      continue;
    }
    const earlier = seen.get(k);
    if (earlier !== undefined) {
      f.scope.error(e.keyAt, `${k} is already listed as "${earlier}"`);
      ok = false;
      continue;
    }
    seen.set(k, e.key);
    const pools = poolList(e.value);
    if (pools) out.set(k, pools);
    else ok = false;
  }
  return ok ? out : undefined;
}

function regionKey(k: string): string | { error: string } {
  const up = k.toUpperCase();
  return REGION_SET.has(up) ? up : { error: `is not a region code (${REGIONS.join(' ')})` };
}

function countryKey(k: string): string | { error: string } {
  return k.length === 2 && isCountryCode(k) ? k.toUpperCase() : { error: 'is not an ISO 3166-1 alpha-2 country code known to the region table' };
}

function popKey(k: string): string | { error: string } {
  return POP_CODE.test(k) ? k.toUpperCase() : { error: 'is not a PoP code (3 or 4 letters or digits, such as FRA)' };
}

function randomSteering(o: Obj, defaultPools: readonly Ref[]): Pick<LbDraft, 'default_weight' | 'pool_weights'> {
  const f = o.get('random_steering');
  const r = f ? obj(f) : undefined;
  if (!r) return { default_weight: 1, pool_weights: new Map() };
  r.checkFields(['default_weight', 'pool_weights']);
  const weights = new Map<string, { ref: Ref; weight: number }>();
  const wf = r.get('pool_weights');
  for (const e of (wf ? entries(wf) : undefined) ?? []) {
    const weight = num(e.value, 0, 1, false);
    if (weight === undefined) continue;
    if (!defaultPools.some((p) => p.name === e.key)) e.value.scope.warn(e.keyAt, `pool "${e.key}" is not in default_pools: its weight is never used`);
    weights.set(e.key, { ref: { ...e.keyAt, name: e.key }, weight });
  }
  return { default_weight: opt(r, 'default_weight', (x) => num(x, 0, 1, false), 1), pool_weights: weights };
}

function locationStrategy(f: Field): LocationStrategy | undefined {
  const o = obj(f);
  if (!o) return undefined;
  o.checkFields(['prefer_ecs', 'mode']);
  return Object.freeze({
    prefer_ecs: opt(o, 'prefer_ecs', (x) => oneOf(x, PREFER_ECS), 'proximity'),
    mode: opt(o, 'mode', (x) => oneOf(x, LOCATION_MODES), 'pop'),
  });
}

/** `persistence: {ttl, key, mask_v4, mask_v6}`; every field has a default, so `{}` turns it on. */
function persistenceOf(f: Field): Persistence | undefined {
  const o = obj(f);
  if (!o) return undefined;
  const before = f.scope.errors;
  o.checkFields(['ttl', 'key', 'mask_v4', 'mask_v6']);
  const p: Persistence = Object.freeze({
    ttl: opt(o, 'ttl', (x) => num(x, 1, MAX_PERSISTENCE_TTL, true), 3600),
    key: opt(o, 'key', (x) => oneOf(x, PERSISTENCE_KEYS), 'ecs'),
    mask_v4: opt(o, 'mask_v4', (x) => num(x, 0, 32, true), 24),
    mask_v6: opt(o, 'mask_v6', (x) => num(x, 0, 128, true), 56),
  });
  return f.scope.errors > before ? undefined : p;
}
