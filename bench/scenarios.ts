/** The benchmark's scenarios: which queries, from how many clients. Shared by run.ts and micro.ts. */
import { subnets, ZONE, type WireQuery } from './workload.js';

export interface Scenario {
  readonly name: string;
  readonly what: string;
  readonly queries: readonly WireQuery[];
}

export function scenarios(): Scenario[] {
  const nets = subnets(50_000);
  const nx = Array.from({ length: 10_000 }, (_, i) => ({ name: `nx${i}.${ZONE}`, type: 'A' as const }));
  const geo = nets.map((ecs) => ({ name: `geo.${ZONE}`, type: 'A' as const, ecs }));
  const sticky = nets.map((ecs) => ({ name: `sticky.${ZONE}`, type: 'A' as const, ecs }));
  const mix: WireQuery[] = [];
  let x = 7;
  for (let i = 0; i < 50_000; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const r = x % 100;
    if (r < 40) mix.push({ name: `www.${ZONE}`, type: 'A' });
    else if (r < 50) mix.push(nx[i % nx.length]);
    else if (r < 70) mix.push({ name: `off.${ZONE}`, type: 'A' });
    else if (r < 85) mix.push(geo[i % geo.length]);
    else mix.push(sticky[i % sticky.length]);
  }
  return [
    { name: 'static', what: 'static A record', queries: [{ name: `www.${ZONE}`, type: 'A' }] },
    { name: 'nxdomain', what: 'NXDOMAIN, 10,000 names', queries: nx },
    { name: 'lb-off', what: 'load balancer, steering off', queries: [{ name: `off.${ZONE}`, type: 'A' }] },
    { name: 'lb-geo-ecs', what: 'geo steering, ECS from 50,000 /24s', queries: geo },
    { name: 'lb-persist', what: 'persistence by ECS, 50,000 /24s', queries: sticky },
    { name: 'mix', what: '40% static, 10% NX, 20% off, 15% geo, 15% persist', queries: mix },
  ];
}

