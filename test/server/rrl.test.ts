/**
 * Response rate limiting on a fake clock: the per-second limit and the window of debt, slip,
 * the accounts (answer per name and type, negative answers per zone, errors per network),
 * client networks (/24, /56), exemptions, the bounded table, and the "limiting" log event.
 */
import t from 'tap';
import dnsPacket from 'dns-packet';
import { ResponseRateLimiter, type LimitEvent, type RrlAction, type RrlOptions } from '../../src/server/rrl.js';
import type { ResponseClass } from '../../src/server/rrl-wire.js';

const START = 1_700_000_000_000;

function limiter(opts: Partial<RrlOptions> = {}, events: LimitEvent[] = []) {
  const clock = { t: START };
  const rrl = new ResponseRateLimiter({ responsesPerSecond: 5, exempt: [], ...opts }, { now: () => clock.t, seed: 7, onLimited: (e) => events.push(e) });
  return { rrl, clock, events };
}

const www: ResponseClass = { kind: 'answer', name: 'www.example.com', qtype: 1 };
const CLIENT = '192.0.2.10';

function burst(rrl: ResponseRateLimiter, n: number, cls = www, client = CLIENT): Record<RrlAction, number> {
  const out = { send: 0, drop: 0, slip: 0 };
  for (let i = 0; i < n; i++) out[rrl.limit(client, cls)]++;
  return out;
}

t.test('RATE responses a second pass, the rest is limited', async (t) => {
  const { rrl, clock } = limiter({ responsesPerSecond: 5 });
  t.same(burst(rrl, 100), { send: 5, drop: 48, slip: 47 }, 'a burst: 5 sent, then every 2nd limited one slips');
  const steady = limiter({ responsesPerSecond: 5 });
  for (let s = 0; s < 30; s++) {
    t.equal(burst(steady.rrl, 5).send, 5, `second ${s}: all 5 sent`);
    steady.clock.t += 1000;
  }
  clock.t += 999;
  t.equal(rrl.limit(CLIENT, www) === 'send', false, 'no credit within the same second');
});

t.test('the window: debt of up to WINDOW x RATE, so a flooder waits the window out', async (t) => {
  const flood = () => {
    const l = limiter({ responsesPerSecond: 5, window: 3, slip: 0 });
    burst(l.rrl, 1000);
    return l;
  };
  let l = flood();
  l.clock.t += 3000;
  t.equal(l.rrl.limit(CLIENT, www), 'drop', '3 s later the debt (-15) is only just paid: still limited');
  l = flood();
  l.clock.t += 4000;
  t.equal(l.rrl.limit(CLIENT, www), 'send', '4 s later: answered again');

  // Averaged over the window: over the rate all the time gets (next to) nothing; at the rate, everything.
  const over = limiter({ responsesPerSecond: 5, window: 15, slip: 0 });
  let sent = 0;
  for (let s = 0; s < 60; s++) {
    sent += burst(over.rrl, 10).send;
    over.clock.t += 1000;
  }
  t.equal(sent, 5, 'at twice the rate for a minute: only the first second\'s 5');

  const bursty = limiter({ responsesPerSecond: 5, window: 15, slip: 0 });
  sent = 0;
  for (let s = 0; s < 60; s++) {
    if (s % 2 === 0) sent += burst(bursty.rrl, 5).send;
    bursty.clock.t += 1000;
  }
  t.equal(sent, 150, 'under the rate on average: all sent');
});

t.test('slip', async (t) => {
  const seq = (slip: number) => {
    const { rrl } = limiter({ responsesPerSecond: 1, slip });
    rrl.limit(CLIENT, www);
    return Array.from({ length: 6 }, () => rrl.limit(CLIENT, www));
  };
  t.same(seq(2), ['drop', 'slip', 'drop', 'slip', 'drop', 'slip'], 'slip 2: every other one truncated');
  t.same(seq(3), ['drop', 'drop', 'slip', 'drop', 'drop', 'slip'], 'slip 3: every third');
  t.same(seq(0), ['drop', 'drop', 'drop', 'drop', 'drop', 'drop'], 'slip 0: all dropped');
  t.same(seq(1), ['slip', 'slip', 'slip', 'slip', 'slip', 'slip'], 'slip 1: all truncated');
  const { rrl } = limiter({ responsesPerSecond: 1, slip: 1 });
  t.same(burst(rrl, 10, { kind: 'error', name: '', qtype: 0 }), { send: 1, drop: 9, slip: 0 }, 'errors are never slipped (BIND)');
});

t.test('accounts: answers per name and type, negative answers per zone, errors per network', async (t) => {
  const { rrl } = limiter({ responsesPerSecond: 2, nxdomainsPerSecond: 3, errorsPerSecond: 4, slip: 0 });
  t.equal(burst(rrl, 10).send, 2, 'www A: 2');
  t.equal(burst(rrl, 10, { kind: 'answer', name: 'www.example.com', qtype: 28 }).send, 2, 'www AAAA: its own 2');
  t.equal(burst(rrl, 10, { kind: 'answer', name: 'mail.example.com', qtype: 1 }).send, 2, 'mail A: its own 2');
  t.equal(burst(rrl, 10, { kind: 'referral', name: 'dev.example.com', qtype: 0 }).send, 2, 'a referral: at the answers\' rate');

  // NXDOMAIN for random names in one zone: one account (the water-torture case).
  let sent = 0;
  for (let i = 0; i < 10; i++) sent += rrl.check(negative(`r${i}.example.com`, 'example.com', 3), 3, CLIENT) === 'send' ? 1 : 0;
  t.equal(sent, 3, 'NXDOMAIN for 10 names in example.com: 3 (the nxdomain rate), one account');
  sent = 0;
  for (let i = 0; i < 10; i++) sent += rrl.check(negative(`r${i}.example.org`, 'example.org', 3), 3, CLIENT) === 'send' ? 1 : 0;
  t.equal(sent, 3, 'another zone: its own account');
  sent = 0;
  for (let i = 0; i < 10; i++) sent += rrl.check(negative(`r${i}.example.com`, 'example.com', 0), 0, CLIENT) === 'send' ? 1 : 0;
  t.equal(sent, 3, 'NODATA in example.com: the nxdomain rate, apart from NXDOMAIN');

  sent = 0;
  for (let i = 0; i < 10; i++) sent += rrl.check(refused(`q${i}.example.net`, i % 2 ? 5 : 1), i % 2 ? 5 : 1, CLIENT) === 'send' ? 1 : 0;
  t.equal(sent, 4, 'REFUSED and FORMERR for any names: one error account of 4');
  t.equal(burst(rrl, 10, www, '198.51.100.1').send, 2, 'another network: its own accounts');
});

t.test('a rate of 0 leaves its class unlimited', async (t) => {
  const { rrl } = limiter({ responsesPerSecond: 0, errorsPerSecond: 1, nxdomainsPerSecond: 0 });
  t.ok(rrl.enabled);
  t.equal(burst(rrl, 50).send, 50, 'answers: unlimited');
  t.equal(burst(rrl, 50, { kind: 'error', name: '', qtype: 0 }).send, 1, 'errors: limited');
  t.notOk(limiter({ responsesPerSecond: 0 }).rrl.enabled, 'every rate 0: off');
});

t.test('client networks: /24 and /56 by default, configurable', async (t) => {
  const { rrl } = limiter({ responsesPerSecond: 3, slip: 0 });
  t.same(burst(rrl, 3, www, '192.0.2.1').send, 3);
  t.equal(rrl.limit('192.0.2.254', www), 'drop', '192.0.2.254 shares 192.0.2.0/24');
  t.equal(rrl.limit('::ffff:192.0.2.77', www), 'drop', 'and so does its IPv4-mapped form');
  t.equal(rrl.limit('192.0.3.1', www), 'send', '192.0.3.1 does not');

  t.same(burst(rrl, 3, www, '2001:db8:0:100::1').send, 3);
  t.equal(rrl.limit('2001:db8:0:1ff:ffff::2', www), 'drop', 'the same /56');
  t.equal(rrl.limit('2001:db8:0:200::1', www), 'send', 'the next /56');

  const wide = limiter({ responsesPerSecond: 1, slip: 0, ipv4Prefix: 16, ipv6Prefix: 32 }).rrl;
  wide.limit('10.1.2.3', www);
  t.equal(wide.limit('10.1.200.3', www), 'drop', '/16');
  wide.limit('2001:db8::1', www);
  t.equal(wide.limit('2001:db8:ffff::1', www), 'drop', '/32');
  const hosts = limiter({ responsesPerSecond: 1, slip: 0, ipv4Prefix: 32, ipv6Prefix: 128 }).rrl;
  hosts.limit('10.1.2.3', www);
  t.equal(hosts.limit('10.1.2.4', www), 'send', '/32: each address on its own');
});

t.test('exemptions', async (t) => {
  const def = new ResponseRateLimiter({ responsesPerSecond: 1 }, { now: () => START });
  t.equal(burst(def, 50, www, '127.0.0.1').send, 50, 'loopback is exempt by default');
  t.equal(burst(def, 50, www, '127.3.4.5').send, 50, 'all of 127.0.0.0/8');
  t.equal(burst(def, 50, www, '::1').send, 50, '::1');
  t.equal(burst(def, 50, www, CLIENT).send, 1, 'others are not');

  const own = limiter({ responsesPerSecond: 1, exempt: ['198.51.100.0/24', '2001:db8:aa::/48', '203.0.113.9'] }).rrl;
  t.equal(burst(own, 20, www, '198.51.100.200').send, 20, 'an exempt IPv4 network');
  t.equal(burst(own, 20, www, '2001:db8:aa:ff::1').send, 20, 'an exempt IPv6 network');
  t.equal(burst(own, 20, www, '203.0.113.9').send, 20, 'an exempt address');
  t.equal(burst(own, 20, www, '203.0.113.10').send, 1, 'its neighbour is not');
  t.equal(burst(own, 20, www, '127.0.0.1').send, 1, 'configured exemptions replace loopback');
  t.throws(() => limiter({ exempt: ['10.0.0.0/33'] }), { name: 'RrlConfigError' });
  t.throws(() => limiter({ exempt: ['example.com'] }), { name: 'RrlConfigError' });
  t.throws(() => limiter({ window: 0 }), { name: 'RrlConfigError' });
  t.throws(() => limiter({ slip: 11 }), { name: 'RrlConfigError' });
});

t.test('the table stays bounded under a flood of spoofed sources', async (t) => {
  const { rrl, clock } = limiter({ responsesPerSecond: 5, slip: 0, tableSize: 1000 });
  t.equal(rrl.capacity, 1024, 'rounded up to a power of two');
  burst(rrl, 50); // the real flooder is limited
  let flooderSent = 0;
  for (let i = 0; i < 100_000; i++) {
    rrl.limit(`10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}`, { kind: 'answer', name: `r${i}.example.com`, qtype: 1 });
    if (i % 100 === 0) {
      flooderSent += rrl.limit(CLIENT, www) === 'send' ? 1 : 0;
      if (i % 10_000 === 0) clock.t += 100;
    }
  }
  t.ok(rrl.size <= rrl.capacity, `${rrl.size} accounts kept, at most ${rrl.capacity}`);
  t.equal(rrl.size, rrl.capacity, 'the table is full, not larger');
  t.equal(flooderSent, 0, 'an account in use is not evicted by the flood: the flooder stays limited');
});

t.test('a limited network is logged once per window, and at most 10 lines a second', async (t) => {
  const { rrl, clock, events } = limiter({ responsesPerSecond: 1, window: 5 });
  burst(rrl, 20);
  burst(rrl, 20, { kind: 'answer', name: 'mail.example.com', qtype: 28 });
  t.equal(events.length, 1, 'one line for the network');
  t.match(events[0], { network: '192.0.2.0/24', kind: 'answer', name: 'www.example.com.', qtype: 1, rate: 1, suppressed: 0 });
  clock.t += 4000;
  burst(rrl, 20);
  t.equal(events.length, 1, 'not again within the window');
  clock.t += 1000;
  burst(rrl, 20);
  t.equal(events.length, 2, 'again once the window has passed');

  const many = limiter({ responsesPerSecond: 1, slip: 0 });
  for (let n = 0; n < 30; n++) burst(many.rrl, 3, www, `198.51.${n}.1`);
  t.equal(many.events.length, 10, '30 networks limited in one second: 10 lines');
  many.clock.t += 1000;
  burst(many.rrl, 3, www, '203.0.113.1');
  t.equal(many.events[10].suppressed, 20, 'the next line says how many were left out');
});

t.test('answers synthesized from a wildcard are accounted and logged under the wildcard', async (t) => {
  const { rrl, events } = limiter({ responsesPerSecond: 2 });
  const answer = (name: string) => dnsPacket.encode({ type: 'response', id: 1, flags: dnsPacket.AUTHORITATIVE_ANSWER, questions: [{ name, type: 'A', class: 'IN' }], answers: [{ type: 'A', name, ttl: 60, data: '192.0.2.100' }] });
  let sent = 0;
  for (let i = 0; i < 10; i++) sent += rrl.check(answer(`n${i}.apps.example.com`), 0, CLIENT, '*.apps.example.com.') === 'send' ? 1 : 0;
  t.equal(sent, 2, 'ten names, one account');
  t.equal(events[0]?.kind, 'answer');
  t.equal(events[0]?.name, '*.apps.example.com.', 'named with one trailing dot');
});

/** An encoded NXDOMAIN (rcode 3) or NODATA (0) for `name` with the SOA of `zone`. */
function negative(name: string, zone: string, rcode: number): Buffer {
  return dnsPacket.encode({
    type: 'response', id: 1, flags: dnsPacket.AUTHORITATIVE_ANSWER | rcode,
    questions: [{ name, type: 'A', class: 'IN' }],
    authorities: [{ type: 'SOA', name: zone, ttl: 300, data: { mname: `ns1.${zone}`, rname: `hostmaster.${zone}`, serial: 1, refresh: 7200, retry: 900, expire: 1209600, minimum: 300 } }],
  });
}

function refused(name: string, rcode: number): Buffer {
  return dnsPacket.encode({ type: 'response', id: 1, flags: rcode, questions: [{ name, type: 'A', class: 'IN' }] });
}
