/**
 * Table tests for the record types added for issue 16: presentation text to wire (hex from
 * each type's RFC, several from the RFC's own examples), wire back to text, and every error
 * path of each parser and wire check.
 */
import t from 'tap';
import { Name } from '../../src/wire/name.js';
import { rdataToText } from '../../src/wire/rdata.js';
import { parseZone } from '../../src/zone/parser.js';
import type { ZoneRecord } from '../../src/zone/record.js';

const origin = Name.fromText('example.com.');
const EXAMPLE_COM = '076578616d706c6503636f6d00';

function rr(rest: string): ZoneRecord {
  const r = parseZone(`$TTL 300\nx ${rest}\n`, { file: 't.zone', origin });
  if (r.problems.length > 0 || r.records.length !== 1) throw new Error(`${rest}: ${JSON.stringify(r.problems)}`);
  return r.records[0];
}

function problems(rest: string): { line: number; severity: string; message: string }[] {
  return parseZone(`$TTL 300\nx ${rest}\n`, { file: 't.zone', origin }).problems.map(({ line, severity, message }) => ({ line, severity, message }));
}

const text = (r: ZoneRecord): string => rdataToText(r.type, r.rdata.wire);

t.test('text to wire and back, per type', async (t) => {
  // [input, wire hex, text written back (undefined: the input itself)]
  const cases: [string, string, string?][] = [
    ['DNAME target.example.net.', '06746172676574076578616d706c65036e657400', 'target.example.net.'],
    ['MB mail', '046d61696c' + EXAMPLE_COM, 'mail.example.com.'],
    ['MINFO a. b.', '0161000162' + '00', 'a. b.'],
    ['RP a. .', '016100' + '00', 'a. .'],
    ['AFSDB 1 a.', '0001016100', '1 a.'],
    ['KX 10 a.', '000a016100', '10 a.'],
    ['LP 10 a.', '000a016100', '10 a.'],
    ['SPF "v=spf1 -all"', '0b763d73706631202d616c6c'],
    ['URI 10 1 "ftp://ftp1.example.com/public"', '000a0001' + Buffer.from('ftp://ftp1.example.com/public').toString('hex')],
    ['EUI48 00-00-5E-00-53-2A', '00005e00532a', '00-00-5e-00-53-2a'],
    ['EUI64 00-00-5e-ef-10-00-00-2a', '00005eef1000002a'],
    ['L32 10 10.1.2.0', '000a0a010200'],
    ['L64 10 2001:DB8:1140:1000', '000a20010db811401000', '10 2001:0db8:1140:1000'],
    ['NID 10 14:4fff:ff20:ee64', '000a00144fffff20ee64', '10 0014:4fff:ff20:ee64'],
    ['OPENPGPKEY AQID', '010203'],
    ['DHCID AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=', '000201636fc0b8271c82825bb1ac5c41cf5351aa69b4febd94e8f17cdb95000da48c40'],
    ['CERT PGP 0 0 AQID', '00030000' + '00' + '010203', '3 0 0 AQID'],
    ['CERT 1 2 RSASHA256 AQID', '00010002' + '08' + '010203', '1 2 8 AQID'],
    ['SMIMEA 3 1 1 ABCD', '030101abcd'],
    ['CDS 0 0 0 00', '0000000000'],
    ['CDNSKEY 0 3 0 AA==', '0000030000'],
    ['DNSKEY 257 3 ECDSAP256SHA256 AQID', '0101030d010203', '257 3 13 AQID'],
    ['NSEC3PARAM 1 0 0 -', '0100000000'],
    ['NSEC3PARAM 1 0 10 aabb', '0100000a02aabb', '1 0 10 AABB'],
    // RFC 4034 §4.3: window 0 (A, MX, RRSIG, NSEC) and window 4 (TYPE1234 = 0x04d2: octet 26, bit 2)
    ['NSEC host.example.com. A MX RRSIG NSEC TYPE1234', '04686f7374' + EXAMPLE_COM + '0006400100000003' + '041b' + '00'.repeat(26) + '20'],
    ['CSYNC 66 3 A NS AAAA', '00000042' + '0003' + '0004' + '60000008'],
    ['ZONEMD 2018031900 1 1 ' + 'ab'.repeat(48), '7848b91c0101' + 'ab'.repeat(48), '2018031900 1 1 ' + 'AB'.repeat(48)],
    ['ZONEMD 1 1 240 ' + 'ab'.repeat(12), '00000001' + '01f0' + 'ab'.repeat(12), '1 1 240 ' + 'AB'.repeat(12)],
    ['IPSECKEY 10 0 2 . AQID', '0a0002' + '010203'],
    ['IPSECKEY 10 1 2 192.0.2.38', '0a0102c0000226'],
    ['IPSECKEY 10 3 2 gw. AQID', '0a030202677700010203', '10 3 2 gw. AQID'],
    ['APL', '', ''],
    ['APL 1:192.168.32.0/21 !1:192.168.38.0/28', '00011503c0a820' + '00011c83c0a826'],
    ['APL 2:::/0', '0002000 0'.replace(' ', ''), '2:::/0'],
    ['LOC 42 21 54 N 71 06 18 W -24m 30m', '003316138917 2dd070be15f000988d20'.replace(' ', ''), '42 21 54.000 N 71 6 18.000 W -24.00m 30m 10000m 10m'],
    ['LOC 0 N 0 E 0', '0012161380000000800000000098968 0'.replace(' ', ''), '0 0 0.000 N 0 0 0.000 E 0.00m 1m 10000m 10m'],
    ['LOC 90 0 0.000 S 180 0 0 W 42849672.95m 90000000m 0.01m 0m', '00991000' + '6cb02700' + '59604e00' + 'ffffffff', '90 0 0.000 S 180 0 0.000 W 42849672.95m 90000000m 0.01m 0m'],
    ['RRSIG A 13 2 3600 20240101000000 1700000000 1 example.com. AQID', '0001' + '0d02' + '00000e10' + '65920080' + '6553f100' + '0001' + EXAMPLE_COM + '010203', 'A 13 2 3600 20240101000000 20231114221320 1 example.com. AQID'],
    // RFC 4648 §10 base32hex vector: "foobar" is CPNMUOJ1E8
    ['NSEC3 1 0 0 - CPNMUOJ1E8 A RRSIG', '0100000000' + '06' + Buffer.from('foobar').toString('hex') + '0006' + '400000000002', '1 0 0 - CPNMUOJ1E8 A RRSIG'],
  ];
  for (const [input, hex, back] of cases) {
    const r = rr(input);
    t.equal(r.rdata.wire.toString('hex'), hex.replace(/ /g, ''), `${input}: wire`);
    const written = text(r);
    t.equal(written, back ?? input.slice(input.indexOf(' ') + 1), `${input}: text`);
    t.equal(rr(`${input.split(' ')[0]} ${written}`).rdata.wire.toString('hex'), r.rdata.wire.toString('hex'), `${input}: reads back`);
  }
  t.same(rr('DNAME a.b.').rdata.names.map((n) => [n.offset, n.name.key]), [[0, 'a.b.']], 'DNAME target is an embedded name');
  t.same(rr('RP a. t.').rdata.names.map((n) => n.offset), [0, 3], 'RP has two names');
  t.same(rr('IPSECKEY 10 3 2 gw. AQID').rdata.names.map((n) => [n.offset, n.name.key]), [[3, 'gw.']], 'IPSECKEY gateway name');
  t.equal(text(rr('NSEC host.example.com. A MX RRSIG NSEC TYPE1234')), 'host.example.com. A MX RRSIG NSEC TYPE1234');
  t.equal(text(rr('NSEC a. NSEC A')), 'a. A NSEC', 'bitmap types are sorted');
  t.equal(text(rr('IPSECKEY 10 0 2 . AQID')), '10 0 2 . AQID');
  t.equal(text(rr('TYPE29 \\# 16 0033161389172dd070be15f000988d20')), '42 21 54.000 N 71 6 18.000 W -24.00m 30m 10000m 10m', 'LOC in generic form is written in its own');
});

t.test('SVCB and HTTPS (RFC 9460)', async (t) => {
  // RFC 9460 Appendix D figures: [input, wire hex, text written back]
  const cases: [string, string, string][] = [
    ['SVCB 0 foo.example.com.', '0000' + '03666f6f' + EXAMPLE_COM, '0 foo.example.com.'],
    ['SVCB 1 .', '000100', '1 .'],
    ['SVCB 16 foo.example.com. port=53', '0010' + '03666f6f' + EXAMPLE_COM + '000300020035', '16 foo.example.com. port=53'],
    ['SVCB 1 foo.example.com. key667=hello', '0001' + '03666f6f' + EXAMPLE_COM + '029b000568656c6c6f', '1 foo.example.com. key667="hello"'],
    ['SVCB 1 foo.example.com. key667="hello\\210qoo"', '0001' + '03666f6f' + EXAMPLE_COM + '029b000968656c6c6fd271 6f6f'.replace(' ', ''), '1 foo.example.com. key667="hello\\210qoo"'],
    ['SVCB 1 foo.example.com. ipv6hint="2001:db8::1,2001:db8::53:1"', '0001' + '03666f6f' + EXAMPLE_COM + '00060020' + '20010db8000000000000000000000001' + '20010db8000000000000000000530001', '1 foo.example.com. ipv6hint=2001:db8::1,2001:db8::53:1'],
    ['SVCB 1 example.com. ipv6hint="2001:db8:122:344::192.0.2.33"', '0001' + EXAMPLE_COM + '00060010' + '20010db8012203440000000 0c0000221'.replace(' ', ''), '1 example.com. ipv6hint=2001:db8:122:344::c000:221'],
    ['SVCB 16 foo.example.org. ( alpn=h2,h3-19 mandatory=ipv4hint,alpn ipv4hint=192.0.2.1 )',
      '0010' + '03666f6f076578616d706c65036f726700' + '0000000400010004' + '00010009' + '026832' + '0568332d3139' + '000400 04c0000201'.replace(' ', ''),
      '16 foo.example.org. mandatory=alpn,ipv4hint alpn="h2,h3-19" ipv4hint=192.0.2.1'],
    ['SVCB 16 foo.example.org. alpn="f\\\\\\\\oo\\\\,bar,h2"', '0010' + '03666f6f076578616d706c65036f726700' + '0001000c' + '08' + '665c6f6f2c626172' + '026832', '16 foo.example.org. alpn="f\\\\\\\\oo\\\\,bar,h2"'],
    ['HTTPS 1 . alpn=h2 no-default-alpn ech=AQID dohpath=/q{?dns} ohttp', '000100' + '00010003026832' + '00020000' + '00050003010203' + '00070008' + Buffer.from('/q{?dns}').toString('hex') + '00080000', '1 . alpn="h2" no-default-alpn ech="AQID" dohpath="/q{?dns}" key8'],
    ['HTTPS 1 . key8', '000100' + '00080000', '1 . key8'],
  ];
  for (const [input, hex, back] of cases) {
    const r = rr(input);
    t.equal(r.rdata.wire.toString('hex'), hex, `${input}: wire`);
    t.equal(text(r), back, `${input}: text`);
    t.equal(rr(`${input.split(' ')[0]} ${back}`).rdata.wire.toString('hex'), r.rdata.wire.toString('hex'), `${input}: reads back`);
  }
  t.equal(text(rr('HTTPS 0 foo. alpn=h2')), '0 foo. alpn="h2"', 'AliasMode with SvcParams is valid rdata (the zone warns: RFC 9460 §2.4.2)');
  t.equal(rr('HTTPS 1 . port=443 alpn=h2').rdata.wire.toString('hex'), rr('HTTPS 1 . alpn=h2 port=443').rdata.wire.toString('hex'), 'keys in any order, sorted on the wire');
  t.equal(rr('HTTPS 1 . key3=443').rdata.wire.toString('hex'), rr('HTTPS 1 . port=443').rdata.wire.toString('hex'), 'key3 is port');
  t.equal(rr('TYPE65 \\# 10 00010000010003026832').type, 65, 'HTTPS in generic form');
  for (const path of ['/dns-query{?dns}', '/{dns}', '/q{?dns,ct}', '/dns-query{?dns:255}', '/a%20b/{+base}{?dns}', '/q?x=1{&dns}']) {
    t.equal(text(rr(`HTTPS 1 . alpn=h2 dohpath=${path}`)), `1 . alpn="h2" dohpath="${path}"`, `dohpath=${path} is a DoH URI template`);
  }
});

t.test('errors, per type', async (t) => {
  const cases: [string, RegExp][] = [
    // SVCB / HTTPS
    ['SVCB 1 . alpn=h2 alpn=h3', /^bad SvcParam "alpn=h3" in SVCB record \(key alpn appears twice\)$/],
    ['SVCB 1 . foo=bar', /^bad SvcParamKey "foo=bar" in SVCB record \(mandatory, alpn/],
    ['SVCB 1 . key65535=x', /bad SvcParamKey "key65535=x"/],
    ['SVCB 1 . key123456', /bad SvcParamKey "key123456"/],
    ['SVCB 1 . "alpn=h2"', /bad SvcParam "alpn=h2" in SVCB record \(key=value expected, not a quoted string\)/],
    ['HTTPS 1 . mandatory=alpn', /^bad HTTPS record: mandatory lists alpn, which the record does not have \(RFC 9460 §8\)$/],
    ['HTTPS 1 . mandatory=mandatory', /mandatory must not list mandatory/],
    ['HTTPS 1 . mandatory=port,port port=1', /mandatory lists port twice or out of order/],
    ['HTTPS 1 . mandatory=bogus', /bad SvcParam mandatory "mandatory=bogus" in HTTPS record \("bogus" is not a SvcParamKey\)/],
    ['HTTPS 1 . mandatory', /SvcParam mandatory .*needs a value/],
    ['HTTPS 1 . no-default-alpn', /^bad HTTPS record: no-default-alpn without alpn \(RFC 9460 §7\.1\.1\)$/],
    ['HTTPS 1 . alpn=h2 no-default-alpn=x', /SvcParam no-default-alpn .*takes no value/],
    ['HTTPS 1 . ohttp=1', /SvcParam ohttp .*takes no value/],
    ['HTTPS 1 . alpn=h2,,h3', /SvcParam alpn .*protocol identifiers are 1-255 octets/],
    ['HTTPS 1 . alpn', /SvcParam alpn .*needs a value/],
    ['HTTPS 1 . port=65536', /SvcParam port .*a port number 0-65535/],
    ['HTTPS 1 . port=x', /SvcParam port .*a port number/],
    ['HTTPS 1 . ipv4hint=192.0.2.300', /SvcParam ipv4hint .*"192\.0\.2\.300" is not an IPv4 address/],
    ['HTTPS 1 . ipv6hint=192.0.2.1', /SvcParam ipv6hint .*is not an IPv6 address/],
    ['HTTPS 1 . ech=!!', /SvcParam ech .*base64/],
    ['HTTPS', /^missing priority in HTTPS record$/],
    ['HTTPS 1', /^missing target name in HTTPS record$/],
    ['HTTPS \\# 7 00010000010000', /not a valid HTTPS record: SvcParam alpn must list one or more protocols/],
    ['HTTPS \\# 11 000100 0003000100 000100', /not a valid HTTPS record: SvcParam port must be 2 octets/],
    ['HTTPS \\# 15 000100 00030002 0001 00030002 0001', /not a valid HTTPS record: SvcParamKey port appears twice/],
    ['HTTPS \\# 16 000100 00030002 01bb 00010003 026832', /not a valid HTTPS record: SvcParamKey alpn is out of order/],
    ['HTTPS \\# 10 000100 00040003 c00002', /SvcParam ipv4hint must be one or more IPv4 addresses/],
    ['HTTPS \\# 11 000100 00060004 20010db8', /SvcParam ipv6hint must be one or more IPv6 addresses/],
    ['HTTPS \\# 8 000100 00000001 00', /SvcParam mandatory must list one or more keys/],
    ['HTTPS \\# 8 000100 ffff0001 00', /SvcParam key65535 is the reserved key 65535/],
    ['HTTPS \\# 8 000100 00010005 02', /SvcParam alpn runs past the end of the rdata/],
    ['HTTPS \\# 8 000100 00020001 00', /SvcParam no-default-alpn takes no value/],
    // dohpath (RFC 9461 §5): a relative URI template with the dns variable
    ['HTTPS 1 . alpn=h2 dohpath=dns-query{?dns}', /^bad HTTPS record: SvcParam dohpath "dns-query\{\?dns\}" must start with "\/" \(a relative URI, the path of the DoH request\): it must be a relative URI template with the dns variable, such as \/dns-query\{\?dns\} \(RFC 9461 §5\)$/],
    ['HTTPS 1 . alpn=h2 dohpath=https://doh.example/dns-query{?dns}', /SvcParam dohpath "https:\/\/doh\.example\/dns-query\{\?dns\}" must start with "\/"/],
    ['HTTPS 1 . alpn=h2 dohpath=/dns-query', /SvcParam dohpath "\/dns-query" has no "dns" variable: it must be/],
    ['HTTPS 1 . alpn=h2 dohpath=/q{?name}', /SvcParam dohpath "\/q\{\?name\}" has no "dns" variable/],
    ['HTTPS 1 . alpn=h2 dohpath=/q{?dns', /SvcParam dohpath "\/q\{\?dns" has a "\{" without "\}"/],
    ['HTTPS 1 . alpn=h2 dohpath=/q}{?dns}', /SvcParam dohpath "\/q\}\{\?dns\}" has a "\}" without "\{"/],
    ['HTTPS 1 . alpn=h2 dohpath=/q{?d-ns}', /SvcParam dohpath "\/q\{\?d-ns\}" has a malformed template expression "\{\?d-ns\}" \(RFC 6570\)/],
    ['HTTPS 1 . alpn=h2 dohpath="/q {?dns}"', /SvcParam dohpath "\/q \{\?dns\}" contains a space or a control character/],
    ['HTTPS 1 . alpn=h2 dohpath', /SvcParam dohpath "" must start with "\/"/],
    ['HTTPS \\# 11 000100 00070004 2f717565', /^RFC 3597 rdata is not a valid HTTPS record: SvcParam dohpath "\/que" has no "dns" variable/],
    ['HTTPS \\# 10 000100 00070003 2fff7b', /SvcParam dohpath "\/\\255\{" is not UTF-8/],
    // LOC
    ['LOC 91 N 0 E 0', /^bad latitude degrees "91" in LOC record \(an integer 0-90\)$/],
    ['LOC 90 1 N 0 E 0', /bad latitude "90" in LOC record \(at most 90 degrees\)/],
    ['LOC 10 60 N 0 E 0', /bad latitude minutes "60"/],
    ['LOC 10 0 60 N 0 E 0', /bad latitude seconds "60"/],
    ['LOC 10 0 1.2345 N 0 E 0', /bad latitude seconds "1\.2345"/],
    ['LOC 1 2 3 4 N 0 E 0', /bad latitude "4" in LOC record \(expected N or S after degrees, minutes and seconds\)/],
    ['LOC N 0 E 0', /bad latitude "N" in LOC record \(degrees are missing\)/],
    ['LOC 10 N 181 E 0', /bad longitude degrees "181"/],
    ['LOC 10 N 10 X 0', /^missing longitude hemisphere \(E or W\) in LOC record$/],
    ['LOC 10 N 10 E', /^missing altitude in LOC record$/],
    ['LOC 10 N 10 E -100000.01m', /bad altitude "-100000\.01m" in LOC record/],
    ['LOC 10 N 10 E 0 1.234m', /bad size "1\.234m" in LOC record/],
    ['LOC 10 N 10 E 0 1 2 3 4', /too many fields in LOC record: unexpected "4"/],
    ['LOC \\# 16 0100000080000000800000000098968 0'.replace(/0 0$/, '00'), /not a valid LOC record: version 1 is not 0/],
    ['LOC \\# 16 00a0000080000000800000000098968 0'.replace(/0 0$/, '00'), /not a valid LOC record: size has a digit above 9/],
    ['LOC \\# 16 00000000ffffffff800000000098968 0'.replace(/0 0$/, '00'), /not a valid LOC record: latitude beyond 90 degrees/],
    ['LOC \\# 3 000000', /not a valid LOC record: vertical precision runs past the end/],
    // APL
    ['APL 3:1.2.3.4/8', /^bad address prefix "3:1\.2\.3\.4\/8" in APL record/],
    ['APL 1:1.2.3.4/33', /bad address prefix "1:1\.2\.3\.4\/33"/],
    ['APL 1:2001:db8::/32', /bad address prefix/],
    ['APL 1:1.2.3.4', /bad address prefix/],
    ['APL \\# 4 00030000', /not a valid APL record: address family 3 is not 1 \(IPv4\) or 2 \(IPv6\)/],
    ['APL \\# 9 0001200 5 0102030405'.replace('200 5', '2005'), /not a valid APL record: address prefix too long for address family 1/],
    ['APL \\# 5 00010802 01', /not a valid APL record: address runs past the end/],
    // RRSIG, NSEC, NSEC3, NSEC3PARAM, CSYNC
    ['RRSIG FOO 13 2 3600 20240101000000 20230101000000 1 a. AQID', /^bad type covered "FOO" in RRSIG record \(a type mnemonic or TYPEnnn\)$/],
    ['RRSIG A 13 2 3600 20241301000000 20230101000000 1 a. AQID', /bad signature expiration "20241301000000" in RRSIG record \(not a valid YYYYMMDDHHmmSS time\)/],
    ['RRSIG A 13 2 3600 x 20230101000000 1 a. AQID', /bad signature expiration "x" in RRSIG record \(YYYYMMDDHHmmSS or seconds since 1970\)/],
    ['RRSIG A 13 2 3600 20240101000000 20230101000000 1 a.', /^missing signature in RRSIG record$/],
    ['RRSIG A BOGUS 2 3600 20240101000000 20230101000000 1 a. AQID', /bad algorithm "BOGUS" in RRSIG record \(a number or one of RSAMD5/],
    ['NSEC a. A BOGUS', /^bad type in the type bitmap "BOGUS" in NSEC record/],
    ['NSEC3 1 1 12 xyz 2t7b4g4vsa5smi47k61mv5bv1a22bojr', /bad salt "xyz" in NSEC3 record/],
    ['NSEC3 1 1 12 - 2t7b4g4vsa5smi47k61mv5bv1a22bojz', /bad next hashed owner "2t7b4g4vsa5smi47k61mv5bv1a22bojz" in NSEC3 record \(base32hex/],
    ['NSEC3 1 1 12 - 2t7', /bad next hashed owner "2t7"/],
    ['NSEC3PARAM 1 0 0', /^missing salt in NSEC3PARAM record$/],
    ['CSYNC 66 3 A BOGUS', /bad type in the type bitmap "BOGUS" in CSYNC record/],
    // ZONEMD, CERT, DS family, DNSKEY family
    ['ZONEMD 1 1 1 abcd', /^bad ZONEMD record: digest type 1 must be 48 octets, got 2$/],
    ['ZONEMD 1 1 2 ' + 'ab'.repeat(48), /digest type 2 must be 64 octets, got 48/],
    ['ZONEMD 1 1 240 abcd', /^bad ZONEMD record: digest is 2 octets; at least 12$/],
    ['CERT FOO 0 0 AQID', /bad certificate type "FOO" in CERT record \(a number or one of PKIX/],
    ['CERT 1 0 0', /^missing certificate in CERT record$/],
    ['CDS 1 5 1 abcd', /^bad CDS record: digest type 1 must be 20 octets, got 2$/],
    ['CDNSKEY 257 3 13', /^missing public key in CDNSKEY record$/],
    ['SMIMEA 3 1 1', /^missing certificate data in SMIMEA record$/],
    ['OPENPGPKEY', /^missing public key in OPENPGPKEY record$/],
    ['OPENPGPKEY ***', /bad base64 in public key of OPENPGPKEY record/],
    ['DHCID', /^missing identifier in DHCID record$/],
    // IPSECKEY
    ['IPSECKEY 10 4 2 . AQID', /bad gateway type 4 in IPSECKEY record \(0-3\)/],
    ['IPSECKEY 10 0 2 gw. AQID', /bad gateway "gw\." in IPSECKEY record \(must be "\." for gateway type 0\)/],
    ['IPSECKEY 10 1 2 2001:db8::1', /bad IPv4 address "2001:db8::1" in IPSECKEY record/],
    ['IPSECKEY 10 2 2 192.0.2.1', /bad IPv6 address "192\.0\.2\.1" in IPSECKEY record/],
    ['IPSECKEY \\# 3 0a0402', /not a valid IPSECKEY record: gateway type 4 is not 0-3/],
    // EUI, ILNP, URI, names
    ['EUI48 00-00-5e-00-53', /bad address "00-00-5e-00-53" in EUI48 record \(6 hex pairs joined by "-"\)/],
    ['EUI48 00:00:5e:00:53:2a', /bad address "00:00:5e:00:53:2a" in EUI48 record/],
    ['EUI64 00-00-5e-00-53-2a', /bad address .* in EUI64 record \(8 hex pairs/],
    ['EUI48 \\# 5 00005e0053', /not a valid EUI48 record: address runs past the end/],
    ['L32 10 10.1.2', /bad IPv4 address "10\.1\.2" in L32 record/],
    ['L64 10 2001:db8:1140', /bad locator "2001:db8:1140" in L64 record \(four groups of hex digits joined by ":"\)/],
    ['NID 10 12345:0:0:0', /bad node ID "12345:0:0:0" in NID record/],
    ['LP 10', /^missing locator name in LP record$/],
    ['URI 10 1', /^missing target in URI record$/],
    ['URI 10 1 ""', /^bad URI record: target is missing$/],
    ['DNAME', /^missing target name in DNAME record$/],
    ['DNAME a b', /too many fields in DNAME record: unexpected "b"/],
    ['DNAME \\# 2 c000', /not a valid DNAME record: bad target name: compression pointer/],
    ['MINFO a.', /^missing error mailbox in MINFO record$/],
    ['RP a.', /^missing TXT name in RP record$/],
    ['AFSDB 70000 a.', /bad subtype "70000" in AFSDB record/],
    ['KX 10', /^missing exchanger in KX record$/],
    ['SPF', /^missing text in SPF record$/],
    ['TYPE250 \\# 0', /^type TSIG: a TSIG record signs one message/],
  ];
  for (const [input, message] of cases) {
    const p = problems(input);
    t.equal(p.length, 1, `${input}: one problem`);
    t.match(p[0], { line: 2, severity: 'error', message }, input);
  }
});

t.test('an unknown type names the generic form as a way out', async (t) => {
  const p = problems('FOO 1 2 3');
  t.match(p, [{ line: 2, severity: 'error', message: /^unknown type "FOO"; a type not known here can be written in RFC 3597 form: TYPEnnn \\# length hex$/ }]);
});
