/**
 * Loads the `*.lb.yaml` files of the zones directory into the load-balancing model: monitors,
 * pools and load balancers with Cloudflare's field names and defaults, referring to each other
 * by name across files. Every problem has a file, a line and the field path. An object with
 * an error is dropped, and so is everything that refers to it; the valid rest is returned.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { isMap, LineCounter, parseDocument } from 'yaml';
import { Name, NameError } from '../wire/name.js';
import type { Problem } from '../config/problem.js';
import type { ZoneSet } from '../zone/zoneset.js';
import { readLoadBalancer, type LbDraft, type NameContext } from './config-lb.js';
import { readMonitor } from './config-monitor.js';
import { readPool, type PoolDraft } from './config-pool.js';
import { editDistance, FileScope, list, obj, type At, type Field, type ParsedObject, type Ref } from '../config/yaml.js';
import type { LbConfig, LoadBalancer, Monitor, Pool } from './model.js';

export interface LbLoadResult {
  config: LbConfig;
  problems: Problem[];
  /** Files that had errors and were loaded from the text `fallback` gave. */
  replaced?: string[];
  /** The text of each file loaded without errors, as it was read. */
  sources?: Map<string, string>;
}

const SUFFIX = '.lb.yaml';

/** Loads every `*.lb.yaml` in `dir` (sorted by name). `zones` are the zones served, to place load balancers and report clashes. */
export function loadLbDir(dir: string, zones: ZoneSet, fallback?: (path: string) => string | undefined, failedZones: ReadonlyMap<string, string> = new Map()): LbLoadResult {
  const problems: Problem[] = [];
  let names: string[];
  try {
    names = readdirSync(dir).filter((f) => f.endsWith(SUFFIX)).sort();
  } catch (e) {
    problems.push({ file: dir, line: 0, severity: 'error', message: `cannot read the directory: ${(e as Error).message}` });
    names = [];
  }
  const files: { file: string; text: string }[] = [];
  for (const n of names) {
    const file = join(dir, n);
    try {
      files.push({ file, text: readFileSync(file, 'utf8') });
    } catch (e) {
      problems.push({ file, line: 0, severity: 'error', message: `cannot read the file: ${(e as Error).message}` });
    }
  }
  let result = loadLbTexts(files, zones, failedZones);
  const failing = new Set(result.problems.filter((p) => p.severity === 'error').map((p) => p.file));
  // A file with errors is loaded from its last good text, when there is one, and the whole set again.
  const replaced: string[] = [];
  const texts = files.map((f) => {
    const saved = failing.has(f.file) ? fallback?.(f.file) : undefined;
    if (saved === undefined) return f;
    replaced.push(f.file);
    return { file: f.file, text: saved };
  });
  const firstProblems = result.problems;
  if (replaced.length > 0) result = loadLbTexts(texts, zones, failedZones);
  const sources = new Map(files.filter((f) => !failing.has(f.file)).map((f) => [f.file, f.text]));
  // The problems of the files as written are the ones to fix, whatever is served.
  return { config: result.config, problems: [...problems, ...firstProblems], replaced, sources };
}

/** Same for given file texts (for tests): [{file, text}]. */
export function loadLbTexts(files: readonly { file: string; text: string }[], zones: ZoneSet, failedZones: ReadonlyMap<string, string> = new Map()): LbLoadResult {
  const problems: Problem[] = [];
  const monitors: ParsedObject<Monitor>[] = [];
  const pools: ParsedObject<PoolDraft>[] = [];
  const lbs: ParsedObject<LbDraft>[] = [];
  for (const { file, text } of files) {
    const read = readFile(file, text, zones, problems, failedZones);
    monitors.push(...read.monitors);
    pools.push(...read.pools);
    lbs.push(...read.lbs);
  }
  const config = link(
    register('monitor', monitors, problems),
    register('pool', pools, problems),
    register('load balancer', lbs, problems),
    problems,
  );
  // Stable: file order, then line; problems on one line keep the order they were found in.
  const order = new Map(files.map((f, i) => [f.file, i]));
  problems.sort((a, b) => (order.get(a.file) ?? -1) - (order.get(b.file) ?? -1) || a.line - b.line);
  return { config, problems };
}

interface FileObjects {
  monitors: ParsedObject<Monitor>[];
  pools: ParsedObject<PoolDraft>[];
  lbs: ParsedObject<LbDraft>[];
}

function readFile(file: string, text: string, zones: ZoneSet, problems: Problem[], failedZones: ReadonlyMap<string, string>): FileObjects {
  const out: FileObjects = { monitors: [], pools: [], lbs: [] };
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) problems.push({ file, line: lines.linePos(e.pos[0]).line, severity: 'error', message: `invalid YAML: ${e.message}` });
    return out;
  }
  for (const w of doc.warnings) problems.push({ file, line: lines.linePos(w.pos[0]).line, severity: 'warning', message: `YAML: ${w.message}` });
  if (doc.contents === null) return out;
  const scope = new FileScope(file, doc, lines, problems);
  const top = scope.field(doc.contents, '', 1);
  if (top.isNull) return out;
  if (!isMap(top.node)) {
    problems.push({ file, line: top.line, severity: 'error', message: 'the top level must be a mapping with monitors, pools and load_balancers' });
    return out;
  }
  const o = obj(top);
  if (!o) return out;
  o.checkFields(['monitors', 'pools', 'load_balancers']);
  const items = (key: string): Field[] => {
    const f = o.get(key);
    return (f && list(f)) || [];
  };
  const ctx: NameContext = { zones, origin: fileZone(file, zones) ?? failedZone(file, failedZones), failedZones, saidFailed: new Set() };
  out.monitors = items('monitors').map(readMonitor);
  out.pools = items('pools').map(readPool);
  out.lbs = items('load_balancers').map((f) => readLoadBalancer(f, ctx));
  return out;
}

/** The zone the file is named after when its zone file failed to load: names stay relative to it. */
function failedZone(file: string, failedZones: ReadonlyMap<string, string>): Name | undefined {
  const stem = basename(file).slice(0, -SUFFIX.length);
  try {
    const name = Name.fromText(stem.endsWith('.') ? stem : stem + '.');
    return failedZones.has(name.key) ? name : undefined;
  } catch (e) {
    if (e instanceof NameError) return undefined;
    throw e;
  }
}

/** The zone served here that the file is named after (`example.com.lb.yaml`), if any. */
function fileZone(file: string, zones: ZoneSet): Name | undefined {
  const stem = basename(file).slice(0, -SUFFIX.length);
  if (!basename(file).endsWith(SUFFIX) || stem === '') return undefined;
  try {
    const name = Name.fromText(stem.endsWith('.') ? stem : stem + '.');
    const zone = zones.find(name);
    return zone && zone.origin.key === name.key ? zone.origin : undefined;
  } catch (e) {
    if (e instanceof NameError) return undefined;
    throw e;
  }
}

/** Objects by name, first declaration wins; `value` is undefined when the object had errors. */
type Registry<T> = Map<string, { readonly value?: T; readonly at: At }>;

function register<T>(kind: string, objects: readonly ParsedObject<T>[], problems: Problem[]): Registry<T> {
  const registry: Registry<T> = new Map();
  for (const o of objects) {
    if (o.name === undefined) continue;
    const at: At = { file: o.field.file, path: `${o.field.path}.name`, line: o.field.line };
    const earlier = registry.get(o.name);
    if (earlier) {
      error(problems, at, `${kind} ${kind === 'load balancer' ? o.name : JSON.stringify(o.name)} is already defined at ${earlier.at.file}:${earlier.at.line}`);
      continue;
    }
    registry.set(o.name, { value: o.value, at });
  }
  return registry;
}

function error(problems: Problem[], at: At, message: string): void {
  problems.push({ file: at.file, line: at.line, severity: 'error', message: `${at.path}: ${message}` });
}

function warn(problems: Problem[], at: At, message: string): void {
  problems.push({ file: at.file, line: at.line, severity: 'warning', message: `${at.path}: ${message}` });
}

/**
 * What was dropped because something it uses was: one line per object not loaded, at that
 * object, naming everything that goes with it (instead of one error per reference).
 */
type Cascades = Map<string, { readonly kind: string; readonly name: string; readonly at: At; readonly users: Set<string> }>;

/**
 * Finds a referenced object among those built, or reports why it is not there: never defined
 * (with a close name as a hint), or not loaded (its own errors are reported already: `user`
 * joins the list of what is dropped with it).
 */
function resolve<T>(kind: string, r: Ref, built: ReadonlyMap<string, T>, registry: Registry<unknown>, problems: Problem[], cascades: Cascades, user: string): T | undefined {
  const found = built.get(r.name);
  if (found) return found;
  const declared = registry.get(r.name);
  if (declared) {
    const key = `${kind} ${r.name}`;
    const c = cascades.get(key) ?? { kind, name: r.name, at: declared.at, users: new Set<string>() };
    c.users.add(user);
    cascades.set(key, c);
    return undefined;
  }
  const near = [...registry.keys()].find((k) => k.toLowerCase() === r.name.toLowerCase() || editDistance(k, r.name) <= 2);
  error(problems, r, `no ${kind} named "${r.name}"${near ? ` (did you mean "${near}"?)` : ''}`);
  return undefined;
}

function link(monitorRegistry: Registry<Monitor>, poolRegistry: Registry<PoolDraft>, lbRegistry: Registry<LbDraft>, problems: Problem[]): LbConfig {
  const cascades: Cascades = new Map();
  const monitors = new Map<string, Monitor>();
  for (const [name, { value }] of monitorRegistry) if (value) monitors.set(name, value);

  const pools = new Map<string, Pool>();
  for (const [name, { value }] of poolRegistry) {
    if (!value) continue;
    const monitor = value.monitor && resolve('monitor', value.monitor, monitors, monitorRegistry, problems, cascades, `pool "${name}"`);
    if (value.monitor && !monitor) continue;
    pools.set(name, Object.freeze({ ...value.pool, ...(monitor ? { monitor } : {}) }));
  }

  const loadBalancers = new Map<string, LoadBalancer>();
  for (const [key, { value }] of lbRegistry) {
    if (!value) continue;
    const lb = linkLoadBalancer(value, (r) => resolve('pool', r, pools, poolRegistry, problems, cascades, `load balancer ${key}`));
    if (!lb) continue;
    loadBalancers.set(key, lb);
    checkLinked(lb, value, problems);
  }
  for (const c of cascades.values()) {
    const users = [...c.users];
    error(problems, { ...c.at, path: c.at.path.replace(/\.name$/, '') }, `${c.kind} "${c.name}" is not loaded, and so neither ${users.length === 1 ? 'is' : 'are'} ${users.join(', ')}, which use${users.length === 1 ? 's' : ''} it`);
  }
  return Object.freeze({ monitors, pools, loadBalancers });
}

/** The load balancer with its pools resolved; undefined (errors reported) when any is missing. */
function linkLoadBalancer(d: LbDraft, pool: (r: Ref) => Pool | undefined): LoadBalancer | undefined {
  let ok = true;
  const pools = (refs: readonly Ref[]): readonly Pool[] => {
    const out: Pool[] = [];
    for (const r of refs) {
      const p = pool(r);
      if (p) out.push(p);
      else ok = false;
    }
    return Object.freeze(out);
  };
  const poolMap = (m: ReadonlyMap<string, readonly Ref[]>): ReadonlyMap<string, readonly Pool[]> =>
    new Map([...m].map(([k, refs]) => [k, pools(refs)]));
  const default_pools = pools(d.default_pools);
  const fallback_pool = pool(d.fallback_pool);
  const region_pools = poolMap(d.region_pools);
  const country_pools = poolMap(d.country_pools);
  const pop_pools = poolMap(d.pop_pools);
  const pool_weights = new Map<string, number>();
  for (const [name, { ref, weight }] of d.pool_weights) {
    if (pool(ref)) pool_weights.set(name, weight);
    else ok = false;
  }
  if (!ok || !fallback_pool) return undefined;
  return Object.freeze({
    name: d.name,
    zone: d.zone,
    description: d.description,
    enabled: d.enabled,
    ttl: d.ttl,
    steering_policy: d.steering_policy,
    default_pools,
    fallback_pool,
    region_pools,
    country_pools,
    pop_pools,
    random_steering: Object.freeze({ default_weight: d.default_weight, pool_weights }),
    location_strategy: d.location_strategy,
    ...(d.persistence ? { persistence: d.persistence } : {}),
    source: d.source,
  });
}

/** Warnings that need the pools: CNAME answers at the apex, proximity without coordinates. */
function checkLinked(lb: LoadBalancer, d: LbDraft, problems: Problem[]): void {
  if (lb.name.key === lb.zone.key) {
    const used = new Set<Pool>([...lb.default_pools, lb.fallback_pool]);
    for (const m of [lb.region_pools, lb.country_pools, lb.pop_pools]) for (const ps of m.values()) for (const p of ps) used.add(p);
    for (const p of used) {
      for (const o of p.origins) {
        if (o.address.kind === 'hostname' && !o.flatten_cname) {
          warn(problems, d.nameAt, `${lb.name} is a zone apex, where a CNAME cannot be answered: origin "${o.name}" (${o.addressText}) of pool "${p.name}" is flattened to its addresses despite flatten_cname: false`);
        }
      }
    }
  }
  if (lb.steering_policy === 'proximity') {
    const missing = lb.default_pools.filter((p) => p.latitude === undefined).map((p) => `"${p.name}"`);
    if (missing.length > 0) {
      warn(problems, d.policyAt ?? d.nameAt, `proximity steering needs pool coordinates: pool(s) ${missing.join(', ')} have no latitude/longitude and are tried last`);
    }
  }
}
