/**
 * Reading typed values out of a parsed YAML document, for every YAML file we read (`*.lb.yaml`,
 * geo overrides). Every value is a `Field`: a node with its field path
 * (`pools[1].origins[0].weight`) and 1-based line, so each problem names what is wrong and where. Readers report a problem and return undefined on
 * a wrong type or value; the caller drops the object when its error count went up.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Scalar, type YAMLMap, type YAMLSeq } from 'yaml';
import type { Problem } from './problem.js';

/** Where something was written: for messages that point back at the configuration. */
export interface At {
  readonly file: string;
  readonly path: string;
  readonly line: number;
}

/** Problems of one file, counting errors so a reader can tell whether its object failed. */
export class FileScope {
  errors = 0;

  constructor(
    readonly file: string,
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
    private readonly problems: Problem[],
  ) {}

  lineAt(offset: number): number {
    return this.lines.linePos(offset).line;
  }

  error(at: At, message: string): void {
    this.errors++;
    this.problems.push({ file: this.file, line: at.line, severity: 'error', message: `${at.path}: ${message}` });
  }

  warn(at: At, message: string): void {
    this.problems.push({ file: this.file, line: at.line, severity: 'warning', message: `${at.path}: ${message}` });
  }

  /**
   * A field for `node` (a value from the document, aliases followed). `line` is used when the
   * node has no position, or always when `keepLine` (a mapping value is reported on its key's
   * line, even when it is a block list or mapping starting below).
   */
  field(node: unknown, path: string, line: number, keepLine = false): Field {
    let at = line;
    if (isAlias(node)) {
      if (node.range && !keepLine) at = this.lineAt(node.range[0]);
      const target = node.resolve(this.doc);
      if (!target) {
        this.error({ file: this.file, path, line: at }, `unknown alias *${node.source}`);
        return new Field(this, null, path, at);
      }
      return new Field(this, target, path, at);
    }
    if (isScalar(node) || isMap(node) || isSeq(node)) {
      if (node.range && !keepLine) at = this.lineAt(node.range[0]);
      return new Field(this, node, path, at);
    }
    return new Field(this, null, path, at);
  }
}

type ValueNode = Scalar | YAMLMap | YAMLSeq;

/** One value in the document with its path and line; `node` is null for a missing value. */
export class Field implements At {
  constructor(
    readonly scope: FileScope,
    readonly node: ValueNode | null,
    readonly path: string,
    readonly line: number,
  ) {}

  get file(): string {
    return this.scope.file;
  }

  /** True for `~`, `null` or nothing after the colon: treated as "not given". */
  get isNull(): boolean {
    return this.node === null || (isScalar(this.node) && this.node.value === null);
  }

  /** The scalar's value, or undefined for a mapping or list. */
  get scalar(): unknown {
    return isScalar(this.node) ? this.node.value : undefined;
  }

  error(message: string): undefined {
    this.scope.error(this, message);
    return undefined;
  }

  warn(message: string): void {
    this.scope.warn(this, message);
  }
}

/** "got ..." text for messages: the value as the user would recognise it. */
export function describe(f: Field): string {
  if (f.isNull) return 'null';
  if (isMap(f.node)) return 'a mapping';
  if (isSeq(f.node)) return 'a list';
  const v = f.scalar;
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  if (typeof v === 'number') return Number.isNaN(v) ? '.nan' : String(v);
  return String(v);
}

/** `path.key`, or `path["odd key"]` when the key is not a plain word. */
export function childPath(path: string, key: string): string {
  const sep = path === '' ? '' : '.';
  return /^[A-Za-z0-9_-]+$/.test(key) ? `${path}${sep}${key}` : `${path}[${JSON.stringify(key)}]`;
}

export function str(f: Field): string | undefined {
  const v = f.scalar;
  if (typeof v !== 'string') return f.error(`must be a string, got ${describe(f)}`);
  return v;
}

export function bool(f: Field): boolean | undefined {
  const v = f.scalar;
  if (typeof v !== 'boolean') return f.error(`must be true or false, got ${describe(f)}`);
  return v;
}

/** A number in [min, max]; `integer` rejects fractions. Strings that look like numbers are errors. */
export function num(f: Field, min: number, max: number, integer: boolean): number | undefined {
  const v = f.scalar;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    const kind = integer ? 'an integer' : 'a number';
    const range = max === Infinity ? `${kind} of at least ${min}` : `${kind} from ${min} to ${max}`;
    return f.error(`must be ${range}, got ${describe(f)}`);
  }
  return v;
}

export function oneOf<T extends string>(f: Field, values: readonly T[]): T | undefined {
  const v = f.scalar;
  if (typeof v === 'string' && (values as readonly string[]).includes(v)) return v as T;
  const shown = values.map((x) => JSON.stringify(x)).join(', ');
  return f.error(`must be one of ${shown}, got ${describe(f)}`);
}

/** The items of a list as fields `path[i]`. */
export function list(f: Field): Field[] | undefined {
  if (!isSeq(f.node)) return f.error(`must be a list, got ${describe(f)}`);
  return f.node.items.map((item, i) => f.scope.field(item, `${f.path}[${i}]`, f.line));
}

/** A mapping read as an object with a fixed set of field names. */
export function obj(f: Field): Obj | undefined {
  if (!isMap(f.node)) return f.error(`must be a mapping, got ${describe(f)}`);
  return new Obj(f);
}

/** The entries of a mapping whose keys are data (region codes, pool names, header names). */
export interface Entry {
  readonly key: string;
  readonly keyAt: At;
  readonly value: Field;
}

/** Entries of a mapping with string keys; other keys are reported. */
export function entries(f: Field): Entry[] | undefined {
  if (!isMap(f.node)) return f.error(`must be a mapping, got ${describe(f)}`);
  const out: Entry[] = [];
  for (const pair of f.node.items) {
    const keyField = f.scope.field(pair.key, f.path, f.line);
    const k = keyField.scalar;
    if (typeof k !== 'string' && typeof k !== 'number') {
      keyField.error(`keys must be plain strings, got ${describe(keyField)}`);
      continue;
    }
    const key = String(k);
    const path = childPath(f.path, key);
    out.push({ key, keyAt: { file: f.file, path, line: keyField.line }, value: f.scope.field(pair.value, path, keyField.line, true) });
  }
  return out;
}

/**
 * A configuration object: `get` returns a field (undefined when absent or null) and
 * `checkFields` reports every key not in the object's list of fields.
 */
export class Obj {
  private readonly byKey = new Map<string, Entry>();

  constructor(readonly self: Field) {
    for (const e of entries(self) ?? []) this.byKey.set(e.key, e);
  }

  get path(): string {
    return this.self.path;
  }

  /** The value of `key`; undefined when the key is absent or its value is null. */
  get(key: string): Field | undefined {
    const e = this.byKey.get(key);
    return e && !e.value.isNull ? e.value : undefined;
  }

  /** True when `key` is present, even with a null value. */
  present(key: string): boolean {
    return this.byKey.has(key);
  }

  /** The value of a required field, or an error on the object. */
  required(key: string): Field | undefined {
    const f = this.get(key);
    if (!f) this.self.scope.error({ file: this.self.file, path: childPath(this.path, key), line: this.self.line }, 'required');
    return f;
  }

  checkFields(known: readonly string[]): void {
    for (const e of this.byKey.values()) {
      if (known.includes(e.key)) continue;
      const near = known.find((k) => editDistance(k, e.key) <= 2);
      this.self.scope.error(e.keyAt, near ? `unknown field (did you mean "${near}"?)` : 'unknown field');
    }
  }
}

/** Reads an optional field: `def` when absent or null, or when the value is wrong (already reported). */
export function opt<T>(o: Obj, key: string, read: (f: Field) => T | undefined, def: T): T {
  const f = o.get(key);
  if (!f) return def;
  return read(f) ?? def;
}

/** Levenshtein distance, for "did you mean" hints on short names. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/**
 * True when a value carries no setting (null, false, "", "none", 0, an empty list or a mapping
 * of such values): exported API objects carry proxied-only fields at these defaults, and they
 * deserve no warning. `budget` bounds the walk through aliases.
 */
export function isInert(f: Field, budget = { left: 1000 }): boolean {
  if (--budget.left < 0) return false;
  if (f.isNull) return true;
  if (isSeq(f.node)) return f.node.items.length === 0;
  if (isMap(f.node)) return f.node.items.every((p) => isInert(f.scope.field(p.value, f.path, f.line), budget));
  const v = f.scalar;
  return v === false || v === '' || v === 'none' || v === 0;
}

export interface ParsedObject<T> {
  /** The object's name when it could be read, even if the object has other errors. */
  readonly name?: string;
  readonly field: Field;
  /** Undefined when the object has errors. */
  readonly value?: T;
}

/** A reference to another object by name, remembering where it was written. */
export interface Ref extends At {
  readonly name: string;
}

export function ref(f: Field): Ref | undefined {
  const name = str(f);
  if (name === undefined) return undefined;
  if (name === '') return f.error('must not be empty');
  return { file: f.file, path: f.path, line: f.line, name };
}

/** Cloudflare's pool name syntax, which we use for monitor names too. */
const OBJECT_NAME = /^[-_a-zA-Z0-9]+$/;

/** The required `name` of a monitor or pool. */
export function objectName(o: Obj): string | undefined {
  const f = o.required('name');
  if (!f) return undefined;
  const name = str(f);
  if (name === undefined) return undefined;
  if (!OBJECT_NAME.test(name)) return f.error(`must be letters, digits, "-" and "_" only, got ${JSON.stringify(name)}`);
  return name;
}

/** Read-only fields of API objects: accepted and ignored, so exported objects load as they are. */
export const READ_ONLY_FIELDS = ['id', 'created_on', 'modified_on'] as const;

/** Proxied-only and account-level fields: a warning when set to anything but an inert value. */
export function noEffect(o: Obj, keys: readonly string[], why: string): void {
  for (const key of keys) {
    const f = o.get(key);
    if (f && !isInert(f)) f.warn(`has no effect: ${why}`);
  }
}

/** Header maps `{Name: [values]}`; a single string value is taken as a one-element list. */
export function headerMap(f: Field, only?: string): Record<string, readonly string[]> | undefined {
  const es = entries(f);
  if (!es) return undefined;
  const out: Record<string, readonly string[]> = {};
  let ok = true;
  for (const e of es) {
    let name = e.key;
    if (only !== undefined) {
      if (name.toLowerCase() !== only.toLowerCase()) {
        f.scope.error(e.keyAt, `only the ${only} header can be set here`);
        ok = false;
        continue;
      }
      name = only;
    } else if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      f.scope.error(e.keyAt, 'is not a valid HTTP header name');
      ok = false;
      continue;
    }
    const values = headerValues(e.value);
    if (values === undefined) ok = false;
    else out[name] = values;
  }
  return ok ? Object.freeze(out) : undefined;
}

function headerValues(f: Field): readonly string[] | undefined {
  if (typeof f.scalar === 'string') return Object.freeze([f.scalar]);
  const items = isSeq(f.node) ? list(f) : undefined;
  if (!items || items.length === 0 || items.some((i) => typeof i.scalar !== 'string')) {
    return f.error(`must be a string or a non-empty list of strings, got ${describe(f)}`);
  }
  return Object.freeze(items.map((i) => i.scalar as string));
}
