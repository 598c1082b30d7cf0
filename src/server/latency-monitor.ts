import { readFileSync } from 'node:fs';
import { formatFixed } from '../util/number.js';
import type { Server } from './server.js';

/**
 * The latency monitor, after Redis 7.0's src/latency.c and src/sparkline.c: named events (a
 * command, an AOF write, an expire cycle...) whose duration reached `latency-monitor-threshold`
 * milliseconds are kept as one time series per event, at most one sample per second (the
 * second's worst), the last {@link LATENCY_TS_LEN} seconds that had one. LATENCY LATEST, HISTORY,
 * GRAPH, DOCTOR and RESET read it.
 *
 * Events Amber reports, with Redis's names: `command` and `fast-command` (a command's run, by its
 * `fast` flag), `command-unblocking` (serving a blocked client), `expire-cycle`, `eviction-cycle`
 * and `eviction-del`, `aof-write` with `aof-write-alone`, `aof-write-active-child` or
 * `aof-write-pending-fsync`, `aof-fsync-always`, `aof-rename` and `rdb-unlink-temp-file`. Amber
 * never forks, so there is no `fork` event.
 */

/** Samples kept per event (LATENCY_TS_LEN in latency.h). */
export const LATENCY_TS_LEN = 160;

/** One event's samples (struct latencyTimeSeries): a ring of LATENCY_TS_LEN slots. */
export class LatencyTimeSeries {
  /** the next slot to write */
  idx = 0;
  /** the worst latency ever seen for this event, ms */
  max = 0;
  /** per slot: unix time in seconds of the sample, 0 for an empty slot */
  readonly time = new Float64Array(LATENCY_TS_LEN);
  /** per slot: latency in ms */
  readonly latency = new Float64Array(LATENCY_TS_LEN);
}

/** What analyzeLatencyForEvent derives from an event's samples (struct latencyStats), in ms. */
export interface LatencyStats {
  allTimeHigh: number;
  avg: number;
  min: number;
  max: number;
  /** mean absolute deviation from avg */
  mad: number;
  samples: number;
  /** seconds from the oldest sample to now (at least 1 when there are samples) */
  period: number;
}

/** Facts about the server the DOCTOR report's advice depends on. */
export interface DoctorFacts {
  /** slowlog-log-slower-than, microseconds (negative: the slow log is off) */
  slowlogSlowerThan: number;
  /** appendfsync is `always` */
  fsyncAlways: boolean;
  hz: number;
  /** bytes of transparent huge pages the process uses */
  anonHugePages: number;
}

/** The latency monitor of one server. */
export class LatencyMonitor {
  /** latency-monitor-threshold, ms; 0 disables the monitor */
  threshold = 0;
  /** event name -> its samples, in the order the events first happened */
  readonly events = new Map<string, LatencyTimeSeries>();
  /** The clock, unix seconds (a test hook). */
  now: () => number = () => Math.floor(Date.now() / 1000);

  /** latencyAddSampleIfNeeded: records `ms` when the monitor is on and it reaches the threshold. */
  addSampleIfNeeded(event: string, ms: number): void {
    if (this.threshold !== 0 && ms >= this.threshold) this.addSample(event, ms);
  }

  /**
   * latencyAddSample: adds `ms` (whole milliseconds are kept) to `event`'s series, or raises the
   * sample already taken this second if `ms` is worse.
   */
  addSample(event: string, ms: number): void {
    const latency = Math.floor(ms);
    let ts = this.events.get(event);
    if (ts === undefined) this.events.set(event, (ts = new LatencyTimeSeries()));
    if (latency > ts.max) ts.max = latency;
    const now = this.now();
    const prev = (ts.idx + LATENCY_TS_LEN - 1) % LATENCY_TS_LEN;
    if (ts.time[prev] === now) {
      if (latency > ts.latency[prev]!) ts.latency[prev] = latency;
      return;
    }
    ts.time[ts.idx] = now;
    ts.latency[ts.idx] = latency;
    ts.idx = (ts.idx + 1) % LATENCY_TS_LEN;
  }

  /**
   * latencyResetEvent: forgets `event` (matched without regard to case), or every event when
   * undefined. Returns how many were forgotten.
   */
  reset(event?: string): number {
    let resets = 0;
    const wanted = event?.toLowerCase();
    for (const name of [...this.events.keys()]) {
      if (wanted === undefined || name.toLowerCase() === wanted) {
        this.events.delete(name);
        resets++;
      }
    }
    return resets;
  }

  /** An event's samples oldest first, as [unix seconds, ms] pairs (LATENCY HISTORY). */
  samples(ts: LatencyTimeSeries): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let j = 0; j < LATENCY_TS_LEN; j++) {
      const i = (ts.idx + j) % LATENCY_TS_LEN;
      if (ts.time[i] !== 0) out.push([ts.time[i]!, ts.latency[i]!]);
    }
    return out;
  }

  /** The newest sample of a series, as [unix seconds, ms] (LATENCY LATEST). */
  latest(ts: LatencyTimeSeries): [number, number] {
    const last = (ts.idx + LATENCY_TS_LEN - 1) % LATENCY_TS_LEN;
    return [ts.time[last]!, ts.latency[last]!];
  }

  /** analyzeLatencyForEvent: averages are whole ms, as Redis's integer arithmetic gives them. */
  analyze(event: string): LatencyStats {
    const ts = this.events.get(event);
    const ls: LatencyStats = { allTimeHigh: ts?.max ?? 0, avg: 0, min: 0, max: 0, mad: 0, samples: 0, period: 0 };
    if (ts === undefined) return ls;
    let sum = 0;
    for (let j = 0; j < LATENCY_TS_LEN; j++) {
      const t = ts.time[j]!;
      if (t === 0) continue;
      const l = ts.latency[j]!;
      ls.samples++;
      if (ls.samples === 1) {
        ls.min = ls.max = l;
      } else {
        if (ls.min > l) ls.min = l;
        if (ls.max < l) ls.max = l;
      }
      sum += l;
      if (ls.period === 0 || t < ls.period) ls.period = t;
    }
    if (ls.samples > 0) {
      ls.avg = Math.floor(sum / ls.samples);
      ls.period = this.now() - ls.period;
      if (ls.period === 0) ls.period = 1;
    }
    let dev = 0;
    for (let j = 0; j < LATENCY_TS_LEN; j++) {
      if (ts.time[j] === 0) continue;
      dev += Math.abs(ls.avg - ts.latency[j]!);
    }
    if (ls.samples > 0) ls.mad = Math.floor(dev / ls.samples);
    return ls;
  }

  /**
   * LATENCY GRAPH (latencyCommandGenSparkeline): a title line, 80 dashes, then the samples as an
   * ASCII sparkline 4 rows high, each labelled with how long ago it was taken (`12s`, `3m`, `2h`,
   * `1d`). Null when the event has no series.
   */
  graph(event: string): string | null {
    const ts = this.events.get(event);
    if (ts === undefined) return null;
    const values: number[] = [];
    const labels: string[] = [];
    const now = this.now();
    for (const [time, latency] of this.samples(ts)) {
      const elapsed = now - time;
      labels.push(elapsed < 60 ? `${elapsed}s` : elapsed < 3600 ? `${Math.trunc(elapsed / 60)}m`
        : elapsed < 86400 ? `${Math.trunc(elapsed / 3600)}h` : `${Math.trunc(elapsed / 86400)}d`);
      values.push(latency);
    }
    // a series always holds a sample (addSample creates it with one), at most LATENCY_TS_LEN
    return `${event} - high ${Math.max(...values)} ms, low ${Math.min(...values)} ms (all time high ${ts.max} ms)\n` +
      '-'.repeat(GRAPH_COLS) + '\n' + sparkline(values, labels, GRAPH_COLS, 4);
  }

  /** LATENCY DOCTOR (createLatencyReport): the events' statistics and Redis's advice, word for word. */
  report(f: DoctorFacts): string {
    if (this.events.size === 0 && this.threshold === 0) {
      return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n";
    }
    const advise = new Set<Advice>();
    let advices = 0;
    let eventnum = 0;
    let report = '';
    for (const [event, ts] of this.events) {
      eventnum++;
      if (eventnum === 1) report += "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n";
      const ls = this.analyze(event);
      report += `${eventnum}. ${event}: ${ls.samples} latency spikes (average ${ls.avg}ms, mean deviation ${ls.mad}ms, period ${formatFixed(ls.period / ls.samples, 2)} sec). Worst all time event ${ts.max}ms.`;
      const e = event.toLowerCase();
      const add = (...as: Advice[]): void => {
        for (const a of as) advise.add(a);
        advices += as.length;
      };
      if (e === 'command') {
        if (f.slowlogSlowerThan < 0) add('slowlogEnabled');
        else if (Math.trunc(f.slowlogSlowerThan / 1000) > this.threshold) add('slowlogTuning');
        add('slowlogInspect', 'largeObjects');
      }
      if (e === 'fast-command') add('scheduler');
      if (e === 'aof-write-pending-fsync') add('localDisk', 'diskContention', 'ssd', 'dataWriteback');
      if (e === 'aof-write-active-child') add('noAppendfsync', 'dataWriteback', 'ssd');
      if (e === 'aof-write-alone') add('localDisk', 'dataWriteback', 'ssd');
      if (e === 'aof-fsync-always') add('relaxFsyncPolicy');
      if (e === 'aof-fstat' || e === 'rdb-unlink-temp-file') add('diskContention', 'localDisk');
      if (e === 'aof-rewrite-diff-write' || e === 'aof-rename') add('writeLoadInfo', 'dataWriteback', 'ssd', 'localDisk');
      if (e === 'expire-cycle') add('hz', 'largeObjects');
      if (e === 'eviction-del') add('largeObjects');
      if (e === 'eviction-cycle') add('massEviction');
      report += '\n';
    }
    if (f.anonHugePages > 0) {
      advise.add('disableThp');
      advices++;
    }
    if (eventnum === 0 && advices === 0) {
      return report + "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n";
    }
    if (eventnum > 0 && advices === 0) {
      return report + "\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n";
    }
    report += '\nI have a few advices for you:\n\n';
    const threshold = this.threshold * 1000;
    if (advise.has('slowlogEnabled')) report += `- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than ${threshold}'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n`;
    if (advise.has('slowlogTuning')) report += `- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than ${threshold}'.\n`;
    if (advise.has('slowlogInspect')) report += '- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n';
    if (advise.has('scheduler')) {
      report += '- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n' +
        '  1) Lower the system load.\n' +
        '  2) Use a computer / VM just for Redis if you are running other software in the same system.\n' +
        '  3) Check if you have a "noisy neighbour" problem.\n' +
        "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n" +
        '  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n';
    }
    if (advise.has('localDisk')) report += '- It is strongly advised to use local disks for persistence, especially if you are using AOF. Remote disks provided by platform-as-a-service providers are known to be slow.\n';
    if (advise.has('ssd')) report += '- SSD disks are able to reduce fsync latency, and total time needed for snapshotting and AOF log rewriting (resulting in smaller memory usage and smaller final AOF rewrite buffer flushes). With extremely high write load SSD disks can be a good option. However Redis should perform reasonably with high load using normal disks. Use this advice as a last resort.\n';
    if (advise.has('dataWriteback')) report += '- Mounting ext3/4 filesystems with data=writeback can provide a performance boost compared to data=ordered, however this mode of operation provides less guarantees, and sometimes it can happen that after a hard crash the AOF file will have a half-written command at the end and will require to be repaired before Redis restarts.\n';
    if (advise.has('diskContention')) report += '- Try to lower the disk contention. This is often caused by other disk intensive processes running in the same computer (including other Redis instances).\n';
    if (advise.has('noAppendfsync')) report += "- Assuming from the point of view of data safety this is viable in your environment, you could try to enable the 'no-appendfsync-on-rewrite' option, so that fsync will not be performed while there is a child rewriting the AOF file or producing an RDB file (the moment where there is high disk contention).\n";
    if (advise.has('relaxFsyncPolicy') && f.fsyncAlways) report += "- Your fsync policy is set to 'always'. It is very hard to get good performances with such a setup, if possible try to relax the fsync policy to 'onesec'.\n";
    if (advise.has('writeLoadInfo')) report += '- Latency during the AOF atomic rename operation or when the final difference is flushed to the AOF file at the end of the rewrite, sometimes is caused by very high write load, causing the AOF buffer to get very large. If possible try to send less commands to accomplish the same work, or use Lua scripts to group multiple operations into a single EVALSHA call.\n';
    if (advise.has('hz') && f.hz < 100) report += "- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n";
    if (advise.has('largeObjects')) report += '- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n';
    if (advise.has('massEviction')) report += '- Sudden changes to the \'maxmemory\' setting via \'CONFIG SET\', or allocation of large objects via sets or sorted sets intersections, STORE option of SORT, Redis Cluster large keys migrations (RESTORE command), may create sudden memory pressure forcing the server to block trying to evict keys. \n';
    if (advise.has('disableThp')) report += "- I detected a non zero amount of anonymous huge pages used by your process. This creates very serious latency events in different conditions, especially when Redis is persisting on disk. To disable THP support use the command 'echo never > /sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into /etc/rc.local so that the command will be executed again after a reboot. Note that even if you have already disabled THP, you still need to restart the Redis process to get rid of the huge pages already created.\n";
    return report;
  }
}

type Advice = 'slowlogEnabled' | 'slowlogTuning' | 'slowlogInspect' | 'scheduler' | 'localDisk' | 'ssd' |
  'dataWriteback' | 'diskContention' | 'noAppendfsync' | 'relaxFsyncPolicy' | 'writeLoadInfo' | 'hz' |
  'largeObjects' | 'massEviction' | 'disableThp';

/** LATENCY_GRAPH_COLS */
const GRAPH_COLS = 80;

/** sparkline.c's charsets: three levels per row, the filled one below a sample's top. */
const CHARSET_FILL = '_o#';
const LABEL_MARGIN_TOP = 1;

/**
 * sparklineRender with SPARKLINE_FILL: `values` drawn `rows` rows high, `columns` samples per
 * block (blocks separated by an empty line), each column's label (if any: `labels` may be
 * shorter, or hold '') written downwards below it.
 * Scaled between the smallest and largest value, as sparklineRenderRange does.
 */
export function sparkline(values: readonly number[], labels: readonly string[], columns: number, rows: number): string {
  let min = 0;
  let max = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (i === 0) min = max = v;
    else if (v < min) min = v;
    else if (v > max) max = v;
  }
  let out = '';
  for (let j = 0; j < values.length; j += columns) {
    if (j !== 0) out += '\n';
    out += sparklineRange(values, labels, min, max, rows, j, Math.min(columns, values.length - j));
  }
  return out;
}

function sparklineRange(values: readonly number[], labels: readonly string[], min: number, max: number, rows: number, offset: number, len: number): string {
  const charsetLen = CHARSET_FILL.length;
  const steps = charsetLen * rows;
  const relmax = max - min === 0 ? 1 : max - min;
  const hasLabels = labels.some((l) => l !== undefined && l !== '');
  let out = '';
  for (let row = 0; ; row++) {
    let more = false;
    const chars = new Array<string>(len).fill(' ');
    for (let j = 0; j < len; j++) {
      // (int)(relval * steps) / relmax, truncated again on assignment to an int
      let step = Math.trunc(Math.trunc((values[j + offset]! - min) * steps) / relmax);
      if (step < 0) step = 0;
      if (step >= steps) step = steps - 1;
      if (row < rows) {
        more = true;
        const charidx = step - (rows - row - 1) * charsetLen;
        if (charidx >= 0 && charidx < charsetLen) chars[j] = CHARSET_FILL[charidx]!;
        else if (charidx >= charsetLen) chars[j] = '|';
      } else {
        // a blank line between the graph and the labels
        if (hasLabels && row - rows < LABEL_MARGIN_TOP) {
          more = true;
          chars.fill(' ');
          break;
        }
        const label = labels[j + offset] ?? '';
        const k = row - rows - LABEL_MARGIN_TOP;
        if (label !== '' && label.length > k) {
          more = true;
          chars[j] = label[k]!;
        }
      }
    }
    if (!more) break;
    out += chars.join('') + '\n';
  }
  return out;
}

/**
 * Bytes of transparent huge pages mapped by this process (zmalloc_get_smap_bytes_by_field
 * "AnonHugePages:" over /proc/self/smaps, here its kernel-summed smaps_rollup); 0 where the
 * file is missing (not Linux).
 */
export function anonHugePagesBytes(): number {
  for (const file of ['/proc/self/smaps_rollup', '/proc/self/smaps']) {
    let text: string;
    try {
      text = readFileSync(file, 'latin1');
    } catch {
      continue;
    }
    let kb = 0;
    for (const m of text.matchAll(/^AnonHugePages:\s+(\d+) kB/gm)) kb += Number(m[1]);
    return kb * 1024;
  }
  return 0;
}

const installed = new WeakSet<Server>();

/**
 * Makes `server.latency` follow `latency-monitor-threshold` and report each command's run as
 * `command` or, for commands flagged fast, `fast-command` (call() in src/server.c; not for a
 * command that blocked, whose serving reports `command-unblocking`).
 */
export function installLatencyMonitor(server: Server): void {
  if (installed.has(server)) return;
  installed.add(server);
  const m = server.latency;
  m.threshold = server.config.get<number>('latency-monitor-threshold');
  server.config.onChange('latency-monitor-threshold', (v) => { m.threshold = v as number; });
  server.afterCommandHooks.push((c, spec, us) => {
    if (m.threshold === 0 || c.blocked) return;
    m.addSampleIfNeeded(spec.flags.has('fast') ? 'fast-command' : 'command', us / 1000);
  });
}
