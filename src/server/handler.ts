/**
 * The query handler both transports call: decode, resolve against the current snapshot,
 * encode. Never throws: an unexpected failure is logged and the query dropped.
 */
import { respond, TCP_MAX } from '../dns/respond.js';
import type { Logger } from '../log.js';
import type { ZoneSet } from '../zone/zoneset.js';

export interface Client {
  readonly transport: 'udp' | 'tcp';
  readonly address: string;
  readonly port: number;
}

export type QueryHandler = (msg: Buffer, client: Client) => Buffer | undefined;

export function createHandler(zones: () => ZoneSet, log: Logger): QueryHandler {
  const debug = log.isLevelEnabled('debug');
  return (msg, client) => {
    try {
      const info = respond(zones(), msg, client.transport === 'tcp');
      if (debug) {
        const q = info.query;
        log.debug({ client: client.address, transport: client.transport, qname: q?.qname.toString(), qtype: q?.qtype, rcode: info.rcode, tc: info.truncated, reason: info.reason }, 'query');
      }
      if (info.response && info.response.length > TCP_MAX) return undefined;
      return info.response;
    } catch (err) {
      log.error({ err, client: client.address }, 'query handler failed; dropped');
      return undefined;
    }
  };
}
