import type { Server } from './server.js';
import type { Client } from './client.js';
import type { CommandSpec } from '../commands/spec.js';
import { NATIVE_GETKEYS } from '../commands/introspection.js';
import { dispatchHooks } from './dispatch.js';

/**
 * Client-side caching (keys tracking) after Redis 7.0's src/tracking.c.
 *
 * Default mode: after a read-only command of a tracking client, the keys it read are remembered
 * in the tracking table (key -> client ids). When the keyspace gate signals a modified key, every
 * client in its entry gets an invalidation message and the entry is dropped. BCAST mode: clients
 * register prefixes; modified keys matching a prefix are collected during the event-loop turn and
 * sent as one array per prefix before the replies are written. Messages are RESP3 push frames
 * (`invalidate`, [keys]) or, for a RESP2 client redirected to a subscriber of
 * `__redis__:invalidate`, pub/sub messages on that channel. FLUSHDB/FLUSHALL send a null, meaning
 * every key. The table holds at most tracking-table-max-keys keys; beyond, random keys are
 * invalidated as if modified.
 */
export interface TrackingState {
  on: boolean;
  bcast: boolean;
  optin: boolean;
  optout: boolean;
  /** CLIENT CACHING yes/no was given for the next command */
  caching: boolean;
  noloop: boolean;
  redirect: number;
  brokenRedirect: boolean;
  prefixes: Set<string>;
}

interface Tables {
  /** key -> ids of clients that may cache it */
  keys: Map<string, Set<number>>;
  /** prefix -> { clients, keys modified this turn with the client that modified them last } */
  prefixes: Map<string, { clients: Set<Client>; keys: Map<string, Client | null> }>;
  trackingClients: number;
  /** the client running the current command (NOLOOP) */
  current: Client | null;
  totalItems: number;
  /**
   * invalidations for the client running the command, sent after its reply (tracking_pending_keys
   * of 7.0: they must not interleave with the reply, nor with EXEC's); null means "all keys"
   */
  pending: Array<string | null>;
  /** numCommands when the last flush invalidated everything: FLUSHALL clears every db, once */
  flushMark: number;
}

const byServer = new WeakMap<Server, Tables>();

/** Tracking tables of a server, created on first use with the hooks they need. */
export function trackingTables(server: Server): Tables {
  let t = byServer.get(server);
  if (t !== undefined) return t;
  const tables: Tables = { keys: new Map(), prefixes: new Map(), trackingClients: 0, current: null, totalItems: 0, pending: [], flushMark: -1 };
  t = tables;
  byServer.set(server, tables);
  server.keyspace.onKeyModified((_db, key) => invalidateKey(server, tables, key, true));
  server.keyspace.onDbReplaced((_db, other) => {
    if (other === null) invalidateAllOnFlush(server, tables);
  });
  server.afterCommandHooks.push((c, spec) => afterCommand(server, tables, c, spec));
  server.beforeReplyHooks.push(() => {
    broadcast(server, tables);
  });
  server.freeClientHooks.push((c) => disableTracking(c));
  return tables;
}

/** Tracking state of a client, or null when it never enabled tracking. */
export function trackingState(c: Client): TrackingState | null {
  return c.tracking as TrackingState | null;
}

/** CLIENT TRACKING ON with options (enableTracking). */
export function enableTracking(c: Client, redirect: number, opts: { bcast: boolean; optin: boolean; optout: boolean; noloop: boolean }, prefixes: string[]): void {
  const t = trackingTables(c.server);
  let st = trackingState(c);
  if (st === null || !st.on) {
    t.trackingClients++;
    trackingClientsAllServers++;
  }
  st ??= { on: false, bcast: false, optin: false, optout: false, caching: false, noloop: false, redirect: 0, brokenRedirect: false, prefixes: new Set() };
  st.on = true;
  st.brokenRedirect = false;
  st.redirect = redirect;
  st.bcast = opts.bcast;
  st.optin = opts.optin;
  st.optout = opts.optout;
  st.noloop = opts.noloop;
  c.tracking = st;
  if (opts.bcast) {
    const list = prefixes.length ? prefixes : [''];
    for (const p of list) {
      let ps = t.prefixes.get(p);
      if (!ps) t.prefixes.set(p, (ps = { clients: new Set(), keys: new Map() }));
      ps.clients.add(c);
      st.prefixes.add(p);
    }
  }
}

/** CLIENT TRACKING OFF, RESET, disconnect (disableTracking). */
export function disableTracking(c: Client): void {
  const st = trackingState(c);
  if (st === null) return;
  const t = byServer.get(c.server);
  if (t) {
    for (const p of st.prefixes) {
      const ps = t.prefixes.get(p);
      if (!ps) continue;
      ps.clients.delete(c);
      if (ps.clients.size === 0) t.prefixes.delete(p);
    }
    if (st.on) {
      t.trackingClients--;
      trackingClientsAllServers--;
    }
  }
  st.prefixes.clear();
  st.on = false;
  st.bcast = st.optin = st.optout = st.caching = st.noloop = st.brokenRedirect = false;
}

/** The prefix collision check of CLIENT TRACKING (checkPrefixCollisionsOrReply); null when fine. */
export function prefixCollision(c: Client, prefixes: string[]): string | null {
  const st = trackingState(c);
  for (let i = 0; i < prefixes.length; i++) {
    const p = prefixes[i]!;
    if (st) {
      for (const e of st.prefixes) {
        if (e.startsWith(p) || p.startsWith(e)) {
          return `ERR Prefix '${p}' overlaps with an existing prefix '${e}'. Prefixes for a single client must not overlap.`;
        }
      }
    }
    for (let j = i + 1; j < prefixes.length; j++) {
      const q = prefixes[j]!;
      if (p.startsWith(q) || q.startsWith(p)) {
        return `ERR Prefix '${p}' overlaps with another provided prefix '${q}'. Prefixes for a single client must not overlap.`;
      }
    }
  }
  return null;
}

/** Number of clients with tracking on, keys and prefixes in the tables (INFO). */
export function trackingInfo(server: Server): { clients: number; keys: number; items: number; prefixes: number } {
  const t = byServer.get(server);
  return { clients: t?.trackingClients ?? 0, keys: t?.keys.size ?? 0, items: t?.totalItems ?? 0, prefixes: t?.prefixes.size ?? 0 };
}

function afterCommand(server: Server, t: Tables, c: Client, spec: CommandSpec): void {
  // afterCommand in server.c: at the top-level call (EXEC included, its queued commands not),
  // the invalidations deferred for the client that ran it follow its reply
  if (t.pending.length !== 0 && !c.script && (c.multi as { inExec?: boolean } | null)?.inExec !== true) {
    const pending = t.pending;
    t.pending = [];
    if (!c.closed) for (const key of pending) sendTrackingMessage(server, c, key === null ? null : [key]);
  }
  const st = trackingState(c);
  if (st === null || !st.on) return;
  if (!st.bcast && spec.flags.has('readonly') && !spec.flags.has('pubsub')) {
    if (!((st.optin && !st.caching) || (st.optout && st.caching))) rememberKeys(t, c, spec);
  }
  // CLIENT CACHING applies to the next command or transaction only; resetClient keeps the flag
  // after any CLIENT subcommand (they share clientCommand) and inside MULTI
  if (c.multi === null && (spec.parent ?? spec).name !== 'client') st.caching = false;
}

/**
 * Remembers the keys a read-only command read (trackingRememberKeys): by the command's own key
 * function when it has one, else by its first/last/step positions (getKeysFromCommand of 7.0).
 */
function rememberKeys(t: Tables, c: Client, spec: CommandSpec): void {
  const argv = c.argv;
  const native = NATIVE_GETKEYS[spec.fullName];
  if (native !== undefined) {
    for (const k of native(argv)) remember(t, c, argv[k.pos]!);
    return;
  }
  if (spec.firstKey <= 0) return;
  const last = spec.lastKey < 0 ? argv.length + spec.lastKey : spec.lastKey;
  for (let i = spec.firstKey; i <= last && i < argv.length; i += Math.max(1, spec.keyStep)) remember(t, c, argv[i]!);
}

function remember(t: Tables, c: Client, key: string): void {
  let ids = t.keys.get(key);
  if (!ids) t.keys.set(key, (ids = new Set()));
  if (!ids.has(c.id)) {
    ids.add(c.id);
    t.totalItems++;
  }
}

/** A key changed: notify clients that may cache it (trackingInvalidateKey). */
function invalidateKey(server: Server, t: Tables, key: string, bcast: boolean): void {
  if (t.trackingClients === 0 && t.keys.size === 0) return;
  const current = currentClient(server);
  if (bcast && t.prefixes.size > 0) {
    for (const [p, ps] of t.prefixes) if (key.startsWith(p)) ps.keys.set(key, current);
  }
  const ids = t.keys.get(key);
  if (!ids) return;
  for (const id of ids) {
    const target = server.clients.get(id);
    const st = target ? trackingState(target) : null;
    if (!target || !st || !st.on || st.bcast) continue;
    if (st.noloop && target === current) continue;
    if (target === current) t.pending.push(key);
    else sendTrackingMessage(server, target, [key]);
  }
  t.totalItems -= ids.size;
  t.keys.delete(key);
}

/** The client whose command runs (server.current_client): a script's caller, not the script's client. */
function currentClient(server: Server): Client | null {
  const c = server.currentClient;
  return c !== null && c.script ? server.scriptCaller : c;
}

function invalidateAllOnFlush(server: Server, t: Tables): void {
  // trackingInvalidateKeysOnFlush runs once per FLUSHALL/FLUSHDB, while the gate signals each db
  // it empties: the command counter, which moves after every command, tells them apart
  if (t.flushMark === server.stats.numCommands) return;
  t.flushMark = server.stats.numCommands;
  if (t.trackingClients > 0) {
    const current = currentClient(server);
    for (const c of server.clients.values()) {
      const st = trackingState(c);
      if (!st || !st.on) continue;
      if (c === current) t.pending.push(null);
      else sendTrackingMessage(server, c, null);
    }
  }
  t.keys.clear();
  t.totalItems = 0;
}

/**
 * Sends `invalidate` with `keys` (null: all keys) to `c` or to its redirection target
 * (sendTrackingMessage).
 */
function sendTrackingMessage(server: Server, c: Client, keys: string[] | null): void {
  const st = trackingState(c)!;
  let target = c;
  let redirected = false;
  if (st.redirect) {
    const r = server.clients.get(st.redirect);
    if (!r) {
      st.brokenRedirect = true;
      if (c.resp > 2) {
        c.addPushLen(2);
        c.addBulk('tracking-redir-broken');
        c.addInt(st.redirect);
        server.scheduleFlush(c);
      }
      return;
    }
    target = r;
    redirected = true;
  }
  const writeKeys = (): void => {
    if (keys === null) target.addNull();
    else target.addBulkArray(keys);
  };
  if (target.resp > 2) {
    target.addPushLen(2);
    target.addBulk('invalidate');
    writeKeys();
  } else if (redirected && target.pubsub !== null && (target.pubsub as { total(): number }).total() > 0) {
    target.addArrayLen(3);
    target.addBulk('message');
    target.addBulk('__redis__:invalidate');
    writeKeys();
  } else {
    return;
  }
  server.scheduleFlush(target);
}

/** Sends the keys collected per prefix this turn (trackingBroadcastInvalidationMessages). */
function broadcast(server: Server, t: Tables): void {
  if (t.prefixes.size === 0) return;
  let touched: Array<[string, { clients: Set<Client>; keys: Map<string, Client | null> }]> | null = null;
  for (const e of t.prefixes) if (e[1].keys.size !== 0) (touched ??= []).push(e);
  if (touched === null) return;
  // Redis walks its prefix table, a radix tree: prefixes in byte order
  if (touched.length > 1) touched.sort((a, b) => compareBytes(a[0], b[0]));
  for (const [, ps] of touched) {
    const all = [...ps.keys.keys()].sort(compareBytes);
    for (const c of ps.clients) {
      const st = trackingState(c);
      if (!st) continue;
      if (st.noloop) {
        const mine = all.filter((k) => ps.keys.get(k) !== c);
        if (mine.length) sendTrackingMessage(server, c, mine);
      } else {
        sendTrackingMessage(server, c, all);
      }
    }
    ps.keys = new Map();
  }
}

function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Clients with tracking on in every server of this process: the dispatch check's fast exit. */
let trackingClientsAllServers = 0;

// processCommand calls trackingLimitUsedSlots before running any command while some client
// tracks, so a table over tracking-table-max-keys shrinks before the next command runs.
const previousCheck = dispatchHooks.check;
dispatchHooks.check = (c: Client, spec: CommandSpec): string | null => {
  if (trackingClientsAllServers !== 0) {
    const t = byServer.get(c.server);
    if (t !== undefined && t.trackingClients !== 0) limitUsedSlots(c.server, t);
  }
  return previousCheck !== null ? previousCheck(c, spec) : null;
};

/** Keeps the table within tracking-table-max-keys (trackingLimitUsedSlots). */
let overLimitRuns = 0;
function limitUsedSlots(server: Server, t: Tables): void {
  const max = server.config.get<number>('tracking-table-max-keys');
  if (max === 0 || t.keys.size <= max) {
    overLimitRuns = 0;
    return;
  }
  let effort = 100 * (overLimitRuns + 1);
  for (const key of t.keys.keys()) {
    if (effort-- <= 0) break;
    invalidateKey(server, t, key, false);
    if (t.keys.size <= max) {
      overLimitRuns = 0;
      return;
    }
  }
  overLimitRuns++;
}
