/**
 * Shared setup of the integration tests: one in-process Amber per test file and, when asked, the
 * real clients the tests drive it with (ioredis, node-redis over RESP2 and over RESP3). The
 * helpers register their own `before`/`after` hooks, so a file calls them once at top level and
 * reads the servers and clients through the returned getters (valid from `before` on).
 */
import { before, after } from 'node:test';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { startAmber } from './servers.js';
import type { RunningServer, StartOptions } from '../../src/index.js';

/** A node-redis client as `createClient` returns it. */
export type NodeRedis = ReturnType<typeof createClient>;

/** Directives for {@link startAmber}, as in amber.conf. */
export type Directives = NonNullable<StartOptions['directives']>;

export interface AmberOptions {
  /** directives for {@link startAmber} (default none beyond its own) */
  directives?: Directives;
  /** runs in `after` before Amber is closed (e.g. restoring a process-wide switch) */
  beforeClose?: () => void | Promise<void>;
}

/** What {@link withAmber} returns: the server, set once `before` has run. */
export interface AmberEnv {
  readonly amber: RunningServer;
}

/**
 * Starts Amber (startAmber with `opts.directives`) in `before` and closes it in `after`, after
 * `opts.beforeClose`.
 */
export function withAmber(opts: AmberOptions = {}): AmberEnv {
  let amber: RunningServer | undefined;
  before(async () => {
    amber = await startAmber(opts.directives);
  });
  after(async () => {
    await opts.beforeClose?.();
    await amber?.close();
  });
  return {
    get amber(): RunningServer {
      return amber!;
    },
  };
}

export interface ClientsOptions extends AmberOptions {
  /** also open a second ioredis connection, `io2` (for blocking commands served by `io`) */
  io2?: boolean;
}

/** What {@link withClients} returns; every getter is valid from `before` on. */
export interface ClientsEnv extends AmberEnv {
  /** ioredis (RESP2), maxRetriesPerRequest 0 */
  readonly io: Redis;
  /** a second ioredis connection; only with `io2: true` */
  readonly io2: Redis;
  /** node-redis over RESP2, no reconnection */
  readonly nr2: NodeRedis;
  /** node-redis over RESP3, no reconnection */
  readonly nr3: NodeRedis;
  /** Empties every database of Amber in-process (FLUSHALL without a command). */
  flush(): void;
}

/**
 * Starts Amber and connects ioredis, node-redis RESP2 and node-redis RESP3 to it in `before`;
 * disconnects them and closes Amber in `after`.
 */
export function withClients(opts: ClientsOptions = {}): ClientsEnv {
  let amber: RunningServer | undefined;
  let io: Redis | undefined;
  let io2: Redis | undefined;
  let nr2: NodeRedis | undefined;
  let nr3: NodeRedis | undefined;
  before(async () => {
    amber = await startAmber(opts.directives);
    const ioOpts = { port: amber.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 };
    io = new Redis(ioOpts);
    if (opts.io2) io2 = new Redis(ioOpts);
    await io.connect();
    await io2?.connect();
    nr2 = createClient({ socket: { port: amber.port, host: '127.0.0.1', reconnectStrategy: false } });
    await nr2.connect();
    nr3 = createClient({ socket: { port: amber.port, host: '127.0.0.1', reconnectStrategy: false }, RESP: 3 });
    await nr3.connect();
  });
  after(async () => {
    io?.disconnect();
    io2?.disconnect();
    await nr2?.close();
    await nr3?.close();
    await opts.beforeClose?.();
    await amber?.close();
  });
  return {
    get amber(): RunningServer { return amber!; },
    get io(): Redis { return io!; },
    get io2(): Redis {
      if (!opts.io2) throw new Error('withClients: io2 was not requested');
      return io2!;
    },
    get nr2(): NodeRedis { return nr2!; },
    get nr3(): NodeRedis { return nr3!; },
    flush(): void {
      void amber!.server.keyspace.flushAll();
    },
  };
}
