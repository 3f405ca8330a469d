/**
 * End to end, DNS Cookies (RFC 7873, RFC 9018) over UDP and TCP with the real server: a client
 * cookie gets a server cookie made for the client's address, which is accepted when sent back;
 * a bad one is replaced, a malformed option is FORMERR, and none of it goes through the answer
 * cache. `dig +cookie` checks us too when it is installed.
 */
import t from 'tap';
import dgram from 'node:dgram';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { buildQuery, cookieOf, decode, flagsOf, sendTcp, sendUdp, type Transport } from '../helpers/client.js';
import { startServerWith, type TestServer } from '../helpers/server.js';
import { AnswerCache } from '../../src/answer/answer-cache.js';
import { addressOctets } from '../../src/wire/ip.js';
import { createServerCookie, ServerCookies } from '../../src/wire/server-cookies.js';
import type { ResponseInfo } from '../../src/answer/respond.js';

const ZONES = fileURLToPath(new URL('../fixtures/e2e/', import.meta.url));
const SECRET = Buffer.from('e5e973e5a6b2a43f48e7dc849e37bfcf', 'hex');
const CLIENT = Buffer.from('2464c4abcf10c957', 'hex');

let server: TestServer;
const cache = new AnswerCache(1000);
const seen: ResponseInfo[] = [];
t.before(async () => {
  server = await startServerWith(ZONES, { answerCache: cache, cookies: new ServerCookies({ current: SECRET }), observe: (info) => seen.push(info) });
});
t.teardown(() => server.close());

/** A query with OPT carrying these COOKIE option data (none: no COOKIE option). */
function cookieQuery(name: string, type: string, cookie?: Buffer, udpSize = 1232): Buffer {
  return buildQuery(name, type, { id: 77, edns: { udpSize, cookie } });
}

/** Sends over UDP from `from` (a loopback address of our choice). */
function udpFrom(from: string, msg: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    const timer = setTimeout(() => (sock.close(), reject(new Error('no UDP answer'))), 2000);
    sock.on('message', (m) => (clearTimeout(timer), sock.close(), resolve(m)));
    sock.bind(0, from, () => sock.send(msg, server.port, '127.0.0.1'));
  });
}

async function ask(transport: Transport, msg: Buffer) {
  const raw = transport === 'udp' ? await sendUdp(server.port, msg) : (await sendTcp(server.port, [msg]))[0];
  if (!raw) throw new Error(`no ${transport} answer`);
  return read(raw);
}

function read(raw: Buffer) {
  const r = decode(raw);
  const opt = (r.additionals ?? []).find((a) => a.type === 'OPT');
  const cookie = cookieOf(r);
  return { raw, rcode: flagsOf(raw).rcode, tc: flagsOf(raw).tc, opt, client: cookie?.subarray(0, 8), server: cookie?.subarray(8), info: seen[seen.length - 1] };
}

/** The server cookie RFC 9018 makes for CLIENT at `ip` at the time `server` carries. */
function expected(server: Buffer, ip: string): Buffer {
  const out = Buffer.alloc(16);
  createServerCookie(SECRET, CLIENT, addressOctets(ip), server.readUInt32BE(4), out, 0);
  return out;
}

for (const transport of ['udp', 'tcp'] as Transport[]) {
  t.test(`${transport}: a client cookie gets a server cookie; sent back, it is accepted`, async (t) => {
    const first = await ask(transport, cookieQuery('www.example.com', 'A', CLIENT));
    t.equal(first.rcode, 0);
    t.same(first.client, CLIENT, 'our client cookie echoed');
    t.equal(first.server?.length, 16, '16-octet server cookie (RFC 9018)');
    t.equal(first.server![0], 1, 'version 1');
    t.ok(Math.abs(first.server!.readUInt32BE(4) - Date.now() / 1000) < 5, 'timestamped now');
    t.same(first.server, expected(first.server!, '127.0.0.1'), 'SipHash of client cookie, header and 127.0.0.1 under the secret');
    t.match(first.info, { cookie: true, cookieValid: false });

    const full = Buffer.concat([CLIENT, first.server!]);
    const second = await ask(transport, cookieQuery('mail.example.com', 'A', full));
    t.same(second.server, first.server, 'the same server cookie, still fresh, comes back');
    t.match(second.info, { cookie: true, cookieValid: true }, 'and is valid');

    const corrupt = Buffer.from(full);
    corrupt[23] ^= 0x55;
    const third = await ask(transport, cookieQuery('www.example.com', 'A', corrupt));
    t.equal(third.rcode, 0, 'a bad server cookie: answered normally (cookies are not required), not BADCOOKIE');
    t.not(third.server?.toString('hex'), corrupt.subarray(8).toString('hex'), 'with a new server cookie');
    t.same(third.server, expected(third.server!, '127.0.0.1'));
    t.match(third.info, { cookie: true, cookieValid: false });
  });

  t.test(`${transport}: a malformed COOKIE option is FORMERR, with OPT and no COOKIE`, async (t) => {
    for (const size of [0, 7, 9, 15, 41]) {
      const r = await ask(transport, cookieQuery('www.example.com', 'A', Buffer.alloc(size, 1)));
      t.equal(r.rcode, 1, `${size} octets: FORMERR`);
      t.ok(r.opt, `${size} octets: OPT kept`);
      t.equal(r.client, undefined, `${size} octets: no COOKIE`);
    }
  });

  t.test(`${transport}: no COOKIE in the query, none in the response`, async (t) => {
    const r = await ask(transport, cookieQuery('www.example.com', 'A'));
    t.ok(r.opt);
    t.equal(r.client, undefined);
    t.match(r.info, { cookie: false, cookieValid: false });
  });

  t.test(`${transport}: errors and negative answers carry the cookie too`, async (t) => {
    const nx = await ask(transport, cookieQuery('nope.example.com', 'A', CLIENT));
    t.equal(nx.rcode, 3);
    t.same(nx.client, CLIENT, 'NXDOMAIN');
    const refused = await ask(transport, cookieQuery('www.elsewhere.test', 'A', CLIENT));
    t.equal(refused.rcode, 5);
    t.same(refused.client, CLIENT, 'REFUSED');
    const notimp = cookieQuery('www.example.com', 'A', CLIENT);
    notimp[2] |= 2 << 3; // opcode STATUS
    const r = await ask(transport, notimp);
    t.equal(r.rcode, 4);
    t.same(r.client, CLIENT, 'NOTIMP');
  });
}

t.test('udp: the COOKIE option fits in the requester\'s size (the tail is reserved for it)', async (t) => {
  const plain = await ask('udp', cookieQuery('big.example.com', 'TXT'));
  t.equal(plain.tc, false);
  const size = Math.max(512, plain.raw.length);
  const exact = await ask('udp', cookieQuery('big.example.com', 'TXT', undefined, size));
  t.equal(exact.tc, size !== plain.raw.length, 'without a cookie the answer fits a size of exactly its length');
  const withCookie = await ask('udp', cookieQuery('big.example.com', 'TXT', CLIENT, size));
  t.ok(withCookie.raw.length <= size, `${withCookie.raw.length} octets, at most ${size}`);
  t.same(withCookie.client, CLIENT, 'the COOKIE option is there');
  if (size === plain.raw.length) t.equal(withCookie.tc, true, 'the records give way to it: TC');
  const small = await ask('udp', cookieQuery('www.example.com', 'A', CLIENT, 512));
  t.equal(small.tc, false, 'a small answer and the cookie fit in 512');
  t.same(small.client, CLIENT);
});

t.test('udp: answers with cookies bypass the answer cache; two clients get two server cookies', async (t) => {
  const before = cache.size;
  const msg = cookieQuery('static-cookie-cache.example.com', 'A', CLIENT);
  const a = read(await udpFrom('127.0.0.1', msg));
  const b = read(await udpFrom('127.0.0.2', msg));
  t.same(a.client, CLIENT);
  t.same(b.client, CLIENT);
  t.not(a.server!.toString('hex'), b.server!.toString('hex'), 'the same query bytes, different server cookies');
  t.same(a.server, expected(a.server!, '127.0.0.1'), 'made for 127.0.0.1');
  t.same(b.server, expected(b.server!, '127.0.0.2'), 'made for 127.0.0.2');
  // 127.0.0.2 sending back the cookie of 127.0.0.1: not valid there, a new one is made.
  const stolen = read(await udpFrom('127.0.0.2', cookieQuery('www.example.com', 'A', Buffer.concat([CLIENT, a.server!]))));
  t.match(stolen.info, { cookieValid: false }, 'another address\'s cookie is not valid');
  t.same(stolen.server, expected(stolen.server!, '127.0.0.2'));
  t.equal(cache.size, before, 'nothing was cached');
  await ask('udp', cookieQuery('static-cookie-cache.example.com', 'A'));
  t.equal(cache.size, before + 1, 'the same query without a cookie is cached');
});

const noDig = spawnSync('dig', ['-v']).error !== undefined;
t.test('dig +cookie, when installed', { skip: noDig && 'dig is not installed' }, async (t) => {
  const run = promisify(execFile);
  const dig = (...args: string[]) => run('dig', ['@127.0.0.1', '-p', String(server.port), 'www.example.com', 'A', '+cookie', ...args]).then((r) => r.stdout);
  const first = await dig();
  const m = /; COOKIE: ([0-9a-f]{48}) \(good\)/.exec(first);
  t.ok(m, 'dig reports our cookie as good');
  const again = await dig(`+cookie=${m![1]}`, '+tcp');
  t.match(again, new RegExp(`; COOKIE: ${m![1]} \\(good\\)`), 'the server cookie dig sends back is kept (TCP)');
});
