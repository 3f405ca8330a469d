/**
 * TSIG keys (RFC 8945) from the configuration file (`tsig-keys: [{name, algorithm, secret}]`)
 * and from key files in BIND's syntax, as `tsig-keygen` and `dnssec-keygen` write them
 * (`tsig-key-files: [FILE]`), so that one file serves `nsupdate -k`, `dig -k`, Knot, BIND and
 * steerdns. hmac-sha256 is the default; hmac-md5 is accepted for old clients, with a warning.
 */
import { readFileSync } from 'node:fs';
import { Name, NameError } from '../wire/name.js';
import { TSIG_ALGORITHMS, type Keyring, type TsigKey } from '../wire/tsig.js';
import type { Problem } from './problem.js';
import { list, obj, str, type Field } from './yaml.js';

/** A key as written, with where it was written. */
export interface KeySpec {
  readonly name: string;
  readonly algorithm: string;
  readonly secret: string;
  readonly file: string;
  readonly line: number;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Checks the specs and makes the keyring; every mistake is a problem naming the file and line. */
export function keyringOf(specs: readonly KeySpec[], problems: Problem[]): Map<string, TsigKey> {
  const keys = new Map<string, TsigKey>();
  const where = new Map<string, string>();
  for (const s of specs) {
    const error = (message: string) => problems.push({ file: s.file, line: s.line, severity: 'error', message: `TSIG key "${s.name}": ${message}` });
    let name: Name;
    try {
      name = Name.fromText(s.name.endsWith('.') ? s.name : `${s.name}.`);
    } catch (e) {
      if (!(e instanceof NameError)) throw e;
      error(`not a domain name: ${e.message}`);
      continue;
    }
    const algorithm = TSIG_ALGORITHMS.get(s.algorithm.toLowerCase().replace(/\.$/, '').replace(/\.sig-alg\.reg\.int$/, ''));
    if (!algorithm) {
      error(`unknown algorithm "${s.algorithm}": use hmac-sha256 (or hmac-sha384, hmac-sha512, hmac-sha224, hmac-sha1, hmac-md5)`);
      continue;
    }
    const compact = s.secret.replace(/\s+/g, '');
    if (!BASE64.test(compact) || compact.length % 4 !== 0) {
      error('the secret is not base64 (tsig-keygen writes one)');
      continue;
    }
    const secret = Buffer.from(compact, 'base64');
    if (secret.length === 0) {
      error('the secret is empty');
      continue;
    }
    const earlier = where.get(name.key);
    if (earlier) {
      error(`defined again (first at ${earlier})`);
      continue;
    }
    where.set(name.key, `${s.file}:${s.line}`);
    if (algorithm.hash === 'md5') problems.push({ file: s.file, line: s.line, severity: 'warning', message: `TSIG key "${s.name}": hmac-md5 is accepted for old clients, but RFC 8945 says it MUST NOT be used: move this client to hmac-sha256` });
    keys.set(name.key, { name, algorithm, secret });
  }
  return keys;
}

/** `tsig-keys:` in the configuration file: a list of {name, algorithm, secret}. */
export function readKeySpecs(f: Field): KeySpec[] | undefined {
  const items = list(f);
  if (!items) return undefined;
  const out: KeySpec[] = [];
  for (const item of items) {
    const o = obj(item);
    if (!o) continue;
    o.checkFields(['name', 'algorithm', 'secret']);
    const nameField = o.required('name');
    const secretField = o.required('secret');
    const name = nameField && str(nameField);
    const secret = secretField && str(secretField);
    const algorithmField = o.get('algorithm');
    const algorithm = algorithmField ? str(algorithmField) : 'hmac-sha256';
    if (name === undefined || secret === undefined || algorithm === undefined) continue;
    out.push({ name, algorithm, secret, file: item.file, line: item.line });
  }
  return out;
}

/** Reads BIND-syntax key files: `key "name" { algorithm hmac-sha256; secret "base64"; };`, any number. */
export function readKeyFiles(files: readonly string[], problems: Problem[]): KeySpec[] {
  const out: KeySpec[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      problems.push({ file, line: 0, severity: 'error', message: `cannot read the TSIG key file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
      continue;
    }
    out.push(...parseKeyFile(text, file, problems));
  }
  return out;
}

interface Token {
  readonly text: string;
  readonly quoted: boolean;
  readonly line: number;
}

/** BIND's named.conf tokens: words, quoted strings, braces and semicolons; comments (# // and C style) dropped. */
function tokens(text: string): Token[] {
  const out: Token[] = [];
  let line = 1;
  for (let i = 0; i < text.length; ) {
    const c = text[i];
    if (c === '\n') {
      line++;
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (c === '#' || (c === '/' && text[i + 1] === '/')) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      for (let j = i; j < stop; j++) if (text[j] === '\n') line++;
      i = stop;
    } else if (c === '"') {
      const end = text.indexOf('"', i + 1);
      const stop = end < 0 ? text.length : end;
      out.push({ text: text.slice(i + 1, stop), quoted: true, line });
      i = stop + 1;
    } else if (c === '{' || c === '}' || c === ';') {
      out.push({ text: c, quoted: false, line });
      i++;
    } else {
      let j = i;
      while (j < text.length && !/[\s{};"#]/.test(text[j])) j++;
      out.push({ text: text.slice(i, j), quoted: false, line });
      i = j;
    }
  }
  return out;
}

export function parseKeyFile(text: string, file: string, problems: Problem[]): KeySpec[] {
  const toks = tokens(text);
  const out: KeySpec[] = [];
  const error = (line: number, message: string) => problems.push({ file, line, severity: 'error', message });
  let i = 0;
  const expect = (what: string): boolean => {
    if (toks[i]?.text === what && !toks[i].quoted) {
      i++;
      return true;
    }
    error(toks[i]?.line ?? toks.at(-1)?.line ?? 1, `expected "${what}"${toks[i] ? `, found "${toks[i].text}"` : ' before the end of the file'}`);
    return false;
  };
  while (i < toks.length) {
    const start = toks[i];
    if (start.text !== 'key') {
      error(start.line, `expected a key statement (key "name" { algorithm ...; secret "..."; };), found "${start.text}"`);
      return out;
    }
    const name = toks[i + 1];
    if (!name || name.text === '{') {
      error(start.line, 'a key needs a name: key "name" { ... };');
      return out;
    }
    i += 2;
    if (!expect('{')) return out;
    let algorithm: string | undefined;
    let secret: string | undefined;
    while (i < toks.length && toks[i].text !== '}') {
      const clause = toks[i];
      const value = toks[i + 1];
      if (!value || value.text === ';') {
        error(clause.line, `"${clause.text}" needs a value`);
        return out;
      }
      if (clause.text === 'algorithm') algorithm = value.text;
      else if (clause.text === 'secret') secret = value.text;
      else error(clause.line, `unknown clause "${clause.text}" in key "${name.text}" (only algorithm and secret)`);
      i += 2;
      if (!expect(';')) return out;
    }
    if (!expect('}') || !expect(';')) return out;
    if (algorithm === undefined) error(start.line, `key "${name.text}" has no algorithm`);
    if (secret === undefined) error(start.line, `key "${name.text}" has no secret`);
    if (algorithm !== undefined && secret !== undefined) out.push({ name: name.text, algorithm, secret, file, line: start.line });
  }
  return out;
}

/** The keyring of a configuration: its `tsig-keys` and the keys of its `tsig-key-files`. */
export function loadKeyring(specs: readonly KeySpec[], files: readonly string[], problems: Problem[]): Keyring {
  return keyringOf([...specs, ...readKeyFiles(files, problems)], problems);
}
