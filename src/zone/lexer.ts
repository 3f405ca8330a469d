/**
 * Master-file tokenizer (RFC 1035 §5.1). Splits text into entries, one per record or
 * directive, where parentheses join physical lines; drops comments and whitespace.
 * Token text keeps its escapes as written: names and strings decode them per field.
 */
import type { Token } from '../wire/rdata.js';

export interface Entry {
  /** Line on which the entry starts. */
  readonly line: number;
  /** The entry starts with whitespace: the owner is omitted (RFC 1035 §5.1). */
  readonly indented: boolean;
  readonly tokens: Token[];
  /** Set when the entry is malformed (quotes, parentheses); its tokens are then unreliable. */
  readonly error?: { line: number; message: string };
}

const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\r';
/** Characters that end an unquoted word (RFC 1035 §5.1). */
const isDelimiter = (c: string): boolean =>
  isSpace(c) || c === '\n' || c === ';' || c === '(' || c === ')' || c === '"';

/** Entries one at a time: a zone of a million records is never held as tokens all at once. */
export function* tokenize(text: string): Generator<Entry> {
  const entries: Entry[] = []; // finished, not yet handed out (at most one or two)
  let tokens: Token[] = [];
  let start = 1;
  let indented = false;
  let error: Entry['error'];
  let line = 1;
  let depth = 0; // open parentheses
  let parenLine = 0; // line of the outermost open parenthesis
  let atLineStart = true;

  const finish = (): void => {
    if (tokens.length > 0 || error) entries.push({ line: start, indented, tokens, error });
    tokens = [];
    error = undefined;
  };
  const fail = (at: number, message: string): void => {
    error ??= { line: at, message };
  };

  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // skip a byte-order mark
  while (i < text.length) {
    if (entries.length > 0) {
      yield* entries;
      entries.length = 0;
    }
    const c = text[i];
    if (atLineStart) {
      atLineStart = false;
      if (depth === 0) {
        start = line;
        indented = c === ' ' || c === '\t';
      }
    }
    if (c === '\n') {
      line++;
      i++;
      atLineStart = true;
      if (depth === 0) finish();
    } else if (isSpace(c)) {
      i++;
    } else if (c === ';') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '(') {
      if (depth++ === 0) parenLine = line;
      i++;
    } else if (c === ')') {
      if (depth === 0) fail(line, `unbalanced parenthesis: ")" without a matching "("`);
      else depth--;
      i++;
    } else if (c === '"') {
      const from = ++i;
      const at = line;
      while (i < text.length && text[i] !== '"' && text[i] !== '\n') {
        if (text[i] === '\\' && i + 1 < text.length) {
          if (text[i + 1] === '\n') line++; // an escaped newline belongs to the string
          i++;
        }
        i++;
      }
      tokens.push({ text: text.slice(from, i), quoted: true, line: at });
      if (text[i] === '"') i++;
      else fail(at, 'unterminated quoted string (a string cannot span lines)');
    } else {
      const from = i;
      while (i < text.length && !isDelimiter(text[i])) {
        // An escape takes the next character, but not a newline (BIND: a syntax error).
        if (text[i] === '\\' && i + 1 < text.length && text[i + 1] !== '\n') i++;
        i++;
      }
      tokens.push({ text: text.slice(from, i), quoted: false, line });
    }
  }
  if (depth > 0) {
    error = { line: parenLine, message: `unbalanced parenthesis opened on line ${parenLine}` };
  }
  finish();
  yield* entries;
}
