/**
 * Reading one monitor from a `*.lb.yaml` file into the model, with Cloudflare's defaults
 * (reference §3, §8). Fields that only HTTP probes use are warned about on other types.
 */
import { MONITOR_TYPES, type Monitor, type MonitorType } from './model.js';
import { bool, headerMap, noEffect, num, obj, objectName, oneOf, opt, READ_ONLY_FIELDS, str, type Field, type Obj, type ParsedObject } from '../config/yaml.js';

const MONITOR_FIELDS = [
  'name', 'type', 'description', 'method', 'path', 'port', 'timeout', 'retries', 'interval', 'expected_codes',
  'expected_body', 'follow_redirects', 'allow_insecure', 'consecutive_up', 'consecutive_down', 'header', 'probe_zone',
  ...READ_ONLY_FIELDS,
];

/** Fields that only mean something to an HTTP(S) probe. */
const HTTP_ONLY = ['path', 'header', 'expected_codes', 'expected_body', 'follow_redirects', 'allow_insecure'];
/** Types that probe a port and need one: there is no protocol default (API: "required"). */
const NEEDS_PORT: ReadonlySet<MonitorType> = new Set(['tcp', 'smtp', 'udp_icmp']);
/** The only `method` Cloudflare accepts for tcp. */
const TCP_METHOD = 'connection_established';
/** `200`, `2xx`, `200,301,302`: status codes or classes, comma-separated. */
const EXPECTED_CODES = /^[1-5]([0-9]{2}|xx)(,[1-5]([0-9]{2}|xx))*$/;

export function readMonitor(f: Field): ParsedObject<Monitor> {
  const o = obj(f);
  if (!o) return { field: f };
  const scope = f.scope;
  const before = scope.errors;
  o.checkFields(MONITOR_FIELDS);
  const name = objectName(o);
  const type = opt(o, 'type', (x) => oneOf(x, MONITOR_TYPES), 'http');
  const isHttp = type === 'http' || type === 'https';

  const method = readMethod(o, type);
  const portField = o.get('port');
  const port = opt(o, 'port', (x) => num(x, 0, 65535, true), 0);
  if (NEEDS_PORT.has(type) && port === 0 && (!portField || portField.scalar === 0)) {
    scope.error(portField ?? { file: f.file, path: `${f.path}.port`, line: f.line }, `required (1 to 65535) for ${type} monitors`);
  }
  if (type === 'icmp_ping' && portField) portField.warn('is ignored for icmp_ping monitors');
  if (!isHttp) {
    for (const key of HTTP_ONLY) o.get(key)?.warn(`is ignored for ${type} monitors`);
  }
  const expectedCodes = opt(o, 'expected_codes', expectedCodesOf, '200');
  if (isHttp && expectedCodes === '') o.get('expected_codes')?.error(`must list at least one status code for ${type} monitors`);
  noEffect(o, ['probe_zone'], 'probes are sent from this server, not through a zone');

  const value: Monitor = {
    name: name ?? '',
    type,
    description: opt(o, 'description', str, ''),
    method,
    path: opt(o, 'path', pathOf, '/'),
    port,
    timeout: opt(o, 'timeout', (x) => num(x, 1, Infinity, true), 5),
    retries: opt(o, 'retries', (x) => num(x, 0, 10, true), 2),
    interval: opt(o, 'interval', (x) => num(x, 1, Infinity, true), 60),
    expected_codes: expectedCodes,
    expected_body: opt(o, 'expected_body', str, ''),
    follow_redirects: opt(o, 'follow_redirects', bool, false),
    allow_insecure: opt(o, 'allow_insecure', bool, false),
    consecutive_up: opt(o, 'consecutive_up', (x) => num(x, 0, Infinity, true), 0),
    consecutive_down: opt(o, 'consecutive_down', (x) => num(x, 0, Infinity, true), 0),
    header: opt(o, 'header', (x) => headerMap(x), {}),
    source: Object.freeze({ file: f.file, line: f.line }),
  };
  if (name === undefined || scope.errors > before) return { name, field: f };
  return { name, field: f, value: Object.freeze(value) };
}

/** GET for http(s), connection_established for tcp, nothing for the types that have no method. */
function readMethod(o: Obj, type: MonitorType): string {
  const f = o.get('method');
  if (type === 'http' || type === 'https') {
    if (!f) return 'GET';
    const m = str(f);
    if (m !== undefined && !/^[A-Z]+$/.test(m)) return f.error(`must be an upper-case HTTP method such as GET or HEAD, got ${JSON.stringify(m)}`) ?? 'GET';
    return m ?? 'GET';
  }
  if (type === 'tcp') {
    if (f && str(f) !== undefined && f.scalar !== TCP_METHOD) f.error(`must be "${TCP_METHOD}" for tcp monitors`);
    return TCP_METHOD;
  }
  f?.warn(`is ignored for ${type} monitors`);
  return '';
}

function pathOf(f: Field): string | undefined {
  const p = str(f);
  if (p !== undefined && !p.startsWith('/')) return f.error(`must start with "/", got ${JSON.stringify(p)}`);
  return p;
}

/** A string such as "200,301" or "2xx"; a bare number (`expected_codes: 200`) is accepted too. */
function expectedCodesOf(f: Field): string | undefined {
  const v = f.scalar;
  const text = typeof v === 'number' && Number.isInteger(v) ? String(v) : str(f);
  if (text === undefined) return undefined;
  const codes = text.replace(/\s+/g, '').toLowerCase();
  if (codes !== '' && !EXPECTED_CODES.test(codes)) {
    return f.error(`must be 3-digit status codes or classes such as 2xx, separated by commas, got ${JSON.stringify(text)}`);
  }
  return codes;
}
