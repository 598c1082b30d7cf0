import type { Handler, CommandSpec } from './spec.js';
import type { Client } from '../server/client.js';
import { addReplySubcommandSyntaxError } from './client.js';
import type { Server } from '../server/server.js';
import { addDispatchCheck } from '../server/dispatch.js';
import { stringMatch } from '../util/glob.js';
import { NOTIFY_KEYSPACE, NOTIFY_KEYEVENT } from '../keyspace/notify.js';
import type { OutputBufferLimits } from '../config/areas/pubsub.js';

/**
 * Pub/sub after Redis 7.0's src/pubsub.c: channels, patterns and shard channels, message
 * delivery as arrays (RESP2) or push frames (RESP3), the RESP2 subscribed-context rule, PUBSUB
 * introspection, keyspace notifications (notifyKeyspaceEvent in notify.c) and the pubsub class of
 * client-output-buffer-limit.
 */
export class PubSubState {
  channels = new Set<string>();
  patterns = new Set<string>();
  shardChannels = new Set<string>();
  /** subscriptions counted as Redis's clientSubscriptionsCount (channels + patterns; shard apart) */
  count(): number {
    return this.channels.size + this.patterns.size;
  }
  total(): number {
    return this.channels.size + this.patterns.size + this.shardChannels.size;
  }
}

/** Server-wide subscription tables. */
interface PubSubTables {
  channels: Map<string, Set<Client>>;
  patterns: Map<string, Set<Client>>;
  shardChannels: Map<string, Set<Client>>;
  /** the patterns of `patterns` indexed by literal prefix, so PUBLISH matches only candidates */
  patternIndex: PatternIndex;
}

/**
 * Patterns grouped by their literal prefix (the bytes before the first `*`, `?`, `[` or `\`).
 * stringmatchlen compares those bytes exactly, so a pattern can only match a channel that starts
 * with its prefix: PUBLISH looks up the channel's prefixes of the lengths present (a few Map
 * lookups) instead of running the matcher against every pattern, which keeps a server with
 * 100,000 patterns responsive. Redis walks its pattern dict in hash order, so the order in which
 * several matching patterns deliver is unspecified there; here it is by prefix length, then by
 * first subscription.
 */
class PatternIndex {
  private byPrefix = new Map<string, Set<string>>();
  /** distinct prefix lengths present, ascending, with how many prefixes have each */
  private lengths: number[] = [];
  private lengthRefs = new Map<number, number>();

  add(pattern: string): void {
    const prefix = literalPrefix(pattern);
    let set = this.byPrefix.get(prefix);
    if (set === undefined) {
      this.byPrefix.set(prefix, (set = new Set()));
      const n = this.lengthRefs.get(prefix.length) ?? 0;
      this.lengthRefs.set(prefix.length, n + 1);
      if (n === 0) this.lengths = [...this.lengthRefs.keys()].sort((a, b) => a - b);
    }
    set.add(pattern);
  }

  delete(pattern: string): void {
    const prefix = literalPrefix(pattern);
    const set = this.byPrefix.get(prefix);
    if (set === undefined || !set.delete(pattern) || set.size > 0) return;
    this.byPrefix.delete(prefix);
    const n = this.lengthRefs.get(prefix.length)! - 1;
    if (n > 0) this.lengthRefs.set(prefix.length, n);
    else {
      this.lengthRefs.delete(prefix.length);
      this.lengths = [...this.lengthRefs.keys()].sort((a, b) => a - b);
    }
  }

  /** Calls `fn` for every pattern matching `channel` (stringmatchlen, case-sensitive). */
  forEachMatch(channel: string, fn: (pattern: string) => void): void {
    const lengths = this.lengths;
    for (let i = 0; i < lengths.length; i++) {
      const len = lengths[i]!;
      if (len > channel.length) break;
      const set = this.byPrefix.get(len === channel.length ? channel : channel.slice(0, len));
      if (set === undefined) continue;
      for (const pattern of set) if (stringMatch(pattern, channel, false)) fn(pattern);
    }
  }
}

function literalPrefix(pattern: string): string {
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern.charCodeAt(i);
    if (ch === 42 || ch === 63 || ch === 91 || ch === 92) return pattern.slice(0, i); // * ? [ \
  }
  return pattern;
}

const tablesByServer = new WeakMap<Server, PubSubTables>();

function tables(server: Server): PubSubTables {
  let t = tablesByServer.get(server);
  if (t === undefined) {
    const nt: PubSubTables = { channels: new Map(), patterns: new Map(), shardChannels: new Map(), patternIndex: new PatternIndex() };
    t = nt;
    tablesByServer.set(server, nt);
    server.freeClientHooks.push((c) => {
      const st = c.pubsub as PubSubState | null;
      if (!st) return;
      leaveAll(nt, c, st);
    });
    installNotifier(server);
  }
  return t;
}

/** Number of pattern subscriptions (INFO stats pubsub_patterns). */
export function pubsubCounts(server: Server): { channels: number; patterns: number; shardChannels: number } {
  const t = tablesByServer.get(server);
  return { channels: t?.channels.size ?? 0, patterns: t?.patterns.size ?? 0, shardChannels: t?.shardChannels.size ?? 0 };
}

function removeFrom(t: PubSubTables, kind: SubKind, name: string, c: Client): void {
  const m = t[kind];
  const s = m.get(name);
  if (!s) return;
  s.delete(c);
  if (s.size === 0) {
    m.delete(name);
    if (kind === 'patterns') t.patternIndex.delete(name);
  }
}

/** Removes every subscription of `c` from the server tables (disconnect, RESET). */
function leaveAll(t: PubSubTables, c: Client, st: PubSubState): void {
  for (const ch of st.channels) removeFrom(t, 'channels', ch, c);
  for (const p of st.patterns) removeFrom(t, 'patterns', p, c);
  for (const ch of st.shardChannels) removeFrom(t, 'shardChannels', ch, c);
}

type SubKind = 'channels' | 'patterns' | 'shardChannels';

function state(c: Client): PubSubState {
  let st = c.pubsub as PubSubState | null;
  if (st === null) {
    st = new PubSubState();
    c.pubsub = st;
  }
  return st;
}

/** Emits `[kind, name, count]` as a push (RESP3) or array (RESP2); name null for "no channel". */
function addSubReply(c: Client, kind: string, name: string | null, count: number): void {
  c.addPushLen(3);
  c.addBulk(kind);
  if (name === null) c.addNull();
  else c.addBulk(name);
  c.addInt(count);
}

// ---- subscribe / unsubscribe -------------------------------------------------------------

function subscribeGeneric(c: Client, kind: SubKind, reply: string): void {
  const t = tables(c.server);
  const st = state(c);
  for (let i = 1; i < c.argv.length; i++) {
    const name = c.argv[i]!;
    if (!st[kind].has(name)) {
      st[kind].add(name);
      let set = t[kind].get(name);
      if (!set) {
        t[kind].set(name, (set = new Set()));
        if (kind === 'patterns') t.patternIndex.add(name);
      }
      set.add(c);
    }
    addSubReply(c, reply, name, kind === 'shardChannels' ? st.shardChannels.size : st.count());
  }
}

function unsubscribeGeneric(c: Client, kind: SubKind, reply: string): void {
  const t = tables(c.server);
  const st = state(c);
  const names = c.argv.length > 1 ? c.argv.slice(1) : [...st[kind]];
  const count = (): number => (kind === 'shardChannels' ? st.shardChannels.size : st.count());
  if (names.length === 0) {
    addSubReply(c, reply, null, count());
    return;
  }
  for (const name of names) {
    if (st[kind].delete(name)) removeFrom(t, kind, name, c);
    addSubReply(c, reply, name, count());
  }
}

// SUBSCRIBE and PSUBSCRIBE refuse a DENY BLOCKING client unless it is in MULTI (pubsub.c), and
// the only DENY BLOCKING clients Amber has are those running EXEC: so they always subscribe.
const subscribe: Handler = (c) => subscribeGeneric(c, 'channels', 'subscribe');
const psubscribe: Handler = (c) => subscribeGeneric(c, 'patterns', 'psubscribe');
const ssubscribe: Handler = (c) => {
  if (denyInExec(c, 'SSUBSCRIBE')) return;
  subscribeGeneric(c, 'shardChannels', 'ssubscribe');
};
const unsubscribe: Handler = (c) => unsubscribeGeneric(c, 'channels', 'unsubscribe');
const punsubscribe: Handler = (c) => unsubscribeGeneric(c, 'patterns', 'punsubscribe');
const sunsubscribe: Handler = (c) => unsubscribeGeneric(c, 'shardChannels', 'sunsubscribe');

/**
 * SSUBSCRIBE inside EXEC is refused in 7.0 (ssubscribeCommand checks CLIENT_DENY_BLOCKING, which
 * EXEC sets, with no exception for MULTI as SUBSCRIBE has).
 */
function denyInExec(c: Client, name: string): boolean {
  const m = c.multi as { inExec?: boolean } | null;
  if (m !== null && m.inExec) {
    c.addError(`ERR ${name} isn't allowed for a DENY BLOCKING client`);
    return true;
  }
  return false;
}

// ---- publish ---------------------------------------------------------------------------------

/**
 * Delivers `message` on `channel` to channel and pattern subscribers (pubsubPublishMessage);
 * returns the number of clients that received it.
 */
export function publishMessage(server: Server, channel: string, message: string, shard = false): number {
  const t = tablesByServer.get(server);
  if (t === undefined) return 0;
  let receivers = 0;
  const subs = (shard ? t.shardChannels : t.channels).get(channel);
  const hasPatterns = !shard && t.patterns.size > 0;
  if (subs === undefined && !hasPatterns) return 0;
  const limits = server.config.get<OutputBufferLimits>('client-output-buffer-limit');
  if (subs) {
    // The frame is built once per PUBLISH (RESP2 array and RESP3 push differ only in the first
    // byte) and appended to each subscriber: no per-subscriber encoding or garbage.
    const body = bulk(shard ? 'smessage' : 'message') + bulk(channel) + bulk(message);
    const frame2 = '*3\r\n' + body;
    const frame3 = '>3\r\n' + body;
    for (const c of subs) {
      c.addRaw(c.resp === 2 ? frame2 : frame3);
      afterDelivery(server, c, limits);
      receivers++;
    }
  }
  if (hasPatterns) {
    t.patternIndex.forEachMatch(channel, (pattern) => {
      const body = '$8\r\npmessage\r\n' + bulk(pattern) + bulk(channel) + bulk(message);
      const frame2 = '*4\r\n' + body;
      const frame3 = '>4\r\n' + body;
      for (const c of t.patterns.get(pattern)!) {
        c.addRaw(c.resp === 2 ? frame2 : frame3);
        afterDelivery(server, c, limits);
        receivers++;
      }
    });
  }
  return receivers;
}

/** A RESP bulk string (latin1: length = byte count). */
function bulk(s: string): string {
  return '$' + s.length + '\r\n' + s + '\r\n';
}

/**
 * Applies client-output-buffer-limit (class pubsub for subscribers, normal otherwise) after a
 * message was queued for `c`, then schedules its flush. A client over the hard limit, or over the
 * soft limit for longer than its seconds, is closed as Redis does (checkClientOutputBufferLimits).
 */
function afterDelivery(server: Server, c: Client, limits: OutputBufferLimits): void {
  server.scheduleFlush(c);
  const st = c.pubsub as PubSubState | null;
  const cls = st !== null && st.total() > 0 ? limits.pubsub : limits.normal;
  if (cls.hard === 0 && cls.soft === 0) return;
  const used = c.outputBytes;
  let over = cls.hard > 0 && used >= cls.hard;
  if (cls.soft > 0 && used >= cls.soft) {
    // checkClientOutputBufferLimits: the soft limit counts in whole Unix seconds (server.unixtime)
    // and must hold for more than soft_limit_seconds
    const now = Math.floor(Date.now() / 1000);
    const since = softSince.get(c);
    if (since === undefined) softSince.set(c, now);
    else if (now - since > cls.softSeconds) over = true;
  } else if (cls.soft > 0) {
    softSince.delete(c);
  }
  if (over) {
    server.log.warning(`Client id=${c.id} addr=${c.addr} name=${c.name} scheduled to be closed ASAP for overcoming of output buffer limits.`);
    c.out = '';
    c.socket?.destroy();
    server.closeClient(c);
  }
}
const softSince = new WeakMap<Client, number>();

const publish: Handler = (c) => {
  c.addInt(publishMessage(c.server, c.argv[1]!, c.argv[2]!));
};

const spublish: Handler = (c) => {
  c.addInt(publishMessage(c.server, c.argv[1]!, c.argv[2]!, true));
};

// ---- PUBSUB introspection ------------------------------------------------------------------

function channelsList(c: Client, m: Map<string, Set<Client>> | undefined): void {
  if (c.argv.length > 3) {
    // arity is -2, the handler takes at most one pattern
    addReplySubcommandSyntaxError(c);
    return;
  }
  const pat = c.argv.length > 2 ? c.argv[2]! : null;
  const out: string[] = [];
  if (m) for (const ch of m.keys()) if (pat === null || stringMatch(pat, ch, false)) out.push(ch);
  c.addBulkArray(out);
}

const pubsubChannels: Handler = (c) => channelsList(c, tablesByServer.get(c.server)?.channels);
const pubsubShardchannels: Handler = (c) => channelsList(c, tablesByServer.get(c.server)?.shardChannels);

function numsub(c: Client, m: Map<string, Set<Client>> | undefined): void {
  // a flat array in RESP3 too: pubsubCommand replies addReplyArrayLen((argc-2)*2)
  c.addArrayLen((c.argv.length - 2) * 2);
  for (let i = 2; i < c.argv.length; i++) {
    c.addBulk(c.argv[i]!);
    c.addInt(m?.get(c.argv[i]!)?.size ?? 0);
  }
}
const pubsubNumsub: Handler = (c) => numsub(c, tablesByServer.get(c.server)?.channels);
const pubsubShardnumsub: Handler = (c) => numsub(c, tablesByServer.get(c.server)?.shardChannels);
const pubsubNumpat: Handler = (c) => c.addInt(tablesByServer.get(c.server)?.patterns.size ?? 0);
const pubsubHelp: Handler = (c) => {
  const lines = [
    'PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
    'CHANNELS [<pattern>]',
    "    Return the currently active channels matching a <pattern> (default: '*').",
    'NUMPAT',
    '    Return number of subscriptions to patterns.',
    'NUMSUB [<channel> ...]',
    '    Return the number of subscribers for the specified channels, excluding',
    '    pattern subscriptions(default: no channels).',
    'SHARDCHANNELS [<pattern>]',
    '    Return the currently active shard level channels matching a <pattern> (default: \'*\').',
    'SHARDNUMSUB [<shardchannel> ...]',
    '    Return the number of subscribers for the specified shard level channel(s)',
    'HELP',
    '    Prints this help.',
  ];
  c.addArrayLen(lines.length);
  for (const l of lines) c.addSimple(l);
};

// ---- RESP2 subscribed context ----------------------------------------------------------------

const ALLOWED_IN_SUBSCRIBED = new Set(['ping', 'subscribe', 'ssubscribe', 'unsubscribe', 'sunsubscribe', 'psubscribe', 'punsubscribe', 'quit', 'reset']);

addDispatchCheck((c: Client, spec: CommandSpec): string | null => {
  const st = c.pubsub as PubSubState | null;
  if (st !== null && c.resp === 2 && st.total() > 0) {
    const top = spec.parent ?? spec;
    // processCommand checks MISCONF first: a write then gets dispatch's MISCONF error
    if (!ALLOWED_IN_SUBSCRIBED.has(top.name) && !(spec.isWrite && c.server.writeError !== null)) {
      return `ERR Can't execute '${spec.fullName}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`;
    }
  }
  return null;
});

/** Leaves every subscription (RESET). */
export function resetPubSubState(c: Client): void {
  const st = c.pubsub as PubSubState | null;
  if (!st) return;
  leaveAll(tables(c.server), c, st);
  c.pubsub = null;
}

// ---- keyspace notifications ------------------------------------------------------------------

/**
 * Installs the keyspace's notifier: publishes `__keyspace@<db>__:<key>` -> event and
 * `__keyevent@<db>__:<event>` -> key when notify-keyspace-events selects the class.
 */
function installNotifier(server: Server): void {
  // every write notifies: keep the flags at hand rather than looking the directive up each time
  let flags = server.config.get<number>('notify-keyspace-events');
  server.config.onChange('notify-keyspace-events', (v) => {
    flags = v as number;
  });
  server.keyspace.notifier = (type, event, key, dbid) => {
    if (!(flags & type)) return;
    if (flags & NOTIFY_KEYSPACE) publishMessage(server, `__keyspace@${dbid}__:${key}`, event);
    if (flags & NOTIFY_KEYEVENT) publishMessage(server, `__keyevent@${dbid}__:${event}`, key);
  };
}

/** Called at server start so notifications work before anyone subscribes (tables are lazy). */
export function initPubSub(server: Server): void {
  tables(server);
}

export const pubsubCommands: Record<string, Handler> = {
  subscribe,
  unsubscribe,
  psubscribe,
  punsubscribe,
  ssubscribe,
  sunsubscribe,
  publish,
  spublish,
  'pubsub|channels': pubsubChannels,
  'pubsub|numsub': pubsubNumsub,
  'pubsub|numpat': pubsubNumpat,
  'pubsub|shardchannels': pubsubShardchannels,
  'pubsub|shardnumsub': pubsubShardnumsub,
  'pubsub|help': pubsubHelp,
};
