/**
 * The configuration file (`--config FILE`, YAML): every command-line option under its long
 * name (`listen: ["0.0.0.0:53"]`, `tcp-idle-timeout: 10`). The command line wins over the
 * file, the file over the defaults. Unknown keys, and values of the wrong kind, are problems
 * naming the file and line; a value's meaning is checked where the option is read, and its
 * message then names the file and line too (`Settings.where`).
 */
import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { Problem } from './problem.js';
import { UsageError } from './usage.js';
import { FileScope, type Field } from './yaml.js';

/** An option as node's parseArgs declares it. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  readonly short?: string;
}

export type OptionValue = string | boolean | string[];
export type OptionValues = Record<string, OptionValue | undefined>;

/** What the file set, with the line of each key. */
export interface ConfigFile {
  readonly path: string;
  readonly values: OptionValues;
  readonly lines: ReadonlyMap<string, number>;
  /** The sections (structured settings that are no command-line option), as their readers made them. */
  readonly sections: ReadonlyMap<string, unknown>;
}

/** A section of the file that is not a command-line option (`tsig-keys`, `zone-options`): its reader reports problems on the field. */
export type SectionReader = (f: Field) => unknown;

/**
 * Reads `path` against `options` (the command line's, less those that make no sense in a
 * file). Problems are errors: a file with any is not used.
 */
export function readConfigFile(path: string, options: Readonly<Record<string, OptionSpec>>, sections: Readonly<Record<string, SectionReader>> = {}): { file?: ConfigFile; problems: Problem[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return { problems: [{ file: path, line: 0, severity: 'error', message: `cannot read the configuration file: ${(e as Error).message}` }] };
  }
  return parseConfigFile(text, path, options, sections);
}

export function parseConfigFile(text: string, path: string, options: Readonly<Record<string, OptionSpec>>, sections: Readonly<Record<string, SectionReader>> = {}): { file?: ConfigFile; problems: Problem[] } {
  const problems: Problem[] = [];
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: false });
  const lineOf = (node: Node | null | undefined): number => (node?.range ? lines.linePos(node.range[0]).line : 1);
  const error = (line: number, message: string) => problems.push({ file: path, line, severity: 'error', message });
  for (const e of doc.errors) error(e.linePos?.[0].line ?? 1, `YAML: ${e.message.split('\n')[0]}`);
  if (problems.length > 0) return { problems };
  const values: OptionValues = {};
  const keyLines = new Map<string, number>();
  const seen = new Map<string, number>();
  const read = new Map<string, unknown>();
  const scope = new FileScope(path, doc, lines, problems);
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) return { file: { path, values, lines: keyLines, sections: read }, problems };
  if (!isMap(doc.contents)) {
    error(lineOf(doc.contents), 'the configuration file must be a mapping of option names to values (listen: ["127.0.0.1:5300"])');
    return { problems };
  }
  for (const pair of doc.contents.items) {
    const keyNode = pair.key as Node | null;
    const key = isScalar(keyNode) ? String(keyNode.value) : undefined;
    const line = lineOf(keyNode);
    if (key === undefined) {
      error(line, 'keys must be option names');
      continue;
    }
    const earlier = keyLines.get(key) ?? seen.get(key);
    if (earlier !== undefined) {
      error(line, `"${key}" is set twice (first at line ${earlier})`);
      continue;
    }
    seen.set(key, line);
    const section = sections[key];
    if (section) {
      const value = section(scope.field(pair.value, key, line, true));
      if (value !== undefined) read.set(key, value);
      continue;
    }
    const spec = options[key];
    if (!spec) {
      const near = [...Object.keys(options), ...Object.keys(sections)].find((k) => k.replace(/-/g, '') === key.replace(/[-_]/g, '').toLowerCase());
      error(line, `unknown option "${key}"${near ? ` (did you mean "${near}"?)` : ''}`);
      continue;
    }
    const value = readValue(pair.value as Node | null, spec);
    if (typeof value === 'string' && value.startsWith('\0')) {
      error(lineOf((pair.value as Node | null) ?? keyNode), `${key}: ${value.slice(1)}`);
      continue;
    }
    values[key] = value;
    keyLines.set(key, line);
  }
  return problems.some((p) => p.severity === 'error') ? { problems } : { file: { path, values, lines: keyLines, sections: read }, problems };
}

/** The value as the command line would give it; a string starting with NUL is an error message. */
function readValue(node: Node | null, spec: OptionSpec): OptionValue {
  const scalar = (n: Node | null): string | boolean => {
    if (!isScalar(n)) return '\0expected a single value, not a mapping or list';
    const v = n.value;
    if (spec.type === 'boolean') return typeof v === 'boolean' ? v : '\0expected true or false';
    if (v === null) return '\0a value is missing';
    if (typeof v === 'string' || typeof v === 'number') return String(v);
    return '\0expected text or a number';
  };
  if (spec.multiple) {
    const items = isSeq(node) ? (node.items as Node[]) : [node];
    const out: string[] = [];
    for (const item of items) {
      const v = scalar(item);
      if (typeof v !== 'string' || v.startsWith('\0')) return '\0expected text or a number, or a list of them';
      out.push(v);
    }
    return out;
  }
  return scalar(node);
}

/**
 * The options in force: the command line, then the file, then the defaults. `where(name)`
 * says where a value came from, to begin a message about it.
 */
export class Settings {
  constructor(
    private readonly cli: OptionValues,
    private readonly file: ConfigFile | undefined,
    private readonly defaults: OptionValues,
  ) {}

  get(name: string): OptionValue | undefined {
    return this.cli[name] ?? this.file?.values[name] ?? this.defaults[name];
  }

  string(name: string): string | undefined {
    const v = this.get(name);
    return typeof v === 'string' ? v : undefined;
  }

  strings(name: string): string[] | undefined {
    const v = this.get(name);
    return Array.isArray(v) ? v : undefined;
  }

  flag(name: string): boolean {
    return this.get(name) === true;
  }

  /** `--name` when given on the command line (or by default), `FILE:LINE: name` when set in the file. */
  where(name: string): string {
    if (this.cli[name] === undefined && this.file?.values[name] !== undefined) return `${this.file.path}:${this.file.lines.get(name)}: ${name}`;
    return `--${name}`;
  }

  /** `parse(value)`, with the file and line put before the message of a UsageError it throws when the value came from the file. */
  read<T>(name: string, parse: () => T): T {
    try {
      return parse();
    } catch (e) {
      const where = this.where(name);
      if (e instanceof UsageError && !where.startsWith('--')) throw new UsageError(`${where.slice(0, where.lastIndexOf(': '))}: ${e.message}`);
      throw e;
    }
  }

  /** A UsageError about option `name`: `--name "value": message`, or with the file and line. */
  error(name: string, message: string): UsageError {
    const v = this.get(name);
    const shown = v === undefined || typeof v === 'boolean' ? '' : ` "${Array.isArray(v) ? v.join(',') : v}"`;
    return new UsageError(`${this.where(name)}${shown}: ${message}`);
  }
}
