/**
 * The small CSV dialect of the shipped data tables: `#` starts a comment (whole line or after
 * a row), blank lines are skipped, the first row is a fixed header, every row has as many
 * comma-separated columns as the header. Problems throw `fail(message)` naming file and line.
 */
export interface CsvRow {
  readonly cols: readonly string[];
  /** 1-based line number. */
  readonly line: number;
  /** "file:line", for messages. */
  readonly at: string;
}

export function csvRows(text: string, file: string, header: string, fail: (message: string) => Error): CsvRow[] {
  const columns = header.split(',').length;
  const rows: CsvRow[] = [];
  let sawHeader = false;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const hash = lines[i].indexOf('#');
    const line = (hash < 0 ? lines[i] : lines[i].slice(0, hash)).trim();
    const at = `${file}:${i + 1}`;
    if (line === '') continue;
    if (!sawHeader) {
      if (line.replace(/\s/g, '') !== header) throw fail(`${at}: expected the header "${header}"`);
      sawHeader = true;
      continue;
    }
    const cols = line.split(',').map((c) => c.trim());
    if (cols.length !== columns) throw fail(`${at}: expected ${columns} columns (${header}), got ${cols.length}`);
    rows.push({ cols, line: i + 1, at });
  }
  if (!sawHeader) throw fail(`${file}: no header line "${header}"`);
  return rows;
}
