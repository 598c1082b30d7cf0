/**
 * The permission check of a command line against a user's selectors, after Redis 7.0.15's
 * ACLCheckAllUserCommandPerm (src/acl.c): the command's bit (or an allowed first argument), the
 * keys its key specs find with their read/write access, the channels of PUBLISH, SPUBLISH,
 * SUBSCRIBE, SSUBSCRIBE and PSUBSCRIBE.
 */
import type { CommandSpec } from '../../commands/spec.js';
import { commandHasKeys, getKeysFromCommandWithSpecs, type KeyReference } from '../../commands/introspection.js';
import { stringMatch } from '../../util/glob.js';
import { KEY_READ, KEY_WRITE, type AclSelector, type AclUser } from './user.js';

/** ACL_OK and the ACL_DENIED_* reasons, with Redis's values (the larger wins between selectors). */
export const ACL_OK = 0;
export const ACL_DENIED_CMD = 1;
export const ACL_DENIED_KEY = 2;
export const ACL_DENIED_AUTH = 3;
export const ACL_DENIED_CHANNEL = 4;

/** The result of a refused check: the reason and the argv index of the key or channel. */
export interface AclDenial {
  reason: number;
  pos: number;
}

/** What the check needs of a command, computed once per spec ({@link commandAclInfo}). */
export interface CommandAclInfo {
  /** its id in the ACL command table, -1 when not in it (never allowed) */
  readonly id: number;
  /** doesCommandHaveKeys */
  readonly hasKeys: boolean;
  /** PUBLISH/SPUBLISH: 1, SUBSCRIBE/SSUBSCRIBE: 2, PSUBSCRIBE: 3, else 0 */
  readonly channels: number;
}

const CHANNEL_KIND: Record<string, number> = { publish: 1, spublish: 1, subscribe: 2, ssubscribe: 2, psubscribe: 3 };

/** The {@link CommandAclInfo} of a spec whose command has id `id` in the ACL table. */
export function commandAclInfo(spec: CommandSpec, id: number): CommandAclInfo {
  return { id, hasKeys: commandHasKeys(spec), channels: CHANNEL_KIND[spec.fullName] ?? 0 };
}

const accessCache = new WeakMap<readonly string[], number>();

/** ACLSelectorCheckKey: the key access flags of a key spec reference, as KEY_READ/KEY_WRITE. */
function keyAccess(flags: readonly string[]): number {
  const cached = accessCache.get(flags);
  if (cached !== undefined) return cached;
  let f = 0;
  for (const x of flags) {
    if (x === 'access') f |= KEY_READ;
    else if (x === 'insert' || x === 'delete' || x === 'update') f |= KEY_WRITE;
  }
  accessCache.set(flags, f);
  return f;
}

function selectorAllowsKey(s: AclSelector, key: string, access: number): boolean {
  if (s.allKeys) return true;
  for (const p of s.patterns) {
    if ((p.flags & access) !== access) continue;
    if (stringMatch(p.pattern, key)) return true;
  }
  return false;
}

/** ACLCheckChannelAgainstList: a pattern matches (or, `literal`, equals) the channel. */
export function channelInList(patterns: readonly string[], channel: string, literal: boolean): boolean {
  for (const p of patterns) {
    if (literal ? p === channel : stringMatch(p, channel)) return true;
  }
  return false;
}

/** The keys of the command being checked, found once for all selectors (aclKeyResultCache). */
let cachedKeys: KeyReference[] | null = null;

/**
 * ACLSelectorCheckCmd for one selector: ACL_OK or a denial; `out.pos` receives the argv index
 * of the refused key or channel.
 */
function checkSelector(s: AclSelector, info: CommandAclInfo, spec: CommandSpec, argv: readonly string[], out: AclDenial): number {
  const cmdId = info.id;
  if (!s.allCommands && !spec.noAuth && (cmdId < 0 || s.bits[cmdId] !== 1)) {
    // not allowed, unless with one of the first arguments allowed for it (`+select|0`)
    const allowed = cmdId < 0 ? undefined : s.firstArgs?.get(cmdId);
    if (argv.length < 2 || allowed === undefined) return ACL_DENIED_CMD;
    const first = argv[spec.parent !== null ? 2 : 1];
    if (first === undefined) return ACL_DENIED_CMD;
    const lower = first.toLowerCase();
    if (!allowed.some((a) => a.toLowerCase() === lower)) return ACL_DENIED_CMD;
  }
  if (!s.allKeys && info.hasKeys) {
    cachedKeys ??= getKeysFromCommandWithSpecs(spec, argv);
    for (const k of cachedKeys) {
      if (!selectorAllowsKey(s, argv[k.pos]!, keyAccess(k.flags))) {
        out.pos = k.pos;
        return ACL_DENIED_KEY;
      }
    }
  }
  if (!s.allChannels && info.channels !== 0) {
    const to = info.channels === 1 ? 2 : argv.length;
    const literal = info.channels === 3;
    for (let j = 1; j < to; j++) {
      if (!channelInList(s.channels, argv[j]!, literal)) {
        out.pos = j;
        return ACL_DENIED_CHANNEL;
      }
    }
  }
  return ACL_OK;
}

const local: AclDenial = { reason: 0, pos: 0 };

/**
 * ACLCheckAllUserCommandPerm: whether `user` may run the command line `argv` of `spec`. A null
 * user (the AOF loader's client) may run anything. With several selectors, one allowing it is
 * enough; otherwise the reported denial is a command one when no selector got past the command,
 * else the key or channel refused at the highest argv index. Returns ACL_OK or the reason, and
 * sets `out` (reason and argv index) when refused.
 */
export function checkCommandPerm(user: AclUser | null, spec: CommandSpec, info: CommandAclInfo, argv: readonly string[], out: AclDenial): number {
  if (user === null || user.unrestricted) return ACL_OK;
  let relevant = ACL_DENIED_CMD;
  let lastIdx = 0;
  cachedKeys = null;
  local.pos = 0;
  try {
    for (const s of user.selectors) {
      const r = checkSelector(s, info, spec, argv, local);
      if (r === ACL_OK) return ACL_OK;
      if (r > relevant || (r === relevant && local.pos > lastIdx)) {
        relevant = r;
        lastIdx = local.pos;
      }
    }
  } finally {
    cachedKeys = null;
  }
  out.reason = relevant;
  out.pos = lastIdx;
  return relevant;
}

/**
 * ACLUserCheckChannelPerm: whether one of the user's selectors allows `channel` (a pattern
 * compared literally when `literal`).
 */
export function userAllowsChannel(user: AclUser | null, channel: string, literal: boolean): boolean {
  if (user === null) return true;
  for (const s of user.selectors) {
    if (s.allChannels || channelInList(s.channels, channel, literal)) return true;
  }
  return false;
}
