/**
 * This node's identity: the PoP code, country, region and coordinates that stand for
 * "the data centre that answered" in Cloudflare's model (pop_pools, location_strategy mode pop).
 */
import { regionOf } from './regions.js';
import { REGIONS, type Location, type Region } from './location.js';
import { UsageError } from '../config/usage.js';

export interface PopFlags {
  pop?: string;
  country?: string;
  region?: string;
  coordinates?: string;
}

export function parsePop(flags: PopFlags): Location {
  const pop = flags.pop?.toUpperCase();
  if (pop !== undefined && !/^[A-Z0-9]{3,4}$/.test(pop)) throw new UsageError(`--pop "${flags.pop}": expected a 3 or 4 letter PoP code such as FRA`);
  const country = flags.country?.toUpperCase();
  if (country !== undefined && !regionOf(country)) throw new UsageError(`--pop-country "${flags.country}": not an ISO 3166-1 alpha-2 country code we know`);
  let region: Region | undefined;
  if (flags.region !== undefined) {
    const r = flags.region.toUpperCase();
    if (!(REGIONS as readonly string[]).includes(r)) throw new UsageError(`--pop-region "${flags.region}": expected one of ${REGIONS.join(' ')}`);
    region = r as Region;
  } else if (country) {
    region = regionOf(country);
  }
  let latitude: number | undefined;
  let longitude: number | undefined;
  if (flags.coordinates !== undefined) {
    const m = /^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$/.exec(flags.coordinates);
    latitude = m ? Number(m[1]) : NaN;
    longitude = m ? Number(m[2]) : NaN;
    if (!m || Math.abs(latitude) > 90 || Math.abs(longitude) > 180) throw new UsageError(`--pop-coordinates "${flags.coordinates}": expected LAT,LON in degrees, e.g. 50.03,8.57`);
  }
  return { pop, country, region, latitude, longitude };
}
