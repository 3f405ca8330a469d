/**
 * The transfers part: NOTIFY (src/xfr/notify.ts) to each zone's `notify` targets when it is
 * first served and whenever its SOA serial changes; and a warning when a zone file changed
 * but its serial did not, which secondaries cannot see. Answering AXFR and IXFR is the query
 * path's (src/answer/respond.ts); a worker notifies nobody (its primary does).
 */
import { basename } from 'node:path';
import type { Logger } from '../log.js';
import type { LoadedConfig } from '../snapshot/load.js';
import type { TransferSettings } from '../snapshot/snapshot.js';
import { Name } from '../wire/name.js';
import { serialNewer, serialOf } from '../xfr/axfr.js';
import { Notifier } from '../xfr/notify.js';
import type { Part, Served } from './part.js';

export class Transfers implements Part {
  private readonly notifier: Notifier;
  private last: LoadedConfig | undefined;

  constructor(
    private readonly settings: TransferSettings | undefined,
    private readonly config: () => LoadedConfig,
    private readonly log: Logger,
  ) {
    this.notifier = new Notifier(log, () => settings?.keyring ?? new Map());
  }

  start(): void {
    this.last = this.config();
    for (const zone of this.last.zones.zones) this.notifyZone(zone.origin.key);
  }

  serve(served: Served): void {
    const before = this.last;
    this.last = served.config;
    if (!before || before.zones === served.config.zones) return; // an override: no zone changed
    for (const zone of served.config.zones.zones) {
      const old = before.zones.find(zone.origin);
      if (!old || old.origin.key !== zone.origin.key || serialNewer(serialOf(zone), serialOf(old))) this.notifyZone(zone.origin.key);
    }
    this.warnUnchangedSerials(before, served.config);
  }

  stop(): void {
    this.notifier.stop();
  }

  private notifyZone(key: string): void {
    const targets = this.settings?.zones.get(key)?.notify ?? [];
    const zone = this.last?.zones.zones && [...this.last.zones.zones].find((z) => z.origin.key === key);
    if (zone && targets.length > 0) this.notifier.notify(zone, targets);
  }

  /** A zone file whose text changed while its serial did not go up: secondaries keep the old version. */
  private warnUnchangedSerials(before: LoadedConfig, after: LoadedConfig): void {
    for (const [file, text] of after.sources) {
      if (!file.endsWith('.zone') || before.sources.get(file) === undefined || before.sources.get(file) === text) continue;
      let origin: Name;
      try {
        const stem = basename(file).slice(0, -'.zone'.length);
        origin = Name.fromText(stem.endsWith('.') ? stem : `${stem}.`);
      } catch {
        continue;
      }
      const now = after.zones.find(origin);
      const then = before.zones.find(origin);
      if (!now || !then || now.origin.key !== then.origin.key || serialNewer(serialOf(now), serialOf(then))) continue;
      const options = this.settings?.zones.get(now.origin.key);
      if (!options || options.serialPolicy !== 'keep') continue; // no secondaries to miss it, or a policy raised it
      this.log.warn({ zone: now.origin.toString(), file, serial: serialOf(now) }, 'zone file changed but its SOA serial did not go up: secondaries will not transfer the change; raise the serial');
    }
  }
}
