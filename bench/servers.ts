/** Starts the servers under test (steerdns, the ceiling) pinned to a CPU, and reads their memory and CPU time. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';

export interface Server {
  readonly port: number;
  readonly process: ChildProcess;
  /** Peak resident memory so far, in MiB (VmHWM), of the process and its workers. */
  peakRssMiB(): number;
  /** CPU seconds (user and system) used so far by the process and its live workers. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

export interface SteerdnsOptions {
  readonly root: string;
  readonly zones: string;
  readonly port: number;
  readonly cpu?: number;
  readonly extraArgs?: readonly string[];
  /** Options for node itself (--cpu-prof). */
  readonly nodeArgs?: readonly string[];
  /** The node binary to run it with (default: this one). */
  readonly node?: string;
  /** Seconds to wait for the first answer (big zones take a while to load). */
  readonly startTimeout?: number;
}

export async function startSteerdns(opts: SteerdnsOptions): Promise<Server & { readySeconds: number }> {
  const args = [...(opts.nodeArgs ?? []), join(opts.root, 'dist/cli.js'), 'serve', '--zones', opts.zones, '--listen', `127.0.0.1:${opts.port}`, '--api', 'off', '--no-watch', '--log-level', 'warn', '--state-dir', mkdtempSync(join(tmpdir(), 'steerdns-bench-state-')), ...(opts.extraArgs ?? [])];
  const started = process.hrtime.bigint();
  const child = pinned(opts.cpu, opts.node ?? process.execPath, args);
  const server = wrap(child, opts.port);
  try {
    await waitForAnswer(opts.port, child, opts.startTimeout ?? 30);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return { ...server, readySeconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

export async function startCeiling(root: string, port: number, reply: Buffer, cpu?: number, node = process.execPath): Promise<Server> {
  const child = pinned(cpu, node, [join(root, 'bench/.build/bench/ceiling.js'), String(port), reply.toString('hex')]);
  const server = wrap(child, port);
  await waitForAnswer(port, child, 10);
  return server;
}

function pinned(cpu: number | undefined, cmd: string, args: string[]): ChildProcess {
  const [c, a] = cpu === undefined ? [cmd, args] : ['taskset', ['-c', String(cpu), cmd, ...args]];
  const child = spawn(c, a, { stdio: ['ignore', 'ignore', 'inherit'] });
  return child;
}

function wrap(child: ChildProcess, port: number): Server {
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    port,
    process: child,
    peakRssMiB: () => peakRss(child.pid!),
    cpuSeconds: () => cpuSeconds(child.pid!),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A process and its descendants (a taskset wrapper execs: the pid is the server's; workers are children). */
function tree(pid: number): number[] {
  const out: number[] = [];
  const visit = (p: number) => {
    try {
      const children = readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim();
      out.push(p);
      for (const c of children ? children.split(/\s+/) : []) visit(Number(c));
    } catch {
      // gone already
    }
  };
  visit(pid);
  return out;
}

/** VmHWM of a process and its children (workers), in MiB. */
function peakRss(pid: number): number {
  let kib = 0;
  for (const p of tree(pid)) {
    try {
      kib += Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone already
    }
  }
  return kib / 1024;
}

/** Clock ticks per second, the unit of /proc/PID/stat's times. */
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** utime + stime (fields 14 and 15 of /proc/PID/stat) of a process and its children, in seconds. */
function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of tree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      // After the command in parentheses (which may hold spaces): field 3 onwards.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone already
    }
  }
  return ticks / CLOCK_TICKS;
}

/** Sends one query a few times a second until an answer comes back; returns the answer. */
export async function waitForAnswer(port: number, child: ChildProcess | undefined, seconds: number, name = 'www.bench.test'): Promise<Buffer> {
  const socket = dgram.createSocket('udp4');
  const query = dnsPacket.encode({ type: 'query', id: 1, flags: 0, questions: [{ name, type: 'A', class: 'IN' }], additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] });
  const deadline = Date.now() + seconds * 1000;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      socket.on('message', (msg) => resolve(msg));
      const tick = () => {
        if (child && child.exitCode !== null) return reject(new Error(`server exited with ${child.exitCode} before answering`));
        if (Date.now() > deadline) return reject(new Error(`no answer on port ${port} within ${seconds} s`));
        socket.send(query, port, '127.0.0.1');
        timer = setTimeout(tick, 100);
      };
      tick();
    });
  } finally {
    clearTimeout(timer);
    socket.close();
  }
}
