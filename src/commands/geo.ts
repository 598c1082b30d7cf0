import type { Handler } from './spec.js';
import type { Client } from '../server/client.js';
import { ERR } from '../server/dispatch.js';
import { NOTIFY_GENERIC, NOTIFY_ZSET } from '../keyspace/notify.js';
import { ZSet, scoreLteMax, type ScoreRange, type ZLeaf } from '../keyspace/types/zset.js';
import { parseDouble, parseInt64 } from '../util/number.js';
import {
  GEO_LAT_MAX, GEO_LAT_MIN, GEO_LONG_MAX, GEO_LONG_MIN, decodeGeohash, distanceIfInRectangle,
  formatDistance, formatFixed, formatHumanDouble, geoScore, geohashCalculateAreasByShapeWGS84,
  geohashGetDistance, scoresOfGeoHashBox, standardGeohash, type GeoHashBits, type GeoShape,
} from '../util/geohash.js';
import { readZset, zaddCommandWithArgv, zsetLimits } from './zsets.js';
import { pqsort } from '../util/pqsort.js';

/**
 * The geo commands of Redis 7.0.15 (src/geo.c): a geo set is a zset whose scores are 52-bit
 * geohashes (util/geohash.ts). Replies, errors, sort order (stable qsort, Redis's partial
 * pqsort for COUNT) and STORE results follow Redis.
 */

function bulk(s: string): string {
  return '$' + s.length + '\r\n' + s + '\r\n';
}

function eqi(a: string, lower: string): boolean {
  return a.length === lower.length && a.toLowerCase() === lower;
}

/** addReplyHumanLongDouble: RESP2 bulk, RESP3 double. */
function human(c: Client, d: number): string {
  const s = formatHumanDouble(d);
  return c.resp === 3 ? ',' + s + '\r\n' : bulk(s);
}

/**
 * extractLongLatOrReply: [longitude, latitude] from two arguments, or null after the error
 * (`ERR invalid longitude,latitude pair 200.000000,100.000000`).
 */
function extractLongLat(c: Client, a: string, b: string): [number, number] | null {
  const x = parseDouble(a);
  if (x === null) {
    c.addError(ERR.notFloat);
    return null;
  }
  const y = parseDouble(b);
  if (y === null) {
    c.addError(ERR.notFloat);
    return null;
  }
  if (x < GEO_LONG_MIN || x > GEO_LONG_MAX || y < GEO_LAT_MIN || y > GEO_LAT_MAX) {
    c.addError(`ERR invalid longitude,latitude pair ${formatFixed(x, 6)},${formatFixed(y, 6)}`);
    return null;
  }
  return [x, y];
}

/** extractUnitOrReply: meters per unit, or -1 after the error. */
function extractUnit(c: Client, u: string): number {
  const l = u.toLowerCase();
  if (l === 'm') return 1;
  if (l === 'km') return 1000;
  if (l === 'ft') return 0.3048;
  if (l === 'mi') return 1609.34;
  c.addError('ERR unsupported unit provided. please use M, KM, FT, MI');
  return -1;
}

// ---- GEOADD / GEOPOS / GEODIST / GEOHASH ------------------------------------------------------

function geoaddCommand(c: Client): void {
  const argv = c.argv;
  let xx = false;
  let nx = false;
  let longidx = 2;
  while (longidx < argv.length) {
    const o = argv[longidx]!;
    if (eqi(o, 'nx')) nx = true;
    else if (eqi(o, 'xx')) xx = true;
    else if (eqi(o, 'ch')) { /* handled by ZADD */ }
    else break;
    longidx++;
  }
  if ((argv.length - longidx) % 3 !== 0 || (xx && nx)) {
    c.addError(ERR.syntax);
    return;
  }
  const elements = (argv.length - longidx) / 3;
  const zargv: string[] = ['zadd'];
  for (let i = 1; i < longidx; i++) zargv.push(argv[i]!);
  for (let i = 0; i < elements; i++) {
    const base = longidx + i * 3;
    const xy = extractLongLat(c, argv[base]!, argv[base + 1]!);
    if (xy === null) return;
    zargv.push(String(geoScore(xy[0], xy[1])), argv[base + 2]!);
  }
  // replaceClientCommandVector + zaddCommand: the ZADD is also what gets propagated
  zaddCommandWithArgv(c, zargv);
}

function geoposCommand(c: Client): void {
  const zs = readZset(c, c.argv[1]!);
  if (zs === null) return;
  let out = '*' + (c.argv.length - 2) + '\r\n';
  const nul = c.resp === 2 ? '*-1\r\n' : '_\r\n';
  for (let j = 2; j < c.argv.length; j++) {
    const s = zs === undefined ? undefined : zs.score(c.argv[j]!);
    if (s === undefined) {
      out += nul;
      continue;
    }
    const [x, y] = decodeGeohash(s);
    out += '*2\r\n' + human(c, x) + human(c, y);
  }
  c.addRaw(out);
}

function geodistCommand(c: Client): void {
  let toMeter = 1;
  if (c.argv.length === 5) {
    toMeter = extractUnit(c, c.argv[4]!);
    if (toMeter < 0) return;
  } else if (c.argv.length > 5) {
    c.addError(ERR.syntax);
    return;
  }
  const zs = readZset(c, c.argv[1]!);
  if (zs === null) return;
  if (zs === undefined) {
    c.addNull();
    return;
  }
  const s1 = zs.score(c.argv[2]!);
  const s2 = s1 === undefined ? undefined : zs.score(c.argv[3]!);
  if (s1 === undefined || s2 === undefined) {
    c.addNull();
    return;
  }
  const [x1, y1] = decodeGeohash(s1);
  const [x2, y2] = decodeGeohash(s2);
  c.addBulk(formatDistance(geohashGetDistance(x1, y1, x2, y2) / toMeter));
}

function geohashCommand(c: Client): void {
  const zs = readZset(c, c.argv[1]!);
  if (zs === null) return;
  let out = '*' + (c.argv.length - 2) + '\r\n';
  const nul = c.resp === 2 ? '$-1\r\n' : '_\r\n';
  for (let j = 2; j < c.argv.length; j++) {
    const s = zs === undefined ? undefined : zs.score(c.argv[j]!);
    out += s === undefined ? nul : bulk(standardGeohash(s));
  }
  c.addRaw(out);
}

// ---- searches --------------------------------------------------------------------------------

/** A point found by a search (geoPoint). */
interface GeoPoint {
  lon: number;
  lat: number;
  dist: number;
  score: number;
  member: string;
}

/** geoAppendIfWithinShape */
function appendIfWithinShape(ga: GeoPoint[], shape: GeoShape, score: number, member: string): void {
  const [x, y] = decodeGeohash(score);
  let distance: number;
  if (shape.circular) {
    distance = geohashGetDistance(shape.lon, shape.lat, x, y);
    if (distance > shape.radius * shape.conversion) return;
  } else {
    distance = distanceIfInRectangle(shape.width * shape.conversion, shape.height * shape.conversion, shape.lon, shape.lat, x, y);
    if (distance < 0) return;
  }
  ga.push({ lon: x, lat: y, dist: distance, score, member });
}

/** geoGetPointsInRange: the members with min <= score < max that are inside the shape. */
function pointsInRange(zs: ZSet, min: number, max: number, shape: GeoShape, ga: GeoPoint[], limit: number): void {
  const range: ScoreRange = { min, max, minex: false, maxex: true };
  const first = zs.firstInRange(range);
  if (first < 0) return;
  const cur = zs.cursorAt(first);
  let leaf: ZLeaf | null = cur.leaf;
  let i = cur.i;
  while (leaf !== null) {
    const s = leaf.s[i]!;
    if (!scoreLteMax(s, range)) break;
    appendIfWithinShape(ga, shape, s, leaf.m[i]!);
    if (ga.length && limit && ga.length >= limit) break;
    if (++i >= leaf.m.length) {
      leaf = leaf.next;
      i = 0;
    }
  }
}

/** membersOfAllNeighbors, with its quirk: a box equal to box 0 is not skipped. */
function membersOfAllNeighbors(zs: ZSet, boxes: GeoHashBits[], shape: GeoShape, ga: GeoPoint[], limit: number): void {
  let lastProcessed = 0;
  for (let i = 0; i < boxes.length; i++) {
    const b = boxes[i]!;
    if (b.bits === 0 && b.step === 0) continue;
    if (lastProcessed && b.bits === boxes[lastProcessed]!.bits && b.step === boxes[lastProcessed]!.step) continue;
    if (ga.length && limit && ga.length >= limit) break;
    const [min, max] = scoresOfGeoHashBox(b);
    pointsInRange(zs, min, max, shape, ga, limit);
    lastProcessed = i;
  }
}

function cmpAsc(a: GeoPoint, b: GeoPoint): number {
  return a.dist > b.dist ? 1 : a.dist === b.dist ? 0 : -1;
}
function cmpDesc(a: GeoPoint, b: GeoPoint): number {
  return -cmpAsc(a, b);
}

const RADIUS_COORDS = 1;
const RADIUS_MEMBER = 2;
const RADIUS_NOSTORE = 4;
const GEOSEARCH = 8;
const GEOSEARCHSTORE = 16;

const SORT_NONE = 0;
const SORT_ASC = 1;
const SORT_DESC = 2;

/** georadiusGeneric: GEORADIUS[_RO], GEORADIUSBYMEMBER[_RO], GEOSEARCH, GEOSEARCHSTORE. */
function georadiusGeneric(c: Client, srcKeyIndex: number, flags: number): void {
  const argv = c.argv;
  let storekey: string | null = null;
  let storedist = false;
  const zobj = readZset(c, argv[srcKeyIndex]!);
  if (zobj === null) return;
  const shape: GeoShape = { circular: true, lon: 0, lat: 0, radius: 0, width: 0, height: 0, conversion: 0, bounds: [0, 0, 0, 0] };
  let baseArgs: number;
  if (flags & RADIUS_COORDS) {
    baseArgs = 6;
    const xy = extractLongLat(c, argv[2]!, argv[3]!);
    if (xy === null) return;
    shape.lon = xy[0];
    shape.lat = xy[1];
    if (!extractDistance(c, argv[baseArgs - 2]!, argv[baseArgs - 1]!, shape)) return;
  } else if (flags & RADIUS_MEMBER && zobj === undefined) {
    baseArgs = 5;
  } else if (flags & RADIUS_MEMBER) {
    baseArgs = 5;
    const s = zobj!.score(argv[2]!);
    if (s === undefined) {
      c.addError('ERR could not decode requested zset member');
      return;
    }
    [shape.lon, shape.lat] = decodeGeohash(s);
    if (!extractDistance(c, argv[baseArgs - 2]!, argv[baseArgs - 1]!, shape)) return;
  } else {
    baseArgs = 2;
    if (flags & GEOSEARCHSTORE) {
      baseArgs = 3;
      storekey = argv[1]!;
    }
  }
  let withdist = false;
  let withhash = false;
  let withcoords = false;
  let frommember = false;
  let fromloc = false;
  let byradius = false;
  let bybox = false;
  let sort = SORT_NONE;
  let any = false;
  let count = 0;
  const remaining = argv.length - baseArgs;
  for (let i = 0; i < remaining; i++) {
    const arg = argv[baseArgs + i]!.toLowerCase();
    if (arg === 'withdist') withdist = true;
    else if (arg === 'withhash') withhash = true;
    else if (arg === 'withcoord') withcoords = true;
    else if (arg === 'any') any = true;
    else if (arg === 'asc') sort = SORT_ASC;
    else if (arg === 'desc') sort = SORT_DESC;
    else if (arg === 'count' && i + 1 < remaining) {
      const v = parseInt64(argv[baseArgs + i + 1]!);
      if (v === null) {
        c.addError(ERR.notInteger);
        return;
      }
      if (v <= 0n) {
        c.addError('ERR COUNT must be > 0');
        return;
      }
      count = Number(v);
      i++;
    } else if (arg === 'store' && i + 1 < remaining && !(flags & RADIUS_NOSTORE) && !(flags & GEOSEARCH)) {
      storekey = argv[baseArgs + i + 1]!;
      storedist = false;
      i++;
    } else if (arg === 'storedist' && i + 1 < remaining && !(flags & RADIUS_NOSTORE) && !(flags & GEOSEARCH)) {
      storekey = argv[baseArgs + i + 1]!;
      storedist = true;
      i++;
    } else if (arg === 'storedist' && flags & GEOSEARCH && flags & GEOSEARCHSTORE) {
      storedist = true;
    } else if (arg === 'frommember' && i + 1 < remaining && flags & GEOSEARCH && !fromloc) {
      if (zobj === undefined) {
        frommember = true;
        i++;
        continue;
      }
      const s = zobj.score(argv[baseArgs + i + 1]!);
      if (s === undefined) {
        c.addError('ERR could not decode requested zset member');
        return;
      }
      [shape.lon, shape.lat] = decodeGeohash(s);
      frommember = true;
      i++;
    } else if (arg === 'fromlonlat' && i + 2 < remaining && flags & GEOSEARCH && !frommember) {
      const xy = extractLongLat(c, argv[baseArgs + i + 1]!, argv[baseArgs + i + 2]!);
      if (xy === null) return;
      shape.lon = xy[0];
      shape.lat = xy[1];
      fromloc = true;
      i += 2;
    } else if (arg === 'byradius' && i + 2 < remaining && flags & GEOSEARCH && !bybox) {
      if (!extractDistance(c, argv[baseArgs + i + 1]!, argv[baseArgs + i + 2]!, shape)) return;
      shape.circular = true;
      byradius = true;
      i += 2;
    } else if (arg === 'bybox' && i + 3 < remaining && flags & GEOSEARCH && !byradius) {
      if (!extractBox(c, argv[baseArgs + i + 1]!, argv[baseArgs + i + 2]!, argv[baseArgs + i + 3]!, shape)) return;
      shape.circular = false;
      bybox = true;
      i += 3;
    } else {
      c.addError(ERR.syntax);
      return;
    }
  }
  if (storekey !== null && (withdist || withhash || withcoords)) {
    c.addError(`ERR ${flags & GEOSEARCHSTORE ? 'GEOSEARCHSTORE' : 'STORE option in GEORADIUS'} is not compatible with WITHDIST, WITHHASH and WITHCOORD options`);
    return;
  }
  if (flags & GEOSEARCH && !(frommember || fromloc)) {
    c.addError(`ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ${argv[0]}`);
    return;
  }
  if (flags & GEOSEARCH && !(byradius || bybox)) {
    c.addError(`ERR exactly one of BYRADIUS and BYBOX can be specified for ${argv[0]}`);
    return;
  }
  if (any && !count) {
    c.addError('ERR the ANY argument requires COUNT argument');
    return;
  }
  if (zobj === undefined) {
    if (storekey !== null) {
      if (c.db.deleteKey(storekey)) c.server.keyspace.notify(NOTIFY_GENERIC, 'del', storekey, c.db.id);
      c.addInt(0);
    } else {
      c.addArrayLen(0);
    }
    return;
  }
  if (count !== 0 && sort === SORT_NONE && !any) sort = SORT_ASC;
  const boxes = geohashCalculateAreasByShapeWGS84(shape);
  const ga: GeoPoint[] = [];
  membersOfAllNeighbors(zobj, boxes, shape, ga, any ? count : 0);
  if (ga.length === 0 && storekey === null) {
    c.addArrayLen(0);
    return;
  }
  const resultLength = ga.length;
  const returned = count === 0 || resultLength < count ? resultLength : count;
  if (sort !== SORT_NONE) {
    const cmp = sort === SORT_ASC ? cmpAsc : cmpDesc;
    // glibc 2.36's qsort is a merge sort here: stable
    if (returned === resultLength) ga.sort(cmp);
    else pqsort(ga, cmp, 0, returned - 1);
  }
  if (storekey === null) {
    let optionLength = 0;
    if (withdist) optionLength++;
    if (withcoords) optionLength++;
    if (withhash) optionLength++;
    let out = '*' + returned + '\r\n';
    for (let i = 0; i < returned; i++) {
      const gp = ga[i]!;
      const dist = gp.dist / shape.conversion;
      if (optionLength) out += '*' + (optionLength + 1) + '\r\n';
      out += bulk(gp.member);
      if (withdist) out += bulk(formatDistance(dist));
      if (withhash) out += ':' + truncToInt64String(gp.score) + '\r\n';
      if (withcoords) out += '*2\r\n' + human(c, gp.lon) + human(c, gp.lat);
    }
    c.addRaw(out);
    return;
  }
  if (returned) {
    const dst = new ZSet(false);
    for (let i = 0; i < returned; i++) {
      const gp = ga[i]!;
      const dist = gp.dist / shape.conversion;
      // Redis asserts on a duplicate (overlapping boxes of a huge radius); keep the first
      if (!dst.has(gp.member)) dst.insertNew(storedist ? dist : gp.score, gp.member);
    }
    dst.convertToListpackIfFits(zsetLimits(c));
    c.db.setKey(storekey, dst);
    if (returned > 1) c.db.modified(storekey, returned - 1);
    c.server.keyspace.notify(NOTIFY_ZSET, flags & GEOSEARCH ? 'geosearchstore' : 'georadiusstore', storekey, c.db.id);
  } else if (c.db.deleteKey(storekey)) {
    c.server.keyspace.notify(NOTIFY_GENERIC, 'del', storekey, c.db.id);
  }
  c.addInt(returned);
}

/** (long long)d as C converts it, for WITHHASH. */
function truncToInt64String(d: number): string {
  const t = Math.trunc(d);
  if (Number.isSafeInteger(t)) return String(t);
  return BigInt.asIntN(64, BigInt(t)).toString();
}

/** extractDistanceOrReply: radius and unit into the shape; false after an error reply. */
function extractDistance(c: Client, num: string, unit: string, shape: GeoShape): boolean {
  const d = parseDouble(num);
  if (d === null) {
    c.addError('ERR need numeric radius');
    return false;
  }
  if (d < 0) {
    c.addError('ERR radius cannot be negative');
    return false;
  }
  shape.radius = d;
  const m = extractUnit(c, unit);
  if (m < 0) return false;
  shape.conversion = m;
  return true;
}

/** extractBoxOrReply: width, height and unit into the shape; false after an error reply. */
function extractBox(c: Client, w: string, h: string, unit: string, shape: GeoShape): boolean {
  const width = parseDouble(w);
  if (width === null) {
    c.addError('ERR need numeric width');
    return false;
  }
  const height = parseDouble(h);
  if (height === null) {
    c.addError('ERR need numeric height');
    return false;
  }
  if (height < 0 || width < 0) {
    c.addError('ERR height or width cannot be negative');
    return false;
  }
  shape.height = height;
  shape.width = width;
  const m = extractUnit(c, unit);
  if (m < 0) return false;
  shape.conversion = m;
  return true;
}

/** Handlers of the geo command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const geoCommands: Record<string, Handler> = {
  geoadd: geoaddCommand,
  geopos: geoposCommand,
  geodist: geodistCommand,
  geohash: geohashCommand,
  georadius: (c) => georadiusGeneric(c, 1, RADIUS_COORDS),
  georadiusbymember: (c) => georadiusGeneric(c, 1, RADIUS_MEMBER),
  georadius_ro: (c) => georadiusGeneric(c, 1, RADIUS_COORDS | RADIUS_NOSTORE),
  georadiusbymember_ro: (c) => georadiusGeneric(c, 1, RADIUS_MEMBER | RADIUS_NOSTORE),
  geosearch: (c) => georadiusGeneric(c, 1, GEOSEARCH),
  geosearchstore: (c) => georadiusGeneric(c, 2, GEOSEARCH | GEOSEARCHSTORE),
};
