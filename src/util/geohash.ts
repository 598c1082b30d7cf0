/**
 * Redis's geohash math, ported from src/geohash.c, src/geohash_helper.c and the helpers of
 * src/geo.c of Redis 7.0.15, so that a geo set (a zset whose scores are 52-bit interleaved
 * geohashes) answers GEOPOS, GEODIST, GEOHASH and the radius/box searches with the same
 * coordinates, distances and members as Redis, including for sets loaded from a Redis file.
 *
 * Every operation is done in the same order and precision as the C code (IEEE doubles), so
 * results match bit for bit; the one possible difference is the last bit of sin/cos/asin, where
 * V8's fdlibm-derived functions and glibc's may disagree, which can move a %.4f distance by one
 * unit in very rare cases.
 *
 * 64-bit values: a step-26 hash has 52 bits (53 at the north edge, as in Redis), so scores are
 * exact JS numbers; bit twiddling works on two 32-bit halves, and BigInt is used where the C
 * code relies on full 64-bit wrap-around (neighbours, garbage scores).
 */

export const GEO_STEP_MAX = 26;
export const GEO_LAT_MIN = -85.05112878;
export const GEO_LAT_MAX = 85.05112878;
export const GEO_LONG_MIN = -180;
export const GEO_LONG_MAX = 180;

const D_R = Math.PI / 180.0;
/** Earth's quadratic mean radius for WGS-84, meters (geohash_helper.c) */
export const EARTH_RADIUS_IN_METERS = 6372797.560856;
const MERCATOR_MAX = 20037726.37;

/** A hash of `step` bits per coordinate: `bits` holds 2*step interleaved bits (< 2^53). */
export interface GeoHashBits {
  bits: number;
  step: number;
}

/** The box a hash covers. */
export interface GeoHashArea {
  lonMin: number;
  lonMax: number;
  latMin: number;
  latMax: number;
}

const TWO32 = 4294967296;

/** Spreads the low 16 bits of v to the even bits of a 32-bit word. */
function spread16(v: number): number {
  v &= 0xffff;
  v = (v | (v << 8)) & 0x00ff00ff;
  v = (v | (v << 4)) & 0x0f0f0f0f;
  v = (v | (v << 2)) & 0x33333333;
  v = (v | (v << 1)) & 0x55555555;
  return v >>> 0;
}

/** Gathers the even bits of a 32-bit word into 16 bits. */
function compact16(v: number): number {
  v &= 0x55555555;
  v = (v | (v >>> 1)) & 0x33333333;
  v = (v | (v >>> 2)) & 0x0f0f0f0f;
  v = (v | (v >>> 4)) & 0x00ff00ff;
  v = (v | (v >>> 8)) & 0x0000ffff;
  return v;
}

/**
 * interleave64(x, y): bits of x (latitude) in the even positions, bits of y (longitude) in the
 * odd ones. x and y are uint32; the result is exact when it stays below 2^53 (x, y < 2^27).
 */
export function interleave64(x: number, y: number): number {
  const lo = (spread16(x) | (spread16(y) << 1)) >>> 0;
  const hi = (spread16(x >>> 16) | (spread16(y >>> 16) << 1)) >>> 0;
  return hi * TWO32 + lo;
}

/** deinterleave64 on a 64-bit value given as two uint32 halves: [x (lat), y (long)]. */
function deinterleave(hi: number, lo: number): [number, number] {
  const x = (compact16(lo) | (compact16(hi) << 16)) >>> 0;
  const y = (compact16(lo >>> 1) | (compact16(hi >>> 1) << 16)) >>> 0;
  return [x, y];
}

/** C's uint32_t conversion of a double in [0, 2^32) (truncation). */
function toU32(d: number): number {
  return Math.trunc(d) >>> 0;
}

/**
 * geohashEncode: the hash of (longitude, latitude) at `step` bits per coordinate within the
 * given ranges, or null when out of range (the C function's 0 return).
 */
export function geohashEncode(lonMin: number, lonMax: number, latMin: number, latMax: number, longitude: number, latitude: number, step: number): GeoHashBits | null {
  if (step > 32 || step === 0) return null;
  if (longitude > GEO_LONG_MAX || longitude < GEO_LONG_MIN || latitude > GEO_LAT_MAX || latitude < GEO_LAT_MIN) return null;
  if (latitude < latMin || latitude > latMax || longitude < lonMin || longitude > lonMax) return null;
  let latOffset = (latitude - latMin) / (latMax - latMin);
  let longOffset = (longitude - lonMin) / (lonMax - lonMin);
  const scale = Math.pow(2, step);
  latOffset *= scale;
  longOffset *= scale;
  return { bits: interleave64(toU32(latOffset), toU32(longOffset)), step };
}

/** geohashEncodeWGS84: the hash in Redis's coordinate ranges (latitude limited to +-85.05°). */
export function geohashEncodeWGS84(longitude: number, latitude: number, step: number): GeoHashBits | null {
  return geohashEncode(GEO_LONG_MIN, GEO_LONG_MAX, GEO_LAT_MIN, GEO_LAT_MAX, longitude, latitude, step);
}

/** geohashAlign52Bits: the hash shifted to a 52-bit score. */
export function geohashAlign52Bits(h: GeoHashBits): number {
  return h.bits * Math.pow(2, 52 - h.step * 2);
}

/** Splits a hash's bits (an exact integer < 2^64) into uint32 halves. */
function halves(bits: number): [number, number] {
  const hi = Math.floor(bits / TWO32);
  return [hi >>> 0, (bits - hi * TWO32) >>> 0];
}

/** geohashDecode over the given ranges; the hash as uint32 halves of its 64-bit value. */
function decodeHalves(hi: number, lo: number, step: number, lonMin: number, lonMax: number, latMin: number, latMax: number): GeoHashArea {
  const [ilato, ilono] = deinterleave(hi, lo);
  const latScale = latMax - latMin;
  const longScale = lonMax - lonMin;
  const div = Math.pow(2, step);
  return {
    latMin: latMin + ((ilato * 1.0) / div) * latScale,
    latMax: latMin + ((((ilato + 1) >>> 0) * 1.0) / div) * latScale,
    lonMin: lonMin + ((ilono * 1.0) / div) * longScale,
    lonMax: lonMin + ((((ilono + 1) >>> 0) * 1.0) / div) * longScale,
  };
}

/** geohashDecode in the WGS84 ranges, or null for the zero hash (HASHISZERO). */
export function geohashDecodeWGS84(h: GeoHashBits): GeoHashArea | null {
  if (h.bits === 0 && h.step === 0) return null;
  const [hi, lo] = halves(h.bits);
  return decodeHalves(hi, lo, h.step, GEO_LONG_MIN, GEO_LONG_MAX, GEO_LAT_MIN, GEO_LAT_MAX);
}

/** geohashDecodeAreaToLongLat: the centre of an area, clamped to the valid ranges. */
function areaCenter(a: GeoHashArea): [number, number] {
  let x = (a.lonMin + a.lonMax) / 2;
  if (x > GEO_LONG_MAX) x = GEO_LONG_MAX;
  if (x < GEO_LONG_MIN) x = GEO_LONG_MIN;
  let y = (a.latMin + a.latMax) / 2;
  if (y > GEO_LAT_MAX) y = GEO_LAT_MAX;
  if (y < GEO_LAT_MIN) y = GEO_LAT_MIN;
  return [x, y];
}

const P63 = 9223372036854775808;
const P64 = 18446744073709551616;

/**
 * The uint64 halves of `(uint64_t)score` as gcc compiles it on x86-64: truncation, negative
 * values wrap (two's complement), out-of-range values give what cvttsd2si gives.
 */
function scoreHalves(score: number): [number, number] {
  if (score >= 0 && score < 9007199254740992) return halves(Math.trunc(score));
  let v: bigint;
  if (!(score < P63)) {
    // x >= 2^63: cvttsd2si(x - 2^63) ^ 2^63; beyond 2^64 (or NaN) the conversion is invalid
    v = score < P64 ? BigInt(Math.trunc(score)) : 0n;
  } else if (score >= -P63) {
    v = BigInt.asUintN(64, BigInt(Math.trunc(score)));
  } else {
    v = 1n << 63n;
  }
  return [Number(v >> 32n), Number(v & 0xffffffffn)];
}

/**
 * decodeGeohash (geo.c): the [longitude, latitude] of a zset score, the centre of its step-26
 * box. Any score decodes (Redis never fails here for a double).
 */
export function decodeGeohash(score: number): [number, number] {
  const [hi, lo] = scoreHalves(score);
  return areaCenter(decodeHalves(hi, lo, GEO_STEP_MAX, GEO_LONG_MIN, GEO_LONG_MAX, GEO_LAT_MIN, GEO_LAT_MAX));
}

/** The 52-bit score GEOADD stores for a position (geohashEncodeWGS84 + geohashAlign52Bits). */
export function geoScore(longitude: number, latitude: number): number {
  const h = geohashEncodeWGS84(longitude, latitude, GEO_STEP_MAX);
  return h === null ? 0 : geohashAlign52Bits(h);
}

const GEOALPHABET = '0123456789bcdefghjkmnpqrstuvwxyz';

/**
 * GEOHASH's 11-character standard geohash of a score: decoded, re-encoded over the standard
 * ranges (latitude +-90), 5 bits per character, the 11th character '0' (geohashCommand).
 */
export function standardGeohash(score: number): string {
  const [x, y] = decodeGeohash(score);
  const h = geohashEncode(-180, 180, -90, 90, x, y, 26);
  const bits = h === null ? 0 : h.bits;
  let out = '';
  for (let i = 0; i < 11; i++) {
    const idx = i === 10 ? 0 : Math.floor(bits / Math.pow(2, 52 - (i + 1) * 5)) & 0x1f;
    out += GEOALPHABET[idx];
  }
  return out;
}

// ---- geohash_helper.c -------------------------------------------------------------------------

function degRad(ang: number): number {
  return ang * D_R;
}
function radDeg(ang: number): number {
  return ang / D_R;
}

/** geohashEstimateStepsByRadius */
export function geohashEstimateStepsByRadius(rangeMeters: number, lat: number): number {
  if (rangeMeters === 0) return 26;
  let step = 1;
  while (rangeMeters < MERCATOR_MAX) {
    rangeMeters *= 2;
    step++;
  }
  step -= 2;
  if (lat > 66 || lat < -66) {
    step--;
    if (lat > 80 || lat < -80) step--;
  }
  if (step < 1) step = 1;
  if (step > 26) step = 26;
  return step;
}

/** A search shape (GeoShape): a circle of `radius`, or a `width` x `height` box, in `unit`s. */
export interface GeoShape {
  circular: boolean;
  /** centre: longitude, latitude */
  lon: number;
  lat: number;
  radius: number;
  width: number;
  height: number;
  /** meters per unit */
  conversion: number;
  /** bounding box: min lon, min lat, max lon, max lat (filled by the area computation) */
  bounds: [number, number, number, number];
}

/** geohashBoundingBox */
function boundingBox(s: GeoShape): void {
  const height = s.conversion * (s.circular ? s.radius : s.height / 2);
  const width = s.conversion * (s.circular ? s.radius : s.width / 2);
  const latDelta = radDeg(height / EARTH_RADIUS_IN_METERS);
  const longDeltaTop = radDeg(width / EARTH_RADIUS_IN_METERS / Math.cos(degRad(s.lat + latDelta)));
  const longDeltaBottom = radDeg(width / EARTH_RADIUS_IN_METERS / Math.cos(degRad(s.lat - latDelta)));
  const southern = s.lat < 0;
  s.bounds[0] = southern ? s.lon - longDeltaBottom : s.lon - longDeltaTop;
  s.bounds[2] = southern ? s.lon + longDeltaBottom : s.lon + longDeltaTop;
  s.bounds[1] = s.lat - latDelta;
  s.bounds[3] = s.lat + latDelta;
}

const M_AAAA = 0xaaaaaaaaaaaaaaaan;
const M_5555 = 0x5555555555555555n;

/** geohash_move_x / geohash_move_y on 64-bit values. */
function move(h: GeoHashBits, d: number, xAxis: boolean): GeoHashBits {
  if (d === 0) return h;
  const bits = BigInt(h.bits);
  const sh = BigInt(64 - h.step * 2);
  let x = bits & (xAxis ? M_AAAA : M_5555);
  const y = bits & (xAxis ? M_5555 : M_AAAA);
  const zz = (xAxis ? M_5555 : M_AAAA) >> sh;
  if (d > 0) {
    x = BigInt.asUintN(64, x + (zz + 1n));
  } else {
    x = x | zz;
    x = BigInt.asUintN(64, x - (zz + 1n));
  }
  x &= (xAxis ? M_AAAA : M_5555) >> sh;
  return { bits: Number(x | y), step: h.step };
}

function neighbor(h: GeoHashBits, dx: number, dy: number): GeoHashBits {
  return move(move(h, dx, true), dy, false);
}

/** The nine boxes of a search (GeoHashRadius): centre then N, S, E, W, NE, NW, SE, SW. */
export interface GeoHashRadius {
  boxes: GeoHashBits[];
}

const ZERO: GeoHashBits = { bits: 0, step: 0 };

/**
 * geohashCalculateAreasByShapeWGS84: the centre box and its 8 neighbours at a step that covers
 * the shape, with the neighbours outside the bounding box zeroed. Fills `shape.bounds`.
 */
export function geohashCalculateAreasByShapeWGS84(shape: GeoShape): GeoHashBits[] {
  boundingBox(shape);
  const [minLon, minLat, maxLon, maxLat] = shape.bounds;
  const longitude = shape.lon;
  const latitude = shape.lat;
  let radiusMeters = shape.circular
    ? shape.radius
    : Math.sqrt((shape.width / 2) * (shape.width / 2) + (shape.height / 2) * (shape.height / 2));
  radiusMeters *= shape.conversion;
  let steps = geohashEstimateStepsByRadius(radiusMeters, latitude);
  const enc = (st: number): GeoHashBits =>
    geohashEncode(GEO_LONG_MIN, GEO_LONG_MAX, GEO_LAT_MIN, GEO_LAT_MAX, longitude, latitude, st) ?? { bits: 0, step: st };
  let hash = enc(steps);
  let nb = neighbors(hash);
  let area = decodeRaw(hash);
  let decrease = false;
  {
    const north = decodeRaw(nb.north);
    const south = decodeRaw(nb.south);
    const east = decodeRaw(nb.east);
    const west = decodeRaw(nb.west);
    if (north.latMax < maxLat) decrease = true;
    if (south.latMin > minLat) decrease = true;
    if (east.lonMax < maxLon) decrease = true;
    if (west.lonMin > minLon) decrease = true;
  }
  if (steps > 1 && decrease) {
    steps--;
    hash = enc(steps);
    nb = neighbors(hash);
    area = decodeRaw(hash);
  }
  if (steps >= 2) {
    if (area.latMin < minLat) {
      nb.south = ZERO;
      nb.southWest = ZERO;
      nb.southEast = ZERO;
    }
    if (area.latMax > maxLat) {
      nb.north = ZERO;
      nb.northEast = ZERO;
      nb.northWest = ZERO;
    }
    if (area.lonMin < minLon) {
      nb.west = ZERO;
      nb.southWest = ZERO;
      nb.northWest = ZERO;
    }
    if (area.lonMax > maxLon) {
      nb.east = ZERO;
      nb.southEast = ZERO;
      nb.northEast = ZERO;
    }
  }
  return [hash, nb.north, nb.south, nb.east, nb.west, nb.northEast, nb.northWest, nb.southEast, nb.southWest];
}

/** geohashDecode without the zero check (the C code decodes neighbours unconditionally). */
function decodeRaw(h: GeoHashBits): GeoHashArea {
  const [hi, lo] = halves(h.bits);
  return decodeHalves(hi, lo, h.step, GEO_LONG_MIN, GEO_LONG_MAX, GEO_LAT_MIN, GEO_LAT_MAX);
}

interface Neighbors {
  north: GeoHashBits;
  south: GeoHashBits;
  east: GeoHashBits;
  west: GeoHashBits;
  northEast: GeoHashBits;
  northWest: GeoHashBits;
  southEast: GeoHashBits;
  southWest: GeoHashBits;
}

/** geohashNeighbors */
export function neighbors(h: GeoHashBits): Neighbors {
  return {
    east: neighbor(h, 1, 0),
    west: neighbor(h, -1, 0),
    south: neighbor(h, 0, -1),
    north: neighbor(h, 0, 1),
    northWest: neighbor(h, -1, 1),
    northEast: neighbor(h, 1, 1),
    southEast: neighbor(h, 1, -1),
    southWest: neighbor(h, -1, -1),
  };
}

/** scoresOfGeoHashBox: the score interval [min, max) of the points inside a box. */
export function scoresOfGeoHashBox(h: GeoHashBits): [number, number] {
  return [geohashAlign52Bits(h), geohashAlign52Bits({ bits: h.bits + 1, step: h.step })];
}

/** geohashGetDistance: haversine great-circle distance in meters (Redis 7.0's formula). */
export function geohashGetDistance(lon1d: number, lat1d: number, lon2d: number, lat2d: number): number {
  const lat1r = degRad(lat1d);
  const lon1r = degRad(lon1d);
  const lat2r = degRad(lat2d);
  const lon2r = degRad(lon2d);
  const u = Math.sin((lat2r - lat1r) / 2);
  const v = Math.sin((lon2r - lon1r) / 2);
  return 2.0 * EARTH_RADIUS_IN_METERS * Math.asin(Math.sqrt(u * u + Math.cos(lat1r) * Math.cos(lat2r) * v * v));
}

/**
 * geohashGetDistanceIfInRectangle: the distance from the box centre (x1, y1) to (x2, y2) when
 * the point is inside a width x height box (meters), else -1.
 */
export function distanceIfInRectangle(widthM: number, heightM: number, x1: number, y1: number, x2: number, y2: number): number {
  const lonDistance = geohashGetDistance(x2, y2, x1, y2);
  const latDistance = geohashGetDistance(x2, y2, x2, y1);
  if (lonDistance > widthM / 2 || latDistance > heightM / 2) return -1;
  return geohashGetDistance(x1, y1, x2, y2);
}

// ---- number formatting ----------------------------------------------------------------------

/** Rounds a decimal digit string (no sign, one '.') at `frac` fraction digits, half to even. */
function roundDecimal(exact: string, frac: number): string {
  const dot = exact.indexOf('.');
  const intPart = dot < 0 ? exact : exact.slice(0, dot);
  let fr = dot < 0 ? '' : exact.slice(dot + 1);
  if (fr.length <= frac) return intPart + (frac > 0 ? '.' + fr.padEnd(frac, '0') : '');
  const rest = fr.slice(frac);
  fr = fr.slice(0, frac);
  let digits = intPart + fr;
  const first = rest.charCodeAt(0) - 48;
  const tail = /[1-9]/.test(rest.slice(1));
  const lastDigit = digits.charCodeAt(digits.length - 1) - 48;
  const up = first > 5 || (first === 5 && (tail || (lastDigit & 1) === 1));
  if (up) {
    const arr = digits.split('');
    let i = arr.length - 1;
    for (; i >= 0; i--) {
      if (arr[i] === '9') arr[i] = '0';
      else {
        arr[i] = String.fromCharCode(arr[i]!.charCodeAt(0) + 1);
        break;
      }
    }
    digits = (i < 0 ? '1' : '') + arr.join('');
  }
  const il = digits.length - frac;
  return frac > 0 ? digits.slice(0, il) + '.' + digits.slice(il) : digits;
}

/** The exact decimal expansion of a finite double's magnitude. */
function exactDecimal(x: number): string {
  // toFixed(100) is exact for |x| >= 2^-48; smaller values only matter as 0 at our precisions
  const a = Math.abs(x);
  if (a >= 1e21) return BigInt(a).toString();
  return a.toFixed(100);
}

/** C's printf("%.<frac>f") for a finite double: exact value rounded half to even. */
export function formatFixed(x: number, frac: number): string {
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : x < 0 ? '-inf' : 'nan';
  const neg = x < 0 || Object.is(x, -0);
  const a = Math.abs(x);
  // toFixed rounds the exact value too, but a tie away from zero where glibc rounds it to even.
  // A tie needs the exact expansion to stop one digit after the last kept one, and a double
  // whose lowest set bit is 2^-k has exactly k fraction digits (the last one a 5): so only
  // values with lowest bit 2^-(frac+1) can tie. Everything else takes the fast path.
  const p = Math.pow(2, frac + 1);
  if (a < 1e21 && !(Number.isInteger(a * p) && !Number.isInteger(a * (p / 2)))) {
    return (neg ? '-' : '') + a.toFixed(frac);
  }
  const s = roundDecimal(exactDecimal(x), frac);
  return (neg ? '-' : '') + s;
}

/** addReplyDoubleDistance's "%.4f". */
export function formatDistance(d: number): string {
  return formatFixed(d, 4);
}

/**
 * ld2string(LD_STR_HUMAN) of a double (addReplyHumanLongDouble): "%.17Lf" with trailing zeros
 * and a bare '.' removed, "-0" written "0", infinities "inf"/"-inf".
 */
export function formatHumanDouble(x: number): string {
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  let s = formatFixed(x, 17);
  if (s.indexOf('.') >= 0) {
    let e = s.length;
    while (s.charCodeAt(e - 1) === 48) e--;
    if (s.charCodeAt(e - 1) === 46) e--;
    s = s.slice(0, e);
  }
  return s === '-0' ? '0' : s;
}
