/**
 * The folders of src/ are layers and imports point down (README, "Development"). This reads
 * every import of every module under src/ (static, type-only, re-exports and dynamic) and
 * fails on one that climbs to a higher layer, or leaves src/wire/ at all.
 */
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

/**
 * Lowest first. A module may import from its own folder and from any lower layer; folders on
 * one line are peers that may not import each other. Top-level files count as folders.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['wire', 'log.ts', 'version.ts'],
  ['config'],
  ['zone'],
  ['geo'],
  ['lb'],
  ['health'],
  ['snapshot'],
  ['xfr'],
  ['answer'],
  ['server', 'api'],
  ['app'],
  ['workers', 'demo'],
  ['cli'],
  ['cli.ts'],
];

function modules(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return modules(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** The top folder (or top-level file) of a module under src/. */
function room(path: string): string {
  return relative(SRC, path).split(sep)[0];
}

function rank(r: string): number {
  return LAYERS.findIndex((layer) => layer.includes(r));
}

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly line: number;
}

/** Every import of every module that resolves to another module under src/. */
function edges(): Edge[] {
  const out: Edge[] = [];
  for (const file of modules(SRC)) {
    const text = readFileSync(file, 'utf8');
    const info = ts.preProcessFile(text, true, true);
    for (const ref of info.importedFiles) {
      if (!ref.fileName.startsWith('.')) continue; // a package or node: builtin
      const target = resolve(dirname(file), ref.fileName).replace(/\.js$/, '.ts');
      if (!target.startsWith(SRC + sep)) continue;
      const line = text.slice(0, ref.pos).split('\n').length;
      out.push({ from: file, to: target, line });
    }
  }
  return out;
}

const all = edges();

t.test('the graph is read', async (t) => {
  t.ok(all.length > 200, `${all.length} imports read`);
  for (const r of new Set(modules(SRC).map(room))) t.ok(rank(r) >= 0, `${r} has a layer`);
});

t.test('no import climbs to a higher layer or crosses to a peer', async (t) => {
  const bad = all.filter((e) => room(e.from) !== room(e.to) && rank(room(e.to)) >= rank(room(e.from)));
  t.same(
    bad.map((e) => `${relative(SRC, e.from)}:${e.line} imports ${relative(SRC, e.to)}`),
    [],
    'back edges',
  );
});

t.test('src/wire/ imports nothing from the rest of src/', async (t) => {
  const out = all.filter((e) => room(e.from) === 'wire' && room(e.to) !== 'wire');
  t.same(out.map((e) => `${relative(SRC, e.from)}:${e.line} imports ${relative(SRC, e.to)}`), []);
  t.ok(all.some((e) => room(e.from) === 'wire'), 'wire has imports of its own to check');
});

t.test('the check catches a back edge', async (t) => {
  // The rule above, on a made-up edge: zone importing answer is refused, answer importing zone is not.
  const climbs = (from: string, to: string) => from !== to && rank(to) >= rank(from);
  t.ok(climbs('zone', 'answer'));
  t.ok(climbs('server', 'api'), 'peers');
  t.notOk(climbs('answer', 'zone'));
});
