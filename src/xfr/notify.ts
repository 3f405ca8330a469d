/**
 * NOTIFY (RFC 1996): telling secondaries that a zone has a new serial, so that they transfer
 * it now rather than at their next refresh. Each target gets a NOTIFY with the zone's SOA,
 * signed with the key named for it, and again with back-off (1, 2, 4, 8, 16, 32 s) until it
 * answers; a newer serial replaces a NOTIFY still being retried.
 */
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { NotifyTarget } from '../config/zone-options.js';
import type { Logger } from '../log.js';
import { rcodeToText, T } from '../wire/types.js';
import { ResponseVerifier, signRequest, type Keyring } from '../wire/tsig.js';
import { MessageWriter } from '../wire/writer.js';
import type { Zone } from '../zone/zone.js';

/** RFC 1996 §3.6: opcode 4. */
export const OPCODE_NOTIFY = 4;
const AA = 0x0400;
const RETRIES_MS = [1000, 2000, 4000, 8000, 16000, 32000];

interface Pending {
  timer?: NodeJS.Timeout;
  socket?: dgram.Socket;
}

export class Notifier {
  /** By `zone|target`: the NOTIFY being retried. */
  private readonly pending = new Map<string, Pending>();
  private stopped = false;

  constructor(
    private readonly log: Logger,
    private readonly keyring: () => Keyring,
    private readonly retriesMs: readonly number[] = RETRIES_MS,
  ) {}

  /** Tells every target that `zone` (as it is now) has a new serial. */
  notify(zone: Zone, targets: readonly NotifyTarget[]): void {
    for (const target of targets) this.start(zone, target);
  }

  stop(): void {
    this.stopped = true;
    for (const p of this.pending.values()) this.cancel(p);
    this.pending.clear();
  }

  private cancel(p: Pending): void {
    clearTimeout(p.timer);
    closeQuietly(p.socket);
    p.socket = undefined;
  }

  private start(zone: Zone, target: NotifyTarget): void {
    const id = `${zone.origin.key}|${target.text}`;
    const old = this.pending.get(id);
    if (old) this.cancel(old);
    const p: Pending = {};
    this.pending.set(id, p);
    const serial = zone.soa.rdatas[0].wire.readUInt32BE(zone.soa.rdatas[0].wire.length - 20);
    const where = { zone: zone.origin.toString(), serial, target: `${target.host}:${target.port}`, key: target.key };
    const send = (attempt: number): void => {
      if (this.stopped || this.pending.get(id) !== p) return;
      if (attempt >= this.retriesMs.length + 1) {
        this.pending.delete(id);
        this.log.warn(where, 'NOTIFY not answered; the secondary will see the new serial at its next refresh');
        return;
      }
      const queryId = Math.floor(Math.random() * 65536);
      const w = new MessageWriter(512);
      w.header(queryId, (OPCODE_NOTIFY << 11) | AA);
      w.question(zone.origin, T.SOA, 1);
      w.rrset(1, zone.soa);
      let message = w.finish();
      let verifier: ResponseVerifier | undefined;
      const key = target.key === undefined ? undefined : this.keyring().get(target.key);
      if (target.key !== undefined && !key) {
        this.log.error({ ...where }, 'NOTIFY not sent: its key is not configured');
        this.pending.delete(id);
        return;
      }
      if (key) {
        const now = () => Math.floor(Date.now() / 1000);
        const signed = signRequest(message, key, now());
        message = signed.message;
        verifier = new ResponseVerifier(key, signed.mac, now);
      }
      closeQuietly(p.socket);
      const socket = dgram.createSocket(isIPv6(target.host) ? 'udp6' : 'udp4');
      p.socket = socket;
      socket.on('error', () => undefined); // unreachable: the retry timer tries again
      socket.on('message', (reply) => {
        if (reply.length < 12 || reply.readUInt16BE(0) !== queryId || (reply[2] & 0x80) === 0 || ((reply[2] >> 3) & 0xf) !== OPCODE_NOTIFY) return;
        const problem = verifier?.check(reply);
        const rcode = reply[3] & 0xf;
        clearTimeout(p.timer);
        closeQuietly(socket);
        p.socket = undefined;
        this.pending.delete(id);
        if (problem) this.log.warn({ ...where, problem }, 'NOTIFY answered without a valid TSIG');
        else if (rcode !== 0) this.log.warn({ ...where, rcode: rcodeToText(rcode) }, 'NOTIFY refused by the secondary');
        else this.log.info(where, 'NOTIFY acknowledged');
      });
      socket.send(message, target.port, target.host);
      p.timer = setTimeout(() => send(attempt + 1), this.retriesMs[Math.min(attempt, this.retriesMs.length - 1)]);
      p.timer.unref();
    };
    send(0);
  }
}

function closeQuietly(socket: dgram.Socket | undefined): void {
  try {
    socket?.close();
  } catch {
    // closed already
  }
}
