/**
 * Records of MaxMind DB files -> Location. Two layouts, detected per record:
 * - MaxMind GeoIP2/GeoLite2 City and Country: `country.iso_code` (else
 *   `registered_country.iso_code`), `subdivisions[0].iso_code`, `location.latitude/longitude`.
 * - ip-location-db (flat): `country_code`, `state1` (a subdivision NAME in their city databases),
 *   `latitude`, `longitude` (numbers or strings).
 * A record without a usable country gives no location. `continent` is not used: a continent
 * alone cannot pick one of Cloudflare's regions (North America is WNAM or ENAM, Asia is five).
 */
import type { Location } from './location.js';
import { centroidOf } from './centroids.js';
import { regionOf } from './regions.js';

/** A decoded database value we only read from. */
type Rec = { readonly [key: string]: unknown };

function isRec(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null;
}

/**
 * The location a database record gives, or undefined when it has no country the region table
 * knows. Region comes from the country and subdivision; coordinates from the record when it
 * has both, else the country centroid. The result is frozen.
 */
export function locationFromRecord(record: unknown): Location | undefined {
  if (!isRec(record)) return undefined;
  if (record.country_code !== undefined) return flatLocation(record);
  return maxmindLocation(record);
}

function flatLocation(r: Rec): Location | undefined {
  const country = countryCode(r.country_code);
  if (country === undefined) return undefined;
  const state = r.state1;
  const sub = typeof state === 'string' && state !== '' ? subdivisionCode(country, state) : undefined;
  return build(country, sub, degrees(r.latitude, 90), degrees(r.longitude, 180));
}

function maxmindLocation(r: Rec): Location | undefined {
  const country = countryCode(isoCode(r.country)) ?? countryCode(isoCode(r.registered_country));
  if (country === undefined) return undefined;
  const subs = r.subdivisions;
  const sub = Array.isArray(subs) && subs.length > 0 ? isoCode(subs[0]) : undefined;
  const loc = r.location;
  const lat = isRec(loc) ? degrees(loc.latitude, 90) : undefined;
  const lon = isRec(loc) ? degrees(loc.longitude, 180) : undefined;
  return build(country, typeof sub === 'string' ? sub : undefined, lat, lon);
}

function build(country: string, sub: string | undefined, lat: number | undefined, lon: number | undefined): Location | undefined {
  const region = regionOf(country, sub);
  if (region === undefined) return undefined;
  if (lat !== undefined && lon !== undefined) return Object.freeze({ country, region, latitude: lat, longitude: lon });
  const c = centroidOf(country);
  if (c) return Object.freeze({ country, region, latitude: c.latitude, longitude: c.longitude });
  return Object.freeze({ country, region });
}

function isoCode(v: unknown): unknown {
  return isRec(v) ? v.iso_code : undefined;
}

/** An ISO 3166-1 alpha-2 code in upper case, or undefined; the region table decides if it is known. */
function countryCode(v: unknown): string | undefined {
  if (typeof v !== 'string' || v.length !== 2) return undefined;
  const a = v.charCodeAt(0);
  const b = v.charCodeAt(1);
  // Databases write upper case; only lower case costs a new string.
  return a >= 65 && a <= 90 && b >= 65 && b <= 90 ? v : v.toUpperCase();
}

/** A coordinate within ±limit degrees from a number or a numeric string, else undefined. */
function degrees(v: unknown, limit: number): number | undefined {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && v.trim() !== '') n = Number(v);
  else return undefined;
  return n >= -limit && n <= limit ? n : undefined;
}

/**
 * English names (as ip-location-db's city databases write `state1`) of the US states, DC and
 * territories and of the Canadian provinces and territories -> ISO 3166-2 codes without the
 * country prefix. Only these two countries are split between regions.
 */
const SUBDIVISION_NAMES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  US: {
    Alabama: 'AL', Alaska: 'AK', Arizona: 'AZ', Arkansas: 'AR', California: 'CA', Colorado: 'CO',
    Connecticut: 'CT', Delaware: 'DE', Florida: 'FL', Georgia: 'GA', Hawaii: 'HI', Idaho: 'ID',
    Illinois: 'IL', Indiana: 'IN', Iowa: 'IA', Kansas: 'KS', Kentucky: 'KY', Louisiana: 'LA',
    Maine: 'ME', Maryland: 'MD', Massachusetts: 'MA', Michigan: 'MI', Minnesota: 'MN',
    Mississippi: 'MS', Missouri: 'MO', Montana: 'MT', Nebraska: 'NE', Nevada: 'NV',
    'New Hampshire': 'NH', 'New Jersey': 'NJ', 'New Mexico': 'NM', 'New York': 'NY',
    'North Carolina': 'NC', 'North Dakota': 'ND', Ohio: 'OH', Oklahoma: 'OK', Oregon: 'OR',
    Pennsylvania: 'PA', 'Rhode Island': 'RI', 'South Carolina': 'SC', 'South Dakota': 'SD',
    Tennessee: 'TN', Texas: 'TX', Utah: 'UT', Vermont: 'VT', Virginia: 'VA', Washington: 'WA',
    'West Virginia': 'WV', Wisconsin: 'WI', Wyoming: 'WY',
    'District of Columbia': 'DC', 'Washington, D.C.': 'DC', 'Washington D.C.': 'DC',
    'American Samoa': 'AS', Guam: 'GU', 'Northern Mariana Islands': 'MP', 'Puerto Rico': 'PR',
    'United States Minor Outlying Islands': 'UM', 'U.S. Virgin Islands': 'VI', 'Virgin Islands': 'VI',
    'United States Virgin Islands': 'VI',
  },
  CA: {
    Alberta: 'AB', 'British Columbia': 'BC', Manitoba: 'MB', 'New Brunswick': 'NB',
    'Newfoundland and Labrador': 'NL', Newfoundland: 'NL', 'Nova Scotia': 'NS', Ontario: 'ON',
    'Prince Edward Island': 'PE', Quebec: 'QC', 'Québec': 'QC', Saskatchewan: 'SK',
    'Northwest Territories': 'NT', Nunavut: 'NU', Yukon: 'YT', 'Yukon Territory': 'YT',
  },
};

/** Per country: names as written and in lower case -> code. */
const SUBDIVISIONS: ReadonlyMap<string, ReadonlyMap<string, string>> = new Map(
  Object.entries(SUBDIVISION_NAMES).map(([country, names]) => {
    const m = new Map<string, string>();
    for (const [name, code] of Object.entries(names)) {
      m.set(name, code);
      m.set(name.toLowerCase(), code);
    }
    return [country, m] as const;
  }),
);

/**
 * The ISO 3166-2 code (without the country prefix) for a subdivision written as a name
 * ("California") or already as a code ("CA"); undefined for countries we do not split
 * or names we do not know (the region table then uses the country's default).
 */
export function subdivisionCode(country: string, name: string): string | undefined {
  const names = SUBDIVISIONS.get(country);
  if (!names) return undefined;
  const code = names.get(name) ?? names.get(name.toLowerCase());
  if (code !== undefined) return code;
  return name.length <= 3 ? name.toUpperCase() : undefined;
}
