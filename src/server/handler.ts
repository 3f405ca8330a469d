/**
 * The query handler both transports call: decode, resolve against the current snapshot,
 * encode. Never throws: an unexpected failure is logged and the query dropped.
 */
import { respond, type ResponseInfo } from '../dns/respond.js';
import type { Logger } from '../log.js';
import type { Snapshot } from '../config/snapshot.js';

export interface Client {
  readonly transport: 'udp' | 'tcp';
  readonly address: string;
  readonly port: number;
}

export type QueryHandler = (msg: Buffer, client: Client) => Buffer | undefined;

/** Told about every query handled, with its processing time in seconds (metrics). */
export type QueryObserver = (info: ResponseInfo, transport: 'udp' | 'tcp', seconds: number) => void;

export function createHandler(snapshot: () => Snapshot, log: Logger, observe?: QueryObserver): QueryHandler {
  const debug = log.isLevelEnabled('debug');
  return (msg, client) => {
    try {
      const start = observe ? process.hrtime.bigint() : 0n;
      const info = respond(snapshot(), msg, client.transport === 'tcp', client.address);
      if (observe) observe(info, client.transport, Number(process.hrtime.bigint() - start) / 1e9);
      if (debug) {
        const q = info.question;
        log.debug({ client: client.address, transport: client.transport, qname: q?.qname.toString(), qtype: q?.qtype, rcode: info.rcode, tc: info.truncated, reason: info.reason }, 'query');
      }
      return info.response;
    } catch (err) {
      log.error({ err, client: client.address }, 'query handler failed; dropped');
      return undefined;
    }
  };
}
