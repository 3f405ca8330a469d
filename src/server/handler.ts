/**
 * The query handler both transports call: decode, resolve against the current snapshot,
 * encode. Never throws: an unexpected failure is logged and the query dropped. UDP answers
 * that depend only on the query go through the answer cache (src/answer/answer-cache.ts); UDP
 * responses then go through response rate limiting (src/server/rrl.ts) when it is on.
 */
import type { AnswerCache } from '../answer/answer-cache.js';
import { respond, type ResponseInfo } from '../answer/respond.js';
import type { Logger } from '../log.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import type { ResponseRateLimiter } from './rrl.js';
import { badCookieForm, truncatedForm } from './rrl-wire.js';
import { rcodeToText, typeToText } from '../wire/types.js';

export interface Client {
  readonly transport: 'udp' | 'tcp';
  readonly address: string;
  readonly port: number;
}

/** The response to send, or the messages of a zone transfer (TCP), or nothing (dropped). */
export type QueryHandler = (msg: Buffer, client: Client) => Buffer | Iterator<Buffer> | undefined;

/**
 * Told about every query handled, with its processing time in seconds and, when response rate
 * limiting held it back, what it did (in log-only mode: what it would have done) (metrics).
 */
export type QueryObserver = (info: ResponseInfo, transport: 'udp' | 'tcp', seconds: number, limited?: 'drop' | 'slip') => void;

export interface HandlerOptions {
  readonly observe?: QueryObserver;
  /** Where UDP answers that depend only on the query are kept; none: every query is resolved. */
  readonly answerCache?: AnswerCache;
  /** Response rate limiting of UDP responses; none: every response is sent. */
  readonly rrl?: ResponseRateLimiter;
}

export function createHandler(snapshot: () => Snapshot, log: Logger, opts: HandlerOptions = {}): QueryHandler {
  const { observe } = opts;
  const debug = log.isLevelEnabled('debug');
  const cache = opts.answerCache;
  const rrl = opts.rrl?.enabled ? opts.rrl : undefined;
  return (msg, client) => {
    try {
      const start = observe ? performance.now() : 0;
      const snap = snapshot();
      const key = cache && client.transport === 'udp' ? cache.key(msg, snap) : undefined;
      const hit = key === undefined ? undefined : cache!.get(key, msg);
      const info = hit ? hit.info : respond(snap, msg, client.transport === 'tcp', client.address);
      if (key !== undefined && !hit) cache!.offer(key, msg, info);
      let response = hit ? hit.response : info.response;
      let limited: 'drop' | 'slip' | undefined;
      // TCP proves the client's address, and so does a valid server cookie (BIND exempts both).
      if (rrl && response && client.transport === 'udp' && info.cookieValid !== true) {
        const action = rrl.check(response, info.rcode ?? 0, client.address, info.wildcard?.key);
        if (action !== 'send') {
          limited = action;
          // A slip to a client that sent a cookie is BADCOOKIE with a fresh server cookie: it
          // retries over UDP with that cookie and is not limited (RFC 7873 §5.4); else TC.
          if (!rrl.logOnly) response = action === 'slip' ? ((info.cookie ? badCookieForm(response) : undefined) ?? truncatedForm(response)) : undefined;
        }
      }
      if (observe) observe(info, client.transport, (performance.now() - start) / 1000, limited);
      if (info.notice) log[info.notice.level]({ client: client.address, transport: client.transport }, info.notice.message);
      if (debug) {
        const q = info.question;
        log.debug({ client: client.address, transport: client.transport, qname: q?.qname.toString(), qtype: q && typeToText(q.qtype), rcode: info.rcode === undefined ? undefined : rcodeToText(info.rcode), tc: info.truncated, reason: info.reason, cached: hit !== undefined, rrl: limited }, 'query');
      }
      return info.messages && client.transport === 'tcp' ? info.messages : response;
    } catch (err) {
      log.error({ err, client: client.address }, 'query handler failed; dropped');
      return undefined;
    }
  };
}
