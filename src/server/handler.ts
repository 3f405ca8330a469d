/**
 * The query handler both transports call: decode, resolve against the current snapshot,
 * encode. Never throws: an unexpected failure is logged and the query dropped. UDP answers
 * that depend only on the query go through the answer cache (src/dns/answer-cache.ts).
 */
import type { AnswerCache } from '../dns/answer-cache.js';
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

export interface HandlerOptions {
  readonly observe?: QueryObserver;
  /** Where UDP answers that depend only on the query are kept; none: every query is resolved. */
  readonly answerCache?: AnswerCache;
}

export function createHandler(snapshot: () => Snapshot, log: Logger, opts: HandlerOptions = {}): QueryHandler {
  const { observe } = opts;
  const debug = log.isLevelEnabled('debug');
  const cache = opts.answerCache;
  return (msg, client) => {
    try {
      const start = observe ? performance.now() : 0;
      const snap = snapshot();
      const key = cache && client.transport === 'udp' ? cache.key(msg, snap) : undefined;
      const hit = key === undefined ? undefined : cache!.get(key, msg);
      const info = hit ? hit.info : respond(snap, msg, client.transport === 'tcp', client.address);
      if (key !== undefined && !hit) cache!.offer(key, info);
      if (observe) observe(info, client.transport, (performance.now() - start) / 1000);
      if (debug) {
        const q = info.question;
        log.debug({ client: client.address, transport: client.transport, qname: q?.qname.toString(), qtype: q?.qtype, rcode: info.rcode, tc: info.truncated, reason: info.reason, cached: hit !== undefined }, 'query');
      }
      return hit ? hit.response : info.response;
    } catch (err) {
      log.error({ err, client: client.address }, 'query handler failed; dropped');
      return undefined;
    }
  };
}
