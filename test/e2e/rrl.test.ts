/**
 * End to end, response rate limiting over real UDP and TCP against the running app on
 * loopback (exemptions emptied, so loopback is limited): a burst of identical queries gets
 * about RATE answers, truncated slips (no records, OPT kept) and drops; NXDOMAIN for random
 * names is limited per zone; TCP and queries with a valid DNS cookie are never limited; the
 * metrics count drops and slips; the network is logged; --rrl-log-only sends everything; the
 * --rrl flags of the compiled command line.
 */
import t from 'tap';
import dgram from 'node:dgram';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startApp, type App } from '../../src/app/app.js';
import type { RrlOptions } from '../../src/server/rrl.js';
import { buildQuery, cookieOf, decode, flagsOf, sendTcp, sendUdp, type Reply } from '../helpers/client.js';
import { CLI, startCli } from '../helpers/cli.js';

const ZONES = fileURLToPath(new URL('../fixtures/e2e/', import.meta.url));
const RATE = 10;

async function start(rrl: RrlOptions): Promise<{ app: App; lines: Record<string, unknown>[]; port: number }> {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString())); done(); } });
  const app = await startApp({ zonesDir: ZONES, listen: [{ host: '127.0.0.1', port: 0 }], log: pino({ level: 'warn' }, sink), watchDebounceMs: 0, statsIntervalMs: 0, rrl });
  return { app, lines, port: app.server.addresses[0].port };
}

/** Sends every message from one socket at once and collects what comes back within `waitMs`. */
function burstUdp(port: number, msgs: Buffer[], waitMs = 700): Promise<Reply[]> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    const replies: Reply[] = [];
    sock.on('message', (m) => replies.push(decode(m)));
    sock.on('error', reject);
    sock.bind(0, '127.0.0.1', () => {
      for (const m of msgs) sock.send(m, port, '127.0.0.1');
      setTimeout(() => {
        sock.close();
        resolve(replies);
      }, waitMs);
    });
  });
}

const full = (r: Reply) => !flagsOf(r.raw).tc && (r.answers?.length ?? 0) + (r.authorities?.length ?? 0) > 0;
const slipped = (r: Reply) => flagsOf(r.raw).tc;

function counter(text: string, name: string): number {
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

t.test('a burst of 100 identical queries at --rrl 10', async (t) => {
  const { app, lines, port } = await start({ responsesPerSecond: RATE, exempt: [] });
  t.teardown(() => app.close());
  const msgs = Array.from({ length: 100 }, (_, i) => buildQuery('www.example.com', 'A', { id: i, edns: { udpSize: 1232 } }));
  const replies = await burstUdp(port, msgs);
  const answers = replies.filter(full);
  const slips = replies.filter(slipped);
  t.ok(answers.length >= RATE && answers.length <= 2 * RATE, `${answers.length} answers: about RATE (twice at most, if the burst straddles a second)`);
  t.ok(slips.length >= 30, `${slips.length} slipped: every other limited response`);
  t.ok(replies.length < 100, `${100 - replies.length} dropped`);
  t.equal(answers.length + slips.length, replies.length, 'nothing else came back');
  for (const r of slips) {
    if (!(r.answers?.length === 0 && r.authorities?.length === 0 && r.additionals?.length === 1 && r.additionals[0].type === 'OPT')) {
      t.fail('a slipped response has records besides its OPT');
      break;
    }
  }
  const s = slips[0];
  t.same(s.questions, [{ name: 'www.example.com', type: 'A', class: 'IN' }], 'slipped: the question');
  t.match(flagsOf(s.raw), { qr: true, tc: true, aa: true, rcode: 0 }, 'slipped: QR, TC, AA');
  t.ok(s.raw.length <= 12 + 21 + 11, 'slipped: header, question and OPT only');

  const tcp = await sendTcp(port, Array.from({ length: 30 }, (_, i) => buildQuery('www.example.com', 'A', { id: i })));
  t.equal(tcp.map(decode).filter(full).length, 30, 'TCP: all 30 answered right after');

  const metrics = await app.metrics.text();
  t.equal(counter(metrics, 'steerdns_rrl_dropped_total'), 100 - replies.length, 'steerdns_rrl_dropped_total counts the drops');
  t.equal(counter(metrics, 'steerdns_rrl_slipped_total'), slips.length, 'steerdns_rrl_slipped_total counts the slips');
  const logged = lines.filter((l) => l.msg === 'response rate limiting a client network');
  t.equal(logged.length, 1, 'the network is logged once');
  t.match(logged[0], { network: '127.0.0.0/24', class: 'answer', name: 'www.example.com.', qtype: 'A', rate: RATE });
});

t.test('NXDOMAIN for random names is limited per zone', async (t) => {
  const { app, port } = await start({ responsesPerSecond: 100, nxdomainsPerSecond: RATE, exempt: [], slip: 0 });
  t.teardown(() => app.close());
  const msgs = Array.from({ length: 60 }, (_, i) => buildQuery(`r${i}-${Math.random().toString(36).slice(2)}.example.com`, 'A', { id: i }));
  const replies = await burstUdp(port, msgs);
  t.ok(replies.every((r) => r.rcode === 'NXDOMAIN' && full(r)), 'the ones sent are whole NXDOMAIN answers (slip 0: no truncated ones)');
  t.ok(replies.length >= RATE && replies.length <= 2 * RATE, `${replies.length} of 60 names answered: one account for example.com`);
  const other = await sendUdp(port, buildQuery('nope.child.example.com', 'A'));
  t.equal(other && decode(other).rcode, 'NXDOMAIN', 'another zone has its own account');
});

t.test('answers synthesized from one wildcard are one account, whatever the name', async (t) => {
  const { app, port } = await start({ responsesPerSecond: RATE, slip: 0, exempt: [] });
  t.teardown(() => app.close());
  const names = Array.from({ length: 60 }, (_, i) => `r${i}-${Math.random().toString(36).slice(2, 8)}.apps.example.com`);
  const replies = await burstUdp(port, names.map((n, i) => buildQuery(n, 'A', { id: i })));
  const answered = replies.filter(full).length;
  t.ok(answered >= RATE && answered <= 2 * RATE, `${answered} of 60 answered: random names under *.apps share the wildcard's account`);
  const exact = await sendUdp(port, buildQuery('www.example.com', 'A'));
  t.equal(exact && decode(exact).rcode, 'NOERROR', 'another name has its own account');
});

t.test('queries with a valid DNS cookie are not limited', async (t) => {
  const { app, port } = await start({ responsesPerSecond: 2, exempt: [] });
  t.teardown(() => app.close());
  const clientCookie = Buffer.from('0011223344556677', 'hex');
  const first = await sendUdp(port, buildQuery('mail.example.com', 'A', { id: 1, edns: { cookie: clientCookie } }));
  const cookie = first && cookieOf(decode(first));
  t.ok(cookie && cookie.length > 8, 'a server cookie came back');
  if (!cookie) return;
  const replies = await burstUdp(port, Array.from({ length: 40 }, (_, i) => buildQuery('mail.example.com', 'A', { id: i, edns: { cookie: cookie } })));
  t.equal(replies.filter(full).length, 40, 'all 40 answered in full');
  const without = await burstUdp(port, Array.from({ length: 40 }, (_, i) => buildQuery('mail.example.com', 'A', { id: i })));
  t.ok(without.filter(full).length <= 4, 'without the cookie the same client is limited');
});

t.test('a limited client that sent a cookie gets BADCOOKIE with a server cookie, and is answered with it', async (t) => {
  const { app, port } = await start({ responsesPerSecond: 2, slip: 1, exempt: [] });
  t.teardown(() => app.close());
  const clientCookie = Buffer.from('8899aabbccddeeff', 'hex');
  const replies = await burstUdp(port, Array.from({ length: 20 }, (_, i) => buildQuery('mail.example.com', 'A', { id: i, edns: { cookie: clientCookie } })));
  const bad = replies.filter((r) => flagsOf(r.raw).rcode === 7 && !flagsOf(r.raw).tc);
  t.ok(bad.length >= 15, `the limited ones are BADCOOKIE (${bad.length} of ${replies.length})`);
  const b = bad[0];
  t.equal(flagsOf(b.raw).tc, false, 'not truncated');
  t.equal(b.answers?.length ?? 0, 0, 'no records');
  const opt = b.additionals?.find((a) => a.type === 'OPT') as unknown as { extendedRcode: number };
  t.equal((opt.extendedRcode << 4) | flagsOf(b.raw).rcode, 23, 'rcode 23 (BADCOOKIE): 1 in the OPT, 7 in the header');
  const cookie = cookieOf(b);
  t.ok(cookie && cookie.subarray(0, 8).equals(clientCookie) && cookie.length === 24, 'our client cookie and a new server cookie');
  if (!cookie) return;
  const retry = await burstUdp(port, Array.from({ length: 10 }, (_, i) => buildQuery('mail.example.com', 'A', { id: 100 + i, edns: { cookie: cookie } })));
  t.equal(retry.filter(full).length, 10, 'with the server cookie every retry is answered');
});

t.test('--rrl-log-only sends everything and counts what it would have done', async (t) => {
  const { app, lines, port } = await start({ responsesPerSecond: RATE, exempt: [], logOnly: true });
  t.teardown(() => app.close());
  const replies = await burstUdp(port, Array.from({ length: 50 }, (_, i) => buildQuery('www.example.com', 'A', { id: i })));
  t.equal(replies.filter(full).length, 50, 'all 50 answered');
  const metrics = await app.metrics.text();
  t.ok(counter(metrics, 'steerdns_rrl_dropped_total') + counter(metrics, 'steerdns_rrl_slipped_total') >= 50 - 2 * RATE, 'the would-be drops and slips are counted');
  t.match(lines.find((l) => l.msg === 'response rate limiting a client network'), { logOnly: true }, 'and logged');
});

t.test('loopback is exempt by default', async (t) => {
  const { app, port } = await start({ responsesPerSecond: 1 });
  t.teardown(() => app.close());
  const replies = await burstUdp(port, Array.from({ length: 30 }, (_, i) => buildQuery('www.example.com', 'A', { id: i })));
  t.equal(replies.filter(full).length, 30);
});

t.test('the command line: --rrl flags', async (t) => {
  const bad = (args: string[], message: RegExp) => {
    const r = spawnSync(process.execPath, [CLI, 'serve', ...args], { encoding: 'utf8' });
    t.equal(r.status, 2, args.join(' '));
    t.match(r.stderr, message);
  };
  bad(['--rrl', 'ten'], /--rrl "ten": expected a whole number/);
  bad(['--rrl', '5', '--rrl-slip', '11'], /--rrl-slip "11"/);
  bad(['--rrl', '5', '--rrl-ipv6-prefix', '129'], /--rrl-ipv6-prefix "129"/);
  bad(['--rrl', '5', '--rrl-exempt', '10.0.0.0/40'], /--rrl-exempt "10\.0\.0\.0\/40"/);
  bad(['--rrl-window', '5'], /--rrl-window needs --rrl RATE/);

  const { child, port, exited } = await startCli(ZONES, ['--workers', '1', '--rrl', '5', '--rrl-exempt', 'none', '--rrl-slip', '0']);
  const replies = await burstUdp(port, Array.from({ length: 30 }, (_, i) => buildQuery('www.example.com', 'A', { id: i })));
  t.ok(replies.length >= 5 && replies.length <= 10, `serve --rrl 5 --rrl-exempt none: ${replies.length} of 30 answered on loopback`);
  child.kill('SIGTERM');
  t.equal(await exited, 0);
});
