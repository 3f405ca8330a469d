/**
 * The DNS COOKIE option (RFC 7873 §4): its code and sizes, and reading it from a query. Server
 * cookies are made and checked in server-cookies.ts.
 */

/** RFC 7873 §4: option code 10. */
export const COOKIE_OPTION = 10;
/** RFC 7873 §4: the client cookie is 8 octets, a server cookie 8 to 32. */
export const CLIENT_COOKIE = 8;
const SERVER_COOKIE_MIN = 8;
const SERVER_COOKIE_MAX = 32;

export interface Cookie {
  /** The 8 octets the client chose, echoed as they are. */
  readonly client: Buffer;
  /** The server cookie the client learned, when it sent one (8 to 32 octets). */
  readonly server?: Buffer;
}

export class CookieError extends Error {}

/** RFC 7873 §5.2.2: an option of another length than 8 or 16 to 40 octets is FORMERR. */
export function parseCookie(data: Buffer): Cookie {
  const serverSize = data.length - CLIENT_COOKIE;
  if (serverSize !== 0 && (serverSize < SERVER_COOKIE_MIN || serverSize > SERVER_COOKIE_MAX)) {
    throw new CookieError(`COOKIE option of ${data.length} octets: expected 8 (client cookie) or 16 to 40 (client and server cookie)`);
  }
  return { client: data.subarray(0, CLIENT_COOKIE), server: serverSize > 0 ? data.subarray(CLIENT_COOKIE) : undefined };
}
