/**
 * Addresses of hostname origins outside our zones, resolved through the system's resolvers
 * (or `--resolver`) and kept fresh in the background, respecting the records' TTLs. The query
 * path only reads the cache: it never waits for a lookup. A failed refresh keeps serving the
 * last addresses until they are older than `staleLimitSeconds`.
 */
import { Resolver } from 'node:dns/promises';
import type { Logger } from '../log.js';
import { Name } from '../wire/name.js';
import { T } from '../wire/types.js';
import { addressRdata } from '../wire/rdata.js';
import { rdataText } from '../wire/present.js';
import type { Rdata } from '../wire/record.js';

/** Addresses of hostname origins outside our zones, kept fresh in the background. */
export interface HostnameAddresses {
  /** A or AAAA rdata for `name`, or undefined when not (yet) known. Never waits. */
  get(name: Name, type: number): readonly Rdata[] | undefined;
}

export const NO_HOSTNAMES: HostnameAddresses = { get: () => undefined };

export interface HostnameCacheOptions {
  /** Refresh at least this often and at most this often, whatever the TTL says. */
  readonly minTtlSeconds: number;
  readonly maxTtlSeconds: number;
  /** After a failure, try again after this long. */
  readonly retrySeconds: number;
  /** Drop addresses not refreshed for this long. */
  readonly staleLimitSeconds: number;
  /** `HOST:PORT` of resolvers to use instead of the system's. */
  readonly servers?: readonly string[];
}

export const DEFAULT_HOSTNAME_OPTIONS: HostnameCacheOptions = { minTtlSeconds: 5, maxTtlSeconds: 300, retrySeconds: 10, staleLimitSeconds: 3600 };

interface Entry {
  readonly name: Name;
  a?: readonly Rdata[];
  aaaa?: readonly Rdata[];
  /** The same addresses as text, for health probes. */
  texts?: readonly string[];
  refreshedAt: number;
  timer?: NodeJS.Timeout;
  running: boolean;
  failing: boolean;
}

export class HostnameCache implements HostnameAddresses {
  private readonly entries = new Map<string, Entry>();
  private readonly resolver: Resolver;
  private stopped = false;

  constructor(private readonly log: Logger, private readonly opts: HostnameCacheOptions = DEFAULT_HOSTNAME_OPTIONS) {
    this.resolver = new Resolver({ timeout: 2000, tries: 2 });
    if (opts.servers?.length) this.resolver.setServers([...opts.servers]);
  }

  get(name: Name, type: number): readonly Rdata[] | undefined {
    const e = this.entries.get(name.key);
    if (!e || Date.now() - e.refreshedAt > this.opts.staleLimitSeconds * 1000) return undefined;
    return type === T.A ? e.a : type === T.AAAA ? e.aaaa : undefined;
  }

  /** All known addresses of `name` as text (IPv4 first), or undefined when not known. */
  addresses(name: Name): readonly string[] | undefined {
    const e = this.entries.get(name.key);
    if (!e || Date.now() - e.refreshedAt > this.opts.staleLimitSeconds * 1000) return undefined;
    return e.texts;
  }

  /** Keeps exactly these names fresh: new ones are resolved at once, others dropped. */
  track(names: Iterable<Name>): void {
    const wanted = new Map<string, Name>();
    for (const n of names) wanted.set(n.key, n);
    for (const [key, e] of this.entries) {
      if (!wanted.has(key)) {
        clearTimeout(e.timer);
        this.entries.delete(key);
      }
    }
    for (const [key, name] of wanted) {
      if (this.entries.has(key)) continue;
      const e: Entry = { name, refreshedAt: 0, running: false, failing: false };
      this.entries.set(key, e);
      void this.refresh(e);
    }
  }

  /** Resolves when every tracked name has had its first lookup (for readiness and tests). */
  async settled(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && [...this.entries.values()].some((e) => e.refreshedAt === 0 && !e.failing)) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  stop(): void {
    this.stopped = true;
    this.resolver.cancel(); // lookups in flight end now instead of outliving the server
    for (const e of this.entries.values()) clearTimeout(e.timer);
    this.entries.clear();
  }

  private async refresh(e: Entry): Promise<void> {
    if (e.running || this.stopped) return;
    e.running = true;
    const host = e.name.toString().replace(/\.$/, '');
    const [v4, v6] = await Promise.allSettled([this.resolver.resolve4(host, { ttl: true }), this.resolver.resolve6(host, { ttl: true })]);
    e.running = false;
    if (this.stopped || this.entries.get(e.name.key) !== e) return;
    const ok4 = v4.status === 'fulfilled' ? v4.value : noData(v4.reason) ? [] : undefined;
    const ok6 = v6.status === 'fulfilled' ? v6.value : noData(v6.reason) ? [] : undefined;
    // Each family is updated on its own: a failed AAAA lookup must not discard a good A answer.
    if (ok4) e.a = ok4.map((r) => addressRdata(r.address));
    if (ok6) e.aaaa = ok6.map((r) => addressRdata(r.address));
    const fresh = [...(ok4 ?? []), ...(ok6 ?? [])];
    let next: number;
    if (fresh.length > 0) {
      e.texts = [...(e.a ?? []), ...(e.aaaa ?? [])].map((r) => rdataText(r.wire.length === 4 ? T.A : T.AAAA, r));
      e.refreshedAt = Date.now();
      const ttl = Math.min(...fresh.map((r) => r.ttl));
      // A family that failed is retried soon, whatever the other one's TTL says.
      next = ok4 && ok6 ? Math.min(Math.max(ttl, this.opts.minTtlSeconds), this.opts.maxTtlSeconds) : this.opts.retrySeconds;
      if (e.failing) this.log.info({ hostname: host }, 'hostname origin resolves again');
      e.failing = false;
    } else {
      const reason = v4.status === 'rejected' ? (v4.reason as Error).message : v6.status === 'rejected' ? (v6.reason as Error).message : 'no A or AAAA records';
      if (!e.failing) this.log.warn({ hostname: host, reason }, 'hostname origin does not resolve; keeping its last addresses');
      e.failing = true;
      next = this.opts.retrySeconds;
    }
    e.timer = setTimeout(() => void this.refresh(e), next * 1000);
    e.timer.unref();
  }
}

/** NODATA-like answers mean "no addresses of this family", not a failure. */
function noData(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'ENODATA' || code === 'ENOTFOUND';
}
