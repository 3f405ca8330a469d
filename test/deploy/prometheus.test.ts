/**
 * The shipped alert rules and Grafana dashboard: every metric they read is one a running
 * server exports, every alert has a summary and a runbook pointing to a section of
 * docs/operations.md, and promtool (Debian's `prometheus` package; skipped with a message
 * where it is missing) accepts the rules and fires the fallback alert in its unit test.
 */
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parse } from 'yaml';
import { startApp } from '../../src/app/app.js';

const RULES = 'deploy/prometheus/alerts.yml';
const RULE_TESTS = 'deploy/prometheus/alerts.test.yml';
const DASHBOARD = 'deploy/grafana/steerdns.json';

interface Rule { alert: string; expr: string; labels?: Record<string, string>; annotations?: Record<string, string> }

const rules = (parse(readFileSync(RULES, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);

/** Metric names in a PromQL text, histogram series folded to their family. */
function metricNames(text: string): Set<string> {
  return new Set([...text.matchAll(/steerdns_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')));
}

/** GitHub's anchors for the headings of a Markdown file. */
function anchors(file: string): Set<string> {
  const out = new Set<string>();
  for (const m of readFileSync(file, 'utf8').matchAll(/^#{1,6} (.+)$/gm)) {
    out.add(m[1].trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-'));
  }
  return out;
}

t.test('every metric the rules and the dashboard read is exported by a running server', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'steerdns-deploy-'));
  writeFileSync(join(dir, 'example.com.zone'), '$TTL 300\n@ SOA ns1 host 1 7200 900 1209600 60\n@ NS ns1\nns1 A 192.0.2.53\n');
  writeFileSync(join(dir, 'example.com.lb.yaml'), 'pools:\n  - { name: p, origins: [{ name: a, address: 192.0.2.1 }] }\nload_balancers:\n  - { name: www, default_pools: [p], fallback_pool: p }\n');
  const app = await startApp({ zonesDir: dir, listen: [{ host: '127.0.0.1', port: 0 }], log: pino({ level: 'silent' }), watchDebounceMs: 0 });
  try {
    const exported = new Set([...(await app.metrics.text()).matchAll(/^# TYPE (steerdns_[a-z_]+) /gm)].map((m) => m[1]));
    t.ok(exported.has('steerdns_load_balancer_fallback'));
    const read = new Set([...metricNames(rules.map((r) => r.expr).join('\n')), ...metricNames(readFileSync(DASHBOARD, 'utf8'))]);
    t.ok(read.size >= 15, `${read.size} metrics read`);
    for (const name of read) t.ok(exported.has(name), `${name} is exported`);
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

t.test('every alert has a summary, a severity and a runbook section that exists', async (t) => {
  const sections = anchors('docs/operations.md');
  const names = rules.map((r) => r.alert);
  for (const want of ['SteerdnsLoadBalancerOnFallback', 'SteerdnsPoolCritical', 'SteerdnsOriginFlapping', 'SteerdnsNoSuccessfulProbe', 'SteerdnsReloadRefused', 'SteerdnsRrlDropping', 'SteerdnsAnswerTimeHigh', 'SteerdnsConfigFileDegraded']) {
    t.ok(names.includes(want), `${want} is there`);
  }
  for (const r of rules) {
    t.ok(r.annotations?.summary, `${r.alert}: summary`);
    t.match(r.labels?.severity, /^(critical|warning)$/, `${r.alert}: severity`);
    const m = /^docs\/operations\.md#(.+)$/.exec(r.annotations?.runbook ?? '');
    t.ok(m && sections.has(m[1]), `${r.alert}: runbook ${r.annotations?.runbook} is a section of docs/operations.md`);
  }
});

t.test('the dashboard is a Grafana dashboard with its panels on our data source', async (t) => {
  const d = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { title: string; uid: string; panels: { type: string; title: string; targets?: { expr: string }[] }[] };
  t.equal(d.uid, 'steerdns');
  const graphs = d.panels.filter((p) => p.type !== 'row');
  t.ok(graphs.length >= 10);
  for (const p of graphs) t.ok(p.targets?.every((q) => q.expr.includes('instance=~"$instance"')), `${p.title}: filtered by instance`);
});

const promtool = spawnSync('promtool', ['--version']).status === 0;
t.test('promtool accepts the rules, and its unit test fires the fallback alert', { skip: promtool ? false : 'promtool is not installed (apt-get install prometheus)' }, async (t) => {
  t.match(execFileSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8' }), /SUCCESS: 8 rules found/);
  const tested = spawnSync('promtool', ['test', 'rules', RULE_TESTS], { encoding: 'utf8' });
  t.equal(tested.status, 0, tested.stdout + tested.stderr);
  t.match(readFileSync(RULE_TESTS, 'utf8'), /alertname: SteerdnsLoadBalancerOnFallback\n\s+exp_alerts:\n\s+- exp_labels/, 'the test expects the fallback alert to fire');
});
