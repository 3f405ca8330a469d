/**
 * Explains how a query would be answered: which zone, which load balancer, the steering
 * decision with every candidate pool, and the records that would be sent. Backs
 * `steerdns explain` and (later) the HTTP explain endpoint. Uses the same snapshot and the
 * same code as the query path; the traced decision is the one the answer is built from.
 */
import { isIP } from 'node:net';
import { Name, NameError } from '../wire/name.js';
import { rrsetLines } from '../wire/present.js';
import { resolve, type Resolution } from '../answer/resolve.js';
import { Decisions, type SteeringContext } from '../answer/steered.js';
import { rcodeToText, T, typeFromText, typeToText } from '../wire/types.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { describeLocation, formatDecision } from '../lb/explain.js';
import type { LoadBalancer } from '../lb/model.js';
import { ecsScope, locateClient } from '../answer/client.js';
import { EcsError, parseEcs, type ClientSubnet } from '../wire/ecs.js';
import { addressRdata } from '../wire/rdata.js';
import { persistentDecision } from '../lb/persistence.js';
import { steer, type Decision } from '../lb/steer.js';

export class ExplainError extends Error {}

export interface ExplainInput {
  readonly name: string;
  readonly type?: string;
  /** The resolver's address as the server would see it. */
  readonly client?: string;
  /** An EDNS Client Subnet, ADDRESS/PREFIX. */
  readonly ecs?: string;
  /** Set when the snapshot's health is assumed rather than probed (the offline CLI). */
  readonly healthAssumed?: boolean;
}

export interface ExplainResult {
  readonly name: string;
  readonly type: string;
  readonly zone?: string;
  readonly loadBalancer?: string;
  readonly decision?: Decision;
  readonly rcode: string;
  readonly answer: readonly string[];
  readonly authority: readonly string[];
  readonly additional: readonly string[];
  readonly notes: readonly string[];
  readonly text: string;
}


export function explain(snap: Snapshot, input: ExplainInput): ExplainResult {
  let qname: Name;
  try {
    qname = Name.fromText(input.name.endsWith('.') ? input.name : input.name + '.');
  } catch (e) {
    if (e instanceof NameError) throw new ExplainError(`name "${input.name}": ${e.message}`);
    throw e;
  }
  const qtype = typeFromText(input.type ?? 'A');
  if (qtype === undefined) throw new ExplainError(`type "${input.type}": not a record type`);
  if (input.client !== undefined && !isIP(input.client)) throw new ExplainError(`client "${input.client}": not an IP address`);
  const notes: string[] = [];
  if (input.healthAssumed) notes.push('health is not probed by the explain command: every origin is taken as healthy.');
  const ecs = input.ecs === undefined ? undefined : subnetOf(input.ecs);
  const located = locateClient(snap, ecs, input.client ?? '0.0.0.0');
  const client = located.client;
  const ctx: SteeringContext = { snap, client, decisions: new Decisions() };
  const zone = snap.zones.find(qname, qtype);
  const lb = zone ? loadBalancerAt(snap, qname, qtype) : undefined;
  let decision: Decision | undefined;
  if (lb) {
    decision = lb.persistence && snap.persistence
      ? persistentDecision(lb, lb.persistence, snap.persistence, snap.health, client, snap.asn, true)
      : steer(lb, snap.health, client, snap.random, true);
    ctx.decisions.set(lb, decision); // the answer below is built from this very decision
  }
  const res = resolve(ctx, qname, qtype);
  if (ecs) notes.push(`ECS ${input.ecs}: ${client.ecs ? 'located at ' + describeLocation(client.ecs) : 'not located (no database entry, or source prefix 0)'}; response scope /${ecsScope(ecs, located, ctx.decisions)}`);
  if (input.client !== undefined) notes.push(`resolver ${input.client}: ${client.resolver ? 'located at ' + describeLocation(client.resolver) : 'not located'}`);
  const lines = (entries: Resolution['answer']) => entries.flatMap((e) => rrsetLines(e.rrset, e.ttl));
  const result = {
    name: qname.toString(),
    type: typeToText(qtype),
    zone: zone?.origin.toString(),
    loadBalancer: lb?.name.toString(),
    decision,
    rcode: rcodeToText(res.rcode),
    answer: lines(res.answer),
    authority: lines(res.authority),
    additional: lines(res.additional),
    notes,
  };
  return { ...result, text: explainText(result, lb) };
}

/** The load balancer the query would reach (its own name or a wildcard), as resolve() finds it. */
function loadBalancerAt(snap: Snapshot, qname: Name, qtype: number): LoadBalancer | undefined {
  const zone = snap.zones.find(qname, qtype);
  const r = zone?.lookup(qname, qtype === T.ANY ? T.A : qtype);
  if (!r || r.kind === 'referral' || r.kind === 'nxdomain' || r.kind === 'dname') return undefined;
  const lb = snap.lb.loadBalancers.get(r.node.name.key);
  return lb?.enabled ? lb : undefined;
}

function explainText(r: Omit<ExplainResult, 'text'>, lb: LoadBalancer | undefined): string {
  const out: string[] = [`query: ${r.name} ${r.type}`];
  if (!r.zone) {
    out.push('zone: none served here: the answer is REFUSED');
    return out.join('\n') + '\n';
  }
  out.push(`zone: ${r.zone}`);
  for (const n of r.notes) out.push(`note: ${n}`);
  if (lb && r.decision) out.push(formatDecision(lb, r.decision, { qtype: r.type }).trimEnd());
  else out.push('load balancer: none at this name: answered from the zone file');
  out.push(`rcode: ${r.rcode}`);
  const section = (title: string, lines: readonly string[]) => {
    if (lines.length) out.push(`${title}:`, ...lines.map((l) => `  ${l}`));
  };
  section('answer', r.answer);
  section('authority', r.authority);
  section('additional', r.additional);
  return out.join('\n') + '\n';
}

/** ADDRESS/PREFIX as a resolver would send it (bits beyond the prefix must be zero). */
function subnetOf(text: string): ClientSubnet {
  const [addr, len] = text.split('/');
  const family = isIP(addr ?? '');
  const prefix = Number(len);
  if (!family || !/^\d+$/.test(len ?? '') || prefix > (family === 4 ? 32 : 128)) {
    throw new ExplainError(`ecs "${text}": expected ADDRESS/PREFIX, e.g. 198.51.100.0/24`);
  }
  const bytes = addressRdata(addr).wire;
  const data = Buffer.concat([Buffer.from([0, family === 4 ? 1 : 2, prefix, 0]), bytes.subarray(0, Math.ceil(prefix / 8))]);
  try {
    return parseEcs(data);
  } catch (e) {
    if (e instanceof EcsError) throw new ExplainError(`ecs "${text}": ${e.message}`);
    throw e;
  }
}
