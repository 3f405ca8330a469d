/**
 * `steerdns status [--api HOST:PORT]`: what a running server is doing, for a terminal. Reads
 * GET /v1/status and prints the load balancers with the pools answering them now, then the
 * pools and their origins with state, reason and RTT.
 */
import { StartError } from '../config/usage.js';

interface OriginJson {
  readonly name: string;
  readonly address: string;
  readonly state: string;
  readonly reason?: string;
  readonly detail?: string;
  readonly code?: number;
  readonly rttMs?: number;
  readonly since?: string | null;
  readonly restored?: boolean;
}

interface StatusJson {
  readonly now: string;
  readonly config?: { readonly digest: string; readonly degraded: readonly { readonly file: string; readonly lastGood: string | null }[] };
  readonly zones: readonly { readonly name: string; readonly serial: number }[];
  readonly overrides: readonly { readonly pool: string; readonly origin?: string; readonly enabled: boolean }[];
  readonly loadBalancers: readonly { readonly name: string; readonly state: string; readonly answering?: readonly string[]; readonly answeringSince?: string | null; readonly fallback: boolean }[];
  readonly pools: readonly { readonly name: string; readonly state: string; readonly monitor?: string; readonly healthy: number; readonly enabledOrigins: number; readonly minimumOrigins: number; readonly rttMs?: number; readonly origins: readonly OriginJson[] }[];
}

export async function printStatus(api: { host: string; port: number }, out: (line: string) => void): Promise<void> {
  const where = `${api.host.includes(':') ? `[${api.host}]` : api.host}:${api.port}`;
  let status: StatusJson;
  try {
    const res = await fetch(`http://${where}/v1/status`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    status = (await res.json()) as StatusJson;
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
    throw new StartError(`cannot read the status from the API at ${where} (${cause}): is steerdns running, with --api ${where}?`);
  }
  const now = Date.parse(status.now);
  const ago = (iso: string | null | undefined) => (iso ? `${duration(now - Date.parse(iso))} ago` : '');
  out(`steerdns at ${where}: ${status.zones.length} zone(s) (${status.zones.map((z) => `${z.name} ${z.serial}`).join(', ')})${status.config ? `, configuration ${status.config.digest.slice(0, 12)}` : ''}`);
  for (const d of status.config?.degraded ?? []) out(`  ! ${d.file}: has errors; ${d.lastGood ? `serving its last good copy of ${d.lastGood}` : 'not served'}`);
  for (const o of status.overrides) out(`  ! override: pool ${o.pool}${o.origin ? ` origin ${o.origin}` : ''} forced ${o.enabled ? 'on' : 'off'}`);
  out('');
  out(table(['LOAD BALANCER', 'STATE', 'ANSWERING FROM', 'SINCE'], status.loadBalancers.map((lb) => [lb.name, lb.state, `${(lb.answering ?? []).join(', ')}${lb.fallback ? ' (fallback)' : ''}`, ago(lb.answeringSince)])));
  out('');
  const rows: string[][] = [];
  for (const p of status.pools) {
    rows.push([p.name, p.state, `${p.healthy}/${p.enabledOrigins} healthy (minimum ${p.minimumOrigins}), ${p.monitor ? `monitor ${p.monitor}` : 'no monitor'}`, '', ms(p.rttMs)]);
    for (const o of p.origins) {
      const why = o.reason ? `${o.reason}${o.code ? ` (HTTP ${o.code})` : ''}${o.detail ? `: ${o.detail}` : ''}` : '';
      rows.push([`  ${o.name} ${o.address}`, o.state + (o.restored ? ' (restored)' : ''), why, ago(o.since), ms(o.rttMs)]);
    }
  }
  out(table(['POOL / ORIGIN', 'STATE', 'DETAIL', 'SINCE', 'RTT'], rows));
}

function ms(v: number | undefined): string {
  return v === undefined ? '' : `${v.toFixed(1)} ms`;
}

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

/** Columns padded to their widest cell; the last one is not padded. */
function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}
