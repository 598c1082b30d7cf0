/**
 * Geo commands compared byte for byte with redis-server 7.0.15: GEOADD, GEOPOS, GEODIST, GEOHASH,
 * GEORADIUS[_RO], GEORADIUSBYMEMBER[_RO], GEOSEARCH, GEOSEARCHSTORE with every option and error,
 * RESP2 and RESP3, scores that are not geohashes, and random searches over thousands of points
 * whose distances, coordinates, hashes and order must equal Redis's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient } from '../helpers/servers.js';
import { splitArgs } from '../../src/protocol/splitargs.js';
import { compatPair } from '../helpers/compat.js';

const pair = compatPair({ clients: 'none' });
const { skip } = pair;

async function same(cmds: string[][], resp3 = false): Promise<void> {
  const a = await RawClient.connect(pair.amber.port);
  const r = await RawClient.connect(pair.redis.port);
  try {
    await a.call('FLUSHALL');
    await r.call('FLUSHALL');
    if (resp3) {
      await a.call('HELLO', '3');
      await r.call('HELLO', '3');
    }
    // in small batches: RawClient re-parses its buffer until a whole batch has arrived
    const ra: string[] = [];
    const rr: string[] = [];
    for (let i = 0; i < cmds.length; i += 10) {
      ra.push(...(await a.pipeline(cmds.slice(i, i + 10))));
      rr.push(...(await r.pipeline(cmds.slice(i, i + 10))));
    }
    let bad = 0;
    for (let i = 0; i < cmds.length; i++) {
      if (ra[i] !== rr[i] && bad++ < 3) assert.equal(ra[i], rr[i], `reply to ${JSON.stringify(cmds[i]!.join(' '))} (resp${resp3 ? 3 : 2})`);
    }
  } finally {
    a.close();
    r.close();
  }
}

const CMDS = [
  'GEOADD Sicily 13.361389 38.115556 "Palermo" 15.087269 37.502669 "Catania"',
  'GEOADD Sicily 200 100 x',
  'GEOADD Sicily -180 -85.05112878 sw 180 85.05112878 ne 0 0 zero',
  'GEOADD Sicily 180.0000001 0 x',
  'GEOADD Sicily 0 85.06 x',
  'GEOADD Sicily inf 0 x',
  'GEOADD Sicily abc 0 x',
  'GEOADD Sicily NX XX 1 1 x',
  'GEOADD Sicily NX 1 1 x 2',
  'GEOADD Sicily CH 13.361389 38.115556 "Palermo" 1 1 new',
  'GEOADD Sicily XX 1 1 nothere',
  'GEOADD Sicily GT 1 1 x',
  'ZRANGE Sicily 0 -1 WITHSCORES',
  'GEOPOS Sicily Palermo Catania NonExisting sw ne zero',
  'GEOPOS nokey a b',
  'GEODIST Sicily Palermo Catania',
  'GEODIST Sicily Palermo Catania km',
  'GEODIST Sicily Palermo Catania mi',
  'GEODIST Sicily Palermo Catania ft',
  'GEODIST Sicily Palermo Catania M',
  'GEODIST Sicily Palermo Catania parsec',
  'GEODIST Sicily Palermo Catania km extra',
  'GEODIST Sicily Palermo nope',
  'GEODIST nokey a b',
  'GEODIST Sicily sw ne km',
  'GEOHASH Sicily Palermo Catania nope sw ne zero',
  'GEOHASH nokey a',
  'GEORADIUS Sicily 15 37 200 km WITHDIST WITHCOORD',
  'GEORADIUS Sicily 15 37 200 km WITHDIST WITHCOORD WITHHASH ASC',
  'GEORADIUS Sicily 15 37 200 km DESC',
  'GEORADIUS Sicily 15 37 200 km COUNT 1',
  'GEORADIUS Sicily 15 37 200 km COUNT 1 ANY',
  'GEORADIUS Sicily 15 37 200 km ANY',
  'GEORADIUS Sicily 15 37 200 km COUNT 0',
  'GEORADIUS Sicily 15 37 200 km COUNT -1',
  'GEORADIUS Sicily 15 37 200 km COUNT abc',
  'GEORADIUS Sicily 15 37 -1 km',
  'GEORADIUS Sicily 15 37 abc km',
  'GEORADIUS Sicily 15 37 100 lightyears',
  'GEORADIUS Sicily 15 37 200 km STORE dst',
  'ZRANGE dst 0 -1 WITHSCORES',
  'GEORADIUS Sicily 15 37 200 km STOREDIST dst2',
  'ZRANGE dst2 0 -1 WITHSCORES',
  'GEORADIUS Sicily 15 37 200 km STORE dst WITHDIST',
  'GEORADIUS Sicily 15 37 1 m STORE dst',
  'EXISTS dst',
  'GEORADIUS nokey 15 37 200 km STORE dst2',
  'EXISTS dst2',
  'GEORADIUS nokey 15 37 200 km',
  'GEORADIUS nokey 215 37 200 km',
  'GEORADIUS_RO Sicily 15 37 200 km STORE dst',
  'GEORADIUS_RO Sicily 15 37 200 km WITHDIST',
  'GEORADIUSBYMEMBER Sicily Palermo 200 km WITHDIST',
  'GEORADIUSBYMEMBER Sicily nope 200 km WITHDIST',
  'GEORADIUSBYMEMBER nokey nope abc km WITHDIST',
  'GEORADIUSBYMEMBER_RO Sicily Palermo 500 km WITHCOORD DESC',
  'GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km ASC WITHCOORD WITHDIST',
  'GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 400 400 km ASC WITHCOORD WITHDIST WITHHASH',
  'GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 400 km ASC WITHDIST',
  'GEOSEARCH Sicily FROMLONLAT 15 37 FROMMEMBER Palermo BYRADIUS 200 km',
  'GEOSEARCH Sicily FROMLONLAT 15 37',
  'GEOSEARCH Sicily BYRADIUS 10 km',
  'GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km BYBOX 1 1 km',
  'GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX -1 1 km',
  'GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX a 1 km',
  'GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 a km',
  'GEOSEARCH Sicily FROMMEMBER nope BYRADIUS 1 km',
  'GEOSEARCH nokey FROMMEMBER nope BYRADIUS 1 km',
  'GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km STORE x',
  'geosearch Sicily BYRADIUS 200 km',
  'GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km ANY',
  'GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km',
  'ZRANGE dst 0 -1 WITHSCORES',
  'GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST',
  'ZRANGE dst 0 -1 WITHSCORES',
  'GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km WITHDIST',
  'GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 mi COUNT 1 DESC STOREDIST',
  'ZRANGE dst 0 -1 WITHSCORES',
  'GEOSEARCH Sicily FROMLONLAT 0 0 BYRADIUS 50000 km WITHDIST WITHCOORD',
  'GEOSEARCH Sicily FROMLONLAT 0 0 BYRADIUS 20000 km WITHDIST',
  'GEOSEARCH Sicily FROMLONLAT 179 80 BYBOX 5000 5000 km WITHDIST',
  'SET s x',
  'GEOADD s 1 1 a',
  'GEOPOS s a',
  'GEODIST s a b',
  'GEOHASH s a',
  'GEOSEARCH s FROMLONLAT 1 1 BYRADIUS 1 km',
  'GEORADIUS s 1 1 1 km',
  'ZADD garbage 1.5 a -1 b 1e300 c -1e300 d inf e -inf f 4503599627370496 g 9007199254740993 h',
  'GEOPOS garbage a b c d e f g h',
  'GEOHASH garbage a b c d e f g h',
  'GEODIST garbage a b',
  'GEOSEARCH garbage FROMLONLAT 0 0 BYRADIUS 30000 km WITHDIST WITHHASH',
];

test('geo commands, options and errors, RESP2 and RESP3', { skip }, async () => {
  const cmds = CMDS.map((l) => splitArgs(l)!);
  await same(cmds);
  await same(cmds, true);
});

test('geo commands on a skiplist-encoded set', { skip }, async () => {
  const cmds = [['CONFIG', 'SET', 'zset-max-listpack-entries', '0'], ...CMDS.map((l) => splitArgs(l)!), ['CONFIG', 'SET', 'zset-max-listpack-entries', '128']];
  await same(cmds);
});

/** Random points (dense near Sicily, at the poles' limits, around the antimeridian, anywhere). */
function randomWorkload(seed: number, points: number, searches: number): string[][] {
  let s = seed;
  const rnd = (): number => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
  const cmds: string[][] = [];
  for (let i = 0; i < points; i++) {
    const region = rnd();
    let lon: number;
    let lat: number;
    if (region < 0.5) { lon = 13 + rnd() * 3; lat = 37 + rnd() * 2; }
    else if (region < 0.6) { lon = 179 + rnd(); lat = -85 + rnd() * 5; }
    else if (region < 0.7) { lon = -180 + rnd() * 2; lat = 80 + rnd() * 5.05; }
    else { lon = -180 + rnd() * 360; lat = -85.05 + rnd() * 170.1; }
    cmds.push(['GEOADD', 'g', lon.toFixed(6 + (i % 5)), lat.toFixed(6 + (i % 3)), 'm' + i]);
  }
  for (let i = 0; i < 30; i++) cmds.push(['GEOADD', 'g', '14', '38', 'dup' + i]);
  const units = ['m', 'km', 'mi', 'ft'];
  for (let i = 0; i < searches; i++) {
    const lon = (rnd() < 0.5 ? 13 + rnd() * 3 : -180 + rnd() * 360).toFixed(5);
    const lat = (rnd() < 0.5 ? 37 + rnd() * 2 : -85 + rnd() * 170).toFixed(5);
    const unit = units[Math.floor(rnd() * 4)]!;
    const cmd = ['GEOSEARCH', 'g'];
    if (rnd() < 0.3) cmd.push('FROMMEMBER', 'm' + Math.floor(rnd() * points));
    else cmd.push('FROMLONLAT', lon, lat);
    const size = String(Math.floor(Math.pow(10, rnd() * 7)) / (unit === 'm' || unit === 'ft' ? 1 : 1000));
    if (rnd() < 0.5) cmd.push('BYRADIUS', size, unit);
    else cmd.push('BYBOX', size, String(Math.floor(Math.pow(10, rnd() * 7)) / 1000), unit);
    const p = rnd();
    if (p < 0.3) cmd.push('ASC');
    else if (p < 0.6) cmd.push('DESC');
    if (rnd() < 0.4) {
      cmd.push('COUNT', String(1 + Math.floor(rnd() * 50)));
      if (rnd() < 0.2) cmd.push('ANY');
    }
    cmd.push('WITHDIST', 'WITHCOORD', 'WITHHASH');
    cmds.push(cmd);
  }
  for (let i = 0; i < searches * 2; i++) cmds.push(['GEODIST', 'g', 'm' + Math.floor(rnd() * points), 'm' + Math.floor(rnd() * points), units[i % 4]!]);
  cmds.push(['GEOPOS', 'g', ...Array.from({ length: 300 }, (_, i) => 'm' + i)]);
  cmds.push(['GEOHASH', 'g', ...Array.from({ length: 300 }, (_, i) => 'm' + i)]);
  return cmds;
}

test('random searches over 2000 points: same members, order, distances, coordinates, hashes', { skip }, async () => {
  await same(randomWorkload(7, 2000, 300));
  await same(randomWorkload(11, 300, 100), true);
});
