/**
 * Per-command latency histograms, as Redis 7.0 keeps them in `redisCommand.latency_histogram`
 * (call() in src/server.c records each command's duration when `latency-tracking` is on). Read by
 * INFO latencystats (percentiles) and LATENCY HISTOGRAM (the cumulative distribution).
 */

/**
 * A latency histogram with the layout of the hdr_histogram Redis 7.0 keeps per command
 * (hdr_init(1, 1e9, 2)): values in ns, 2 significant digits, 23 buckets of 128 half-sub-buckets.
 * Percentiles come out as hdr_value_at_percentile gives them (the highest value equivalent to
 * the bucket), so `p50=2.007` means what it means in Redis.
 */
export class LatencyHistogram {
  static readonly SUB_BUCKET_HALF_COUNT_MAGNITUDE = 7;
  static readonly SUB_BUCKET_HALF_COUNT = 128;
  static readonly SUB_BUCKET_MASK = 255;
  static readonly COUNTS_LEN = 24 * 128;
  readonly counts = new Float64Array(LatencyHistogram.COUNTS_LEN);
  total = 0;

  private static bucketIndex(v: number): number {
    // 64 - clz64(v | mask) - (half magnitude + 1); values stay below 2^31 (1e9 max)
    return 32 - Math.clz32(v | LatencyHistogram.SUB_BUCKET_MASK) - 8;
  }

  private static countsIndex(v: number): number {
    const b = LatencyHistogram.bucketIndex(v);
    const sub = v >>> b; // v < 2^31 (see record), so this is floor(v / 2^b)
    return ((b + 1) << LatencyHistogram.SUB_BUCKET_HALF_COUNT_MAGNITUDE) + (sub - LatencyHistogram.SUB_BUCKET_HALF_COUNT);
  }

  /** Records a duration in ns, clamped to [1, 1e9] as updateCommandLatencyHistogram does. */
  record(ns: number): void {
    const v = ns < 1 ? 1 : ns > 1e9 ? 1e9 : Math.floor(ns);
    this.counts[LatencyHistogram.countsIndex(v)]!++;
    this.total++;
  }

  private static valueAtIndex(index: number): number {
    let bucket = (index >> LatencyHistogram.SUB_BUCKET_HALF_COUNT_MAGNITUDE) - 1;
    let sub = (index & (LatencyHistogram.SUB_BUCKET_HALF_COUNT - 1)) + LatencyHistogram.SUB_BUCKET_HALF_COUNT;
    if (bucket < 0) {
      sub -= LatencyHistogram.SUB_BUCKET_HALF_COUNT;
      bucket = 0;
    }
    return sub * 2 ** bucket;
  }

  /** lowest_equivalent_value: the first value of the sub-bucket `v` falls in. */
  private static lowestEquivalent(v: number): number {
    const b = LatencyHistogram.bucketIndex(v);
    return Math.floor(v / 2 ** b) * 2 ** b;
  }

  private static highestEquivalent(v: number): number {
    const b = LatencyHistogram.bucketIndex(v);
    const sub = Math.floor(v / 2 ** b);
    const lowest = sub * 2 ** b;
    const adjusted = sub >= 256 ? b + 1 : b;
    return lowest + 2 ** adjusted - 1;
  }

  /** hdr_value_at_percentile, in ns. */
  valueAtPercentile(percentile: number): number {
    const p = percentile < 100 ? percentile : 100;
    let want = Math.floor((p / 100) * this.total + 0.5);
    if (want < 1) want = 1;
    let sum = 0;
    for (let i = 0; i < LatencyHistogram.COUNTS_LEN; i++) {
      sum += this.counts[i]!;
      if (sum >= want) {
        const v = LatencyHistogram.valueAtIndex(i);
        return percentile === 0 ? v : LatencyHistogram.highestEquivalent(v);
      }
    }
    return 0;
  }

  /**
   * The cumulative distribution LATENCY HISTOGRAM replies (fillCommandCDF in Redis 7.0's
   * src/latency.c): hdr_iter_log_init(h, 1024, 2) steps through the reporting levels 1024 ns,
   * 2048 ns, ... and at each one takes the first sub-bucket at or above it; a step is kept only
   * when the cumulative count grew. Returns flat pairs [usec, calls up to it, ...] (usec: that
   * sub-bucket's highest equivalent value in ns / 1000, truncated).
   */
  cdf(): number[] {
    const out: number[] = [];
    const H = LatencyHistogram;
    let level = 1024;
    let levelLowest = H.lowestEquivalent(level);
    let index = -1;
    let cumulative = 0;
    let value = 0;
    let highest = 0;
    let previous = 0;
    // log_iter_next, with move_next inlined; hdr_iter_init starts at index -1, value 0
    while (cumulative < this.total || (index < H.COUNTS_LEN && H.valueAtIndex(index + 1) > levelLowest)) {
      let exhausted = false;
      for (;;) {
        if (value >= levelLowest) {
          level *= 2;
          levelLowest = H.lowestEquivalent(level);
          break;
        }
        // past the last sub-bucket (a value near the 1 s maximum): hdr still reports this step,
        // at the last sub-bucket's highest value, and then ends
        if (++index >= H.COUNTS_LEN) {
          exhausted = true;
          break;
        }
        cumulative += this.counts[index]!;
        value = H.valueAtIndex(index);
        highest = H.highestEquivalent(value);
      }
      if (cumulative > previous) out.push(Math.floor(highest / 1000), cumulative);
      previous = cumulative;
      if (exhausted) break;
    }
    return out;
  }
}

/**
 * Histograms keyed by a spec's stats object: CONFIG RESETSTAT gives every spec a new stats object
 * (resetStats), which drops its histogram as Redis's resetCommandTableStats does.
 */
const histograms = new WeakMap<object, LatencyHistogram>();

/** The latency histogram of a command, or undefined when it never ran with tracking on. */
export function latencyHistogram(spec: { stats: object }): LatencyHistogram | undefined {
  return histograms.get(spec.stats);
}

/** The latency histogram of a command, created empty on its first use. */
export function ensureLatencyHistogram(spec: { stats: object }): LatencyHistogram {
  let h = histograms.get(spec.stats);
  if (h === undefined) histograms.set(spec.stats, (h = new LatencyHistogram()));
  return h;
}
