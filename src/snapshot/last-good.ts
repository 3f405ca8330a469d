/**
 * Last good copies of the configuration files, in the state directory (`last-good/`): each file
 * that loaded without errors is saved as it was read, so that a restart with a broken file
 * serves the version that last worked instead of leaving its zone or load balancers out.
 * Included files ($INCLUDE) are read from where they are.
 */
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import type { StateDir } from '../config/state.js';
import type { LastGoodSource } from './load.js';

const FOLDER = 'last-good';

export class LastGoodFiles implements LastGoodSource {
  constructor(private readonly state: StateDir) {}

  get(file: string): { readonly text: string; readonly saved: Date } | undefined {
    const name = `${FOLDER}/${basename(file)}`;
    try {
      const bytes = this.state.readBytes(name);
      if (bytes === undefined) return undefined;
      return { text: bytes.toString('utf8'), saved: statSync(this.state.file(name)).mtime };
    } catch {
      return undefined; // an unreadable copy is no copy: the file is then left out, as without one
    }
  }

  /** Saves each text that differs from its copy; returns the files saved. */
  save(sources: ReadonlyMap<string, string>): string[] {
    const saved: string[] = [];
    for (const [file, text] of sources) {
      const name = `${FOLDER}/${basename(file)}`;
      if (this.state.readBytes(name)?.toString('utf8') === text) continue;
      this.state.writeBytes(name, text);
      saved.push(file);
    }
    return saved;
  }
}
