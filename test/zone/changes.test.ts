import t from 'tap';
import { Name } from '../../src/wire/name.js';
import { parseZone } from '../../src/zone/parser.js';
import { compileZone, type Zone } from '../../src/zone/zone.js';
import { appended, changesSince, difference, MAX_CHANGES, soaSerial, type Change } from '../../src/zone/changes.js';

const ORIGIN = Name.fromText('example.com.');
function zone(serial: number, body: string): Zone {
  const text = `$TTL 300\n@ SOA ns1 host ${serial} 7200 900 1209600 60\n@ NS ns1\nns1 A 192.0.2.53\n${body}`;
  const parsed = parseZone(text, { file: 'z', origin: ORIGIN });
  return compileZone(ORIGIN, parsed.records, 'z').zone!;
}
const show = (c: Change) => ({
  from: soaSerial(c.from),
  to: soaSerial(c.to),
  deleted: c.deleted.map((r) => `${r.owner} ${r.ttl} ${r.type}`),
  added: c.added.map((r) => `${r.owner} ${r.ttl} ${r.type}`),
});

t.test('difference: records deleted and added, a TTL change as both, the SOA aside', async (t) => {
  const a = zone(1, 'www A 192.0.2.1\nwww A 192.0.2.2\nold TXT "x"\nttl 60 A 192.0.2.9\n');
  const b = zone(2, 'www A 192.0.2.1\nwww A 192.0.2.3\nnew TXT "y"\nttl 120 A 192.0.2.9\n');
  t.same(show(difference(a, b)), {
    from: 1,
    to: 2,
    deleted: ['www.example.com. 300 1', 'old.example.com. 300 16', 'ttl.example.com. 60 1'],
    added: ['www.example.com. 300 1', 'new.example.com. 300 16', 'ttl.example.com. 120 1'],
  });
  t.same(show(difference(a, zone(2, 'www A 192.0.2.1\nwww A 192.0.2.2\nold TXT "x"\nttl 60 A 192.0.2.9\n'))).deleted, [], 'only the serial: nothing else');
});

t.test('changesSince follows the chain, and says when it does not reach', async (t) => {
  const v = [1, 2, 3, 4].map((s) => zone(s, `v${s} A 192.0.2.${s}\n`));
  let journal: Change[] = [];
  for (let i = 1; i < v.length; i++) journal = appended(journal, difference(v[i - 1], v[i]));
  t.same(changesSince(journal, 1, 4)?.map(show).map((c) => `${c.from}->${c.to}`), ['1->2', '2->3', '3->4']);
  t.same(changesSince(journal, 3, 4)?.map(show).map((c) => `${c.from}->${c.to}`), ['3->4']);
  t.equal(changesSince(journal, 0, 4), undefined, 'older than the journal');
  t.equal(changesSince(journal, 2, 5), undefined, 'the journal does not reach the current serial');
  t.equal(changesSince(undefined, 1, 4), undefined);
  const gap = [journal[0], journal[2]];
  t.equal(changesSince(gap, 1, 4), undefined, 'a gap breaks the chain');
});

t.test('the journal is bounded', async (t) => {
  let journal: Change[] = [];
  for (let s = 1; s <= MAX_CHANGES + 10; s++) journal = appended(journal, difference(zone(s, ''), zone(s + 1, `n${s} A 192.0.2.1\n`)));
  t.equal(journal.length, MAX_CHANGES);
  t.equal(soaSerial(journal[0].from), 11, 'the oldest went first');
});
