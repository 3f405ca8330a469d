/**
 * Supported runtimes: Node.js 22 and 24 LTS. Below 22, `serve` starts all the same and says
 * once, at warn level, that the runtime is out of support.
 */
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { runtimeWarning } from '../../src/cli/runtime.js';
import { startCli } from '../helpers/cli.js';

const ZONES = fileURLToPath(new URL('../fixtures/e2e/', import.meta.url));

t.test('one warning below Node 22, none on 22 and 24', async (t) => {
  t.equal(runtimeWarning('20.20.2'), 'Node.js 20 is past its end of life and out of support: run steerdns on Node.js 22 or 24 LTS');
  t.match(runtimeWarning('18.0.0'), /^Node\.js 18 /);
  for (const v of ['22.0.0', '22.12.0', '23.1.0', '24.22.3', '26.0.0']) t.equal(runtimeWarning(v), undefined, v);
});

t.test('serve on this runtime: one warning line when out of support, else none', async (t) => {
  const cli = await startCli(ZONES, ['--workers', '2', '--startup-wait', '0'], 60_000);
  const major = Number(process.versions.node.split('.')[0]);
  const warnings = cli.logs.filter((l) => /out of support/.test(l.msg));
  t.equal(warnings.length, major < 22 ? 1 : 0, `Node ${process.versions.node}: ${major < 22 ? 'one line (the primary\'s, not one per worker)' : 'none'}`);
  for (const w of warnings) t.match(w, { level: 40, node: process.version }, 'at warn level, with the version');
  cli.child.kill('SIGTERM');
  t.equal(await cli.exited, 0, 'and it serves as usual until stopped');
});
