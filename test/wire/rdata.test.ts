/**
 * Rdata of every supported type, in presentation and RFC 3597 generic form: wire bytes
 * (hex derived from each type's RFC), embedded names and their offsets, and the rdata errors.
 */
import t from 'tap';
import dnsPacket from 'dns-packet';
import { Name } from '../../src/wire/name.js';
import { parseZone } from '../../src/zone/parser.js';
import type { ZoneRecord } from '../../src/zone/record.js';

const origin = Name.fromText('example.com.');
const EXAMPLE_COM = '076578616d706c6503636f6d00'; // "example.com." on the wire

/** Parses `x <rest>` with a $TTL and returns its only record; throws (failing the test) otherwise. */
function rr(rest: string): ZoneRecord {
  const r = parseZone(`$TTL 300\nx ${rest}\n`, { file: 't.zone', origin });
  if (r.problems.length > 0 || r.records.length !== 1) {
    throw new Error(`${rest}: ${r.records.length} records, problems ${JSON.stringify(r.problems)}`);
  }
  return r.records[0];
}

/** Parses `x <rest>` and returns its problems (with the $TTL line, the record is line 2). */
function problems(rest: string): { line: number; severity: string; message: string }[] {
  const r = parseZone(`$TTL 300\nx ${rest}\n`, { file: 't.zone', origin });
  return r.problems.map(({ line, severity, message }) => ({ line, severity, message }));
}

const names = (r: ZoneRecord): [number, string][] => r.rdata.names.map((n) => [n.offset, n.name.key]);

// @types/dns-packet does not declare the per-type codecs; this is the one method we call.
type Codec = { decode(buf: Buffer, offset?: number): unknown };
const codecs = dnsPacket as unknown as Record<string, Codec>;
/** dns-packet's decoders read RDLENGTH first. */
function decode(type: string, rdata: Buffer): unknown {
  const buf = Buffer.alloc(2 + rdata.length);
  buf.writeUInt16BE(rdata.length);
  rdata.copy(buf, 2);
  return codecs[type].decode(buf, 0);
}

const SHA1 = '86f7e437faa5a7fce15d1ddcb9eaeaea377667b8';
const SHA256 = '3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d';

t.test('presentation format to wire, per type', async (t) => {
  const cases: [string, string, [number, string][]][] = [
    ['A 192.0.2.1', 'c0000201', []],
    ['A 0.0.0.0', '00000000', []],
    ['a 255.255.255.255', 'ffffffff', []],
    ['AAAA 2001:db8::1', '20010db8000000000000000000000001', []],
    ['AAAA ::', '0'.repeat(32), []],
    ['AAAA ::1', '0'.repeat(30) + '01', []],
    ['AAAA ::ffff:192.0.2.10', '00000000000000000000ffffc000020a', []],
    ['AAAA 1:2:3:4:5:6:7::', '00010002000300040005000600070000', []],
    ['AAAA FE80::1:2:3:4:5:6', 'fe800000000100020003000400050006', []],
    ['AAAA 1:2:3:4:5:6:7:8', '00010002000300040005000600070008', []],
    ['AAAA 1:2:3:4:5:6:1.2.3.4', '00010002000300040005000601020304', []],
    ['NS ns1', '036e7331' + EXAMPLE_COM, [[0, 'ns1.example.com.']]],
    ['CNAME www.example.net.', '03777777076578616d706c65036e657400', [[0, 'www.example.net.']]],
    ['PTR @', EXAMPLE_COM, [[0, 'example.com.']]],
    ['NS .', '00', [[0, '.']]],
    ['MX 10 mail', '000a046d61696c' + EXAMPLE_COM, [[2, 'mail.example.com.']]],
    ['SRV 1 2 3 t', '0001000200030174' + EXAMPLE_COM, [[6, 't.example.com.']]],
    ['SRV 0 0 0 .', '00000000000000', [[6, '.']]],
    [
      'SOA ns1 h.example.net. 1 2 3 4 5',
      '036e7331' + EXAMPLE_COM + '0168076578616d706c65036e657400' +
        '00000001' + '00000002' + '00000003' + '00000004' + '00000005',
      [[0, 'ns1.example.com.'], [17, 'h.example.net.']],
    ],
    ['SOA @ @ 4294967295 1h 1d 1w 90s', EXAMPLE_COM + EXAMPLE_COM + 'ffffffff00000e100001518000093a800000005a',
      [[0, 'example.com.'], [13, 'example.com.']]],
    ['TXT "a" b ""', '0161016200', []],
    ['TXT "\\065\\"\\\\x"', '0441225c78', []],
    ['TXT a\\ b\\;c', '05612062 3b63'.replace(' ', ''), []],
    ['TXT "\\000\\255"', '0200ff', []],
    ['TXT "é"', '02c3a9', []],
    ['TXT "x\\é"', '0378c3a9', []],
    ['HINFO "cpu" os', '03637075026f73', []],
    ['CAA 0 issue "ca.example"', '0005697373756563612e6578616d706c65', []],
    ['CAA 128 tbs Unknown', '800374627355 6e6b6e6f776e'.replace(' ', ''), []],
    ['CAA 0 issue ""', '00056973737565', []],
    [
      'NAPTR 100 10 "S" "SIP+D2U" "" _sip._udp',
      '0064000a' + '0153' + '075349502b443255' + '00' + '045f736970045f756470' + EXAMPLE_COM,
      [[15, '_sip._udp.example.com.']],
    ],
    ['DS 60485 5 1 ' + SHA1.toUpperCase(), 'ec450501' + SHA1, []],
    ['DS 60485 13 2 ( ' + SHA256.slice(0, 20) + '\n ' + SHA256.slice(20) + ' )', 'ec450d02' + SHA256, []],
    ['DS 1 8 9 ab', '00010809ab', []],
    ['SSHFP 1 1 ' + SHA1, '0101' + SHA1, []],
    ['SSHFP 4 2 ' + SHA256.slice(0, 32) + ' ' + SHA256.slice(32), '0402' + SHA256, []],
    ['SSHFP 1 3 00', '010300', []],
    ['TLSA 3 1 1 ' + SHA256, '030101' + SHA256, []],
    ['TLSA 0 0 0 30 82 01 0a', '0000003082010a', []],
    ['DNSKEY 257 3 13 AQID', '0101030d010203', []],
  ];
  for (const [text, wire, ns] of cases) {
    const r = rr(text);
    t.equal(r.rdata.wire.toString('hex'), wire, text);
    t.same(names(r), ns, `${text}: names`);
  }
});

t.test('split base64 and hex are joined before decoding', async (t) => {
  t.equal(rr('DNSKEY 256 3 8 ( AQID\n BAUG )').rdata.wire.toString('hex'), '01000308010203040506');
  t.equal(rr('TLSA 3 1 1 0 1').rdata.wire.toString('hex'), '03010101');
});

t.test('names in rdata keep their case; keys are lower-case', async (t) => {
  const r = rr('MX 5 MiXeD.Example.COM.');
  t.equal(r.rdata.wire.subarray(2).toString('latin1'), '\x05MiXeD\x07Example\x03COM\x00');
  t.equal(r.rdata.names[0].name.key, 'mixed.example.com.');
});

t.test('dns-packet decodes what we encode', async (t) => {
  const soa = rr('SOA ns1 hostmaster ( 2024010101 2h 30m 1W2d 5m )');
  t.same(decode('soa', soa.rdata.wire), {
    mname: 'ns1.example.com', rname: 'hostmaster.example.com', serial: 2024010101,
    refresh: 7200, retry: 1800, expire: 777600, minimum: 300,
  });
  t.same(decode('mx', rr('MX 10 mail.example.net.').rdata.wire), { preference: 10, exchange: 'mail.example.net' });
  t.same(decode('srv', rr('SRV 10 60 5060 sip').rdata.wire), {
    priority: 10, weight: 60, port: 5060, target: 'sip.example.com',
  });
  t.same(decode('naptr', rr('NAPTR 100 10 "U" "E2U+sip" "!^.*$!sip:info@example.com!" .').rdata.wire), {
    order: 100, preference: 10, flags: 'U', services: 'E2U+sip', regexp: '!^.*$!sip:info@example.com!', replacement: '.',
  });
  t.match(decode('caa', rr('CAA 128 issue "letsencrypt.org; validationmethods=dns-01"').rdata.wire), {
    flags: 128, tag: 'issue', value: 'letsencrypt.org; validationmethods=dns-01', issuerCritical: true,
  });
  const txt = decode('txt', rr('TXT "hello world" two').rdata.wire) as Buffer[];
  t.same(txt.map(String), ['hello world', 'two']);
  t.match(decode('ds', rr(`DS 60485 5 1 ${SHA1}`).rdata.wire), { keyTag: 60485, algorithm: 5, digestType: 1 });
  t.match(decode('tlsa', rr(`TLSA 3 1 1 ${SHA256}`).rdata.wire), { usage: 3, selector: 1, matchingType: 1 });
  t.match(decode('sshfp', rr(`SSHFP 4 2 ${SHA256}`).rdata.wire), { algorithm: 4, hash: 2, fingerprint: SHA256.toUpperCase() });
});

t.test('RFC 3597 generic syntax', async (t) => {
  const cases: [string, number, string, [number, string][]][] = [
    ['TYPE65280 \\# 4 0A000001', 65280, '0a000001', []],
    ['type65280 \\# 0', 65280, '', []],
    ['TYPE65280 \\# ( 3 01\n 0203 )', 65280, '010203', []],
    ['A \\# 4 C0000201', 1, 'c0000201', []],
    ['TYPE1 \\# 4 c0000201', 1, 'c0000201', []],
    ['NS \\# 3 016100', 2, '016100', [[0, 'a.']]],
    ['MX \\# 5 000A016100', 15, '000a016100', [[2, 'a.']]],
    ['SRV \\# 9 000100020003016100', 33, '000100020003016100', [[6, 'a.']]],
    ['SOA \\# 26 0161000162000000000100000002000000030000000400000005', 6,
      '0161000162000000000100000002000000030000000400000005', [[0, 'a.'], [3, 'b.']]],
    ['NAPTR \\# 10 000100020000000161 00', 35, '00010002000000016100', [[7, 'a.']]],
    ['TXT \\# 4 03616263', 16, '03616263', []],
    ['CAA \\# 8 0005697373756561', 257, '0005697373756561', []],
    ['NSEC \\# 6 016100000140', 47, '016100000140', [[0, 'a.']]],
    ['NSEC3 \\# 10 010000010001aa000140', 50, '010000010001aa000140', []],
    ['RRSIG \\# 20 ' + '00'.repeat(18) + '0001', 46, '00'.repeat(18) + '0001', [[18, '.']]],
    ['DNSKEY \\# 5 0101030d01', 48, '0101030d01', []],
    ['HINFO \\# 2 0000', 13, '0000', []],
  ];
  for (const [text, type, wire, ns] of cases) {
    const r = rr(text);
    t.equal(r.type, type, text);
    t.equal(r.rdata.wire.toString('hex'), wire, text);
    t.same(names(r), ns, `${text}: names`);
  }
});

t.test('rdata errors name the field and the record type', async (t) => {
  const cases: [string, RegExp][] = [
    ['A 192.0.2.300', /^bad IPv4 address "192\.0\.2\.300" in A record$/],
    ['A 01.2.3.4', /bad IPv4 address "01\.2\.3\.4"/],
    ['A 1.2.3', /bad IPv4 address "1\.2\.3"/],
    ['A "1.2.3.4"', /bad IPv4 address/],
    ['AAAA 1::2::3', /^bad IPv6 address "1::2::3" in AAAA record$/],
    ['AAAA 1:2:3:4:5:6:7:8::', /bad IPv6 address/],
    ['AAAA 1:2:3:4:5:6:7', /bad IPv6 address/],
    ['AAAA 12345::', /bad IPv6 address/],
    ['AAAA ::1.2.3.4:5', /bad IPv6 address/],
    ['AAAA fe80::1%eth0', /bad IPv6 address/],
    ['A', /^missing address in A record$/],
    ['MX 10', /^missing exchange in MX record$/],
    ['SOA ns h 1 2 3 4', /^missing minimum in SOA record$/],
    ['A 192.0.2.1 192.0.2.2', /^too many fields in A record: unexpected "192\.0\.2\.2"$/],
    ['CNAME a b', /too many fields in CNAME record: unexpected "b"/],
    ['MX 70000 mail', /^bad preference "70000" in MX record \(must be an integer 0-65535\)$/],
    ['MX -1 mail', /bad preference "-1" in MX record/],
    ['CAA 256 issue x', /^bad flags "256" in CAA record \(must be an integer 0-255\)$/],
    ['SOA ns h 4294967296 2 3 4 5', /^bad serial "4294967296" in SOA record \(must be an integer 0-4294967295\)$/],
    ['SOA ns h 1h 2 3 4 5', /bad serial "1h" in SOA record/],
    ['SOA ns h 1 2x 3 4 5', /^bad refresh "2x" in SOA record \(seconds or units like 1h30m\)$/],
    ['SRV 1 2 65536 t', /bad port "65536" in SRV record/],
    ['NS ' + 'a'.repeat(64), /^bad target name "a{64}" in NS record: label longer than 63 octets$/],
    ['MX 1 ' + 'abcdefghi.'.repeat(26), /^bad exchange ".*" in MX record: name longer than 255 octets$/],
    ['CNAME a..b', /^bad target name "a\.\.b" in CNAME record: empty label/],
    ['TXT "' + 'x'.repeat(256) + '"', /^text is 256 octets in TXT record; at most 255 \(RFC 1035 §3\.3\)$/],
    ['TXT "abc\\"', /unterminated quoted string/],
    ['TXT abc\\', /^dangling backslash in "abc\\"$/],
    ['TXT "\\1x"', /^bad escape "\\1x" in "\\1x" \(\\DDD needs three digits, at most 255\)$/],
    ['TXT "\\256"', /bad escape "\\256"/],
    ['HINFO "cpu"', /^missing OS in HINFO record$/],
    ['CAA 0 is-sue x', /^bad tag "is-sue" in CAA record \(letters and digits only\)$/],
    ['CAA 0 issue', /^missing value in CAA record$/],
    ['NAPTR 1 2 "" "" "bad" .', /^bad NAPTR record: regexp "bad": must be delimiter, regex, delimiter, replacement, delimiter$/],
    ['NAPTR 1 2 "" "" "1a1b1" .', /regexp "1a1b1": delimiter must not be a digit, a backslash or "i"/],
    ['NAPTR 1 2 "" "" "!a!b!x" .', /regexp "!a!b!x": flags may only be "i"/],
    ['NAPTR 1 2 "" "" "!a!b!!" .', /regexp "!a!b!!": more than three delimiters/],
    ['NAPTR 1 2 "" "" "!a!\\\\0!" .', /replacement refers to \\0/],
    ['NAPTR 1 2 "" "" "!a!b\\\\" .', /ends in a lone backslash/],
    ['DS 1 5 1 abcd', /^bad DS record: digest type 1 must be 20 octets, got 2$/],
    ['DS 1 5 2 ' + SHA1, /digest type 2 must be 32 octets, got 20/],
    ['DS 1 5 1 xyz', /^bad hex \(need pairs of hex digits\) in digest of DS record: "xyz"$/],
    ['DS 1 5 1 abc', /bad hex .* "abc"/],
    ['DS 1 5 1', /^missing digest in DS record$/],
    ['SSHFP 1 1 abcd', /^bad SSHFP record: fingerprint type 1 must be 20 octets, got 2$/],
    ['TLSA 3 1 1', /^missing certificate data in TLSA record$/],
    ['DNSKEY 257 3 13 AQI', /^bad base64 in public key of DNSKEY record: "AQI"$/],
    ['DNSKEY 257 3 13 !!!!', /bad base64/],
    ['TYPE65280 00', /^type TYPE65280 has no presentation format here; write its rdata in RFC 3597 generic syntax \(\\# length hex\)$/],
    ['TSIG hmac-sha256. 1 300 0 1 0 0', /^type TSIG: a TSIG record signs one message \(RFC 8945\) and cannot appear in zone files/],
    ['TKEY \\# 0', /^type TKEY: a TKEY record negotiates a key in one message \(RFC 2930\)/],
    ['TYPE255 \\# 0', /^type ANY is a meta or query type and cannot appear in zone files$/],
    ['OPT \\# 0', /type OPT is a meta or query type/],
    ['TYPE0 \\# 0', /type TYPE0 is a meta or query type/],
    ['AXFR \\# 0', /type AXFR is a meta or query type/],
    ['TXT ' + '"x" '.repeat(32768), /^TXT rdata is 65536 octets; at most 65535$/],
  ];
  for (const [text, message] of cases) {
    const p = problems(text);
    t.equal(p.length, 1, `${text.slice(0, 60)}: one problem`);
    t.match(p[0], { line: 2, severity: 'error', message }, text.slice(0, 60));
  }
});

t.test('RFC 3597 errors: length, hex, and rdata that is not valid for the known type', async (t) => {
  const cases: [string, RegExp][] = [
    ['TYPE65280 \\# 4 0A0000', /^RFC 3597 rdata length 4 does not match the 3 octets of hex data in TYPE65280 record$/],
    ['TYPE65280 \\# 0 00', /rdata length 0 does not match the 1 octets/],
    ['TYPE65280 \\# 1', /rdata length 1 does not match the 0 octets/],
    ['TYPE65280 \\# x 00', /^bad RFC 3597 rdata length "x" in TYPE65280 record \(0-65535\)$/],
    ['TYPE65280 \\# 65536', /bad RFC 3597 rdata length "65536"/],
    ['TYPE65280 \\#', /^missing rdata length \(RFC 3597\) in TYPE65280 record$/],
    ['TYPE65280 \\# 2 0g0h', /bad hex/],
    ['A \\# 3 c00002', /^RFC 3597 rdata is not a valid A record: address runs past the end of the rdata$/],
    ['A \\# 5 c000020100', /not a valid A record: 1 octets left over/],
    ['AAAA \\# 4 c0000201', /not a valid AAAA record: address runs past the end/],
    ['NS \\# 2 c000', /not a valid NS record: bad target name: compression pointer/],
    ['NS \\# 0', /not a valid NS record: bad target name: name runs past the end/],
    ['NS \\# 4 01610000', /not a valid NS record: 1 octets left over/],
    ['SOA \\# 25 016100c000' + '00'.repeat(20), /not a valid SOA record: (RNAME is compressed|bad RNAME: compression pointer)/],
    ['SOA \\# 6 016100016200', /not a valid SOA record: serial and timers runs past the end/],
    ['MX \\# 2 000a', /not a valid MX record: bad exchange: name runs past the end/],
    ['SRV \\# 3 000100', /not a valid SRV record: priority, weight and port runs past the end/],
    ['TXT \\# 0', /not a valid TXT record: text runs past the end/],
    ['TXT \\# 2 0561', /not a valid TXT record: text runs past the end/],
    ['HINFO \\# 2 0161', /not a valid HINFO record: OS runs past the end/],
    ['CAA \\# 3 000000', /not a valid CAA record: tag must be letters and digits/],
    ['NAPTR \\# 10 00010002000001620100', /not a valid NAPTR record: regexp "b": must be delimiter/],
    ['DS \\# 5 ec45050161', /not a valid DS record: digest type 1 must be 20 octets, got 1/],
    ['DS \\# 4 ec450509', /not a valid DS record: digest is missing/],
    ['SSHFP \\# 2 0101', /not a valid SSHFP record: fingerprint is missing/],
    ['TLSA \\# 3 030101', /not a valid TLSA record: certificate data is missing/],
    ['DNSKEY \\# 4 0101030d', /not a valid DNSKEY record: public key is missing/],
    ['RRSIG \\# 18 ' + '00'.repeat(18), /not a valid RRSIG record: bad signer name: name runs past the end/],
    ['RRSIG \\# 19 ' + '00'.repeat(19), /not a valid RRSIG record: signature is missing/],
    ['NSEC \\# 3 000000', /not a valid NSEC record: malformed type bitmap/],
    ['NSEC \\# 3 000001', /not a valid NSEC record: type bitmap runs past the end/],
    ['NSEC \\# 4 00000100', /not a valid NSEC record: type bitmap ends in a zero octet/],
    ['NSEC \\# 7 00010140000140', /not a valid NSEC record: malformed type bitmap/],
    ['NSEC3 \\# 6 010000000000', /not a valid NSEC3 record: next hashed owner is empty/],
  ];
  for (const [text, message] of cases) {
    const p = problems(text);
    t.equal(p.length, 1, `${text}: one problem`);
    t.match(p[0], { line: 2, severity: 'error', message }, text);
  }
});

t.test('errors inside multi-line rdata point at the offending line', async (t) => {
  const r = parseZone('$TTL 1h\n@ SOA ns h (\n 1\n 2\n 3x\n 4 5 )\nok A 192.0.2.1\n', { file: 't.zone', origin });
  t.match(r.problems, [{ line: 5, severity: 'error', message: /bad retry "3x" in SOA record/ }]);
  t.same(r.records.map((x) => x.owner.key), ['ok.example.com.']);
});
