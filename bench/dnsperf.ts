/** Runs dnsperf and reads its summary; finds or installs it first. */
import { execFileSync, spawn } from 'node:child_process';

export interface PerfResult {
  readonly sent: number;
  readonly completed: number;
  readonly lost: number;
  readonly qps: number;
  /** Per-query latencies in seconds, when asked for (`-v`). */
  readonly latencies?: Float64Array;
}

export interface PerfRun {
  readonly port: number;
  readonly file: string;
  readonly seconds: number;
  /** Queries per second to send at most (omit: as fast as answers come back). */
  readonly rate?: number;
  /** Record every query's latency. */
  readonly latencies?: boolean;
  /** Run through the file at most this many times. */
  readonly passes?: number;
  /** CPU to pin dnsperf to (taskset), if any. */
  readonly cpu?: number;
  /** Queries outstanding at most (default 200). */
  readonly outstanding?: number;
}

/** dnsperf on PATH, or installed with apt-get when we are root; otherwise an explanation. */
export function ensureDnsperf(): void {
  if (onPath('dnsperf')) return;
  if (process.getuid?.() === 0 && onPath('apt-get')) {
    process.stderr.write('bench: installing dnsperf with apt-get\n');
    execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dnsperf >/dev/null'], { stdio: 'inherit' });
    if (onPath('dnsperf')) return;
  }
  throw new Error('dnsperf is not installed: install the Debian package "dnsperf" (apt-get install dnsperf) and run again');
}

export function onPath(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** `-c 10 -q 200`: ten clients, 200 outstanding; deeper queues only measure socket-buffer drops. */
export function dnsperf(run: PerfRun): Promise<PerfResult> {
  const args = ['-s', '127.0.0.1', '-p', String(run.port), '-B', '-d', run.file, '-c', '10', '-q', String(run.outstanding ?? 200), '-T', '1', '-t', '2', '-l', String(run.seconds)];
  if (run.rate) args.push('-Q', String(Math.round(run.rate)));
  if (run.passes) args.push('-n', String(run.passes));
  if (run.latencies) args.push('-v');
  const [cmd, argv] = run.cpu === undefined ? ['dnsperf', args] : ['taskset', ['-c', String(run.cpu), 'dnsperf', ...args]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const latencies: number[] = [];
    let summary = '';
    let rest = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('> ')) {
          const seconds = Number(line.slice(line.lastIndexOf(' ') + 1));
          if (Number.isFinite(seconds)) latencies.push(seconds); // timeouts carry no latency
        }
        else summary += line + '\n';
      }
    });
    let err = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => (err += c));
    child.on('error', reject);
    child.on('close', (code) => {
      summary += rest;
      const num = (re: RegExp) => Number(re.exec(summary)?.[1] ?? NaN);
      const result = {
        sent: num(/Queries sent:\s+(\d+)/),
        completed: num(/Queries completed:\s+(\d+)/),
        lost: num(/Queries lost:\s+(\d+)/),
        qps: num(/Queries per second:\s+([\d.]+)/),
      };
      if (code !== 0 || Number.isNaN(result.qps)) reject(new Error(`dnsperf ${argv.join(' ')} failed (${code}):\n${err}${summary}`));
      else resolve(run.latencies ? { ...result, latencies: Float64Array.from(latencies) } : result);
    });
  });
}

/** The q-quantile (0..1) of latencies in seconds. */
export function quantile(values: Float64Array, q: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export function mean(values: Float64Array): number {
  let s = 0;
  for (const v of values) s += v;
  return values.length ? s / values.length : NaN;
}
