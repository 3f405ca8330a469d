/**
 * The compose demo's unbound.conf, read and rewritten by the tests: values of `key: value`
 * lines, and the same file with chosen keys replaced, so what the suite runs is what ships.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const UNBOUND_CONF = fileURLToPath(new URL('../../deploy/compose/unbound/unbound.conf', import.meta.url));

const line = (key: string) => new RegExp(`^(\\s*)${key}:[ \\t]*(.*?)[ \\t]*$`, 'gm');

/** The values of every `key:` line, quotes removed. */
export function confValues(text: string, key: string): string[] {
  return [...text.matchAll(line(key))].map((m) => m[2].replace(/^"(.*)"$/, '$1'));
}

/** `text` with the value of each key replaced; every key must be on exactly one line. */
export function withValues(text: string, values: Record<string, string>): string {
  let out = text;
  for (const [key, value] of Object.entries(values)) {
    const count = confValues(out, key).length;
    if (count !== 1) throw new Error(`${UNBOUND_CONF}: expected one "${key}:" line, found ${count}`);
    out = out.replace(line(key), (_m, indent: string) => `${indent}${key}: ${value}`);
  }
  return out;
}

export function shippedConf(): string {
  return readFileSync(UNBOUND_CONF, 'utf8');
}
