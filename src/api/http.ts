/**
 * The HTTP API for operators (loopback by default): liveness and readiness, the status of
 * every load balancer, pool and origin, the explain output as JSON, and a token-protected
 * reload. Answers JSON only, with clear errors and status codes. Reads the same snapshot the
 * DNS path reads; never blocks it.
 */
import http from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { HealthMonitor } from '../health/monitor.js';
import type { Overrides } from '../lb/overrides.js';
import type { Logger } from '../log.js';
import type { DegradedFile, ReloadResult } from '../snapshot/load.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import type { Decision } from '../lb/steer.js';
import { explain, ExplainError } from './explain.js';
import type { Metrics } from './metrics.js';
import type { StateChange } from '../health/events.js';
import { overrideKey } from '../lb/overrides.js';
import { VERSION } from '../version.js';
import type { TrafficSeries } from './history.js';
import { PAGE_CSP, pageAsset } from './page.js';

/** What the API reads and acts on: the running app (src/app/app.ts), as seen from here. */
export interface ApiTarget {
  readonly store: { readonly current: Snapshot };
  readonly health: Pick<HealthMonitor, 'status' | 'firstRoundDone'>;
  readonly metrics: Metrics;
  readonly overrides: Overrides;
  /** The configuration served: files served from their last good copy, or not at all, are `degraded`. */
  readonly loaded: { readonly degraded: readonly DegradedFile[]; readonly digest: string };
  reload(reason?: string): Promise<ReloadResult>;
  setOverride(pool: string, origin: string | undefined, enabled: boolean | undefined): boolean;
  /** Reasons, besides zones and health, that this instance is not ready yet. */
  notReady(): readonly string[];
  /** The latest state changes (origin, pool, load balancer), newest first. */
  readonly changes: { list(): readonly StateChange[] };
  /** Steering decisions per load balancer and pool over the last minutes. */
  readonly history: { series(): TrafficSeries };
  /** When this instance started (ms since the epoch). */
  readonly startedAt: number;
}

export interface ApiOptions {
  readonly host: string;
  readonly port: number;
  /** Bearer token for admin calls; without one every admin call is refused (403). */
  readonly token?: string;
  readonly app: ApiTarget;
  readonly log: Logger;
}

export interface RunningApi {
  readonly port: number;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

type Handler = (url: URL, req: http.IncomingMessage) => Promise<unknown> | unknown;

export function startApi(opts: ApiOptions): Promise<RunningApi> {
  const { app, log } = opts;
  const routes: Record<string, { method: 'GET' | 'POST'; admin?: boolean; handle: Handler }> = {
    '/healthz': { method: 'GET', handle: () => ({ status: 'ok' }) },
    '/readyz': { method: 'GET', handle: () => readiness(app) },
    '/v1/status': { method: 'GET', handle: () => status(app) },
    '/v1/explain': { method: 'GET', handle: (url) => explainJson(app, url) },
    '/v1/changes': { method: 'GET', handle: () => ({ changes: app.changes.list().map((c) => ({ ...c, at: new Date(c.at).toISOString() })) }) },
    '/v1/history': { method: 'GET', handle: () => app.history.series() },
    '/v1/reload': { method: 'POST', admin: true, handle: async () => {
      const r = await app.reload('api');
      if (!r.ok) throw Object.assign(new HttpError(422, 'reload refused: it would stop serving what is served now'), { body: r });
      return r;
    } },
  };

  const server = http.createServer((req, res) => {
    if (req.url === '/metrics' && req.method === 'GET') {
      app.metrics.text().then(
        (text) => {
          res.writeHead(200, { 'content-type': app.metrics.registry.contentType });
          res.end(text);
        },
        (err: unknown) => {
          log.error({ err }, 'metrics failed');
          res.writeHead(500).end();
        },
      );
      return;
    }
    if ((req.method === 'GET' || req.method === 'HEAD') && servePage(req, res)) return;
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body, null, 2) + '\n';
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    const url = new URL(req.url ?? '/', 'http://api.invalid');
    const route = routes[url.pathname] ?? overrideRoute(app, url.pathname);
    Promise.resolve()
      .then(() => {
        if (!route) throw new HttpError(404, `no such endpoint: ${url.pathname}`);
        if (req.method !== route.method) {
          res.setHeader('allow', route.method);
          throw new HttpError(405, `${url.pathname} takes ${route.method}`);
        }
        if (route.admin) authorize(req, opts.token);
        return route.handle(url, req);
      })
      .then((body) => send(url.pathname === '/readyz' && !(body as { ready: boolean }).ready ? 503 : 200, body))
      .catch((err: unknown) => {
        if (err instanceof HttpError) {
          send(err.status, { error: err.message, ...((err as { body?: object }).body ?? {}) });
        } else {
          log.error({ err, path: url.pathname }, 'API request failed');
          send(500, { error: 'internal error' });
        }
      });
    req.resume(); // bodies are not read; drain them
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      const port = (server.address() as { port: number }).port;
      log.info({ host: opts.host, port }, 'HTTP API listening');
      resolve({
        port,
        close: () => new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
      });
    });
  });
}

/** The status page and its assets (src/api/page.ts); false when `req` asks for something else. */
function servePage(req: http.IncomingMessage, res: http.ServerResponse): boolean {
  const pathname = new URL(req.url ?? '/', 'http://api.invalid').pathname;
  const asset = pageAsset(pathname);
  if (!asset) return false;
  req.resume();
  res.writeHead(200, {
    'content-type': asset.type,
    'content-length': asset.body.length,
    'cache-control': 'no-cache',
    'content-security-policy': PAGE_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  });
  res.end(req.method === 'HEAD' ? undefined : asset.body);
  return true;
}

const OVERRIDE_PATH = /^\/v1\/pools\/([^/]+)(?:\/origins\/([^/]+))?\/(enable|disable|clear)$/;

/** POST /v1/pools/{pool}[/origins/{origin}]/enable|disable|clear: admin runtime overrides. */
function overrideRoute(app: ApiTarget, path: string): { method: 'POST'; admin: true; handle: Handler } | undefined {
  const m = OVERRIDE_PATH.exec(path);
  if (!m) return undefined;
  const pool = decodeURIComponent(m[1]);
  const origin = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
  const enabled = m[3] === 'clear' ? undefined : m[3] === 'enable';
  return {
    method: 'POST',
    admin: true,
    handle: () => {
      if (!app.setOverride(pool, origin, enabled)) throw new HttpError(404, origin === undefined ? `no pool named "${pool}"` : `no origin "${origin}" in pool "${pool}"`);
      return { pool, origin, enabled: enabled ?? null, overrides: [...app.overrides.values()] };
    },
  };
}

/** 401 for a missing or wrong token, 403 when no token is configured at all. */
function authorize(req: http.IncomingMessage, token: string | undefined): void {
  if (!token) throw new HttpError(403, 'admin calls are disabled: start with --api-token or STEERDNS_API_TOKEN');
  const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
  const given = Buffer.from(m ? m[1] : '');
  const want = Buffer.from(token);
  if (given.length !== want.length || !timingSafeEqual(given, want)) throw new HttpError(401, 'missing or wrong bearer token');
}

function readiness(app: ApiTarget) {
  const zones = app.store.current.zones.size;
  const healthReady = app.health.firstRoundDone();
  const reasons: string[] = [];
  if (zones === 0) reasons.push('no zone is loaded');
  if (!healthReady) reasons.push('the first round of health probes is not done');
  reasons.push(...app.notReady());
  // Serving, but not all as written: ready (a fleet with the same broken file must keep
  // answering), with the status and reasons saying so; steerdns_config_file_degraded alerts.
  const degraded = app.loaded.degraded.map((d) => (d.lastGood ? `${d.file}: has errors (${d.error}); serving its last good copy of ${d.lastGood.toISOString()}` : `${d.file}: has errors (${d.error}) and no last good copy; not served`));
  const ready = reasons.length === 0;
  return { ready, status: !ready ? 'not ready' : degraded.length > 0 ? 'degraded' : 'ready', zones, firstHealthRoundDone: healthReady, reasons: [...reasons, ...degraded] };
}

/** Milliseconds to a tenth: what a person reads, and what probe jitter allows. */
function tenths(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : Math.round(ms * 10) / 10;
}

/** Close to Cloudflare's pool-health shape: per pool, its origins with health, RTT, reason. */
function status(app: ApiTarget) {
  const h = app.health.status();
  const snap = app.store.current;
  const lbs = new Map([...snap.lb.loadBalancers.values()].map((lb) => [lb.name.toString(), lb]));
  const pools = snap.lb.pools;
  const override = (pool: string, origin?: string) => {
    const o = app.overrides.get(overrideKey(pool, origin));
    return o === undefined ? undefined : o.enabled ? 'enabled' : 'disabled';
  };
  return {
    now: new Date(h.now).toISOString(),
    server: { id: snap.identity?.serverId, version: VERSION, startedAt: new Date(app.startedAt).toISOString(), uptimeSeconds: Math.round((h.now - app.startedAt) / 1000) },
    zones: [...snap.zones.zones].map((z) => ({ name: z.origin.toString(), serial: z.soa.rdatas[0].wire.readUInt32BE(z.soa.rdatas[0].wire.length - 20), records: z.recordCount })),
    firstHealthRoundDone: h.firstRoundDone,
    config: { digest: app.loaded.digest, degraded: app.loaded.degraded.map((d) => ({ file: d.file, error: d.error, lastGood: d.lastGood?.toISOString() ?? null })) },
    overrides: [...app.overrides.values()],
    loadBalancers: h.loadBalancers.map((lb) => {
      const c = lbs.get(lb.name);
      return { ...lb, description: c?.description || undefined, policy: c?.steering_policy, ttl: c?.ttl, since: iso(lb.since), answeringSince: iso(lb.answeringSince) };
    }),
    pools: h.pools.map(({ originStatus, origins: originCount, rttMs, ...pool }) => ({
      ...pool,
      description: pools.get(pool.name)?.description || undefined,
      override: override(pool.name),
      rttMs: tenths(rttMs),
      since: iso(pool.since),
      originCount,
      origins: originStatus.map((o) => ({ ...o, override: override(pool.name, o.name), rttMs: tenths(o.rttMs), since: iso(o.since), lastProbe: iso(o.lastProbe) })),
    })),
  };
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

function explainJson(app: ApiTarget, url: URL) {
  const name = url.searchParams.get('name');
  if (!name) throw new HttpError(400, 'name is required, e.g. /v1/explain?name=www.example.com&type=A');
  try {
    const r = explain(app.store.current, {
      name,
      type: url.searchParams.get('type') ?? undefined,
      client: url.searchParams.get('client') ?? undefined,
      ecs: url.searchParams.get('ecs') ?? undefined,
    });
    return { ...r, decision: r.decision && decisionJson(r.decision) };
  } catch (e) {
    if (e instanceof ExplainError) throw new HttpError(400, e.message);
    throw e;
  }
}

/** The decision with names instead of object graphs. */
function decisionJson(d: Decision) {
  return {
    pool: d.pool?.name,
    origins: d.origins.map((o) => ({ name: o.name, address: o.addressText, weight: o.weight })),
    fallback: d.fallback,
    policy: d.policy,
    location: d.location,
    locationSource: d.locationSource,
    poolList: d.poolList,
    clientDependent: d.clientDependent,
    candidates: d.trace?.pools.map((v) => ({ pool: v.pool.name, usable: v.usable, reason: v.reason })),
    notes: d.trace?.notes,
  };
}
