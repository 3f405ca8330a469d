/**
 * What loading a file found wrong: a value with the file, the line and a message a person can
 * act on. Errors make what the file describes unservable; warnings do not.
 */
export interface Problem {
  readonly file: string;
  readonly line: number;
  readonly severity: 'error' | 'warning';
  readonly message: string;
}

export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}: ${p.severity}: ${p.message}`;
}
