/** Names: presentation parsing with escapes, limits, wire decoding with compression rules. */
import t from 'tap';
import { Name } from '../../src/wire/name.js';

const origin = Name.fromText('Example.COM.');

t.test('presentation text', async (t) => {
  t.equal(Name.fromText('www', origin).key, 'www.example.com.', 'relative names get the origin');
  t.equal(Name.fromText('WWW.example.com.').toString(), 'WWW.example.com.', 'case kept for output');
  t.equal(Name.fromText('WWW.example.com.').key, 'www.example.com.', 'key is lower case');
  t.equal(Name.fromText('.').key, '.');
  t.equal(Name.fromText('a\\.b.example.com.').labels.length, 3, 'escaped dot stays inside the label');
  t.equal(Name.fromText('a\\.b.example.com.').key, 'a\\.b.example.com.');
  t.same([...Name.fromText('\\065\\032b.').labels[0]], [65, 32, 98], '\\DDD escapes');
  t.equal(Name.fromText('\\065\\032b.').key, 'a\\032b.', 'key escapes space, folds case');
  t.equal(Name.fromText('*.example.com.').key, '*.example.com.');
});

t.test('plain names read like their labels (the fast path of fromText)', async (t) => {
  let x = 99;
  const next = (n: number) => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8) % n;
  const chars = 'abcXYZ019-_*';
  const origins = [Name.root, origin, Name.fromText('a.b.c.d.')];
  let mismatches = 0;
  for (let i = 0; i < 3_000; i++) {
    const labels = Array.from({ length: 1 + next(4) }, () => Array.from({ length: 1 + next(12) }, () => chars[next(chars.length)]).join(''));
    const absolute = next(2) === 0;
    const base = origins[next(origins.length)];
    const name = Name.fromText(labels.join('.') + (absolute ? '.' : ''), base);
    const expected = Name.fromLabels([...labels.map((l) => Buffer.from(l)), ...(absolute ? [] : (base.labels as Buffer[]))]);
    if (name.key !== expected.key || !name.wire.equals(expected.wire) || name.labelCount !== expected.labelCount) mismatches++;
  }
  t.equal(mismatches, 0, '3,000 random names: the same key, wire form and label count');
  // What the fast path leaves to the general one is still parsed, or refused, there.
  t.equal(Name.fromText('a b.', origin).key, 'a\\032b.', 'a space is escaped');
  t.equal(Name.fromText('é.').wire.length, 4, 'UTF-8 octets');
  t.throws(() => Name.fromText('a..b.'), /empty label/);
  t.throws(() => Name.fromText(`${'a'.repeat(64)}.`), /63/);
  t.throws(() => Name.fromText(`${'a'.repeat(60)}.`.repeat(5)), /255/);
});

t.test('presentation errors', async (t) => {
  t.throws(() => Name.fromText('a..b.'), /empty label/);
  t.throws(() => Name.fromText('www'), /relative name "www" without an origin/);
  t.throws(() => Name.fromText('x'.repeat(64) + '.'), /label longer than 63/);
  t.throws(() => Name.fromText(('x'.repeat(63) + '.').repeat(4)), /name longer than 255/);
  t.throws(() => Name.fromText('\\256.'), /bad escape/);
  t.throws(() => Name.fromText('a\\'), /dangling backslash/);
  t.doesNotThrow(() => Name.fromText(('x'.repeat(63) + '.').repeat(3) + 'x'.repeat(61) + '.'), 'exactly 255 octets');
});

t.test('wire decoding', async (t) => {
  const msg = Buffer.concat([Buffer.alloc(12), Name.fromText('www.example.com.').wire, Buffer.from([3, 0x66, 0x6f, 0x6f, 0xc0, 16])]);
  const first = Name.fromWire(msg, 12);
  t.equal(first.name.key, 'www.example.com.');
  t.equal(first.next, 12 + 17);
  const second = Name.fromWire(msg, 29);
  t.equal(second.name.key, 'foo.example.com.', 'pointer to a suffix');
  t.equal(second.next, 29 + 6, 'next is after the pointer');
  const self = Buffer.concat([Buffer.alloc(12), Buffer.from([0xc0, 12])]);
  t.throws(() => Name.fromWire(self, 12), /does not point backwards/, 'self pointer');
  const forward = Buffer.concat([Buffer.alloc(12), Buffer.from([0xc0, 14, 0])]);
  t.throws(() => Name.fromWire(forward, 12), /does not point backwards/, 'forward pointer');
  const loop = Buffer.concat([Buffer.alloc(12), Buffer.from([1, 0x61, 0xc0, 12])]);
  t.throws(() => Name.fromWire(loop, 12), /does not point backwards/, 'loop through an earlier label');
  t.throws(() => Name.fromWire(Buffer.from([5, 0x61]), 0), /past the end/);
  t.throws(() => Name.fromWire(Buffer.from([0x40, 0]), 0), /unknown label type/);
  const long = Buffer.concat([...Array.from({ length: 5 }, () => Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0x61)])), Buffer.from([0])]);
  t.throws(() => Name.fromWire(long, 0), /longer than 255/);
});

t.test('relations', async (t) => {
  const www = Name.fromText('www.example.com.');
  t.ok(www.isSubdomainOf(origin));
  t.ok(origin.isSubdomainOf(origin));
  t.notOk(Name.fromText('wwwexample.com.').isSubdomainOf(origin));
  t.ok(www.isSubdomainOf(Name.root));
  t.same(www.suffixKeys(), ['www.example.com.', 'example.com.', 'com.', '.']);
  t.equal(www.parent()?.key, 'example.com.');
});
