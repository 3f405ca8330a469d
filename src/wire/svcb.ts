/**
 * SVCB and HTTPS (RFC 9460): SvcPriority, TargetName and SvcParams, in text (`key=value`,
 * Appendix A) and on the wire (key, length, value; keys strictly increasing), with the
 * RFC's consistency rules: `mandatory` lists present keys and never itself, `no-default-alpn`
 * needs `alpn`, `dohpath` is a DoH URI template. An AliasMode record (priority 0) with
 * parameters is valid rdata (RFC 9460 §2.4.2: SHOULD NOT, and clients ignore them; BIND, NSD
 * and Knot load it): the zone warns about it (svcbAliasParams).
 */
import { Fields, Reader, RdataError, decodeEscapes, escapeText, ipv4, ipv6, isBase64, uintBytes, type Token } from './rdata-io.js';
import { ipv6OctetsText } from './ip.js';

/** RFC 9460 §14.3.2 and RFC 9461, 9540: the registered SvcParamKeys. */
export const SVC_KEY = { mandatory: 0, alpn: 1, 'no-default-alpn': 2, port: 3, ipv4hint: 4, ech: 5, ipv6hint: 6, dohpath: 7, ohttp: 8 } as const;
const KEY_NAMES = new Map<number, string>(Object.entries(SVC_KEY).map(([k, v]) => [v, k]));
/** RFC 9460 §14.3.2: key 65535 is reserved ("Invalid key"). */
const INVALID_KEY = 65535;

const keyText = (key: number): string => KEY_NAMES.get(key) ?? `key${key}`;
/** Written by number: BIND 9.18, NSD 4.6 and Knot 3.2 predate the name `ohttp`, and all read `key8`. */
const keyOut = (key: number): string => (key === SVC_KEY.ohttp ? `key${key}` : keyText(key));

function keyNumber(text: string): number | undefined {
  const known = (SVC_KEY as Record<string, number>)[text.toLowerCase()];
  if (known !== undefined) return known;
  const m = /^key([0-9]{1,5})$/i.exec(text);
  return m && Number(m[1]) < INVALID_KEY ? Number(m[1]) : undefined;
}

/** RFC 9460 Appendix A.1: a comma-separated list in which `\,` and `\\` stand for a comma and a backslash. */
function splitList(b: Buffer): Buffer[] {
  const items: Buffer[] = [];
  let cur: number[] = [];
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0x5c && i + 1 < b.length) cur.push(b[++i]);
    else if (b[i] === 0x2c) {
      items.push(Buffer.from(cur));
      cur = [];
    } else cur.push(b[i]);
  }
  items.push(Buffer.from(cur));
  return items;
}

function paramValue(f: Fields, key: number, value: Buffer | undefined, t: Token): Buffer {
  const bad = (why: string): never => f.fail(`SvcParam ${keyText(key)}`, t, why);
  const need = (): Buffer => value ?? bad('needs a value');
  const list = (parse: (s: string) => Buffer | undefined, what: string): Buffer => {
    const items = need().toString('latin1').split(',');
    return Buffer.concat(items.map((s) => parse(s) ?? bad(`"${s}" is not ${what}`)));
  };
  switch (key) {
    case SVC_KEY.mandatory: {
      const keys = splitList(need()).map((s) => keyNumber(s.toString('latin1')) ?? bad(`"${s.toString('latin1')}" is not a SvcParamKey`));
      return Buffer.concat(keys.sort((a, b) => a - b).map((k) => uintBytes(k, 2)));
    }
    case SVC_KEY.alpn:
      return Buffer.concat(splitList(need()).map((id) => {
        if (id.length === 0 || id.length > 255) bad('protocol identifiers are 1-255 octets');
        return Buffer.concat([Buffer.from([id.length]), id]);
      }));
    case SVC_KEY['no-default-alpn']:
    case SVC_KEY.ohttp:
      if (value !== undefined && value.length > 0) bad('takes no value');
      return Buffer.alloc(0);
    case SVC_KEY.port: {
      const s = need().toString('latin1');
      if (!/^[0-9]{1,5}$/.test(s) || Number(s) > 65535) bad('a port number 0-65535');
      return uintBytes(Number(s), 2);
    }
    case SVC_KEY.ipv4hint:
      return list(ipv4, 'an IPv4 address');
    case SVC_KEY.ipv6hint:
      return list(ipv6, 'an IPv6 address');
    case SVC_KEY.ech: {
      const s = need().toString('latin1');
      if (!isBase64(s)) bad('base64');
      return Buffer.from(s, 'base64');
    }
    default:
      return value ?? Buffer.alloc(0);
  }
}

function parse(f: Fields): Buffer[] {
  const priority = f.uint('priority', 2);
  const target = f.name('target name');
  const params = new Map<number, Buffer>();
  const at = new Map<number, Token>();
  while (f.more()) {
    const t = f.take('SvcParam');
    if (t.quoted) f.fail('SvcParam', t, 'key=value expected, not a quoted string');
    const eq = t.text.indexOf('=');
    const keyPart = eq < 0 ? t.text : t.text.slice(0, eq);
    const key = keyNumber(keyPart);
    if (key === undefined) {
      f.fail('SvcParamKey', t, 'mandatory, alpn, no-default-alpn, port, ipv4hint, ech, ipv6hint, dohpath, ohttp or keyNNNNN below 65535');
    }
    let value: Buffer | undefined;
    if (eq >= 0) {
      // `alpn="h2,h3"`: the lexer ends the word at the quote, so the quoted value is the next token.
      const rest = t.text.slice(eq + 1);
      const next = f.peek();
      value = rest === '' && next?.quoted && next.line === t.line ? decodeEscapes(f.take('value').text, t.line) : decodeEscapes(rest, t.line);
    }
    if (params.has(key)) f.fail('SvcParam', t, `key ${keyText(key)} appears twice`);
    params.set(key, paramValue(f, key, value, t));
    at.set(key, t);
  }
  const wire = Buffer.concat([...params.keys()].sort((a, b) => a - b).flatMap((k) => [uintBytes(k, 2), uintBytes(params.get(k)!.length, 2), params.get(k)!]));
  return [priority, target, wire];
}

/** The RFC 9460 rules on a record's parameters, given in increasing key order. */
function checkParams(params: ReadonlyMap<number, Buffer>): void {
  const mandatory = params.get(SVC_KEY.mandatory);
  if (mandatory) {
    for (let k = 0; k < mandatory.length; k += 2) {
      const key = mandatory.readUInt16BE(k);
      if (key === SVC_KEY.mandatory) throw new RdataError('mandatory must not list mandatory (RFC 9460 §8)');
      if (k > 0 && key <= mandatory.readUInt16BE(k - 2)) throw new RdataError(`mandatory lists ${keyText(key)} twice or out of order`);
      if (!params.has(key)) throw new RdataError(`mandatory lists ${keyText(key)}, which the record does not have (RFC 9460 §8)`);
    }
  }
  if (params.has(SVC_KEY['no-default-alpn']) && !params.has(SVC_KEY.alpn)) {
    throw new RdataError('no-default-alpn without alpn (RFC 9460 §7.1.1)');
  }
}

/** Octets of a value list in presentation form: `\,` and `\\` at the list level, then string escapes. */
function listText(items: Buffer[]): string {
  return items.map((b) => escapeText(Buffer.from(b.toString('latin1').replace(/[\\,]/g, '\\$&'), 'latin1'))).join(',');
}

function valueText(key: number, v: Buffer): string | undefined {
  switch (key) {
    case SVC_KEY.mandatory: {
      const keys: string[] = [];
      for (let k = 0; k < v.length; k += 2) keys.push(keyText(v.readUInt16BE(k)));
      return keys.join(',');
    }
    case SVC_KEY.alpn: {
      const ids: Buffer[] = [];
      for (let p = 0; p < v.length; p += 1 + v[p]) ids.push(v.subarray(p + 1, p + 1 + v[p]));
      return `"${listText(ids)}"`;
    }
    case SVC_KEY['no-default-alpn']:
    case SVC_KEY.ohttp:
      return undefined;
    case SVC_KEY.port:
      return String(v.readUInt16BE(0));
    case SVC_KEY.ipv4hint: {
      const out: string[] = [];
      for (let p = 0; p < v.length; p += 4) out.push(`${v[p]}.${v[p + 1]}.${v[p + 2]}.${v[p + 3]}`);
      return out.join(',');
    }
    case SVC_KEY.ipv6hint: {
      const out: string[] = [];
      for (let p = 0; p < v.length; p += 16) out.push(ipv6OctetsText(v, p));
      return out.join(',');
    }
    case SVC_KEY.ech:
      return `"${v.toString('base64')}"`;
    default:
      return `"${escapeText(v)}"`;
  }
}

/** RFC 6570 §2.3: a variable name (letters, digits, `_`, percent-escapes, dot-separated), then a `:N` or `*` modifier. */
const VARSPEC = /^((?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})+(?:\.(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})+)*)(?::[1-9][0-9]{0,3}|\*)?$/;

/**
 * RFC 9461 §5: `dohpath` is a relative URI template (RFC 6570), UTF-8, that starts with `/` (it
 * becomes the `:path` of the DoH request) and has the `dns` variable, e.g. `/dns-query{?dns}`.
 * Returns why not, or undefined when it is one.
 */
export function dohpathProblem(v: Buffer): string | undefined {
  const s = v.toString('utf8');
  if (!Buffer.from(s, 'utf8').equals(v)) return 'is not UTF-8';
  if (!s.startsWith('/')) return 'must start with "/" (a relative URI, the path of the DoH request)';
  let dns = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || s[i] === '}') return c <= 0x20 || c === 0x7f ? 'contains a space or a control character' : 'has a "}" without "{"';
    if (s[i] !== '{') continue;
    const end = s.indexOf('}', i);
    if (end < 0) return 'has a "{" without "}"';
    let expr = s.slice(i + 1, end);
    if ('+#./;?&'.includes(expr[0] ?? '')) expr = expr.slice(1);
    for (const spec of expr.split(',')) {
      const m = VARSPEC.exec(spec);
      if (!m) return `has a malformed template expression "${s.slice(i, end + 1)}" (RFC 6570)`;
      if (m[1] === 'dns') dns = true;
    }
    i = end;
  }
  return dns ? undefined : 'has no "dns" variable';
}

/** Checks one value's wire form for its key (RFC 9460 §7, §8; RFC 9461 §5; RFC 9540 §4). */
function checkValue(key: number, v: Buffer): void {
  const bad = (why: string): never => {
    throw new RdataError(`SvcParam ${keyText(key)} ${why}`);
  };
  switch (key) {
    case SVC_KEY.mandatory:
      if (v.length === 0 || v.length % 2) bad('must list one or more keys');
      break;
    case SVC_KEY.alpn:
      if (v.length === 0) bad('must list one or more protocols');
      for (let p = 0; p < v.length; p += 1 + v[p]) if (v[p] === 0 || p + 1 + v[p] > v.length) bad('has a malformed protocol list');
      break;
    case SVC_KEY['no-default-alpn']:
    case SVC_KEY.ohttp:
      if (v.length) bad('takes no value');
      break;
    case SVC_KEY.port:
      if (v.length !== 2) bad('must be 2 octets');
      break;
    case SVC_KEY.ipv4hint:
      if (v.length === 0 || v.length % 4) bad('must be one or more IPv4 addresses');
      break;
    case SVC_KEY.ipv6hint:
      if (v.length === 0 || v.length % 16) bad('must be one or more IPv6 addresses');
      break;
    case SVC_KEY.dohpath: {
      const why = dohpathProblem(v);
      if (why) bad(`"${escapeText(v)}" ${why}: it must be a relative URI template with the dns variable, such as /dns-query{?dns} (RFC 9461 §5)`);
      break;
    }
    case INVALID_KEY:
      bad('is the reserved key 65535');
  }
}

function scan(r: Reader): void {
  r.num(2, 'priority');
  r.name('target name');
  const params = new Map<number, Buffer>();
  let last = -1;
  while (!r.atEnd()) {
    const key = r.u16('SvcParamKey');
    if (key <= last) throw new RdataError(`SvcParamKey ${keyText(key)} ${key === last ? 'appears twice' : 'is out of order'}`);
    last = key;
    const v = r.take(r.u16('SvcParam length'), `SvcParam ${keyText(key)}`);
    checkValue(key, v);
    params.set(key, v);
    if (r.out) {
      const text = valueText(key, v);
      r.put(text === undefined ? keyOut(key) : `${keyOut(key)}=${text}`);
    }
  }
  checkParams(params);
}

export const SVCB = { parse, scan };

/** True when checked SVCB/HTTPS rdata is in AliasMode (priority 0) and yet has SvcParams, which clients ignore. */
export function svcbAliasParams(wire: Buffer, targetEnd: number): boolean {
  return wire.readUInt16BE(0) === 0 && wire.length > targetEnd;
}

/** A checked SVCB/HTTPS rdata split into its fixed part (priority and target) and its parameters by key. */
export interface SvcbRdata {
  readonly priority: number;
  /** Priority and target name, as on the wire. */
  readonly head: Buffer;
  readonly params: ReadonlyMap<number, Buffer>;
}

/** Splits checked SVCB/HTTPS wire rdata (names uncompressed); `targetEnd` is where the target name ends. */
export function splitSvcb(wire: Buffer, targetEnd: number): SvcbRdata {
  const params = new Map<number, Buffer>();
  for (let p = targetEnd; p < wire.length; ) {
    const key = wire.readUInt16BE(p);
    const len = wire.readUInt16BE(p + 2);
    params.set(key, wire.subarray(p + 4, p + 4 + len));
    p += 4 + len;
  }
  return { priority: wire.readUInt16BE(0), head: wire.subarray(0, targetEnd), params };
}
