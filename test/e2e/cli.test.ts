/**
 * The command line as users run it: the compiled `dist/cli.js` (built by `npm test`), `check`
 * output and exit status, and `serve` answering over UDP and TCP until SIGTERM.
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { query } from '../helpers/client.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const E2E = fileURLToPath(new URL('../fixtures/e2e/', import.meta.url));
const DEMO = fileURLToPath(new URL('../../zones/', import.meta.url));

t.test('check: demo zones are clean', async (t) => {
  const r = spawnSync(process.execPath, [CLI, 'check', '--zones', DEMO], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stdout + r.stderr);
  t.match(r.stdout, /1 zone\(s\) OK: example\.com\./);
});

t.test('check: problems are printed as file:line and the exit status is 1', async (t) => {
  const r = spawnSync(process.execPath, [CLI, 'check', '--zones', E2E], { encoding: 'utf8' });
  t.equal(r.status, 1);
  t.match(r.stdout, /broken\.example\.zone:4: error: .*192\.0\.2\.300/);
  t.match(r.stdout, /2 zone\(s\) OK: .*; 1 failed/);
});

t.test('bad flags exit with status 2 and the usage', async (t) => {
  const r = spawnSync(process.execPath, [CLI, 'serve', '--listen', 'nonsense'], { encoding: 'utf8' });
  t.equal(r.status, 2);
  t.match(r.stderr, /--listen "nonsense"/);
  t.match(r.stderr, /usage:/);
});

t.test('serve answers over UDP and TCP and stops on SIGTERM', async (t) => {
  const child = spawn(process.execPath, [CLI, 'serve', '--zones', DEMO, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    lines.on('line', (l) => {
      const j = JSON.parse(l) as { msg: string; port?: number };
      if (j.msg === 'listening on UDP and TCP' && j.port) resolve(j.port);
    });
    child.once('exit', () => reject(new Error('server exited before listening')));
  });
  for (const transport of ['udp', 'tcp'] as const) {
    const r = await query(port, transport, 'example.com', 'SOA');
    t.equal(r.rcode, 'NOERROR', transport);
    t.equal(r.answers?.[0].type, 'SOA');
  }
  const code = await new Promise<number | null>((resolve) => {
    child.once('exit', (c) => resolve(c));
    child.kill('SIGTERM');
  });
  clearTimeout(killer);
  t.equal(code, 0, 'clean exit on SIGTERM');
});
