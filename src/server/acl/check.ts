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

/** ACLSelectorCheckKey: the key access flags of a key spec reference, as KEY_READ/KEY_WRITE. */
function keyAccess(flags: readonly string[]): number {
  let f = 0;
  for (const x of flags) {
    if (x === 'access') f |= KEY_READ;
    else if (x === 'insert' || x === 'delete' || x === 'update') f |= KEY_WRITE;
  }
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

/**
 * ACLSelectorCheckCmd for one selector: ACL_OK or a denial; `pos` receives the argv index of
 * the refused key or channel. `keys` caches the command's keys across selectors.
 */
function checkSelector(s: AclSelector, cmdId: number, spec: CommandSpec, argv: readonly string[], out: AclDenial, keys: { list: KeyReference[] | null }): number {
  if (!s.allCommands && !spec.noAuth && s.bits[cmdId] !== 1) {
    // not allowed, unless with one of the first arguments allowed for it (`+select|0`)
    const allowed = s.firstArgs?.get(cmdId);
    if (argv.length < 2 || allowed === undefined) return ACL_DENIED_CMD;
    const first = argv[spec.parent !== null ? 2 : 1];
    if (first === undefined) return ACL_DENIED_CMD;
    const lower = first.toLowerCase();
    if (!allowed.some((a) => a.toLowerCase() === lower)) return ACL_DENIED_CMD;
  }
  if (!s.allKeys && commandHasKeys(spec)) {
    keys.list ??= getKeysFromCommandWithSpecs(spec, argv);
    for (const k of keys.list) {
      if (!selectorAllowsKey(s, argv[k.pos]!, keyAccess(k.flags))) {
        out.pos = k.pos;
        return ACL_DENIED_KEY;
      }
    }
  }
  if (!s.allChannels) {
    const name = spec.fullName;
    let from = 0;
    let to = 0;
    let literal = false;
    if (name === 'publish' || name === 'spublish') {
      from = 1;
      to = 2;
    } else if (name === 'subscribe' || name === 'ssubscribe') {
      from = 1;
      to = argv.length;
    } else if (name === 'psubscribe') {
      from = 1;
      to = argv.length;
      literal = true;
    }
    for (let j = from; j < to; j++) {
      if (!channelInList(s.channels, argv[j]!, literal)) {
        out.pos = j;
        return ACL_DENIED_CHANNEL;
      }
    }
  }
  return ACL_OK;
}

/**
 * ACLCheckAllUserCommandPerm: whether `user` may run the command line `argv` of `spec`. A null
 * user (the AOF loader's client) may run anything. With several selectors, one allowing it is
 * enough; otherwise the reported denial is a command one when no selector got past the command,
 * else the key or channel refused at the highest argv index. Returns ACL_OK or the reason, and
 * sets `out` (reason and argv index) when refused.
 * @param cmdId the command's id in the user's {@link AclCommandTable} (-1: not in it, refused)
 */
export function checkCommandPerm(user: AclUser | null, spec: CommandSpec, cmdId: number, argv: readonly string[], out: AclDenial): number {
  if (user === null || user.unrestricted) return ACL_OK;
  let relevant = ACL_DENIED_CMD;
  let lastIdx = 0;
  const keys: { list: KeyReference[] | null } = { list: null };
  const local: AclDenial = { reason: 0, pos: 0 };
  for (const s of user.selectors) {
    const r = cmdId < 0 ? ACL_DENIED_CMD : checkSelector(s, cmdId, spec, argv, local, keys);
    if (r === ACL_OK) return ACL_OK;
    if (r > relevant || (r === relevant && local.pos > lastIdx)) {
      relevant = r;
      lastIdx = local.pos;
    }
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
