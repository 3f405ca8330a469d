/**
 * A steering decision as text for people: what `steerdns explain` prints and the HTTP explain
 * endpoint returns. Pure: takes the load balancer and a Decision (with its trace, ideally)
 * and returns a string; nothing is looked up again, so the text describes exactly the
 * decision that was made.
 */
import type { LoadBalancer, Origin } from './model.js';
import type { Location } from '../geo/location.js';
import type { Decision } from './steer.js';

export interface ExplainExtra {
  /** The query type asked, e.g. "A". */
  readonly qtype?: string;
  /** The answer records as presentation lines, when the caller built them. */
  readonly answers?: readonly string[];
  /**
   * steering_policy as written in the configuration ("" included), when the caller knows it;
   * the model only keeps the effective policy.
   */
  readonly configuredPolicy?: string;
}

export function formatDecision(lb: LoadBalancer, d: Decision, extra?: ExplainExtra): string {
  const out: string[] = [];
  const zone = lb.zone.toString();
  out.push(`load balancer ${lb.name.toString()} (zone ${zone}, ${lb.source.file}:${lb.source.line})${lb.enabled ? '' : ' [disabled]'}`);
  if (extra?.qtype !== undefined) out.push(`query type: ${extra.qtype}`);
  out.push(`steering policy: ${d.policy} (${policyWhy(lb, d, extra?.configuredPolicy)})`);
  out.push(`location: ${locationText(d)}`);
  out.push(`  why: ${locationWhy(lb, d)}`);
  out.push(`client-dependent answer: ${d.clientDependent ? 'yes (scoped to the client subnet)' : 'no (same for every client at this PoP)'}`);
  out.push(`pool list: ${d.poolList}`);

  if (d.trace) {
    out.push('candidate pools:');
    if (d.trace.pools.length === 0) out.push('  (none)');
    const width = Math.max(0, ...d.trace.pools.map((v) => v.pool.name.length));
    d.trace.pools.forEach((v, i) => {
      const mark = !d.fallback && v.pool === d.pool ? '  <= chosen' : '';
      out.push(`  ${i + 1}. ${v.pool.name.padEnd(width)}  ${v.usable ? 'kept   ' : 'dropped'}  ${v.reason}${mark}`);
    });
  } else {
    out.push('candidate pools: (no trace recorded)');
  }

  out.push(`pool: ${poolText(lb, d)}`);
  if (d.pool !== undefined) {
    if (d.origins.length === 0) {
      out.push('origins: none: NODATA');
    } else {
      out.push('origins:');
      const width = Math.max(...d.origins.map((o) => o.name.length));
      for (const o of d.origins) out.push(`  ${o.name.padEnd(width)}  ${addressText(o)}  weight ${o.weight}`);
    }
  }
  out.push(`ttl: ${lb.ttl}`);

  if (d.trace && d.trace.notes.length > 0) {
    out.push('notes:');
    for (const n of d.trace.notes) out.push(`  - ${n}`);
  }
  if (extra?.answers !== undefined) {
    out.push('answers:');
    if (extra.answers.length === 0) out.push('  (none)');
    for (const a of extra.answers) out.push(`  ${a}`);
  }
  return out.join('\n') + '\n';
}

function hasGeoMaps(lb: LoadBalancer): boolean {
  return lb.region_pools.size > 0 || lb.country_pools.size > 0 || lb.pop_pools.size > 0;
}

function policyWhy(lb: LoadBalancer, d: Decision, configured: string | undefined): string {
  const degraded = d.policy === 'least_outstanding_requests' || d.policy === 'least_connections' ? '; nothing to count in DNS-only mode: weighted random by random_steering' : '';
  if (configured === '') return `"" resolved to ${d.policy}: ${hasGeoMaps(lb) ? 'region, country or pop pools are set' : 'no region, country or pop pools are set'}`;
  if (configured !== undefined) return `as configured${degraded}`;
  if (d.policy === 'geo' && hasGeoMaps(lb)) return 'configured, or "" resolved to geo because region, country or pop pools are set';
  if (d.policy === 'off' && !hasGeoMaps(lb)) return 'configured, or "" resolved to off because no region, country or pop pools are set';
  return `as configured${degraded}`;
}

function locationText(d: Decision): string {
  if (d.locationSource === 'none' || d.location === undefined) return 'not used';
  const source = d.locationSource === 'ecs' ? 'ECS client subnet' : d.locationSource === 'resolver' ? 'resolver address' : "this node's PoP";
  return `${source}: ${describeLocation(d.location)}`;
}

/** "country DE, region WEU, PoP FRA, 50.11, 8.68", or "nothing known". */
export function describeLocation(l: Location): string {
  const parts: string[] = [];
  if (l.country !== undefined) parts.push(`country ${l.country}`);
  if (l.region !== undefined) parts.push(`region ${l.region}`);
  if (l.pop !== undefined) parts.push(`PoP ${l.pop}`);
  if (l.latitude !== undefined && l.longitude !== undefined) parts.push(`${l.latitude}, ${l.longitude}`);
  return parts.length === 0 ? 'nothing known' : parts.join(', ');
}

/** Reference §1.1, told backwards from the decision and the load balancer's location_strategy. */
function locationWhy(lb: LoadBalancer, d: Decision): string {
  const { prefer_ecs: prefer, mode } = lb.location_strategy;
  const strategy = `location_strategy {prefer_ecs: ${prefer}, mode: ${mode}}`;
  if (d.locationSource === 'none') return `${d.policy} does not steer by location`;
  const ecsPreferred = prefer === 'always' || prefer === d.policy;
  if (d.locationSource === 'ecs') return `${strategy}: ECS is preferred ${prefer === 'always' ? 'always' : `for ${d.policy}`} and the query's subnet was located`;
  const ecs = ecsPreferred
    ? 'ECS preferred but absent or not located'
    : prefer === 'never'
      ? 'ECS never used'
      : `ECS only preferred for ${prefer}, not ${d.policy}`;
  if (d.locationSource === 'resolver') return `${strategy}: ${ecs}; mode resolver_ip: the resolver's address`;
  if (mode === 'resolver_ip') return `${strategy}: ${ecs}; mode resolver_ip but the resolver's address was not located: this node's PoP`;
  const popNote = d.policy === 'geo' ? '; pop_pools key off the PoP of an operator override, else this node\'s PoP' : '';
  return `${strategy}: ${ecs}; mode pop: this node's PoP${popNote}`;
}

function poolText(lb: LoadBalancer, d: Decision): string {
  if (!d.fallback) return d.pool === undefined ? 'none: NODATA' : `${d.pool.name} (${d.pool.origin_steering.policy} origin steering)`;
  if (d.pool === undefined) return `none: NODATA with SOA: no candidate pool is usable and the fallback pool ${lb.fallback_pool.name} is disabled`;
  return `${d.pool.name}: FALLBACK (no candidate pool is usable; the fallback pool's health is ignored)`;
}

function addressText(o: Origin): string {
  if (o.address.kind !== 'hostname') return o.addressText;
  return `${o.addressText} (hostname, ${o.flatten_cname ? 'flattened to A/AAAA' : 'answered as CNAME off the apex'})`;
}
