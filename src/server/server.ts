import net from 'node:net';
import { mkdirSync, existsSync, statSync } from 'node:fs';
import { ConfigError } from '../config/directives.js';
import { resolve } from 'node:path';
import { Config } from '../config/config.js';
import { Keyspace } from '../keyspace/keyspace.js';
import { Client } from './client.js';
import { whenNotBusy, type Suspension } from './suspend.js';
import { Logger, type LogLevel } from './log.js';
import { ProtocolError } from '../protocol/parser.js';
import { processCommand } from './dispatch.js';
import { allHandlers } from '../commands/index.js';
import { buildCommandTable, withSubcommands, type CommandSpec } from '../commands/spec.js';
import { activeExpireCycle } from '../keyspace/expire.js';
import { LatencyMonitor } from './latency-monitor.js';
import type { ScriptingEngine } from '../scripting/engine.js';
import { FunctionsRegistry } from '../scripting/function-registry.js';
import { MigrateSockets } from './migrate-sockets.js';
import { EffectStream } from '../persistence/propagate.js';
import { aofOf } from '../persistence/aof/aof.js';
import { installAofDebug } from '../persistence/aof/debug.js';
import { bgsaverOf } from '../persistence/bgsave.js';
import { installRdb } from '../persistence/rdb/load.js';
import { installLevelDb } from '../persistence/leveldb/index.js';
import { installIntrospection } from './info.js';
import { installMaxmemory } from './maxmemory.js';
import { installClientEviction, resetEvictedClients } from './client-eviction.js';
import { Acl } from './acl/acl.js';
import { LoggedFatalError } from './fatal.js';
import type { Evictor } from '../keyspace/evict.js';

/** Version Amber reports as `redis_version`: the Redis release whose behaviour it follows. */
export const REDIS_VERSION = '7.0.15';
/** Amber's own version, reported as `amber_version` in INFO server. */
export const AMBER_VERSION = '0.1.0';

/** Server-wide counters for INFO stats (names follow server.stat_* in Redis). */
export interface ServerStats {
  numConnections: number;
  numCommands: number;
  rejectedConn: number;
  netInputBytes: number;
  netOutputBytes: number;
  totalErrorReplies: number;
  unexpectedErrorReplies: number;
  errorCodes: Map<string, number>;
  /** rolling samples for instantaneous_ops_per_sec */
  opsSamples: number[];
  lastSampleTime: number;
  lastSampleCount: number;
  /** socket reads and writes (total_reads_processed / total_writes_processed) */
  totalReads: number;
  totalWrites: number;
}

/** A hook run once per event-loop turn before replies are written (Redis's beforeSleep). */
export type BeforeReplyHook = () => Promise<void> | void;

/**
 * The server: configuration, keyspace, command table, connections, the per-turn reply flush and
 * the periodic cron (serverCron). Persistence layers attach through {@link effects},
 * {@link beforeReplyHooks} and {@link cronHooks}; command families through the command table.
 */
export class Server {
  readonly config: Config;
  readonly log = new Logger();
  keyspace!: Keyspace;
  /** maxmemory eviction (installed by init through server/maxmemory.ts), read by dispatch */
  evictor!: Evictor;
  readonly commands: Map<string, CommandSpec>;
  /** argv[0] exactly as sent -> spec; saves a toLowerCase per command */
  readonly commandCache = new Map<string, CommandSpec>();
  readonly clients = new Map<number, Client>();
  readonly effects = new EffectStream();
  readonly startTime = Date.now();
  readonly runId = randomHex(40);
  stats: ServerStats = newStats();
  /** the latency monitor (LATENCY LATEST, HISTORY, DOCTOR); layers report their slow events to it */
  readonly latency = new LatencyMonitor();
  /** MIGRATE's cached connections to target instances (a worker thread once MIGRATE ran) */
  readonly migrateSockets = new MigrateSockets(this.log);
  /** the Lua scripting engine, created by the first command that runs a script (commands/scripting.ts) */
  scripting: ScriptingEngine | null = null;
  /** the function libraries (FUNCTION LOAD); their Lua engine is attached with the EVAL engine's */
  readonly functions = new FunctionsRegistry();
  /** DEBUG SET-DISABLE-DENY-SCRIPTS: scripts may run noscript commands (server.script_disable_deny_script) */
  scriptDisableDenyScript = false;
  /** the client whose script is running (server.script_caller), or null */
  scriptCaller: Client | null = null;
  /** the command suspended by a busy script, while there is one (suspend.ts) */
  suspension: Suspension | null = null;
  /** hooks run before a turn's replies go out; a returned promise holds them back (group commit) */
  readonly beforeReplyHooks: BeforeReplyHook[] = [];
  /**
   * Bytes of the AOF buffer (server.aof_buf), set by the AOF layer: INFO mem_aof_buffer, MEMORY
   * STATS aof.buffer, and left out of what maxmemory counts (freeMemoryGetNotCountedMemory in
   * evict.c), so that a buffer held back by a failing disk does not evict keys.
   */
  aofBufferBytes: () => number = () => 0;
  /** hooks run by the cron, `hz` times a second */
  readonly cronHooks: Array<(now: number) => void> = [];
  /**
   * the part of the cron that runs while a busy script is suspended (whileBlockedCron): syncing
   * what earlier turns wrote, nothing that touches, saves or rewrites the keyspace
   */
  readonly whileBlockedCronHooks: Array<(now: number) => void> = [];
  /** hooks run after every executed command: (client, spec, duration in microseconds) */
  readonly afterCommandHooks: Array<(c: Client, spec: CommandSpec, durationUs: number) => void> = [];
  /**
   * hooks run by {@link shutdown} before listeners close (RDB save, AOF flush); a hook that
   * returns false refuses the shutdown (a failed save) unless FORCE was given
   */
  readonly shutdownHooks: Array<(opts: ShutdownOptions) => Promise<boolean | void> | boolean | void> = [];
  /** hooks run once after the listeners open and before "Ready to accept connections" (loading) */
  readonly startupHooks: Array<() => Promise<void> | void> = [];
  /** the client whose command is running (server.current_client), for NOLOOP and friends */
  currentClient: Client | null = null;
  /** MONITOR clients */
  readonly monitors = new Set<Client>();
  /**
   * Called after a SHUTDOWN command closed the server, with the exit code; amber-server sets it to
   * process.exit, a library user may set it to learn about the shutdown.
   */
  onExit: ((code: number) => void) | null = null;
  /** the port actually listened on (differs from config when 0 was asked) */
  port = 0;
  /** CLIENT PAUSE: until when (ms) and whether only writes are paused */
  pauseUntil = 0;
  pauseWritesOnly = false;
  /** the reason writes are refused with MISCONF, or null (stop-writes-on-bgsave-error, AOF errors) */
  writeError: string | null = null;
  private listeners: net.Server[] = [];
  private nextClientId = 1;
  private pendingClients: Client[] = [];
  private flushScheduled = false;
  private cronTimer: NodeJS.Timeout | null = null;
  /**
   * Runs whenever clients have read or been sent {@link trafficCheckBytes} more bytes since its
   * last run (client eviction between cron ticks), or null. The check costs an addition per
   * read and per turn's write.
   */
  trafficCheck: (() => void) | null = null;
  trafficCheckBytes = Infinity;
  /** netInputBytes + netOutputBytes at the last {@link trafficCheck} */
  private trafficMark = 0;

  /** Runs {@link trafficCheck} once clients' traffic has moved on by trafficCheckBytes. */
  private checkTraffic(): void {
    const t = this.stats.netInputBytes + this.stats.netOutputBytes;
    if (t - this.trafficMark < this.trafficCheckBytes) return;
    this.trafficMark = t;
    this.trafficCheck?.();
  }
  private replyChain: Promise<void> = Promise.resolve();
  cronLoops = 0;
  /** true for a server started through the library API: it never changes the process's cwd */
  embedded = false;
  closing = false;

  /** users, permissions and ACL LOG */
  readonly acl: Acl;

  constructor(config: Config) {
    this.config = config;
    this.commands = buildCommandTable(allHandlers());
    this.acl = new Acl(this);
    config.aclUserLines = () => this.acl.configLines();
    this.closeHooks.push(() => this.migrateSockets.close());
  }

  /** Applies log settings and creates the keyspace; call before {@link listen}. */
  init(): void {
    this.log.level = this.config.get<LogLevel>('loglevel');
    this.log.file = this.config.get<string>('logfile');
    this.config.onChange('loglevel', (v) => { this.log.level = v as LogLevel; });
    this.config.onChange('hz', () => this.startCron());
    const dir = this.config.get<string>('dir');
    if (dir) {
      const abs = resolve(dir);
      mkdirSync(abs, { recursive: true });
      // amber-server works in `dir` like redis-server; an embedded server must not move its host
      // process, and every layer resolves its files against `dir` anyway.
      if (!this.embedded) process.chdir(abs);
    }
    if (this.embedded) {
      const d = this.config.find('dir');
      if (d) {
        d.apply = (v: string) => {
          if (!existsSync(v) || !statSync(v).isDirectory()) throw new ConfigError('No such file or directory');
        };
      }
    }
    // ACLLoadUsersAtStartup: the config file's users, or the ACL file, before any data loads
    const aclError = this.acl.loadAtStartup(this.config.userLines);
    if (aclError !== null) throw new LoggedFatalError(aclError);
    this.keyspace = new Keyspace(this.config.get<number>('databases'));
    this.keyspace.effects = (db, argv) => this.effects.propagate(db, argv);
    installIntrospection(this);
    aofOf(this);
    installAofDebug();
    bgsaverOf(this);
    installRdb(this);
    // after the AOF and RDB layers: its start-up hook goes first and, with leveldb yes, loads
    installLevelDb(this);
    // The gate reads the eviction policy's LRU/LFU mode from the keyspace on every lookup.
    const syncLru = (): void => {
      this.keyspace.lfu = this.config.get<string>('maxmemory-policy').endsWith('-lfu');
      this.keyspace.lfuLogFactor = this.config.get<number>('lfu-log-factor');
      this.keyspace.lfuDecayTime = this.config.get<number>('lfu-decay-time');
    };
    syncLru();
    for (const name of ['maxmemory-policy', 'lfu-log-factor', 'lfu-decay-time']) this.config.onChange(name, syncLru);
    installMaxmemory(this);
    installClientEviction(this);
  }

  /**
   * Opens the listeners for every `bind` address; resolves to the port. On failure the server is
   * closed, or, with `closeOnFail` false (rebind), only the listeners opened so far.
   */
  async listen(closeOnFail = true): Promise<number> {
    const port = this.config.get<number>('port');
    let binds = this.config.get<string[]>('bind');
    if (binds.length === 0) binds = ['*', '-::*'];
    let actualPort = port;
    for (const raw of binds) {
      const optional = raw.startsWith('-');
      const addr = optional ? raw.slice(1) : raw;
      const host = addr === '*' ? '0.0.0.0' : addr === '::*' ? '::' : addr;
      // paused: accept() chooses how the socket is read before any byte is
      const srv = net.createServer({ noDelay: true, pauseOnConnect: true }, (sock) => this.accept(sock));
      try {
        await new Promise<void>((ok, fail) => {
          srv.once('error', fail);
          srv.listen({ port: actualPort, host, backlog: this.config.get<number>('tcp-backlog'), ipv6Only: host.includes(':') }, () => {
            srv.off('error', fail);
            ok();
          });
        });
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (optional && (err.code === 'EADDRNOTAVAIL' || err.code === 'EAFNOSUPPORT' || err.code === 'EINVAL')) {
          this.log.verbose(`Skipping optional bind address ${addr}: ${err.message}`);
          continue;
        }
        this.log.warning(`Warning: Could not create server TCP listening socket ${addr}:${actualPort}: ${err.message}`);
        if (closeOnFail) await this.close();
        else {
          for (const l of this.listeners) l.close();
          this.listeners = [];
        }
        throw new Error(`could not listen on ${addr}:${actualPort}: ${err.message}`);
      }
      const a = srv.address();
      if (a && typeof a === 'object') actualPort = a.port;
      this.listeners.push(srv);
    }
    this.port = actualPort;
    this.startCron();
    return actualPort;
  }

  /**
   * CONFIG SET port/bind (changeListenPort/changeBindAddr in src/server.c): closes the listening
   * sockets (connected clients stay) and opens them again for the current `port` and `bind`.
   * @throws Error when an address cannot be bound; then no listener is open
   */
  async rebind(): Promise<number> {
    for (const l of this.listeners) l.close();
    this.listeners = [];
    return this.listen(false);
  }

  private startCron(): void {
    if (this.cronTimer) clearInterval(this.cronTimer);
    const hz = Math.max(1, Math.min(500, this.config.get<number>('hz')));
    this.cronTimer = setInterval(() => this.cron(), Math.floor(1000 / hz));
    this.cronTimer.unref();
  }

  /** serverCron: active expiry, idle client timeouts, ops/sec sampling, the layers' hooks. */
  private cron(): void {
    const now = Date.now();
    this.cronLoops++;
    if (this.suspension !== null) {
      // a busy script is half-way through (suspend.ts): no expiry, eviction, save point, rewrite
      // or timeout until it ends
      this.sampleOps(now);
      for (const h of this.whileBlockedCronHooks) h(now);
      return;
    }
    const hz = Math.max(1, this.config.get<number>('hz'));
    const expireStart = performance.now();
    activeExpireCycle(this.keyspace, hz, this.config.get<number>('active-expire-effort'));
    this.latency.addSampleIfNeeded('expire-cycle', performance.now() - expireStart);
    this.sampleOps(now);
    const timeout = this.config.get<number>('timeout');
    if (timeout > 0 && this.cronLoops % hz === 0) {
      for (const c of this.clients.values()) {
        // clientsCronHandleTimeout: blocked, MONITOR and subscribed (CLIENT_PUBSUB) clients never idle out
        const subscribed = c.pubsub !== null && (c.pubsub as { total?: () => number }).total?.() !== 0;
        if (!c.blocked && !c.monitor && !subscribed && now - c.lastInteraction > timeout * 1000) {
          this.log.verbose('Closing idle client');
          this.closeClient(c);
        }
      }
    }
    for (const h of this.cronHooks) h(now);
    if (this.pauseUntil && now >= this.pauseUntil) this.unpause();
  }

  private sampleOps(now: number): void {
    const s = this.stats;
    if (now - s.lastSampleTime < 100) return;
    const ops = ((s.numCommands - s.lastSampleCount) * 1000) / (now - s.lastSampleTime);
    s.opsSamples.push(ops);
    if (s.opsSamples.length > 16) s.opsSamples.shift();
    s.lastSampleTime = now;
    s.lastSampleCount = s.numCommands;
  }

  /** Instantaneous operations per second, the mean of the last samples (INFO stats). */
  instantaneousOps(): number {
    const s = this.stats.opsSamples;
    return s.length ? Math.round(s.reduce((a, b) => a + b, 0) / s.length) : 0;
  }

  private accept(sock: net.Socket): void {
    if (this.closing) {
      sock.destroy();
      return;
    }
    const maxclients = this.config.get<number>('maxclients');
    if (this.clients.size >= maxclients) {
      this.stats.rejectedConn++;
      // accepted paused (see listen): read, and drop, until the peer's FIN so the socket closes
      sock.resume();
      sock.end('-ERR max number of clients reached\r\n');
      return;
    }
    if (this.protectedModeDenies(sock)) {
      this.stats.rejectedConn++;
      sock.resume();
      sock.end(PROTECTED_MODE_DENIED);
      return;
    }
    const keepalive = this.config.get<number>('tcp-keepalive');
    if (keepalive > 0) sock.setKeepAlive(true, keepalive * 1000);
    sock.setNoDelay(true);
    const c = new Client(this, this.nextClientId++, sock, this.keyspace.dbs[0]!);
    this.clients.set(c.id, c);
    this.stats.numConnections++;
    const onRead = (chunk: Buffer, transient: boolean, n: number): void => {
      this.stats.netInputBytes += n;
      this.stats.totalReads++;
      c.lastInteraction = Date.now();
      c.parser.feed(chunk, transient, n);
      this.processInput(c);
      if (transient) c.parser.detach();
      if (this.trafficCheck !== null) this.checkTraffic();
    };
    if (!readIntoSharedBuffer(sock, (n, buf) => onRead(buf, true, n))) {
      sock.on('data', (chunk: Buffer) => onRead(chunk, false, chunk.length));
    }
    sock.on('error', (e) => this.log.verbose(`Client ${c.addr} socket error: ${e.message}`));
    sock.on('close', () => this.freeClient(c));
    sock.resume();
  }

  /**
   * Protected mode as Redis 7.0 (src/networking.c): with protected-mode yes and no password,
   * connections from non-loopback addresses are refused with the DENIED message.
   */
  private protectedModeDenies(sock: net.Socket): boolean {
    if (!this.config.get<boolean>('protected-mode') || !this.acl.defaultUser.nopass) return false;
    // islocalClient: exactly 127.0.0.1 or ::1 (an IPv4-mapped 127.0.0.1 on a dual-stack socket too)
    const ip = sock.remoteAddress ?? '';
    return !(ip === '127.0.0.1' || ip === '::1' || ip === '::ffff:127.0.0.1' || ip === '');
  }

  /**
   * Runs the complete requests buffered for `c` until it blocks, must close, or the buffer is
   * empty; then schedules the turn's reply flush.
   */
  processInput(c: Client): void {
    while (!c.blocked && !c.closeAfterReply && !c.closed) {
      if (this.pauseUntil && this.isPausedFor(c)) break;
      let argv: string[] | null;
      try {
        argv = c.parser.next();
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
        c.addError(e.message);
        c.closeAfterReply = true;
        this.log.verbose(`Protocol error (${e.message}) from client: id=${c.id} addr=${c.addr}. Closing the connection.`);
        break;
      }
      if (argv === null) break;
      c.argv = argv;
      processCommand(this, c);
    }
    // client-query-buffer-limit is at least 1 MB: a small query buffer need not read the config
    const qbuf = c.parser.bufferedBytes;
    if (qbuf > 1024 * 1024 && qbuf > this.config.get<number>('client-query-buffer-limit')) {
      this.log.warning(`Closing client that reached max query buffer length: id=${c.id} addr=${c.addr} (qbuf=${c.parser.bufferedBytes})`);
      this.closeClient(c);
      return;
    }
    this.scheduleFlush(c);
  }

  /** True while CLIENT PAUSE holds this client's next command. */
  private isPausedFor(c: Client): boolean {
    if (Date.now() >= this.pauseUntil) {
      this.unpause();
      return false;
    }
    if (!this.pauseWritesOnly) return true;
    // WRITE pause: peek is not possible without parsing, so writes are held in dispatch instead
    void c;
    return false;
  }

  /** Ends a CLIENT PAUSE and resumes every held client. */
  unpause(): void {
    this.pauseUntil = 0;
    this.pauseWritesOnly = false;
    for (const c of this.clients.values()) if (!c.blocked && c.parser.bufferedBytes > 0) this.processInput(c);
  }

  /** Marks a client as having output for this turn. */
  scheduleFlush(c: Client): void {
    if (c.out.length === 0 && !c.closeAfterReply) return;
    if (!c.pendingFlush) {
      c.pendingFlush = true;
      this.pendingClients.push(c);
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushTurnFn);
    }
  }
  private readonly flushTurnFn = (): void => {
    try {
      this.flushTurn();
    } finally {
      if (this.afterReplyQueue.length > 0) {
        const q = this.afterReplyQueue;
        this.afterReplyQueue = [];
        for (const f of q) f();
      }
    }
  };
  private afterReplyQueue: Array<() => void> = [];

  /**
   * Runs `fn` once in the next event-loop turn, after that turn's replies were handed to the
   * sockets: background work (a snapshot slice) then never delays the replies of the commands
   * the turn executed. `fn` runs in the check phase like a setImmediate callback; when the turn
   * has replies to write, right after they are written.
   */
  afterReplies(fn: () => void): void {
    setImmediate(() => {
      // replies scheduled during this turn's I/O have their flush queued behind this callback
      if (this.flushScheduled) this.afterReplyQueue.push(fn);
      else fn();
    });
  }

  /**
   * End of an event-loop turn: runs the before-reply hooks (AOF write and fsync under `always`),
   * then writes each client's pending replies in one socket write. When a hook returns a promise,
   * this turn's replies wait for it, and later turns' replies wait behind them, so no reply leaves
   * before the data it acknowledges is durable.
   */
  private flushTurn(): void {
    this.flushScheduled = false;
    const batch = this.pendingClients;
    this.pendingClients = [];
    const outs: string[] = new Array<string>(batch.length);
    for (let i = 0; i < batch.length; i++) {
      const c = batch[i]!;
      c.pendingFlush = false;
      outs[i] = c.out;
      c.out = '';
    }
    let barrier: Promise<void> | null = null;
    for (const h of this.beforeReplyHooks) {
      const r = h();
      if (r) barrier = barrier ? barrier.then(() => r) : r;
    }
    if (barrier === null && this.replyChainIdle) {
      this.writeOutputs(batch, outs);
      return;
    }
    this.replyChainIdle = false;
    const mine = this.replyChain.then(() => barrier ?? undefined).then(
      () => this.writeOutputs(batch, outs),
      (e: unknown) => {
        this.log.warning(`Replies held back after a persistence failure: ${(e as Error).message}`);
        this.writeOutputs(batch, outs);
      },
    );
    this.replyChain = mine;
    void mine.then(() => {
      if (this.replyChain === mine) this.replyChainIdle = true;
    });
  }
  private replyChainIdle = true;

  /** Writes `outs[i]` to `clients[i]`, one socket write each. */
  private writeOutputs(clients: Client[], outs: string[]): void {
    for (let i = 0; i < clients.length; i++) {
      const c = clients[i]!;
      const out = outs[i]!;
      if (c.closed || c.socket === null) continue;
      if (out.length) {
        this.stats.netOutputBytes += out.length;
        this.stats.totalWrites++;
        c.socket.write(out, 'latin1');
      }
      if (c.closeAfterReply) this.closeClient(c);
    }
    if (this.trafficCheck !== null) this.checkTraffic();
  }

  /** Closes a connection after its pending output (CLIENT KILL, QUIT, timeout). */
  closeClient(c: Client): void {
    if (c.closed) return;
    if (c.out.length && c.socket) {
      c.socket.write(c.out, 'latin1');
      c.out = '';
    }
    c.socket?.end();
    c.socket?.destroySoon?.();
    this.freeClient(c);
  }

  /** Forgets a client whose socket closed; the layers clean their state through freeHooks. */
  private freeClient(c: Client): void {
    if (c.closed) return;
    c.closed = true;
    this.clients.delete(c.id);
    this.monitors.delete(c);
    for (const h of this.freeClientHooks) h(c);
  }
  /** hooks run once when the server closes, after the shutdown hooks: stop timers and observers */
  readonly closeHooks: Array<() => void> = [];
  /**
   * hooks run by {@link fatalExit} of an embedded server, after its clients are gone: each layer
   * releases its files, descriptors, threads and locks (a LevelDB store, the AOF's descriptor, a
   * background save's temp file) without saving, flushing or syncing anything, so that the host can
   * start a server on the same `dir` again
   */
  readonly releaseHooks: Array<() => Promise<void> | void> = [];
  /** set by {@link fatalExit}: settles once every release hook has run */
  private released: Promise<void> | null = null;
  /** hooks run when a client goes away (unsubscribe, unblock, unwatch) */
  readonly freeClientHooks: Array<(c: Client) => void> = [];

  /** Runs the start-up hooks (dataset loading); call after {@link listen}. */
  startup(): Promise<void> {
    // once: the library's startServer and embedders may both call it
    this.startupPromise ??= (async () => {
      for (const h of this.startupHooks) await h();
    })();
    return this.startupPromise;
  }
  private startupPromise: Promise<void> | null = null;

  /**
   * SHUTDOWN / SIGTERM (prepareForShutdown in src/server.c): runs the shutdown hooks (which save
   * as configured), then closes everything. Resolves false when a hook refused and FORCE was not
   * given; the server then keeps running.
   */
  async shutdown(opts: ShutdownOptions): Promise<boolean> {
    if (this.closing) return true;
    // a signal's shutdown waits for a busy script's end (it would save half of it); SHUTDOWN
    // itself is refused then unless NOSAVE (commands/server.ts)
    if (this.suspension !== null && opts.reason !== 'shutdown') {
      this.log.warning('A script is running: the shutdown waits for its end (SCRIPT KILL or FUNCTION KILL ends a script that did not write; SHUTDOWN NOSAVE stops the server now).');
      await whenNotBusy(this);
      // the script's reply goes out first: its flush was scheduled when it ended
      await new Promise((r) => setImmediate(r));
      if (this.closing) return true;
    }
    this.log.warning('User requested shutdown...');
    for (const h of this.shutdownHooks) {
      const ok = await h(opts);
      if (ok === false && !opts.force) {
        this.log.warning('Errors trying to shut down the server. Check the logs for more information.');
        return false;
      }
    }
    this.log.warning(`${REDIS_NAME} is now ready to exit, bye bye...`);
    await this.close(true);
    return true;
  }

  /**
   * Closes the listeners and every client. Unless `hooksDone`, runs the shutdown hooks first
   * with no save override (library close()).
   */
  async close(hooksDone = false): Promise<void> {
    if (this.closing) {
      // after a fatal error: the caller learns when the files and locks are released
      if (this.released !== null) await this.released;
      return;
    }
    if (!hooksDone) {
      // a busy script is half-way through: nothing of it may be saved (as SHUTDOWN NOSAVE)
      const nosave = this.suspension !== null;
      if (nosave) this.log.warning('Closing while a script is running: the dataset is not saved, as with SHUTDOWN NOSAVE; what the AOF or LevelDB holds is kept.');
      for (const h of this.shutdownHooks) await h({ reason: 'close', nosave });
    }
    this.closing = true;
    if (this.cronTimer) clearInterval(this.cronTimer);
    for (const h of this.closeHooks) h();
    await this.replyChain.catch(() => undefined);
    for (const c of [...this.clients.values()]) {
      c.socket?.destroy();
      this.freeClient(c);
    }
    await Promise.all(this.listeners.map((l) => new Promise<void>((r) => l.close(() => r()))));
    this.listeners = [];
  }

  /**
   * Ends the server after a fatal error its caller has logged, where Redis calls exit(1) (an fsync
   * error under appendfsync always, a LevelDB write error under leveldb-sync always, DEBUG LOADAOF
   * on an AOF it cannot load). amber-server exits the process with `code`. A server embedded with
   * startServer must not end its host program: it closes its listeners and drops every client at
   * once (their pending replies are never sent), stops its cron, and reports `code` through
   * {@link onExit} once the {@link releaseHooks} have released its files and locks (a LevelDB
   * store is closed, the AOF descriptor too); no shutdown hook runs (nothing is saved, flushed or
   * synced: the disk or the data set is what failed), so the files stay as they were on disk, and
   * the host may start a server on the same `dir` after onExit (or after {@link close} resolves).
   * Returns at once in that case; callers return too.
   */
  fatalExit(code: number): void {
    if (!this.embedded) process.exit(code);
    if (this.closing) return;
    this.closing = true;
    this.log.warning(`The embedded server stops after a fatal error (exit code ${code}); its host process goes on.`);
    if (this.cronTimer) clearInterval(this.cronTimer);
    for (const h of this.closeHooks) h();
    for (const c of [...this.clients.values()]) {
      c.socket?.destroy();
      this.freeClient(c);
    }
    for (const l of this.listeners) l.close();
    this.listeners = [];
    this.released = (async () => {
      for (const h of this.releaseHooks) {
        let timer: NodeJS.Timeout | undefined;
        const bounded = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), RELEASE_WAIT_MS)));
        try {
          const r = await Promise.race([Promise.resolve(h()).then(() => 'done' as const), bounded]);
          if (r === 'timeout') this.log.warning(`Releasing a persistence layer's files took over ${RELEASE_WAIT_MS / 1000} s after the fatal error; going on without waiting for it (its files or lock may stay held until the host process exits).`);
        } catch (e) {
          this.log.warning(`Error releasing files after the fatal error: ${(e as Error).message}`);
        } finally {
          clearTimeout(timer);
        }
      }
    })();
    void this.released.then(() => this.onExit?.(code));
  }

  /** Counts an error reply in errorstats by its code (the first word). */
  countError(msg: string): void {
    this.stats.totalErrorReplies++;
    const sp = msg.indexOf(' ');
    const code = sp < 0 ? msg : msg.slice(0, sp);
    const m = this.stats.errorCodes;
    // Redis caps errorstats at 128 distinct codes to bound memory.
    if (!m.has(code) && m.size >= 128) return;
    m.set(code, (m.get(code) ?? 0) + 1);
  }
}

/** Options of SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] and of signals. */
export interface ShutdownOptions {
  nosave?: boolean;
  save?: boolean;
  now?: boolean;
  force?: boolean;
  /** what asked: 'SIGTERM', 'SIGINT', 'shutdown', 'close' */
  reason: string;
}

/**
 * Node's `onread` socket option reads into one reused buffer and hands each read to a callback,
 * skipping the Readable stream (its per-read Buffer allocation, 'data' event and nextTick):
 * about a tenth of the CPU time of a small request. Node offers it only for sockets it creates
 * with `new net.Socket`, not for accepted ones, so its internal properties are found by probing
 * such a socket, and set on accepted sockets the way net.Socket's constructor sets them. When
 * the probe finds them missing (another Node version), reads fall back to 'data' events.
 */
const ONREAD = ((): { buffer: symbol; callback: symbol; gen: symbol } | null => {
  try {
    const buffer = Buffer.alloc(1);
    const callback = (): void => undefined;
    // a documented option of net.Socket (v12.2) missing from @types/node's constructor options
    const opts: net.SocketConstructorOpts & { onread: unknown } = { onread: { buffer, callback } };
    const probe = new net.Socket(opts);
    const found: { buffer?: symbol; callback?: symbol; gen?: symbol } = {};
    const props = probe as unknown as Record<symbol, unknown>;
    for (const sym of Object.getOwnPropertySymbols(probe)) {
      if (props[sym] === buffer) found.buffer = sym;
      else if (props[sym] === callback) found.callback = sym;
      else if (sym.description === 'kBufferGen' && props[sym] === null) found.gen = sym;
    }
    probe.destroy();
    const { buffer: b, callback: cb, gen } = found;
    return b && cb && gen ? { buffer: b, callback: cb, gen } : null;
  } catch {
    return null;
  }
})();

/** The read buffer shared by every connection: a read is consumed (or copied) before the next. */
const SHARED_READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/**
 * Makes a paused, just-accepted socket deliver its reads to `fn(bytes, SHARED_READ_BUFFER)`, as
 * the `onread` option would; false when this Node cannot (the caller then listens to 'data').
 */
function readIntoSharedBuffer(sock: net.Socket, fn: (n: number, buf: Buffer) => void): boolean {
  // _handle is a TCPWrap; useUserBuffer is the StreamBase method behind `onread`
  const handle = (sock as unknown as { _handle?: { useUserBuffer?: (b: Uint8Array) => void } })._handle;
  if (ONREAD === null || handle?.useUserBuffer === undefined) return false;
  const props = sock as unknown as Record<symbol, unknown>;
  props[ONREAD.buffer] = SHARED_READ_BUFFER;
  props[ONREAD.callback] = fn;
  props[ONREAD.gen] = null;
  handle.useUserBuffer(SHARED_READ_BUFFER);
  return true;
}

/** How long {@link Server.fatalExit} waits for each release hook, ms (a hung disk must not hold it). */
const RELEASE_WAIT_MS = 10_000;

/** How the log names the server. */
const REDIS_NAME = 'Amber';

/** Redis 7.0's protected mode refusal (src/networking.c). */
export const PROTECTED_MODE_DENIED =
  '-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. ' +
  'In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: ' +
  '1) Just disable protected mode sending the command \'CONFIG SET protected-mode no\' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. ' +
  '2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to \'no\', and then restarting the server. ' +
  '3) If you started the server manually just for testing, restart it with the \'--protected-mode no\' option. ' +
  '4) Setup a an authentication password for the default user. ' +
  'NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n';

function newStats(): ServerStats {
  return {
    numConnections: 0, numCommands: 0, rejectedConn: 0, netInputBytes: 0, netOutputBytes: 0,
    totalErrorReplies: 0, unexpectedErrorReplies: 0, errorCodes: new Map(),
    opsSamples: [], lastSampleTime: Date.now(), lastSampleCount: 0, totalReads: 0, totalWrites: 0,
  };
}

/** A random lowercase hex string (run_id). */
export function randomHex(n: number): string {
  let s = '';
  while (s.length < n) s += Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, '0');
  return s.slice(0, n);
}

/** Resets INFO stats (CONFIG RESETSTAT). */
export function resetStats(server: Server): void {
  server.stats = newStats();
  server.evictor.resetStats();
  resetEvictedClients(server);
  for (const spec of withSubcommands(server.commands.values())) spec.stats = { calls: 0, usec: 0, rejectedCalls: 0, failedCalls: 0 };
}
