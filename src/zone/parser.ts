/**
 * Zone (master) file parser, RFC 1035 §5: directives ($ORIGIN, $TTL, $INCLUDE), owner, TTL
 * and class inheritance, and TTL defaulting as BIND 9 does it. Produces every record it can
 * and one problem per bad line; zone-level checks (SOA at apex, CNAME rules) live elsewhere.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { Name, NameError } from '../wire/name.js';
import { T, typeFromText } from '../wire/types.js';
import { tokenize, type Entry } from './lexer.js';
import { type Token } from '../wire/rdata.js';
import { parseRdata, parseTtl, RdataError } from '../wire/rdata.js';
import type { ZoneRecord } from './record.js';
import type { Problem } from '../config/problem.js';

export interface ParseOptions {
  file: string; // path shown in problems (and base dir for $INCLUDE)
  origin: Name; // initial origin (from the file name); $ORIGIN may change it
  readFile?: (path: string) => string; // default: fs.readFileSync(path, 'utf8'); used for $INCLUDE
}
export interface ParseResult {
  records: ZoneRecord[];
  problems: Problem[];
}

/** RFC 2181 §8: TTLs are 0..2^31-1. */
const MAX_TTL = 0x7fffffff;
/** No RFC limit; a bound keeps a runaway include chain from exhausting the stack. */
const MAX_INCLUDE_DEPTH = 16;
/** Class mnemonics (RFC 1035 §3.2.4, RFC 3597 §5 CLASSnnn); only IN is served. */
const CLASS = /^(IN|CH|CHAOS|HS|HESIOD|NONE|ANY|CLASS[0-9]{1,5})$/i;

class ParseError extends Error {
  constructor(message: string, readonly line: number) {
    super(message);
  }
}

/** State shared by a file and everything it includes; BIND keeps TTL state load-wide too. */
interface Load {
  readFile: (path: string) => string;
  records: ZoneRecord[];
  problems: Problem[];
  defaultTtl?: number; // from $TTL, or the SOA minimum when there was no $TTL
  lastTtl?: number; // last explicit TTL (RFC 1035 §5.1 inheritance)
  warned1035: boolean;
  including: string[]; // resolved paths of the files being read, outermost first
}

/** State private to one file: $ORIGIN and the current owner do not leak out of $INCLUDE. */
interface FileState {
  file: string;
  origin: Name;
  owner?: Name;
  originJustSet: boolean;
}

export function parseZone(text: string, opts: ParseOptions): ParseResult {
  const load: Load = {
    readFile: opts.readFile ?? ((p) => readFileSync(p, 'utf8')),
    records: [],
    problems: [],
    warned1035: false,
    including: [resolve(opts.file)],
  };
  parseText(load, text, { file: opts.file, origin: opts.origin, originJustSet: false });
  return { records: load.records, problems: load.problems };
}

/** Parses the zone file at `path`, or `text` given for it (a saved copy: problems and $INCLUDE still go by `path`). */
export function parseZoneFile(path: string, origin: Name, given?: string): ParseResult {
  let text: string;
  try {
    text = given ?? readFileSync(path, 'utf8');
  } catch (e) {
    const message = `cannot read zone file: ${(e as Error).message}`;
    return { records: [], problems: [{ file: path, line: 0, severity: 'error', message }] };
  }
  return parseZone(text, { file: path, origin });
}

function parseText(load: Load, text: string, st: FileState): void {
  for (const entry of tokenize(text)) {
    try {
      if (entry.error) throw new ParseError(entry.error.message, entry.error.line);
      const first = entry.tokens[0];
      if (!entry.indented && !first.quoted && first.text.startsWith('$')) directive(load, st, entry);
      else record(load, st, entry);
    } catch (e) {
      if (e instanceof ParseError) problem(load, st, e.line, 'error', e.message);
      else if (e instanceof RdataError) problem(load, st, e.line ?? entry.line, 'error', e.message);
      else throw e;
    }
  }
}

function problem(load: Load, st: FileState, line: number, severity: Problem['severity'], message: string): void {
  load.problems.push({ file: st.file, line, severity, message });
}

function nameArg(tok: Token, origin: Name, what: string): Name {
  if (tok.text === '@') return origin;
  try {
    return Name.fromText(tok.text, origin);
  } catch (e) {
    if (!(e instanceof NameError)) throw e;
    throw new ParseError(`bad ${what} "${tok.text}": ${e.message}`, tok.line);
  }
}

function ttlArg(tok: Token, what: string): number {
  const v = tok.quoted ? undefined : parseTtl(tok.text);
  if (v === undefined) throw new ParseError(`bad ${what} "${tok.text}" (seconds or units like 1h30m)`, tok.line);
  if (v > MAX_TTL) throw new ParseError(`${what} ${tok.text} is above ${MAX_TTL} (RFC 2181 §8)`, tok.line);
  return v;
}

function directive(load: Load, st: FileState, e: Entry): void {
  const [cmd, ...args] = e.tokens;
  const name = cmd.text.toUpperCase();
  const arity = (min: number, max: number, usage: string): void => {
    if (args.length < min || args.length > max) throw new ParseError(`${cmd.text} expects ${usage}`, e.line);
  };
  if (name === '$ORIGIN') {
    arity(1, 1, 'one domain name');
    st.origin = nameArg(args[0], st.origin, '$ORIGIN name');
    st.originJustSet = true;
  } else if (name === '$TTL') {
    arity(1, 1, 'one TTL');
    load.defaultTtl = load.lastTtl = ttlArg(args[0], '$TTL');
  } else if (name === '$INCLUDE') {
    arity(1, 2, 'a file name and an optional origin');
    include(load, st, e, args[0], args.length > 1 ? nameArg(args[1], st.origin, '$INCLUDE origin') : undefined);
  } else if (name === '$GENERATE') {
    generate(load, st, e, args);
  } else {
    throw new ParseError(`unknown directive "${cmd.text}"`, e.line);
  }
}

/** A bound on one $GENERATE (BIND has none): a typo in a range should not take the whole memory. */
const MAX_GENERATE = 1_000_000;

/**
 * BIND's `$GENERATE start-stop[/step] lhs [ttl] [class] type rhs`: one record per value, `$` in
 * lhs and rhs replaced by it. Each record is read as if written on the directive's line, so
 * $ORIGIN, $TTL and the default TTL apply as to any record; the current owner is left as it was.
 */
function generate(load: Load, st: FileState, e: Entry, args: Token[]): void {
  if (args.length < 3) throw new ParseError('$GENERATE expects a range, an owner, an optional TTL and class, a type and rdata', e.line);
  const m = args[0].quoted ? null : /^([0-9]+)-([0-9]+)(?:\/([0-9]+))?$/.exec(args[0].text);
  const [start, stop, step] = m ? [Number(m[1]), Number(m[2]), m[3] === undefined ? 1 : Number(m[3])] : [0, -1, 0];
  if (!m || stop < start || step < 1 || stop > MAX_TTL) {
    throw new ParseError(`bad $GENERATE range "${args[0].text}" (start-stop or start-stop/step, start <= stop < 2^31, step >= 1)`, args[0].line);
  }
  if ((stop - start) / step >= MAX_GENERATE) throw new ParseError(`$GENERATE range "${args[0].text}" makes more than ${MAX_GENERATE} records`, args[0].line);
  // Quoted pieces are rdata text (BIND: `MX "10 mail$"`), read again after substitution.
  const templates = args.slice(1).map((t) => t.text);
  const owner = st.owner;
  const originJustSet = st.originJustSet;
  for (let i = start; i <= stop; i += step) {
    const text = templates.map((tpl) => substitute(tpl, i, e.line)).join(' ');
    for (const entry of tokenize(text)) {
      if (entry.error) throw new ParseError(`$GENERATE makes "${text}": ${entry.error.message}`, e.line);
      record(load, st, { line: e.line, indented: false, tokens: entry.tokens.map((t) => ({ ...t, line: e.line })) });
    }
  }
  st.owner = owner;
  st.originJustSet = originJustSet;
}

/** `$` as the value, `${offset[,width[,base]]}` with bases d o x X n N (nibbles, as BIND), `$$` and `\$` as a dollar. */
function substitute(tpl: string, value: number, line: number): string {
  let out = '';
  for (let k = 0; k < tpl.length; k++) {
    const c = tpl[k];
    if (c === '\\') {
      out += tpl.slice(k, k + 2); // escapes pass through to the name or rdata parser
      k++;
    } else if (c !== '$') {
      out += c;
    } else if (tpl[k + 1] === '$') {
      out += '\\$';
      k++;
    } else if (tpl[k + 1] === '{') {
      const end = tpl.indexOf('}', k);
      const mod = end < 0 ? null : /^(-?[0-9]+)(?:,([0-9]+)(?:,([doxXnN]))?)?$/.exec(tpl.slice(k + 2, end));
      if (!mod) throw new ParseError(`bad $GENERATE modifier in "${tpl}" (\${offset[,width[,base]]}, base one of d o x X n N)`, line);
      out += formatValue(value + Number(mod[1]), Number(mod[2] ?? 0), mod[3] ?? 'd');
      k = end;
    } else {
      out += String(value);
    }
  }
  return out;
}

function formatValue(v: number, width: number, base: string): string {
  // An offset below the range start, as BIND writes it: signed in decimal (printf's %0*d, the
  // sign inside the width), else as a 32-bit unsigned number (-4 is fffffffc).
  if (v < 0 && base === 'd') return '-' + String(-v).padStart(width - 1, '0');
  if (v < 0) v >>>= 0;
  if (base === 'n' || base === 'N') {
    // Nibbles from the least significant, dot-separated ("4.3.2.1" for 0x1234), then "." and "0"
    // alternately up to `width` characters, as BIND writes them for reverse zones.
    let s = [...v.toString(16)].reverse().join('.');
    while (s.length < width) s += s.endsWith('.') ? '0' : '.';
    return base === 'N' ? s.toUpperCase() : s;
  }
  const digits = base === 'o' ? v.toString(8) : base === 'x' ? v.toString(16) : base === 'X' ? v.toString(16).toUpperCase() : String(v);
  return digits.padStart(width, '0');
}

/** RFC 1035 §5.1 $INCLUDE; paths are relative to the including file's directory. */
function include(load: Load, st: FileState, e: Entry, fileTok: Token, origin?: Name): void {
  const path = isAbsolute(fileTok.text) ? fileTok.text : join(dirname(st.file), fileTok.text);
  const full = resolve(path);
  if (load.including.includes(full)) {
    throw new ParseError(`$INCLUDE loop: "${path}" is already being read (${load.including.join(' -> ')})`, e.line);
  }
  if (load.including.length > MAX_INCLUDE_DEPTH) {
    throw new ParseError(`$INCLUDE nested more than ${MAX_INCLUDE_DEPTH} levels deep at "${path}"`, e.line);
  }
  let text: string;
  try {
    text = load.readFile(path);
  } catch (err) {
    throw new ParseError(`cannot read $INCLUDE file "${path}": ${(err as Error).message}`, e.line);
  }
  load.including.push(full);
  try {
    // BIND: the included file starts with the includer's current owner; an origin argument counts as $ORIGIN.
    parseText(load, text, { file: path, origin: origin ?? st.origin, owner: st.owner, originJustSet: !!origin });
  } finally {
    load.including.pop();
  }
}

function record(load: Load, st: FileState, e: Entry): void {
  const toks = e.tokens;
  let k = 0;
  if (e.indented) {
    if (!st.owner) throw new ParseError('line starts with whitespace but there is no previous owner to inherit', e.line);
    if (st.originJustSet) {
      const msg = `owner "${st.owner.key}" inherited right after $ORIGIN changed to "${st.origin.key}"; write the owner explicitly`;
      problem(load, st, e.line, 'warning', msg);
    }
  } else {
    st.owner = nameArg(toks[k++], st.origin, 'owner name');
  }
  st.originJustSet = false;
  const owner = st.owner;

  // RFC 1035 §5.1: TTL and class are optional and may come in either order.
  let ttl: number | undefined;
  let sawClass = false;
  for (;;) {
    const t = toks[k];
    if (!t) throw new ParseError(`missing type in record for "${owner.key}"`, toks[k - 1]?.line ?? e.line);
    if (ttl === undefined && /^[0-9]/.test(t.text) && !t.quoted) ttl = ttlArg(t, 'TTL');
    else if (!sawClass && CLASS.test(t.text) && !t.quoted) {
      const cls = t.text.toUpperCase();
      if (cls !== 'IN' && cls !== 'CLASS1') throw new ParseError(`class "${t.text}" is not supported; only IN is served`, t.line);
      sawClass = true;
    } else break;
    k++;
  }
  const typeTok = toks[k];
  const type = typeTok.quoted ? undefined : typeFromText(typeTok.text);
  if (type === undefined) {
    throw new ParseError(`unknown type "${typeTok.text}"; a type not known here can be written in RFC 3597 form: TYPEnnn \\# length hex`, typeTok.line);
  }
  const rdata = parseRdata(type, toks.slice(k + 1), st.origin);

  if (ttl !== undefined) load.lastTtl = ttl;
  else ttl = defaultTtl(load, st, e, type, rdata.wire);
  load.records.push({ owner, type, ttl, rdata, file: st.file, line: e.line });
}

/** A record without a TTL: $TTL, else RFC 1035's last explicit TTL, else the SOA minimum (BIND). */
function defaultTtl(load: Load, st: FileState, e: Entry, type: number, wire: Buffer): number {
  if (load.defaultTtl !== undefined) return load.defaultTtl;
  if (load.lastTtl !== undefined) {
    if (!load.warned1035) {
      load.warned1035 = true;
      const msg = `no TTL and no $TTL: using the previous record's TTL ${load.lastTtl} (RFC 1035); add a $TTL directive`;
      problem(load, st, e.line, 'warning', msg);
    }
    return load.lastTtl;
  }
  if (type === T.SOA) {
    const min = wire.readUInt32BE(wire.length - 4);
    if (min > MAX_TTL) throw new ParseError(`no TTL and no $TTL, and the SOA minimum ${min} is above ${MAX_TTL}`, e.line);
    problem(load, st, e.line, 'warning', `no TTL and no $TTL: using the SOA minimum ${min} as the default TTL; add a $TTL directive`);
    load.defaultTtl = min;
    return min;
  }
  throw new ParseError('no TTL given and no $TTL or earlier TTL to inherit; add a $TTL directive', e.line);
}
