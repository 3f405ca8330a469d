import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateDir } from '../../src/config/state.js';
import { DEFAULT_ZONE_OPTIONS, type SerialPolicy } from '../../src/config/zone-options.js';
import { loadConfig } from '../../src/snapshot/load.js';
import { serialOf } from '../../src/xfr/axfr.js';
import { applySerialPolicies, nextSerial } from '../../src/xfr/serial.js';

const DAY = new Date('2026-12-05T12:00:00Z');

t.test('nextSerial: each policy, never behind what was served or what the file says', async (t) => {
  t.equal(nextSerial('increment', undefined, 7, DAY), 7, 'first time: the file\'s');
  t.equal(nextSerial('increment', 7, 7, DAY), 8);
  t.equal(nextSerial('increment', 9, 7, DAY), 10, 'on from what was served');
  t.equal(nextSerial('increment', 8, 100, DAY), 100, 'the file moved ahead: its serial');
  t.equal(nextSerial('increment', 0xffffffff, 0xfffffff0, DAY), 0, 'wraps as RFC 1982 says');
  t.equal(nextSerial('unixtime', undefined, 1, DAY), DAY.getTime() / 1000);
  t.equal(nextSerial('unixtime', DAY.getTime() / 1000, 1, DAY), DAY.getTime() / 1000 + 1, 'twice in a second');
  t.equal(nextSerial('dateserial', undefined, 1, DAY), 2026120500);
  t.equal(nextSerial('dateserial', 2026120500, 1, DAY), 2026120501, 'the second change of the day');
  t.equal(nextSerial('dateserial', 2026120599, 1, DAY), 2026120600, 'the hundredth: the next day\'s number, as BIND does');
});

t.test('a changed file gets a new serial, an unchanged one keeps it, across restarts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'steerdns-serial-'));
  const state = new StateDir(mkdtempSync(join(tmpdir(), 'steerdns-serial-state-')));
  const write = (extra: string) => writeFileSync(join(dir, 'example.com.zone'), `$TTL 60\n@ SOA ns1 host 5 7200 900 1209600 60\n@ NS ns1\nns1 A 192.0.2.53\n${extra}`);
  const settings = (policy: SerialPolicy) => ({ keyring: new Map(), zones: new Map([['example.com.', { ...DEFAULT_ZONE_OPTIONS, serialPolicy: policy }]]) });
  const served = (policy: SerialPolicy = 'increment') => serialOf([...applySerialPolicies(loadConfig(dir), settings(policy), state, true, DAY).config.zones.zones][0]);
  write('');
  t.equal(served(), 5, 'the file\'s serial at first');
  t.equal(served(), 5, 'unchanged: the same');
  write('www A 192.0.2.80\n');
  t.equal(served(), 6, 'the file changed, its serial did not: raised');
  t.equal(served(), 6, 'a reload or restart with the same file: the same serial');
  write('www A 192.0.2.81\n');
  t.equal(served(), 7);
  t.equal(served('keep'), 5, 'keep: the file\'s, as written');
});
