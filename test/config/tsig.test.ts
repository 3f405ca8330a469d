import t from 'tap';
import { spawnSync } from 'node:child_process';
import { parseKeyFile, keyringOf } from '../../src/config/tsig.js';
import { formatProblem, type Problem } from '../../src/config/problem.js';

t.test('BIND key files as tsig-keygen writes them', async (t) => {
  const gen = spawnSync('tsig-keygen', ['-a', 'hmac-sha512', 'acme.example.'], { encoding: 'utf8' });
  const text = gen.error ? 'key "acme.example." {\n\talgorithm hmac-sha512;\n\tsecret "c2VjcmV0";\n};\n' : gen.stdout;
  if (gen.error) t.comment('tsig-keygen not installed: a key written the same way');
  const problems: Problem[] = [];
  const specs = parseKeyFile(text, 'acme.key', problems);
  t.same(problems, []);
  const ring = keyringOf(specs, problems);
  t.same(problems, []);
  const k = ring.get('acme.example.')!;
  t.equal(k.algorithm.hash, 'sha512');
  t.ok(k.secret.length > 0);
});

t.test('several keys, comments of every kind, dnssec-keygen-style long algorithm names', async (t) => {
  const problems: Problem[] = [];
  const specs = parseKeyFile(`# a comment
key "a" { algorithm hmac-sha256; secret "c2VjcmV0"; }; // another
/* and
   a block */ key b {
  algorithm HMAC-MD5.SIG-ALG.REG.INT;
  secret "c2VjcmV0";
};
`, 'k', problems);
  const ring = keyringOf(specs, problems);
  t.same([...ring.keys()], ['a.', 'b.']);
  t.equal(ring.get('b.')!.algorithm.hash, 'md5');
  t.match(problems.map(formatProblem), [/^k:4: warning: TSIG key "b": hmac-md5 is accepted for old clients/]);
});

t.test('mistakes name the file and line', async (t) => {
  const cases: [string, RegExp][] = [
    ['key "a" { algorithm hmac-sha256; secret "c2VjcmV0" };', /^k:1: error: expected ";", found "}"/],
    ['key "a" { algorithm hmac-sha256; };', /^k:1: error: key "a" has no secret/],
    ['key "a" {\n algorithm hmac-sha999;\n secret "c2VjcmV0";\n};', /^k:1: error: TSIG key "a": unknown algorithm "hmac-sha999"/],
    ['key "a" { algorithm hmac-sha256; secret "not base64!"; };', /TSIG key "a": the secret is not base64/],
    ['key "a" { algorithm hmac-sha256; secret "c2VjcmV0"; };\nkey "A" { algorithm hmac-sha256; secret "c2VjcmV0"; };', /^k:2: error: TSIG key "A": defined again \(first at k:1\)/],
    ['options { };', /^k:1: error: expected a key statement/],
    ['key "a" { algorithm hmac-sha256; secret "c2VjcmV0"; color blue; };', /unknown clause "color"/],
  ];
  for (const [text, want] of cases) {
    const problems: Problem[] = [];
    keyringOf(parseKeyFile(text, 'k', problems), problems);
    t.match(problems.map(formatProblem).join('\n'), want, text);
  }
});
