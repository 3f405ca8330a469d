/**
 * `--workers 2` with the real CLI: the start-up line says how the workers listen; where Node has reusePort
 * (22.12+, 23.1+), every worker binds its own UDP and TCP sockets (SO_REUSEPORT): the kernel
 * spreads queries from many source ports over more than one worker (NSID names the worker:
 * `--server-id` then `/w` and its id), and a worker killed loses no listening address: the
 * other keeps answering, and its replacement binds beside it.
 */
import t, { type Test } from 'tap';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { query, type Transport } from '../helpers/client.js';
import { startCli, type RunningCli } from '../helpers/cli.js';
import { nodeHasReusePort } from '../../src/server/reuse-port.js';

const ZONES = fileURLToPath(new URL('../fixtures/e2e/', import.meta.url));
const hasReusePort = nodeHasReusePort();
let cli: RunningCli;

t.before(async () => {
  cli = await startCli(ZONES, ['--workers', '2', '--server-id', 'ns-test', '--startup-wait', '0'], 90_000);
});

t.teardown(() => {
  if (cli?.child.exitCode === null) cli.child.kill('SIGKILL');
});

function workerPids(): number[] {
  const pid = cli.child.pid!;
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return children ? children.split(/\s+/).map(Number) : [];
}

/** The inodes of the sockets bound to our DNS port on 127.0.0.1: UDP, and TCP listening (state 0A). */
function boundSockets(): { udp: string[]; tcp: string[] } {
  const local = `0100007F:${cli.port.toString(16).toUpperCase().padStart(4, '0')}`;
  const rows = (file: string) => readFileSync(file, 'utf8').trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
  return {
    udp: rows('/proc/net/udp').filter((r) => r[1] === local).map((r) => r[9]),
    tcp: rows('/proc/net/tcp').filter((r) => r[1] === local && r[3] === '0A').map((r) => r[9]),
  };
}

/** The socket inodes a process holds open. */
function socketsOf(pid: number): Set<string> {
  const out = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) out.add(m[1]);
    } catch {
      // closed while we read
    }
  }
  return out;
}

/** The NSIDs of `n` queries, each from a new socket (a new source port, or a new connection). */
async function answeredBy(transport: Transport, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await query(cli.port, transport, 'www.example.com', 'A', { edns: { nsid: true } });
    const opt = r.additionals?.find((a) => a.type === 'OPT') as unknown as { options: { code: number; data: Buffer }[] };
    ids.push(opt.options.find((o) => o.code === 3)?.data.toString() ?? '');
  }
  return ids;
}

async function until(t: Test, what: string, check: () => boolean | Promise<boolean>, limitMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < limitMs) {
    if (await check()) return void t.pass(what);
    await new Promise((r) => setTimeout(r, 100));
  }
  t.fail(`${what}: not within ${limitMs} ms`);
}

t.test('start-up: one line says how the workers listen', async (t) => {
  const started = cli.logs.filter((l) => l.msg.startsWith('workers listening'));
  t.equal(started.length, 1, 'one line says how the workers listen');
  t.equal(started[0]?.sockets, hasReusePort ? 'reuseport' : 'shared', started[0]?.msg);
  const { udp, tcp } = boundSockets();
  t.equal(udp.length, hasReusePort ? 2 : 1, 'UDP sockets on the port: one per worker, or one shared');
  t.equal(tcp.length, hasReusePort ? 2 : 1, 'TCP listening sockets on the port: likewise');
});

t.test('every worker reads its own sockets', { skip: hasReusePort ? false : `Node ${process.versions.node} has no reusePort (22.12+ or 23.1+): the workers share the primary's sockets` }, async (t) => {
  const { udp, tcp } = boundSockets();
  const primary = socketsOf(cli.child.pid!);
  t.same([...udp, ...tcp].filter((i) => primary.has(i)), [], 'the primary holds none of them');
  for (const pid of workerPids()) {
    const own = socketsOf(pid);
    t.equal(udp.filter((i) => own.has(i)).length, 1, `worker ${pid} holds one UDP socket`);
    t.equal(tcp.filter((i) => own.has(i)).length, 1, `worker ${pid} holds one TCP listening socket`);
  }

  const ids = [...(await answeredBy('udp', 40)), ...(await answeredBy('tcp', 20))];
  t.same(ids.filter((id) => !/^ns-test\/w\d+$/.test(id)), [], 'every answer names its worker in NSID');
  t.ok(new Set(await answeredBy('udp', 40)).size > 1, 'queries from 40 source ports are answered by more than one worker over UDP');
  t.ok(new Set(await answeredBy('tcp', 20)).size > 1, 'and 20 connections by more than one over TCP');
});

t.test('a worker killed loses no listening address', { skip: hasReusePort ? false : `Node ${process.versions.node} has no reusePort: the primary's shared sockets outlive any worker (test/e2e/workers.test.ts)` }, async (t) => {
  const [victim, survivor] = workerPids();
  const idOf = (pid: number) => cli.logs.find((l) => l.pid === pid && l.worker !== undefined)?.worker;
  const victimId = `ns-test/w${idOf(victim)}`;
  const survivorId = `ns-test/w${idOf(survivor)}`;
  process.kill(victim, 'SIGKILL');
  await until(t, 'the worker is gone', () => !workerPids().includes(victim));
  // Whether the replacement has started yet or not, every query is answered.
  const ids = [...(await answeredBy('udp', 30)), ...(await answeredBy('tcp', 10))];
  t.equal(ids.length, 40, 'every query answered');
  t.notOk(ids.includes(victimId), 'none by the dead worker');
  t.ok(ids.includes(survivorId), 'the other worker answers');
  await until(t, 'the pool starts another', () => workerPids().length === 2);
  await until(t, 'which binds its own sockets beside the survivor\'s', () => boundSockets().udp.length === 2 && boundSockets().tcp.length === 2);
  await until(t, 'and answers its share', async () => (await answeredBy('udp', 20)).some((id) => id !== survivorId && id !== victimId));
});

t.test('SIGTERM: every process exits, the port is let go', async (t) => {
  cli.child.kill('SIGTERM');
  t.equal(await cli.exited, 0);
  const { udp, tcp } = boundSockets();
  t.same([udp.length, tcp.length], [0, 0], 'no socket left on the port');
});
