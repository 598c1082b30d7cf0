/**
 * The latency monitor's arithmetic against Redis 7.0.15's src/latency.c and src/sparkline.c: the
 * per-second ring of samples, RESET, analyzeLatencyForEvent's integer averages, the sparkline of
 * LATENCY GRAPH (the expected texts were printed by redis-server), the DOCTOR report's branches,
 * and LATENCY HISTOGRAM's log-stepped cumulative distribution.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LatencyMonitor, LATENCY_TS_LEN, sparkline, type DoctorFacts } from '../../src/server/latency-monitor.js';
import { LatencyHistogram } from '../../src/server/latency-histogram.js';

function monitorAt(start: number): { m: LatencyMonitor; clock: { now: number } } {
  const m = new LatencyMonitor();
  const clock = { now: start };
  m.now = () => clock.now;
  return { m, clock };
}

const FACTS: DoctorFacts = { slowlogSlowerThan: 10000, fsyncAlways: false, hz: 10, anonHugePages: 0 };

test('samples: one per second (the worst), the last 160 seconds, all-time max kept', () => {
  const { m, clock } = monitorAt(1_000_000);
  m.threshold = 10;
  m.addSampleIfNeeded('command', 9.99);
  assert.equal(m.events.size, 0, 'under the threshold: nothing');
  m.threshold = 0;
  m.addSampleIfNeeded('command', 500);
  assert.equal(m.events.size, 0, 'threshold 0: the monitor is off');
  m.threshold = 10;
  m.addSampleIfNeeded('command', 10.7);
  m.addSampleIfNeeded('command', 30);
  m.addSampleIfNeeded('command', 20);
  const ts = m.events.get('command')!;
  assert.deepEqual(m.samples(ts), [[1_000_000, 30]], 'the same second keeps its worst, in whole ms');
  for (let i = 1; i <= LATENCY_TS_LEN + 5; i++) {
    clock.now++;
    m.addSample('command', i === 3 ? 999 : 11);
  }
  const samples = m.samples(ts);
  assert.equal(samples.length, LATENCY_TS_LEN);
  assert.deepEqual(samples[0], [1_000_000 + 6, 11], 'oldest first, the first six seconds overwritten');
  assert.deepEqual(m.latest(ts), [clock.now, 11]);
  assert.equal(ts.max, 999, 'the all-time high outlives its sample');
});

test('RESET matches events without regard to case and counts them', () => {
  const { m } = monitorAt(1);
  m.addSample('command', 5);
  m.addSample('fast-command', 5);
  m.addSample('aof-write', 5);
  assert.equal(m.reset('COMMAND'), 1);
  assert.equal(m.reset('nosuch'), 0);
  assert.deepEqual([...m.events.keys()], ['fast-command', 'aof-write']);
  assert.equal(m.reset(), 2);
  assert.equal(m.events.size, 0);
});

test('analyze: integer average and mean deviation, period from the oldest sample', () => {
  const { m, clock } = monitorAt(100);
  m.addSample('e', 100);
  clock.now = 104;
  m.addSample('e', 151);
  clock.now = 108;
  assert.deepEqual(m.analyze('e'), { allTimeHigh: 151, avg: 125, min: 100, max: 151, mad: 25, samples: 2, period: 8 });
  assert.deepEqual(m.analyze('none'), { allTimeHigh: 0, avg: 0, min: 0, max: 0, mad: 0, samples: 0, period: 0 });
  const { m: m2 } = monitorAt(50);
  m2.addSample('e', 7);
  assert.equal(m2.analyze('e').period, 1, 'a period of 0 s counts as 1');
});

test('GRAPH: the sparkline and labels redis-server prints', () => {
  const { m, clock } = monitorAt(1000);
  m.addSample('command', 200);
  clock.now = 1001;
  m.addSample('command', 150);
  clock.now = 1003;
  // redis-server 7.0.15, DEBUG SLEEP 0.2 then 0.15 a second later, graphed two seconds after
  assert.equal(m.graph('command'), 'command - high 200 ms, low 150 ms (all time high 200 ms)\n' +
    '-'.repeat(80) + '\n# \n| \n| \n|_\n  \n32\nss\n');
  assert.equal(m.graph('nosuch'), null);
  // labels by age: seconds, minutes, hours, days
  const { m: m2, clock: c2 } = monitorAt(0);
  for (const t of [1, 2, 3, 4]) {
    c2.now = t;
    m2.addSample('e', t * 10);
  }
  c2.now = 4 + 86400 * 2;
  assert.match(m2.graph('e')!, /\n {4}\n2222\ndddd\n$/);
  c2.now = 4 + 7200;
  assert.match(m2.graph('e')!, /\n {4}\n2222\nhhhh\n$/);
  c2.now = 4 + 180;
  assert.match(m2.graph('e')!, /\n {4}\n3333\nmmmm\n$/);
});

test('sparkline: 12 steps over 4 rows, equal values on the bottom row, 80 columns per block', () => {
  assert.equal(sparkline([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [], 80, 4),
    '         _o#\n      _o#|||\n   _o#||||||\n_o#|||||||||\n');
  assert.equal(sparkline([5, 5, 5], ['a', 'bb', ''], 80, 4), '   \n   \n   \n___\n   \nab \n b \n');
  const many = sparkline(Array.from({ length: 81 }, (_, i) => i), Array.from({ length: 81 }, () => 'x'), 80, 4);
  const blocks = many.split('\n\n');
  assert.equal(blocks.length, 2, 'a second block after 80 columns');
  assert.equal(blocks[1], '#\n|\n|\n|\n \nx\n');
});

test('DOCTOR: off, quiet, events with and without advice', () => {
  const { m, clock } = monitorAt(10);
  assert.match(m.report(FACTS), /^I'm sorry, Dave, I can't do that\. Latency monitoring is disabled/);
  m.threshold = 100;
  assert.match(m.report(FACTS), /^Dave, no latency spike was observed/);
  assert.match(m.report({ ...FACTS, anonHugePages: 4096 }), /\nI have a few advices for you:\n\n- I detected a non zero amount of anonymous huge pages/);
  m.addSample('command', 150);
  clock.now = 12;
  m.addSample('command', 250);
  let r = m.report(FACTS);
  assert.match(r, /^Dave, I have observed latency spikes in this Redis instance\. You don't mind talking about it, do you Dave\?\n\n1\. command: 2 latency spikes \(average 200ms, mean deviation 50ms, period 1\.00 sec\)\. Worst all time event 250ms\.\n\nI have a few advices for you:\n\n- Check your Slow Log/);
  assert.doesNotMatch(r, /slowlog-log-slower-than/);
  r = m.report({ ...FACTS, slowlogSlowerThan: -1 });
  assert.match(r, /Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than 100000'/);
  r = m.report({ ...FACTS, slowlogSlowerThan: 200000 });
  assert.match(r, /only logs events that are slower than your configured latency monitor threshold\. Please use 'CONFIG SET slowlog-log-slower-than 100000'/);
  m.reset();
  m.addSample('aof-fsync-always', 120);
  assert.match(m.report(FACTS), /\n\nI have a few advices for you:\n\n$/, 'the always advice only under appendfsync always');
  assert.match(m.report({ ...FACTS, fsyncAlways: true }), /- Your fsync policy is set to 'always'/);
  m.reset();
  m.addSample('expire-cycle', 120);
  assert.match(m.report(FACTS), /'CONFIG SET hz 100'/);
  assert.doesNotMatch(m.report({ ...FACTS, hz: 100 }), /CONFIG SET hz/);
  m.reset();
  m.addSample('command-unblocking', 120);
  assert.match(m.report(FACTS), /\nWhile there are latency events logged, I'm not able to suggest any easy fix\./);
});

test('HISTOGRAM: the cumulative distribution at 1024 ns, 2048 ns, ... (hdr log iteration)', () => {
  const h = new LatencyHistogram();
  for (const ns of [500, 1500, 3000, 3000, 1e6]) h.record(ns);
  // each level reports the highest value of the first sub-bucket at or above it, in whole us
  assert.deepEqual(h.cdf(), [1, 1, 2, 2, 4, 4, 1056, 5]);
  const one = new LatencyHistogram();
  one.record(7300);
  assert.deepEqual(one.cdf(), [8, 1], 'one call of ~7 us, as redis-server reports a first SET');
  const max = new LatencyHistogram();
  max.record(5e9);
  // clamped to 1 s, past the last reporting level: the last sub-bucket's highest value
  assert.deepEqual(max.cdf(), [1073741, 1]);
});
