/** probeFor, targetFor (port and Host precedence, headers) and the User-Agent. */
import t from 'tap';
import { MONITOR_TYPES } from '../../src/lb/model.js';
import { probeFor, targetFor, USER_AGENT } from '../../src/health/probes.js';
import { codeMatcher, serverNameOf } from '../../src/health/probe-http.js';
import { FAILURE } from '../../src/health/types.js';
import { hostnameOrigin, ipOrigin, monitorOf } from './probe-helpers.js';

t.test('probeFor gives a probe for every monitor type', async (t) => {
  for (const type of MONITOR_TYPES) t.type(probeFor(type), 'function', type);
  t.equal(probeFor('http'), probeFor('http'), 'probes are shared, not rebuilt');
});

t.test('the User-Agent names steerdns and its version', async (t) => {
  t.match(USER_AGENT, /^steerdns-health-monitor\/[0-9][^ ]* \(\+https:\/\/github\.com\/steerdns\/steerdns\)$/);
});

t.test('port precedence: monitor, then origin, then the protocol default', async (t) => {
  const rows: Array<[string, Parameters<typeof monitorOf>[0], number, number]> = [
    ['http default', { type: 'http' }, 0, 80],
    ['https default', { type: 'https' }, 0, 443],
    ['origin port beats the default', { type: 'https' }, 8443, 8443],
    ['monitor port beats the origin', { type: 'http', port: 8080 }, 9090, 8080],
    ['tcp from the monitor', { type: 'tcp', port: 22 }, 0, 22],
    ['tcp from the origin', { type: 'tcp' }, 2222, 2222],
    ['tcp without any port', { type: 'tcp' }, 0, 0],
    ['smtp without any port', { type: 'smtp' }, 0, 0],
    ['udp_icmp from the origin', { type: 'udp_icmp' }, 53, 53],
    ['icmp_ping has no port', { type: 'icmp_ping' }, 0, 0],
  ];
  for (const [what, monitor, originPort, want] of rows) {
    t.equal(targetFor(monitorOf(monitor), ipOrigin('192.0.2.1', { port: originPort }), '192.0.2.1').port, want, what);
  }
});

t.test('Host precedence: origin header, monitor header, origin address', async (t) => {
  const m = monitorOf({ type: 'https', header: { HOST: ['monitor.example'], 'X-Check': ['1', '2'] } });
  const plain = monitorOf({ type: 'https' });
  t.equal(targetFor(m, ipOrigin('192.0.2.1', { header: { host: ['origin.example'] } }), '192.0.2.1').host, 'origin.example', 'origin header wins');
  t.equal(targetFor(m, ipOrigin('192.0.2.1'), '192.0.2.1').host, 'monitor.example', 'monitor header, any case of the name');
  t.equal(targetFor(plain, ipOrigin('192.0.2.1'), '192.0.2.1').host, '192.0.2.1', 'an IP origin: its IP');
  t.equal(targetFor(plain, ipOrigin('2001:db8::1'), '2001:db8::1').host, '2001:db8::1', 'an IPv6 origin: its IP');
  t.equal(targetFor(plain, hostnameOrigin('Web1.Example.COM.'), '192.0.2.7').host, 'Web1.Example.COM', 'a hostname origin: its name as written, no trailing dot');
  t.equal(targetFor(m, hostnameOrigin('web1.example.com.', { header: { Host: [''] } }), '192.0.2.7').host, 'monitor.example', 'an empty Host value does not count');

  const target = targetFor(m, ipOrigin('192.0.2.1'), '192.0.2.9');
  t.equal(target.address, '192.0.2.9', 'connects to the address given');
  t.same(target.headers, { 'X-Check': ['1', '2'] }, 'headers without Host');
  t.ok(Object.isFrozen(target) && Object.isFrozen(target.headers), 'frozen');
  const ua = targetFor(monitorOf({ type: 'http', header: { 'user-agent': ['curl/8'], Accept: ['*/*'] } }), ipOrigin('192.0.2.1'), '192.0.2.1');
  t.same(ua.headers, { Accept: ['*/*'] }, 'the User-Agent cannot be configured');
});

t.test('SNI: the Host name, none for an IP address', async (t) => {
  t.equal(serverNameOf('www.example.com'), 'www.example.com');
  t.equal(serverNameOf('WWW.Example.com.'), 'www.example.com', 'lower case, no trailing dot');
  t.equal(serverNameOf('www.example.com:8443'), 'www.example.com', 'no port');
  t.equal(serverNameOf('192.0.2.1'), '');
  t.equal(serverNameOf('2001:db8::1'), '');
  t.equal(serverNameOf('[2001:db8::1]:443'), '');
});

t.test('expected_codes: exact codes and classes', async (t) => {
  const rows: Array<[string, number, boolean]> = [
    ['200', 200, true],
    ['200', 204, false],
    ['2xx', 204, true],
    ['2xx', 302, false],
    ['200,301, 302', 302, true],
    ['200,3XX', 307, true],
    ['', 200, true],
    ['', 201, false],
  ];
  for (const [spec, status, want] of rows) t.equal(codeMatcher(spec)(status), want, `${JSON.stringify(spec)} ${status}`);
});

t.test('tcp, smtp and udp_icmp without a port: Monitor Config Error at once', async (t) => {
  for (const type of ['tcp', 'smtp', 'udp_icmp'] as const) {
    const target = targetFor(monitorOf({ type }), ipOrigin('127.0.0.1'), '127.0.0.1');
    const r = await probeFor(type)(target, new AbortController().signal);
    t.equal(r.ok, false, type);
    t.equal(r.reason, FAILURE.CONFIG, type);
    t.match(r.detail, /need a port/, type);
  }
});
