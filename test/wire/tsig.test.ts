import t from 'tap';
import { Name } from '../../src/wire/name.js';
import { readTsig, ResponseSigner, ResponseVerifier, signRequest, TSIG_ALGORITHMS, TSIG_ERROR, verifyRequest, type TsigKey } from '../../src/wire/tsig.js';
import { buildQuery } from '../helpers/client.js';

const key = (name: string, algorithm = 'hmac-sha256', secret = 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0'): TsigKey => ({ name: Name.fromText(name), algorithm: TSIG_ALGORITHMS.get(algorithm)!, secret: Buffer.from(secret, 'base64') });
const K = key('xfr.');
const keys = new Map([[K.name.key, K]]);
const NOW = 1_800_000_000;

t.test('a signed request verifies; every change to it does not', async (t) => {
  const q = buildQuery('example.com', 'AXFR', { id: 4242 });
  const { message } = signRequest(q, K, NOW);
  const tsig = readTsig(message)!;
  t.equal(tsig.keyName.key, 'xfr.');
  t.equal(tsig.originalId, 4242);
  t.equal(tsig.mac.length, 32);
  t.equal(verifyRequest(message, tsig, keys, NOW).error, 0);
  t.equal(verifyRequest(message, tsig, keys, NOW + 300).error, 0, 'within the fudge');
  t.equal(verifyRequest(message, tsig, keys, NOW + 301).error, TSIG_ERROR.BADTIME, 'past the fudge');
  const tampered = Buffer.from(message);
  tampered[15] ^= 1; // a letter of the question
  t.equal(verifyRequest(tampered, readTsig(tampered)!, keys, NOW).error, TSIG_ERROR.BADSIG);
  t.equal(verifyRequest(message, tsig, new Map([['xfr.', key('xfr.', 'hmac-sha256', 'b3RoZXI=')]]), NOW).error, TSIG_ERROR.BADSIG, 'another secret');
  t.equal(verifyRequest(message, tsig, new Map([['xfr.', key('xfr.', 'hmac-sha512')]]), NOW).error, TSIG_ERROR.BADKEY, 'the key under another algorithm');
  t.equal(verifyRequest(message, tsig, new Map(), NOW).error, TSIG_ERROR.BADKEY, 'an unknown key');
  // The ID may change on the way (a forwarder): the original ID is what was signed.
  const renumbered = Buffer.from(message);
  renumbered.writeUInt16BE(7, 0);
  t.equal(verifyRequest(renumbered, readTsig(renumbered)!, keys, NOW).error, 0);
});

t.test('truncated MACs: at least max(10, half the hash) octets', async (t) => {
  const q = buildQuery('example.com', 'SOA', { id: 1 });
  const { message } = signRequest(q, K, NOW);
  const tsig = readTsig(message)!;
  const cut = (n: number) => ({ ...tsig, mac: tsig.mac.subarray(0, n) });
  t.equal(verifyRequest(message, cut(16), keys, NOW).error, 0, 'half of SHA-256');
  t.equal(verifyRequest(message, cut(15), keys, NOW).error, TSIG_ERROR.BADTRUNC);
});

t.test('every message of a transfer is signed, each chained to the one before', async (t) => {
  const q = buildQuery('example.com', 'AXFR', { id: 9 });
  const { message, mac } = signRequest(q, K, NOW);
  const signer = new ResponseSigner(K, readTsig(message)!, () => NOW);
  const verifier = new ResponseVerifier(K, mac, () => NOW);
  const bodies = [1, 2, 3].map((i) => { const b = Buffer.alloc(12); b.writeUInt16BE(9, 0); b.writeUInt16BE(0x8400 + i, 2); return b; });
  const signed = bodies.map((b) => signer.sign(b));
  t.same(signed.map((m) => verifier.check(m)), [undefined, undefined, undefined]);
  const again = new ResponseVerifier(K, mac, () => NOW);
  t.equal(again.check(signed[0]), undefined);
  t.match(again.check(signed[2]), /BADSIG/, 'out of order: the chain breaks');
});

t.test('errors: BADKEY and BADSIG answered with an unsigned TSIG, BADTIME signed with our time', async (t) => {
  const q = buildQuery('example.com', 'AXFR', { id: 5 });
  const { message } = signRequest(q, K, NOW);
  const tsig = readTsig(message)!;
  const body = Buffer.alloc(12);
  const badsig = readTsig(new ResponseSigner(undefined, tsig, () => NOW, TSIG_ERROR.BADSIG).sign(body))!;
  t.equal(badsig.mac.length, 0);
  t.equal(badsig.error, TSIG_ERROR.BADSIG);
  const badtime = readTsig(new ResponseSigner(K, tsig, () => NOW + 1000, TSIG_ERROR.BADTIME).sign(body))!;
  t.equal(badtime.error, TSIG_ERROR.BADTIME);
  t.equal(badtime.mac.length, 32);
  t.equal(badtime.other.readUIntBE(0, 6), NOW + 1000, 'our time, for the client to see the skew');
});

t.test('a TSIG record anywhere but last is an error', async (t) => {
  const { message } = signRequest(buildQuery('example.com', 'SOA', { id: 1, edns: {} }), K, NOW);
  // Move the OPT record after the TSIG: swap by rebuilding is complex; instead claim one more record than there is.
  const broken = Buffer.concat([message, Buffer.from([0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 0])]);
  broken.writeUInt16BE(broken.readUInt16BE(10) + 1, 10);
  t.throws(() => readTsig(broken), /not the last record/);
});
