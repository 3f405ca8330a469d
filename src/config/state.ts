/**
 * The state directory (`--state-dir`): what steerdns keeps across restarts — runtime
 * overrides, last known health, last good copies of the configuration files, and later
 * journals and transferred zones. Every write is atomic (a temporary file, fsync, rename,
 * fsync of the directory), so a crash leaves the old file or the new one, never a mix. A file
 * that is unreadable, corrupt or not ours is reported and ignored: state helps, it never
 * stops the server.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** What every JSON state file carries beside its data, so that a foreign or older file is recognised. */
interface Envelope {
  readonly steerdns: string;
  readonly written: string;
  readonly data: unknown;
}

/** A state file read: its value and when it was written, or a problem, or neither (no file). */
export interface StateRead<T> {
  readonly value?: T;
  readonly written?: Date;
  readonly problem?: string;
}

export class StateDir {
  constructor(readonly path: string) {}

  /** Makes the directory (owner only) if it is missing; the error says what to fix. */
  ensure(sub = ''): void {
    try {
      mkdirSync(join(this.path, sub), { recursive: true, mode: 0o700 });
    } catch (e) {
      throw new Error(`state directory ${this.path}: ${(e as NodeJS.ErrnoException).code === 'EACCES' ? 'permission denied' : (e as Error).message} (--state-dir)`);
    }
  }

  file(name: string): string {
    return join(this.path, name);
  }

  /** Writes `bytes` to `name` atomically and durably. */
  writeBytes(name: string, bytes: Buffer | string): void {
    const target = this.file(name);
    mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
    const temp = `${target}.${process.pid}.tmp`;
    const fd = openSync(temp, 'w', 0o600);
    try {
      const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
      for (let at = 0; at < data.length; ) at += writeSync(fd, data, at);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      renameSync(temp, target);
    } catch (e) {
      rmSync(temp, { force: true });
      throw e;
    }
    syncDirectory(dirname(target));
  }

  /** The bytes of `name`, or undefined when there is no such file. */
  readBytes(name: string): Buffer | undefined {
    try {
      return readFileSync(this.file(name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  /** Writes `data` as JSON state of `kind` (e.g. `overrides/1`). */
  writeJson(name: string, kind: string, data: unknown): void {
    const envelope: Envelope = { steerdns: kind, written: new Date().toISOString(), data };
    this.writeBytes(name, JSON.stringify(envelope, null, 1) + '\n');
  }

  /**
   * Reads JSON state of `kind`: its data as `check` accepts it, or a problem (unreadable,
   * not JSON, another kind, data `check` refuses). No file is neither.
   */
  readJson<T>(name: string, kind: string, check: (data: unknown) => T | undefined): StateRead<T> {
    const where = this.file(name);
    let bytes: Buffer | undefined;
    try {
      bytes = this.readBytes(name);
    } catch (e) {
      return { problem: `${where}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); ignored` };
    }
    if (bytes === undefined) return {};
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString('utf8'));
    } catch {
      return { problem: `${where}: not valid JSON (a damaged file?); ignored` };
    }
    const e = parsed as Partial<Envelope> | null;
    if (typeof e !== 'object' || e === null || typeof e.steerdns !== 'string') return { problem: `${where}: not a steerdns state file; ignored` };
    if (e.steerdns !== kind) return { problem: `${where}: holds "${e.steerdns}", expected "${kind}"; ignored` };
    const value = check(e.data);
    const written = new Date(typeof e.written === 'string' ? e.written : NaN);
    if (value === undefined || Number.isNaN(written.getTime())) return { problem: `${where}: its contents are not what "${kind}" holds; ignored` };
    return { value, written };
  }
}

/** fsync of a directory makes a rename in it durable (POSIX); where that is not possible, the rename still happened. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a directory; nothing more can be done there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
