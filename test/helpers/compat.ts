/**
 * Shared setup of the compatibility tests: Amber in-process and redis-server 7.0.15 side by side,
 * raw RESP connections to both (RESP2, and RESP3 when asked), and reply comparison byte for byte.
 * {@link compatPair} registers its own `before`/`after` hooks; when redis-server is missing it
 * starts nothing and its `skip` carries {@link NO_REDIS} (under CI=true, redisAvailable throws).
 */
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startAmber, startRedis, redisAvailable, NO_REDIS, RawClient, type RedisChild } from './servers.js';
import type { RunningServer } from '../../src/index.js';
import type { RObject } from '../../src/keyspace/types/object.js';
import type { Directives } from './clients.js';

export interface CompatOptions {
  /** directives for Amber (startAmber) */
  amber?: Directives;
  /** extra redis-server arguments (startRedis), e.g. ['--appendonly', 'yes'] */
  redis?: string[];
  /**
   * Which raw connections to open once for the whole file: 'none' (tests open their own),
   * 'resp2' (ca, cr) or 'both' (ca, cr and the RESP3 ca3, cr3). Default 'both'.
   */
  clients?: 'none' | 'resp2' | 'both';
  /**
   * How reset() empties the servers: 'command' sends FLUSHALL on both connections, 'inprocess'
   * empties Amber's keyspace directly (no FLUSHALL command involved) and sends FLUSHALL to Redis.
   * Default 'command'.
   */
  reset?: 'command' | 'inprocess';
}

/** What {@link compatPair} returns; servers and clients are set once `before` has run. */
export interface CompatPair {
  /** `{ skip }` option of the tests: NO_REDIS when redis-server is missing, else false */
  readonly skip: string | false;
  readonly amber: RunningServer;
  readonly redis: RedisChild;
  /** RESP2 connections to Amber and Redis */
  readonly ca: RawClient;
  readonly cr: RawClient;
  /** RESP3 connections to Amber and Redis (clients: 'both') */
  readonly ca3: RawClient;
  readonly cr3: RawClient;
  /** Empties both servers (see {@link CompatOptions.reset}). */
  reset(): Promise<void>;
  /**
   * Runs `cmds` pipelined on both servers (RESP2 connections, or RESP3 with `resp3`) and asserts
   * identical replies; resolves to Amber's replies.
   */
  same(cmds: string[][], resp3?: boolean): Promise<string[]>;
  /** As {@link same} on the given pair of connections, `a` to Amber and `r` to Redis. */
  sameOn(cmds: string[][], a: RawClient, r: RawClient, label?: string): Promise<string[]>;
  /** Makes `key` a list on both servers (RESP2 connections), for WRONGTYPE cases. */
  makeWrongType(key: string): Promise<void>;
  /** Runs `fn` against Amber's port, then against Redis's; resolves to [Amber's, Redis's] results. */
  onBoth<T>(fn: (port: number) => Promise<T>): Promise<[T, T]>;
}

/**
 * Asserts `ra[i] === rr[i]` for every command; the message names the command (cut at 200
 * characters) after `label`.
 */
export function assertSameReplies(cmds: string[][], ra: string[], rr: string[], label = ''): void {
  for (let i = 0; i < cmds.length; i++) {
    assert.equal(ra[i], rr[i], `${label}${JSON.stringify(cmds[i]).slice(0, 200)}`);
  }
}

/** A connection to Amber switched to RESP3 (HELLO 3 when Amber has it, else set on its Client). */
async function amberResp3(amber: RunningServer): Promise<RawClient> {
  const c = await RawClient.connect(amber.port);
  if (amber.server.commands.has('hello')) {
    await c.call('HELLO', '3');
  } else {
    await c.call('PING');
    let last = null;
    for (const cl of amber.server.clients.values()) if (last === null || cl.id > last.id) last = cl;
    last!.resp = 3;
  }
  return c;
}

/**
 * Starts Amber and redis-server (with `opts.amber` / `opts.redis`) and opens the raw connections
 * of `opts.clients` in `before`; closes all of it in `after`. Nothing starts when `skip` is set.
 */
export function compatPair(opts: CompatOptions = {}): CompatPair {
  const skip = !redisAvailable() && NO_REDIS;
  const clients = opts.clients ?? 'both';
  let amber: RunningServer | undefined;
  let redis: RedisChild | undefined;
  let ca: RawClient | undefined;
  let cr: RawClient | undefined;
  let ca3: RawClient | undefined;
  let cr3: RawClient | undefined;
  before(async () => {
    if (skip) return;
    amber = await startAmber(opts.amber);
    redis = await startRedis(opts.redis);
    if (clients === 'none') return;
    ca = await RawClient.connect(amber.port);
    cr = await RawClient.connect(redis.port);
    if (clients === 'resp2') return;
    ca3 = await amberResp3(amber);
    cr3 = await RawClient.connect(redis.port);
    await cr3.call('HELLO', '3');
  });
  after(async () => {
    for (const c of [ca, cr, ca3, cr3]) c?.close();
    await amber?.close();
    await redis?.close();
  });
  const sameOn = async (cmds: string[][], a: RawClient, r: RawClient, label = ''): Promise<string[]> => {
    const [ra, rr] = await Promise.all([a.pipeline(cmds), r.pipeline(cmds)]);
    assertSameReplies(cmds, ra, rr, label);
    return ra;
  };
  return {
    skip,
    get amber(): RunningServer { return amber!; },
    get redis(): RedisChild { return redis!; },
    get ca(): RawClient { return ca!; },
    get cr(): RawClient { return cr!; },
    get ca3(): RawClient { return ca3!; },
    get cr3(): RawClient { return cr3!; },
    async reset(): Promise<void> {
      if (opts.reset === 'inprocess') {
        amber!.server.keyspace.flushAll();
        await cr!.call('FLUSHALL');
      } else {
        await Promise.all([ca!.call('FLUSHALL'), cr!.call('FLUSHALL')]);
      }
    },
    onBoth: async (fn) => [await fn(amber!.port), await fn(redis!.port)],
    same: (cmds, resp3 = false) => (resp3 ? sameOn(cmds, ca3!, cr3!, 'RESP3 ') : sameOn(cmds, ca!, cr!)),
    sameOn,
    async makeWrongType(key: string): Promise<void> {
      await cr!.call('RPUSH', key, 'x');
      if (amber!.server.commands.has('rpush')) {
        await ca!.call('RPUSH', key, 'x');
      } else {
        // without list commands yet, any non-string value gives the same WRONGTYPE paths
        const fake = { type: 'list', encoding: () => 'quicklist', clone: () => fake } as unknown as RObject;
        amber!.server.keyspace.dbs[0]!.setKey(key, fake);
      }
    },
  };
}

/**
 * Runs `steps` one by one on a fresh connection while a second one, PSUBSCRIBEd to `*`, collects
 * every keyspace notification (notify-keyspace-events `flags`, reset to '' after); FLUSHALL
 * first. Resolves to the raw pub/sub frames, in order, up to a PUBLISH marker.
 */
export async function collectNotifications(port: number, steps: string[][], flags = 'KEAn'): Promise<string[]> {
  const cmd = await RawClient.connect(port);
  const sub = await RawClient.connect(port);
  try {
    await cmd.call('FLUSHALL');
    await cmd.call('CONFIG', 'SET', 'notify-keyspace-events', flags);
    await sub.sendRaw(RawClient.encode(['PSUBSCRIBE', '*']), 1);
    for (const s of steps) await cmd.call(...s);
    await cmd.call('PUBLISH', 'zz-end', 'x');
    const out: string[] = [];
    for (;;) {
      const [m] = await sub.read(1);
      if (m!.includes('zz-end')) break;
      out.push(m!);
    }
    return out;
  } finally {
    await cmd.call('CONFIG', 'SET', 'notify-keyspace-events', '');
    cmd.close();
    sub.close();
  }
}

/** A MONITOR line with its timestamp and client address masked ("+T ... [0 ADDR] ..."), for comparing servers. */
export function maskMonitorLine(l: string): string {
  return l.replace(/^\+\d+\.\d{6} /, '+T ').replace(/127\.0\.0\.1:\d+/, 'ADDR');
}

/**
 * Reads a MONITOR connection's lines, masked, up to and including the first that shows `"last"`
 * (the tests end their sequences with ECHO last).
 */
export async function monitorUntilLast(mon: RawClient): Promise<string[]> {
  const lines: string[] = [];
  for (;;) {
    const [l] = await mon.read(1);
    lines.push(maskMonitorLine(l!));
    if (l!.includes('"last"')) return lines;
  }
}
