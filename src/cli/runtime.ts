/**
 * The Node.js versions steerdns supports: the LTS lines 22 and 24. An older one (20 reached its
 * end of life in April 2026) still runs it, with one warning at start.
 */

/** Supported release lines, for messages. */
export const SUPPORTED_NODE = 'Node.js 22 or 24 LTS';

/** The oldest supported major version. */
const OLDEST_SUPPORTED_MAJOR = 22;

/** The start-up warning for a Node.js out of support; undefined on a supported one. */
export function runtimeWarning(version: string = process.versions.node): string | undefined {
  const major = Number(version.split('.')[0]);
  if (major >= OLDEST_SUPPORTED_MAJOR) return undefined;
  return `Node.js ${major} is past its end of life and out of support: run steerdns on ${SUPPORTED_NODE}`;
}
