/**
 * Pulling a zone from a primary by AXFR (RFC 5936) over TCP, TSIG-signed when a key is given:
 * every message of the answer verified (RFC 8945 §5.3.1), the records read with the names in
 * their data decompressed (RFC 3597 §4), until the second SOA. The building block of
 * secondary zones; a failed or partial transfer is an error, never a zone.
 */
import net from 'node:net';
import { Name, type WireEnd } from '../wire/name.js';
import type { Rdata } from '../wire/record.js';
import { checkWire } from '../wire/rdata.js';
import { RCODE, rcodeToText, T } from '../wire/types.js';
import { ResponseVerifier, signRequest, type TsigKey } from '../wire/tsig.js';
import { MessageWriter } from '../wire/writer.js';

export interface PulledRecord {
  readonly owner: Name;
  readonly type: number;
  readonly ttl: number;
  readonly rdata: Rdata;
}

export interface Pulled {
  /** Every record, the SOA first (not repeated at the end). */
  readonly records: readonly PulledRecord[];
  readonly serial: number;
  readonly messages: number;
}

export class PullError extends Error {}

/**
 * Where names may be compressed inside rdata and must be expanded: `n` a name, `2` 16 bits,
 * `r` the rest as it is. RFC 1035's types, and those RFC 3597 §4 says old senders compress.
 */
const LAYOUTS: ReadonlyMap<number, string> = new Map([
  [T.NS, 'n'], [T.CNAME, 'n'], [T.PTR, 'n'], [T.MB, 'n'], [T.MG, 'n'], [T.MR, 'n'], [3, 'n'], [4, 'n'], // MD, MF
  [T.SOA, 'nnr'], [T.MINFO, 'nn'], [T.RP, 'nn'], [T.MX, '2n'], [T.AFSDB, '2n'], [T.RT, '2n'], [T.KX, '2n'],
  [T.PX, '2nn'], [T.SRV, '222n'],
]);

const END: WireEnd = { next: 0 };

/** The rdata of a record at `start..end` of `msg`, with compressed names expanded. */
function readRdata(msg: Buffer, type: number, start: number, end: number): Buffer {
  const layout = LAYOUTS.get(type);
  if (!layout) return Buffer.from(msg.subarray(start, end));
  const parts: Buffer[] = [];
  let p = start;
  for (const c of layout) {
    if (c === 'n') {
      parts.push(Name.read(msg, p, END).wire);
      p = END.next;
    } else if (c === '2') {
      parts.push(msg.subarray(p, p + 2));
      p += 2;
    } else {
      parts.push(msg.subarray(p, end));
      p = end;
    }
  }
  if (p !== end) throw new PullError(`a ${type} record's data does not end where its length says`);
  return Buffer.concat(parts);
}

/** Reads the answer records of one message of the transfer. */
function answers(msg: Buffer): PulledRecord[] {
  const qd = msg.readUInt16BE(4);
  const an = msg.readUInt16BE(6);
  let p = 12;
  for (let i = 0; i < qd; i++) {
    Name.read(msg, p, END);
    p = END.next + 4;
  }
  const out: PulledRecord[] = [];
  for (let i = 0; i < an; i++) {
    const owner = Name.read(msg, p, END);
    const at = END.next;
    const type = msg.readUInt16BE(at);
    const ttl = msg.readUInt32BE(at + 4);
    const start = at + 10;
    const end = start + msg.readUInt16BE(at + 8);
    if (end > msg.length) throw new PullError('a record runs past the end of its message');
    const wire = readRdata(msg, type, start, end);
    out.push({ owner, type, ttl, rdata: { wire, names: checkWire(type, wire) } });
    p = end;
  }
  return out;
}

/** Pulls `zone` from `primary` by AXFR. Rejects with a PullError saying what went wrong. */
export function pullZone(primary: { readonly host: string; readonly port: number }, zone: Name, key?: TsigKey, timeoutMs = 30_000): Promise<Pulled> {
  const w = new MessageWriter(512);
  const id = Math.floor(Math.random() * 65536);
  w.header(id, 0);
  w.question(zone, T.AXFR, 1);
  let query = w.finish();
  let verifier: ResponseVerifier | undefined;
  if (key) {
    const now = () => Math.floor(Date.now() / 1000);
    const signed = signRequest(query, key, now());
    query = signed.message;
    verifier = new ResponseVerifier(key, signed.mac, now);
  }
  const where = `${primary.host.includes(':') ? `[${primary.host}]` : primary.host}:${primary.port}`;
  return new Promise<Pulled>((resolve, reject) => {
    const socket = net.connect({ host: primary.host, port: primary.port });
    const fail = (message: string) => {
      socket.destroy();
      reject(new PullError(`AXFR of ${zone} from ${where}: ${message}`));
    };
    const timer = setTimeout(() => fail(`no complete answer within ${timeoutMs / 1000} s`), timeoutMs);
    const records: PulledRecord[] = [];
    let soaSeen = 0;
    let serial = 0;
    let messages = 0;
    let pending = Buffer.alloc(0);
    socket.on('connect', () => {
      const frame = Buffer.alloc(2 + query.length);
      frame.writeUInt16BE(query.length, 0);
      query.copy(frame, 2);
      socket.write(frame);
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      fail((err as NodeJS.ErrnoException).code ?? err.message);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (soaSeen < 2) reject(new PullError(`AXFR of ${zone} from ${where}: the connection closed before the transfer was complete`));
    });
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const msg = pending.subarray(2, 2 + pending.readUInt16BE(0));
        pending = pending.subarray(2 + msg.length);
        messages++;
        try {
          if (msg.readUInt16BE(0) !== id || (msg[2] & 0x80) === 0) return fail('an answer to another query');
          const problem = verifier?.check(msg);
          const rcode = msg[3] & 0xf;
          // An error is an error, signed or not; its TSIG problem, if any, says more.
          if (rcode !== RCODE.NOERROR) return fail(`the primary answered ${rcodeToText(rcode)}${problem ? ` (${problem})` : ''}`);
          if (problem) return fail(problem);
          for (const r of answers(msg)) {
            if (r.type === T.SOA && r.owner.key === zone.key) {
              soaSeen++;
              if (soaSeen === 1) serial = r.rdata.wire.readUInt32BE(r.rdata.wire.length - 20);
              if (soaSeen === 2) break;
            } else if (soaSeen === 0) {
              return fail('the transfer does not start with the zone\'s SOA');
            }
            records.push(r);
          }
        } catch (e) {
          return fail(`a malformed message: ${(e as Error).message}`);
        }
        if (soaSeen >= 2) {
          clearTimeout(timer);
          socket.end();
          resolve({ records, serial, messages });
          return;
        }
      }
    });
  });
}
