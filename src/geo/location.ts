/** Where something is: a country, a Cloudflare region, a PoP, coordinates. */

/** Cloudflare's 13 load-balancing regions. */
export const REGIONS = ['WNAM', 'ENAM', 'WEU', 'EEU', 'NSAM', 'SSAM', 'OC', 'ME', 'NAF', 'SAF', 'SAS', 'SEAS', 'NEAS'] as const;
export type Region = (typeof REGIONS)[number];

/** A location on Earth and in Cloudflare's geography; every part may be unknown. */
export interface Location {
  readonly country?: string;
  readonly region?: Region;
  readonly pop?: string;
  readonly latitude?: number;
  readonly longitude?: number;
}
