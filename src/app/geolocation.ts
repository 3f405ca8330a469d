/**
 * The geolocation part: the databases that locate clients (mmdb, overrides) and, for
 * persistence keyed on the resolver's network, the ASN database. Opened once at start; a
 * database that cannot be read is logged, and clients are then located without it.
 */
import { openAsnDatabase, type AsnLookup } from '../geo/asn.js';
import { openGeoLocator, type GeoLocator, type GeoOptions } from '../geo/locator.js';
import type { Logger } from '../log.js';
import type { Part } from './part.js';

export class Geolocation implements Part {
  private opened: GeoLocator | undefined;
  /** The resolver's autonomous system, when an ASN database was given and read. */
  asn: AsnLookup | undefined;

  constructor(
    private readonly options: GeoOptions | undefined,
    private readonly asnDatabase: string | undefined,
    private readonly log: Logger,
  ) {}

  get locator(): GeoLocator {
    if (!this.opened) throw new Error('the geolocation databases are read before they were opened');
    return this.opened;
  }

  async start(): Promise<void> {
    const geo = await openGeoLocator(this.options);
    for (const p of geo.problems) this.log[p.severity === 'error' ? 'error' : 'warn']({ file: p.file, line: p.line }, p.message);
    this.opened = geo.locator;
    if (this.asnDatabase !== undefined) {
      const opened = await openAsnDatabase(this.asnDatabase);
      for (const p of opened.problems) this.log.error({ file: p.file }, p.message);
      this.asn = opened.asn;
    }
  }
}
