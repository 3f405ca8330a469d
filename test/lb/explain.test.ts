/** Explain: a steering decision as text for people. */
import t from 'tap';
import { formatDecision, describeLocation } from '../../src/lb/explain.js';
import { steer } from '../../src/lb/steer.js';
import { mulberry32 } from '../../src/lb/random.js';
import { ALL_HEALTHY } from '../../src/lb/model.js';
import { client, FRA, health, IAD, lb, NRT, origin, pool, poolsDown } from '../helpers/lb.js';

const eu = pool('eu-west', { latitude: 50.1, longitude: 8.7 });
const us = pool('us-east', { latitude: 39.0, longitude: -77.5, minimum_origins: 2 });
const ap = pool('ap-ne', { latitude: 35.7, longitude: 139.7, monitored: false });
const fb = pool('fallback');

t.test('a geo decision with its trace', async (t) => {
  const balancer = lb({ policy: 'geo', default_pools: [eu], country_pools: { JP: [us, ap] }, fallback_pool: fb, location_strategy: { prefer_ecs: 'geo' }, ttl: 45 });
  const d = steer(balancer, health({ down: ['us-east/us-east-a'] }), client({ ecs: NRT }), mulberry32(1), true);
  const text = formatDecision(balancer, d, { qtype: 'A', answers: ['www.example.com. 45 IN A 192.0.2.9'], configuredPolicy: '' });
  const lines = text.split('\n');
  t.ok(text.endsWith('\n'));
  t.match(lines[0], /^load balancer www\.example\.com\. \(zone example\.com\., test\.lb\.yaml:1\)$/);
  t.ok(lines.includes('query type: A'));
  t.ok(lines.includes('steering policy: geo ("" resolved to geo: region, country or pop pools are set)'));
  t.ok(lines.includes('location: ECS client subnet: country JP, region NEAS, PoP NRT, 35.77, 140.39'), 'location used, with every part');
  t.ok(lines.some((l) => /why: .*prefer_ecs: geo.*ECS is preferred for geo/.test(l)), 'why this location');
  t.ok(lines.includes('client-dependent answer: yes (scoped to the client subnet)'));
  t.ok(lines.includes('pool list: country_pools'));
  t.ok(lines.some((l) => /^ {2}1\. us-east\s+dropped\s+critical: 1 of 2 origins healthy, minimum 2$/.test(l)), 'dropped pool with why');
  t.ok(lines.some((l) => /^ {2}2\. ap-ne\s+kept\s+no monitor: health ignored .*<= chosen$/.test(l)), 'chosen pool marked');
  t.ok(lines.includes('pool: ap-ne (random origin steering)'));
  t.ok(lines.some((l) => /^ {2}ap-ne-a\s+192\.0\.2\.\d+\s+weight 1$/.test(l)), 'origin with address and weight');
  t.ok(lines.includes('ttl: 45'));
  t.ok(lines.some((l) => /^ {2}- geo: pop_pools\[NRT\]: no entry; country_pools\[JP\]: \[us-east, ap-ne\] => country_pools$/.test(l)), 'geo lookup note');
  t.ok(lines.includes('answers:') && lines.includes('  www.example.com. 45 IN A 192.0.2.9'));
});

t.test('fallback and NODATA', async (t) => {
  const down = health({ down: poolsDown(eu) });
  const withFb = lb({ policy: 'off', default_pools: [eu], fallback_pool: fb });
  const text = formatDecision(withFb, steer(withFb, down, client(), mulberry32(1), true));
  t.match(text, /pool: fallback: FALLBACK \(no candidate pool is usable; the fallback pool's health is ignored\)/);
  t.match(text, /1\. eu-west\s+dropped\s+critical: 0 of 2 origins healthy, minimum 1/);
  t.notMatch(text, /<= chosen/, 'no candidate is marked chosen');
  t.match(text, /steering policy: off \(configured, or "" resolved to off because no region, country or pop pools are set\)/);
  t.match(text, /location: not used\n {2}why: off does not steer by location/);

  const noFb = lb({ policy: 'off', default_pools: [eu], fallback_pool: pool('fb-off', { enabled: false }) });
  const nodata = formatDecision(noFb, steer(noFb, down, client(), mulberry32(1), true), { answers: [] });
  t.match(nodata, /pool: none: NODATA with SOA: no candidate pool is usable and the fallback pool fb-off is disabled/);
  t.notMatch(nodata, /^origins/m);
  t.match(nodata, /answers:\n {2}\(none\)/);

  const empty = lb({ policy: 'off', default_pools: [eu], fallback_pool: pool('fb-empty', { origins: [origin('x', 'x.example.net', { enabled: false })] }) });
  t.match(formatDecision(empty, steer(empty, down, client(), mulberry32(1), true)), /origins: none: NODATA/);
});

t.test('location reasons, origins, and no trace', async (t) => {
  const prox = lb({ policy: 'proximity', default_pools: [eu, ap], fallback_pool: fb, location_strategy: { prefer_ecs: 'never', mode: 'resolver_ip' } });
  const viaResolver = formatDecision(prox, steer(prox, ALL_HEALTHY, client({ ecs: NRT, resolver: IAD }), mulberry32(1), true));
  t.match(viaResolver, /location: resolver address: country US, region ENAM, PoP IAD/);
  t.match(viaResolver, /why: .*ECS never used; mode resolver_ip: the resolver's address/);
  t.match(viaResolver, /proximity: eu-west \d+ km, ap-ne \d+ km/);

  const viaPop = formatDecision(prox, steer(prox, ALL_HEALTHY, client(), mulberry32(1)));
  t.match(viaPop, /mode resolver_ip but the resolver's address was not located: this node's PoP/);
  t.match(viaPop, /candidate pools: \(no trace recorded\)/);
  t.notMatch(viaPop, /notes:/);

  const geo = lb({ policy: 'geo', default_pools: [eu], region_pools: { WEU: [eu] }, fallback_pool: fb });
  t.match(formatDecision(geo, steer(geo, ALL_HEALTHY, client({ ecs: NRT }), mulberry32(1))), /ECS only preferred for proximity, not geo; mode pop: this node's PoP; pop_pools key off the PoP of an operator override, else this node's PoP/);

  const lor = lb({ policy: 'least_outstanding_requests', default_pools: [eu], fallback_pool: fb });
  t.match(formatDecision(lor, steer(lor, ALL_HEALTHY, client(), mulberry32(1)), { configuredPolicy: 'least_outstanding_requests' }), /steering policy: least_outstanding_requests \(as configured; nothing to count in DNS-only mode/);

  const host = pool('hosts', {
    steering: 'hash',
    origins: [origin('flat', 'a.example.net', { weight: 1 }), origin('cname', 'b.example.net', { weight: 0.5, flatten_cname: false })],
  });
  const hashed = lb({ policy: 'off', default_pools: [host], fallback_pool: fb });
  const keys = ['k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8'];
  const texts = keys.map((k) => formatDecision(hashed, steer(hashed, ALL_HEALTHY, client({ hashKey: k }), mulberry32(1), true)));
  t.ok(texts.every((x) => /origin_steering hash: hash of the client/.test(x)), 'origin note');
  t.ok(texts.every((x) => /client-dependent answer: yes/.test(x)));
  t.ok(texts.some((x) => /a\.example\.net \(hostname, flattened to A\/AAAA\)\s+weight 1\n/.test(x)), 'flattened hostname origin');
  t.ok(texts.some((x) => /b\.example\.net \(hostname, answered as CNAME off the apex\)\s+weight 0\.5\n/.test(x)), 'CNAME hostname origin');
});

t.test('describeLocation', async (t) => {
  t.equal(describeLocation(FRA), 'country DE, region WEU, PoP FRA, 50.03, 8.56');
  t.equal(describeLocation({}), 'nothing known');
  t.equal(describeLocation({ country: 'JP', latitude: 1 }), 'country JP', 'coordinates only as a pair');
});
