/**
 * A small DNS client for tests: sends real queries over UDP and TCP to a server on loopback
 * and decodes the answers with dns-packet. Every call is bounded by a timeout.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';

export type Transport = 'udp' | 'tcp';

export interface QueryOptions {
  id?: number;
  flags?: number;
  /** Add an OPT record with this UDP payload size. */
  edns?: { udpSize?: number; version?: number; do?: boolean; cookie?: Buffer; nsid?: boolean };
  qclass?: string;
}

/** RFC 7873: the COOKIE option code. */
export const COOKIE_OPTION = 10;

export function buildQuery(name: string, type: string, opts: QueryOptions = {}): Buffer {
  const additionals: dnsPacket.Answer[] = [];
  if (opts.edns) {
    additionals.push({
      type: 'OPT',
      name: '.',
      udpPayloadSize: opts.edns.udpSize ?? 1232,
      extendedRcode: 0,
      ednsVersion: opts.edns.version ?? 0,
      flags: opts.edns.do ? dnsPacket.DNSSEC_OK : 0,
      options: [...(opts.edns.cookie ? [{ code: COOKIE_OPTION, data: opts.edns.cookie }] : []), ...(opts.edns.nsid ? [{ code: 3, data: Buffer.alloc(0) }] : [])],
    } as unknown as dnsPacket.Answer); // dns-packet's OPT typing lacks ednsVersion
  }
  return dnsPacket.encode({
    type: 'query',
    id: opts.id ?? Math.floor(Math.random() * 65536),
    flags: opts.flags ?? 0,
    questions: [{ name, type: type as dnsPacket.RecordType, class: (opts.qclass ?? 'IN') as dnsPacket.RecordClass }],
    additionals,
  });
}

/** RFC 7766 §8 framing: each message after its 2-byte length. */
export function frame(...msgs: Buffer[]): Buffer {
  return Buffer.concat(msgs.flatMap((m) => [Buffer.from([(m.length >> 8) & 0xff, m.length & 0xff]), m]));
}

/** The whole messages of a TCP byte stream (a partial one at the end is left out). */
export function unframe(stream: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off + 2 <= stream.length && off + 2 + stream.readUInt16BE(off) <= stream.length; off += 2 + stream.readUInt16BE(off)) {
    out.push(stream.subarray(off + 2, off + 2 + stream.readUInt16BE(off)));
  }
  return out;
}

/** The COOKIE option data of a reply's OPT record (client cookie, then server cookie), if any. */
export function cookieOf(reply: dnsPacket.Packet): Buffer | undefined {
  const opt = reply.additionals?.find((a) => a.type === 'OPT') as unknown as { options?: { code: number; data: Buffer }[] } | undefined;
  return opt?.options?.find((o) => o.code === COOKIE_OPTION)?.data;
}

export function sendUdp(port: number, msg: Buffer, host = '127.0.0.1', timeoutMs = 2000): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    const timer = setTimeout(() => {
      sock.close();
      resolve(undefined);
    }, timeoutMs);
    sock.on('message', (m) => {
      clearTimeout(timer);
      sock.close();
      resolve(m);
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      sock.close();
      reject(e);
    });
    sock.send(msg, port, host);
  });
}

/** Sends frames on one TCP connection and collects `expect` framed replies. */
export function sendTcp(port: number, msgs: Buffer[], expect = msgs.length, host = '127.0.0.1', timeoutMs = 3000): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const replies: Buffer[] = [];
    let pending = Buffer.alloc(0);
    const sock = net.connect({ port, host });
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(replies);
    }, timeoutMs);
    sock.on('connect', () => {
      sock.write(frame(...msgs));
    });
    sock.on('data', (d) => {
      pending = Buffer.concat([pending, d]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const len = pending.readUInt16BE(0);
        replies.push(pending.subarray(2, 2 + len));
        pending = pending.subarray(2 + len);
      }
      if (replies.length >= expect) {
        clearTimeout(timer);
        sock.destroy();
        resolve(replies);
      }
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(replies);
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** dns-packet decodes the rcode as a string, but its typings leave it out. */
export type Reply = dnsPacket.Packet & { raw: Buffer; rcode: string };

export function decode(raw: Buffer): Reply {
  return Object.assign(dnsPacket.decode(raw) as unknown as dnsPacket.Packet & { rcode: string }, { raw });
}

/** The data of a decoded record (the typings put OPT, which has none, in the same union). */
export function dataOf(a: dnsPacket.Answer): unknown {
  return (a as { data?: unknown }).data;
}

export async function query(port: number, transport: Transport, name: string, type: string, opts: QueryOptions = {}, host = '127.0.0.1'): Promise<Reply> {
  const msg = buildQuery(name, type, opts);
  const raw = transport === 'udp' ? await sendUdp(port, msg, host) : (await sendTcp(port, [msg], 1, host))[0];
  if (!raw) throw new Error(`no ${transport} answer for ${name} ${type}`);
  return decode(raw);
}

/** Header bits of a raw response. */
export function flagsOf(raw: Buffer) {
  const f = raw.readUInt16BE(2);
  return { qr: !!(f & 0x8000), opcode: (f >> 11) & 0xf, aa: !!(f & 0x400), tc: !!(f & 0x200), rd: !!(f & 0x100), ra: !!(f & 0x80), cd: !!(f & 0x10), rcode: f & 0xf };
}
