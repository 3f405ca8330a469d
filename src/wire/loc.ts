/**
 * LOC (RFC 1876): a position as latitude, longitude, altitude and three sizes. Text is
 * `d [m [s]] N|S d [m [s]] E|W alt[m] [size[m] [hp[m] [vp[m]]]]`; the wire holds thousandths
 * of an arc second from 2^31 and centimetres (sizes as mantissa and power of ten).
 */
import { Fields, Reader, RdataError, type Token } from './rdata-io.js';

/** RFC 1876 §2: the equator and prime meridian are 2^31; the altitude is from 100,000 m below the WGS 84 spheroid. */
const EQUATOR = 2 ** 31;
const ALTITUDE_BASE = 10_000_000; // cm
/** RFC 1876 §3 defaults: size 1 m, horizontal precision 10,000 m, vertical precision 10 m (in cm). */
const DEFAULT_SIZES = [100, 1_000_000, 1000];
const SIZE_LABELS = ['size', 'horizontal precision', 'vertical precision'];

/** A decimal with at most `places` fraction digits, as an integer count of 10^-places. */
function decimal(text: string, places: number, signed: boolean): number | undefined {
  const m = (signed ? /^(-?)([0-9]+)(?:\.([0-9]*))?$/ : /^()([0-9]+)(?:\.([0-9]*))?$/).exec(text);
  if (!m || (m[3] ?? '').length > places) return undefined;
  const v = Number(m[2]) * 10 ** places + Number((m[3] ?? '').padEnd(places, '0') || '0');
  return m[1] ? -v : v;
}

/** RFC 1876 §2 size: mantissa and power of ten of centimetres, 4 bits each (the value rounded down to one digit). */
function encodeSize(cm: number): number {
  let exp = 0;
  while (exp < 9 && cm >= 10 ** (exp + 1)) exp++;
  return (Math.min(9, Math.floor(cm / 10 ** exp)) << 4) | exp;
}

function coordinate(f: Fields, what: 'latitude' | 'longitude'): Buffer {
  const [pos, neg, maxDeg] = what === 'latitude' ? ['N', 'S', 90] : ['E', 'W', 180];
  const parts: Token[] = [];
  let hemi: Token;
  for (;;) {
    const t = f.take(`${what} hemisphere (${pos} or ${neg})`);
    const up = t.text.toUpperCase();
    if (!t.quoted && (up === pos || up === neg)) {
      hemi = t;
      break;
    }
    if (parts.length === 3) throw f.error(`${what}`, t, `expected ${pos} or ${neg} after degrees, minutes and seconds`);
    parts.push(t);
  }
  if (parts.length === 0) throw f.error(what, hemi, 'degrees are missing');
  const deg = decimal(parts[0].text, 0, false);
  const min = parts.length > 1 ? decimal(parts[1].text, 0, false) : 0;
  const sec = parts.length > 2 ? decimal(parts[2].text, 3, false) : 0;
  if (deg === undefined || deg > maxDeg) throw f.error(`${what} degrees`, parts[0], `an integer 0-${maxDeg}`);
  if (min === undefined || min > 59) throw f.error(`${what} minutes`, parts[1], 'an integer 0-59');
  if (sec === undefined || sec >= 60000) throw f.error(`${what} seconds`, parts[2], '0-59.999');
  const ms = ((deg * 60 + min) * 60) * 1000 + sec;
  if (ms > maxDeg * 3_600_000) throw f.error(what, parts[0], `at most ${maxDeg} degrees`);
  const b = Buffer.alloc(4);
  b.writeUInt32BE(hemi.text.toUpperCase() === pos ? EQUATOR + ms : EQUATOR - ms);
  return b;
}

function meters(f: Fields, field: string, t: Token, signed: boolean, min: number, max: number): number {
  const cm = t.quoted ? undefined : decimal(t.text.replace(/[mM]$/, ''), 2, signed);
  if (cm === undefined || cm < min || cm > max) throw f.error(field, t, `metres with at most two decimals, ${min / 100}-${max / 100}`);
  return cm;
}

function parse(f: Fields): Buffer[] {
  const lat = coordinate(f, 'latitude');
  const lon = coordinate(f, 'longitude');
  const alt = meters(f, 'altitude', f.take('altitude'), true, -ALTITUDE_BASE, 2 ** 32 - 1 - ALTITUDE_BASE);
  const sizes = DEFAULT_SIZES.map((d, k) => (f.more() ? encodeSize(meters(f, SIZE_LABELS[k], f.take(SIZE_LABELS[k]), false, 0, 9e9)) : encodeSize(d)));
  const altitude = Buffer.alloc(4);
  altitude.writeUInt32BE(alt + ALTITUDE_BASE);
  return [Buffer.from([0, ...sizes]), lat, lon, altitude];
}

function sizeText(octet: number): string {
  const cm = (octet >> 4) * 10 ** (octet & 15);
  return cm % 100 === 0 ? `${cm / 100}m` : `${(cm / 100).toFixed(2)}m`;
}

function coordinateText(v: number, pos: string, neg: string): string {
  const ms = Math.abs(v - EQUATOR);
  const deg = Math.floor(ms / 3_600_000);
  const min = Math.floor((ms % 3_600_000) / 60_000);
  const sec = ((ms % 60_000) / 1000).toFixed(3);
  return `${deg} ${min} ${sec} ${v >= EQUATOR ? pos : neg}`;
}

function scan(r: Reader): void {
  const version = r.u8('version');
  if (version !== 0) throw new RdataError(`version ${version} is not 0 (RFC 1876 §2)`);
  const sizes = [r.u8('size'), r.u8('horizontal precision'), r.u8('vertical precision')];
  for (const [k, s] of sizes.entries()) {
    if (s >> 4 > 9 || (s & 15) > 9) throw new RdataError(`${SIZE_LABELS[k]} has a digit above 9 (RFC 1876 §2)`);
  }
  const lat = r.u32('latitude');
  const lon = r.u32('longitude');
  const alt = r.u32('altitude');
  if (Math.abs(lat - EQUATOR) > 90 * 3_600_000) throw new RdataError('latitude beyond 90 degrees');
  if (Math.abs(lon - EQUATOR) > 180 * 3_600_000) throw new RdataError('longitude beyond 180 degrees');
  if (r.out) {
    r.put(coordinateText(lat, 'N', 'S'));
    r.put(coordinateText(lon, 'E', 'W'));
    r.put(`${((alt - ALTITUDE_BASE) / 100).toFixed(2)}m`);
    for (const s of sizes) r.put(sizeText(s));
  }
}

export const LOC = { parse, scan };
