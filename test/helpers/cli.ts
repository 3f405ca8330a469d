/**
 * Runs `steerdns serve` as users do: the compiled `dist/cli.js` (built by `npm test`) in a child
 * process on ephemeral loopback ports, its JSON log lines read to learn the ports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface LogLine {
  readonly msg: string;
  readonly level: number;
  /** A worker's lines: its cluster id and process id. */
  readonly worker?: number;
  readonly pid?: number;
  readonly [field: string]: unknown;
}

export interface RunningCli {
  readonly child: ChildProcess;
  /** DNS port (UDP and TCP) and HTTP API port. */
  readonly port: number;
  readonly apiPort: number;
  /** Every log line written so far, parsed (pino's JSON: msg, level, pid, worker...). */
  readonly logs: readonly LogLine[];
  /** Resolves when a log line with this message has been written (or already was). */
  logged(msg: string): Promise<void>;
  /** The exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
}

/** Starts `serve --zones DIR` plus `args`; killed after `killAfterMs` if it is still running. */
export async function startCli(zones: string, args: string[] = [], killAfterMs = 30_000): Promise<RunningCli> {
  // Each run keeps its state apart (overrides and health would otherwise carry from test to test).
  const state = args.includes('--state-dir') ? [] : ['--state-dir', mkdtempSync(join(tmpdir(), 'steerdns-state-'))];
  const child = spawn(process.execPath, [CLI, 'serve', '--zones', zones, '--listen', '127.0.0.1:0', '--api', '127.0.0.1:0', '--no-watch', ...state, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    clearTimeout(killer);
    resolve(code);
  }));
  const seen = new Set<string>();
  const logs: LogLine[] = [];
  const waiters: { msg: string; resolve: () => void }[] = [];
  let port = 0;
  let apiPort = 0;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const j = JSON.parse(line) as LogLine & { port?: number };
    logs.push(j);
    if (j.msg === 'listening on UDP and TCP' && j.port) port = j.port;
    if (j.msg === 'HTTP API listening' && j.port) apiPort = j.port;
    seen.add(j.msg);
    for (const w of waiters.filter((w) => w.msg === j.msg)) w.resolve();
  });
  const logged = (msg: string) =>
    seen.has(msg) ? Promise.resolve() : new Promise<void>((resolve, reject) => {
      waiters.push({ msg, resolve });
      void exited.then(() => reject(new Error(`steerdns exited before logging "${msg}"`)));
    });
  await logged('HTTP API listening'); // the API starts after the DNS listeners
  return { child, port, apiPort, logs, logged, exited };
}
