/**
 * Country -> a representative point (approximate geographic centre), from the editable table
 * `country-centroids.csv` beside this module (copied into dist/geo/ by the build). Used for
 * proximity when a database gives a country without coordinates; see the comments in the CSV.
 */
import { readFileSync } from 'node:fs';
import { csvRows } from './csv.js';

export const CENTROID_TABLE_URL = new URL('./country-centroids.csv', import.meta.url);

export interface Point {
  readonly latitude: number;
  readonly longitude: number;
}

export class CentroidTableError extends Error {}

const HEADER = 'country,latitude,longitude';
const DEGREES = /^-?\d{1,3}(?:\.\d+)?$/;

/**
 * Parses the CSV text into frozen points keyed by upper-case country code. Throws
 * CentroidTableError naming the line for a malformed row, a value out of range or a duplicate.
 */
export function parseCentroidTable(text: string, file = 'country-centroids.csv'): ReadonlyMap<string, Point> {
  const points = new Map<string, Point>();
  for (const { cols, at } of csvRows(text, file, HEADER, (m) => new CentroidTableError(m))) {
    const [country, lat, lon] = cols;
    if (!/^[A-Z]{2}$/.test(country)) throw new CentroidTableError(`${at}: country "${country}" is not an upper-case ISO 3166-1 alpha-2 code`);
    const latitude = DEGREES.test(lat) ? Number(lat) : NaN;
    const longitude = DEGREES.test(lon) ? Number(lon) : NaN;
    if (!(Math.abs(latitude) <= 90)) throw new CentroidTableError(`${at}: latitude "${lat}" is not a number of degrees from -90 to 90`);
    if (!(Math.abs(longitude) <= 180)) throw new CentroidTableError(`${at}: longitude "${lon}" is not a number of degrees from -180 to 180`);
    if (points.has(country)) throw new CentroidTableError(`${at}: ${country} is listed twice`);
    points.set(country, Object.freeze({ latitude, longitude }));
  }
  return points;
}

let table: ReadonlyMap<string, Point> | undefined;

/** The shipped table, read on first use. */
export function centroidTable(): ReadonlyMap<string, Point> {
  table ??= parseCentroidTable(readFileSync(CENTROID_TABLE_URL, 'utf8'), CENTROID_TABLE_URL.pathname);
  return table;
}

/** The point for an upper-case ISO 3166-1 alpha-2 code; undefined when the table has none. */
export function centroidOf(country: string): Point | undefined {
  return centroidTable().get(country);
}
