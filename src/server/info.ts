import os from 'node:os';
import { resolve } from 'node:path';
import type { Server } from './server.js';
import { formatFixed } from '../util/number.js';
import { REDIS_VERSION, AMBER_VERSION } from './server.js';
import { trackingInfo } from './tracking.js';
import { BlockState } from './blocking.js';
import { installSlowlog } from './slowlog.js';
import { installMonitor } from './monitor.js';
import { installLatencyMonitor } from './latency-monitor.js';
import { maxmemoryOf } from './maxmemory.js';
import { evictedClients } from './client-eviction.js';
import { LatencyHistogram, latencyHistogram, ensureLatencyHistogram } from './latency-histogram.js';
import { withSubcommands } from '../commands/spec.js';

/**
 * INFO, after genRedisInfoString in Redis 7.0's src/server.c: the same sections, in the same
 * order, with the same field names, filled with Amber's real values where it has them (memory
 * from the V8 heap and the process RSS, CPU from process.cpuUsage) and Redis's idle values
 * elsewhere (no fork, no replicas, no defrag).
 *
 * Layers that own a subsystem fill or override fields without touching this file, through
 * {@link registerInfoProvider} (e.g. the RDB layer sets `rdb_bgsave_in_progress`, `rdb_saves`)
 * or add sections of their own with {@link registerInfoSection}.
 */

/** The fields of one INFO section, in output order. */
export class InfoSection {
  readonly names: string[] = [];
  readonly values = new Map<string, string>();

  constructor(
    /** lower-case name used to select it (`persistence`) */
    readonly name: string,
    /** header as printed after `# ` (`Persistence`) */
    readonly title: string,
  ) {}

  /** Sets a field: an existing one keeps its place, a new one goes last. */
  set(field: string, value: string | number): this {
    if (!this.values.has(field)) this.names.push(field);
    this.values.set(field, String(value));
    return this;
  }

  /** Sets a field right after `after` (or last when `after` is absent); moves it if present. */
  setAfter(after: string, field: string, value: string | number): this {
    this.delete(field);
    const i = this.names.indexOf(after);
    if (i < 0) this.names.push(field);
    else this.names.splice(i + 1, 0, field);
    this.values.set(field, String(value));
    return this;
  }

  /** A field's value as printed, or undefined. */
  get(field: string): string | undefined {
    return this.values.get(field);
  }

  /** Removes a field (e.g. one Redis prints only in some states). */
  delete(field: string): void {
    if (!this.values.delete(field)) return;
    this.names.splice(this.names.indexOf(field), 1);
  }

  /** `# Title\r\n` then `name:value\r\n` per field. */
  render(): string {
    let s = '# ' + this.title + '\r\n';
    for (const n of this.names) s += n + ':' + this.values.get(n)! + '\r\n';
    return s;
  }
}

/** Fills or overrides fields of a section when INFO runs. */
export type InfoProvider = (server: Server, section: InfoSection) => void;

interface SectionDef {
  name: string;
  title: string;
  /** part of INFO / INFO default */
  inDefault: boolean;
  /** builds the base fields; providers run after it */
  build: (server: Server, s: InfoSection) => void;
  /** only for this server, or for every server when undefined */
  server?: Server;
}

const providers = new Map<string, Array<{ fn: InfoProvider; server?: Server }>>();
const extraSections: SectionDef[] = [];

/**
 * Registers a provider that fills or overrides fields of INFO section `section` (lower-case:
 * 'persistence', 'stats', ...). Without `server` it applies to every server of the process;
 * providers run in registration order after the built-in fields, so the last one wins.
 */
export function registerInfoProvider(section: string, fn: InfoProvider, server?: Server): void {
  let l = providers.get(section);
  if (l === undefined) providers.set(section, (l = []));
  l.push({ fn, server });
}

/**
 * The loading_* fields of INFO persistence for a load begun at `startTime` (Unix seconds) that has
 * read `loadedBytes` of `totalBytes`, as genRedisInfoString computes them: the percentage, and an
 * ETA in seconds from the time elapsed (1 in the first second). `rdbUsedMem` is set when given.
 * A total that is an estimate (a LevelDB store's approximate size) may be outrun: the percentage
 * then stays at 100 and the ETA at 0.
 */
export function setLoadingFields(sec: InfoSection, startTime: number, totalBytes: number, loadedBytes: number, rdbUsedMem?: number): void {
  let perc = 0;
  let remaining = 1;
  if (totalBytes > 0) {
    perc = Math.min(100, (loadedBytes / totalBytes) * 100);
    remaining = Math.max(0, totalBytes - loadedBytes);
  }
  const elapsed = Math.floor(Date.now() / 1000) - startTime;
  sec.set('loading_start_time', startTime);
  sec.set('loading_total_bytes', totalBytes);
  if (rdbUsedMem !== undefined) sec.set('loading_rdb_used_mem', rdbUsedMem);
  sec.set('loading_loaded_bytes', loadedBytes);
  sec.set('loading_loaded_perc', formatFixed(perc, 2));
  sec.set('loading_eta_seconds', elapsed === 0 ? 1 : Math.floor((elapsed * remaining) / (loadedBytes + 1)));
}

/**
 * Adds a section of Amber's own after the Redis ones (e.g. `leveldb`). It is printed by
 * `INFO <name>` and `INFO everything` (like a module's section, not by `INFO all`), and by plain
 * `INFO` when `inDefault`.
 */
export function registerInfoSection(name: string, title: string, build: (server: Server, s: InfoSection) => void,
  opts: { inDefault?: boolean; server?: Server } = {}): void {
  extraSections.push({ name: name.toLowerCase(), title, inDefault: opts.inDefault ?? false, build, server: opts.server });
}

/** Sections of plain INFO and INFO default (genInfoSectionDict's default_sections). */
const DEFAULT_SECTIONS = ['server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'cpu', 'module_list', 'errorstats', 'cluster', 'keyspace'];

/** Per-server state INFO keeps between calls (peak memory, instantaneous metrics). */
interface InfoState {
  peakMemory: number;
  startupMemory: number;
  replid: string;
  /** ring buffers of per-second rates sampled by the cron, as trackInstantaneousMetric */
  netIn: Metric;
  netOut: Metric;
}

interface Metric {
  samples: number[];
  lastTime: number;
  lastValue: number;
}

const states = new WeakMap<Server, InfoState>();

function stateOf(server: Server): InfoState {
  let st = states.get(server);
  if (st === undefined) {
    const used = usedMemory();
    const now = Date.now();
    st = {
      peakMemory: used,
      startupMemory: used,
      replid: randomHex40(),
      netIn: { samples: [], lastTime: now, lastValue: server.stats.netInputBytes },
      netOut: { samples: [], lastTime: now, lastValue: server.stats.netOutputBytes },
    };
    states.set(server, st);
  }
  return st;
}

function randomHex40(): string {
  let s = '';
  while (s.length < 40) s += Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, '0');
  return s.slice(0, 40);
}

/** used_memory_startup: used memory when the server was set up, before any data (bytes). */
export function startupMemory(server: Server): number {
  return stateOf(server).startupMemory;
}

/** Redis's used_memory for Amber: what the JS heap and its off-heap buffers hold, in bytes. */
export function usedMemory(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/** Samples a counter's rate every 100 ms into 16 slots (trackInstantaneousMetric). */
function sampleMetric(m: Metric, value: number, now: number): void {
  const dt = now - m.lastTime;
  if (dt < 100) return;
  m.samples.push(((value - m.lastValue) * 1000) / dt);
  if (m.samples.length > 16) m.samples.shift();
  m.lastTime = now;
  m.lastValue = value;
}

function metricMean(m: Metric): number {
  if (m.samples.length === 0) return 0;
  let s = 0;
  for (const v of m.samples) s += v;
  return s / m.samples.length;
}

// ---- latency percentiles (INFO latencystats) -------------------------------------------------

/** trimDoubleString("%f"): 50 -> "50", 99.9 -> "99.9". */
function percentileName(p: number): string {
  return String(Number(p.toFixed(6)));
}

function buildLatencystats(server: Server, s: InfoSection): void {
  if (!server.config.get<boolean>('latency-tracking')) return;
  const percentiles = server.config.get<number[]>('latency-tracking-info-percentiles');
  const add = (spec: { fullName: string; stats: object }): void => {
    const h = latencyHistogram(spec);
    if (h === undefined) return;
    s.set('latency_percentiles_usec_' + safeInfo(spec.fullName),
      percentiles.map((p) => `p${percentileName(p)}=${(h.valueAtPercentile(p) / 1000).toFixed(3)}`).join(','));
  };
  for (const spec of withSubcommands(server.commands.values())) add(spec);
}

const installedInfo = new WeakSet<Server>();

/**
 * Installs what INFO and the server commands need on a new server: the slow log, MONITOR and
 * latency monitor after-command hooks (in that order), and a cron hook sampling peak memory and network rates.
 * Called by Server.init() once the keyspace exists.
 */
export function installIntrospection(server: Server): void {
  if (installedInfo.has(server)) return;
  installedInfo.add(server);
  installSlowlog(server);
  installMonitor(server);
  installLatencyMonitor(server);
  // per-command latency histograms (call() in server.c: not for a command that blocked)
  let tracking = server.config.get<boolean>('latency-tracking');
  server.config.onChange('latency-tracking', (v) => { tracking = v as boolean; });
  // the last command's histogram: a run of the same command skips the WeakMap lookup
  let lastStats: object | null = null;
  let lastHist: LatencyHistogram | null = null;
  server.afterCommandHooks.push((c, spec, us) => {
    if (!tracking || c.blocked) return;
    let h: LatencyHistogram | null | undefined = lastHist;
    if (spec.stats !== lastStats) {
      h = ensureLatencyHistogram(spec);
      lastStats = spec.stats;
      lastHist = h;
    }
    h!.record(us * 1000);
  });
  const st = stateOf(server);
  let loops = 0;
  server.cronHooks.push((now) => {
    sampleMetric(st.netIn, server.stats.netInputBytes, now);
    sampleMetric(st.netOut, server.stats.netOutputBytes, now);
    // process.memoryUsage() reads /proc: sample the peak about once a second, not every tick
    if ((loops++ & 7) === 0) {
      const used = usedMemory();
      if (used > st.peakMemory) st.peakMemory = used;
    }
  });
}

/** Formats bytes as Redis's bytesToHuman: `123B`, `1.02K`, `11.70M`, `23.54G`... */
export function bytesToHuman(n: number): string {
  if (n < 1024) return n + 'B';
  const units = ['K', 'M', 'G', 'T', 'P'];
  let d = 1024;
  for (const u of units) {
    if (n < d * 1024) return formatFixed(n / d, 2) + u;
    d *= 1024;
  }
  return n + 'B';
}

/** `%ld.%06ld` of a microsecond count, as Redis prints rusage times. */
function secUsec(us: number): string {
  const sec = Math.floor(us / 1e6);
  return sec + '.' + String(Math.floor(us - sec * 1e6)).padStart(6, '0');
}

/** A directive's value when some layer registered it, else `def`. */
function cfg<T>(server: Server, name: string, def: T): T {
  return server.config.find(name) ? server.config.get<T>(name) : def;
}

/** getSafeInfoString: '#', ':', CR and LF become '_' so a field cannot break the format. */
function safeInfo(s: string): string {
  return /[#:\r\n]/.test(s) ? s.replace(/[#:\r\n]/g, '_') : s;
}

// ---- built-in sections ----------------------------------------------------------------------

function buildServer(server: Server, s: InfoSection): void {
  const now = Date.now();
  const uptime = Math.floor(now / 1000) - Math.floor(server.startTime / 1000);
  const supervised = cfg<string>(server, 'supervised', 'no');
  s.set('redis_version', REDIS_VERSION)
    .set('redis_git_sha1', '00000000')
    .set('redis_git_dirty', 0)
    .set('redis_build_id', buildId())
    .set('redis_mode', 'standalone')
    .set('os', `${os.type()} ${os.release()} ${os.machine()}`)
    .set('arch_bits', process.arch.includes('64') ? 64 : 32)
    .set('monotonic_clock', 'POSIX clock_gettime')
    .set('multiplexing_api', process.platform === 'linux' ? 'epoll' : process.platform === 'win32' ? 'winsock' : 'kqueue')
    .set('atomicvar_api', 'c11-builtin')
    .set('gcc_version', '0.0.0')
    .set('process_id', process.pid)
    .set('process_supervised', supervised === 'systemd' || supervised === 'upstart' ? supervised : 'no')
    .set('run_id', server.runId)
    .set('tcp_port', server.port)
    .set('server_time_usec', Math.floor((performance.timeOrigin + performance.now()) * 1000))
    .set('uptime_in_seconds', uptime)
    .set('uptime_in_days', Math.floor(uptime / 86400))
    .set('hz', server.config.get<number>('hz'))
    .set('configured_hz', server.config.get<number>('hz'))
    .set('lru_clock', Math.floor(now / 1000) & 0xffffff)
    .set('executable', process.argv[1] ? resolve(process.argv[1]) : process.execPath)
    .set('config_file', server.config.configFile)
    .set('io_threads_active', 0)
    .set('amber_version', AMBER_VERSION);
}

let cachedBuildId = '';
/**
 * A hex build id, stable for an Amber version and Node release (Redis hashes its build). Lazy:
 * server.ts and this module import each other, so its constants are not ready at load time.
 */
function buildId(): string {
  if (cachedBuildId === '') {
    let h = 0xcbf29ce484222325n;
    for (const ch of `amber-${AMBER_VERSION}-${process.version}`) h = ((h ^ BigInt(ch.charCodeAt(0))) * 0x100000001b3n) & 0xffffffffffffffffn;
    cachedBuildId = h.toString(16).slice(0, 15);
  }
  return cachedBuildId;
}

function buildClients(server: Server, s: InfoSection): void {
  let maxIn = 0;
  let maxOut = 0;
  let blocked = 0;
  let inTimeout = 0;
  for (const c of server.clients.values()) {
    const qb = c.parser.bufferedBytes;
    if (qb > maxIn) maxIn = qb;
    const ob = c.outputBytes;
    if (ob > maxOut) maxOut = ob;
    if (c.blocked) {
      // like Redis 7.0, clients held by CLIENT PAUSE count as blocked too
      blocked++;
      if (c.blockState instanceof BlockState && c.blockState.req.deadline > 0) inTimeout++;
    }
  }
  s.set('connected_clients', server.clients.size)
    .set('cluster_connections', 0)
    .set('maxclients', server.config.get<number>('maxclients'))
    .set('client_recent_max_input_buffer', maxIn)
    .set('client_recent_max_output_buffer', maxOut)
    .set('blocked_clients', blocked)
    .set('tracking_clients', trackingInfo(server).clients)
    .set('clients_in_timeout_table', inTimeout);
}

/**
 * The memory figures INFO memory and MEMORY STATS/DOCTOR share (getMemoryOverheadData), bytes.
 * The "allocator" is V8: allocated = heapUsed, active = heapTotal, resident = heapTotal +
 * external buffers.
 */
export interface MemoryOverhead {
  used: number;
  peak: number;
  startup: number;
  clientsNormal: number;
  /** the AOF buffer (mem_aof_buffer) */
  aofBuffer: number;
  /** startup + client buffers + AOF buffer (bounded by used) */
  overhead: number;
  dataset: number;
  /** used - startup, at least 1 (the base of the percentages) */
  netUsage: number;
  allocated: number;
  active: number;
  resident: number;
  rss: number;
  /** active / allocated and its difference (allocator_frag_*) */
  allocatorFragRatio: number;
  allocatorFragBytes: number;
  /** resident / active (allocator_rss_*) */
  allocatorRssRatio: number;
  allocatorRssBytes: number;
  /** rss / resident (rss_overhead_*) */
  rssOverheadRatio: number;
  rssOverheadBytes: number;
  /** rss / used: fragmentation plus every overhead (mem_fragmentation_*) */
  fragRatio: number;
  fragBytes: number;
}

/** Reads the process's memory now and updates the peak (see {@link MemoryOverhead}). */
export function memoryOverhead(server: Server): MemoryOverhead {
  const st = stateOf(server);
  const m = process.memoryUsage();
  const used = m.heapUsed + m.external;
  if (used > st.peakMemory) st.peakMemory = used;
  let clientsNormal = 0;
  for (const c of server.clients.values()) clientsNormal += c.outputBytes + c.parser.bufferedBytes;
  const startup = st.startupMemory;
  const aofBuffer = server.aofBufferBytes();
  const overhead = Math.min(used, startup + clientsNormal + aofBuffer);
  const allocated = m.heapUsed;
  const active = m.heapTotal;
  const resident = m.heapTotal + m.external;
  return {
    used, peak: st.peakMemory, startup, clientsNormal, aofBuffer, overhead, dataset: used - overhead,
    netUsage: used > startup ? used - startup : 1,
    allocated, active, resident, rss: m.rss,
    allocatorFragRatio: active / Math.max(1, allocated), allocatorFragBytes: Math.max(0, active - allocated),
    allocatorRssRatio: resident / Math.max(1, active), allocatorRssBytes: resident - active,
    rssOverheadRatio: m.rss / Math.max(1, resident), rssOverheadBytes: m.rss - resident,
    fragRatio: m.rss / Math.max(1, used), fragBytes: m.rss - used,
  };
}

function buildMemory(server: Server, s: InfoSection): void {
  const mo = memoryOverhead(server);
  const { used, clientsNormal, startup, overhead, dataset, netUsage, allocated, active, resident } = mo;
  const maxmemory = cfg<number>(server, 'maxmemory', 0);
  const total = os.totalmem();
  // the Lua heap and script cache once a script ran (the VM is loaded by the first one)
  const luaVm = server.scripting?.vmMemory ?? 0;
  const functionsVm = server.functions.vmMemory;
  const functionsMem = server.functions.overheadMemory;
  const scriptsMem = (server.scripting?.scriptsMemory ?? 0) + functionsMem;
  s.set('used_memory', used)
    .set('used_memory_human', bytesToHuman(used))
    .set('used_memory_rss', mo.rss)
    .set('used_memory_rss_human', bytesToHuman(mo.rss))
    .set('used_memory_peak', mo.peak)
    .set('used_memory_peak_human', bytesToHuman(mo.peak))
    .set('used_memory_peak_perc', formatFixed((used * 100) / mo.peak, 2) + '%')
    .set('used_memory_overhead', overhead)
    .set('used_memory_startup', startup)
    .set('used_memory_dataset', dataset)
    .set('used_memory_dataset_perc', formatFixed((dataset * 100) / netUsage, 2) + '%')
    .set('allocator_allocated', allocated)
    .set('allocator_active', active)
    .set('allocator_resident', resident)
    .set('total_system_memory', total)
    .set('total_system_memory_human', bytesToHuman(total))
    .set('used_memory_lua', luaVm)
    .set('used_memory_vm_eval', luaVm)
    .set('used_memory_lua_human', bytesToHuman(luaVm))
    .set('used_memory_scripts_eval', server.scripting?.scriptsMemory ?? 0)
    .set('number_of_cached_scripts', server.scripting?.cachedScripts ?? 0)
    .set('number_of_functions', server.functions.functionCount)
    .set('number_of_libraries', server.functions.libraries.size)
    .set('used_memory_vm_functions', functionsVm)
    .set('used_memory_vm_total', luaVm + functionsVm)
    .set('used_memory_vm_total_human', bytesToHuman(luaVm + functionsVm))
    .set('used_memory_functions', functionsMem)
    .set('used_memory_scripts', scriptsMem)
    .set('used_memory_scripts_human', bytesToHuman(scriptsMem))
    .set('maxmemory', maxmemory)
    .set('maxmemory_human', bytesToHuman(maxmemory))
    .set('maxmemory_policy', cfg<string>(server, 'maxmemory-policy', 'noeviction'))
    .set('allocator_frag_ratio', formatFixed(mo.allocatorFragRatio, 2))
    .set('allocator_frag_bytes', mo.allocatorFragBytes)
    .set('allocator_rss_ratio', formatFixed(mo.allocatorRssRatio, 2))
    .set('allocator_rss_bytes', mo.allocatorRssBytes)
    .set('rss_overhead_ratio', formatFixed(mo.rssOverheadRatio, 2))
    .set('rss_overhead_bytes', mo.rssOverheadBytes)
    .set('mem_fragmentation_ratio', formatFixed(mo.fragRatio, 2))
    .set('mem_fragmentation_bytes', mo.fragBytes)
    .set('mem_not_counted_for_evict', maxmemory > 0 ? maxmemoryOf(server).measure.notCounted() : server.aofBufferBytes())
    .set('mem_replication_backlog', 0)
    .set('mem_total_replication_buffers', 0)
    .set('mem_clients_slaves', 0)
    .set('mem_clients_normal', clientsNormal)
    .set('mem_cluster_links', 0)
    .set('mem_aof_buffer', mo.aofBuffer)
    .set('mem_allocator', `v8-${process.versions.v8}`)
    .set('active_defrag_running', 0)
    .set('lazyfree_pending_objects', 0)
    .set('lazyfreed_objects', 0);
}

function buildPersistence(server: Server, s: InfoSection): void {
  s.set('loading', server.keyspace.loading ? 1 : 0)
    .set('async_loading', 0)
    .set('current_cow_peak', 0)
    .set('current_cow_size', 0)
    .set('current_cow_size_age', 0)
    .set('current_fork_perc', '0.00')
    .set('current_save_keys_processed', 0)
    .set('current_save_keys_total', 0)
    .set('rdb_changes_since_last_save', server.keyspace.dirty)
    .set('rdb_bgsave_in_progress', 0)
    .set('rdb_last_save_time', Math.floor(server.startTime / 1000))
    .set('rdb_last_bgsave_status', 'ok')
    .set('rdb_last_bgsave_time_sec', -1)
    .set('rdb_current_bgsave_time_sec', -1)
    .set('rdb_saves', 0)
    .set('rdb_last_cow_size', 0)
    .set('rdb_last_load_keys_expired', 0)
    .set('rdb_last_load_keys_loaded', 0)
    .set('aof_enabled', cfg<boolean>(server, 'appendonly', false) ? 1 : 0)
    .set('aof_rewrite_in_progress', 0)
    .set('aof_rewrite_scheduled', 0)
    .set('aof_last_rewrite_time_sec', -1)
    .set('aof_current_rewrite_time_sec', -1)
    .set('aof_last_bgrewrite_status', 'ok')
    .set('aof_rewrites', 0)
    .set('aof_rewrites_consecutive_failures', 0)
    .set('aof_last_write_status', 'ok')
    .set('aof_last_cow_size', 0)
    .set('module_fork_in_progress', 0)
    .set('module_fork_last_cow_size', 0);
}

function buildStats(server: Server, s: InfoSection): void {
  const st = stateOf(server);
  const stats = server.stats;
  const ks = server.keyspace.stats;
  const evictor = maxmemoryOf(server).evictor;
  const tr = trackingInfo(server);
  const ext = stats as typeof stats & { totalReads?: number; totalWrites?: number };
  s.set('total_connections_received', stats.numConnections)
    .set('total_commands_processed', stats.numCommands)
    .set('instantaneous_ops_per_sec', server.instantaneousOps())
    .set('total_net_input_bytes', stats.netInputBytes)
    .set('total_net_output_bytes', stats.netOutputBytes)
    .set('total_net_repl_input_bytes', 0)
    .set('total_net_repl_output_bytes', 0)
    .set('instantaneous_input_kbps', formatFixed(metricMean(st.netIn) / 1024, 2))
    .set('instantaneous_output_kbps', formatFixed(metricMean(st.netOut) / 1024, 2))
    .set('instantaneous_input_repl_kbps', '0.00')
    .set('instantaneous_output_repl_kbps', '0.00')
    .set('rejected_connections', stats.rejectedConn)
    .set('sync_full', 0)
    .set('sync_partial_ok', 0)
    .set('sync_partial_err', 0)
    .set('expired_keys', ks.expiredKeys)
    .set('expired_stale_perc', formatFixed(ks.expiredStalePerc * 100, 2))
    .set('expired_time_cap_reached_count', ks.expiredTimeCapReachedCount)
    .set('expire_cycle_cpu_milliseconds', Math.floor(ks.expireCycleCpuMs))
    .set('evicted_keys', ks.evictedKeys)
    .set('evicted_clients', evictedClients(server))
    .set('total_eviction_exceeded_time', Math.floor((evictor.totalExceededUs + evictor.currentExceededUs()) / 1000))
    .set('current_eviction_exceeded_time', Math.floor(evictor.currentExceededUs() / 1000))
    .set('keyspace_hits', ks.keyspaceHits)
    .set('keyspace_misses', ks.keyspaceMisses)
    .set('pubsub_channels', 0)
    .set('pubsub_patterns', 0)
    .set('pubsubshard_channels', 0)
    .set('latest_fork_usec', 0)
    .set('total_forks', 0)
    .set('migrate_cached_sockets', server.migrateSockets.cached)
    .set('slave_expires_tracked_keys', 0)
    .set('active_defrag_hits', 0)
    .set('active_defrag_misses', 0)
    .set('active_defrag_key_hits', 0)
    .set('active_defrag_key_misses', 0)
    .set('total_active_defrag_time', 0)
    .set('current_active_defrag_time', 0)
    .set('tracking_total_keys', tr.keys)
    .set('tracking_total_items', tr.items)
    .set('tracking_total_prefixes', tr.prefixes)
    .set('unexpected_error_replies', stats.unexpectedErrorReplies)
    .set('total_error_replies', stats.totalErrorReplies)
    .set('dump_payload_sanitizations', 0)
    .set('total_reads_processed', ext.totalReads ?? 0)
    .set('total_writes_processed', ext.totalWrites ?? 0)
    .set('io_threaded_reads_processed', 0)
    .set('io_threaded_writes_processed', 0)
    .set('reply_buffer_shrinks', 0)
    .set('reply_buffer_expands', 0);
}

function buildReplication(server: Server, s: InfoSection): void {
  s.set('role', 'master')
    .set('connected_slaves', 0)
    .set('master_failover_state', 'no-failover')
    .set('master_replid', stateOf(server).replid)
    .set('master_replid2', '0000000000000000000000000000000000000000')
    .set('master_repl_offset', 0)
    .set('second_repl_offset', -1)
    .set('repl_backlog_active', 0)
    .set('repl_backlog_size', cfg<number>(server, 'repl-backlog-size', 1048576))
    .set('repl_backlog_first_byte_offset', 0)
    .set('repl_backlog_histlen', 0);
}

function buildCpu(_server: Server, s: InfoSection): void {
  const u = process.cpuUsage();
  // Node runs JS on one thread: the process's usage stands for the main thread's.
  s.set('used_cpu_sys', secUsec(u.system))
    .set('used_cpu_user', secUsec(u.user))
    .set('used_cpu_sys_children', '0.000000')
    .set('used_cpu_user_children', '0.000000')
    .set('used_cpu_sys_main_thread', secUsec(u.system))
    .set('used_cpu_user_main_thread', secUsec(u.user));
}

function buildCommandstats(server: Server, s: InfoSection): void {
  const add = (spec: { fullName: string; stats: { calls: number; usec: number; rejectedCalls: number; failedCalls: number } }): void => {
    const st = spec.stats;
    if (st.calls || st.failedCalls || st.rejectedCalls) {
      // usec_per_call is computed in C float: (float)usec / calls
      const per = st.calls === 0 ? 0 : Math.fround(Math.fround(st.usec) / Math.fround(st.calls));
      s.set('cmdstat_' + safeInfo(spec.fullName),
        `calls=${st.calls},usec=${st.usec},usec_per_call=${formatFixed(per, 2)},rejected_calls=${st.rejectedCalls},failed_calls=${st.failedCalls}`);
    }
  };
  for (const spec of withSubcommands(server.commands.values())) add(spec);
}

function buildErrorstats(server: Server, s: InfoSection): void {
  // Redis keeps error codes in a radix tree: byte order
  const codes = [...server.stats.errorCodes.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const code of codes) s.set('errorstat_' + safeInfo(code), 'count=' + server.stats.errorCodes.get(code)!);
}

function buildKeyspace(server: Server, s: InfoSection): void {
  const now = server.keyspace.now();
  for (const db of server.keyspace.dbs) {
    const keys = db.size;
    const vkeys = db.expires.size;
    if (keys || vkeys) s.set('db' + db.id, `keys=${keys},expires=${vkeys},avg_ttl=${avgTtl(db.expires, now)}`);
  }
}

/**
 * avg_ttl in ms. Redis estimates it from the keys its expire cycle samples; Amber averages the
 * remaining TTL of up to 1000 keys of the expires table.
 */
function avgTtl(expires: Map<string, number>, now: number): number {
  if (expires.size === 0) return 0;
  let sum = 0;
  let n = 0;
  for (const when of expires.values()) {
    const ttl = when - now;
    if (ttl > 0) {
      sum += ttl;
      n++;
    }
    if (n >= 1000) break;
  }
  return n ? Math.floor(sum / n) : 0;
}

const BUILTIN: SectionDef[] = [
  { name: 'server', title: 'Server', inDefault: true, build: buildServer },
  { name: 'clients', title: 'Clients', inDefault: true, build: buildClients },
  { name: 'memory', title: 'Memory', inDefault: true, build: buildMemory },
  { name: 'persistence', title: 'Persistence', inDefault: true, build: buildPersistence },
  { name: 'stats', title: 'Stats', inDefault: true, build: buildStats },
  { name: 'replication', title: 'Replication', inDefault: true, build: buildReplication },
  { name: 'cpu', title: 'CPU', inDefault: true, build: buildCpu },
  { name: 'module_list', title: 'Modules', inDefault: true, build: () => undefined },
  { name: 'commandstats', title: 'Commandstats', inDefault: false, build: buildCommandstats },
  { name: 'errorstats', title: 'Errorstats', inDefault: true, build: buildErrorstats },
  { name: 'latencystats', title: 'Latencystats', inDefault: false, build: buildLatencystats },
  { name: 'cluster', title: 'Cluster', inDefault: true, build: (_sv, s) => { s.set('cluster_enabled', 0); } },
  { name: 'keyspace', title: 'Keyspace', inDefault: true, build: buildKeyspace },
];

/**
 * Builds one section with its providers; null when the section does not exist. Useful to layers
 * and tests that want a field value (`infoSection(server, 'stats')?.get('expired_keys')`).
 */
export function infoSection(server: Server, name: string): InfoSection | null {
  const def = BUILTIN.find((d) => d.name === name) ?? extraSections.find((d) => d.name === name && (!d.server || d.server === server));
  if (!def) return null;
  return buildSection(server, def);
}

function buildSection(server: Server, def: SectionDef): InfoSection {
  const s = new InfoSection(def.name === 'module_list' ? 'modules' : def.name, def.title);
  def.build(server, s);
  const ps = providers.get(s.name);
  if (ps) for (const p of ps) if (!p.server || p.server === server) p.fn(server, s);
  return s;
}

/**
 * The text of `INFO [section ...]` (genInfoSectionDict + genRedisInfoString): no argument means
 * the default sections; `default`, `all` and `everything` expand; names are case-insensitive;
 * unknown names add nothing. Sections are separated by an empty line.
 */
export function genInfoString(server: Server, args: readonly string[]): string {
  let all = false;
  let everything = false;
  const wanted = new Set<string>();
  if (args.length === 0) {
    for (const d of DEFAULT_SECTIONS) wanted.add(d);
  } else {
    for (const a of args) {
      const n = a.toLowerCase();
      if (n === 'default') for (const d of DEFAULT_SECTIONS) wanted.add(d);
      else if (n === 'all') all = true;
      else if (n === 'everything') all = everything = true;
      else wanted.add(n);
    }
  }
  const parts: string[] = [];
  for (const def of BUILTIN) {
    const hit = all || wanted.has(def.name) || (def.name === 'module_list' && wanted.has('modules'));
    if (hit) parts.push(buildSection(server, def).render());
  }
  const defaults = args.length === 0 || wanted.has('module_list');
  for (const def of extraSections) {
    if (def.server && def.server !== server) continue;
    // Amber's own sections are like Redis's module sections: in `everything` and by name, never in
    // `all`, so that a Redis client sees exactly Redis's INFO unless it asks for more.
    if (everything || wanted.has(def.name) || (defaults && def.inDefault)) parts.push(buildSection(server, def).render());
  }
  return parts.join('\r\n');
}
