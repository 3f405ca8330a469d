/**
 * DNS Cookies: SipHash-2-4 against the reference vectors, server cookies against RFC 9018
 * Appendix A, the time window and secrets (§4.3, §5), and parsing of the option (RFC 7873
 * §5.2.2).
 */
import t from 'tap';
import { siphash24 } from '../../src/wire/siphash.js';
import { addressOctets } from '../../src/wire/ip.js';
import { createServerCookie, formatCookieSecrets, parseCookieSecrets, ServerCookies, type CookieSecrets } from '../../src/wire/server-cookies.js';
import { COOKIE_OPTION, parseCookie } from '../../src/wire/cookie.js';
import { parseQuery } from '../../src/wire/query.js';
import dnsPacket from 'dns-packet';

const hex = (s: string) => Buffer.from(s, 'hex');
const range = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => i));

t.test('SipHash-2-4 reference vectors (key 00..0f, message 00..n-1)', async (t) => {
  const out = Buffer.alloc(8);
  // The SipHash paper, Appendix A: 15 octets give 0xa129ca6149be45e5, written little-endian.
  siphash24(range(16), range(15), out);
  t.equal(out.toString('hex'), 'e545be4961ca29a1', 'paper vector (15 octets)');
  // From the reference implementation's vectors.h: lengths 0, 7, 8 and 63 cross every word boundary.
  const vectors: [number, string][] = [
    [0, '310e0edd47db6f72'],
    [7, '37d1018bf50002ab'],
    [8, '6224939a79f5f593'],
    [63, '724506eb4c328a95'],
  ];
  for (const [n, want] of vectors) {
    siphash24(range(16), range(n), out);
    t.equal(out.toString('hex'), want, `${n} octets`);
  }
});

// RFC 9018 Appendix A: the secrets, clients, times and cookies of its four examples.
const SECRET = hex('e5e973e5a6b2a43f48e7dc849e37bfcf');

function cookieAt(secret: Buffer, client: string, ip: string, now: number): string {
  const out = Buffer.alloc(16);
  createServerCookie(secret, hex(client), addressOctets(ip), now, out, 0);
  return out.toString('hex');
}

t.test('server cookies as RFC 9018 Appendix A makes them', async (t) => {
  t.equal(cookieAt(SECRET, '2464c4abcf10c957', '198.51.100.100', 1559731985), '010000005cf79f111f8130c3eee29480', 'A.1 learning a new server cookie');
  t.equal(cookieAt(SECRET, '2464c4abcf10c957', '198.51.100.100', 1559734385), '010000005cf7a871d4a564a1442aca77', 'A.2 a renewed one');
  t.equal(cookieAt(SECRET, 'fc93fc62807ddb86', '203.0.113.203', 1559734700), '010000005cf7a9acf73a7810aca2381e', 'A.3 another client');
  t.equal(cookieAt(hex('445536bcd2513298075a5d379663c962'), '22681ab97d52c298', '2001:db8:220:1:59de:d0f4:8769:82b8', 1559741961),
    '010000005cf7c609a6bb79d16625507a', 'A.4 IPv6, new secret');
});

/** The server cookie in an answer's option (after code, length and client cookie). */
const serverPart = (option: Buffer) => option.subarray(12).toString('hex');

function jar(secrets: CookieSecrets, now: { t: number }) {
  return new ServerCookies(secrets, () => now.t);
}

t.test('verification follows RFC 9018 Appendix A', async (t) => {
  const now = { t: 1559734385 };
  const a2 = jar({ current: SECRET }, now).answer(parseCookie(hex('2464c4abcf10c957010000005cf79f111f8130c3eee29480')), '198.51.100.100');
  t.ok(a2.valid, 'A.2: the cookie of A.1, 40 minutes old, verifies');
  t.equal(serverPart(a2.option), '010000005cf7a871d4a564a1442aca77', 'A.2: older than half an hour, so renewed');
  t.equal(a2.option.subarray(0, 12).toString('hex'), '000a0018' + '2464c4abcf10c957', 'code 10, length 24, client cookie echoed');

  // A.3's cookie has reserved octets set; the hash covers them as received.
  now.t = 1559727985 + 60;
  const a3 = jar({ current: SECRET }, now).answer(parseCookie(hex('fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5')), '203.0.113.203');
  t.ok(a3.valid, 'A.3: reserved octets set, still valid');

  now.t = 1559741961;
  const a4 = jar({ current: hex('445536bcd2513298075a5d379663c962'), previous: hex('dd3bdf9344b678b185a6f5cb60fca715') }, now)
    .answer(parseCookie(hex('22681ab97d52c298010000005cf7c57926556bd0934c72f8')), '2001:db8:220:1:59de:d0f4:8769:82b8');
  t.ok(a4.valid, 'A.4: made with the previous secret, accepted');
  t.equal(serverPart(a4.option), '010000005cf7c609a6bb79d16625507a', 'A.4: a new cookie made with the new secret');
});

t.test('time window, address and secrets', async (t) => {
  const now = { t: 2_000_000_000 };
  const cookies = jar({ current: SECRET }, now);
  const client = hex('0102030405060708');
  const first = cookies.answer({ client }, '192.0.2.1');
  t.notOk(first.valid, 'a client cookie alone is not a valid server cookie');
  const server = first.option.subarray(12);
  t.equal(server.length, 16);
  t.equal(server[0], 1, 'version 1');
  t.equal(server.readUInt32BE(4), 2_000_000_000, 'timestamp now');
  const again = (dt: number, address = '192.0.2.1', c = cookies) => {
    now.t = 2_000_000_000 + dt;
    return c.answer({ client, server }, address);
  };

  const fresh = again(60);
  t.ok(fresh.valid, 'a minute later: valid');
  t.equal(serverPart(fresh.option), server.toString('hex'), 'and the same cookie is sent back');
  t.equal(serverPart(again(1800).option), server.toString('hex'), 'half an hour old: still kept');
  const renewed = again(1801);
  t.ok(renewed.valid, 'older than half an hour: valid...');
  t.not(serverPart(renewed.option), server.toString('hex'), '...and renewed');
  t.equal(renewed.option.readUInt32BE(12 + 4), 2_000_001_801, 'with the new time');
  t.ok(again(3600).valid, 'an hour old: valid');
  t.notOk(again(3601).valid, 'older than an hour: not valid');
  t.ok(again(-300).valid, '5 minutes in the future: valid');
  t.notOk(again(-301).valid, 'further in the future: not valid');

  t.notOk(again(10, '192.0.2.2').valid, 'another client address: not valid');
  t.notOk(again(10, '192.0.2.1', jar({ current: hex('00112233445566778899aabbccddeeff') }, now)).valid, 'another secret: not valid');
  const otherClient = cookies.answer({ client: hex('0807060504030201'), server }, '192.0.2.1');
  t.notOk(otherClient.valid, 'another client cookie: not valid');

  const corrupt = Buffer.from(server);
  corrupt[15] ^= 1;
  now.t = 2_000_000_010;
  const bad = cookies.answer({ client, server: corrupt }, '192.0.2.1');
  t.notOk(bad.valid, 'a flipped hash bit: not valid');
  t.equal(serverPart(bad.option), cookieAt(SECRET, '0102030405060708', '192.0.2.1', now.t), 'answered with a new cookie');
  t.notOk(cookies.answer({ client, server: server.subarray(0, 8) }, '192.0.2.1').valid, 'an 8-octet server cookie (not ours): not valid');
  const v2 = Buffer.from(server);
  v2[0] = 2;
  t.notOk(cookies.answer({ client, server: v2 }, '192.0.2.1').valid, 'an unknown version: not valid');

  // Rotation: the previous secret stays accepted, the one before it does not.
  const rotating = jar({ current: SECRET }, now);
  rotating.rotate(hex('00112233445566778899aabbccddeeff'));
  const afterOne = again(10, '192.0.2.1', rotating);
  t.ok(afterOne.valid, 'after one rotation: still valid');
  rotating.rotate(hex('ffeeddccbbaa99887766554433221100'));
  t.notOk(again(10, '192.0.2.1', rotating).valid, 'after two: not valid');
});

t.test('client addresses', async (t) => {
  t.equal(addressOctets('198.51.100.100')?.toString('hex'), 'c6336464');
  t.equal(addressOctets('::ffff:198.51.100.100')?.toString('hex'), 'c6336464', 'IPv4-mapped: the IPv4 octets');
  t.equal(addressOctets('2001:db8::1')?.toString('hex'), '20010db8000000000000000000000001');
  t.equal(addressOctets('::1')?.toString('hex'), '00000000000000000000000000000001');
  t.equal(addressOctets('fe80::1%eth0')?.toString('hex'), 'fe800000000000000000000000000001', 'zone index dropped');
  t.equal(addressOctets('::')?.toString('hex'), '0'.repeat(32));
  t.equal(addressOctets('not an address'), undefined);
  t.equal(addressOctets('1:2:3:4:5:6:7:8:9'), undefined);
});

t.test('the COOKIE option (RFC 7873 §5.2.2)', async (t) => {
  const c = parseCookie(range(8));
  t.same([c.client.length, c.server], [8, undefined], 'client cookie only');
  t.equal(parseCookie(range(16)).server?.length, 8, 'shortest server cookie');
  t.equal(parseCookie(range(40)).server?.length, 32, 'longest server cookie');
  for (const n of [0, 1, 7, 9, 15, 41, 64]) t.throws(() => parseCookie(range(n)), { message: /COOKIE option of/ }, `${n} octets: malformed`);
});

function withOptions(options: { code: number; data: Buffer }[], opcode = 0) {
  const msg = dnsPacket.encode({ type: 'query', id: 1, questions: [{ name: 'example.com', type: 'A' }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, options } as unknown as dnsPacket.Answer] });
  msg[2] |= opcode << 3;
  return msg;
}

t.test('parseQuery exposes the cookie, and rejects a malformed one', async (t) => {
  const ok = parseQuery(withOptions([{ code: COOKIE_OPTION, data: range(24) }]));
  t.equal(ok.kind, 'query');
  if (ok.kind === 'query') {
    t.same(ok.query.cookie?.client, range(8));
    t.same(ok.query.cookie?.server, range(24).subarray(8));
  }
  const bad = parseQuery(withOptions([{ code: COOKIE_OPTION, data: range(12) }]));
  t.match(bad, { kind: 'error', rcode: 1, reason: /COOKIE option of 12 octets/ }, 'FORMERR');
  t.ok(bad.kind === 'error' && bad.edns, 'with the OPT to echo');
  t.ok(bad.kind === 'error' && bad.question, 'and the question');
  const notimp = parseQuery(withOptions([{ code: COOKIE_OPTION, data: range(8) }], 2));
  t.match(notimp, { kind: 'error', rcode: 4 });
  t.ok(notimp.kind === 'error' && notimp.cookie, 'an error answer still gets the cookie');
  const none = parseQuery(withOptions([]));
  t.ok(none.kind === 'query' && none.query.cookie === undefined, 'no option, no cookie');
  const other = parseQuery(withOptions([{ code: 65001, data: range(8) }]));
  t.ok(other.kind === 'query' && other.query.cookie === undefined, 'another option is not a cookie');
  const two = parseQuery(withOptions([{ code: COOKIE_OPTION, data: range(8) }, { code: COOKIE_OPTION, data: range(3) }]));
  t.same(two.kind === 'query' && two.query.cookie?.client, range(8), 'the first COOKIE option counts, as in BIND');
});

t.test('secrets on the command line', async (t) => {
  const one = parseCookieSecrets('E5E973E5A6B2A43F48E7DC849E37BFCF');
  t.same(one?.current, SECRET);
  t.equal(one?.previous, undefined);
  const two = parseCookieSecrets('e5e973e5a6b2a43f48e7dc849e37bfcf,445536bcd2513298075a5d379663c962');
  t.same(two?.previous, hex('445536bcd2513298075a5d379663c962'));
  t.equal(formatCookieSecrets(two!), 'e5e973e5a6b2a43f48e7dc849e37bfcf,445536bcd2513298075a5d379663c962', 'round trip');
  for (const bad of ['', 'e5e973', 'e5e973e5a6b2a43f48e7dc849e37bfcfaa', 'x5e973e5a6b2a43f48e7dc849e37bfcf', 'e5e973e5a6b2a43f48e7dc849e37bfcf,', 'a'.repeat(32) + ',' + 'b'.repeat(32) + ',' + 'c'.repeat(32)]) {
    t.equal(parseCookieSecrets(bad), undefined, `"${bad}" refused`);
  }
});
