// `npm install` / `npm ci` run this (the `prepare` script): build dist/ with TypeScript when it is
// installed. A production install (`--omit=dev`) has no TypeScript: it keeps a dist/ built
// before, and says what to do when there is none.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

if (existsSync(tsc)) {
  // The npm that runs this script runs the build (npm_execpath), else the one on PATH.
  const npm = process.env.npm_execpath;
  const r = npm ? spawnSync(process.execPath, [npm, 'run', 'build'], { stdio: 'inherit', cwd: root }) : spawnSync('npm', ['run', 'build'], { stdio: 'inherit', cwd: root });
  process.exit(r.status ?? 1);
}
if (existsSync(join(root, 'dist', 'cli.js'))) {
  console.log('steerdns: TypeScript is not installed (a production install); using the dist/ already built');
  process.exit(0);
}
console.error(
  'steerdns: dist/ is not built and TypeScript, a development dependency, is not installed.\n' +
    'Install with the development dependencies, which builds dist/, then drop them:\n' +
    '  npm ci && npm prune --omit=dev',
);
process.exit(1);
