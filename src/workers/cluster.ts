/**
 * Several processes answering on the same addresses (`--workers N`, Node's cluster module).
 * Where Node has `reusePort` (src/server/reuse-port.ts), every worker binds its own UDP and TCP
 * sockets with SO_REUSEPORT and the kernel spreads queries over them; the first worker binds
 * first, so that a port 0 chosen by the system is the one every later worker (and every
 * replacement) binds. Elsewhere the primary holds the sockets and the workers share them
 * (every datagram wakes every worker). The primary loads and
 * checks the configuration, probes health once, serves the HTTP API, reloads and watches the
 * files; it answers no queries. Workers answer queries from their own snapshots: they load the
 * same files, take health and runtime overrides from the primary, and report their counters
 * to it for /metrics. Persistence needs no sharing: its choices are deterministic, so every
 * worker pins a client to the same origin. DNS Cookies need one secret: the primary passes
 * its own in each worker's environment, so a server cookie from one worker verifies in all.
 */
import cluster, { type Worker } from 'node:cluster';
import type { App } from '../app/app.js';
import { StartError } from '../config/usage.js';
import { mergeStats, type QueryStats } from '../api/metrics.js';
import type { Override } from '../lb/overrides.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import type { Logger } from '../log.js';
import type { ListenAddress } from '../server/server.js';
import type { BindMode } from '../server/listen.js';
import { healthData, type HealthData } from '../health/data.js';
import { formatCookieSecrets, parseCookieSecrets } from '../wire/server-cookies.js';

type ToWorker =
  | { readonly type: 'health'; readonly data: HealthData }
  /** `reload`: load the files again (the primary reloaded); always: these overrides. */
  | { readonly type: 'config'; readonly reload: boolean; readonly overrides: readonly Override[] }
  | { readonly type: 'stats'; readonly id: number }
  /** The primary rotated the DNS cookie secrets (formatCookieSecrets). */
  | { readonly type: 'cookies'; readonly secrets: string }
  | { readonly type: 'stop' };

type ToPrimary =
  /** A worker is ready to hear its health and overrides (messages sent before it listens for them are lost). */
  | { readonly type: 'hello' }
  | { readonly type: 'listening'; readonly addresses: readonly ListenAddress[] }
  /** The worker could not start (an address it cannot bind): why, in one line. */
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'stats'; readonly id: number; readonly stats: QueryStats };

/** How the workers bind their sockets, and where: passed to each in its environment. */
export interface WorkerSockets {
  readonly bind: Extract<BindMode, 'shared' | 'reuseport'>;
  readonly listen: readonly ListenAddress[];
}

/** The environment variable that carries WorkerSockets from the primary to a worker (internal). */
const SOCKETS_ENV = 'STEERDNS_WORKER_SOCKETS';

/** In a worker: how and where to bind, as its primary said; undefined if it said nothing. */
export function workerSockets(env: NodeJS.ProcessEnv = process.env): WorkerSockets | undefined {
  const text = env[SOCKETS_ENV];
  return text === undefined ? undefined : (JSON.parse(text) as WorkerSockets);
}

/** How long /metrics waits for a worker's counters. */
const STATS_TIMEOUT_MS = 1000;
/** A worker that dies is started again after this long (doubling while it keeps dying, up to a minute). */
const RESTART_DELAY_MS = 500;

export class WorkerPool {
  private readonly workers = new Set<Worker>();
  private readonly listening = new Set<Worker>();
  private readonly lastStats = new Map<Worker, QueryStats>();
  /** Counters of workers gone, so totals never go backwards when one is replaced. */
  private retired: QueryStats[] = [];
  private readonly pending = new Map<number, (s: QueryStats) => void>();
  private nextId = 1;
  private stopping = false;
  private restartDelay = RESTART_DELAY_MS;
  private lastConfig: { zones: object; lb: object } | undefined;

  constructor(
    private readonly app: App,
    private readonly count: number,
    private readonly log: Logger,
    /** How the workers bind, and the addresses (with ports resolved once the first worker listens, in `reuseport`). */
    private sockets: WorkerSockets,
    /** Added to each worker's environment when it starts: what must be the same in all (the cookie secrets in force). */
    private readonly workerEnv: () => Readonly<Record<string, string>> = () => ({}),
  ) {}

  /** New DNS cookie secrets: every worker takes them at once. */
  cookieSecrets(secrets: string): void {
    this.broadcast({ type: 'cookies', secrets });
  }

  /** Starts the workers; resolves when every one is listening, rejects if one fails to start. */
  start(): Promise<readonly ListenAddress[]> {
    this.app.store.onSwap((snap) => this.onSwap(snap));
    this.lastConfig = { zones: this.app.store.current.zones, lb: this.app.store.current.lb };
    return new Promise((resolve, reject) => {
      const hooks = {
        onListening: (a: readonly ListenAddress[]) => {
          if (this.listening.size === 1 && this.sockets.bind === 'reuseport') {
            // Its ports, resolved: every other worker binds beside it.
            this.sockets = { ...this.sockets, listen: a };
            for (let i = 1; i < this.count; i++) this.fork(hooks);
          }
          if (this.listening.size === this.count) resolve(a);
        },
        onEarlyExit: (code: number | null, why?: string) => reject(new StartError(why ?? `a worker exited with code ${code} before listening (see its log above)`)),
      };
      // Sharing the primary's sockets, the cluster module resolves port 0 once for all.
      const first = this.sockets.bind === 'reuseport' ? 1 : this.count;
      for (let i = 0; i < first; i++) this.fork(hooks);
    });
  }

  /** Reasons not to be ready: workers still starting. */
  notReady(): string[] {
    return this.listening.size < this.count ? [`${this.listening.size} of ${this.count} workers listening`] : [];
  }

  /** The workers' counters summed, with those of workers gone; a worker slow to answer gives its last report. */
  async stats(): Promise<QueryStats> {
    const askedOf = [...this.listening];
    const asks = askedOf.map(
      (w) =>
        new Promise<QueryStats | undefined>((resolve) => {
          const id = this.nextId++;
          const timer = setTimeout(() => {
            this.pending.delete(id);
            resolve(this.lastStats.get(w));
          }, STATS_TIMEOUT_MS);
          this.pending.set(id, (s) => {
            clearTimeout(timer);
            this.lastStats.set(w, s);
            resolve(s);
          });
          send(w, { type: 'stats', id });
        }),
    );
    const replies = await Promise.all(asks);
    // A worker that died while we waited is in `retired` already: count it once.
    const got = replies.filter((s, i): s is QueryStats => s !== undefined && this.workers.has(askedOf[i]));
    return mergeStats([...this.retired, ...got]);
  }

  /** Asks every worker to drain and exit; resolves when all have (or after `graceMs`, killing the rest). */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    const exits = [...this.workers].map((w) => new Promise<void>((r) => (w.isDead() ? r() : w.once('exit', () => r()))));
    for (const w of this.workers) send(w, { type: 'stop' });
    const timer = setTimeout(() => {
      for (const w of this.workers) if (!w.isDead()) w.kill('SIGKILL');
    }, graceMs);
    await Promise.all(exits);
    clearTimeout(timer);
  }

  private fork(hooks: { onListening?: (a: readonly ListenAddress[]) => void; onEarlyExit?: (code: number | null, why?: string) => void } = {}): void {
    const w = cluster.fork({ ...this.workerEnv(), [SOCKETS_ENV]: JSON.stringify(this.sockets) });
    let failure: string | undefined;
    this.workers.add(w);
    // An IPC write to a worker that has just died (EPIPE) is emitted here; unheard, it would end the primary.
    w.on('error', (err) => this.log.warn({ err, pid: w.process.pid }, 'message to a worker failed'));
    w.on('message', (m: ToPrimary) => {
      if (m.type === 'hello') {
        this.sendState(w); // before it listens: runWorker waits for it
      } else if (m.type === 'listening') {
        this.listening.add(w);
        this.restartDelay = RESTART_DELAY_MS;
        this.sendState(w); // again: what changed while it started
        hooks.onListening?.(m.addresses);
      } else if (m.type === 'failed') {
        failure = m.message;
      } else if (m.type === 'stats') {
        const done = this.pending.get(m.id);
        this.pending.delete(m.id);
        done?.(m.stats);
      }
    });
    w.on('exit', (code, signal) => {
      const wasListening = this.listening.delete(w);
      this.workers.delete(w);
      const last = this.lastStats.get(w);
      if (last) this.retired = [mergeStats([...this.retired, last])];
      this.lastStats.delete(w);
      if (this.stopping) return;
      if (!wasListening && hooks.onEarlyExit) {
        hooks.onEarlyExit(code, failure);
        return;
      }
      this.log.error({ pid: w.process.pid, code, signal, restartInMs: this.restartDelay }, 'worker died; starting another');
      setTimeout(() => {
        if (!this.stopping) this.fork();
      }, this.restartDelay).unref();
      this.restartDelay = Math.min(this.restartDelay * 2, 60_000);
    });
  }

  /** The overrides, health and DNS cookie secrets in force, to one worker. */
  private sendState(w: Worker): void {
    send(w, { type: 'config', reload: false, overrides: [...this.app.overrides.values()] });
    send(w, { type: 'health', data: healthData(this.app.store.current.lb, this.app.store.current.health) });
    send(w, { type: 'cookies', secrets: formatCookieSecrets(this.app.cookies.current) });
  }

  /** Passes every change of configuration (reload, overrides) and health on to the workers. */
  private onSwap(snap: Snapshot): void {
    const last = this.lastConfig!;
    if (snap.zones !== last.zones || snap.lb !== last.lb) {
      // New zones: the primary reloaded the files. Only new load balancers: overrides changed.
      const reload = snap.zones !== last.zones;
      this.lastConfig = { zones: snap.zones, lb: snap.lb };
      this.broadcast({ type: 'config', reload, overrides: [...this.app.overrides.values()] });
    }
    this.broadcast({ type: 'health', data: healthData(snap.lb, snap.health) });
  }

  private broadcast(m: ToWorker): void {
    for (const w of this.listening) send(w, m);
  }
}

/** A worker that just died may still look connected: a failed send is that, not a crash. */
function send(w: Worker, m: ToWorker): void {
  if (w.isConnected()) w.send(m, undefined, () => undefined);
}

/** What a worker needs before it answers anything: the primary's health and overrides. */
export interface WorkerStart {
  readonly health?: HealthData;
  readonly overrides?: readonly Override[];
}

/** How long a worker waits for its primary's health and overrides before starting without them. */
const FIRST_STATE_TIMEOUT_MS = 5000;

/**
 * In a worker: waits for the primary's health and overrides (sent as soon as the worker is
 * online), starts the app with them, so that its first answer already agrees with the other
 * workers', then follows the primary's messages and drains then exits when told to stop.
 */
export async function runWorker(start: (first: WorkerStart) => Promise<App>, log: Logger): Promise<void> {
  let app: App | undefined;
  let health: HealthData | undefined;
  let config: { reload: boolean; overrides: readonly Override[] } | undefined;
  const queued: ToWorker[] = [];
  let gotFirst: () => void = () => undefined;
  const first = new Promise<void>((resolve) => (gotFirst = resolve));
  const handle = (a: App, m: ToWorker): void => {
    if (m.type === 'health') a.setHealthData(m.data);
    else if (m.type === 'config') {
      a.replaceOverrides(m.overrides);
      if (m.reload) void a.reload('the primary reloaded').catch((err: unknown) => log.error({ err }, 'reload failed'));
    } else if (m.type === 'stats') process.send?.({ type: 'stats', id: m.id, stats: a.queryStats() } satisfies ToPrimary);
    else if (m.type === 'cookies') {
      const secrets = parseCookieSecrets(m.secrets);
      if (secrets) a.cookies.replace(secrets);
    } else if (m.type === 'stop') stop();
  };
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    if (!app) process.exit(0);
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('message', (m: ToWorker) => {
    if (app) return handle(app, m);
    // Starting: keep the latest health and configuration, queue the rest.
    if (m.type === 'health') health = m.data;
    else if (m.type === 'config') config = { reload: (config?.reload ?? false) || m.reload, overrides: m.overrides };
    else queued.push(m);
    if (health && config) gotFirst();
  });
  // systemd and `docker stop` signal the whole group: a worker drains on its own too.
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // The primary gone (killed): nothing will tell us to stop.
  process.on('disconnect', stop);
  const timer = setTimeout(gotFirst, FIRST_STATE_TIMEOUT_MS);
  process.send?.({ type: 'hello' } satisfies ToPrimary);
  await first;
  clearTimeout(timer);
  const used = { health, config };
  try {
    app = await start({ health, overrides: config?.overrides });
  } catch (err) {
    // The primary says why in one line; this worker then ends.
    const message = err instanceof StartError ? err.message : String((err as Error).stack ?? err);
    process.send?.({ type: 'failed', message } satisfies ToPrimary, undefined, {}, () => process.exit(1));
    return;
  }
  // What changed while the app was starting.
  if (health !== used.health && health) app.setHealthData(health);
  if (config !== used.config && config) handle(app, { type: 'config', ...config });
  for (const m of queued) handle(app, m);
  process.send?.({ type: 'listening', addresses: app.server.addresses } satisfies ToPrimary);
}
