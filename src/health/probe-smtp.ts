/**
 * The `smtp` probe (reference §3.1): connect, read the 220 greeting, `HELO`, expect 250,
 * `QUIT`, expect 221, close. Replies follow RFC 5321 §4.2 (multi-line `220-...` then `220 ...`).
 */
import os from 'node:os';
import { FAILURE, type Probe } from './types.js';
import { clip, failed, isValidPort, runAttempt, timeoutMsOf, timeoutText } from './probe-common.js';
import { connectFor, missingPortDetail } from './probe-tcp.js';

/** Bytes read for one reply at most: RFC 5321 §4.5.3.1.5 allows 512 per line; a few lines fit. */
export const SMTP_REPLY_LIMIT = 4096;

/** The name we greet with (RFC 5321 §4.1.1.1): this host's name when it is a plain domain name. */
const HELO_NAME = heloName(os.hostname());

function heloName(host: string): string {
  return /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/.test(host) ? host : 'localhost';
}

/** RFC 5321 §4.2: "NNN text", "NNN-text" (more lines follow) or a bare "NNN". */
const REPLY_LINE = /^([2-5][0-9]{2})(?:([ -])(.*))?$/;

interface Step {
  readonly expect: string;
  /** What to send once the expected reply arrived; undefined for the last step. */
  readonly then?: string;
}

const STEPS: readonly Step[] = [
  { expect: '220', then: `HELO ${HELO_NAME}\r\n` },
  { expect: '250', then: 'QUIT\r\n' },
  { expect: '221' },
];

export const smtpProbe: Probe = (target, signal) => {
  if (!isValidPort(target.port)) return failed(FAILURE.CONFIG, missingPortDetail(target));
  const where = `${target.address}:${target.port}`;
  let connected = false;
  let step = 0;
  return runAttempt(
    signal,
    timeoutMsOf(target.monitor),
    (a) => {
      if (!connected) a.fail(FAILURE.TCP_TIMEOUT, `no connection to ${where} within ${timeoutText(target.monitor)}`);
      else a.fail(FAILURE.OTHER, `SMTP timeout waiting for ${STEPS[step].expect}`);
    },
    (a) => {
      let pending = '';
      let lines: string[] = [];
      let banner = '';
      const socket = connectFor(a, target, () => {
        connected = true;
      });
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => {
        if (a.done) return;
        pending += chunk;
        let nl: number;
        while (!a.done && (nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl).replace(/\r$/, '');
          pending = pending.slice(nl + 1);
          const m = REPLY_LINE.exec(line);
          if (!m) {
            a.fail(FAILURE.CODE_MISMATCH, `not an SMTP reply while waiting for ${STEPS[step].expect}: ${clip(line)}`);
            return;
          }
          lines.push(line);
          if (m[2] === '-') continue;
          const reply = lines.join('\n');
          lines = [];
          const { expect, then } = STEPS[step];
          if (m[1] !== expect) {
            a.fail(FAILURE.CODE_MISMATCH, `expected ${expect}, got: ${clip(reply)}`);
            return;
          }
          if (step === 0) banner = reply.split('\n')[0];
          if (then === undefined) {
            socket.end();
            a.ok({ detail: clip(banner) });
            return;
          }
          step++;
          socket.write(then);
        }
        const held = pending.length + lines.reduce((n, l) => n + l.length + 1, 0);
        if (!a.done && held > SMTP_REPLY_LIMIT) {
          a.fail(FAILURE.OTHER, `SMTP reply longer than ${SMTP_REPLY_LIMIT} bytes while waiting for ${STEPS[step].expect}`);
        }
      });
      socket.on('end', () => a.fail(FAILURE.OTHER, `SMTP connection closed while waiting for ${STEPS[step].expect}`));
    },
  );
};
