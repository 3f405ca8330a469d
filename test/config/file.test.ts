import t from 'tap';
import { parseConfigFile, Settings } from '../../src/config/file.js';
import { DEFAULTS, FILE_OPTIONS } from '../../src/cli/options.js';
import { formatProblem } from '../../src/config/problem.js';

const read = (text: string) => parseConfigFile(text, 'steerdns.yaml', FILE_OPTIONS);

t.test('every kind of option reads as the command line gives it', async (t) => {
  const r = read('zones: /etc/steerdns/zones\nlisten: ["0.0.0.0:53", "[::]:53"]\nresolver: 192.0.2.1:53\ntcp-idle-timeout: 10\nno-watch: true\nrrl-log-only: false\n');
  t.same(r.problems, []);
  t.same(r.file?.values, { zones: '/etc/steerdns/zones', listen: ['0.0.0.0:53', '[::]:53'], resolver: ['192.0.2.1:53'], 'tcp-idle-timeout': '10', 'no-watch': true, 'rrl-log-only': false });
  t.equal(r.file?.lines.get('tcp-idle-timeout'), 4);
});

t.test('an empty file sets nothing', async (t) => {
  t.same(read('').file?.values, {});
  t.same(read('# only a comment\n').file?.values, {});
});

t.test('mistakes are errors with the file and line', async (t) => {
  const cases: [string, RegExp][] = [
    ['zones: ./z\nlisten-on: 1.2.3.4:53\n', /^steerdns\.yaml:2: error: unknown option "listen-on"/],
    ['tcp_idle_timeout: 5\n', /unknown option "tcp_idle_timeout" \(did you mean "tcp-idle-timeout"\?\)/],
    ['no-watch: yes please\n', /^steerdns\.yaml:1: error: no-watch: expected true or false/],
    ['zones: [a, b]\n', /zones: expected a single value/],
    ['listen: [{ host: x }]\n', /listen: expected text or a number/],
    ['config: other.yaml\n', /unknown option "config"/],
    ['- listen\n', /must be a mapping of option names/],
    ['zones: a\nzones: b\n', /^steerdns\.yaml:2: error: "zones" is set twice \(first at line 1\)/],
    ['zones: [unclosed\n', /^steerdns\.yaml:\d+: error: YAML: /],
    ['pop:\n', /pop: a value is missing/],
  ];
  for (const [text, want] of cases) {
    const r = read(text);
    t.equal(r.file, undefined, `${JSON.stringify(text)}: not used`);
    t.match(r.problems.map(formatProblem).join('\n'), want, JSON.stringify(text));
  }
});

t.test('the command line wins over the file, the file over the defaults', async (t) => {
  const file = read('zones: /from/file\nworkers: 3\n').file;
  const s = new Settings({ zones: '/from/cli' }, file, DEFAULTS);
  t.equal(s.string('zones'), '/from/cli');
  t.equal(s.string('workers'), '3');
  t.same(s.strings('listen'), ['127.0.0.1:5300'], 'default');
  t.equal(s.where('zones'), '--zones');
  t.equal(s.where('workers'), 'steerdns.yaml:2: workers');
  t.equal(s.error('workers', 'expected a whole number').message, 'steerdns.yaml:2: workers "3": expected a whole number');
});
