import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeGeohash, formatDistance, formatFixed, formatHumanDouble, geoScore, geohashEncodeWGS84, geohashGetDistance,
  geohashEstimateStepsByRadius, interleave64, neighbors, standardGeohash, scoresOfGeoHashBox,
} from '../../src/util/geohash.js';
import { pqsort } from '../../src/util/pqsort.js';

// Values Redis 7.0.15 returns for the documentation's Sicily example.
const PALERMO = 3479099956230698;
const CATANIA = 3479447370796909;

test('GEOADD scores of known places', () => {
  assert.equal(geoScore(13.361389, 38.115556), PALERMO);
  assert.equal(geoScore(15.087269, 37.502669), CATANIA);
  assert.equal(geoScore(-180, -85.05112878), 0);
  // the offsets of the east and north edges are 2^26: they overflow into bits 52 and 53, as in Redis
  assert.equal(geoScore(180, 85.05112878), 13510798882111488);
  assert.equal(geoScore(180, 0), 10133099161583616);
  assert.deepEqual(decodeGeohash(13510798882111488).map(formatHumanDouble), ['180', '85.0511287799999991']);
  assert.equal(geohashEncodeWGS84(0, 86, 26), null);
});

test('decoding gives Redis coordinates, printed as addReplyHumanLongDouble does', () => {
  const [x, y] = decodeGeohash(PALERMO);
  assert.equal(formatHumanDouble(x), '13.36138933897018433');
  assert.equal(formatHumanDouble(y), '38.11555639549629859');
  const [x2, y2] = decodeGeohash(CATANIA);
  assert.equal(formatHumanDouble(x2), '15.08726745843887329');
  assert.equal(formatHumanDouble(y2), '37.50266842333162032');
});

test('distances and GEOHASH strings', () => {
  const [x1, y1] = decodeGeohash(PALERMO);
  const [x2, y2] = decodeGeohash(CATANIA);
  const d = geohashGetDistance(x1, y1, x2, y2);
  assert.equal(formatDistance(d), '166274.1516');
  assert.equal(formatDistance(d / 1000), '166.2742');
  assert.equal(formatDistance(d / 1609.34), '103.3182');
  assert.equal(standardGeohash(PALERMO), 'sqc8b49rny0');
  assert.equal(standardGeohash(CATANIA), 'sqdtr74hyu0');
  assert.equal(formatDistance(geohashGetDistance(15, 37, x1, y1) / 1000), '190.4424');
  assert.equal(formatDistance(geohashGetDistance(15, 37, x2, y2) / 1000), '56.4413');
});

test('encode/decode round trip stays within the step-26 cell', () => {
  fc.assert(
    // away from the east and north edges, whose offsets overflow (see above)
    fc.property(fc.double({ min: -180, max: 179.9999, noNaN: true }), fc.double({ min: -85.05112878, max: 85.05, noNaN: true }), (lon, lat) => {
      const [x, y] = decodeGeohash(geoScore(lon, lat));
      assert.ok(Math.abs(x - lon) <= 360 / 2 ** 26, `lon ${lon} -> ${x}`);
      assert.ok(Math.abs(y - lat) <= 170.10225756 / 2 ** 26, `lat ${lat} -> ${y}`);
    }),
    { numRuns: 2000 },
  );
});

test('interleave puts latitude bits in even positions', () => {
  assert.equal(interleave64(1, 0), 1);
  assert.equal(interleave64(0, 1), 2);
  assert.equal(interleave64(0xffff, 0), 0x55555555);
  assert.equal(interleave64(0x3ffffff, 0x3ffffff), 2 ** 52 - 1);
  assert.equal(interleave64(1 << 26, 0), 2 ** 52);
});

test('neighbours and box score ranges', () => {
  const h = { bits: 0b0110, step: 2 };
  const n = neighbors(h);
  // moving east then west returns to the same cell
  assert.deepEqual(neighbors(n.east).west, h);
  assert.deepEqual(neighbors(n.north).south, h);
  const [min, max] = scoresOfGeoHashBox({ bits: 5, step: 3 });
  assert.equal(min, 5 * 2 ** 46);
  assert.equal(max, 6 * 2 ** 46);
  assert.equal(geohashEstimateStepsByRadius(0, 0), 26);
  assert.equal(geohashEstimateStepsByRadius(1000, 0), 14);
  assert.equal(geohashEstimateStepsByRadius(1000, 70), 13);
  assert.equal(geohashEstimateStepsByRadius(1000, 85), 12);
  assert.equal(geohashEstimateStepsByRadius(5e7, 0), 1);
});

test('%f formatting rounds exact ties to even, as glibc', () => {
  assert.equal(formatFixed(0.03125, 4), '0.0312');
  assert.equal(formatFixed(0.09375, 4), '0.0938');
  assert.equal(formatFixed(-0.03125, 4), '-0.0312');
  assert.equal(formatFixed(2 ** -18, 17), '0.00000381469726562');
  assert.equal(formatFixed(3 * 2 ** -18, 17), '0.00001144409179688');
  assert.equal(formatFixed(-0, 6), '-0.000000');
  assert.equal(formatFixed(1e21, 4), '1000000000000000000000.0000');
  assert.equal(formatFixed(200, 6), '200.000000');
  assert.equal(formatHumanDouble(179.99999999999997), '179.99999999999997158');
  assert.equal(formatHumanDouble(-0), '0');
  assert.equal(formatHumanDouble(-1e-30), '0');
  assert.equal(formatHumanDouble(12.5), '12.5');
});

test('pqsort puts the requested prefix in sorted order', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 200 }), fc.nat(), (xs, k0) => {
      if (xs.length === 0) return;
      const k = k0 % xs.length;
      const a = xs.map((v, i) => ({ v, i }));
      pqsort(a, (x, y) => (x.v > y.v ? 1 : x.v === y.v ? 0 : -1), 0, k);
      const sorted = xs.slice().sort((x, y) => x - y);
      assert.deepEqual(a.slice(0, k + 1).map((e) => e.v), sorted.slice(0, k + 1));
      assert.deepEqual(a.map((e) => e.i).sort((x, y) => x - y), xs.map((_, i) => i));
    }),
    { numRuns: 300 },
  );
});
