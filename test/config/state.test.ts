import t from 'tap';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateDir } from '../../src/config/state.js';

const list = (data: unknown) => (Array.isArray(data) && data.every((x) => typeof x === 'number') ? (data as number[]) : undefined);

t.test('JSON state is written atomically and read back with its kind and time', async (t) => {
  const dir = join(mkdtempSync(join(tmpdir(), 'steerdns-state-')), 'state');
  const s = new StateDir(dir);
  s.ensure();
  t.equal(statSync(dir).mode & 0o777, 0o700, 'the directory is the owner\'s alone');
  t.same(s.readJson('numbers.json', 'numbers/1', list), {}, 'no file: nothing, and no problem');
  s.writeJson('numbers.json', 'numbers/1', [1, 2, 3]);
  t.equal(statSync(join(dir, 'numbers.json')).mode & 0o777, 0o600);
  const read = s.readJson('numbers.json', 'numbers/1', list);
  t.same(read.value, [1, 2, 3]);
  t.ok(read.written instanceof Date && Date.now() - read.written.getTime() < 60_000);
  s.writeJson('numbers.json', 'numbers/1', [4]);
  t.same(s.readJson('numbers.json', 'numbers/1', list).value, [4], 'replaced');
  t.same(readdirSync(dir), ['numbers.json'], 'no temporary file left behind');
});

t.test('a damaged, foreign or other-version file is a problem, never an exception', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'steerdns-state-'));
  const s = new StateDir(dir);
  const cases: [string, RegExp][] = [
    ['{"steerdns": "numbers/1", "written": "2026-01-01T00:00:00Z", "data": [1, 2', /not valid JSON/],
    ['{"some": "other program"}', /not a steerdns state file/],
    ['[1, 2, 3]', /not a steerdns state file/],
    ['{"steerdns": "numbers/2", "written": "2026-01-01T00:00:00Z", "data": [1]}', /holds "numbers\/2", expected "numbers\/1"/],
    ['{"steerdns": "numbers/1", "written": "2026-01-01T00:00:00Z", "data": ["a"]}', /contents are not what "numbers\/1" holds/],
    ['{"steerdns": "numbers/1", "written": "yesterday", "data": [1]}', /contents are not what/],
  ];
  for (const [text, want] of cases) {
    writeFileSync(join(dir, 'numbers.json'), text);
    const r = s.readJson('numbers.json', 'numbers/1', list);
    t.equal(r.value, undefined, text);
    t.match(r.problem, want, text);
    t.match(r.problem, join(dir, 'numbers.json'), 'names the file');
  }
  if (process.getuid?.() !== 0) {
    chmodSync(join(dir, 'numbers.json'), 0);
    t.match(s.readJson('numbers.json', 'numbers/1', list).problem, /cannot read it \(EACCES\)/);
  }
});

t.test('bytes round-trip, in sub-directories made as needed', async (t) => {
  const s = new StateDir(mkdtempSync(join(tmpdir(), 'steerdns-state-')));
  t.equal(s.readBytes('last-good/x.zone'), undefined);
  s.writeBytes('last-good/x.zone', '$TTL 60\n');
  t.equal(readFileSync(s.file('last-good/x.zone'), 'utf8'), '$TTL 60\n');
  t.equal(s.readBytes('last-good/x.zone')?.toString(), '$TTL 60\n');
});

t.test('a state directory that cannot be made says which and why', async (t) => {
  const file = join(mkdtempSync(join(tmpdir(), 'steerdns-state-')), 'a-file');
  writeFileSync(file, '');
  t.throws(() => new StateDir(join(file, 'state')).ensure(), /state directory .*a-file\/state: .*\(--state-dir\)/);
});
